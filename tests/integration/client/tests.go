// The integration test cases (see main.go for the harness).
package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"imagebuilder-webhook/tests/internal/testkit"
)

// withServer runs fn against a fresh server and requires a clean exit 0
// on SIGTERM afterwards.
func withServer(o serverOpts, fn func(s *server) error) error {
	s, err := startServer(o)
	if err != nil {
		return err
	}
	ferr := fn(s)
	serr := s.stop()
	if ferr != nil {
		s.kill()
		return ferr
	}
	if serr != nil {
		return fmt.Errorf("shutdown: %v\n%s", serr, lastLines(s.log(), 5))
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func peerSerial(s *server) (*big.Int, error) {
	c, err := rawConn(s)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	st := c.ConnectionState()
	if len(st.PeerCertificates) == 0 {
		return nil, errors.New("no peer certificate")
	}
	return st.PeerCertificates[0].SerialNumber, nil
}

func registerTests() {
	add("golden reviews over HTTP/1.1 and HTTP/2 match `review` byte for byte", testGolden)
	add("status codes: 200 404 405 415 400 413", testStatusCodes)
	add("413 is sent on the headers, without waiting for the body", test413Early)
	add("trailing slash and ?timeout= query", testPathVariants)
	add("body split across many TCP writes", testSplitBody)
	add("1000 requests on one keep-alive connection", testKeepAlive1000)
	add("concurrent connections", testConcurrent)
	add("HTTP/2 with ALPN h2, many streams on one connection", testHTTP2)
	add("healthz, readyz and metrics on both ports", testHealth)
	add("metrics counters move as requests are answered", testMetrics)
	add("decision log lines are JSON with escaped fields", testLogLines)
	add("certificate rotation (symlink swap) while requests flow", testCertRotation)
	add("bad certificate rotation keeps the old certificate", testBadCertRotation)
	add("config reload: good file applied, bad file logged with line:col and kept out", testConfigReload)
	add("SIGHUP reloads configuration and certificate", testSIGHUP)
	add("SIGTERM answers requests in flight and exits 0", testSIGTERM)
	add("slow clients are timed out", testSlowClient)
	add("client certificate verification (webhook.tls.clientCAFile)", testClientCA)
	add("startup fails clearly on an unreadable key and a bad config", testStartupErrors)
}

func testGolden() error {
	cases, err := loadGolden()
	if err != nil {
		return err
	}
	if len(cases) == 0 {
		return errors.New("no golden cases found")
	}
	// one server per distinct configuration
	byConfig := map[string][]goldenCase{}
	var order []string
	for _, c := range cases {
		b, err := os.ReadFile(c.config)
		if err != nil {
			return err
		}
		k := string(b)
		if _, ok := byConfig[k]; !ok {
			order = append(order, k)
		}
		byConfig[k] = append(byConfig[k], c)
	}
	var failures []string
	for _, k := range order {
		ib, err := imageBuilderBlock(k)
		if err != nil {
			return err
		}
		err = withServer(serverOpts{imageBuilder: ib, extraWebhook: http2On}, func(s *server) error {
			h1 := kubeClient(s, 1)
			h2 := h2Client(s)
			for _, c := range byConfig[k] {
				for _, cl := range []struct {
					name  string
					c     *http.Client
					proto int
				}{{"http/1.1", h1, 1}, {"h2", h2, 2}} {
					r, err := post(cl.c, s, "/mutate?timeout=10s", "application/json", kubeBody(c.review))
					if err != nil {
						failures = append(failures, fmt.Sprintf("%s (%s): %v", c.name, cl.name, err))
						continue
					}
					if r.status != 200 || r.proto != cl.proto {
						failures = append(failures, fmt.Sprintf("%s (%s): HTTP/%d %d", c.name, cl.name, r.proto, r.status))
						continue
					}
					if ct := r.header.Get("Content-Type"); ct != "application/json" {
						failures = append(failures, fmt.Sprintf("%s: content type %q", c.name, ct))
					}
					if !bytes.Equal(r.body, c.expected) {
						failures = append(failures, fmt.Sprintf("%s (%s): body differs from review:\n got %s\nwant %s",
							c.name, cl.name, trunc(r.body), trunc(c.expected)))
						continue
					}
					if err := checkLikeAPIServer(c.review, r.body); err != nil {
						failures = append(failures, fmt.Sprintf("%s: %v", c.name, err))
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if len(failures) > 0 {
		return errors.New(strings.Join(failures, "\n  "))
	}
	return nil
}

// imageBuilderBlock keeps the imageBuilder section of a golden config (the
// harness writes the webhook section itself).
func imageBuilderBlock(cfg string) (string, error) {
	var out strings.Builder
	in := false
	for _, line := range strings.Split(cfg, "\n") {
		if strings.HasPrefix(line, "imageBuilder:") {
			in = true
			continue
		}
		if line != "" && line[0] != ' ' && line[0] != '#' {
			in = false
		}
		if in && strings.TrimSpace(line) != "" {
			out.WriteString(line + "\n")
		}
	}
	if out.Len() == 0 {
		return "", errors.New("golden config without imageBuilder block")
	}
	return out.String(), nil
}

func testStatusCodes() error {
	return withServer(serverOpts{}, func(s *server) error {
		c := kubeClient(s, 1)
		body := kubeBody(simpleReview)
		if err := is(200)(post(c, s, "/mutate?timeout=10s", "application/json", body)); err != nil {
			return fmt.Errorf("200: %v", err)
		}
		if err := is(404)(post(c, s, "/nope", "application/json", body)); err != nil {
			return fmt.Errorf("404: %v", err)
		}
		r, err := get(c, s.url("/mutate"))
		if err := expectStatus(r, err, 405); err != nil {
			return fmt.Errorf("405: %v", err)
		}
		if r.header.Get("Allow") != "POST" {
			return fmt.Errorf("405 without Allow: POST (%q)", r.header.Get("Allow"))
		}
		if err := is(415)(post(c, s, "/mutate", "text/plain", body)); err != nil {
			return fmt.Errorf("415: %v", err)
		}
		if err := is(415)(post(c, s, "/mutate", "", body)); err != nil {
			return fmt.Errorf("415 without content type: %v", err)
		}
		if err := is(200)(post(c, s, "/mutate", "application/json; charset=utf-8", body)); err != nil {
			return fmt.Errorf("200 with charset: %v", err)
		}
		for _, bad := range []string{"", "{", "[]", `{"kind":"Pod"}`, `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`, "\x00\xff"} {
			r, err := post(c, s, "/mutate", "application/json", []byte(bad))
			if err := expectStatus(r, err, 400); err != nil {
				return fmt.Errorf("400 for %q: %v", bad, err)
			}
			if len(r.body) == 0 || len(r.body) > 300 || bytes.Count(r.body, []byte("\n")) != 1 {
				return fmt.Errorf("400 for %q: reason should be one short line, got %q", bad, r.body)
			}
		}
		big := append([]byte(`{"x":"`), bytes.Repeat([]byte("a"), 2<<20)...)
		big = append(big, `"}`...)
		r, err = post(c, s, "/mutate", "application/json", big)
		if err != nil && !isReset(err) {
			return fmt.Errorf("413: %v", err)
		}
		if err == nil && r.status != 413 {
			return fmt.Errorf("413: got HTTP %d", r.status)
		}
		// the server is still fine afterwards
		return is(200)(post(kubeClient(s, 1), s, "/mutate", "application/json", body))
	})
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "reset") || strings.Contains(err.Error(), "broken pipe") ||
		strings.Contains(err.Error(), "EOF"))
}

// 413 must not wait for a body that is never sent in full.
func test413Early() error {
	return withServer(serverOpts{}, func(s *server) error {
		c, err := rawConn(s)
		if err != nil {
			return err
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /mutate?timeout=10s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
			"Content-Length: %d\r\n\r\n{\"apiVersion\":", serviceName, 500<<20)
		resp, _, err := readResponse(c, 2*time.Second)
		if err != nil {
			return fmt.Errorf("no answer before the body was sent: %v", err)
		}
		if resp.StatusCode != 413 {
			return fmt.Errorf("HTTP %d, want 413", resp.StatusCode)
		}
		return s.waitMetrics(map[string]float64{code(413): 1})
	})
}

func testPathVariants() error {
	return withServer(serverOpts{}, func(s *server) error {
		c := kubeClient(s, 1)
		body := kubeBody(simpleReview)
		want, err := post(c, s, "/mutate", "application/json", body)
		if err := expectStatus(want, err, 200); err != nil {
			return err
		}
		for _, p := range []string{"/mutate/", "/mutate?timeout=10s", "/mutate/?timeout=3s", "//mutate"} {
			r, err := post(c, s, p, "application/json", body)
			if err := expectStatus(r, err, 200); err != nil {
				return fmt.Errorf("%s: %v", p, err)
			}
			if !bytes.Equal(r.body, want.body) {
				return fmt.Errorf("%s: different answer", p)
			}
		}
		if err := is(404)(post(c, s, "/mutatex", "application/json", body)); err != nil {
			return fmt.Errorf("/mutatex should be 404: %v", err)
		}
		return nil
	})
}

func testSplitBody() error {
	return withServer(serverOpts{}, func(s *server) error {
		body := kubeBody(simpleReview)
		want, err := post(kubeClient(s, 1), s, "/mutate", "application/json", body)
		if err := expectStatus(want, err, 200); err != nil {
			return err
		}
		c, err := rawConn(s)
		if err != nil {
			return err
		}
		defer c.Close()
		if tc, ok := c.NetConn().(*net.TCPConn); ok {
			tc.SetNoDelay(true)
		}
		head := fmt.Sprintf("POST /mutate?timeout=10s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\n"+
			"Content-Length: %d\r\n\r\n", serviceName, s.Port(), len(body))
		msg := append([]byte(head), body...)
		chunks := 0
		for i := 0; i < len(msg); i += 37 {
			j := i + 37
			if j > len(msg) {
				j = len(msg)
			}
			if _, err := c.Write(msg[i:j]); err != nil {
				return err
			}
			chunks++
			if chunks%8 == 0 {
				time.Sleep(2 * time.Millisecond)
			}
		}
		resp, got, err := readResponse(c, 5*time.Second)
		if err != nil {
			return err
		}
		if resp.StatusCode != 200 || !bytes.Equal(got, want.body) {
			return fmt.Errorf("after %d writes: HTTP %d, same body %v", chunks, resp.StatusCode, bytes.Equal(got, want.body))
		}
		return nil
	})
}

func testKeepAlive1000() error {
	return withServer(serverOpts{}, func(s *server) error {
		c := kubeClient(s, 1)
		var newConns int32
		body := kubeBody(simpleReview)
		var first []byte
		for i := 0; i < 1000; i++ {
			req, err := http.NewRequest("POST", s.url("/mutate?timeout=10s"), bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
				if !info.Reused {
					atomic.AddInt32(&newConns, 1)
				}
			}}
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
			r, err := do(c, req)
			if err := expectStatus(r, err, 200); err != nil {
				return fmt.Errorf("request %d: %v", i, err)
			}
			if first == nil {
				first = r.body
			} else if !bytes.Equal(first, r.body) {
				return fmt.Errorf("request %d: different answer", i)
			}
		}
		if newConns != 1 {
			return fmt.Errorf("%d connections opened, want 1", newConns)
		}
		return s.waitMetrics(map[string]float64{mMutated: 1000})
	})
}

func testConcurrent() error {
	return withServer(serverOpts{}, func(s *server) error {
		const workers, each = 24, 25
		body := kubeBody(simpleReview)
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := kubeClient(s, 1)
				for i := 0; i < each; i++ {
					r, err := post(c, s, "/mutate?timeout=10s", "application/json", body)
					if err := expectStatus(r, err, 200); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			return err
		}
		return s.waitMetrics(map[string]float64{mMutated: workers * each})
	})
}

// http2On switches HTTP/2 on (off by default: kube-apiserver speaks only
// HTTP/1.1 to a webhook Service).
const http2On = "  http2:\n    enabled: true\n"

func testHTTP2() error {
	return withServer(serverOpts{extraWebhook: http2On}, func(s *server) error {
		c := h2Client(s)
		body := kubeBody(simpleReview)
		var wg sync.WaitGroup
		var failed int32
		var errOnce sync.Once
		var firstErr error
		for i := 0; i < 200; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := post(c, s, "/mutate", "application/json", body)
				if err == nil && r.proto != 2 {
					err = fmt.Errorf("HTTP/%d, want HTTP/2", r.proto)
				}
				if err := expectStatus(r, err, 200); err != nil {
					atomic.AddInt32(&failed, 1)
					errOnce.Do(func() { firstErr = err })
				}
			}()
		}
		wg.Wait()
		if failed > 0 {
			return fmt.Errorf("%d of 200 failed: %v", failed, firstErr)
		}
		return nil
	})
}

func testHealth() error {
	return withServer(serverOpts{}, func(s *server) error {
		c := kubeClient(s, 1)
		for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
			if err := is(200)(get(c, s.url(p))); err != nil {
				return fmt.Errorf("TLS %s: %v", p, err)
			}
			if err := is(200)(get(http.DefaultClient, "http://"+s.MetricsAddr+p)); err != nil {
				return fmt.Errorf("plain %s: %v", p, err)
			}
		}
		r, _ := get(c, s.url("/healthz"))
		if string(r.body) != "ok\n" {
			return fmt.Errorf("healthz body %q", r.body)
		}
		// admission requests are not served on the plain port
		pr, err := http.Post("http://"+s.MetricsAddr+"/mutate", "application/json",
			bytes.NewReader(kubeBody(simpleReview)))
		if err != nil {
			return err
		}
		pr.Body.Close()
		if pr.StatusCode != 404 {
			return fmt.Errorf("plain /mutate: HTTP %d, want 404", pr.StatusCode)
		}
		req, _ := http.NewRequest("POST", s.url("/healthz"), nil)
		if err := is(405)(do(c, req)); err != nil {
			return fmt.Errorf("POST /healthz: %v", err)
		}
		return nil
	})
}

func testMetrics() error {
	return withServer(serverOpts{}, func(s *server) error {
		c := kubeClient(s, 1)
		before, err := s.metrics()
		if err != nil {
			return err
		}
		for _, name := range []string{mMutated, mAllowed, mDenied, mError, mOps, mCount, mCfgOK, mCfgFail,
			mCertOK, mCertFail, mInFlight, code(400), code(413), code(415)} {
			if _, ok := before[name]; !ok {
				return fmt.Errorf("series %s missing", name)
			}
		}
		if _, ok := before[`imagebuilder_webhook_request_duration_seconds_bucket{le="30"}`]; !ok {
			return errors.New("no 30 s histogram bucket")
		}
		if _, ok := before[`imagebuilder_webhook_request_duration_seconds_bucket{le="5e-05"}`]; !ok {
			return errors.New("no 50 µs histogram bucket")
		}
		for i := 0; i < 3; i++ {
			if err := is(200)(post(c, s, "/mutate", "application/json", kubeBody(simpleReview))); err != nil {
				return err
			}
		}
		r, err := post(c, s, "/mutate", "application/json", kubeBody(simpleReview))
		if err != nil {
			return err
		}
		ops, _, err := patchOps(r.body)
		if err != nil || len(ops) == 0 {
			return fmt.Errorf("no patch ops in the answer (%v)", err)
		}
		for i := 0; i < 2; i++ {
			if err := is(200)(post(c, s, "/mutate", "application/json", kubeBody(allowReview))); err != nil {
				return err
			}
		}
		for i := 0; i < 5; i++ {
			if err := is(400)(post(c, s, "/mutate", "application/json", []byte("{}\n"))); err != nil {
				return err
			}
		}
		post(c, s, "/mutate", "text/plain", []byte("{}"))
		want := map[string]float64{}
		for name, delta := range map[string]float64{mMutated: 4, mAllowed: 2, mDenied: 0, mError: 5,
			mOps: float64(4 * len(ops)), mCount: 11, mInf: 11, code(400): 5, code(415): 1} {
			want[name] = before[name] + delta
		}
		want[mInFlight] = 0
		return s.waitMetrics(want)
	})
}

func testLogLines() error {
	return withServer(serverOpts{}, func(s *server) error {
		c := kubeClient(s, 1)
		var rv map[string]interface{}
		json.Unmarshal(simpleReview, &rv)
		req := rv["request"].(map[string]interface{})
		evil := "evil\"\n{\"forged\":true}\u0007\\"
		req["uid"] = "uid-" + evil
		req["namespace"] = evil
		req["dryRun"] = true
		body, _ := json.Marshal(rv)
		if err := is(200)(post(c, s, "/mutate", "application/json", body)); err != nil {
			return err
		}
		if err := s.waitLog(`"msg":"admission"`, 3*time.Second); err != nil {
			return err
		}
		for _, line := range strings.Split(strings.TrimSpace(s.log()), "\n") {
			var m map[string]interface{}
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				return fmt.Errorf("log line is not JSON: %q", line)
			}
			if _, forged := m["forged"]; forged {
				return errors.New("a request string forged a log field")
			}
			if m["msg"] != "admission" {
				continue
			}
			if m["uid"] != "uid-"+evil || m["namespace"] != evil || m["pod"] != "p-0" ||
				m["outcome"] != "mutated" || m["dryRun"] != true {
				return fmt.Errorf("decision line fields wrong: %s", line)
			}
			targets, _ := m["targets"].([]interface{})
			if len(targets) != 1 || targets[0] != "localhost:5000/union/say-hello-image:abc123" {
				return fmt.Errorf("targets %v", m["targets"])
			}
			for _, k := range []string{"ops", "micros", "code"} {
				if _, ok := m[k].(float64); !ok {
					return fmt.Errorf("no numeric %s in %s", k, line)
				}
			}
			return nil
		}
		return errors.New("no decision log line")
	})
}

// flow is requests kept flowing on fresh and kept-alive connections.
type flow struct {
	sent int64
	mu   sync.Mutex
	errs []error
	wg   sync.WaitGroup
	stop chan struct{}
	once sync.Once
}

// traffic starts a flow of requests to s.
func traffic(s *server) *flow {
	f := &flow{stop: make(chan struct{})}
	body := kubeBody(simpleReview)
	for w := 0; w < 4; w++ {
		f.wg.Add(1)
		go func(w int) {
			defer f.wg.Done()
			c := kubeClient(s, 1)
			for {
				select {
				case <-f.stop:
					return
				default:
				}
				if w%2 == 0 { // a new connection every time
					c.Transport.(*http.Transport).CloseIdleConnections()
				}
				r, err := post(c, s, "/mutate?timeout=10s", "application/json", body)
				atomic.AddInt64(&f.sent, 1)
				if err := expectStatus(r, err, 200); err != nil {
					f.mu.Lock()
					f.errs = append(f.errs, err)
					f.mu.Unlock()
				}
			}
		}(w)
	}
	return f
}

// more waits until n more requests have been sent and answered (or failed).
func (f *flow) more(n int64) error {
	base := atomic.LoadInt64(&f.sent)
	return waitFor(5*time.Second, func() bool { return atomic.LoadInt64(&f.sent) >= base+n },
		fmt.Sprintf("%d more requests to flow", n))
}

// end stops the flow and returns how many requests were sent and the failures.
func (f *flow) end() (int64, []error) {
	f.once.Do(func() { close(f.stop) })
	f.wg.Wait()
	return atomic.LoadInt64(&f.sent), f.errs
}

func testCertRotation() error {
	return withServer(serverOpts{}, func(s *server) error {
		old, err := peerSerial(s)
		if err != nil {
			return err
		}
		f := traffic(s)
		defer f.end()
		if err := f.more(10); err != nil {
			return err
		}
		var newSN int64
		for round := 0; round < 2; round++ {
			leaf, err := issue(true)
			if err != nil {
				return err
			}
			if err := s.certs.update(map[string][]byte{"tls.crt": leaf.CertPEM, "tls.key": leaf.KeyPEM}); err != nil {
				return err
			}
			newSN = leaf.Serial
			if err := s.waitLogCount(`"msg":"certificate reloaded"`, round+1, 5*time.Second); err != nil {
				return err
			}
			// requests, on new connections too, with the new certificate
			if err := f.more(10); err != nil {
				return err
			}
		}
		sent, errs := f.end()
		if len(errs) > 0 {
			return fmt.Errorf("%d of %d requests failed during rotation, first: %v", len(errs), sent, errs[0])
		}
		got, err := peerSerial(s)
		if err != nil {
			return err
		}
		if got.Int64() != newSN || got.Cmp(old) == 0 {
			return fmt.Errorf("new connections see serial %v, want %d (old %v)", got, newSN, old)
		}
		if err := s.waitMetrics(map[string]float64{mCertOK: 2, mCertFail: 0}); err != nil {
			return err
		}
		if sent < 20 {
			return fmt.Errorf("only %d requests flowed during the rotation", sent)
		}
		return nil
	})
}

func testBadCertRotation() error {
	return withServer(serverOpts{}, func(s *server) error {
		old, err := peerSerial(s)
		if err != nil {
			return err
		}
		other, err := issue(true)
		if err != nil {
			return err
		}
		otherKey := other.KeyPEM
		crt, err := os.ReadFile(s.certs.dir + "/tls.crt")
		if err != nil {
			return err
		}
		f := traffic(s)
		defer f.end()
		// 1: not PEM at all; 2: a key that does not match the certificate
		if err := s.certs.update(map[string][]byte{"tls.crt": []byte("not a certificate\n"), "tls.key": otherKey}); err != nil {
			return err
		}
		err1 := s.waitLogCount(`certificate reload failed`, 1, 5*time.Second)
		if err1 == nil {
			err1 = s.certs.update(map[string][]byte{"tls.crt": crt, "tls.key": otherKey})
		}
		if err1 == nil {
			err1 = s.waitLogCount(`certificate reload failed`, 2, 5*time.Second)
		}
		if err1 == nil { // requests after the second failed reload
			err1 = f.more(10)
		}
		sent, errs := f.end()
		if err1 != nil {
			return err1
		}
		if len(errs) > 0 {
			return fmt.Errorf("%d of %d requests failed, first: %v", len(errs), sent, errs[0])
		}
		if !strings.Contains(s.log(), "does not match") {
			return errors.New("the mismatched key is not named in the log")
		}
		got, err := peerSerial(s)
		if err != nil {
			return fmt.Errorf("new connection after a bad rotation: %v", err)
		}
		if got.Cmp(old) != 0 {
			return fmt.Errorf("serial changed to %v", got)
		}
		return s.waitMetrics(map[string]float64{mCertFail: 2, mCertOK: 0})
	})
}

// patchOps decodes the patch of an answer: its operations and its JSON.
func patchOps(body []byte) ([]map[string]interface{}, []byte, error) {
	a, err := testkit.DecodeAnswer(body)
	if err != nil {
		return nil, nil, err
	}
	if a.Response == nil {
		return nil, nil, errors.New("answer without a response")
	}
	raw, ops, err := a.Response.PatchJSON()
	return ops, raw, err
}

func targetOf(s *server, c *http.Client) (string, error) {
	r, err := post(c, s, "/mutate", "application/json", kubeBody(simpleReview))
	if err := expectStatus(r, err, 200); err != nil {
		return "", err
	}
	ops, patch, err := patchOps(r.body)
	if err != nil {
		return "", err
	}
	for _, op := range ops {
		if op["path"] == "/spec/containers/0/image" {
			return fmt.Sprint(op["value"]), nil
		}
	}
	return "", fmt.Errorf("no image rewrite in %s", patch)
}

func testConfigReload() error {
	o := serverOpts{}
	return withServer(o, func(s *server) error {
		c := kubeClient(s, 1)
		if t, err := targetOf(s, c); err != nil || t != "localhost:5000/union/say-hello-image:abc123" {
			return fmt.Errorf("before: %q %v", t, err)
		}
		o.imageBuilder = "  enabled: true\n  defaultRepository: localhost:5000/reloaded\n  authenticationType: noop\n"
		if err := s.writeConfig(o); err != nil {
			return err
		}
		if err := s.waitLog(`"msg":"configuration reloaded"`, 5*time.Second); err != nil {
			return err
		}
		if t, err := targetOf(s, c); err != nil || t != "localhost:5000/reloaded/say-hello-image:abc123" {
			return fmt.Errorf("after a good reload: %q %v", t, err)
		}
		// a bad file: an unknown key on line 3, column 3
		bad := "imageBuilder:\n  enabled: true\n  defaultRepositry: localhost:5000/typo\n"
		if err := os.WriteFile(s.cfgPath, []byte(bad), 0o644); err != nil {
			return err
		}
		if err := s.waitLog(`configuration reload failed`, 5*time.Second); err != nil {
			return err
		}
		var line map[string]interface{}
		for _, l := range strings.Split(s.log(), "\n") {
			if strings.Contains(l, "configuration reload failed") {
				if err := json.Unmarshal([]byte(l), &line); err != nil {
					return err
				}
				break
			}
		}
		if line["line"] != float64(3) || line["col"] != float64(3) || !strings.Contains(fmt.Sprint(line["error"]), "defaultRepositry") {
			return fmt.Errorf("failure line lacks line:col or the key: %v", line)
		}
		if t, err := targetOf(s, c); err != nil || t != "localhost:5000/reloaded/say-hello-image:abc123" {
			return fmt.Errorf("after a bad reload the running config changed: %q %v", t, err)
		}
		r, err := get(c, s.url("/readyz"))
		if err := expectStatus(r, err, 200); err != nil {
			return fmt.Errorf("readyz after a bad reload: %v", err)
		}
		if err := s.waitMetrics(map[string]float64{mCfgOK: 1, mCfgFail: 1}); err != nil {
			return err
		}
		return s.writeConfig(o) // leave a good file for the shutdown
	})
}

func testSIGHUP() error {
	return withServer(serverOpts{}, func(s *server) error {
		if err := s.signal(syscall.SIGHUP); err != nil {
			return err
		}
		if err := s.waitLog(`"trigger":"SIGHUP"`, 5*time.Second); err != nil {
			return err
		}
		if err := waitFor(3*time.Second, func() bool {
			m, err := s.metrics()
			return err == nil && m[mCfgOK] == 1 && m[mCertOK] == 1
		}, "config and certificate reload counted"); err != nil {
			return err
		}
		return is(200)(post(kubeClient(s, 1), s, "/mutate", "application/json", kubeBody(simpleReview)))
	})
}

func testSIGTERM() error {
	s, err := startServer(serverOpts{})
	if err != nil {
		return err
	}
	defer s.kill()
	body := kubeBody(simpleReview)
	want, err := post(kubeClient(s, 1), s, "/mutate", "application/json", body)
	if err := expectStatus(want, err, 200); err != nil {
		return err
	}
	const n = 8
	conns := make([]*tls.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		c, err := rawConn(s)
		if err != nil {
			return err
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "POST /mutate?timeout=10s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
			"Content-Length: %d\r\n\r\n", serviceName, len(body))
		c.Write(body[:len(body)/2]) // in flight: half the body sent
	}
	// an idle keep-alive connection too
	idle := kubeClient(s, 1)
	if err := is(200)(get(idle, s.url("/healthz"))); err != nil {
		return err
	}
	// the server has read every byte of the half-sent requests
	for i, c := range conns {
		var derr error
		if err := waitFor(3*time.Second, func() bool {
			done, err := testkit.Delivered(c.NetConn())
			derr = err
			return done || err != nil
		}, fmt.Sprintf("the server to read request %d", i)); err != nil {
			return err
		}
		if derr != nil {
			return derr
		}
	}
	if err := s.signal(syscall.SIGTERM); err != nil {
		return err
	}
	if err := s.waitLog(`"msg":"shutting down"`, 3*time.Second); err != nil {
		return err
	}
	// new connections are refused once the listener is closed
	if err := waitFor(time.Second, func() bool {
		c, err := net.DialTimeout("tcp", s.addr(), time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, "the listener to close after SIGTERM"); err != nil {
		return err
	}
	for i, c := range conns {
		if _, err := c.Write(body[len(body)/2:]); err != nil {
			return fmt.Errorf("in-flight request %d: %v", i, err)
		}
	}
	for i, c := range conns {
		resp, got, err := readResponse(c, 5*time.Second)
		if err != nil {
			return fmt.Errorf("in-flight request %d not answered: %v", i, err)
		}
		if resp.StatusCode != 200 || !bytes.Equal(got, want.body) {
			return fmt.Errorf("in-flight request %d: HTTP %d", i, resp.StatusCode)
		}
		if !resp.Close {
			return fmt.Errorf("in-flight request %d: no Connection: close while draining", i)
		}
	}
	select {
	case <-s.Exited:
	case <-time.After(bound(10 * time.Second)):
		return errors.New("did not exit in time after SIGTERM")
	}
	if s.ExitErr != nil {
		return fmt.Errorf("exit: %v\n%s", s.ExitErr, lastLines(s.log(), 5))
	}
	if !strings.Contains(s.log(), `"msg":"stopped"`) {
		return errors.New("no stopped log line")
	}
	return nil
}

func testSlowClient() error {
	return withServer(serverOpts{extraWebhook: ""}, func(s *server) error {
		// requestTimeoutMs is 3000 in the harness config
		c, err := rawConn(s)
		if err != nil {
			return err
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /mutate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
		c.SetReadDeadline(time.Now().Add(bound(20 * time.Second)))
		start := time.Now()
		_, err = io.ReadAll(c)
		if time.Since(start) > bound(15*time.Second) {
			return errors.New("a stalled request was not timed out")
		}
		// and an idle connection that never sends anything
		c2, err := net.Dial("tcp", s.addr())
		if err != nil {
			return err
		}
		defer c2.Close()
		c2.SetReadDeadline(time.Now().Add(bound(20 * time.Second)))
		start = time.Now()
		io.ReadAll(c2)
		if time.Since(start) > bound(15*time.Second) {
			return errors.New("a silent connection was not timed out")
		}
		return is(200)(post(kubeClient(s, 1), s, "/mutate", "application/json", kubeBody(simpleReview)))
	})
}

func testClientCA() error {
	return withServer(serverOpts{clientCA: true}, func(s *server) error {
		// without a client certificate: the handshake or the first request fails
		if r, err := post(kubeClient(s, 1), s, "/mutate", "application/json", kubeBody(simpleReview)); err == nil {
			return fmt.Errorf("anonymous client was answered HTTP %d", r.status)
		}
		leaf, err := issue(false)
		if err != nil {
			return err
		}
		pair, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
		if err != nil {
			return err
		}
		c := kubeClient(s, 1)
		c.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{pair}
		return is(200)(post(c, s, "/mutate", "application/json", kubeBody(simpleReview)))
	})
}

func testStartupErrors() error {
	s, err := startServer(serverOpts{})
	if err != nil {
		return err
	}
	if err := s.stop(); err != nil {
		return err
	}
	// key file not readable: run as is but point at a missing key
	cfg, err := os.ReadFile(s.cfgPath)
	if err != nil {
		return err
	}
	missing := s.dir + "/no-such.key"
	bad := strings.Replace(string(cfg), s.certs.dir+"/tls.key", missing, 1)
	if err := os.WriteFile(s.cfgPath, []byte(bad), 0o644); err != nil {
		return err
	}
	out, err := runServe(s.cfgPath)
	if err == nil {
		return errors.New("started without a key")
	}
	if !strings.Contains(out, missing) || !strings.Contains(out, "No such file") {
		return fmt.Errorf("unclear message for a missing key: %q", out)
	}
	if err := os.WriteFile(s.cfgPath, []byte("webhook:\n  listen: [\n"), 0o644); err != nil {
		return err
	}
	out, err = runServe(s.cfgPath)
	if err == nil {
		return errors.New("started with a broken config")
	}
	if !strings.Contains(out, s.cfgPath+":") {
		return fmt.Errorf("config error does not name the file: %q", out)
	}
	return nil
}

func runServe(cfg string) (string, error) {
	cmd := serveOf(filepath.Dir(cfg), cfg).Command()
	done := make(chan struct{})
	var out []byte
	var err error
	go func() {
		out, err = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
		return string(out), err
	case <-time.After(bound(10 * time.Second)):
		cmd.Process.Kill()
		<-done
		return string(out), nil
	}
}

// is returns a checker of the status code, for is(200)(post(...)).
func is(want int) func(*result, error) error {
	return func(r *result, err error) error { return expectStatus(r, err, want) }
}
