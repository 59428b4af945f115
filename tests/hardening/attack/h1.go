// HTTP/1.1 attacks: oversized bodies, framing, stalled bodies, unread answers.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func h1Checks() []check {
	return []check{
		{"default ALPN is http/1.1 only (kube-apiserver never negotiates h2 with a Service)", checkNoH2},
		{"oversized bodies: Go's HTTP/1.1 client reads 413 in every try", check413},
		{"conflicting Content-Length or Content-Length with Transfer-Encoding: 400 and closed", checkFraming},
		{"100 HTTP/1.1 bodies stalled mid-way: bounded by maxBufferedBytes, all closed", checkStalledBodies},
		{"answers the client never reads: closed after writeTimeoutMs", checkUnreadAnswers},
	}
}

func checkNoH2() (string, error) {
	return withServer("", func(s *server) (string, error) {
		c, err := dialTLS(s, "h2", "http/1.1")
		if err != nil {
			return "", err
		}
		defer c.Close()
		if p := c.ConnectionState().NegotiatedProtocol; p != "http/1.1" {
			return "", fmt.Errorf("negotiated %q, want http/1.1", p)
		}
		return "h2 offered, http/1.1 chosen", nil
	})
}

// oversized is an AdmissionReview-shaped body over maxRequestBytes (3 MiB).
func oversized() []byte {
	b := bytes.Repeat([]byte(" "), 4*MiB)
	copy(b, `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","pad":"`)
	copy(b[len(b)-3:], `"}}`)
	return b
}

// chunkedReader hides the length so that net/http sends the body chunked.
type chunkedReader struct{ r io.Reader }

func (c chunkedReader) Read(p []byte) (int, error) { return c.r.Read(p) }

func check413() (string, error) {
	return withServer("", func(s *server) (string, error) {
		const nLength, nChunked = 20, 10
		body := oversized()
		s.resetPeak()
		got := map[string]int{}
		for i := 0; i < nLength+nChunked; i++ {
			var r io.Reader = bytes.NewReader(body)
			if i >= nLength {
				r = chunkedReader{bytes.NewReader(body)}
			}
			req, _ := http.NewRequest("POST", s.url("/mutate?timeout=10s"), r)
			req.Header.Set("Content-Type", "application/json")
			resp, err := kubeClient(20 * time.Second).Do(req)
			if err != nil {
				got[err.Error()]++
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			got[resp.Status]++
		}
		if got["413 Request Entity Too Large"] != nLength+nChunked {
			return "", fmt.Errorf("want 413 in all %d tries (%d with Content-Length, %d chunked), got %v",
				nLength+nChunked, nLength, nChunked, got)
		}
		if err := s.waitMetric("imagebuilder_webhook_request_too_large_total", nLength+nChunked, 5*time.Second); err != nil {
			return "", err
		}
		if !strings.Contains(s.Log(), `"msg":"request body too large; answered 413"`) {
			return "", fmt.Errorf("no log line for the refused bodies")
		}
		if err := peakBelow(s, 64, "4 MiB bodies"); err != nil {
			return "", err
		}
		return fmt.Sprintf("%d/%d with Content-Length, %d/%d chunked, peak RSS %.1f MiB",
			nLength, nLength, nChunked, nChunked, s.peakMiB()), nil
	})
}

// rawExchange sends raw bytes on a new TLS connection and reads one answer;
// then it waits for the server to close the connection (when wantClose).
func rawExchange(s *server, raw string, wantClose bool) (*http.Response, error) {
	c, err := dialTLS(s, "http/1.1")
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := io.WriteString(c, raw); err != nil {
		return nil, err
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if wantClose {
		if !resp.Close {
			return resp, fmt.Errorf("HTTP %d without Connection: close", resp.StatusCode)
		}
		if err := closedWithin(c, 5*time.Second); err != nil {
			return resp, err
		}
	}
	return resp, nil
}

func checkFraming() (string, error) {
	return withServer("", func(s *server) (string, error) {
		head := "POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
		n := len(review)
		chunked := fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", n, review)
		cases := []struct {
			name, raw string
			want      int
			close     bool
		}{
			{"two different Content-Length", head + fmt.Sprintf("Content-Length: %d\r\nContent-Length: %d\r\n\r\n", n, n+10) + string(review) + strings.Repeat("x", 10), 400, true},
			{"Content-Length then Transfer-Encoding", head + fmt.Sprintf("Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n", n) + chunked, 400, true},
			{"Transfer-Encoding then Content-Length", head + fmt.Sprintf("Transfer-Encoding: chunked\r\nContent-Length: %d\r\n\r\n", len(chunked)) + chunked, 400, true},
			{"the same Content-Length twice (allowed)", head + fmt.Sprintf("Content-Length: %d\r\nContent-Length: %d\r\n\r\n", n, n) + string(review), 200, false},
		}
		for _, c := range cases {
			resp, err := rawExchange(s, c.raw, c.close)
			if err != nil {
				return "", fmt.Errorf("%s: %v", c.name, err)
			}
			if resp.StatusCode != c.want {
				return "", fmt.Errorf("%s: HTTP %d, want %d", c.name, resp.StatusCode, c.want)
			}
		}
		return "3 refused and closed, identical values accepted", nil
	})
}

// stall opens a connection, sends headers announcing `announce` bytes and
// `send` of them, and leaves it there.
func stall(s *server, announce, send int) (net.Conn, error) {
	c, err := dialTLS(s, "http/1.1")
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(c, "POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", announce)
	chunk := bytes.Repeat([]byte(" "), 64<<10)
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	for sent := 0; sent < send; sent += len(chunk) {
		if _, err := c.Write(chunk); err != nil {
			return c, nil // closed by the server on the way: fine
		}
	}
	return c, nil
}

func checkStalledBodies() (string, error) {
	return withServer("", func(s *server) (string, error) {
		const n = 100
		s.resetPeak()
		conns := make([]net.Conn, n)
		var wg sync.WaitGroup
		var dialErr atomic.Value
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				c, err := stall(s, 3*MiB-1, 5*MiB/2)
				if err != nil {
					dialErr.Store(err)
				}
				conns[i] = c
			}(i)
		}
		wg.Wait()
		defer func() {
			for _, c := range conns {
				if c != nil {
					c.Close()
				}
			}
		}()
		if e := dialErr.Load(); e != nil {
			return "", fmt.Errorf("opening the stalled connections: %v", e)
		}
		// a good client is answered while they hang
		t0 := time.Now()
		code, _, err := s.post(kubeClient(5*time.Second), review)
		good := time.Since(t0)
		if err != nil || code != 200 {
			return "", fmt.Errorf("a good review beside the stalled bodies: %d %v", code, err)
		}
		closedCount := 0
		for _, c := range conns {
			if closedWithin(c, 3*time.Second+3*time.Second) == nil {
				closedCount++
			}
		}
		if closedCount != n {
			return "", fmt.Errorf("%d of %d stalled connections closed within requestTimeoutMs + 3 s", closedCount, n)
		}
		if err := s.waitMetric(closedBy("buffer_budget"), 1, 5*time.Second); err != nil {
			return "", err
		}
		if err := peakBelow(s, 72, "100 stalled 2.5 MiB bodies, budget 32 MiB"); err != nil {
			return "", err
		}
		return fmt.Sprintf("%d closed (%v by the budget), good review in %v, peak RSS %.1f MiB",
			closedCount, s.metric(closedBy("buffer_budget")), good.Round(time.Millisecond), s.peakMiB()), nil
	})
}

// unread sends many pipelined requests for /metrics on a connection with a
// small receive buffer and never reads.
func unread(s *server) (net.Conn, error) {
	raw, err := net.DialTimeout("tcp", s.Addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	raw.(*net.TCPConn).SetReadBuffer(4096)
	c := tlsClient(raw)
	if err := c.Handshake(); err != nil {
		raw.Close()
		return nil, err
	}
	go func() {
		req := []byte("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
		c.SetWriteDeadline(time.Now().Add(20 * time.Second))
		for i := 0; i < 5000; i++ {
			if _, err := c.Write(req); err != nil {
				return
			}
		}
	}()
	return c, nil
}

func checkUnreadAnswers() (string, error) {
	return withServer("", func(s *server) (string, error) {
		const n = 10
		s.resetPeak()
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for i := 0; i < n; i++ {
			c, err := unread(s)
			if err != nil {
				return "", err
			}
			conns = append(conns, c)
		}
		t0 := time.Now()
		if err := s.waitMetric(closedBy("write_timeout"), n, 2*time.Second+5*time.Second); err != nil {
			return "", err
		}
		if err := peakBelow(s, 64, "10 unread connections"); err != nil {
			return "", err
		}
		return fmt.Sprintf("%d closed for writeTimeoutMs (2 s) within %v, peak RSS %.1f MiB", n,
			time.Since(t0).Round(100*time.Millisecond), s.peakMiB()), nil
	})
}
