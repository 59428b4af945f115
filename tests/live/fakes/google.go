// The Google side of the cloud fakes, following Google's documented wire
// formats:
//
//   - the GCE/GKE metadata server (plain HTTP): GET
//     /computeMetadata/v1/instance/service-accounts/default/token requires
//     "Metadata-Flavor: Google" (403 without it), answers
//     {"access_token","expires_in","token_type"} with "Metadata-Flavor: Google";
//
//   - a service-account key's token_uri (TLS, oauth2.googleapis.com): POST
//     /token with grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer and
//     an RS256 assertion that is VERIFIED with the key's public key (iss,
//     scope, aud, iat, exp within an hour), errors as {"error","error_description"};
//
//   - Artifact Registry / Container Registry (TLS, *-docker.pkg.dev, gcr.io):
//     its token endpoint GET /v2/token takes Basic oauth2accesstoken:<access
//     token> (a token the two endpoints above issued) and signs a registry
//     token; /v2/ goes to the real docker-registry behind it.
//
// Usage:
//
//	fakes google -addr A -tls-addr B -cert C -key K -upstream http://REG
//	             -sign-key K -sign-cert C -issuer I -sa-pub PEM -sa-email E
//
// Listeners: "google" (TLS), "google-control" (plain: the metadata server
// and the control routes).
// Endpoints for /_mode and /_count: metadata, tokenuri, regtoken.
package main

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"
)

func init() {
	commands["google"] = google
}

const (
	googleScope    = "https://www.googleapis.com/auth/cloud-platform"
	googleTokenURI = "https://oauth2.googleapis.com/token"
)

type googleFake struct {
	ctl    *control
	issued *tokenSet
	pub    *rsa.PublicKey
	email  string
	mint   *minter
}

func google(args []string) {
	fs := flag.NewFlagSet("google", flag.ExitOnError)
	cf := addCloudFlags(fs, "metadata server and control (plain HTTP)", "token_uri and registry front (TLS)")
	saPub := fs.String("sa-pub", "", "the service account's public key (PEM)")
	saEmail := fs.String("sa-email", "", "the service account's client_email")
	fs.Parse(args)
	pub, err := x509.ParsePKIXPublicKey(readPEM(*saPub))
	if err != nil {
		log.Fatal(err)
	}
	g := &googleFake{ctl: newControl(), issued: newTokenSet(), pub: pub.(*rsa.PublicKey),
		email: *saEmail, mint: cf.minter()}
	plain := http.NewServeMux()
	plain.HandleFunc("/computeMetadata/v1/instance/service-accounts/default/token", g.metadata)
	mux := http.NewServeMux()
	mux.HandleFunc("/token", g.tokenURI)
	mux.HandleFunc("/v2/token", g.registryToken)
	cf.serve("google", mux, g.ctl, plain)
}

func (g *googleFake) accessToken(w http.ResponseWriter) {
	writeJSON(w, map[string]interface{}{
		"access_token": g.issued.issue("ya29.fake-"), "expires_in": 3599, "token_type": "Bearer",
	})
}

func (g *googleFake) metadata(w http.ResponseWriter, r *http.Request) {
	// The metadata server marks every answer; mode "noflavor" plays
	// something else answering at its address.
	if g.ctl.get("metadata") != "noflavor" {
		w.Header().Set("Metadata-Flavor", "Google")
	}
	if g.ctl.fault("metadata", w, r) {
		return
	}
	if r.Header.Get("Metadata-Flavor") != "Google" {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(403)
		fmt.Fprint(w, "Missing Metadata-Flavor:Google header.")
		return
	}
	g.accessToken(w)
}

// verifyAssertion checks an RS256 JWT bearer assertion as Google does.
func (g *googleFake) verifyAssertion(a string) string {
	p := strings.Split(a, ".")
	if len(p) != 3 {
		return "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe"
	}
	var hdr map[string]interface{}
	hb, err1 := base64.RawURLEncoding.DecodeString(p[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(p[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(p[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &hdr) != nil || hdr["alg"] != "RS256" {
		return "Invalid JWT header or encoding"
	}
	sum := sha256.Sum256([]byte(p[0] + "." + p[1]))
	if rsa.VerifyPKCS1v15(g.pub, crypto.SHA256, sum[:], sig) != nil {
		return "Invalid JWT Signature."
	}
	var c struct {
		Iss, Scope, Aud string
		Iat, Exp        int64
	}
	if json.Unmarshal(cb, &c) != nil {
		return "Invalid JWT claims"
	}
	now := time.Now().Unix()
	switch {
	case c.Iss != g.email:
		return "Invalid JWT: iss is not the service account"
	case c.Scope != googleScope:
		return "Invalid JWT: scope"
	case c.Aud != googleTokenURI:
		return "Invalid JWT: aud is not the token_uri"
	case c.Iat > now+60 || c.Exp <= now || c.Exp-c.Iat > 3600:
		return "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe."
	}
	return ""
}

func (g *googleFake) tokenURI(w http.ResponseWriter, r *http.Request) {
	if g.ctl.fault("tokenuri", w, r) {
		return
	}
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		oauthError(w, 400, "invalid_request", "POST a form")
		return
	}
	if r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		oauthError(w, 400, "unsupported_grant_type", "Invalid grant_type: "+r.PostForm.Get("grant_type"))
		return
	}
	if why := g.verifyAssertion(r.PostForm.Get("assertion")); why != "" {
		oauthError(w, 400, "invalid_grant", why)
		return
	}
	g.accessToken(w)
}

// registryToken: Artifact Registry's token endpoint (Basic oauth2accesstoken).
func (g *googleFake) registryToken(w http.ResponseWriter, r *http.Request) {
	if g.ctl.fault("regtoken", w, r) {
		return
	}
	u, p, ok := r.BasicAuth()
	if !ok || u != "oauth2accesstoken" || !g.issued.has(p) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication failed"}]}`)
		return
	}
	tok, err := g.mint.registryToken(u, r.URL.Query().Get("service"), r.URL.Query()["scope"])
	if err != nil {
		w.WriteHeader(400)
		return
	}
	writeJSON(w, map[string]interface{}{"token": tok, "expires_in": 300})
}
