// Connection-level attacks: a flood over the connection cap, running out of
// file descriptors, SIGTERM's delay, and refused client certificates.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"imagebuilder-webhook/tests/internal/testkit"
)

func connChecks() []check {
	return []check{
		{"connection flood past maxConnections: capped, no busy loop, served once they go", checkFlood},
		{"out of file descriptors: accepting pauses, no busy loop, served again after", checkFdLimit},
		{"SIGTERM: /readyz fails at once, new connections answered for shutdownDelayMs", checkSigtermDelay},
		{"client certificate refused: TLS alert, log line, counter", checkClientCert},
	}
}

func tlsClient(c net.Conn) *tls.Conn { return tls.Client(c, tlsConf("http/1.1")) }

func waitCond(d time.Duration, f func() bool) error { return testkit.WaitFor(d, f, "a condition") }

// openTCP opens n plain TCP connections (no TLS handshake).
func openTCP(s *server, n int) ([]net.Conn, error) {
	var conns []net.Conn
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", s.Addr, 5*time.Second)
		if err != nil {
			closeAll(conns)
			return nil, err
		}
		conns = append(conns, c)
	}
	return conns, nil
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

// cpuOver is the server's CPU time over one second of wall time (a rate
// measured, not a wait for a condition).
func cpuOver(s *server) time.Duration {
	c0 := s.cpu()
	time.Sleep(time.Second)
	return s.cpu() - c0
}

func checkFlood() (string, error) {
	return withServer("  maxConnections: 100\n", func(s *server) (string, error) {
		s.resetPeak()
		base := s.fds()
		conns, err := openTCP(s, 300)
		if err != nil {
			return "", err
		}
		defer closeAll(conns)
		if err := s.waitMetric(`imagebuilder_webhook_accept_pauses_total{reason="connection_cap"}`, 1, 5*time.Second); err != nil {
			// the /metrics request itself waits for a free slot: up to the handshake timeout
			return "", err
		}
		if f := s.fds(); f > base+100+8 {
			return "", fmt.Errorf("%d descriptors open with 300 connections waiting, cap 100 (%d before)", f, base)
		}
		cpu := cpuOver(s)
		if cpu > 200*time.Millisecond {
			return "", fmt.Errorf("%v of CPU in one second at the connection cap", cpu)
		}
		// a good client is served once handshake timeouts free slots
		t0 := time.Now()
		code, _, err := s.post(kubeClient(15*time.Second), review)
		if err != nil || code != 200 {
			return "", fmt.Errorf("a good review during the flood: %d %v", code, err)
		}
		took := time.Since(t0)
		closeAll(conns)
		if err := waitCond(10*time.Second, func() bool { v := s.metric(mOpen); return v >= 0 && v <= 2 }); err != nil {
			return "", fmt.Errorf("connections still open after the flood ended: %v", s.metric(mOpen))
		}
		if err := peakBelow(s, 64, "300 connections, cap 100"); err != nil {
			return "", err
		}
		return fmt.Sprintf("≤100 accepted, CPU %v/s at the cap, good review in %v, peak RSS %.1f MiB",
			cpu, took.Round(100*time.Millisecond), s.peakMiB()), nil
	})
}

func checkFdLimit() (string, error) {
	return withServer("", func(s *server) (string, error) {
		limit := s.fds() + 6
		out, err := exec.Command("prlimit", fmt.Sprintf("--pid=%d", s.pid), fmt.Sprintf("--nofile=%d:%d", limit, limit)).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("prlimit: %v: %s", err, out)
		}
		conns, err := openTCP(s, 40)
		if err != nil {
			return "", err
		}
		defer closeAll(conns)
		if err := waitCond(5*time.Second, func() bool { return s.fds() >= limit }); err != nil {
			return "", fmt.Errorf("the server did not reach its descriptor limit (%d of %d)", s.fds(), limit)
		}
		cpu := cpuOver(s)
		if cpu > 200*time.Millisecond {
			return "", fmt.Errorf("%v of CPU in one second at the descriptor limit (busy loop)", cpu)
		}
		closeAll(conns)
		// the accepted ones end at the handshake timeout; then there is room again
		if err := waitCond(10*time.Second, func() bool { return s.fds() < limit-2 }); err != nil {
			return "", fmt.Errorf("descriptors not released: %d", s.fds())
		}
		if err := s.waitMetric(`imagebuilder_webhook_accept_pauses_total{reason="fd_limit"}`, 1, 10*time.Second); err != nil {
			return "", err
		}
		if !strings.Contains(s.Log(), "not accepting connections for a moment") {
			return "", fmt.Errorf("no log line for the pause")
		}
		return fmt.Sprintf("CPU %v/s at the limit", cpu), nil
	})
}

func checkSigtermDelay() (string, error) {
	s, err := start("  shutdownDelayMs: 3000\n")
	if err != nil {
		return "", err
	}
	defer func() {
		s.Cmd.Process.Kill()
		<-s.Exited
	}()
	probe := kubeClient(2 * time.Second) // one keep-alive connection, like a kubelet's
	ready := func() int {
		r, err := probe.Get(s.url("/readyz"))
		if err != nil {
			return 0
		}
		r.Body.Close()
		return r.StatusCode
	}
	if ready() != 200 {
		return "", fmt.Errorf("/readyz not 200 before SIGTERM")
	}
	t0 := time.Now()
	s.Cmd.Process.Signal(syscall.SIGTERM)
	if err := waitCond(time.Second, func() bool { return ready() == 503 }); err != nil {
		return "", fmt.Errorf("/readyz still answers %d a second after SIGTERM", ready())
	}
	notReady := time.Since(t0)
	// new connections are answered until the delay ends and the drain closes the listener
	var lastOK time.Duration
	answered := 0
	deadline := t0.Add(3*time.Second + 5*time.Second + 5*time.Second)
	var lastErr string
	for time.Now().Before(deadline) {
		c := kubeClient(5 * time.Second)
		code, _, err := s.post(c, review)
		c.CloseIdleConnections()
		if err != nil || code != 200 {
			lastErr = fmt.Sprintf("HTTP %d %v", code, err)
			break
		}
		answered++
		lastOK = time.Since(t0)
	}
	select {
	case <-s.Exited:
	case <-time.After(time.Until(deadline)):
		return "", fmt.Errorf("no exit within delay + drain")
	}
	took := time.Since(t0)
	if s.ExitErr != nil {
		return "", fmt.Errorf("exit: %v", s.ExitErr)
	}
	if took < 3*time.Second || lastOK < 2500*time.Millisecond {
		return "", fmt.Errorf("exited %v after SIGTERM, last new connection answered at %v (then %s); delay 3 s",
			took, lastOK, lastErr)
	}
	return fmt.Sprintf("not ready after %v, %d new connections answered (the last at %v), exit after %v",
		notReady.Round(10*time.Millisecond), answered, lastOK.Round(10*time.Millisecond),
		took.Round(100*time.Millisecond)), nil
}

func checkClientCert() (string, error) {
	other, err := testkit.NewCA("another CA")
	if err != nil {
		return "", err
	}
	return withServer("  tls:\n    clientCAFile: @CLIENT_CA@\n", func(s *server) (string, error) {
		good, err := ca.Issue(testkit.Leaf{CommonName: "kube-apiserver", Usages: clientUsage})
		if err != nil {
			return "", err
		}
		kp, err := tls.X509KeyPair(good.CertPEM, good.KeyPEM)
		if err != nil {
			return "", err
		}
		s.cert = &kp
		bad, err := other.Issue(testkit.Leaf{CommonName: "intruder", Usages: clientUsage})
		if err != nil {
			return "", err
		}
		type try struct {
			name string
			cert *testkit.Issued
			max  uint16
		}
		tries := []try{{"no certificate, TLS 1.3", nil, 0}, {"no certificate, TLS 1.2", nil, tls.VersionTLS12},
			{"untrusted certificate, TLS 1.3", &bad, 0}, {"untrusted certificate, TLS 1.2", &bad, tls.VersionTLS12}}
		refused := 0
		for _, t := range tries {
			for i := 0; i < 5; i++ {
				err := certTry(s, t.cert, t.max)
				if err == nil {
					return "", fmt.Errorf("%s: answered", t.name)
				}
				if !strings.Contains(err.Error(), "remote error: tls:") {
					return "", fmt.Errorf("%s: %v, want a TLS alert", t.name, err)
				}
				refused++
			}
		}
		if err := certTry(s, &good, 0); err != nil {
			return "", fmt.Errorf("a trusted client certificate: %v", err)
		}
		if err := s.waitMetric("imagebuilder_webhook_client_certificate_refused_total", float64(refused), 5*time.Second); err != nil {
			return "", err
		}
		if !strings.Contains(s.Log(), `"msg":"client certificate refused"`) {
			return "", fmt.Errorf("no log line for the refusals")
		}
		return fmt.Sprintf("%d refused with an alert, a trusted one answered", refused), nil
	})
}

var clientUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}

// certTry posts the review with a client certificate (nil: none).
func certTry(s *server, cert *testkit.Issued, max uint16) error {
	conf := tlsConf("http/1.1")
	conf.MaxVersion = max
	if cert != nil {
		kp, err := tls.X509KeyPair(cert.CertPEM, cert.KeyPEM)
		if err != nil {
			return err
		}
		conf.Certificates = []tls.Certificate{kp}
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: conf,
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}}
	code, _, err := s.post(c, review)
	if err == nil && code != 200 {
		return fmt.Errorf("HTTP %d", code)
	}
	return err
}
