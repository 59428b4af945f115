// The cases of the certgen tests, by group: the Secret's life, conflicts
// with other writers, API failures, the webhook configuration's caBundle,
// locating the API (in-cluster, kubeconfig).
package main

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func (e *env) stored() (tlsData, error) { return decodeSecret(e.api.secret(ns, secretName)) }

func meta(o map[string]interface{}, key string) interface{} {
	m, _ := o["metadata"].(map[string]interface{})
	return m[key]
}

// ---- the Secret --------------------------------------------------------------------

func secretCases(e *env) {
	e.api.reset()
	r := e.run()
	d, err := e.stored()
	w := e.api.writes()
	e.t.Check("absent: the Secret is created (one POST, JSON, with a field manager)", all(succeeded(r, "created"), err,
		func() error {
			if len(w) != 1 || w[0].Method != http.MethodPost || w[0].Path != "/api/v1/namespaces/"+ns+"/secrets" ||
				w[0].ContentType != "application/json" || w[0].Query != "fieldManager=imagebuilder-webhook-certgen" {
				return fmt.Errorf("writes:\n%s(query %q)", verbs(w), w[0].Query)
			}
			return nil
		}()))
	if err == nil {
		e.t.Check("absent: the certificate names the Service, the CA signed it, the key matches, CA ~10 years, leaf ~1 year", verifyIssued(d))
	}
	before := e.api.secret(ns, secretName)
	e.api.clearLog()
	r = e.run()
	e.t.Check("present and valid: a second run changes nothing (no PUT)", all(succeeded(r, "kept"), noWrites(e.api),
		func() error {
			if meta(e.api.secret(ns, secretName), "resourceVersion") != meta(before, "resourceVersion") {
				return fmt.Errorf("the Secret changed")
			}
			return nil
		}()))

	e.api.reset()
	e.api.putSecret(ns, secretName, "kubernetes.io/tls", makePair(names, time.Now().Add(200*day)))
	e.t.Check("present and valid, made by another tool: kept", all(succeeded(e.run(), "kept"), noWrites(e.api)))

	renewals := []struct {
		name string
		data map[string][]byte
		why  string
	}{
		{"expiring in 10 days", makePair(names, time.Now().Add(10*day)), "within 30 days"},
		{"expired", makePair(names, time.Now().Add(-day)), "within 30 days"},
		{"naming another Service", makePair([]string{"other", "other." + ns + ".svc"}, time.Now().Add(200*day)), "does not name " + svc},
		{"without ca.crt", without(makePair(names, time.Now().Add(200*day)), "ca.crt"), "no ca.crt"},
		{"with a tls.crt that is not a certificate", with(makePair(names, time.Now().Add(200*day)), "tls.crt", []byte("junk")), "tls.crt is not a PEM certificate"},
		{"with another certificate's key", with(makePair(names, time.Now().Add(200*day)), "tls.key", makePair(names, time.Now().Add(200*day))["tls.key"]), "tls.key is not the key of tls.crt"},
		{"with a CA that did not sign it", with(makePair(names, time.Now().Add(200*day)), "ca.crt", makePair(names, time.Now().Add(200*day))["ca.crt"]), "ca.crt did not issue tls.crt"},
	}
	for _, c := range renewals {
		e.api.reset()
		e.api.putSecret(ns, secretName, "kubernetes.io/tls", c.data)
		old := e.api.secret(ns, secretName)
		r := e.run()
		d, err := e.stored()
		cur := e.api.secret(ns, secretName)
		w := e.api.writes()
		e.t.Check("present, "+c.name+": renewed by one PUT keeping the Secret's metadata", all(succeeded(r, "renewed"),
			succeeded(r, c.why), err, func() error {
				if len(w) != 1 || w[0].Method != http.MethodPut || w[0].Path != "/api/v1/namespaces/"+ns+"/secrets/"+secretName {
					return fmt.Errorf("writes:\n%s", verbs(w))
				}
				if meta(cur, "uid") != meta(old, "uid") || fmt.Sprint(meta(cur, "labels")) != fmt.Sprint(meta(old, "labels")) {
					return fmt.Errorf("metadata not kept: %v -> %v", old["metadata"], cur["metadata"])
				}
				return nil
			}()))
		if err == nil {
			e.t.Check("present, "+c.name+": the new certificate is right", verifyIssued(d))
		}
	}

	e.api.reset()
	e.api.putSecret(ns, secretName, "Opaque", makePair(names, time.Now().Add(10*day)))
	e.t.Check("a Secret of another type: a clear error, nothing written",
		all(failedWith(e.run(), `type "Opaque"`, "delete it"), noWrites(e.api)))
}

func without(m map[string][]byte, k string) map[string][]byte {
	delete(m, k)
	return m
}

func with(m map[string][]byte, k string, v []byte) map[string][]byte {
	m[k] = v
	return m
}

// ---- other writers ------------------------------------------------------------------

func conflictCases(e *env) {
	other := func(days time.Duration) func(*fakeAPI) {
		return func(f *fakeAPI) {
			f.putSecret(ns, secretName, "kubernetes.io/tls", makePair(names, time.Now().Add(days*day)))
		}
	}
	e.api.reset()
	e.api.addFault(fault{Verb: "create secret", Before: other(200)})
	r := e.run()
	e.t.Check("create answered 409 AlreadyExists: read again, the other writer's valid Secret kept",
		all(succeeded(r, "kept"), expectVerbs(e.api, "GET secret", "POST secrets", "GET secret"),
			func() error {
				if fmt.Sprint(meta(e.api.secret(ns, secretName), "labels")) != "map[owner:someone-else]" {
					return fmt.Errorf("the other writer's Secret was replaced")
				}
				return nil
			}()))

	e.api.reset()
	e.api.addFault(fault{Verb: "create secret", Before: other(5)})
	r = e.run()
	_, err := e.stored()
	e.t.Check("create answered 409, the other writer's Secret expiring: read again and renewed",
		all(succeeded(r, "renewed"), err, expectVerbs(e.api, "GET secret", "POST secrets", "GET secret", "PUT secret")))

	e.api.reset()
	other(5)(e.api)
	e.api.addFault(fault{Verb: "update secret", Before: other(5)})
	r = e.run()
	d, err := e.stored()
	e.t.Check("update answered 409 Conflict (resourceVersion moved): read again, updated",
		all(succeeded(r, "renewed"), err, expectVerbs(e.api, "GET secret", "PUT secret", "GET secret", "PUT secret")))
	if err == nil {
		e.t.Check("update after a conflict: the certificate is right", verifyIssued(d))
	}

	e.api.reset()
	other(5)(e.api)
	for i := 0; i < 3; i++ {
		e.api.addFault(fault{Verb: "update secret", Before: other(5)})
	}
	e.t.Check("update answered 409 three times: a clear error after three attempts",
		all(failedWith(e.run(), "3 attempts", "409"), expectVerbs(e.api, "GET secret", "PUT secret", "GET secret",
			"PUT secret", "GET secret", "PUT secret")))
}

// expectVerbs: the requests were exactly these ("GET secret", "POST secrets",
// "PUT secret", "GET mwc", "PATCH mwc").
func expectVerbs(api *fakeAPI, want ...string) error {
	var got []string
	for _, r := range api.requests() {
		kind := "secret"
		if strings.HasPrefix(r.Path, mwcPrefix) {
			kind = "mwc"
		} else if strings.HasSuffix(r.Path, "/secrets") {
			kind = "secrets"
		}
		got = append(got, r.Method+" "+kind)
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		return fmt.Errorf("requests: %s\nwant:     %s", strings.Join(got, ", "), strings.Join(want, ", "))
	}
	return nil
}

// ---- API failures ---------------------------------------------------------------------

func failureCases(e *env) {
	for _, c := range []struct {
		verb string
		code int
		want []string
	}{
		{"get secret", 403, []string{"get Secret " + ns + "/" + secretName, "HTTP 403", "injected 403", "Role"}},
		{"create secret", 403, []string{"create Secret", "HTTP 403", "injected 403"}},
		{"get secret", 500, []string{"get Secret", "HTTP 500", "injected 500"}},
		{"create secret", 503, []string{"create Secret", "HTTP 503"}},
	} {
		e.api.reset()
		e.api.addFault(fault{Verb: c.verb, Status: c.code})
		r := e.run()
		e.t.Check(fmt.Sprintf("%d on %s: one clear error line, exit 1, nothing stored", c.code, c.verb),
			all(failedWith(r, c.want...), func() error {
				if e.api.secret(ns, secretName) != nil {
					return fmt.Errorf("a Secret was stored")
				}
				return nil
			}()))
	}

	for _, verb := range []string{"get secret", "create secret"} {
		e.api.reset()
		e.api.addFault(fault{Verb: verb, Hang: true})
		r := e.run("--timeout-ms", "500")
		e.t.Check("an API that hangs on "+verb+": ends after --timeout-ms with a clear error", all(failedWith(r, "timed out"),
			func() error {
				if r.elapsed < 450*time.Millisecond || r.elapsed > 5*time.Second {
					return fmt.Errorf("took %v for a 500 ms bound", r.elapsed)
				}
				return nil
			}()))
	}

	e.api.reset()
	bad := filepath.Join(e.work, "bad-token")
	_ = os.WriteFile(bad, []byte("not-the-token"), 0o600)
	e.t.Check("a token the API refuses (401): a clear error", failedWith(e.run("--token-file", bad), "HTTP 401", "token was not accepted"))

	e.t.Check("no API server listening: a clear error", failedWith(e.run("--api-server", "https://127.0.0.1:1"), "API server https://127.0.0.1:1"))

	other := filepath.Join(e.work, "other-ca.crt")
	_ = os.WriteFile(other, makePair(names, time.Now().Add(day))["ca.crt"], 0o644)
	e.t.Check("an API server whose certificate the CA file does not vouch for: refused", all(failedWith(e.run("--ca-file", other), "API server"), noWrites(e.api)))
	e.t.Check("a token file that does not exist: a clear error", failedWith(e.run("--token-file", filepath.Join(e.work, "none")), "none: cannot open"))
}

// ---- the webhook configuration ---------------------------------------------------------

func mwcObject(bundles ...string) map[string]interface{} {
	var whs []interface{}
	for i, b := range bundles {
		cc := map[string]interface{}{"service": map[string]interface{}{"name": svc, "namespace": ns, "path": "/mutate", "port": 443.0}}
		if b != "" {
			cc["caBundle"] = b
		}
		whs = append(whs, map[string]interface{}{"name": fmt.Sprintf("w%d.imagebuilder.union.ai", i), "clientConfig": cc,
			"sideEffects": "None", "admissionReviewVersions": []interface{}{"v1"}})
	}
	return map[string]interface{}{"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
		"metadata": map[string]interface{}{"name": mwcName}, "webhooks": whs}
}

// bundlesAre: every webhook's caBundle is the Secret's ca.crt, the rest as it was.
func (e *env) bundlesAre(n int) error {
	d, err := e.stored()
	if err != nil {
		return err
	}
	want := base64.StdEncoding.EncodeToString(d.caPEM)
	whs, _ := e.api.mwc(mwcName)["webhooks"].([]interface{})
	if len(whs) != n {
		return fmt.Errorf("%d webhooks, want %d", len(whs), n)
	}
	for i, w := range whs {
		cc := w.(map[string]interface{})["clientConfig"].(map[string]interface{})
		if cc["caBundle"] != want {
			return fmt.Errorf("webhook %d: caBundle is not the Secret's ca.crt", i)
		}
		if s, _ := cc["service"].(map[string]interface{}); s["name"] != svc || s["path"] != "/mutate" {
			return fmt.Errorf("webhook %d: its service reference changed: %v", i, cc)
		}
	}
	return nil
}

func webhookCases(e *env) {
	e.api.reset()
	e.api.putMWC(mwcObject(base64.StdEncoding.EncodeToString([]byte("an old CA")), ""))
	r := e.run("--webhook-configuration", mwcName)
	w := e.api.writes()
	e.t.Check("caBundle: both webhooks patched to the Secret's ca.crt by one JSON Patch",
		all(succeeded(r, "caBundle written to 2 of 2 webhooks"), e.bundlesAre(2), func() error {
			if len(w) != 2 || w[1].Method != http.MethodPatch || w[1].ContentType != "application/json-patch+json" ||
				w[1].Path != mwcPrefix+mwcName {
				return fmt.Errorf("writes:\n%s", verbs(w))
			}
			return nil
		}()))
	e.t.Check("caBundle already current: no PATCH, no write at all", func() error {
		e.api.reset()
		if err := succeeded(e.run(), "created"); err != nil {
			return err
		}
		d, _ := e.stored()
		e.api.putMWC(mwcObject(base64.StdEncoding.EncodeToString(d.caPEM)))
		before := e.api.requests()
		r := e.run("--webhook-configuration", mwcName)
		after := e.api.requests()[len(before):]
		if err := succeeded(r, "unchanged"); err != nil {
			return err
		}
		for _, q := range after {
			if q.Method != http.MethodGet {
				return fmt.Errorf("a write: %s %s", q.Method, q.Path)
			}
		}
		return nil
	}())
	d, _ := e.stored()
	e.api.putMWC(mwcObject(base64.StdEncoding.EncodeToString(d.caPEM), "c3RhbGU="))
	e.t.Check("one webhook stale: only it is patched", all(succeeded(e.run("--webhook-configuration", mwcName), "written to 1 of 2"), e.bundlesAre(2)))

	e.api.putMWC(mwcObject("c3RhbGU=", "c3RhbGU="))
	e.api.addFault(fault{Verb: "patch mwc", Before: func(f *fakeAPI) {
		m := f.mwc(mwcName)
		whs := m["webhooks"].([]interface{})
		m["webhooks"] = append(append([]interface{}{}, whs[1], whs[0]), mwcObject("c3RhbGU=", "c3RhbGU=", "")["webhooks"].([]interface{})[2])
		f.putMWC(m)
	}})
	r = e.run("--webhook-configuration", mwcName)
	e.t.Check("the webhooks moved under the patch (its test fails, 422): read again, patched",
		all(succeeded(r, "written to 3 of 3"), e.bundlesAre(3)))

	e.api.reset()
	e.t.Check("no such webhook configuration: a clear error (the Secret is made first)",
		all(failedWith(e.run("--webhook-configuration", mwcName), "MutatingWebhookConfiguration "+mwcName, "HTTP 404"),
			func() error { _, err := e.stored(); return err }()))
	e.api.putMWC(mwcObject("c3RhbGU="))
	e.api.addFault(fault{Verb: "patch mwc", Status: 403})
	e.t.Check("403 on the patch: a clear error", failedWith(e.run("--webhook-configuration", mwcName), "patch MutatingWebhookConfiguration", "HTTP 403"))
	e.api.addFault(fault{Verb: "patch mwc", Hang: true})
	r = e.run("--webhook-configuration", mwcName, "--timeout-ms", "500")
	e.t.Check("a patch that hangs: ends after --timeout-ms", all(failedWith(r, "timed out"), func() error {
		if r.elapsed > 5*time.Second {
			return fmt.Errorf("took %v", r.elapsed)
		}
		return nil
	}()))
	e.api.putMWC(map[string]interface{}{"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
		"metadata": map[string]interface{}{"name": mwcName}})
	e.t.Check("a webhook configuration without webhooks: a clear error", failedWith(e.run("--webhook-configuration", mwcName), "has no webhooks"))
}

// ---- locating the API ---------------------------------------------------------------------

func locateCases(e *env) {
	host, port, _ := strings.Cut(strings.TrimPrefix(e.url, "https://"), ":")
	base := []string{"certgen", "--namespace", ns, "--secret", secretName, "--service", svc}
	e.api.reset()
	r := e.exec([]string{"KUBERNETES_SERVICE_HOST=" + host, "KUBERNETES_SERVICE_PORT=" + port},
		append(base, "--token-file", e.tokenFile, "--ca-file", e.caFile)...)
	e.t.Check("in a cluster: KUBERNETES_SERVICE_HOST/PORT with the service account's token and CA",
		all(succeeded(r, "created"), func() error { _, err := e.stored(); return err }()))
	r = e.exec([]string{}, append(base, "--token-file", e.tokenFile, "--ca-file", e.caFile)...)
	e.t.Check("outside a cluster without --kubeconfig or --api-server: a clear error", failedWith(r, "KUBERNETES_SERVICE_HOST is not set"))

	kc := filepath.Join(e.work, "kubeconfig")
	text := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: certgen
  user:
    token: %s
contexts:
- name: fake
  context: {cluster: fake, user: certgen}
current-context: fake
`, e.url, base64.StdEncoding.EncodeToString(e.caPEM), token)
	_ = os.WriteFile(kc, []byte(text), 0o600)
	e.api.reset()
	e.api.putMWC(mwcObject(""))
	r = e.exec([]string{}, append(base, "--kubeconfig", kc, "--webhook-configuration", mwcName)...)
	e.t.Check("--kubeconfig: its server, CA and token", all(succeeded(r, "written to 1 of 1"), e.bundlesAre(1)))
}
