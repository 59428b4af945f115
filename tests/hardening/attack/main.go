// attack: the network attacks of the hardening tests, made the way a
// hostile client in the cluster would make them, against `serve` on
// loopback. Each check starts its own server (its config, its certificate
// from a test CA), attacks it, and asserts what the client gets, what the
// server counts on /metrics, and a bound on the server's memory read from
// /proc/<pid>/status (VmHWM after resetting it through clear_refs) or on
// its CPU time from /proc/<pid>/stat. Every wait is bounded.
//
//	attack -bin bin/imagebuilder-webhook -work DIR -review REVIEW.json [-only NAME]
//
// Prints "ok   ..." or "FAIL ..." per check and the closing line
// "hardening: N passed, M failed".
package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"imagebuilder-webhook/tests/internal/testkit"
)

var (
	binPath    = flag.String("bin", "bin/imagebuilder-webhook", "the webhook binary")
	workDir    = flag.String("work", "", "scratch directory")
	reviewPath = flag.String("review", "", "an AdmissionReview the test config answers 200")
	only       = flag.String("only", "", "run only the checks whose name contains this")

	ca         *testkit.CA
	serverCert testkit.Issued
	review     []byte
)

// The config the checks start from: it answers the review with a patch.
const baseConfig = `imageBuilder:
  defaultRepository: us-central1-docker.pkg.dev/my-project/images
  authenticationType: google
webhook:
  threads: 2
  maxRequestBytes: 3145728
  requestTimeoutMs: 3000
  writeTimeoutMs: 2000
  maxBufferedBytes: 33554432
  shutdownTimeoutMs: 5000
`

const MiB = 1 << 20

// ---- a server under attack ---------------------------------------------------

type server struct {
	*testkit.Server
	name string
	pid  int
	cert *tls.Certificate // presented by the test's own requests when set
}

var serverSeq int

// start runs `serve` with baseConfig plus extra lines under webhook:.
func start(extra string) (*server, error) {
	serverSeq++
	dir := filepath.Join(*workDir, fmt.Sprintf("attack%d", serverSeq))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	crt, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	caFile := filepath.Join(dir, "client-ca.crt")
	for _, f := range []struct {
		path string
		data []byte
	}{{crt, serverCert.CertPEM}, {key, serverCert.KeyPEM}, {caFile, ca.PEM}} {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			return nil, err
		}
	}
	extra = strings.ReplaceAll(extra, "@CLIENT_CA@", caFile)
	if !strings.Contains(extra, "shutdownDelayMs") {
		extra += "  shutdownDelayMs: 0\n"
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(baseConfig+extra), 0o644); err != nil {
		return nil, err
	}
	s, err := testkit.Start(testkit.Serve{Bin: *binPath, Config: cfg, Log: filepath.Join(dir, "serve.log"),
		Args: []string{"--tls-cert", crt, "--tls-key", key}}, 20*time.Second)
	if err != nil {
		return nil, err
	}
	return &server{Server: s, name: dir, pid: s.Cmd.Process.Pid}, nil
}

// stop: SIGTERM and a bounded wait for the exit.
func (s *server) stop() error {
	s.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.Exited:
		return s.ExitErr
	case <-time.After(30 * time.Second):
		s.Cmd.Process.Kill()
		<-s.Exited
		return errors.New("did not exit within 30 s of SIGTERM")
	}
}

// procStatus reads a "Name:   N kB" field of /proc/<pid>/status, in KiB.
func (s *server) procStatus(field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field+":") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				v, _ := strconv.ParseInt(f[1], 10, 64)
				return v
			}
		}
	}
	return -1
}

// resetPeak makes VmHWM start again from the current RSS.
func (s *server) resetPeak() error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.pid), []byte("5"), 0)
}

// peakMiB is VmHWM in MiB.
func (s *server) peakMiB() float64 { return float64(s.procStatus("VmHWM")) / 1024 }

// cpu is the server's user + system time so far (/proc/<pid>/stat, in
// clock ticks of 1/100 s).
func (s *server) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid))
	if err != nil {
		return -1
	}
	rest := string(b)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest) // f[0] is field 3 (state)
	if len(f) < 13 {
		return -1
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func (s *server) fds() int {
	e, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.pid))
	return len(e)
}

// ---- clients ------------------------------------------------------------------

func tlsConf(protos ...string) *tls.Config {
	return &tls.Config{RootCAs: ca.Pool, ServerName: "localhost", NextProtos: protos}
}

// kubeClient talks like kube-apiserver to a webhook Service: HTTP/1.1 only,
// keep-alive.
func kubeClient(timeout time.Duration) *http.Client { return certClient(timeout, nil) }

// certClient is kubeClient presenting a client certificate (when cert is set).
func certClient(timeout time.Duration, cert *tls.Certificate) *http.Client {
	conf := tlsConf("http/1.1")
	if cert != nil {
		conf.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		TLSClientConfig: conf,
		TLSNextProto:    map[string]func(string, *tls.Conn) http.RoundTripper{},
	}}
}

func (s *server) url(path string) string { return "https://" + s.Addr + path }

// post sends the review; returns the status (0 and the error on failure).
func (s *server) post(c *http.Client, body []byte) (int, []byte, error) {
	req, err := http.NewRequest("POST", s.url("/mutate?timeout=10s"), bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16*MiB))
	return resp.StatusCode, b, err
}

// serving: a fresh client gets its review answered.
func (s *server) serving() error {
	code, body, err := s.post(certClient(10*time.Second, s.cert), review)
	if err != nil {
		return fmt.Errorf("a good review after the attack: %v", err)
	}
	if code != 200 || !bytes.Contains(body, []byte(`"allowed":true`)) {
		return fmt.Errorf("a good review after the attack: HTTP %d", code)
	}
	return nil
}

// metric reads one series from /metrics (-1 when absent). Its connection
// is closed after the answer: the checks poll it, and kept-alive
// connections would count against the server's connection cap.
func (s *server) metric(series string) float64 {
	req, err := http.NewRequest("GET", s.url("/metrics"), nil)
	if err != nil {
		return -1
	}
	req.Close = true
	resp, err := certClient(5*time.Second, s.cert).Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, series+" ") {
			v, err := strconv.ParseFloat(strings.TrimPrefix(line, series+" "), 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

// waitMetric waits up to d for series to reach at least min.
func (s *server) waitMetric(series string, min float64, d time.Duration) error {
	var got float64
	err := testkit.WaitFor(d, func() bool { got = s.metric(series); return got >= min }, series)
	if err != nil {
		return fmt.Errorf("%s is %v, want at least %v", series, got, min)
	}
	return nil
}

const (
	mClosed = "imagebuilder_webhook_connections_closed_total"
	mOpen   = `imagebuilder_webhook_connections_open{port="admission"}`
)

func closedBy(reason string) string { return mClosed + `{reason="` + reason + `"}` }

// ---- the checks -----------------------------------------------------------------

type check struct {
	name string
	run  func() (string, error)
}

// withServer starts a server, runs f, checks the server still answers and
// stops it; f's detail is returned.
func withServer(extra string, f func(s *server) (string, error)) (string, error) {
	s, err := start(extra)
	if err != nil {
		return "", err
	}
	detail, err := f(s)
	if err == nil {
		err = s.serving()
	}
	if serr := s.stop(); err == nil && serr != nil {
		err = fmt.Errorf("exit after SIGTERM: %v", serr)
	}
	if err != nil {
		err = fmt.Errorf("%v\n--- server log (last lines)\n%s", err, lastLines(s.Log(), 8))
	}
	return detail, err
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// peakBelow fails when the server's peak RSS passed limit MiB.
func peakBelow(s *server, limit float64, what string) error {
	if p := s.peakMiB(); p > limit || p <= 0 {
		return fmt.Errorf("%s: peak RSS %.1f MiB, bound %.0f MiB", what, p, limit)
	}
	return nil
}

func main() {
	flag.Parse()
	if *workDir == "" || *reviewPath == "" {
		fmt.Fprintln(os.Stderr, "attack: -work and -review are required")
		os.Exit(2)
	}
	var err error
	if review, err = os.ReadFile(*reviewPath); err == nil {
		if ca, err = testkit.NewCA("hardening test CA"); err == nil {
			serverCert, err = ca.Issue(testkit.LocalServer())
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "attack:", err)
		os.Exit(2)
	}
	checks := append(append(append([]check{}, h1Checks()...), h2Checks()...), connChecks()...)
	pass, fail := 0, 0
	for _, c := range checks {
		if *only != "" && !strings.Contains(c.name, *only) {
			continue
		}
		t0 := time.Now()
		detail, err := c.run()
		took := time.Since(t0).Round(100 * time.Millisecond)
		if err != nil {
			fail++
			fmt.Printf("FAIL %s (%v)\n", c.name, took)
			for _, l := range strings.Split(err.Error(), "\n") {
				fmt.Printf("     %s\n", l)
			}
			continue
		}
		pass++
		if detail != "" {
			detail = ": " + detail
		}
		fmt.Printf("ok   %s%s (%v)\n", c.name, detail, took)
	}
	fmt.Printf("hardening: %d passed, %d failed\n", pass, fail)
	if fail > 0 {
		os.Exit(1)
	}
}

// dialTLS opens a TLS connection offering protos; the handshake is done.
func dialTLS(s *server, protos ...string) (*tls.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", s.Addr, tlsConf(protos...))
	if err != nil {
		return nil, err
	}
	return c, nil
}

// closedWithin waits up to d for the server to end the connection: a read
// that returns an error (EOF, reset) rather than a timeout. Bytes the
// server sends meanwhile are read and dropped.
func closedWithin(c net.Conn, d time.Duration) error {
	deadline := time.Now().Add(d)
	buf := make([]byte, 64<<10)
	for {
		c.SetReadDeadline(deadline)
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fmt.Errorf("the server did not close the connection within %v", d)
		}
		return nil
	}
}
