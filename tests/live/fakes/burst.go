// burst: many admission reviews at once, sent the way kube-apiserver sends
// them (Go net/http, HTTP/1.1 keep-alive, ?timeout=), each on a
// connection of its own that is opened (and its TLS handshake done) before
// the burst, so that what is timed is the webhook's answer alone.
//
//	fakes burst -url https://127.0.0.1:PORT/mutate?timeout=10s -ca CA -n 100 -name NAME
//
// Review k asks for ImageSpec "<NAME>-k" (-same: every review the same
// image). Prints one summary line the test script judges:
//
//	answers=N allowed=N builds=N warned=N invalid=N errors=N max_ms=M
//
// then each distinct warning once ("warning: ..."), then "error: ..." for
// the first few failures.
package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"imagebuilder-webhook/tests/internal/testkit"
)

type burstResult struct {
	ms       int64
	allowed  bool
	build    bool
	warnings []string
	invalid  []string
	err      error
}

func burstReview(name, uid string) []byte {
	spec, _ := json.Marshal(map[string]string{"name": name, "builder": "union"})
	review := map[string]interface{}{
		"apiVersion": "admission.k8s.io/v1",
		"kind":       "AdmissionReview",
		"request": map[string]interface{}{
			"uid":       uid,
			"kind":      map[string]string{"group": "", "version": "v1", "kind": "Pod"},
			"resource":  map[string]string{"group": "", "version": "v1", "resource": "pods"},
			"operation": "CREATE",
			"namespace": "t",
			"dryRun":    true,
			"object": map[string]interface{}{
				"metadata": map[string]interface{}{
					"name":        "p-" + uid,
					"labels":      map[string]string{"imagebuilder.union.ai/builder": "union"},
					"annotations": map[string]string{"imagebuilder.union.ai/image-spec": string(spec)},
				},
				"spec": map[string]interface{}{
					"containers": []map[string]string{{"name": "main", "image": name + ":t1"}},
				},
			},
		},
	}
	b, _ := json.Marshal(review)
	return b
}

// oneClient is a client with a single keep-alive connection, opened now.
func oneClient(u *url.URL, cfg *tls.Config) (*http.Client, error) {
	t := &http.Transport{
		TLSClientConfig:     cfg,
		MaxConnsPerHost:     1,
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     time.Minute,
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	c := &http.Client{Transport: t, Timeout: 30 * time.Second}
	resp, err := c.Get(u.Scheme + "://" + u.Host + "/healthz")
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return c, nil
}

func burstOne(c *http.Client, target string, body []byte, start <-chan struct{}) burstResult {
	req, err := testkit.DecodeRequest(body)
	if err != nil {
		return burstResult{err: err}
	}
	<-start
	t0 := time.Now()
	resp, err := c.Post(target, "application/json", bytes.NewReader(body))
	if err != nil {
		return burstResult{err: err, ms: time.Since(t0).Milliseconds()}
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	r := burstResult{ms: time.Since(t0).Milliseconds(), err: err}
	if err != nil {
		return r
	}
	if resp.StatusCode != 200 {
		r.err = fmt.Errorf("HTTP %d: %s", resp.StatusCode, raw)
		return r
	}
	a, problems := testkit.Validate(req, raw)
	r.invalid = problems
	if a == nil {
		return r
	}
	r.allowed = a.Allowed != nil && *a.Allowed
	r.warnings = a.Warnings
	patch, _, _ := a.PatchJSON()
	r.build = bytes.Contains(patch, []byte(`"name":"build-image"`))
	return r
}

func burst(target, ca, name string, n int, same bool) {
	u, err := url.Parse(target)
	if err != nil {
		log.Fatal(err)
	}
	pool, err := testkit.LoadPool(ca)
	if err != nil {
		log.Fatal(err)
	}
	cfg := &tls.Config{RootCAs: pool, NextProtos: []string{"http/1.1"}}
	clients := make([]*http.Client, n)
	for i := range clients {
		if clients[i], err = oneClient(u, cfg); err != nil {
			log.Fatalf("connection %d: %v", i, err)
		}
	}
	start := make(chan struct{})
	results := make([]burstResult, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		img := fmt.Sprintf("%s-%d", name, i)
		if same {
			img = name
		}
		wg.Add(1)
		go func(i int, body []byte) {
			defer wg.Done()
			results[i] = burstOne(clients[i], target, body, start)
		}(i, burstReview(img, fmt.Sprintf("burst-%d", i)))
	}
	close(start)
	wg.Wait()
	report(results)
}

func report(results []burstResult) {
	var answers, allowed, builds, warned, invalid, errs int
	var maxMs int64
	seen := map[string]bool{}
	var warnings, failures []string
	for _, r := range results {
		if r.ms > maxMs {
			maxMs = r.ms
		}
		if r.err != nil {
			errs++
			failures = append(failures, r.err.Error())
			continue
		}
		answers++
		if len(r.invalid) > 0 {
			invalid++
			failures = append(failures, strings.Join(r.invalid, "; "))
		}
		if r.allowed {
			allowed++
		}
		if r.build {
			builds++
		}
		if len(r.warnings) > 0 {
			warned++
		}
		for _, w := range r.warnings {
			if !seen[w] {
				seen[w] = true
				warnings = append(warnings, w)
			}
		}
	}
	fmt.Printf("answers=%d allowed=%d builds=%d warned=%d invalid=%d errors=%d max_ms=%d\n",
		answers, allowed, builds, warned, invalid, errs, maxMs)
	sort.Strings(warnings)
	for i, w := range warnings {
		if i == 5 {
			fmt.Printf("warning: ... %d more\n", len(warnings)-5)
			break
		}
		fmt.Printf("warning: %s\n", w)
	}
	for i, f := range failures {
		if i == 5 {
			break
		}
		fmt.Printf("error: %s\n", f)
	}
}
