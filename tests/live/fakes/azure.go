// The Azure side of the cloud fakes, following Microsoft's documented wire
// formats (all over TLS, one listener for every host name):
//
//   - the Microsoft Entra ID token endpoint: POST /{tenant}/oauth2/v2.0/token,
//     client-credentials grant with a federated client assertion: the form
//     must name the tenant, client id and the scope its cloud's registries
//     accept (by the Entra host asked: the Resource Manager audience in
//     the China and US Government clouds, the registry audience elsewhere),
//     and the assertion must equal the projected token file as it is now
//     (re-read per request: the tests rotate it); errors in Entra's form;
//
//   - Azure Container Registry's POST /oauth2/exchange (grant_type=
//     access_token, service, tenant, access_token = an Entra token issued
//     above) answering {"refresh_token": a JWT that expires in three hours};
//
//   - its POST /oauth2/token refresh-token grant, answering
//     {"access_token": a token docker-registry accepts};
//
//   - /v2/ passed to the real docker-registry behind it.
//
// Usage:
//
//	fakes azure -addr A -tls-addr B -cert C -key K -upstream http://REG
//	            -sign-key K -sign-cert C -issuer I -tenant T -client-id C
//	            -assertion-file F
//
// Listeners: "azure" (TLS), "azure-control" (plain). Endpoints for /_mode
// and /_count: entra, exchange, acrtoken (exchange also takes mode
// "expired": a refresh token whose exp has passed).
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

func init() {
	commands["azure"] = azure
}

// acrScope is the scope the public cloud's Entra issues registry tokens
// for; nationalScopes those of the national clouds, by their Entra host.
const acrScope = "https://containerregistry.azure.net/.default"

var nationalScopes = map[string]string{
	"login.chinacloudapi.cn":   "https://management.chinacloudapi.cn/.default",
	"login.microsoftonline.us": "https://management.usgovcloudapi.net/.default",
}

func scopeFor(host string) string {
	if s, ok := nationalScopes[host]; ok {
		return s
	}
	return acrScope
}

type azureFake struct {
	ctl                     *control
	entra, refresh          *tokenSet
	tenant, clientID, asset string
	mint                    *minter
}

func azure(args []string) {
	fs := flag.NewFlagSet("azure", flag.ExitOnError)
	cf := addCloudFlags(fs, "control (plain HTTP)", "Entra, ACR exchange and registry front (TLS)")
	tenant := fs.String("tenant", "", "the Entra tenant id")
	clientID := fs.String("client-id", "", "the workload identity's client id")
	assertion := fs.String("assertion-file", "", "the projected service-account token file")
	fs.Parse(args)
	a := &azureFake{ctl: newControl(), entra: newTokenSet(), refresh: newTokenSet(),
		tenant: *tenant, clientID: *clientID, asset: *assertion,
		mint: cf.minter()}
	mux := http.NewServeMux()
	mux.HandleFunc("/oauth2/exchange", a.exchange)
	mux.HandleFunc("/oauth2/token", a.acrToken)
	mux.HandleFunc("/", a.entraToken) // /{tenant}/oauth2/v2.0/token
	cf.serve("azure", mux, a.ctl, nil)
}

func postForm(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		oauthError(w, 400, "invalid_request", "AADSTS900144: POST a form.")
		return false
	}
	return true
}

func (a *azureFake) entraToken(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
		http.NotFound(w, r)
		return
	}
	if a.ctl.fault("entra", w, r) || !postForm(w, r) {
		return
	}
	f := r.PostForm
	want, _ := os.ReadFile(a.asset) // as it is now: the tests rotate it
	switch {
	case r.URL.Path != "/"+a.tenant+"/oauth2/v2.0/token":
		oauthError(w, 400, "invalid_request", "AADSTS90002: Tenant not found.")
	case f.Get("grant_type") != "client_credentials":
		oauthError(w, 400, "unsupported_grant_type", "AADSTS70003: grant_type not supported.")
	case f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
		oauthError(w, 400, "invalid_request", "AADSTS50027: client_assertion_type is invalid.")
	case f.Get("client_id") != a.clientID:
		oauthError(w, 400, "unauthorized_client", "AADSTS700016: Application not found in the directory.")
	case f.Get("scope") != scopeFor(hostOnly(r.Host)):
		oauthError(w, 400, "invalid_scope", "AADSTS70011: The provided scope is not valid.")
	case f.Get("client_assertion") == "" || f.Get("client_assertion") != strings.TrimSpace(string(want)):
		oauthError(w, 401, "invalid_client",
			"AADSTS700213: No matching federated identity record found for presented assertion subject.\r\nTrace ID: 0\r\n")
	default:
		writeJSON(w, map[string]interface{}{
			"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
			"access_token": a.entra.issue("eyJ0eXAiOiJKV1QifQ.entra-"),
		})
	}
}

func acrError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"errors":[{"code":"UNAUTHORIZED","message":%q}]}`, msg)
}

func (a *azureFake) exchange(w http.ResponseWriter, r *http.Request) {
	if a.ctl.fault("exchange", w, r) || !postForm(w, r) {
		return
	}
	f := r.PostForm
	switch {
	case f.Get("grant_type") != "access_token":
		acrError(w, 400, "grant_type must be access_token")
	case f.Get("service") != hostOnly(r.Host):
		acrError(w, 400, "service is not this registry")
	case f.Get("tenant") != a.tenant:
		acrError(w, 401, "tenant mismatch")
	case !a.entra.has(f.Get("access_token")):
		acrError(w, 401, "the access token is not valid")
	default:
		exp := time.Now().Add(3 * time.Hour)
		if a.ctl.get("exchange") == "expired" {
			exp = time.Now().Add(-time.Minute)
		}
		tok, err := a.mint.jwt(map[string]interface{}{
			"jti": fmt.Sprintf("%d", time.Now().UnixNano()), "sub": a.clientID,
			"grant_type": "refresh_token", "aud": f.Get("service"), "tenant": a.tenant,
			"exp": exp.Unix(), "iat": time.Now().Unix(),
		})
		if err != nil {
			w.WriteHeader(500)
			return
		}
		a.refresh.add(tok)
		writeJSON(w, map[string]string{"refresh_token": tok})
	}
}

func (a *azureFake) acrToken(w http.ResponseWriter, r *http.Request) {
	if a.ctl.fault("acrtoken", w, r) || !postForm(w, r) {
		return
	}
	f := r.PostForm
	if f.Get("grant_type") != "refresh_token" || !a.refresh.has(f.Get("refresh_token")) ||
		f.Get("service") != hostOnly(r.Host) {
		acrError(w, 401, "the refresh token is not valid for this registry")
		return
	}
	tok, err := a.mint.registryToken(a.clientID, f.Get("service"), f["scope"])
	if err != nil {
		acrError(w, 400, err.Error())
		return
	}
	writeJSON(w, map[string]string{"access_token": tok})
}
