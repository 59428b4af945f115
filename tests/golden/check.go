// Golden-case checker: runs `imagebuilder-webhook review` on every case under
// tests/golden, compares the answer byte for byte with response.json, checks
// the answer the way kube-apiserver validates it, checks the case's `expect`
// lines, applies the patch with evanphx/json-patch (the library kube-apiserver
// uses) and sends the patched pod again: the second answer must be allowed
// with no patch. With --fail-on-deny, `review` prints the same answer and
// exits 3 exactly when it denies.
//
// Usage: golden-check [-update] [-patched DIR] BIN GOLDEN_DIR
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"imagebuilder-webhook/tests/internal/testkit"
)

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

func checkExpect(dir string, out []byte, r *testkit.Response, ops []map[string]interface{}) []string {
	f, err := os.Open(filepath.Join(dir, "expect"))
	if err != nil {
		return []string{"no expect file"}
	}
	defer f.Close()
	var errs []string
	outcome := r.Outcome()
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

// checkFailOnDeny: `review --fail-on-deny` answers as `review` does, and exits 3
// for a denial, 0 otherwise.
func checkFailOnDeny(bin, cfg, input string, want []byte, r *testkit.Response) []string {
	cmd := exec.Command(bin, "review", "--fail-on-deny", "--config", cfg, input)
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		return []string{"review --fail-on-deny: " + err.Error()}
	}
	wantCode := 0
	if r.Allowed != nil && !*r.Allowed {
		wantCode = 3
	}
	var errs []string
	if code != wantCode {
		errs = append(errs, fmt.Sprintf("review --fail-on-deny exited %d, want %d", code, wantCode))
	}
	if !bytes.Equal(out, want) {
		errs = append(errs, "review --fail-on-deny printed another answer: "+string(out))
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
	req, err := testkit.DecodeRequest(reqBytes)
	if err != nil {
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
	r, verrs := testkit.Validate(req, out)
	errs = append(errs, verrs...)
	if r == nil {
		return errs
	}
	errs = append(errs, checkFailOnDeny(bin, cfg, input, out, r)...)
	raw, ops, err := r.PatchJSON()
	if err != nil {
		return append(errs, err.Error())
	}
	errs = append(errs, checkExpect(dir, out, r, ops)...)
	if raw == nil {
		return errs
	}
	patched, err := testkit.ApplyPatch(req.Object, raw)
	if err != nil {
		return append(errs, err.Error())
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
	r2, verrs := testkit.Validate(req, out2)
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
	t := testkit.Tally{Area: "golden"}
	for _, n := range names {
		if errs := checkCase(bin, filepath.Join(root, n), *update, *patched); len(errs) > 0 {
			t.Failed(n, errs...)
		} else {
			t.OK(n)
		}
	}
	t.Finish()
}
