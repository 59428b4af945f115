// Golden-case checker: runs `imagebuilder-webhook review` on every case under
// tests/golden, compares the answer byte for byte with response.json, checks
// the answer the way kube-apiserver validates it, checks the case's `expect`
// lines, applies the patch with evanphx/json-patch (the library kube-apiserver
// uses) and sends the patched pod again: the second answer must be allowed
// with no patch.
//
// Usage: golden-check [-update] [-patched DIR] BIN GOLDEN_DIR
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"

	jsonpatch "github.com/evanphx/json-patch"
)

type status struct {
	Code    *int32 `json:"code"`
	Message string `json:"message"`
}

type response struct {
	UID              string            `json:"uid"`
	Allowed          *bool             `json:"allowed"`
	Status           *status           `json:"status"`
	Patch            *string           `json:"patch"`
	PatchType        *string           `json:"patchType"`
	Warnings         []string          `json:"warnings"`
	AuditAnnotations map[string]string `json:"auditAnnotations"`
}

type review struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Request    json.RawMessage `json:"request,omitempty"`
	Response   *response       `json:"response,omitempty"`
}

var auditKey = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)

func run(bin string, args ...string) ([]byte, error) {
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %v: %s", bin, strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// validate applies kube-apiserver's checks on a mutating webhook answer.
func validate(reqAPI, uid string, out []byte) (*response, []string) {
	var errs []string
	var rv review
	dec := json.NewDecoder(bytes.NewReader(out))
	if err := dec.Decode(&rv); err != nil {
		return nil, []string{"answer is not JSON: " + err.Error()}
	}
	if rv.APIVersion != reqAPI {
		errs = append(errs, fmt.Sprintf("apiVersion %q, want %q", rv.APIVersion, reqAPI))
	}
	if rv.Kind != "AdmissionReview" {
		errs = append(errs, fmt.Sprintf("kind %q", rv.Kind))
	}
	r := rv.Response
	if r == nil {
		return nil, append(errs, "no response")
	}
	if r.UID != uid {
		errs = append(errs, fmt.Sprintf("uid %q, want %q", r.UID, uid))
	}
	if r.Allowed == nil {
		errs = append(errs, "allowed missing")
	}
	if (r.Patch != nil) != (r.PatchType != nil) {
		errs = append(errs, "patch and patchType must come together")
	}
	if r.PatchType != nil && *r.PatchType != "JSONPatch" {
		errs = append(errs, "patchType "+*r.PatchType)
	}
	if r.Allowed != nil && !*r.Allowed {
		if r.Status == nil || r.Status.Code == nil || *r.Status.Code < 400 || r.Status.Message == "" {
			errs = append(errs, "a denial needs status.code >= 400 and a message")
		} else if strings.ContainsAny(r.Status.Message, "\n\r") {
			errs = append(errs, "denial message is not one line")
		}
		if r.Patch != nil {
			errs = append(errs, "a denial carries a patch")
		}
	}
	for _, w := range r.Warnings {
		if w == "" || len(w) > 256 {
			errs = append(errs, fmt.Sprintf("warning empty or too long (%d)", len(w)))
		}
		for _, c := range w {
			if unicode.IsControl(c) {
				errs = append(errs, fmt.Sprintf("warning has a control character: %q", w))
				break
			}
		}
	}
	for k := range r.AuditAnnotations {
		if len(k) > 63 || !auditKey.MatchString(k) {
			errs = append(errs, "invalid audit annotation key "+k)
		}
	}
	return r, errs
}

func patchOf(r *response) ([]byte, []map[string]interface{}, error) {
	if r.Patch == nil {
		return nil, nil, nil
	}
	raw, err := base64.StdEncoding.DecodeString(*r.Patch)
	if err != nil {
		return nil, nil, fmt.Errorf("patch is not standard base64: %v", err)
	}
	var ops []map[string]interface{}
	if err := json.Unmarshal(raw, &ops); err != nil {
		return nil, nil, fmt.Errorf("patch is not an array of objects: %v", err)
	}
	return raw, ops, nil
}

func checkExpect(dir string, out []byte, r *response, ops []map[string]interface{}) []string {
	f, err := os.Open(filepath.Join(dir, "expect"))
	if err != nil {
		return []string{"no expect file"}
	}
	defer f.Close()
	var errs []string
	outcome := "allowed"
	if r.Allowed != nil && !*r.Allowed {
		outcome = "denied"
	} else if r.Patch != nil {
		outcome = "mutated"
	}
	var targets map[string]string
	if t, ok := r.AuditAnnotations["target-images"]; ok {
		_ = json.Unmarshal([]byte(t), &targets)
	}
	paths := map[string]bool{}
	for _, op := range ops {
		if p, ok := op["path"].(string); ok {
			paths[p] = true
		}
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, arg, _ := strings.Cut(line, " ")
		switch key {
		case "outcome":
			if outcome != arg {
				errs = append(errs, fmt.Sprintf("outcome %s, want %s", outcome, arg))
			}
		case "code":
			if r.Status == nil || r.Status.Code == nil || fmt.Sprint(*r.Status.Code) != arg {
				errs = append(errs, "status code is not "+arg)
			}
		case "message-contains":
			if r.Status == nil || !strings.Contains(r.Status.Message, arg) {
				errs = append(errs, "message does not contain "+arg)
			}
		case "warning-contains":
			found := false
			for _, w := range r.Warnings {
				found = found || strings.Contains(w, arg)
			}
			if !found {
				errs = append(errs, "no warning contains "+arg)
			}
		case "target":
			c, img, _ := strings.Cut(arg, " ")
			if targets[c] != img {
				errs = append(errs, fmt.Sprintf("target of %s is %q, want %q", c, targets[c], img))
			}
		case "builds":
			if got := r.AuditAnnotations["builds"]; got != arg {
				errs = append(errs, fmt.Sprintf("builds %q, want %s", got, arg))
			}
		case "patch-has":
			if !paths[arg] {
				errs = append(errs, "patch has no op on "+arg)
			}
		case "no-patch":
			if r.Patch != nil {
				errs = append(errs, "unexpected patch")
			}
		case "api":
			if !bytes.Contains(out, []byte(`"apiVersion":"`+arg+`"`)) {
				errs = append(errs, "answer is not in "+arg)
			}
		default:
			errs = append(errs, "unknown expect line: "+line)
		}
	}
	return errs
}

func checkCase(bin, dir string, update bool, patchedDir string) []string {
	name := filepath.Base(dir)
	cfg := filepath.Join(dir, "config.yaml")
	input := filepath.Join(dir, "review.json")
	if _, err := os.Stat(input); err != nil {
		input = filepath.Join(dir, "pod.yaml")
	}
	reqBytes, err := run(bin, "review", "--wrap-only", input)
	if err != nil {
		return []string{err.Error()}
	}
	var req struct {
		APIVersion string `json:"apiVersion"`
		Request    struct {
			UID    string          `json:"uid"`
			Object json.RawMessage `json:"object"`
		} `json:"request"`
	}
	if err := json.Unmarshal(reqBytes, &req); err != nil {
		return []string{"wrapped review: " + err.Error()}
	}
	out, err := run(bin, "review", "--config", cfg, input)
	if err != nil {
		return []string{err.Error()}
	}
	golden := filepath.Join(dir, "response.json")
	if update {
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			return []string{err.Error()}
		}
	}
	var errs []string
	want, err := os.ReadFile(golden)
	if err != nil {
		errs = append(errs, "no response.json (run make golden-update and review it)")
	} else if !bytes.Equal(want, out) {
		errs = append(errs, fmt.Sprintf("answer differs from response.json:\n got: %s\nwant: %s", out, want))
	}
	r, verrs := validate(req.APIVersion, req.Request.UID, out)
	errs = append(errs, verrs...)
	if r == nil {
		return errs
	}
	raw, ops, err := patchOf(r)
	if err != nil {
		return append(errs, err.Error())
	}
	errs = append(errs, checkExpect(dir, out, r, ops)...)
	if raw == nil {
		return errs
	}
	p, err := jsonpatch.DecodePatch(raw)
	if err != nil {
		return append(errs, "patch does not decode: "+err.Error())
	}
	patched, err := p.Apply(req.Request.Object)
	if err != nil {
		return append(errs, "patch does not apply: "+err.Error())
	}
	if patchedDir != "" {
		_ = os.MkdirAll(patchedDir, 0o755)
		_ = os.WriteFile(filepath.Join(patchedDir, name+".json"), patched, 0o644)
	}
	// Reinvocation: the patched pod must come back allowed with no patch.
	var again map[string]interface{}
	if err := json.Unmarshal(reqBytes, &again); err != nil {
		return append(errs, err.Error())
	}
	var obj interface{}
	_ = json.Unmarshal(patched, &obj)
	again["request"].(map[string]interface{})["object"] = obj
	body, _ := json.Marshal(again)
	tmp, err := os.CreateTemp("", "golden-again-*.json")
	if err != nil {
		return append(errs, err.Error())
	}
	defer os.Remove(tmp.Name())
	_, _ = tmp.Write(body)
	tmp.Close()
	out2, err := run(bin, "review", "--config", cfg, tmp.Name())
	if err != nil {
		return append(errs, err.Error())
	}
	r2, verrs := validate(req.APIVersion, req.Request.UID, out2)
	errs = append(errs, verrs...)
	if r2 != nil && (r2.Allowed == nil || !*r2.Allowed || r2.Patch != nil) {
		errs = append(errs, "the patched pod is not allowed unchanged on reinvocation: "+string(out2))
	}
	return errs
}

func main() {
	update := flag.Bool("update", false, "rewrite response.json from the current answers")
	patched := flag.String("patched", "", "write each patched pod to DIR/<case>.json")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: golden-check [-update] [-patched DIR] BIN GOLDEN_DIR")
		os.Exit(2)
	}
	bin, root := flag.Arg(0), flag.Arg(1)
	entries, err := os.ReadDir(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	pass, fail := 0, 0
	for _, n := range names {
		errs := checkCase(bin, filepath.Join(root, n), *update, *patched)
		if len(errs) == 0 {
			pass++
			fmt.Printf("ok   %s\n", n)
			continue
		}
		fail++
		fmt.Printf("FAIL %s\n", n)
		for _, e := range errs {
			fmt.Printf("     %s\n", e)
		}
	}
	fmt.Printf("golden: %d passed, %d failed\n", pass, fail)
	if fail > 0 {
		os.Exit(1)
	}
}
