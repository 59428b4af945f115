// Integration tests of `imagebuilder-webhook serve`: starts the real server
// on loopback port 0 with its own test certificates and talks to it the
// way kube-apiserver does (HTTP/1.1 keep-alive over TLS, ALPN http/1.1,
// CA-verified with the service's DNS name, POST /mutate?timeout=10s, a body
// ending with a newline), and over HTTP/2.
//
// Usage: itest -bin WEBHOOK_BIN -golden DIR -work DIR [-run SUBSTR]
// [-valgrind SUPPRESSIONS] (every server under valgrind, time bounds
// stretched, a last check of every valgrind report).
// Prints "ok   name" / "FAIL name" lines (the reasons indented below) and a
// last line "integration: N passed, M failed".
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"imagebuilder-webhook/tests/internal/testkit"
)

const serviceName = "imagebuilder-webhook.imagebuilder.svc"

var (
	binPath   = flag.String("bin", "bin/imagebuilder-webhook", "webhook binary")
	goldenDir = flag.String("golden", "tests/golden", "golden cases")
	workDir   = flag.String("work", "", "scratch directory")
	only      = flag.String("run", "", "run only tests whose name contains this")
	vgSupp    = flag.String("valgrind", "", "run every server under valgrind with these suppressions")
)

// slowdown stretches every time bound of the tests: valgrind runs the
// server tens of times slower than native.
var slowdown time.Duration = 1

func bound(d time.Duration) time.Duration { return d * slowdown }

// serveOf is a `serve` run of the config cfg, under valgrind when asked: its
// report goes to dir/valgrind.<pid>.log and any error or definite leak
// makes it exit 1.
func serveOf(dir, cfg string) testkit.Serve {
	o := testkit.Serve{Bin: *binPath, Config: cfg, Log: filepath.Join(dir, "server.log")}
	if *vgSupp != "" {
		o.Wrapper = []string{"valgrind", "-q", "--leak-check=full", "--error-exitcode=1",
			"--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
			"--suppressions=" + *vgSupp, "--log-file=" + filepath.Join(dir, "valgrind.%p.log")}
	}
	return o
}

// ---- certificates ----------------------------------------------------------

var testCA *testkit.CA

// issue makes a leaf certificate from the test CA; server certificates
// carry the service's DNS SAN (no CN check: kube-apiserver's Go client looks
// at SANs only).
func issue(server bool) (testkit.Issued, error) {
	if server {
		l := testkit.LocalServer(serviceName, serviceName+".cluster.local")
		l.CommonName = "imagebuilder-webhook"
		return testCA.Issue(l)
	}
	return testCA.Issue(testkit.Leaf{CommonName: "kube-apiserver",
		Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
}

// secretDir lays files out as the kubelet does for a mounted Secret:
// dir/..<stamp>/{files}, dir/..data -> ..<stamp>, dir/<file> -> ..data/<file>.
// update() swaps ..data atomically to a new timestamped directory.
type secretDir struct {
	dir string
	gen int
}

func (s *secretDir) update(files map[string][]byte) error {
	s.gen++
	stamp := fmt.Sprintf("..2024_01_01_00_00_%02d.%d", s.gen, time.Now().UnixNano())
	if err := os.MkdirAll(filepath.Join(s.dir, stamp), 0o755); err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(s.dir, stamp, name), data, 0o600); err != nil {
			return err
		}
	}
	tmp := filepath.Join(s.dir, "..data_tmp")
	os.Remove(tmp)
	if err := os.Symlink(stamp, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, "..data")); err != nil {
		return err
	}
	for name := range files {
		link := filepath.Join(s.dir, name)
		if _, err := os.Lstat(link); err != nil {
			if err := os.Symlink(filepath.Join("..data", name), link); err != nil {
				return err
			}
		}
	}
	return nil
}

// ---- the server under test ---------------------------------------------------

// server is one `serve` run: its directory (config, log, certificates as a
// mounted Secret) and the running process with its bound addresses.
type server struct {
	*testkit.Server
	dir           string
	cfgPath       string
	metricsListen string
	certs         *secretDir
}

type serverOpts struct {
	extraWebhook string // extra YAML lines under webhook: (indented two spaces)
	imageBuilder string // imageBuilder block body; default: local repository, noop
	clientCA     bool
}

// writeConfig writes the server's config file; the TLS listener is not in
// it: `serve --listen 127.0.0.1:0` picks the port.
func (s *server) writeConfig(o serverOpts) error {
	ib := o.imageBuilder
	if ib == "" {
		ib = "  enabled: true\n  defaultRepository: localhost:5000/union\n  authenticationType: noop\n"
	}
	cfg := "imageBuilder:\n" + ib + "webhook:\n" +
		fmt.Sprintf("  metricsListen: %q\n", s.metricsListen) +
		"  threads: 2\n  maxRequestBytes: 1048576\n  shutdownTimeoutMs: 5000\n  requestTimeoutMs: 3000\n" +
		"  shutdownDelayMs: 0\n" + // SIGTERM goes straight to the drain here; tests/hardening tests the delay
		o.extraWebhook +
		"  tls:\n" +
		fmt.Sprintf("    certFile: %s\n    keyFile: %s\n", filepath.Join(s.certs.dir, "tls.crt"), filepath.Join(s.certs.dir, "tls.key"))
	if o.clientCA {
		cfg += fmt.Sprintf("    clientCAFile: %s\n", filepath.Join(s.dir, "client-ca.crt"))
	}
	tmp := s.cfgPath + ".tmp"
	if err := os.WriteFile(tmp, []byte(cfg), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, s.cfgPath)
}

var serverSeq int32

func startServer(o serverOpts) (*server, error) {
	n := atomic.AddInt32(&serverSeq, 1)
	s := &server{dir: filepath.Join(*workDir, fmt.Sprintf("server%d", n))}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, err
	}
	s.cfgPath = filepath.Join(s.dir, "config.yaml")
	s.certs = &secretDir{dir: filepath.Join(s.dir, "tls")}
	leaf, err := issue(true)
	if err != nil {
		return nil, err
	}
	if err := s.certs.update(map[string][]byte{"tls.crt": leaf.CertPEM, "tls.key": leaf.KeyPEM}); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(s.dir, "client-ca.crt"), testCA.PEM, 0o644); err != nil {
		return nil, err
	}
	// Only a metrics port picked in advance (when the configuration does
	// not take port 0) can be taken by someone else meanwhile: try again.
	for attempt := 0; attempt < 5; attempt++ {
		if s.metricsListen, err = testkit.MetricsListen(*binPath, *workDir); err != nil {
			return nil, err
		}
		if err = s.writeConfig(o); err != nil {
			return nil, err
		}
		if s.Server, err = testkit.Start(serveOf(s.dir, s.cfgPath), bound(10*time.Second)); err == nil {
			return s, nil
		}
		if !strings.Contains(err.Error(), "in use") {
			return nil, err
		}
	}
	return nil, err
}

func (s *server) log() string { return s.Log() }

func (s *server) countLog(substr string) int {
	return strings.Count(s.log(), substr)
}

func (s *server) waitLog(substr string, d time.Duration) error {
	return s.WaitLogCount(substr, 1, bound(d))
}

func (s *server) waitLogCount(substr string, n int, d time.Duration) error {
	return s.WaitLogCount(substr, n, bound(d))
}

func waitFor(d time.Duration, cond func() bool, what string) error {
	return testkit.WaitFor(bound(d), cond, what)
}

func (s *server) signal(sig syscall.Signal) error { return s.Signal(sig) }

// stop sends SIGTERM and returns the exit error (nil for exit 0).
func (s *server) stop() error { return s.Stop(bound(15 * time.Second)) }

// kill ends a server whatever its state; under valgrind it gets SIGTERM
// first, so that its leak report is written.
func (s *server) kill() {
	var grace time.Duration
	if *vgSupp != "" {
		grace = bound(5 * time.Second)
	}
	s.Kill(grace)
}

func (s *server) addr() string { return s.Addr }
func (s *server) url(path string) string {
	return fmt.Sprintf("https://%s:%s%s", serviceName, s.Port(), path)
}

// ---- clients -------------------------------------------------------------------

func tlsConfig(alpn []string) *tls.Config {
	return &tls.Config{RootCAs: testCA.Pool, ServerName: serviceName, NextProtos: alpn,
		MinVersion: tls.VersionTLS12}
}

// kubeClient behaves like kube-apiserver's webhook client: HTTP/1.1 only
// (ALPN http/1.1), keep-alive, the service DNS name, dialling the endpoint.
func kubeClient(s *server, maxConns int) *http.Client {
	dialer := &net.Dialer{Timeout: bound(5 * time.Second)}
	tr := &http.Transport{
		TLSClientConfig: tlsConfig([]string{"http/1.1"}),
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, s.addr())
		},
		MaxConnsPerHost:     maxConns,
		MaxIdleConnsPerHost: 64,
		ForceAttemptHTTP2:   false,
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	return &http.Client{Transport: tr, Timeout: bound(10 * time.Second)}
}

func h2Client(s *server) *http.Client {
	dialer := &net.Dialer{Timeout: bound(5 * time.Second)}
	tr := &http.Transport{
		TLSClientConfig: tlsConfig([]string{"h2", "http/1.1"}),
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, s.addr())
		},
		ForceAttemptHTTP2: true,
	}
	return &http.Client{Transport: tr, Timeout: bound(10 * time.Second)}
}

type result struct {
	status int
	body   []byte
	proto  int
	header http.Header
}

func post(c *http.Client, s *server, path, ctype string, body []byte) (*result, error) {
	req, err := http.NewRequest("POST", s.url(path), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json, */*")
	req.Header.Set("User-Agent", "kube-apiserver-admission")
	return do(c, req)
}

func do(c *http.Client, req *http.Request) (*result, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &result{status: resp.StatusCode, body: b, proto: resp.ProtoMajor, header: resp.Header}, nil
}

func get(c *http.Client, url string) (*result, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return nil, err
	}
	return do(c, req)
}

// rawConn opens a TLS connection speaking HTTP/1.1 by hand.
func rawConn(s *server) (*tls.Conn, error) {
	d := &net.Dialer{Timeout: bound(5 * time.Second)}
	return tls.DialWithDialer(d, "tcp", s.addr(), tlsConfig([]string{"http/1.1"}))
}

func readResponse(c net.Conn, d time.Duration) (*http.Response, []byte, error) {
	c.SetReadDeadline(time.Now().Add(bound(d)))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// waitMetrics scrapes /metrics until every series has its wanted value
// (a response is counted when h2o finishes it, which may be just after the
// client has read it) and says which one differs when time is up.
func (s *server) waitMetrics(want map[string]float64) error {
	var last error
	waitFor(2*time.Second, func() bool {
		m, err := s.metrics()
		if last = err; err != nil {
			return false
		}
		for name, v := range want {
			if m[name] != v {
				last = fmt.Errorf("%s = %v, want %v", name, m[name], v)
				return false
			}
		}
		return true
	}, "metrics")
	return last
}

// metrics scrapes the plain-HTTP metrics port and returns series -> value.
func (s *server) metrics() (map[string]float64, error) {
	resp, err := http.Get("http://" + s.MetricsAddr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("/metrics: HTTP %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		return nil, fmt.Errorf("/metrics content type %q", ct)
	}
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			return nil, fmt.Errorf("bad metrics line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("bad metrics value in %q", line)
		}
		m[line[:i]] = v
	}
	return m, sc.Err()
}

const (
	mMutated  = `imagebuilder_webhook_requests_total{outcome="mutated"}`
	mAllowed  = `imagebuilder_webhook_requests_total{outcome="allowed"}`
	mDenied   = `imagebuilder_webhook_requests_total{outcome="denied"}`
	mError    = `imagebuilder_webhook_requests_total{outcome="error"}`
	mOps      = `imagebuilder_webhook_patch_operations_total`
	mCount    = `imagebuilder_webhook_request_duration_seconds_count`
	mInf      = `imagebuilder_webhook_request_duration_seconds_bucket{le="+Inf"}`
	mCfgOK    = `imagebuilder_webhook_config_reloads_total{result="success"}`
	mCfgFail  = `imagebuilder_webhook_config_reloads_total{result="failure"}`
	mCertOK   = `imagebuilder_webhook_certificate_reloads_total{result="success"}`
	mCertFail = `imagebuilder_webhook_certificate_reloads_total{result="failure"}`
	mInFlight = `imagebuilder_webhook_in_flight_requests`
)

func code(c int) string {
	return fmt.Sprintf(`imagebuilder_webhook_http_responses_total{code="%d"}`, c)
}

// ---- fixtures ------------------------------------------------------------------

type goldenCase struct {
	name     string
	config   string
	review   []byte
	expected []byte // what `imagebuilder-webhook review` prints, without its final newline
}

func loadGolden() ([]goldenCase, error) {
	dirs, err := filepath.Glob(filepath.Join(*goldenDir, "*", "review.json"))
	if err != nil {
		return nil, err
	}
	var cases []goldenCase
	for _, rj := range dirs {
		dir := filepath.Dir(rj)
		cfg := filepath.Join(dir, "config.yaml")
		if _, err := os.Stat(cfg); err != nil {
			continue
		}
		review, err := os.ReadFile(rj)
		if err != nil {
			return nil, err
		}
		out, err := exec.Command(*binPath, "review", "--config", cfg, rj).Output()
		if err != nil {
			return nil, fmt.Errorf("%s: review: %v", dir, err)
		}
		cases = append(cases, goldenCase{name: filepath.Base(dir), config: cfg, review: review,
			expected: bytes.TrimSuffix(out, []byte("\n"))})
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].name < cases[j].name })
	return cases, nil
}

// kubeBody is the review as kube-apiserver sends it: compact, then "\n".
func kubeBody(review []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, review); err != nil {
		return append(bytes.TrimRight(review, "\n"), '\n')
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

var simpleReview []byte // a union pod CREATE: mutated under the default test config
var allowReview []byte  // an UPDATE: allowed unchanged

func makeReviews() error {
	pod := filepath.Join(*workDir, "pod.json")
	podJSON := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p-0","namespace":"flytesnacks-development",` +
		`"labels":{"imagebuilder.union.ai/builder":"union","organization":"acme"},` +
		`"annotations":{"imagebuilder.union.ai/image-spec":"{\"name\":\"say-hello-image\",\"builder\":\"union\",\"python_version\":\"3.11\"}"}},` +
		`"spec":{"containers":[{"name":"primary","image":"say-hello-image:abc123"}]}}`
	if err := os.WriteFile(pod, []byte(podJSON), 0o644); err != nil {
		return err
	}
	out, err := exec.Command(*binPath, "review", "--wrap-only", pod).Output()
	if err != nil {
		return fmt.Errorf("review --wrap-only: %v", err)
	}
	var rv map[string]interface{}
	if err := json.Unmarshal(out, &rv); err != nil {
		return fmt.Errorf("review --wrap-only printed no JSON: %v", err)
	}
	req := rv["request"].(map[string]interface{})
	req["dryRun"] = false
	simpleReview, _ = json.Marshal(rv)
	req["operation"] = "UPDATE"
	req["oldObject"] = req["object"]
	allowReview, _ = json.Marshal(rv)
	return nil
}

// checkLikeAPIServer validates a response the way kube-apiserver does and
// applies the patch to the pod with the same JSON Patch library.
func checkLikeAPIServer(review, body []byte) error { return testkit.CheckLikeAPIServer(review, body) }

// ---- test registry --------------------------------------------------------------

type test struct {
	name string
	fn   func() error
}

var tests []test

func add(name string, fn func() error) { tests = append(tests, test{name, fn}) }

func expectStatus(r *result, err error, want int) error {
	if err != nil {
		return err
	}
	if r.status != want {
		return fmt.Errorf("HTTP %d, want %d (body %q)", r.status, want, trunc(r.body))
	}
	return nil
}

func trunc(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

func main() {
	flag.Parse()
	t := testkit.Tally{Area: "integration"}
	scratch := ""
	if *workDir == "" {
		d, err := os.MkdirTemp("", "wh-integration")
		if err != nil {
			t.Failed("setup", err.Error())
			t.Finish()
		}
		*workDir, scratch = d, d
	}
	passed := run(&t)
	if scratch != "" {
		os.RemoveAll(scratch)
	}
	if !passed {
		os.Exit(1)
	}
}

func run(t *testkit.Tally) bool {
	var err error
	if testCA, err = testkit.NewCA("imagebuilder-webhook test CA"); err == nil {
		err = makeReviews()
	}
	if err != nil {
		t.Failed("setup", err.Error())
		return t.Summary()
	}
	if *vgSupp != "" {
		slowdown = 15
	}
	registerTests()
	for _, tc := range tests {
		if *only != "" && !strings.Contains(tc.name, *only) {
			continue
		}
		start := time.Now()
		done := make(chan error, 1)
		go func(fn func() error) {
			defer func() {
				if r := recover(); r != nil {
					done <- fmt.Errorf("panic: %v", r)
				}
			}()
			done <- fn()
		}(tc.fn)
		var err error
		select {
		case err = <-done:
		case <-time.After(bound(90 * time.Second)):
			err = errors.New("test did not finish in time")
		}
		if err != nil {
			t.Failed(tc.name, err.Error())
		} else {
			t.OK(fmt.Sprintf("%s (%.1fs)", tc.name, time.Since(start).Seconds()))
		}
	}
	if *vgSupp != "" {
		t.Check("valgrind: every server run ended without errors or definite leaks", valgrindReports())
	}
	return t.Summary()
}

// valgrindReports checks the valgrind logs of every server run: with -q a
// log is empty unless valgrind found something.
func valgrindReports() error {
	logs, err := filepath.Glob(filepath.Join(*workDir, "server*", "valgrind.*.log"))
	if err != nil {
		return err
	}
	if len(logs) == 0 {
		return errors.New("no valgrind log was written")
	}
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(b)) > 0 {
			return fmt.Errorf("%s:\n%s", l, lastLines(string(b), 40))
		}
	}
	return nil
}
