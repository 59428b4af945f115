// Integration tests of `imagebuilder-webhook serve`: starts the real server
// on free loopback ports with its own test certificates and talks to it the
// way kube-apiserver does (HTTP/1.1 keep-alive over TLS, ALPN http/1.1,
// CA-verified with the service's DNS name, POST /mutate?timeout=10s, a body
// ending with a newline), and over HTTP/2.
//
// Usage: itest -bin WEBHOOK_BIN -golden DIR -work DIR [-run SUBSTR]
// [-valgrind SUPPRESSIONS] (every server under valgrind, time bounds
// stretched, a last check of every valgrind report).
// Prints "PASS name" / "FAIL name: why" lines and a last line
// "integration: N passed, M failed".
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"

	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	jsonpatch "github.com/evanphx/json-patch"
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

// serveCommand runs `serve`, under valgrind when asked: its report goes to
// dir/valgrind.<pid>.log and any error or definite leak makes it exit 1.
func serveCommand(dir, cfg string) *exec.Cmd {
	if *vgSupp == "" {
		return exec.Command(*binPath, "serve", "--config", cfg)
	}
	return exec.Command("valgrind", "-q", "--leak-check=full", "--error-exitcode=1",
		"--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
		"--suppressions="+*vgSupp, "--log-file="+filepath.Join(dir, "valgrind.%p.log"),
		*binPath, "serve", "--config", cfg)
}

// ---- certificates ----------------------------------------------------------

type pki struct {
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
	caPEM  []byte
	pool   *x509.CertPool
}

func newPKI() (*pki, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "imagebuilder-webhook test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	p := &pki{caCert: cert, caKey: key, pool: x509.NewCertPool()}
	p.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	p.pool.AddCert(cert)
	return p, nil
}

var serial int64 = 100

// issue makes a leaf certificate; server certificates carry the service's
// DNS SAN (no CN check: kube-apiserver's Go client looks at SANs only).
func (p *pki) issue(server bool) (certPEM, keyPEM []byte, sn int64, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, 0, err
	}
	sn = atomic.AddInt64(&serial, 1)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(sn),
		Subject:      pkix.Name{CommonName: "imagebuilder-webhook"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if server {
		tmpl.DNSNames = []string{serviceName, serviceName + ".cluster.local", "localhost"}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	} else {
		tmpl.Subject.CommonName = "kube-apiserver"
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &key.PublicKey, p.caKey)
	if err != nil {
		return nil, nil, 0, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, 0, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), sn, nil
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

type server struct {
	cmd      *exec.Cmd
	dir      string
	cfgPath  string
	logPath  string
	port     int
	mport    int
	exited   chan struct{}
	exitErr  error
	certs    *secretDir
	stopOnce sync.Once
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type serverOpts struct {
	extraWebhook string // extra YAML lines under webhook: (indented two spaces)
	imageBuilder string // imageBuilder block body; default: local repository, noop
	clientCA     bool
}

var testPKI *pki

func (s *server) writeConfig(o serverOpts) error {
	ib := o.imageBuilder
	if ib == "" {
		ib = "  enabled: true\n  defaultRepository: localhost:5000/union\n  authenticationType: noop\n"
	}
	cfg := "imageBuilder:\n" + ib + "webhook:\n" +
		fmt.Sprintf("  listen: \"127.0.0.1:%d\"\n  metricsListen: \"127.0.0.1:%d\"\n", s.port, s.mport) +
		"  threads: 2\n  maxRequestBytes: 1048576\n  shutdownTimeoutMs: 5000\n  requestTimeoutMs: 3000\n" +
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
	s := &server{dir: filepath.Join(*workDir, fmt.Sprintf("server%d", n)), exited: make(chan struct{})}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, err
	}
	s.cfgPath = filepath.Join(s.dir, "config.yaml")
	s.logPath = filepath.Join(s.dir, "server.log")
	s.certs = &secretDir{dir: filepath.Join(s.dir, "tls")}
	c, k, _, err := testPKI.issue(true)
	if err != nil {
		return nil, err
	}
	if err := s.certs.update(map[string][]byte{"tls.crt": c, "tls.key": k}); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(s.dir, "client-ca.crt"), testPKI.caPEM, 0o644); err != nil {
		return nil, err
	}
	for attempt := 0; attempt < 5; attempt++ {
		if s.port, err = freePort(); err != nil {
			return nil, err
		}
		if s.mport, err = freePort(); err != nil {
			return nil, err
		}
		if s.port == s.mport {
			continue
		}
		if err = s.writeConfig(o); err != nil {
			return nil, err
		}
		logf, err := os.Create(s.logPath)
		if err != nil {
			return nil, err
		}
		s.cmd = serveCommand(s.dir, s.cfgPath)
		s.cmd.Stderr = logf
		s.cmd.Stdout = logf
		if err = s.cmd.Start(); err != nil {
			logf.Close()
			return nil, err
		}
		s.exited = make(chan struct{})
		go func(cmd *exec.Cmd, ch chan struct{}, f *os.File) {
			s.exitErr = cmd.Wait()
			f.Close()
			close(ch)
		}(s.cmd, s.exited, logf)
		if err = s.waitLog(`"msg":"serving"`, 10*time.Second); err == nil {
			return s, nil
		}
		s.kill()
		if !strings.Contains(s.log(), "in use") {
			return nil, fmt.Errorf("server did not start: %v\n%s", err, s.log())
		}
	}
	return nil, fmt.Errorf("server did not start: %v", err)
}

func (s *server) log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

func (s *server) countLog(substr string) int {
	return strings.Count(s.log(), substr)
}

func (s *server) waitLog(substr string, d time.Duration) error {
	return waitFor(d, func() bool { return strings.Contains(s.log(), substr) }, "log line "+substr)
}

func (s *server) waitLogCount(substr string, n int, d time.Duration) error {
	return waitFor(d, func() bool { return s.countLog(substr) >= n },
		fmt.Sprintf("%d log lines with %s", n, substr))
}

func waitFor(d time.Duration, cond func() bool, what string) error {
	deadline := time.Now().Add(bound(d))
	for time.Now().Before(deadline) {
		if cond() {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	if cond() {
		return nil
	}
	return fmt.Errorf("timed out waiting for %s", what)
}

func (s *server) signal(sig syscall.Signal) error {
	return s.cmd.Process.Signal(sig)
}

// stop sends SIGTERM and returns the exit error (nil for exit 0).
func (s *server) stop() error {
	var err error
	s.stopOnce.Do(func() {
		if e := s.signal(syscall.SIGTERM); e != nil {
			err = e
			return
		}
		select {
		case <-s.exited:
			err = s.exitErr
		case <-time.After(bound(15 * time.Second)):
			s.cmd.Process.Kill()
			<-s.exited
			err = errors.New("server did not exit in time after SIGTERM")
		}
	})
	return err
}

// kill ends a server whatever its state; under valgrind it gets SIGTERM
// first, so that its leak report is written.
func (s *server) kill() {
	s.stopOnce.Do(func() {
		if *vgSupp != "" && s.signal(syscall.SIGTERM) == nil {
			select {
			case <-s.exited:
				return
			case <-time.After(bound(5 * time.Second)):
			}
		}
		s.cmd.Process.Kill()
		<-s.exited
	})
}

func (s *server) addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }
func (s *server) url(path string) string {
	return fmt.Sprintf("https://%s:%d%s", serviceName, s.port, path)
}

// ---- clients -------------------------------------------------------------------

func tlsConfig(alpn []string) *tls.Config {
	return &tls.Config{RootCAs: testPKI.pool, ServerName: serviceName, NextProtos: alpn,
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
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", s.mport))
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

type admissionResponse struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Response   struct {
		UID       string `json:"uid"`
		Allowed   bool   `json:"allowed"`
		Patch     string `json:"patch"`
		PatchType string `json:"patchType"`
		Status    struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"status"`
	} `json:"response"`
}

// checkLikeAPIServer validates a response the way kube-apiserver does and
// applies the patch to the pod with the same JSON Patch library.
func checkLikeAPIServer(review, body []byte) error {
	var in struct {
		APIVersion string `json:"apiVersion"`
		Request    struct {
			UID    string          `json:"uid"`
			Object json.RawMessage `json:"object"`
		} `json:"request"`
	}
	if err := json.Unmarshal(review, &in); err != nil {
		return err
	}
	var out admissionResponse
	if err := json.Unmarshal(body, &out); err != nil {
		return fmt.Errorf("response is not JSON: %v", err)
	}
	if out.APIVersion != in.APIVersion || out.Kind != "AdmissionReview" {
		return fmt.Errorf("response is %s/%s", out.APIVersion, out.Kind)
	}
	if out.Response.UID != in.Request.UID {
		return fmt.Errorf("uid %q, want %q", out.Response.UID, in.Request.UID)
	}
	if out.Response.Patch == "" {
		return nil
	}
	if out.Response.PatchType != "JSONPatch" && in.APIVersion == "admission.k8s.io/v1" {
		return fmt.Errorf("patchType %q", out.Response.PatchType)
	}
	raw, err := base64.StdEncoding.DecodeString(out.Response.Patch)
	if err != nil {
		return fmt.Errorf("patch is not base64: %v", err)
	}
	p, err := jsonpatch.DecodePatch(raw)
	if err != nil {
		return fmt.Errorf("patch does not decode: %v", err)
	}
	if _, err := p.Apply(in.Request.Object); err != nil {
		return fmt.Errorf("patch does not apply: %v", err)
	}
	return nil
}

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
	if *workDir == "" {
		d, err := os.MkdirTemp("", "wh-integration")
		if err != nil {
			fmt.Println("integration: 0 passed, 1 failed")
			os.Exit(1)
		}
		*workDir = d
		defer os.RemoveAll(d)
	}
	var err error
	if testPKI, err = newPKI(); err == nil {
		err = makeReviews()
	}
	if err != nil {
		fmt.Printf("FAIL setup: %v\nintegration: 0 passed, 1 failed\n", err)
		os.Exit(1)
	}
	if *vgSupp != "" {
		slowdown = 15
	}
	registerTests()
	pass, fail := 0, 0
	for _, t := range tests {
		if *only != "" && !strings.Contains(t.name, *only) {
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
		}(t.fn)
		var err error
		select {
		case err = <-done:
		case <-time.After(bound(90 * time.Second)):
			err = errors.New("test did not finish in time")
		}
		if err != nil {
			fail++
			fmt.Printf("FAIL %s: %v\n", t.name, err)
		} else {
			pass++
			fmt.Printf("PASS %s (%.1fs)\n", t.name, time.Since(start).Seconds())
		}
	}
	if *vgSupp != "" {
		if err := valgrindReports(); err != nil {
			fail++
			fmt.Printf("FAIL valgrind: %v\n", err)
		} else {
			pass++
			fmt.Println("PASS valgrind: every server run ended without errors or definite leaks")
		}
	}
	fmt.Printf("integration: %d passed, %d failed\n", pass, fail)
	if fail > 0 {
		os.Exit(1)
	}
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
