// Local stand-ins for the live-check tests: a Kubernetes namespaces API, a
// registry that fails in the ways a real one rarely does on demand, a
// token server for the distribution registry's token authentication, and
// a DNS server that never answers, and the AWS services behind ECR
// credentials (aws.go). Every server counts the requests it serves, so the
// tests can tell whether a cached answer really left the network alone. Each
// listens on port 0 by default and prints "listening NAME HOST:PORT" for
// every listener it bound (NAME: k8s, registry, registry-tls, token, dns, sts,
// ecr, pod, imds). One client too: burst (burst.go).
//
//	fakes k8s      -addr A -cert C -key K -token-file F
//	fakes registry -addr A [-tls-addr B -cert C -key K]
//	fakes token    -addr A -sign-key K -sign-cert C -issuer I -user U -pass P
//	fakes dns      -addr A  (UDP; prints "query N" for each datagram, answers none)
//	fakes aws      -addr A -ecr-addr B -pod-addr C -imds-addr D -role-arn R -web-token-file F
//	               -pod-token-file G -region REGION -static-key K -static-secret S -user U -pass P
//	fakes certs    -dir D   (CA, server cert for 127.0.0.1/localhost, token signing cert)
//	fakes burst    -url U -ca C -n N -name NAME [-same]
package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"imagebuilder-webhook/tests/internal/testkit"
)

type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) add(k string) {
	c.mu.Lock()
	c.n[k]++
	c.n["*"]++
	c.mu.Unlock()
}

func (c *counter) handler(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.URL.Query().Get("reset") != "" {
		c.n = map[string]int{}
	}
	k := r.URL.Query().Get("key")
	if k == "" {
		k = "*"
	}
	fmt.Fprintf(w, "%d\n", c.n[k])
}

func newCounter() *counter { return &counter{n: map[string]int{}} }

// ---- certificates -----------------------------------------------------------

func writePEM(path, typ string, der []byte) {
	if err := testkit.WritePEM(path, typ, der, 0o644); err != nil {
		log.Fatal(err)
	}
}

func writeFile(path string, data []byte) {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		log.Fatal(err)
	}
}

func certs(dir string) {
	ca, err := testkit.NewCA("live-test CA")
	if err != nil {
		log.Fatal(err)
	}
	writeFile(filepath.Join(dir, "ca.crt"), ca.PEM)
	l := testkit.LocalServer()
	l.Usages = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	srv, err := ca.Issue(l)
	if err != nil {
		log.Fatal(err)
	}
	writeFile(filepath.Join(dir, "server.crt"), srv.CertPEM)
	writeFile(filepath.Join(dir, "server.key"), srv.KeyPEM)

	// token signing: a self-signed RSA certificate the registry trusts
	sigKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	sigTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(3),
		Subject:               pkix.Name{CommonName: "live-test token signer"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	sigDER, err := x509.CreateCertificate(rand.Reader, sigTmpl, sigTmpl, &sigKey.PublicKey, sigKey)
	if err != nil {
		log.Fatal(err)
	}
	writePEM(filepath.Join(dir, "token.crt"), "CERTIFICATE", sigDER)
	writePEM(filepath.Join(dir, "token.key"), "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(sigKey))
}

func readPEM(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		log.Fatalf("%s: no PEM block", path)
	}
	return blk.Bytes
}

// listen binds addr and prints "listening NAME HOST:PORT" with the bound
// address (the tests read it: port 0 picks a free port).
func listen(name, addr string) net.Listener {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening %s %s\n", name, l.Addr())
	return l
}

// ---- Kubernetes namespaces API ---------------------------------------------------

// Namespaces named dyn-*: absent until the test sets their phase with
// /_state?ns=NAME&phase=Active|Terminating|absent.
type nsStates struct {
	mu    sync.Mutex
	phase map[string]string
}

func (s *nsStates) handler(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	if p := q.Get("phase"); p == "absent" {
		delete(s.phase, q.Get("ns"))
	} else {
		s.phase[q.Get("ns")] = p
	}
	s.mu.Unlock()
	fmt.Fprintln(w, "ok")
}

func (s *nsStates) get(ns string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.phase[ns]
}

func writeNamespace(w http.ResponseWriter, ns, phase string) {
	extra := ""
	if phase == "Terminating" {
		extra = `,"deletionTimestamp":"2024-05-01T10:00:00Z"`
	}
	fmt.Fprintf(w, `{"kind":"Namespace","apiVersion":"v1","metadata":{"name":%q%s},"spec":{"finalizers":["kubernetes"]},"status":{"phase":%q}}`, ns, extra, phase)
}

func notFound(w http.ResponseWriter, ns string) {
	w.WriteHeader(404)
	fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"namespaces %q not found","reason":"NotFound","code":404}`, ns)
}

func k8s(addr, cert, key, tokenFile string) {
	cnt := newCounter()
	states := &nsStates{phase: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/_count", cnt.handler)
	mux.HandleFunc("/_state", states.handler)
	mux.HandleFunc("/api/v1/namespaces/", func(w http.ResponseWriter, r *http.Request) {
		ns := strings.TrimPrefix(r.URL.Path, "/api/v1/namespaces/")
		cnt.add(ns)
		want, _ := os.ReadFile(tokenFile) // re-read: the tests rotate it
		if r.Header.Get("Authorization") != "Bearer "+strings.TrimSpace(string(want)) {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasPrefix(ns, "missing"):
			notFound(w, ns)
		case strings.HasPrefix(ns, "terminating"):
			writeNamespace(w, ns, "Terminating")
		case strings.HasPrefix(ns, "dyn"):
			if p := states.get(ns); p != "" {
				writeNamespace(w, ns, p)
			} else {
				notFound(w, ns)
			}
		case strings.HasPrefix(ns, "forbidden"):
			w.WriteHeader(403)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403}`)
		case strings.HasPrefix(ns, "boom"):
			w.WriteHeader(500)
			fmt.Fprint(w, `{"kind":"Status","status":"Failure","code":500}`)
		case strings.HasPrefix(ns, "malformed"):
			fmt.Fprint(w, `{"kind":"Namespace","metadata":`)
		case strings.HasPrefix(ns, "slow"):
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
				return
			}
			fmt.Fprintf(w, `{"kind":"Namespace","apiVersion":"v1","metadata":{"name":%q},"status":{"phase":"Active"}}`, ns)
		default:
			fmt.Fprintf(w, `{"kind":"Namespace","apiVersion":"v1","metadata":{"name":%q},"status":{"phase":"Active"}}`, ns)
		}
	})
	srv := &http.Server{Handler: mux}
	log.Fatal(srv.ServeTLS(listen("k8s", addr), cert, key))
}

// ---- registry failure modes ---------------------------------------------------------

func registry(addr, tlsAddr, cert, key, user, pass string) {
	cnt := newCounter()
	mux := http.NewServeMux()
	mux.HandleFunc("/_count", cnt.handler)
	var self string // scheme://host of the plain listener, for realms
	mux.HandleFunc("/token500", func(w http.ResponseWriter, r *http.Request) {
		cnt.add("token500")
		w.WriteHeader(500)
	})
	mux.HandleFunc("/tokenbad", func(w http.ResponseWriter, r *http.Request) {
		cnt.add("tokenbad")
		fmt.Fprint(w, `{"token":`)
	})
	mux.HandleFunc("/v2/", func(w http.ResponseWriter, r *http.Request) {
		parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/v2/"), "/", 2)
		mode := parts[0]
		cnt.add(mode)
		switch mode {
		case "present":
			w.Header().Set("Docker-Content-Digest", "sha256:"+strings.Repeat("a", 64))
			w.WriteHeader(200)
		case "absent":
			w.WriteHeader(404)
		case "err500":
			w.WriteHeader(500)
		case "ratelimited":
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(429)
		case "hang":
			select {
			case <-time.After(20 * time.Second):
			case <-r.Context().Done():
				return
			}
			w.WriteHeader(200)
		case "badauth":
			w.Header().Set("WWW-Authenticate", `Bearer realm="https://x/token,service="unterminated`)
			w.WriteHeader(401)
		case "noauthhdr":
			w.WriteHeader(401)
		case "tokenfail":
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token500",service="fake"`, self))
			w.WriteHeader(401)
		case "tokenbadjson":
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/tokenbad",service="fake"`, self))
			w.WriteHeader(401)
		case "basic":
			u, p, ok := r.BasicAuth()
			if !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="fake registry"`)
				w.WriteHeader(401)
				return
			}
			w.WriteHeader(200)
		default:
			w.WriteHeader(404)
		}
	})
	l := listen("registry", addr)
	self = "http://" + l.Addr().String()
	if tlsAddr != "" {
		tl := listen("registry-tls", tlsAddr)
		go func() {
			srv := &http.Server{Handler: mux}
			log.Fatal(srv.ServeTLS(tl, cert, key))
		}()
	}
	log.Fatal(http.Serve(l, mux))
}

// ---- a DNS server that never answers -------------------------------------------------

func blackholeDNS(addr string) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening dns %s\n", pc.LocalAddr())
	buf := make([]byte, 4096)
	for n := 1; ; n++ {
		if _, _, err := pc.ReadFrom(buf); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("query %d\n", n)
	}
}

// ---- token server (distribution's token auth) -------------------------------------------

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func token(addr, signKey, signCert, issuer, user, pass string) {
	key, err := x509.ParsePKCS1PrivateKey(readPEM(signKey))
	if err != nil {
		log.Fatal(err)
	}
	certDER := readPEM(signCert)
	cnt := newCounter()
	mux := http.NewServeMux()
	mux.HandleFunc("/_count", cnt.handler)
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		cnt.add("token")
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != pass {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`)
			return
		}
		type access struct {
			Type    string   `json:"type"`
			Name    string   `json:"name"`
			Actions []string `json:"actions"`
		}
		acc := []access{}
		for _, s := range r.URL.Query()["scope"] {
			f := strings.Split(s, ":")
			if len(f) != 3 {
				w.WriteHeader(400)
				return
			}
			acc = append(acc, access{f[0], f[1], strings.Split(f[2], ",")})
		}
		now := time.Now()
		hdr, _ := json.Marshal(map[string]interface{}{
			"typ": "JWT", "alg": "RS256",
			"x5c": []string{base64.StdEncoding.EncodeToString(certDER)},
		})
		claims, _ := json.Marshal(map[string]interface{}{
			"iss": issuer, "sub": user, "aud": r.URL.Query().Get("service"),
			"exp": now.Add(5 * time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(),
			"iat": now.Unix(), "jti": fmt.Sprintf("%d", now.UnixNano()), "access": acc,
		})
		signing := b64url(hdr) + "." + b64url(claims)
		sum := sha256.Sum256([]byte(signing))
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
		if err != nil {
			w.WriteHeader(500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]interface{}{
			"token": signing + "." + b64url(sig), "expires_in": 300,
			"issued_at": now.UTC().Format(time.RFC3339),
		})
	})
	log.Fatal(http.Serve(listen("token", addr), mux))
}

// commands: fakes defined in files of their own (name -> run with the
// arguments after the name), registered by those files' init functions.
var commands = map[string]func(args []string){}

func main() {
	log.SetFlags(0)
	if len(os.Args) < 2 {
		log.Fatal("usage: fakes k8s|registry|token|dns|aws|certs|burst|<other command> [flags]")
	}
	if run, ok := commands[os.Args[1]]; ok {
		run(os.Args[2:])
		return
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	tlsAddr := fs.String("tls-addr", "", "extra TLS listen address (registry)")
	cert := fs.String("cert", "", "TLS certificate")
	key := fs.String("key", "", "TLS key")
	tokenFile := fs.String("token-file", "", "bearer token the API expects (re-read per request)")
	dir := fs.String("dir", ".", "output directory (certs)")
	signKey := fs.String("sign-key", "", "token signing key")
	signCert := fs.String("sign-cert", "", "token signing certificate")
	issuer := fs.String("issuer", "live-test", "token issuer")
	user := fs.String("user", "builder", "user name accepted")
	pass := fs.String("pass", "s3cret", "password accepted")
	target := fs.String("url", "", "admission URL (burst)")
	ca := fs.String("ca", "", "CA of the webhook's certificate (burst)")
	n := fs.Int("n", 100, "reviews at once (burst)")
	name := fs.String("name", "burst", "ImageSpec name prefix (burst)")
	same := fs.Bool("same", false, "every review the same image (burst)")
	ecrAddr := fs.String("ecr-addr", "127.0.0.1:0", "ECR API listen address (aws)")
	podAddr := fs.String("pod-addr", "127.0.0.1:0", "Pod Identity agent listen address (aws)")
	imdsAddr := fs.String("imds-addr", "127.0.0.1:0", "IMDS listen address (aws)")
	roleArn := fs.String("role-arn", "", "role STS lets the web identity assume (aws)")
	webTokenFile := fs.String("web-token-file", "", "web identity token STS accepts (aws)")
	podTokenFile := fs.String("pod-token-file", "", "authorization token the agent accepts (aws)")
	region := fs.String("region", "us-east-1", "region ECR requests must be signed for (aws)")
	staticKey := fs.String("static-key", "", "a long-term access key id ECR accepts (aws)")
	staticSecret := fs.String("static-secret", "", "its secret access key (aws)")
	fs.Parse(os.Args[2:])
	switch os.Args[1] {
	case "certs":
		certs(*dir)
	case "k8s":
		k8s(*addr, *cert, *key, *tokenFile)
	case "registry":
		registry(*addr, *tlsAddr, *cert, *key, *user, *pass)
	case "token":
		token(*addr, *signKey, *signCert, *issuer, *user, *pass)
	case "dns":
		blackholeDNS(*addr)
	case "burst":
		burst(*target, *ca, *name, *n, *same)
	case "aws":
		awsFakes(*addr, *ecrAddr, *podAddr, *imdsAddr, *roleArn, *webTokenFile, *podTokenFile,
			*region, *staticKey, *staticSecret, *user, *pass)
	default:
		log.Fatalf("unknown command %q", os.Args[1])
	}
}
