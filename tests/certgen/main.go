// certgen tests: `imagebuilder-webhook certgen` against the fake Kubernetes
// API of fakeapi.go. The Secret is created when absent (its certificates
// decoded and verified: SANs, CA signs the leaf, key matches, validity),
// left alone when valid, renewed when expiring, naming another Service or
// broken; the webhook configuration's caBundle is patched only where it
// differs; API failures (401, 403, 404, 409 on create and update, 422 on a
// patch, 500, a hang, no server) end in one clear line and a non-zero exit,
// or in a re-read where the API says the object moved. Last, `serve` runs
// with the Secret's files: TLS with the Secret's CA for every name, and the
// certificate expiry gauge right at start, after a renewal and after a
// failed reload.
//
// Usage: certgen-test -bin BIN -work DIR
package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"imagebuilder-webhook/tests/internal/testkit"
)

const (
	ns         = "imagebuilder"
	svc        = "imagebuilder-webhook"
	secretName = "imagebuilder-webhook-tls"
	mwcName    = "imagebuilder-webhook"
	token      = "test-token-0123456789"
	day        = 24 * time.Hour
)

var names = []string{svc, svc + "." + ns, svc + "." + ns + ".svc", svc + "." + ns + ".svc.cluster.local"}

type env struct {
	bin, work         string
	api               *fakeAPI
	url               string
	caFile, tokenFile string
	caPEM             []byte
	t                 testkit.Tally
}

type result struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("exit %d after %v\nstdout: %s\nstderr: %s", r.code, r.elapsed.Round(time.Millisecond), r.stdout, r.stderr)
}

// exec runs the binary with args and the environment env (nil: inherited).
func (e *env) exec(environ []string, args ...string) result {
	cmd := exec.Command(e.bin, args...)
	cmd.Env = environ
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		r.code, r.stderr = -1, err.Error()
	}
	return r
}

// run: certgen for the test Service against the fake, with extra flags.
func (e *env) run(extra ...string) result {
	args := []string{"certgen", "--namespace", ns, "--secret", secretName, "--service", svc,
		"--api-server", e.url, "--token-file", e.tokenFile, "--ca-file", e.caFile, "--timeout-ms", "5000"}
	return e.exec(nil, append(args, extra...)...)
}

// ---- checks on results -----------------------------------------------------------

func succeeded(r result, stdout string) error {
	if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, stdout) || strings.Count(r.stdout, "\n") < 1 {
		return fmt.Errorf("want exit 0, nothing on stderr and %q on stdout; got %v", stdout, r)
	}
	return nil
}

// failedWith: exit 1, one line on stderr carrying every part.
func failedWith(r result, parts ...string) error {
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if r.code != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], "imagebuilder-webhook certgen: error: ") {
		return fmt.Errorf("want exit 1 and one error line on stderr; got %v", r)
	}
	for _, p := range parts {
		if !strings.Contains(strings.ToLower(lines[0]), strings.ToLower(p)) {
			return fmt.Errorf("the error line lacks %q: %v", p, r)
		}
	}
	return nil
}

// verbs: the requests as "METHOD path" lines, to compare.
func verbs(rs []record) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%s %s\n", r.Method, r.Path)
	}
	return b.String()
}

func noWrites(api *fakeAPI) error {
	if w := api.writes(); len(w) > 0 {
		return fmt.Errorf("unexpected writes:\n%s", verbs(w))
	}
	return nil
}

func all(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// ---- certificates ------------------------------------------------------------------

type tlsData struct {
	ca, leaf              *x509.Certificate
	crtPEM, keyPEM, caPEM []byte
}

func parseCert(p []byte) (*x509.Certificate, error) {
	b, _ := pem.Decode(p)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, errors.New("not a PEM certificate")
	}
	return x509.ParseCertificate(b.Bytes)
}

func decodeSecret(o map[string]interface{}) (tlsData, error) {
	var d tlsData
	if o == nil {
		return d, errors.New("no Secret stored")
	}
	if o["type"] != "kubernetes.io/tls" {
		return d, fmt.Errorf("type %v", o["type"])
	}
	data, _ := o["data"].(map[string]interface{})
	get := func(k string) ([]byte, error) {
		s, _ := data[k].(string)
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("data[%s] missing or not base64", k)
		}
		return b, nil
	}
	var err error
	if d.crtPEM, err = get("tls.crt"); err != nil {
		return d, err
	}
	if d.keyPEM, err = get("tls.key"); err != nil {
		return d, err
	}
	if d.caPEM, err = get("ca.crt"); err != nil {
		return d, err
	}
	if d.leaf, err = parseCert(d.crtPEM); err != nil {
		return d, fmt.Errorf("tls.crt: %v", err)
	}
	if d.ca, err = parseCert(d.caPEM); err != nil {
		return d, fmt.Errorf("ca.crt: %v", err)
	}
	return d, nil
}

func near(got time.Time, want time.Duration, what string) error {
	if d := time.Until(got) - want; d < -2*day || d > 2*day {
		return fmt.Errorf("%s valid until %v, want about %v from now", what, got, want)
	}
	return nil
}

// verifyIssued: what certgen's certificates must be.
func verifyIssued(d tlsData) error {
	if !d.ca.IsCA || !d.ca.BasicConstraintsValid || d.ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		return errors.New("ca.crt is not a CA certificate")
	}
	if err := d.leaf.CheckSignatureFrom(d.ca); err != nil {
		return fmt.Errorf("ca.crt did not sign tls.crt: %v", err)
	}
	got := append([]string(nil), d.leaf.DNSNames...)
	want := append([]string(nil), names...)
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") || len(d.leaf.IPAddresses) != 0 {
		return fmt.Errorf("SANs %v %v, want exactly %v", d.leaf.DNSNames, d.leaf.IPAddresses, names)
	}
	roots := x509.NewCertPool()
	roots.AddCert(d.ca)
	for _, n := range names {
		if _, err := d.leaf.Verify(x509.VerifyOptions{DNSName: n, Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			return fmt.Errorf("tls.crt does not verify for %s: %v", n, err)
		}
	}
	pair, err := tls.X509KeyPair(d.crtPEM, d.keyPEM)
	if err != nil {
		return fmt.Errorf("tls.key does not match tls.crt: %v", err)
	}
	switch k := pair.PrivateKey.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return fmt.Errorf("EC key on %s, want P-256", k.Curve.Params().Name)
		}
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("RSA key of %d bits", k.N.BitLen())
		}
	default:
		return fmt.Errorf("key of type %T", k)
	}
	if time.Until(d.leaf.NotBefore) > 0 || time.Until(d.ca.NotBefore) > 0 {
		return errors.New("a certificate is not valid yet")
	}
	return all(near(d.ca.NotAfter, 3650*day, "the CA"), near(d.leaf.NotAfter, 365*day, "the certificate"))
}

// makePair: a CA and a certificate for dns valid until notAfter, as Secret data.
func makePair(dns []string, notAfter time.Time) map[string][]byte {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "other CA"},
		NotBefore: time.Now().Add(-day), NotAfter: time.Now().Add(3000 * day), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: dns[0]}, DNSNames: dns,
		NotBefore: time.Now().Add(-day), NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	return map[string][]byte{
		"tls.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"tls.key": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}),
		"ca.crt":  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
	}
}

// ---- setup ---------------------------------------------------------------------------

func setup(bin, work string) (*env, error) {
	ca, err := testkit.NewCA("fake API CA")
	if err != nil {
		return nil, err
	}
	issued, err := ca.Issue(testkit.LocalServer())
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(issued.CertPEM, issued.KeyPEM)
	if err != nil {
		return nil, err
	}
	e := &env{bin: bin, work: work, api: newFakeAPI(token), t: testkit.Tally{Area: "certgen"}, caPEM: ca.PEM}
	e.api.srv = httptest.NewUnstartedServer(e.api)
	e.api.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	e.api.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are tested
	e.api.srv.StartTLS()
	e.url = e.api.srv.URL
	e.caFile = filepath.Join(work, "api-ca.crt")
	e.tokenFile = filepath.Join(work, "token")
	if err := os.WriteFile(e.caFile, ca.PEM, 0o644); err != nil {
		return nil, err
	}
	return e, os.WriteFile(e.tokenFile, []byte(token+"\n"), 0o600)
}

func main() {
	bin := flag.String("bin", "", "the webhook binary")
	work := flag.String("work", "", "a scratch directory")
	flag.Parse()
	if *bin == "" || *work == "" {
		fmt.Fprintln(os.Stderr, "usage: certgen-test -bin BIN -work DIR")
		os.Exit(2)
	}
	e, err := setup(*bin, *work)
	if err != nil {
		fmt.Fprintln(os.Stderr, "setup:", err)
		os.Exit(1)
	}
	for _, group := range []func(*env){secretCases, conflictCases, failureCases, webhookCases, locateCases, serveCases} {
		group(e)
	}
	close(e.api.release)
	e.api.srv.Close()
	e.t.Finish()
}
