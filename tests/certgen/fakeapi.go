// A fake Kubernetes API for certgen, over TLS on loopback: Secrets (get,
// create, update) and MutatingWebhookConfigurations (get, JSON Patch) as
// the API server serves them: bearer tokens, resourceVersion checks on
// update (409 Conflict), 409 AlreadyExists on create, Status objects as
// error bodies, immutable Secret types (422), JSON Patch applied with
// evanphx/json-patch (the library kube-apiserver uses; a failed `test` is
// 422). Faults can be queued per verb: a status answer, a hang, or a hook
// run before the request is served (another writer racing certgen).
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"

	jsonpatch "github.com/evanphx/json-patch"
)

const (
	secretsPrefix = "/api/v1/namespaces/"
	mwcPrefix     = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/"
)

type obj = map[string]interface{}

// record is one request the fake served.
type record struct {
	Method, Path, Query, ContentType, Auth string
	Body                                   []byte
}

// fault: what the next matching request gets instead of (or before) the
// normal answer. Verb is "get secret", "create secret", "update secret",
// "get mwc" or "patch mwc".
type fault struct {
	Verb   string
	Status int            // answer this status with a Status body (0: no)
	Hang   bool           // never answer (until the client goes away)
	Before func(*fakeAPI) // run first, then serve normally (Status 0, Hang false)
}

type fakeAPI struct {
	mu      sync.Mutex
	token   string
	secrets map[string]obj // "ns/name"
	mwcs    map[string]obj
	rv      int
	log     []record
	faults  []fault
	release chan struct{} // closed at the end: hanging handlers return
	srv     *httptest.Server
}

func newFakeAPI(token string) *fakeAPI {
	return &fakeAPI{token: token, secrets: map[string]obj{}, mwcs: map[string]obj{}, release: make(chan struct{})}
}

// reset empties the objects, the log and the faults.
func (f *fakeAPI) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.secrets, f.mwcs, f.log, f.faults = map[string]obj{}, map[string]obj{}, nil, nil
}

// clearLog forgets the requests served so far.
func (f *fakeAPI) clearLog() {
	f.mu.Lock()
	f.log = nil
	f.mu.Unlock()
}

func (f *fakeAPI) addFault(fl fault) {
	f.mu.Lock()
	f.faults = append(f.faults, fl)
	f.mu.Unlock()
}

func (f *fakeAPI) requests() []record {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]record(nil), f.log...)
}

// writes: the requests that would change something.
func (f *fakeAPI) writes() []record {
	var out []record
	for _, r := range f.requests() {
		if r.Method != http.MethodGet {
			out = append(out, r)
		}
	}
	return out
}

// nextRV stamps o with a new resourceVersion (under mu).
func (f *fakeAPI) nextRV(o obj) {
	f.rv++
	meta, _ := o["metadata"].(obj)
	if meta == nil {
		meta = obj{}
		o["metadata"] = meta
	}
	meta["resourceVersion"] = strconv.Itoa(f.rv)
}

// putSecret stores a Secret as if another client had written it.
func (f *fakeAPI) putSecret(ns, name string, typ string, data map[string][]byte) {
	d := obj{}
	for k, v := range data {
		d[k] = base64.StdEncoding.EncodeToString(v)
	}
	o := obj{"apiVersion": "v1", "kind": "Secret", "type": typ, "data": d,
		"metadata": obj{"name": name, "namespace": ns, "uid": "uid-" + name, "labels": obj{"owner": "someone-else"}}}
	f.mu.Lock()
	f.nextRV(o)
	f.secrets[ns+"/"+name] = o
	f.mu.Unlock()
}

func (f *fakeAPI) secret(ns, name string) obj {
	f.mu.Lock()
	defer f.mu.Unlock()
	return clone(f.secrets[ns+"/"+name])
}

func (f *fakeAPI) putMWC(o obj) {
	f.mu.Lock()
	f.nextRV(o)
	f.mwcs[o["metadata"].(obj)["name"].(string)] = o
	f.mu.Unlock()
}

func (f *fakeAPI) mwc(name string) obj {
	f.mu.Lock()
	defer f.mu.Unlock()
	return clone(f.mwcs[name])
}

func clone(o obj) obj {
	if o == nil {
		return nil
	}
	b, _ := json.Marshal(o)
	var c obj
	_ = json.Unmarshal(b, &c)
	return c
}

// status writes a Status object, as the API server answers errors.
func status(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(obj{"kind": "Status", "apiVersion": "v1", "metadata": obj{},
		"status": "Failure", "message": msg, "reason": reason, "code": code})
}

func reply(w http.ResponseWriter, code int, o obj) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(o)
}

var reasons = map[int]string{400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
	409: "Conflict", 422: "Invalid", 500: "InternalError", 503: "ServiceUnavailable"}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	f.mu.Lock()
	f.log = append(f.log, record{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), body})
	f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		status(w, 401, "Unauthorized", "Unauthorized")
		return
	}
	verb, ns, name, ok := route(r)
	if !ok {
		status(w, 404, "NotFound", "the server could not find the requested resource")
		return
	}
	if fl, found := f.takeFault(verb); found {
		switch {
		case fl.Hang:
			select {
			case <-r.Context().Done():
			case <-f.release:
			}
			return
		case fl.Status != 0:
			status(w, fl.Status, reasons[fl.Status], fmt.Sprintf("injected %d for %s", fl.Status, verb))
			return
		case fl.Before != nil:
			fl.Before(f)
		}
	}
	switch verb {
	case "get secret":
		f.getObj(w, f.secrets, ns+"/"+name, "secrets", name)
	case "create secret":
		f.createSecret(w, ns, body)
	case "update secret":
		f.updateSecret(w, ns, name, body)
	case "get mwc":
		f.getObj(w, f.mwcs, name, "mutatingwebhookconfigurations.admissionregistration.k8s.io", name)
	case "patch mwc":
		f.patchMWC(w, r, name, body)
	}
}

// route: the verb and object a request is about.
func route(r *http.Request) (verb, ns, name string, ok bool) {
	if strings.HasPrefix(r.URL.Path, mwcPrefix) {
		rest := strings.TrimPrefix(r.URL.Path, mwcPrefix)
		if rest == "" || strings.Contains(rest, "/") {
			return "", "", "", false
		}
		switch r.Method {
		case http.MethodGet:
			return "get mwc", "", rest, true
		case http.MethodPatch:
			return "patch mwc", "", rest, true
		}
		return "", "", "", false
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, secretsPrefix), "/")
	if !strings.HasPrefix(r.URL.Path, secretsPrefix) || len(parts) < 2 || parts[1] != "secrets" {
		return "", "", "", false
	}
	switch {
	case len(parts) == 2 && r.Method == http.MethodPost:
		return "create secret", parts[0], "", true
	case len(parts) == 3 && r.Method == http.MethodGet:
		return "get secret", parts[0], parts[2], true
	case len(parts) == 3 && r.Method == http.MethodPut:
		return "update secret", parts[0], parts[2], true
	}
	return "", "", "", false
}

func (f *fakeAPI) takeFault(verb string) (fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, fl := range f.faults {
		if fl.Verb == verb {
			f.faults = append(f.faults[:i], f.faults[i+1:]...)
			return fl, true
		}
	}
	return fault{}, false
}

func (f *fakeAPI) getObj(w http.ResponseWriter, m map[string]obj, key, resource, name string) {
	f.mu.Lock()
	o := clone(m[key])
	f.mu.Unlock()
	if o == nil {
		status(w, 404, "NotFound", fmt.Sprintf("%s %q not found", resource, name))
		return
	}
	reply(w, 200, o)
}

// checkSecret: what validation of a Secret the fake does (the data must be base64).
func checkSecret(o obj) string {
	data, _ := o["data"].(obj)
	for k, v := range data {
		s, isStr := v.(string)
		if _, err := base64.StdEncoding.DecodeString(s); !isStr || err != nil {
			return fmt.Sprintf("data[%s]: not base64", k)
		}
	}
	return ""
}

func (f *fakeAPI) createSecret(w http.ResponseWriter, ns string, body []byte) {
	var o obj
	if json.Unmarshal(body, &o) != nil || o["kind"] != "Secret" || o["apiVersion"] != "v1" {
		status(w, 400, "BadRequest", "the body is not a v1 Secret")
		return
	}
	meta, _ := o["metadata"].(obj)
	name, _ := meta["name"].(string)
	if meta == nil || name == "" || (meta["namespace"] != nil && meta["namespace"] != ns) {
		status(w, 400, "BadRequest", "metadata.name missing or namespace differs from the URL")
		return
	}
	if why := checkSecret(o); why != "" {
		status(w, 422, "Invalid", why)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.secrets[ns+"/"+name] != nil {
		status(w, 409, "AlreadyExists", fmt.Sprintf("secrets %q already exists", name))
		return
	}
	meta["namespace"], meta["uid"] = ns, "uid-"+name
	f.nextRV(o)
	f.secrets[ns+"/"+name] = o
	reply(w, 201, clone(o))
}

func (f *fakeAPI) updateSecret(w http.ResponseWriter, ns, name string, body []byte) {
	var o obj
	if json.Unmarshal(body, &o) != nil {
		status(w, 400, "BadRequest", "the body is not JSON")
		return
	}
	meta, _ := o["metadata"].(obj)
	if meta == nil || meta["name"] != name {
		status(w, 400, "BadRequest", "the name in the body does not match the URL")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cur := f.secrets[ns+"/"+name]
	if cur == nil {
		status(w, 404, "NotFound", fmt.Sprintf("secrets %q not found", name))
		return
	}
	curMeta := cur["metadata"].(obj)
	if rv, _ := meta["resourceVersion"].(string); rv != "" && rv != curMeta["resourceVersion"] {
		status(w, 409, "Conflict", fmt.Sprintf("Operation cannot be fulfilled on secrets %q: the object has been modified; please apply your changes to the latest version and try again", name))
		return
	}
	if o["type"] != cur["type"] {
		status(w, 422, "Invalid", fmt.Sprintf("Secret %q is invalid: type: Invalid value: field is immutable", name))
		return
	}
	if why := checkSecret(o); why != "" {
		status(w, 422, "Invalid", why)
		return
	}
	f.nextRV(o)
	f.secrets[ns+"/"+name] = o
	reply(w, 200, clone(o))
}

func (f *fakeAPI) patchMWC(w http.ResponseWriter, r *http.Request, name string, body []byte) {
	if ct := r.Header.Get("Content-Type"); ct != "application/json-patch+json" {
		status(w, 415, "UnsupportedMediaType", "unsupported patch type "+ct)
		return
	}
	patch, err := jsonpatch.DecodePatch(body)
	if err != nil {
		status(w, 400, "BadRequest", err.Error())
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cur := f.mwcs[name]
	if cur == nil {
		status(w, 404, "NotFound", fmt.Sprintf("mutatingwebhookconfigurations.admissionregistration.k8s.io %q not found", name))
		return
	}
	doc, _ := json.Marshal(cur)
	out, err := patch.Apply(doc)
	if err != nil {
		status(w, 422, "Invalid", err.Error())
		return
	}
	var o obj
	if json.Unmarshal(out, &o) != nil {
		status(w, 500, "InternalError", "patched object is not JSON")
		return
	}
	f.nextRV(o)
	f.mwcs[name] = o
	reply(w, 200, clone(o))
}
