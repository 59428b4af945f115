// What the Google and Azure fakes (google.go, azure.go) share: a test CA
// and one server certificate for the cloud host names the tests connect to
// loopback (the webhook reaches them through its test-only connect-to
// hook), failure modes set at run time per endpoint, a registry front that
// passes /v2/ to a real docker-registry, and the registry tokens that
// docker-registry's token authentication accepts.
//
//	fakes cloudcerts -dir D   (cloud-ca.crt, cloud.crt, cloud.key)
//
// Control (on each fake's plain listener):
//
//	GET /_mode?target=T&mode=M   sets the mode of endpoint T (ok, hang, 401,
//	                             403, 404, 429, 500, badjson, ...); reset=1 clears all
//	GET /_count?key=T            requests endpoint T received (reset=1 clears)
package main

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"imagebuilder-webhook/tests/internal/testkit"
)

func init() {
	commands["cloudcerts"] = cloudCerts
}

// cloudNames: every host name a cloud fake answers for.
var cloudNames = []string{
	"gcr.io", "*.gcr.io", "*.pkg.dev", "oauth2.googleapis.com", "metadata.google.internal",
	"login.microsoftonline.com", "*.azurecr.io",
	"login.chinacloudapi.cn", "*.azurecr.cn", "login.microsoftonline.us", "*.azurecr.us",
}

func cloudCerts(args []string) {
	fs := flag.NewFlagSet("cloudcerts", flag.ExitOnError)
	dir := fs.String("dir", ".", "output directory")
	fs.Parse(args)
	ca, err := testkit.NewCA("cloud fakes CA")
	if err != nil {
		log.Fatal(err)
	}
	srv, err := ca.Issue(testkit.LocalServer(cloudNames...))
	if err != nil {
		log.Fatal(err)
	}
	writeFile(filepath.Join(*dir, "cloud-ca.crt"), ca.PEM)
	writeFile(filepath.Join(*dir, "cloud.crt"), srv.CertPEM)
	writeFile(filepath.Join(*dir, "cloud.key"), srv.KeyPEM)
}

// ---- failure modes ---------------------------------------------------------------

type control struct {
	mu   sync.Mutex
	mode map[string]string
	cnt  *counter
}

func newControl() *control { return &control{mode: map[string]string{}, cnt: newCounter()} }

func (c *control) get(target string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mode[target]
}

func (c *control) routes(mux *http.ServeMux) {
	mux.HandleFunc("/_count", c.cnt.handler)
	mux.HandleFunc("/_mode", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		c.mu.Lock()
		if q.Get("reset") != "" {
			c.mode = map[string]string{}
		}
		if t := q.Get("target"); t != "" {
			c.mode[t] = q.Get("mode")
		}
		c.mu.Unlock()
		fmt.Fprintln(w, "ok")
	})
}

// fault counts a request to target and answers it as its mode says; false
// when the mode is empty or "ok" (or one the handler interprets itself).
func (c *control) fault(target string, w http.ResponseWriter, r *http.Request) bool {
	c.cnt.add(target)
	// A server reads the request before it answers: an unread body makes
	// the HTTP/2 stream end with a reset that clients may report instead.
	r.Body = io.NopCloser(bytes.NewReader(readAll(r)))
	switch m := c.get(target); m {
	case "hang":
		select {
		case <-time.After(20 * time.Second):
		case <-r.Context().Done():
		}
		return true
	case "401", "403", "404", "429", "500":
		code := map[string]int{"401": 401, "403": 403, "404": 404, "429": 429, "500": 500}[m]
		if code == 429 {
			w.Header().Set("Retry-After", "30")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"error":"fake_%s","error_description":"failure mode %s of %s"}`, m, m, target)
		return true
	case "badjson":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"x","refresh_token":`)
		return true
	}
	return false
}

func readAll(r *http.Request) []byte {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	return b
}

func oauthError(w http.ResponseWriter, code int, errCode, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": errCode, "error_description": desc})
}

func writeJSON(w http.ResponseWriter, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// tokenSet: the tokens an endpoint issued, for the next endpoint to check.
type tokenSet struct {
	mu sync.Mutex
	m  map[string]bool
}

func newTokenSet() *tokenSet { return &tokenSet{m: map[string]bool{}} }

func (s *tokenSet) issue(prefix string) string {
	b := make([]byte, 24)
	rand.Read(b)
	t := prefix + hex.EncodeToString(b)
	s.add(t)
	return t
}

func (s *tokenSet) add(t string) {
	s.mu.Lock()
	s.m[t] = true
	s.mu.Unlock()
}

func (s *tokenSet) has(t string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return t != "" && s.m[t]
}

// ---- the registry behind a cloud front ---------------------------------------------

// minter signs tokens for docker-registry's token authentication (the same
// key, certificate and issuer as the `token` fake).
type minter struct {
	key     *rsa.PrivateKey
	certDER []byte
	issuer  string
}

func newMinter(signKey, signCert, issuer string) *minter {
	key, err := x509.ParsePKCS1PrivateKey(readPEM(signKey))
	if err != nil {
		log.Fatal(err)
	}
	return &minter{key: key, certDER: readPEM(signCert), issuer: issuer}
}

// jwt signs claims with RS256 (with the certificate chain docker-registry wants).
func (m *minter) jwt(claims map[string]interface{}) (string, error) {
	hdr, _ := json.Marshal(map[string]interface{}{
		"typ": "JWT", "alg": "RS256",
		"x5c": []string{base64.StdEncoding.EncodeToString(m.certDER)},
	})
	body, _ := json.Marshal(claims)
	signing := b64url(hdr) + "." + b64url(body)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, m.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + b64url(sig), nil
}

// registryToken: a pull token for `service` and the scopes asked for.
func (m *minter) registryToken(sub, service string, scopes []string) (string, error) {
	type access struct {
		Type    string   `json:"type"`
		Name    string   `json:"name"`
		Actions []string `json:"actions"`
	}
	acc := []access{}
	for _, s := range scopes {
		for _, one := range strings.Fields(s) {
			f := strings.Split(one, ":")
			if len(f) != 3 {
				return "", fmt.Errorf("bad scope %q", one)
			}
			acc = append(acc, access{f[0], f[1], strings.Split(f[2], ",")})
		}
	}
	now := time.Now()
	return m.jwt(map[string]interface{}{
		"iss": m.issuer, "sub": sub, "aud": service, "access": acc,
		"exp": now.Add(5 * time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(),
		"iat": now.Unix(), "jti": fmt.Sprintf("%d", now.UnixNano()),
	})
}

// passTo forwards a request to the docker-registry at upstream (http://HOST:PORT).
func passTo(upstream string) http.Handler {
	u, err := url.Parse(upstream)
	if err != nil || u.Host == "" {
		log.Fatalf("bad -upstream %q", upstream)
	}
	return httputil.NewSingleHostReverseProxy(u)
}

// cloudFlags: the command-line flags every cloud fake takes.
type cloudFlags struct {
	addr, tlsAddr, cert, key, upstream, signKey, signCert, issuer *string
}

// addCloudFlags declares them on fs; addrHelp and tlsHelp say what the
// plain and the TLS listener serve.
func addCloudFlags(fs *flag.FlagSet, addrHelp, tlsHelp string) *cloudFlags {
	return &cloudFlags{
		addr:     fs.String("addr", "127.0.0.1:0", addrHelp),
		tlsAddr:  fs.String("tls-addr", "127.0.0.1:0", tlsHelp),
		cert:     fs.String("cert", "", "TLS certificate"),
		key:      fs.String("key", "", "TLS key"),
		upstream: fs.String("upstream", "", "docker-registry behind the front (http://HOST:PORT)"),
		signKey:  fs.String("sign-key", "", "registry token signing key"),
		signCert: fs.String("sign-cert", "", "registry token signing certificate"),
		issuer:   fs.String("issuer", "live-issuer", "registry token issuer"),
	}
}

// minter signs registry tokens with the flags' key, certificate and issuer.
func (f *cloudFlags) minter() *minter { return newMinter(*f.signKey, *f.signCert, *f.issuer) }

// serve serves mux, with /v2/ passed to the upstream docker-registry, over
// TLS on -tls-addr (printed as NAME) and the control routes on -addr
// (printed as NAME-control), plus `plain` (when not nil) on the control
// listener too.
func (f *cloudFlags) serve(name string, mux *http.ServeMux, ctl *control, plain *http.ServeMux) {
	mux.Handle("/v2/", passTo(*f.upstream))
	if plain == nil {
		plain = http.NewServeMux()
	}
	ctl.routes(plain)
	tl := listen(name, *f.tlsAddr)
	go func() {
		srv := &http.Server{Handler: mux, ErrorLog: log.New(&discard{}, "", 0)}
		log.Fatal(srv.ServeTLS(tl, *f.cert, *f.key))
	}()
	log.Fatal(http.Serve(listen(name+"-control", *f.addr), plain))
}

// discard drops the TLS handshake errors of clients that do not trust the CA.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// hostOnly: a Host header without its port.
func hostOnly(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return h
}
