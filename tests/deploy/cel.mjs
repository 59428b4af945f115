// cel.mjs: the webhook registration's matchConditions (podSelection
// logicalRegistry) as kube-apiserver runs them. The CEL expression is taken
// from what the real helm renders and from the manifests, compiled and
// evaluated with @bufbuild/cel (a CEL implementation checked against the
// CEL conformance tests) with the variables kube-apiserver gives
// matchConditions (object, oldObject, request), and held to CEL's standard
// functions and macros so that the API server's own compiler accepts it.
//
//   node cel.mjs HELM CHART_DIR MANIFESTS_DIR GOLDEN_DIR
//
// Prints "PASS <name>" or "FAIL <name>: <why>"; exits 1 when a check failed.
// checks.mjs imports compileCondition() and conditionMatches() for its
// safety checks.
import { celEnv, CelScalar, isCelError, parse, plan } from "@bufbuild/cel";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { check, finish } from "./report.mjs";

// The variables kube-apiserver declares for a webhook's matchConditions
// (authorizer aside), all dynamically typed.
const ENV = celEnv({
  variables: { object: CelScalar.DYN, oldObject: CelScalar.DYN, request: CelScalar.DYN },
});

// CEL's standard operators, functions and the helpers its macros expand
// to (cel-spec langdef). Kubernetes' extension libraries (strings, lists,
// regex, urls, quantities, ...) are left out on purpose: the expression
// must not need them.
const STANDARD = new Set([
  "_&&_", "_||_", "!_", "-_", "_?_:_", "_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_",
  "_+_", "_-_", "_*_", "_/_", "_%_", "_[_]", "@in", "@not_strictly_false", "size",
  "startsWith", "endsWith", "contains", "matches", "int", "uint", "double", "string",
  "bytes", "bool", "dyn", "type",
]);
const VARIABLES = new Set(["object", "oldObject", "request"]);

// The functions and free identifiers an expression uses (comprehension
// variables, such as the one of exists(), are bound, not free).
function uses(expr) {
  const funcs = new Set(), idents = new Set();
  const walk = (e, bound) => {
    const k = e.exprKind.case, v = e.exprKind.value;
    switch (k) {
      case "identExpr":
        if (!bound.has(v.name)) idents.add(v.name);
        break;
      case "selectExpr":
        walk(v.operand, bound);
        break;
      case "callExpr":
        funcs.add(v.function);
        if (v.target) walk(v.target, bound);
        v.args.forEach((a) => walk(a, bound));
        break;
      case "listExpr":
        v.elements.forEach((a) => walk(a, bound));
        break;
      case "structExpr":
        v.entries.forEach((en) => {
          if (en.keyKind?.case === "mapKey") walk(en.keyKind.value, bound);
          walk(en.value, bound);
        });
        break;
      case "comprehensionExpr": {
        walk(v.iterRange, bound);
        walk(v.accuInit, bound);
        const inner = new Set([...bound, v.iterVar, v.accuVar]);
        walk(v.loopCondition, inner);
        walk(v.loopStep, inner);
        walk(v.result, new Set([...bound, v.accuVar]));
        break;
      }
      default:
        break;
    }
  };
  walk(expr, new Set());
  return { funcs, idents };
}

// Compiles a condition. Returns { fn } or { error }.
export function compileCondition(source) {
  let parsed;
  try {
    parsed = parse(source);
  } catch (e) {
    return { error: `does not parse: ${e.message}` };
  }
  const { funcs, idents } = uses(parsed.expr);
  const extra = [...funcs].filter((f) => !STANDARD.has(f));
  if (extra.length) return { error: `uses functions outside CEL's standard set: ${extra.join(", ")}` };
  const unknown = [...idents].filter((i) => !VARIABLES.has(i));
  if (unknown.length) return { error: `uses undeclared variables: ${unknown.join(", ")}` };
  try {
    return { fn: plan(ENV, parsed) };
  } catch (e) {
    return { error: `does not compile: ${e.message}` };
  }
}

// What kube-apiserver binds for a pod CREATE.
export function admissionBindings(pod) {
  return {
    object: pod,
    oldObject: null,
    request: {
      uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      requestKind: { group: "", version: "v1", kind: "Pod" },
      requestResource: { group: "", version: "v1", resource: "pods" },
      name: pod?.metadata?.name || "",
      namespace: pod?.metadata?.namespace || "flytesnacks-development",
      operation: "CREATE",
      userInfo: { username: "system:serviceaccount:flyte:flytepropeller", groups: ["system:authenticated"] },
      dryRun: false,
      options: { kind: "CreateOptions", apiVersion: "meta.k8s.io/v1" },
    },
  };
}

// true or false, or an error message: an error is a failed call under
// failurePolicy Fail (the pod is refused), so it must never happen.
export function conditionMatches(fn, pod) {
  let r;
  try {
    r = fn(admissionBindings(pod));
  } catch (e) {
    return `threw ${e.message}`;
  }
  if (isCelError(r)) return `error: ${r.message}`;
  if (typeof r !== "boolean") return `not a bool: ${String(r)}`;
  return r;
}

// ---- the command ----------------------------------------------------------

const LABEL = "imagebuilder.union.ai/builder";
const pod = ({ labels, containers = [], init, noLabels } = {}) => {
  const p = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "a8x2k9-n0-0", namespace: "flytesnacks-development" },
    spec: { containers: containers.map((image, i) => (image === null ? { name: `c${i}` } : { name: `c${i}`, image })) },
  };
  if (!noLabels) p.metadata.labels = { project: "flytesnacks", domain: "development", ...(labels || {}) };
  if (init) p.spec.initContainers = init.map((image, i) => ({ name: `i${i}`, image }));
  return p;
};

// [name, pod, expected with the default registries, expected with the extra ones]
const SAMPLES = [
  ["unlabelled, container under cr.union.ai", pod({ containers: ["cr.union.ai/flyte:py3.11-abc123"] }), true, true],
  ["unlabelled, only an init container under cr.union.ai",
    pod({ containers: ["python:3.11"], init: ["cr.union.ai/tools/setup:v1"] }), true, true],
  ["unlabelled, second container under cr.union.ai",
    pod({ containers: ["python:3.11", "cr.union.ai/sidecar:abc"] }), true, true],
  ["unlabelled, other images, no initContainers field", pod({ containers: ["python:3.11"] }), false, false],
  ["unlabelled, empty initContainers", pod({ containers: ["python:3.11"], init: [] }), false, false],
  ["no labels at all", pod({ containers: ["ghcr.io/acme/app:1"], noLabels: true }), false, false],
  ["labelled builder=union, other images", pod({ labels: { [LABEL]: "union" }, containers: ["hello:abc"] }), true, true],
  ["labelled builder=union, no labels besides", pod({ labels: { [LABEL]: "union" }, containers: ["x:1"] }), true, true],
  ["labelled builder=other", pod({ labels: { [LABEL]: "envd" }, containers: ["hello:abc"] }), false, false],
  ["look-alike host cr.union.ai.evil.com", pod({ containers: ["cr.union.ai.evil.com/x:1"] }), false, false],
  ["look-alike host cr.union.aix", pod({ containers: ["cr.union.aix/x:1"] }), false, false],
  ["cr.union.ai further down the path", pod({ containers: ["docker.io/cr.union.ai/x:1"] }), false, false],
  ["the bare registry name", pod({ containers: ["cr.union.ai"] }), false, false],
  ["another port of the same host", pod({ containers: ["cr.union.ai:5000/x:1"] }), false, false],
  ["a container without an image", pod({ containers: [null, "python:3.11"] }), false, false],
  ["extra registry with a port and path", pod({ containers: ["registry.local:5000/team/etl:1"] }), false, true],
  ["extra registry's look-alike path", pod({ containers: ["registry.local:5000/teamx/etl:1"] }), false, false],
  ["extra registry written with a trailing slash", pod({ init: ["images.acme.io/base:2"], containers: ["x"] }), false, true],
];
const EXTRA = ["cr.union.ai", "registry.local:5000/team", "images.acme.io/"];

function runSamples(label, source, column) {
  const { fn, error } = compileCondition(source);
  if (!check(`${label}: the expression compiles with CEL's standard functions only`, !!fn, error || "")) return;
  for (const s of SAMPLES) {
    const got = conditionMatches(fn, s[1]);
    check(`${label}: ${s[0]}: ${s[column] ? "sent" : "not sent"}`, got === s[column], `got ${got}`);
  }
  return fn;
}

function hooksOf(objs) {
  const mwc = objs.find((o) => o.kind === "MutatingWebhookConfiguration");
  return mwc?.webhooks || [];
}
const loadYaml = (text) => parseAllDocuments(text).map((d) => d.toJS()).filter((o) => o);
const withoutCa = (hooks) => JSON.parse(JSON.stringify(hooks, (k, v) => (k === "caBundle" ? undefined : v)));

function render(helm, chart, args) {
  try {
    return { ok: true, objs: loadYaml(execFileSync(helm, ["template", "imagebuilder-webhook", chart, "-n", "imagebuilder",
      ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })) };
  } catch (e) {
    return { ok: false, out: `${e.stdout || ""}${e.stderr || ""}` };
  }
}

function conditionOf(label, hooks) {
  const h = hooks[0] || {};
  check(`${label}: one webhook`, hooks.length === 1, `${hooks.length} webhooks`);
  const selector = h.objectSelector;
  check(`${label}: no objectSelector (it would keep unlabelled pods away; all must match)`,
    !selector || (!selector.matchLabels && !selector.matchExpressions), JSON.stringify(selector));
  const conds = h.matchConditions || [];
  check(`${label}: one matchCondition`, conds.length === 1, JSON.stringify(conds));
  return conds[0]?.expression || "";
}

function labelMode(label, hooks) {
  const h = hooks[0] || {};
  check(`${label}: label mode: objectSelector on ${LABEL}=union, no matchConditions`,
    h.objectSelector?.matchLabels?.[LABEL] === "union" && !h.matchConditions, JSON.stringify(h));
}

// Every golden case's pod against an oracle written in JavaScript.
function goldenPods(label, fn, goldenDir) {
  let n = 0;
  for (const c of readdirSync(goldenDir).sort()) {
    const f = join(goldenDir, c, "review.json");
    if (!existsSync(f)) continue;
    const obj = JSON.parse(readFileSync(f, "utf8")).request?.object;
    if (!obj || obj.kind !== "Pod") continue;
    const images = [...(obj.spec?.containers || []), ...(obj.spec?.initContainers || [])].map((x) => x.image || "");
    const want = obj.metadata?.labels?.[LABEL] === "union" || images.some((i) => i.startsWith("cr.union.ai/"));
    const got = conditionMatches(fn, obj);
    n++;
    check(`${label}: golden ${c}: ${want ? "sent" : "not sent"}`, got === want, `got ${got}`);
  }
  check(`${label}: golden pods were evaluated`, n >= 20, `${n} pods`);
}

function main([helm, chart, manifests, goldenDir]) {
  // The chart, label mode (the default) and logicalRegistry.
  const def = render(helm, chart, []);
  if (check("chart defaults render", def.ok, def.out)) labelMode("chart defaults", hooksOf(def.objs));
  const lr = render(helm, chart, ["--set", "imageBuilder.podSelection=logicalRegistry"]);
  let chartHooks = [];
  if (check("chart podSelection=logicalRegistry renders", lr.ok, lr.out)) {
    chartHooks = hooksOf(lr.objs);
    const fn = runSamples("chart logicalRegistry", conditionOf("chart logicalRegistry", chartHooks), 2);
    if (fn) goldenPods("chart logicalRegistry", fn, goldenDir);
  }
  const ex = render(helm, chart, ["--set", "imageBuilder.podSelection=logicalRegistry",
    "--set-json", `imageBuilder.logicalRegistries=${JSON.stringify(EXTRA)}`]);
  if (check("chart logicalRegistry with extra logicalRegistries renders", ex.ok, ex.out))
    runSamples("chart extra registries", conditionOf("chart extra registries", hooksOf(ex.objs)), 3);
  const old = render(helm, chart, ["--set", "imageBuilder.podSelection=logicalRegistry", "--kube-version", "1.29.9"]);
  check("chart logicalRegistry on Kubernetes 1.29 is refused (matchConditions need 1.30)",
    !old.ok && /needs Kubernetes 1\.30/.test(old.out), old.ok ? "rendered" : old.out);
  const v130 = render(helm, chart, ["--set", "imageBuilder.podSelection=logicalRegistry", "--kube-version", "1.30.0"]);
  check("chart logicalRegistry on Kubernetes 1.30 renders", v130.ok, v130.out);
  const none = render(helm, chart, ["--set", "imageBuilder.podSelection=logicalRegistry", "--set-json",
    "imageBuilder.logicalRegistries=[]"]);
  check("chart logicalRegistry without logicalRegistries is refused", !none.ok && /logicalRegistries/.test(none.out),
    none.ok ? "rendered" : none.out);
  const bad = render(helm, chart, ["--set-json", `imageBuilder.logicalRegistries=["cr.union.ai') || true || ('"]`]);
  check("chart: a logical registry that would break out of the CEL string is refused", !bad.ok, "rendered");

  // The manifests: file 08 (label) and its logicalRegistry alternative.
  const m08 = loadYaml(readFileSync(join(manifests, "08-mutatingwebhookconfiguration.yaml"), "utf8"));
  labelMode("manifests/08", hooksOf(m08));
  const altFile = join(manifests, "logical-registry", "08-mutatingwebhookconfiguration.yaml");
  const alt = hooksOf(loadYaml(readFileSync(altFile, "utf8")));
  const fn = runSamples("manifests/logical-registry", conditionOf("manifests/logical-registry", alt), 2);
  if (fn) goldenPods("manifests/logical-registry", fn, goldenDir);
  check("manifests/logical-registry: the same webhook as the chart renders with podSelection=logicalRegistry",
    JSON.stringify(withoutCa(alt)) === JSON.stringify(withoutCa(chartHooks)), "webhooks differ");
  if (def.ok)
    check("manifests/08: the same webhook as the chart's defaults render",
      JSON.stringify(withoutCa(hooksOf(m08))) === JSON.stringify(withoutCa(hooksOf(def.objs))), "webhooks differ");

  // The checker itself: what it must refuse.
  const refuse = (name, src, pattern) => {
    const r = compileCondition(src);
    check(`checker refuses ${name}`, !r.fn && pattern.test(r.error || ""), r.error || "accepted");
  };
  refuse("a Kubernetes extension function", "object.spec.containers.exists(c, c.image.lowerAscii() == 'x')", /lowerAscii/);
  refuse("an undeclared variable", "params.x == 1", /params/);
  refuse("a syntax error", "object.spec.containers.exists(c, ", /parse/);
  const noHas = compileCondition("object.spec.initContainers.exists(c, c.image.startsWith('cr.union.ai/'))");
  check("checker: initContainers without has() is an error on a pod without them",
    !!noHas.fn && typeof conditionMatches(noHas.fn, pod({ containers: ["x"] })) === "string", "no error");

  finish();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
