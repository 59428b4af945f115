// helm-render renders a Helm chart's templates the way `helm template` does,
// for the deployment checks of this repository, where the helm binary is not
// available. It is built on Go's text/template and the sprig function library
// (which is what Helm itself uses, genCA and genSignedCert included) and adds
// Helm's own built-ins: include, tpl, required, fail, toYaml, fromYaml,
// toJson, fromJson, lookup (always empty, as with `helm template`), and the
// .Values, .Release, .Chart, .Capabilities and .Template objects.
//
// Usage:
//
//	helm-render [--release NAME] [--namespace NS] [--kube-version v1.30.0]
//	            [-f values.yaml]... [--set a.b=value]... [--notes] [--dump-values] CHART_DIR
//
// --dump-values prints the merged values as JSON (what Helm checks against
// values.schema.json) instead. Otherwise it prints one multi-document YAML stream on stdout, each document preceded
// by a "# Source:" comment. Values are merged as Helm merges them: the
// chart's values.yaml, then each -f file, then each --set.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	yaml "gopkg.in/yaml.v3"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// capabilities mirrors the part of Helm's .Capabilities templates use.
type kubeVersion struct {
	Version, Major, Minor, GitVersion string
}

func (k kubeVersion) String() string { return k.Version }

type apiVersions []string

// Has reports whether the group/version (or group/version/Kind) is known.
func (a apiVersions) Has(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

type capabilities struct {
	KubeVersion kubeVersion
	APIVersions apiVersions
	HelmVersion map[string]string
}

// The API versions a current cluster serves (what the chart may ask about).
var defaultAPIVersions = apiVersions{
	"v1", "apps/v1", "policy/v1", "rbac.authorization.k8s.io/v1",
	"admissionregistration.k8s.io/v1", "networking.k8s.io/v1",
	"autoscaling/v2", "monitoring.coreos.com/v1",
}

func die(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "helm-render: "+format+"\n", args...)
	os.Exit(1)
}

func readYAMLMap(path string) map[string]interface{} {
	b, err := os.ReadFile(path)
	if err != nil {
		die("%v", err)
	}
	m := map[string]interface{}{}
	if err := yaml.Unmarshal(b, &m); err != nil {
		die("%s: %v", path, err)
	}
	if m == nil {
		m = map[string]interface{}{}
	}
	return m
}

// mergeValues merges src into dst the way Helm coalesces values: maps are
// merged key by key, anything else is replaced; a null removes the key.
func mergeValues(dst, src map[string]interface{}) {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		sm, sok := v.(map[string]interface{})
		dm, dok := dst[k].(map[string]interface{})
		if sok && dok {
			mergeValues(dm, sm)
			continue
		}
		dst[k] = v
	}
}

// parseSetValue converts a --set value the way Helm's strvals does for the
// simple cases: true/false, null, integers, otherwise a string.
func parseSetValue(s string) interface{} {
	switch s {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	if s == "0" || !strings.HasPrefix(s, "0") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i
		}
	}
	return s
}

func applySet(vals map[string]interface{}, expr string) {
	eq := strings.IndexByte(expr, '=')
	if eq <= 0 {
		die("--set %q: expected key=value", expr)
	}
	keys := strings.Split(expr[:eq], ".")
	cur := vals
	for _, k := range keys[:len(keys)-1] {
		next, ok := cur[k].(map[string]interface{})
		if !ok {
			next = map[string]interface{}{}
			cur[k] = next
		}
		cur = next
	}
	last := keys[len(keys)-1]
	v := parseSetValue(expr[eq+1:])
	if v == nil {
		delete(cur, last)
	} else {
		cur[last] = v
	}
}

func toYAML(v interface{}) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	if err := enc.Close(); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func fromYAML(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

type renderer struct {
	tpl      *template.Template
	top      map[string]interface{}
	includes map[string]int
}

func (r *renderer) funcs() template.FuncMap {
	f := sprig.TxtFuncMap()
	// Helm removes these two for safety; so do we.
	delete(f, "env")
	delete(f, "expandenv")
	f["toYaml"] = toYAML
	f["fromYaml"] = fromYAML
	f["toJson"] = sprig.TxtFuncMap()["toJson"]
	f["fromJson"] = sprig.TxtFuncMap()["fromJson"]
	f["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return nil, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return nil, errors.New(msg)
		}
		return v, nil
	}
	f["fail"] = func(msg string) (string, error) { return "", errors.New(msg) }
	f["lookup"] = func(apiVersion, kind, namespace, name string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	f["include"] = func(name string, data interface{}) (string, error) {
		r.includes[name]++
		defer func() { r.includes[name]-- }()
		if r.includes[name] > 100 {
			return "", fmt.Errorf("include %q: too deeply nested", name)
		}
		var buf bytes.Buffer
		if err := r.tpl.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	f["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := r.tpl.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	return f
}

func main() {
	var valueFiles, sets multiFlag
	release := flag.String("release", "imagebuilder-webhook", "release name")
	namespace := flag.String("namespace", "imagebuilder", "release namespace")
	kubeVer := flag.String("kube-version", "v1.30.0", "Kubernetes version for .Capabilities")
	notes := flag.Bool("notes", false, "also render templates/NOTES.txt")
	dumpValues := flag.Bool("dump-values", false, "print the merged values as JSON instead of rendering")
	flag.Var(&valueFiles, "f", "values file (repeatable)")
	flag.Var(&sets, "set", "key.path=value override (repeatable)")
	// Flags may come before or after the chart directory, as with helm.
	var positional []string
	args := os.Args[1:]
	for {
		if err := flag.CommandLine.Parse(args); err != nil {
			os.Exit(2)
		}
		args = flag.CommandLine.Args()
		if len(args) == 0 {
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	if len(positional) != 1 {
		die("usage: helm-render [flags] CHART_DIR")
	}
	chartDir := positional[0]

	chartMeta := readYAMLMap(filepath.Join(chartDir, "Chart.yaml"))
	chart := map[string]interface{}{}
	for k, v := range chartMeta {
		// Helm exposes Chart.yaml fields with an upper-case first letter.
		if k == "" {
			continue
		}
		chart[strings.ToUpper(k[:1])+k[1:]] = v
	}

	values := map[string]interface{}{}
	if _, err := os.Stat(filepath.Join(chartDir, "values.yaml")); err == nil {
		values = readYAMLMap(filepath.Join(chartDir, "values.yaml"))
	}
	for _, vf := range valueFiles {
		mergeValues(values, readYAMLMap(vf))
	}
	for _, s := range sets {
		applySet(values, s)
	}

	if *dumpValues {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(values); err != nil {
			die("%v", err)
		}
		return
	}

	kv := strings.TrimPrefix(*kubeVer, "v")
	parts := strings.SplitN(kv, ".", 3)
	if len(parts) < 2 {
		die("--kube-version %q: expected vMAJOR.MINOR[.PATCH]", *kubeVer)
	}
	caps := capabilities{
		KubeVersion: kubeVersion{Version: "v" + kv, Major: parts[0], Minor: parts[1], GitVersion: "v" + kv},
		APIVersions: defaultAPIVersions,
		HelmVersion: map[string]string{"Version": "v3.15.0"},
	}
	top := map[string]interface{}{
		"Values": values,
		"Chart":  chart,
		"Release": map[string]interface{}{
			"Name": *release, "Namespace": *namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Capabilities": caps,
	}

	tdir := filepath.Join(chartDir, "templates")
	var files []string
	err := filepath.Walk(tdir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !info.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		die("%v", err)
	}
	sort.Strings(files)

	r := &renderer{top: top, includes: map[string]int{}}
	chartName, _ := chart["Name"].(string)
	r.tpl = template.New(chartName).Option("missingkey=zero").Funcs(r.funcs())
	names := map[string]string{}
	for _, p := range files {
		rel, _ := filepath.Rel(chartDir, p)
		name := filepath.ToSlash(filepath.Join(chartName, rel))
		b, err := os.ReadFile(p)
		if err != nil {
			die("%v", err)
		}
		if _, err := r.tpl.New(name).Parse(string(b)); err != nil {
			die("%v", err)
		}
		names[p] = name
	}

	out := os.Stdout
	for _, p := range files {
		base := filepath.Base(p)
		if strings.HasPrefix(base, "_") {
			continue
		}
		isNotes := base == "NOTES.txt"
		if isNotes && !*notes {
			continue
		}
		if !isNotes && !strings.HasSuffix(base, ".yaml") && !strings.HasSuffix(base, ".yml") {
			continue
		}
		name := names[p]
		data := map[string]interface{}{}
		for k, v := range top {
			data[k] = v
		}
		data["Template"] = map[string]interface{}{"Name": name, "BasePath": chartName + "/templates"}
		var buf bytes.Buffer
		if err := r.tpl.ExecuteTemplate(&buf, name, data); err != nil {
			die("%v", err)
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if isNotes {
			fmt.Fprintf(out, "NOTES:\n%s\n", strings.TrimSpace(text))
			continue
		}
		for _, doc := range splitDocs(text) {
			fmt.Fprintf(out, "---\n# Source: %s\n%s\n", name, doc)
		}
	}
}

// splitDocs splits rendered text on YAML document markers and drops the
// documents that hold only whitespace and comments.
func splitDocs(text string) []string {
	var docs []string
	var cur []string
	flush := func() {
		doc := strings.TrimSpace(strings.Join(cur, "\n"))
		cur = nil
		empty := true
		for _, l := range strings.Split(doc, "\n") {
			t := strings.TrimSpace(l)
			if t != "" && !strings.HasPrefix(t, "#") {
				empty = false
				break
			}
		}
		if !empty {
			docs = append(docs, doc)
		}
	}
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimRight(l, " \t") == "---" {
			flush()
			continue
		}
		cur = append(cur, l)
	}
	flush()
	return docs
}
