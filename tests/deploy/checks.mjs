// checks.mjs: the deployment checks that need a YAML parser and the
// Kubernetes schemas. Every check prints one line, "PASS <name>" or
// "FAIL <name>: <why>"; the exit code is 1 when any check failed.
//
//   node checks.mjs validate NAME FILE...    every document against the
//       Kubernetes OpenAPI schema of its kind (kubernetes-models, and
//       @kubernetes-models/cert-manager for cert-manager kinds)
//   node checks.mjs safety NAME FILE...      the webhook's safety properties
//       over the whole set of objects (webhook configuration, Deployment,
//       Service, PodDisruptionBudget, RBAC, ConfigMaps, certificates)
//   node checks.mjs values NAME SCHEMA VALUES...  the chart's values files
//       merged as Helm merges them, against values.schema.json (ajv, draft-07)
//   node checks.mjs engines NAME LOCK VERSION  every locked package runs on
//       Node.js VERSION
//   node checks.mjs monitoring NAME EXPOSITION README FILE...  alerts and
//       dashboard use valid PromQL over the exported metrics; the README's
//       metrics table lists exactly those
//   node checks.mjs helmtest NAME FILE CA PATH_PREFIX [union]  runs the helm
//       test pod's command here against a local server
//   node checks.mjs objects FILE...          "kind namespace/name" per object
//       (Helm hooks left out)
//   node checks.mjs config FILE...           the webhook's config.yaml from the
//       config ConfigMap, on stdout
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { parseAllDocuments } from "yaml";
import Ajv from "ajv";
import semver from "semver";
import { admits, podTarget } from "./netpol.mjs";
import { compileCondition, conditionMatches } from "./cel.mjs";
import { parser as promql } from "@prometheus-io/lezer-promql";
import { check, fail, finish, pass } from "./report.mjs";

// The schema models are loaded only by the validate command (they are large).
async function loadModels() {
  const core = await import("kubernetes-models/v1");
  const apps = await import("kubernetes-models/apps/v1");
  const policy = await import("kubernetes-models/policy/v1");
  const rbac = await import("kubernetes-models/rbac.authorization.k8s.io/v1");
  const adm = await import("kubernetes-models/admissionregistration.k8s.io/v1");
  const cm = await import("@kubernetes-models/cert-manager/cert-manager.io/v1");
  const autoscaling = await import("kubernetes-models/autoscaling/v2");
  const net = await import("kubernetes-models/networking.k8s.io/v1");
  const batch = await import("kubernetes-models/batch/v1");
  const mon = await import("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1");
  return {
    "v1/Namespace": core.Namespace,
    "v1/Pod": core.Pod,
    "v1/ServiceAccount": core.ServiceAccount,
    "v1/ConfigMap": core.ConfigMap,
    "v1/Secret": core.Secret,
    "v1/Service": core.Service,
    "apps/v1/Deployment": apps.Deployment,
    "policy/v1/PodDisruptionBudget": policy.PodDisruptionBudget,
    "rbac.authorization.k8s.io/v1/ClusterRole": rbac.ClusterRole,
    "rbac.authorization.k8s.io/v1/ClusterRoleBinding": rbac.ClusterRoleBinding,
    "rbac.authorization.k8s.io/v1/Role": rbac.Role,
    "rbac.authorization.k8s.io/v1/RoleBinding": rbac.RoleBinding,
    "admissionregistration.k8s.io/v1/MutatingWebhookConfiguration": adm.MutatingWebhookConfiguration,
    "cert-manager.io/v1/Certificate": cm.Certificate,
    "cert-manager.io/v1/Issuer": cm.Issuer,
    "cert-manager.io/v1/ClusterIssuer": cm.ClusterIssuer,
    "autoscaling/v2/HorizontalPodAutoscaler": autoscaling.HorizontalPodAutoscaler,
    "networking.k8s.io/v1/NetworkPolicy": net.NetworkPolicy,
    "batch/v1/Job": batch.Job,
    "monitoring.coreos.com/v1/ServiceMonitor": mon.ServiceMonitor,
    "monitoring.coreos.com/v1/PodMonitor": mon.PodMonitor,
    "monitoring.coreos.com/v1/PrometheusRule": mon.PrometheusRule,
  };
}

// Parses every file into [{file, index, obj}], failing on YAML errors.
function load(files) {
  const out = [];
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    const docs = parseAllDocuments(text, { prettyErrors: true });
    docs.forEach((doc, index) => {
      if (doc.errors.length) throw new Error(`${file} document ${index + 1}: ${doc.errors[0].message}`);
      const obj = doc.toJS();
      if (obj !== null && obj !== undefined) out.push({ file, index, obj });
    });
  }
  return out;
}

const id = (o) => `${o.kind} ${o.metadata?.namespace ? o.metadata.namespace + "/" : ""}${o.metadata?.name}`;

async function cmdValidate(label, files) {
  const MODELS = await loadModels();
  const docs = load(files);
  check(`${label}: has objects`, docs.length > 0, "no documents found");
  for (const { file, index, obj } of docs) {
    const name = `${label}: ${id(obj)} is a valid ${obj.apiVersion} ${obj.kind}`;
    if (typeof obj !== "object" || !obj.apiVersion || !obj.kind) {
      fail(`${label}: ${file} document ${index + 1}`, "no apiVersion/kind");
      continue;
    }
    const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
    if (!Model) {
      fail(name, `no schema known for ${obj.apiVersion} ${obj.kind}`);
      continue;
    }
    try {
      new Model(obj).validate();
      pass(name);
    } catch (e) {
      fail(name, e.message);
    }
  }
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

// Does a label selector (matchLabels only is what we use) select these labels?
function selects(selector, labels) {
  if (!selector || !labels) return false;
  const ml = selector.matchLabels || {};
  if (Object.keys(ml).length === 0 && !(selector.matchExpressions || []).length) return false;
  return Object.entries(ml).every(([k, v]) => labels[k] === v);
}

function pemCerts(pem) {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) || [];
  return blocks.map((b) => new X509Certificate(b));
}

function cmdSafety(label, files) {
  const objs = load(files).map((d) => d.obj);
  const byKind = (k) => objs.filter((o) => o.kind === k);
  const t = (n) => `${label}: ${n}`;

  const mwcs = byKind("MutatingWebhookConfiguration");
  if (!check(t("one MutatingWebhookConfiguration"), mwcs.length === 1, `found ${mwcs.length}`)) return;
  const mwc = mwcs[0];
  const hooks = mwc.webhooks || [];
  if (!check(t("webhook configuration has webhooks"), hooks.length > 0, "webhooks is empty")) return;

  for (const w of hooks) {
    const h = (n) => t(`webhook ${w.name}: ${n}`);
    const segs = String(w.name || "").split(".");
    check(h("name has at least three DNS-1123 segments"),
      segs.length >= 3 && segs.every((s) => DNS1123_LABEL.test(s)) && w.name.length <= 253, `name ${w.name}`);
    check(h("admissionReviewVersions is [v1]"),
      JSON.stringify(w.admissionReviewVersions) === '["v1"]', JSON.stringify(w.admissionReviewVersions));
    check(h("sideEffects is None"), w.sideEffects === "None", `sideEffects ${w.sideEffects}`);
    check(h("failurePolicy is Fail"), w.failurePolicy === "Fail", `failurePolicy ${w.failurePolicy}`);
    check(h("timeoutSeconds is set and at most 10"),
      Number.isInteger(w.timeoutSeconds) && w.timeoutSeconds >= 1 && w.timeoutSeconds <= 10, `timeoutSeconds ${w.timeoutSeconds}`);
    check(h("reinvocationPolicy is IfNeeded"), w.reinvocationPolicy === "IfNeeded", `reinvocationPolicy ${w.reinvocationPolicy}`);
    const rules = w.rules || [];
    check(h("rules are exactly CREATE on core v1 pods"),
      rules.length > 0 && rules.every((r) =>
        JSON.stringify(r.operations) === '["CREATE"]' && JSON.stringify(r.resources) === '["pods"]' &&
        JSON.stringify(r.apiGroups) === '[""]' && JSON.stringify(r.apiVersions) === '["v1"]' &&
        (r.scope === undefined || r.scope === "Namespaced")), JSON.stringify(rules));
    if (w.matchConditions) {
      // podSelection logicalRegistry: the CEL conditions select instead
      // (tests/deploy/cel.mjs checks them in detail). They must compile,
      // send a labelled pod and keep a plain pod away.
      const fns = w.matchConditions.map((c) => compileCondition(c.expression || ""));
      const bad = fns.find((f) => !f.fn);
      if (check(h("matchConditions compile with CEL's standard functions"), w.matchConditions.length > 0 && !bad,
        bad ? bad.error : "no conditions")) {
        const podOf = (labels, image) => ({ metadata: { name: "p", labels }, spec: { containers: [{ name: "c", image }] } });
        const sent = (p) => fns.map((f) => conditionMatches(f.fn, p));
        const plain = sent(podOf({ app: "x" }, "python:3.11"));
        check(h("matchConditions keep a pod neither labelled nor running a logical-registry image away"),
          plain.includes(false) && plain.every((r) => typeof r === "boolean"), JSON.stringify(plain));
        const labelled = sent(podOf({ "imagebuilder.union.ai/builder": "union" }, "python:3.11"));
        check(h("matchConditions send pods labelled imagebuilder.union.ai/builder=union"),
          labelled.every((r) => r === true), JSON.stringify(labelled));
      }
      check(h("no objectSelector besides the matchConditions"),
        !w.objectSelector || Object.keys(w.objectSelector).length === 0, JSON.stringify(w.objectSelector));
    } else {
      check(h("objectSelector requires imagebuilder.union.ai/builder=union"),
        w.objectSelector?.matchLabels?.["imagebuilder.union.ai/builder"] === "union", JSON.stringify(w.objectSelector));
    }

    const svcRef = w.clientConfig?.service;
    if (!check(h("calls a Service (not a URL)"), !!svcRef && !w.clientConfig?.url, JSON.stringify(w.clientConfig))) continue;
    const excluded = (w.namespaceSelector?.matchExpressions || [])
      .filter((e) => e.key === "kubernetes.io/metadata.name" && e.operator === "NotIn")
      .flatMap((e) => e.values || []);
    check(h(`namespaceSelector excludes the webhook's namespace (${svcRef.namespace}) and kube-system`),
      excluded.includes(svcRef.namespace) && excluded.includes("kube-system"), JSON.stringify(w.namespaceSelector));
    const path = svcRef.path || "";
    check(h("service path is made of DNS-1123 segments"),
      /^\//.test(path) && path.slice(1).split("/").every((s) => DNS1123_LABEL.test(s)), `path ${path}`);
    check(h("service port is 443"), (svcRef.port ?? 443) === 443, `port ${svcRef.port}`);

    // The Service and the Deployment behind it.
    const svc = objs.find((o) => o.kind === "Service" && o.metadata?.name === svcRef.name &&
      (o.metadata?.namespace || "") === svcRef.namespace);
    if (!check(h(`Service ${svcRef.namespace}/${svcRef.name} exists`), !!svc, "not in the rendered objects")) continue;
    const port = (svc.spec?.ports || []).find((p) => p.port === (svcRef.port ?? 443));
    check(h("Service has port 443"), !!port, JSON.stringify(svc.spec?.ports));
    const deps = byKind("Deployment").filter((d) => (d.metadata?.namespace || "") === svcRef.namespace &&
      selects({ matchLabels: svc.spec?.selector }, d.spec?.template?.metadata?.labels));
    if (!check(h("the Service selects exactly one Deployment"), deps.length === 1, `selects ${deps.length}`)) continue;
    const dep = deps[0];
    const pod = dep.spec.template.spec;
    const ctrs = pod.containers || [];
    const target = port?.targetPort;
    const ctr = ctrs.find((c) => (c.ports || []).some((p) => p.name === target || p.containerPort === target));
    if (!check(h(`Service targetPort ${target} is a container port`), !!ctr, "no container exposes it")) continue;

    // caBundle: inline (and matching the serving certificate when that is
    // in the same set of objects), or injected by cert-manager.
    const inject = mwc.metadata?.annotations?.["cert-manager.io/inject-ca-from"];
    const secretName = (pod.volumes || []).flatMap((v) => [
      v.secret?.secretName,
      ...(v.projected?.sources || []).map((s) => s.secret?.name),
    ]).find(Boolean);
    if (inject) {
      const [cns, cname] = inject.split("/");
      const cert = objs.find((o) => o.kind === "Certificate" && o.metadata?.name === cname && o.metadata?.namespace === cns);
      if (check(h(`inject-ca-from names a Certificate in the set (${inject})`), !!cert, "no such Certificate")) {
        const want = `${svcRef.name}.${svcRef.namespace}.svc`;
        check(h("the Certificate covers the Service's DNS name"), (cert.spec?.dnsNames || []).includes(want), JSON.stringify(cert.spec?.dnsNames));
        check(h("the Certificate writes the Secret the Deployment mounts"), cert.spec?.secretName === secretName,
          `${cert.spec?.secretName} vs ${secretName}`);
        check(h("the Certificate is for server auth"), (cert.spec?.usages || ["server auth"]).includes("server auth"), JSON.stringify(cert.spec?.usages));
      }
    } else if (!w.clientConfig?.caBundle && certgenJobs(objs).length) {
      checkCertgen(objs, h, mwc, svcRef, secretName);
    } else {
      let cas = [];
      try {
        cas = pemCerts(Buffer.from(w.clientConfig.caBundle || "", "base64").toString("utf8"));
      } catch (e) {
        cas = [];
      }
      check(h("caBundle holds a PEM CA certificate"), cas.length > 0 && cas.every((c) => c.ca), "empty or not a CA certificate");
      const secret = objs.find((o) => o.kind === "Secret" && o.metadata?.name === secretName && o.metadata?.namespace === svcRef.namespace);
      if (secret && cas.length) {
        const crtPem = Buffer.from(secret.data?.["tls.crt"] || "", "base64").toString("utf8");
        const certs = pemCerts(crtPem);
        const host = `${svcRef.name}.${svcRef.namespace}.svc`;
        check(h("the Secret's certificate is signed by the caBundle"),
          certs.length > 0 && cas.some((ca) => certs[0].verify(ca.publicKey)), "signature does not verify");
        check(h(`the Secret's certificate is valid for ${host}`),
          certs.length > 0 && certs[0].checkHost(host) === host && new Date(certs[0].validTo) > new Date(), certs[0]?.subjectAltName);
        check(h("the Secret is kubernetes.io/tls with a key"), secret.type === "kubernetes.io/tls" && !!secret.data?.["tls.key"], secret.type);
      }
    }

    // The webhook Deployment's own safety.
    const d = (n) => t(`Deployment ${dep.metadata.name}: ${n}`);
    checkNetwork(objs, d, dep, ctr, svcRef.namespace);
    // With a HorizontalPodAutoscaler the lower bound is its minReplicas.
    const hpa = byKind("HorizontalPodAutoscaler").find((h) => h.spec?.scaleTargetRef?.kind === "Deployment" &&
      h.spec.scaleTargetRef.name === dep.metadata.name && (h.metadata?.namespace || "") === svcRef.namespace);
    const minReplicas = hpa ? (hpa.spec.minReplicas ?? 1) : (dep.spec.replicas ?? 1);
    check(d("at least 2 replicas"), minReplicas >= 2, hpa ? `HPA minReplicas ${hpa.spec.minReplicas}` : `replicas ${dep.spec.replicas}`);
    const aa = pod.affinity?.podAntiAffinity;
    const aaTerms = [...(aa?.requiredDuringSchedulingIgnoredDuringExecution || []),
      ...(aa?.preferredDuringSchedulingIgnoredDuringExecution || []).map((p) => p.podAffinityTerm)];
    check(d("pod anti-affinity spreads the replicas"),
      aaTerms.some((term) => term?.topologyKey && selects(term.labelSelector, dep.spec.template.metadata.labels)), JSON.stringify(aa));
    check(d("readiness probe on /readyz"), ctr.readinessProbe?.httpGet?.path === "/readyz", JSON.stringify(ctr.readinessProbe));
    check(d("liveness probe on /healthz"), ctr.livenessProbe?.httpGet?.path === "/healthz", JSON.stringify(ctr.livenessProbe));
    const probePort = ctr.readinessProbe?.httpGet?.port;
    check(d("probes use a declared container port"),
      (ctr.ports || []).some((p) => p.name === probePort || p.containerPort === probePort), `port ${probePort}`);
    const r = ctr.resources || {};
    check(d("cpu and memory requests and limits"),
      !!(r.requests?.cpu && r.requests?.memory && r.limits?.cpu && r.limits?.memory), JSON.stringify(r));
    const psc = pod.securityContext || {};
    const csc = ctr.securityContext || {};
    check(d("runs as non-root"), (csc.runAsNonRoot ?? psc.runAsNonRoot) === true &&
      ((csc.runAsUser ?? psc.runAsUser) ?? 1) !== 0, JSON.stringify({ psc, csc }));
    check(d("read-only root filesystem"), csc.readOnlyRootFilesystem === true, JSON.stringify(csc));
    check(d("no privilege escalation, not privileged"), csc.allowPrivilegeEscalation === false && csc.privileged !== true, JSON.stringify(csc));
    check(d("all capabilities dropped, none added"),
      (csc.capabilities?.drop || []).includes("ALL") && !(csc.capabilities?.add || []).length, JSON.stringify(csc.capabilities));
    check(d("mounts the TLS Secret"), !!secretName, "no secret volume");
    const args = [...(ctr.command || []), ...(ctr.args || [])];
    const cfgPath = args[args.indexOf("--config") + 1];
    const mounts = ctr.volumeMounts || [];
    check(d("--config points into a read-only mount"), args.includes("--config") &&
      mounts.some((m) => m.readOnly && cfgPath.startsWith(m.mountPath.replace(/\/?$/, "/"))), `args ${JSON.stringify(args)}`);

    const pdbs = byKind("PodDisruptionBudget").filter((p) => selects(p.spec?.selector, dep.spec.template.metadata.labels));
    check(d("a PodDisruptionBudget keeps a replica up"),
      pdbs.length === 1 && (pdbs[0].spec.minAvailable >= 1 || pdbs[0].spec.maxUnavailable !== undefined), `${pdbs.length} PDBs`);

    // RBAC: only get on namespaces, bound to the webhook's ServiceAccount.
    const sa = pod.serviceAccountName;
    check(d("has its own ServiceAccount"), !!sa && sa !== "default" &&
      objs.some((o) => o.kind === "ServiceAccount" && o.metadata.name === sa), `serviceAccountName ${sa}`);
    const bindings = [...byKind("ClusterRoleBinding"), ...byKind("RoleBinding")].filter((b) =>
      (b.subjects || []).some((s) => s.kind === "ServiceAccount" && s.name === sa && s.namespace === svcRef.namespace));
    const roles = bindings.map((b) => objs.find((o) => o.kind === b.roleRef.kind && o.metadata.name === b.roleRef.name));
    const rulesOf = roles.flatMap((ro) => ro?.rules || []);
    check(d("RBAC grants exactly get on namespaces"),
      roles.length > 0 && roles.every(Boolean) && rulesOf.length > 0 && rulesOf.every((ru) =>
        JSON.stringify(ru.apiGroups) === '[""]' && JSON.stringify(ru.resources) === '["namespaces"]' &&
        JSON.stringify(ru.verbs) === '["get"]' && !ru.resourceNames), JSON.stringify(rulesOf));
  }

  // The configuration and the build-image ConfigMap agree.
  const cfgText = configText(objs);
  if (check(t("the webhook config ConfigMap exists"), !!cfgText, "no ConfigMap with config.yaml")) {
    const cfg = parseAllDocuments(cfgText)[0].toJS();
    const ib = cfg.imageBuilder || {};
    const bic = byKind("ConfigMap").filter((c) => c.metadata?.name === (ib.targetConfigMapName || "build-image-config"));
    if (check(t("build-image ConfigMap exists"), bic.length > 0, `no ConfigMap ${ib.targetConfigMapName}`)) {
      for (const c of bic) {
        const data = c.data || {};
        const n = `${c.metadata.namespace}/${c.metadata.name}`;
        check(t(`${n} has buildkit-uri, default-repository, authentication-type, storage.yaml`),
          ["buildkit-uri", "default-repository", "authentication-type", "storage.yaml"].every((k) => k in data), Object.keys(data).join(","));
        check(t(`${n} agrees with the webhook config`),
          data["buildkit-uri"] === (ib.buildkitUri || "") && data["default-repository"] === (ib.defaultRepository || "") &&
          data["authentication-type"] === (ib.authenticationType || "noop"),
          JSON.stringify({ data, ib: { uri: ib.buildkitUri, repo: ib.defaultRepository, auth: ib.authenticationType } }));
      }
    }
    const m = /^tcp:\/\/([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local:(\d+)$/.exec(ib.buildkitUri || "");
    if (ib.buildkit?.enabled && m && ib.buildkitUri) {
      const bsvc = objs.find((o) => o.kind === "Service" && o.metadata.name === m[1] && o.metadata.namespace === m[2]);
      if (bsvc) {
        check(t("the buildkit Service serves the URI's port"), (bsvc.spec.ports || []).some((p) => String(p.port) === m[3]), JSON.stringify(bsvc.spec.ports));
        const bdep = byKind("Deployment").find((dd) => selects({ matchLabels: bsvc.spec.selector }, dd.spec.template.metadata.labels));
        check(t("a buildkitd Deployment backs the buildkit Service"), !!bdep, "no Deployment selected");
      }
    }
  }
}

// Who reaches the webhook's ports, and the buildkitd of the same namespace,
// under the set's NetworkPolicies.
function checkNetwork(objs, d, dep, ctr, ns) {
  const pols = objs.filter((o) => o.kind === "NetworkPolicy");
  const port = (name) => ({ number: (ctr.ports || []).find((p) => p.name === name)?.containerPort, protocol: "TCP" });
  const pod = (nsName, labels = {}) => ({ namespace: { name: nsName }, labels });
  const target = podTarget(dep);
  check(d("any source reaches the admission port (kube-apiserver's address is unknown)"),
    admits(pols, target, pod("elsewhere"), port("https")), "the HTTPS port is not open to all");
  if (!dep.spec.template.spec.hostNetwork) {
    check(d("a pod of another namespace cannot reach the metrics port"),
      !admits(pols, target, pod("elsewhere", { "imagebuilder.union.ai/builder": "union" }), port("metrics")), "it can");
  }
  const bks = objs.filter((o) => o.kind === "Deployment" && o.metadata?.labels?.["app.kubernetes.io/component"] === "buildkit" &&
    (o.metadata?.namespace || "") === ns);
  for (const bk of bks) {
    const b = (n) => d(`buildkitd ${bk.metadata.name}: ${n}`);
    const bt = podTarget(bk);
    const bport = { number: bt.ports[0]?.containerPort, protocol: "TCP" };
    check(b("a pod with the builder label, in any namespace, reaches it"),
      admits(pols, bt, pod("team-a-development", { "imagebuilder.union.ai/builder": "union" }), bport), "refused");
    check(b("a pod without the builder label cannot, in its namespace or another"),
      !admits(pols, bt, pod(ns, { app: "x" }), bport) && !admits(pols, bt, pod("team-a-development"), bport) &&
      !admits(pols, bt, pod("team-a-development", { "imagebuilder.union.ai/builder": "other" }), bport), "admitted");
  }
}

// The metric families of a Prometheus text exposition: name -> type.
function families(text) {
  const out = new Map();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1], m[2]);
  return out;
}

// Parses a PromQL expression; returns {error, names} with the metric names
// of its vector selectors.
function promqlNames(expr) {
  const tree = promql.parse(expr);
  let error = false;
  const names = [];
  tree.iterate({
    enter: (n) => {
      if (n.type.isError) error = true;
      if (n.name === "VectorSelector") {
        const id = n.node.getChild("Identifier");
        if (id) names.push(expr.slice(id.from, id.to));
      }
    },
  });
  return { error, names };
}

// A series name belongs to a family: itself, or a histogram's _bucket,
// _sum, _count.
function familyOf(name, fams) {
  if (fams.has(name)) return name;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  return m && fams.get(m[1]) === "histogram" ? m[1] : null;
}

// monitoring NAME EXPOSITION README RENDER...: the alerts and the dashboard
// use only metrics the webhook exports, in valid PromQL; the README's
// metrics table lists exactly the exported families.
function cmdMonitoring(label, expositionFile, readmeFile, files) {
  const t = (n) => `${label}: ${n}`;
  const fams = families(readFileSync(expositionFile, "utf8"));
  check(t("the webhook exports metric families"), fams.size > 0, "empty exposition");
  const objs = load(files).map((d) => d.obj);
  const exprCheck = (where, expr) => {
    const { error, names } = promqlNames(expr);
    const unknown = names.filter((n) => n !== "up" && !familyOf(n, fams));
    check(t(`${where}: valid PromQL over exported metrics`), !error && names.length > 0 && unknown.length === 0,
      error ? `does not parse: ${expr}` : `unknown metrics ${unknown.join(", ")}`);
  };
  const rules = objs.filter((o) => o.kind === "PrometheusRule").flatMap((r) => r.spec.groups.flatMap((g) => g.rules));
  check(t("PrometheusRule has alerts"), rules.length > 0, "no rules");
  for (const r of rules) exprCheck(`alert ${r.alert}`, String(r.expr));
  const dashCms = objs.filter((o) => o.kind === "ConfigMap" && o.metadata.labels?.grafana_dashboard === "1");
  check(t("one dashboard ConfigMap labelled grafana_dashboard=1"), dashCms.length === 1, `${dashCms.length} found`);
  for (const cm of dashCms) {
    for (const [key, text] of Object.entries(cm.data || {})) {
      let dash = null;
      try {
        dash = JSON.parse(text);
      } catch (e) {
        fail(t(`dashboard ${key} is JSON`), e.message);
        continue;
      }
      check(t(`dashboard ${key} has a uid, a title and panels`), !!dash.uid && !!dash.title && (dash.panels || []).length > 0, "incomplete");
      for (const p of dash.panels || [])
        for (const tg of p.targets || [])
          exprCheck(`dashboard panel "${p.title}" ${tg.refId}`, tg.expr.replaceAll("$__rate_interval", "5m"));
    }
  }
  // The README's metrics reference: rows whose first cell is `imagebuilder_...`.
  const documented = new Set([...readFileSync(readmeFile, "utf8").matchAll(/^\| `(imagebuilder_webhook_[a-z_]+)`/gm)].map((m) => m[1]));
  const undocumented = [...fams.keys()].filter((f) => !documented.has(f));
  const stale = [...documented].filter((f) => !fams.has(f));
  check(t("the README's metrics table lists every exported family"), undocumented.length === 0, undocumented.join(", "));
  check(t("the README's metrics table lists only exported families"), stale.length === 0, stale.join(", "));
}

// helmtest NAME FILE CA_FILE PATH_PREFIX [union]: runs the command of the
// chart's `helm test` pod here, with the pod's environment (CA_FILE
// replaced) and PATH_PREFIX first in PATH (where a curl that connects the
// Service's name to a local server is). With "union" the pod in the review
// asks for the union builder instead, which the test must reject.
function cmdHelmTest(label, file, caFile, pathPrefix, variant) {
  const pod = load([file]).map((d) => d.obj).find((o) => o.kind === "Pod" && o.metadata?.annotations?.["helm.sh/hook"] === "test");
  if (!check(`${label}: the chart renders a helm test pod`, !!pod, "none")) return;
  const c = pod.spec.containers[0];
  const env = Object.fromEntries((c.env || []).map((e) => [e.name, e.value]));
  env.CA_FILE = caFile;
  if (variant === "union") env.REVIEW = env.REVIEW.replace('\\"builder\\":\\"default\\"', '\\"builder\\":\\"union\\"');
  const r = spawnSync(c.command[0], [...c.command.slice(1), ...(c.args || [])], {
    env: { ...process.env, ...env, PATH: `${pathPrefix}:${process.env.PATH}` }, encoding: "utf8", timeout: 30000,
  });
  const out = `${r.stdout}${r.stderr}`.trim().split("\n").slice(-2).join(" ");
  if (variant === "union")
    check(`${label}: the test fails when the answer carries a patch`, r.status !== 0 && /FAIL/.test(out), out);
  else
    check(`${label}: the test pod's request through the Service is answered and accepted`, r.status === 0 && /PASS/.test(out), out);
}

// The certgen hook Jobs of certificates.mode=job: "imagebuilder-webhook
// certgen --namespace NS --secret NAME --service SVC [--webhook-configuration NAME]".
function certgenJobs(objs) {
  return objs.filter((o) => o.kind === "Job" && (o.spec?.template?.spec?.containers || [])
    .some((c) => (c.args || [])[0] === "certgen"));
}
function flagsOf(args) {
  const out = {};
  for (let i = 1; i + 1 < args.length; i += 2) out[args[i]] = args[i + 1];
  return out;
}
function checkCertgen(objs, h, mwc, svcRef, secretName) {
  const jobs = certgenJobs(objs).map((j) => ({
    job: j,
    hooks: String(j.metadata?.annotations?.["helm.sh/hook"] || "").split(","),
    flags: flagsOf(j.spec.template.spec.containers.find((c) => c.args[0] === "certgen").args),
  }));
  const want = { "--namespace": svcRef.namespace, "--secret": secretName, "--service": svcRef.name };
  const agrees = (f) => Object.entries(want).every(([k, v]) => f[k] === v);
  const create = jobs.find((j) => j.hooks.includes("pre-install") && j.hooks.includes("pre-upgrade"));
  const patch = jobs.find((j) => j.hooks.includes("post-install") && j.hooks.includes("post-upgrade"));
  check(h("a pre-install/pre-upgrade certgen Job makes the Secret the Deployment mounts for the Service"),
    !!create && agrees(create.flags), JSON.stringify(create?.flags));
  check(h("a post-install/post-upgrade certgen Job patches this webhook configuration's caBundle"),
    !!patch && agrees(patch.flags) && patch.flags["--webhook-configuration"] === mwc.metadata.name, JSON.stringify(patch?.flags));
  // Its ServiceAccount reaches only that Secret and that webhook configuration.
  for (const { job } of jobs) {
    const sa = job.spec.template.spec.serviceAccountName;
    const ns = job.metadata.namespace;
    const bindings = objs.filter((o) => (o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding") &&
      (o.subjects || []).some((s) => s.kind === "ServiceAccount" && s.name === sa && s.namespace === ns));
    const rules = bindings.flatMap((b) => objs.find((o) => o.kind === b.roleRef.kind && o.metadata.name === b.roleRef.name)?.rules || []);
    const allowed = (ru) => {
      const g = JSON.stringify(ru.apiGroups), r = JSON.stringify(ru.resources), n = ru.resourceNames || [];
      const v = ru.verbs || [];
      if (g === '[""]' && r === '["secrets"]')
        return JSON.stringify(v) === '["create"]' ? n.length === 0 : JSON.stringify(n) === JSON.stringify([secretName]) &&
          v.every((x) => ["get", "update", "patch"].includes(x));
      if (g === '["admissionregistration.k8s.io"]' && r === '["mutatingwebhookconfigurations"]')
        return JSON.stringify(n) === JSON.stringify([mwc.metadata.name]) && v.every((x) => ["get", "patch"].includes(x));
      return false;
    };
    check(h(`certgen Job ${job.metadata.name}: RBAC limited to the Secret and the webhook configuration`),
      rules.length > 0 && rules.every(allowed), JSON.stringify(rules));
  }
}

function configText(objs) {
  const cm = objs.find((o) => o.kind === "ConfigMap" && typeof o.data?.["config.yaml"] === "string");
  return cm ? cm.data["config.yaml"] : null;
}

// Helm's merge of values files: maps merge key by key, anything else is
// replaced, and a null in a later file deletes the key.
function mergeValues(base, over) {
  if (!isMap(base) || !isMap(over)) return over;
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else out[k] = k in out ? mergeValues(out[k], v) : v;
  }
  return out;
}
const isMap = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

// values NAME SCHEMA VALUES.yaml...: the chart's values.yaml merged with
// each further file in order, against values.schema.json.
function cmdValues(label, schemaFile, valuesFiles) {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, "utf8")));
  let values = {};
  for (const f of valuesFiles) values = mergeValues(values, parseAllDocuments(readFileSync(f, "utf8"))[0]?.toJS() ?? {});
  if (validate(values)) pass(`${label}: values match values.schema.json`);
  else fail(`${label}: values match values.schema.json`, ajv.errorsText(validate.errors));
}

// engines NAME LOCK VERSION: every package of the lock file declares a Node
// range that VERSION (the oldest Node.js the checks support) satisfies, so
// npm ci installs without engine warnings.
function cmdEngines(label, lockFile, version) {
  const lock = JSON.parse(readFileSync(lockFile, "utf8"));
  const bad = Object.entries(lock.packages || {})
    .filter(([, p]) => p.engines?.node && !semver.satisfies(version, p.engines.node))
    .map(([name, p]) => `${name || "(root)"} needs node ${p.engines.node}`);
  check(`${label}: every locked package supports Node.js ${version}`, bad.length === 0, bad.join("; "));
  check(`${label}: this Node.js (${process.version}) is at least ${version}`, semver.gte(process.version, version),
    "the checks need a newer Node.js");
}

const [cmd, ...rest] = process.argv.slice(2);
try {
  switch (cmd) {
    case "validate": await cmdValidate(rest[0], rest.slice(1)); break;
    case "safety": cmdSafety(rest[0], rest.slice(1)); break;
    case "values": cmdValues(rest[0], rest[1], rest.slice(2)); break;
    case "engines": cmdEngines(rest[0], rest[1], rest[2]); break;
    case "monitoring": cmdMonitoring(rest[0], rest[1], rest[2], rest.slice(3)); break;
    case "helmtest": cmdHelmTest(rest[0], rest[1], rest[2], rest[3], rest[4]); break;
    case "objects":
      // Installed objects only: Helm hooks (tests, certificate jobs) are not.
      for (const { obj } of load(rest)) {
        if (obj.metadata?.annotations?.["helm.sh/hook"]) continue;
        console.log(`${obj.kind} ${obj.metadata?.namespace || "-"}/${obj.metadata?.name}`);
      }
      break;
    case "config": {
      const text = configText(load(rest).map((d) => d.obj));
      if (!text) throw new Error("no ConfigMap with config.yaml");
      process.stdout.write(text);
      break;
    }
    default:
      console.error("usage: node checks.mjs validate|safety|values|engines|monitoring|helmtest|objects|config ...");
      process.exit(2);
  }
} catch (e) {
  fail(`${cmd} ${rest[0] || ""}`, e.message);
}
finish();
