// Bounded waits on conditions: the tests never sleep to wait.
package testkit

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Poll is the interval between two looks at a condition.
const Poll = 20 * time.Millisecond

// WaitFor polls cond until it holds or d has passed; what names the
// condition in the error.
func WaitFor(d time.Duration, cond func() bool, what string) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return nil
		}
		time.Sleep(Poll)
	}
	if cond() {
		return nil
	}
	return fmt.Errorf("timed out after %v waiting for %s", d, what)
}

// Delivered tells whether every byte written to the loopback TCP
// connection c has been read by the other end: c's send queue is empty
// (all acknowledged) and so is the other end's receive queue, as
// /proc/net/tcp shows them. A server that has read a request's bytes has
// seen the request, whether or not it has answered it yet.
func Delivered(c net.Conn) (bool, error) {
	local, ok1 := c.LocalAddr().(*net.TCPAddr)
	remote, ok2 := c.RemoteAddr().(*net.TCPAddr)
	if !ok1 || !ok2 {
		return false, fmt.Errorf("not a TCP connection")
	}
	tx, _, err := socketQueues(local, remote)
	if err != nil {
		return false, err
	}
	_, rx, err := socketQueues(remote, local)
	if err != nil {
		return false, err
	}
	return tx == 0 && rx == 0, nil
}

// socketQueues finds the TCP socket bound to local and connected to remote
// and returns its send and receive queue lengths.
func socketQueues(local, remote *net.TCPAddr) (tx, rx int64, err error) {
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			return 0, 0, err
		}
		tx, rx, found, err := findSocket(f, local, remote)
		f.Close()
		if err != nil || found {
			return tx, rx, err
		}
	}
	return 0, 0, fmt.Errorf("no socket %v -> %v in /proc/net/tcp", local, remote)
}

func findSocket(f *os.File, local, remote *net.TCPAddr) (tx, rx int64, found bool, err error) {
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// sl local_address rem_address st tx_queue:rx_queue ...
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || !procAddrIs(fields[1], local) || !procAddrIs(fields[2], remote) {
			continue
		}
		t, r, ok := strings.Cut(fields[4], ":")
		if !ok {
			return 0, 0, false, fmt.Errorf("bad queue field %q", fields[4])
		}
		if tx, err = strconv.ParseInt(t, 16, 64); err == nil {
			rx, err = strconv.ParseInt(r, 16, 64)
		}
		return tx, rx, err == nil, err
	}
	return 0, 0, false, sc.Err()
}

// procAddrIs compares a /proc/net/tcp "HEXIP:HEXPORT" with a TCP address.
// The kernel prints the address as 32-bit words in host byte order; this
// reads them as a little-endian host (x86, arm64) prints them.
func procAddrIs(field string, a *net.TCPAddr) bool {
	hexIP, hexPort, ok := strings.Cut(field, ":")
	if !ok {
		return false
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil || int(port) != a.Port {
		return false
	}
	ip := a.IP.To4()
	if len(hexIP) == 32 {
		ip = a.IP.To16()
	}
	if ip == nil || len(hexIP) != 2*len(ip) {
		return false
	}
	var b strings.Builder
	for i := 0; i < len(ip); i += 4 {
		fmt.Fprintf(&b, "%02X%02X%02X%02X", ip[i+3], ip[i+2], ip[i+1], ip[i])
	}
	return strings.EqualFold(b.String(), hexIP)
}
