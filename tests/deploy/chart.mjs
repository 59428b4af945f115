// chart.mjs: what the chart's values do, checked on the output of the real
// helm. Each check renders the chart with some values (helm template or
// helm lint), parses the objects and asserts on them; it prints
// "PASS <name>" or "FAIL <name>: <why>" and exits 1 when any check failed.
//
//   node chart.mjs HELM CHART_DIR OUT_DIR
//
// Every render it makes is also written to OUT_DIR/<variant>.yaml, so that
// run.sh validates those objects against the Kubernetes schemas and the
// safety checks too.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { admits, podTarget } from "./netpol.mjs";
import { check, finish } from "./report.mjs";

const [helm, chart, outDir] = process.argv.slice(2);
if (!helm || !chart || !outDir) {
  console.error("usage: node chart.mjs HELM CHART_DIR OUT_DIR");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
const RELEASE = "imagebuilder-webhook";
const NS = "imagebuilder";

// Values are given as objects; they reach helm as a values file.
let nvalues = 0;
function valuesArgs(values) {
  if (!values) return [];
  const f = join(outDir, `values-${++nvalues}.json`);
  writeFileSync(f, JSON.stringify(values));
  return ["-f", f];
}

function run(args) {
  try {
    return { ok: true, out: execFileSync(helm, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }) };
  } catch (e) {
    return { ok: false, out: `${e.stdout || ""}${e.stderr || ""}` };
  }
}

// helm template; saves the output as OUT_DIR/<variant>.yaml.
function render(variant, values, extra = []) {
  const r = run(["template", RELEASE, chart, "-n", NS, ...valuesArgs(values), ...extra]);
  if (!check(`${variant}: helm template renders`, r.ok, r.out.split("\n").slice(-3).join(" "))) return null;
  writeFileSync(join(outDir, `${variant}.yaml`), r.out);
  return parseAllDocuments(r.out).map((d) => d.toJS()).filter((o) => o);
}
const lint = (values, extra = []) => run(["lint", "--strict", chart, "-n", NS, ...valuesArgs(values), ...extra]);

// Deep equality regardless of key order (toYaml sorts keys).
const canon = (v) => Array.isArray(v) ? v.map(canon) : v && typeof v === "object"
  ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])])) : v;
const same = (a, b) => JSON.stringify(canon(a)) === JSON.stringify(canon(b));
const find = (objs, kind, pred = () => true) => (objs || []).filter((o) => o.kind === kind && pred(o));
const one = (objs, kind, pred) => find(objs, kind, pred)[0];
const webhookDeployment = (objs) =>
  one(objs, "Deployment", (d) => d.metadata.labels?.["app.kubernetes.io/component"] === "webhook");
const webhookContainer = (objs) => webhookDeployment(objs)?.spec.template.spec.containers.find((c) => c.name === "webhook");
function config(objs) {
  const cm = one(objs, "ConfigMap", (c) => typeof c.data?.["config.yaml"] === "string");
  return cm ? parseAllDocuments(cm.data["config.yaml"])[0].toJS() : null;
}
const lintRefuses = (name, values, pattern) => {
  const r = lint(values);
  check(name, !r.ok && pattern.test(r.out), r.ok ? "lint passed" : r.out.split("\n").find((l) => l.includes("ERROR")));
};

// ---- values.schema.json ---------------------------------------------------
lintRefuses("lint: a misspelt top-level key (certificate:) is refused", { certificate: { mode: "helm" } },
  /additional properties 'certificate' not allowed/);
lintRefuses("lint: buildkit disabled without buildkitUri is refused",
  { imageBuilder: { buildkit: { enabled: false } } }, /buildkitUri/);
check("lint: buildkit disabled with a buildkitUri passes",
  lint({ imageBuilder: { buildkitUri: "tcp://buildkitd.builds.svc:1234", buildkit: { enabled: false } } }).ok, "lint failed");
check("lint: buildkit disabled with the image builder disabled passes",
  lint({ imageBuilder: { enabled: false, buildkit: { enabled: false } } }).ok, "lint failed");
lintRefuses("lint: an image digest that is not sha256:<64 hex> is refused",
  { deployment: { image: { digest: "latest" } } }, /digest/);
lintRefuses("lint: an unknown key in the container securityContext is refused",
  { deployment: { securityContext: { runAsUsr: 1 } } }, /runAsUsr/);

// ---- PodDisruptionBudget --------------------------------------------------
const pdbCases = [
  ["replicas 2, minAvailable 1 (defaults)", {}, { minAvailable: 1 }],
  ["replicas 1, minAvailable 1", { deployment: { replicas: 1 } }, null],
  ["replicas 2, minAvailable 2", { deployment: { podDisruptionBudget: { minAvailable: 2 } } }, null],
  ["replicas 1, maxUnavailable 1", { deployment: { replicas: 1, podDisruptionBudget: { maxUnavailable: 1 } } }, { maxUnavailable: 1 }],
  ["replicas 2, minAvailable 50%", { deployment: { podDisruptionBudget: { minAvailable: "50%" } } }, { minAvailable: "50%" }],
  ["replicas 2, minAvailable 100%", { deployment: { podDisruptionBudget: { minAvailable: "100%" } } }, null],
  ["replicas 2, maxUnavailable 0", { deployment: { podDisruptionBudget: { maxUnavailable: 0 } } }, { minAvailable: 1 }],
  ["autoscaling from 1 replica", { deployment: { autoscaling: { enabled: true, minReplicas: 1 } } }, null],
  ["autoscaling from 3 replicas, minAvailable 2",
    { deployment: { autoscaling: { enabled: true, minReplicas: 3 }, podDisruptionBudget: { minAvailable: 2 } } }, { minAvailable: 2 }],
  ["disabled", { deployment: { podDisruptionBudget: { enabled: false } } }, null],
];
pdbCases.forEach(([name, values, want], i) => {
  const objs = render(`pdb-${i + 1}`, values);
  if (!objs) return;
  const pdbs = find(objs, "PodDisruptionBudget");
  if (want === null) check(`pdb: ${name}: none rendered (it would block a drain)`, pdbs.length === 0, pdbs.map((p) => p.spec));
  else {
    const spec = { ...pdbs[0]?.spec };
    delete spec.selector;
    check(`pdb: ${name}: rendered with ${JSON.stringify(want)}`, pdbs.length === 1 && JSON.stringify(spec) === JSON.stringify(want), spec);
  }
});

// ---- HorizontalPodAutoscaler ----------------------------------------------
{
  const objs = render("hpa", { deployment: { autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 6, targetMemoryUtilizationPercentage: 70 } } });
  const hpa = one(objs, "HorizontalPodAutoscaler");
  const dep = webhookDeployment(objs);
  check("hpa: rendered for the webhook Deployment with min/max replicas",
    hpa?.spec.scaleTargetRef.name === dep?.metadata.name && hpa?.spec.scaleTargetRef.kind === "Deployment" &&
    hpa.spec.minReplicas === 2 && hpa.spec.maxReplicas === 6, hpa?.spec);
  check("hpa: targets CPU and memory utilisation",
    JSON.stringify(hpa?.spec.metrics.map((m) => [m.resource.name, m.resource.target.averageUtilization])) === '[["cpu",80],["memory",70]]',
    hpa?.spec.metrics);
  check("hpa: the Deployment leaves replicas to it", dep && dep.spec.replicas === undefined, `replicas ${dep?.spec.replicas}`);
  check("hpa: none by default", find(render("hpa-off", {}), "HorizontalPodAutoscaler").length === 0, "rendered");
  const r = run(["template", RELEASE, chart, "-n", NS, ...valuesArgs({
    deployment: { autoscaling: { enabled: true, targetCPUUtilizationPercentage: "" } } })]);
  check("hpa: refused without a CPU or memory target", !r.ok && /targetCPUUtilizationPercentage/.test(r.out), "rendered");
}

// ---- hostNetwork and ports ------------------------------------------------
{
  const objs = render("host-network", { deployment: { hostNetwork: true, ports: { webhook: 10443, metrics: 10090 } } });
  const dep = webhookDeployment(objs);
  const pod = dep?.spec.template.spec;
  const ctr = webhookContainer(objs);
  const svc = one(objs, "Service", (s) => s.metadata.name === dep?.metadata.name);
  const cfg = config(objs);
  const portOf = (name) => (ctr?.ports || []).find((p) => p.name === name)?.containerPort;
  check("hostNetwork: the pod uses the node's network with cluster DNS",
    pod?.hostNetwork === true && pod?.dnsPolicy === "ClusterFirstWithHostNet", { hostNetwork: pod?.hostNetwork, dnsPolicy: pod?.dnsPolicy });
  check("hostNetwork: the container listens on deployment.ports", portOf("https") === 10443 && portOf("metrics") === 10090, ctr?.ports);
  check("hostNetwork: the webhook config's listen and metricsListen follow",
    cfg?.webhook.listen === ":10443" && cfg?.webhook.metricsListen === ":10090", cfg?.webhook);
  const target = (name) => {
    const t = svc?.spec.ports.find((p) => p.name === name)?.targetPort;
    return typeof t === "string" ? portOf(t) : t;
  };
  check("hostNetwork: the Service's target ports reach those ports, still 443 for the API server",
    target("https") === 10443 && target("metrics") === 10090 && svc.spec.ports.find((p) => p.name === "https").port === 443, svc?.spec.ports);
  check("hostNetwork: replicas are required on different nodes",
    (pod?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution || [])
      .some((t) => t.topologyKey === "kubernetes.io/hostname"), pod?.affinity);
  check("hostNetwork: the rollout never needs two pods on one node",
    dep?.spec.strategy.rollingUpdate.maxSurge === 0 && dep.spec.strategy.rollingUpdate.maxUnavailable === 1, dep?.spec.strategy);
  check("hostNetwork: the scrape annotation names the metrics port",
    dep?.spec.template.metadata.annotations["prometheus.io/port"] === "10090", dep?.spec.template.metadata.annotations);
  const def = render("ports-default", {});
  const dpod = webhookDeployment(def)?.spec.template.spec;
  check("ports: by default no hostNetwork, 8443 and 9090",
    !dpod?.hostNetwork && config(def)?.webhook.listen === ":8443" && config(def)?.webhook.metricsListen === ":9090", config(def)?.webhook);
}

// ---- image ------------------------------------------------------------------
{
  const digest = "sha256:" + "ab".repeat(32);
  const img = (values, variant) => webhookContainer(render(variant, values))?.image;
  check("image: repository:appVersion by default",
    img({}, "image-default") === "ghcr.io/imagebuilder-webhook/imagebuilder-webhook:0.1.0", img({}, "image-default"));
  check("image: the tag when given", img({ deployment: { image: { tag: "1.2.3" } } }, "image-tag")?.endsWith(":1.2.3"), "tag not used");
  const d = img({ deployment: { image: { repository: "registry.example.com/x/imagebuilder-webhook", tag: "1.2.3", digest } } }, "image-digest");
  check("image: a digest wins over the tag", d === `registry.example.com/x/imagebuilder-webhook@${digest}`, d);
}

// ---- names, labels and annotations ------------------------------------------
{
  const objs = render("name-override", { nameOverride: "ibw" });
  const dep = webhookDeployment(objs);
  check("nameOverride: names and the app.kubernetes.io/name label use it",
    dep?.metadata.name === "imagebuilder-webhook-ibw" && dep.spec.selector.matchLabels["app.kubernetes.io/name"] === "ibw", dep?.metadata);
  const full = render("fullname-override", { fullnameOverride: "hooks" });
  const mwc = one(full, "MutatingWebhookConfiguration");
  check("fullnameOverride: the Deployment, Service and webhook configuration are named by it",
    webhookDeployment(full)?.metadata.name === "hooks" && !!one(full, "Service", (s) => s.metadata.name === "hooks") &&
    mwc?.metadata.name === "hooks" && mwc.webhooks[0].clientConfig.service.name === "hooks", mwc?.webhooks?.[0].clientConfig);

  const lab = render("labels", {
    commonLabels: { team: "platform" },
    deployment: { podLabels: { tier: "admission" }, podAnnotations: { "example.com/note": "x" } },
    service: { annotations: { "example.com/svc": "y" } },
  });
  const unlabelled = (lab || []).filter((o) => o.metadata.labels?.team !== "platform").map((o) => `${o.kind}/${o.metadata.name}`);
  check("commonLabels: on every rendered object", lab && unlabelled.length === 0, unlabelled.join(", "));
  const ldep = webhookDeployment(lab);
  check("commonLabels: never in a selector", ldep && !("team" in ldep.spec.selector.matchLabels), ldep?.spec.selector);
  const tmeta = ldep?.spec.template.metadata;
  check("podLabels and podAnnotations: on the pod template",
    tmeta?.labels.tier === "admission" && tmeta?.annotations["example.com/note"] === "x", tmeta);
  check("service.annotations: on the webhook Service",
    one(lab, "Service", (s) => s.metadata.name === ldep?.metadata.name)?.metadata.annotations?.["example.com/svc"] === "y", "missing");
}

// ---- security contexts, topology spread -------------------------------------
{
  const objs = render("security-context", {
    deployment: { podSecurityContext: { fsGroup: null, runAsUser: 2000 }, securityContext: { runAsUser: 2000 } },
  });
  const pod = webhookDeployment(objs)?.spec.template.spec;
  const csc = webhookContainer(objs)?.securityContext;
  check("securityContext: a single key overrides, the other defaults stay",
    csc?.runAsUser === 2000 && csc.readOnlyRootFilesystem === true && csc.allowPrivilegeEscalation === false &&
    JSON.stringify(csc.capabilities) === '{"drop":["ALL"]}', csc);
  check("podSecurityContext: overridden and dropped keys",
    pod?.securityContext.runAsUser === 2000 && !("fsGroup" in pod.securityContext) &&
    pod.securityContext.seccompProfile?.type === "RuntimeDefault", pod?.securityContext);

  const tsc = render("topology-spread", {
    deployment: {
      topologySpreadConstraints: [
        { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway" },
        { maxSkew: 2, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { a: "b" } } },
      ],
    },
  });
  const c = webhookDeployment(tsc)?.spec.template.spec.topologySpreadConstraints || [];
  check("topologySpreadConstraints: rendered, the webhook pods' labels filled in where no selector is given",
    c.length === 2 && c[0].labelSelector?.matchLabels?.["app.kubernetes.io/name"] === "imagebuilder-webhook" &&
    c[0].topologyKey === "topology.kubernetes.io/zone" && c[1].labelSelector.matchLabels.a === "b", c);
}

// ---- the build container's securityContext reaches the webhook config --------
{
  const restricted = { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } };
  const def = config(render("build-image-default", {}));
  check("imageBuilder.buildImage.securityContext: the restricted one by default, in the webhook's config",
    same(def?.imageBuilder.buildImage?.securityContext, restricted), def?.imageBuilder.buildImage);
  const sc = { runAsNonRoot: true, runAsUser: 1001, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } };
  const objs = render("build-image-security-context", { imageBuilder: { buildImage: { securityContext: sc } } });
  check("imageBuilder.buildImage.securityContext: passed into the webhook's config",
    same(config(objs)?.imageBuilder.buildImage?.securityContext, sc), config(objs)?.imageBuilder.buildImage);
  lintRefuses("imageBuilder.buildImage.securityContext: privileged as a string is refused",
    { imageBuilder: { buildImage: { securityContext: { privileged: "yes" } } } }, /privileged/);
}

// ---- certificates: GitOps-safe modes render the same every time --------------
{
  const twice = (values) => {
    const args = ["template", RELEASE, chart, "-n", NS, ...valuesArgs(values)];
    return [run(args), run(args)];
  };
  for (const mode of ["job", "certManager"]) {
    const [a, b] = twice({ certificates: { mode } });
    check(`certificates.mode=${mode}: two helm template runs render identical output`,
      a.ok && b.ok && a.out === b.out && a.out.length > 0, a.ok && b.ok ? "the renders differ" : "render failed");
  }
  const [a, b] = twice({ certificates: { mode: "helm" } });
  check("certificates.mode=helm: two helm template runs differ (a new CA each time: not GitOps-safe)",
    a.ok && b.ok && a.out !== b.out, "identical renders");
  const objs = render("certgen", { certificates: { mode: "job" } });
  const mwc = one(objs, "MutatingWebhookConfiguration");
  check("certificates.mode=job: no Secret, no key material, no caBundle in the render",
    objs && find(objs, "Secret").length === 0 && !/PRIVATE KEY|LS0tLS1CRUdJTi/.test(JSON.stringify(objs)) &&
    mwc && mwc.webhooks.every((w) => !w.clientConfig.caBundle), "found certificate material");
  const jobs = find(objs, "Job");
  check("certificates.mode=job: the certgen Jobs run the webhook's own image",
    jobs.length === 2 && jobs.every((j) => j.spec.template.spec.containers[0].image === webhookContainer(objs)?.image),
    jobs.map((j) => j.spec.template.spec.containers[0].image));
  const hooks = (objs || []).filter((o) => o.metadata.annotations?.["helm.sh/hook"] && o.metadata.annotations["helm.sh/hook"] !== "test");
  check("certificates.mode=job: the Jobs and their RBAC are hooks, removed once they succeed",
    hooks.length === 7 && hooks.every((o) => o.metadata.annotations["helm.sh/hook-delete-policy"] === "before-hook-creation,hook-succeeded"),
    hooks.map((o) => `${o.kind}/${o.metadata.name}`));
  check("certificates.mode=helm (default): no certgen Job", find(render("certgen-off", {}), "Job").length === 0, "rendered");
}

// ---- NetworkPolicies and buildkitd ---------------------------------------------
{
  const objs = render("metrics-scraper", {
    networkPolicy: { metrics: {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
      podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } } } },
  });
  const pols = find(objs, "NetworkPolicy");
  const dep = webhookDeployment(objs);
  const t = dep && podTarget(dep);
  const metrics = { number: 9090, protocol: "TCP" };
  const src = (ns, labels) => ({ namespace: { name: ns }, labels });
  check("networkPolicy.metrics: the configured scraper reaches the metrics port",
    t && admits(pols, t, src("monitoring", { "app.kubernetes.io/name": "prometheus" }), metrics), "refused");
  check("networkPolicy.metrics: other pods of that namespace, and the release namespace, do not",
    t && !admits(pols, t, src("monitoring", { "app.kubernetes.io/name": "grafana" }), metrics) &&
    !admits(pols, t, src(NS, {}), metrics), "admitted");
  check("networkPolicy.metrics: the admission port stays open to all",
    t && admits(pols, t, src("anywhere", {}), { number: 8443, protocol: "TCP" }), "refused");
  const off = render("network-policy-off", { networkPolicy: { enabled: false } });
  check("networkPolicy.enabled=false: none rendered", off && find(off, "NetworkPolicy").length === 0, "rendered");
  const ext = render("buildkit-external", { imageBuilder: { buildkitUri: "tcp://b.builds.svc:1234", buildkit: { enabled: false } } });
  check("networkPolicy: only the webhook's when buildkitd is not the chart's",
    ext && find(ext, "NetworkPolicy").map((p) => p.metadata.name).join() === "imagebuilder-webhook", find(ext, "NetworkPolicy").map((p) => p.metadata.name));

  const bk = (objs) => one(objs, "Deployment", (d) => d.metadata.labels?.["app.kubernetes.io/component"] === "buildkit");
  const rl = render("buildkit-rootless", { imageBuilder: { buildkit: { rootless: true } } });
  const rpod = bk(rl)?.spec.template;
  const rc = rpod?.spec.containers[0];
  check("buildkit.rootless: the -rootless image, user 1000, not privileged",
    rc?.image.endsWith(":buildx-stable-1-rootless") && rc.securityContext.runAsUser === 1000 &&
    rc.securityContext.runAsNonRoot === true && rc.securityContext.privileged === false, rc?.securityContext);
  check("buildkit.rootless: seccomp and AppArmor Unconfined (the appArmorProfile field on Kubernetes 1.30+)",
    rc?.securityContext.seccompProfile?.type === "Unconfined" && rc.securityContext.appArmorProfile?.type === "Unconfined" &&
    !rpod.metadata.annotations?.["container.apparmor.security.beta.kubernetes.io/buildkitd"], rc?.securityContext);
  check("buildkit.rootless: --oci-worker-no-process-sandbox, state under the user's home",
    rc?.args.includes("--oci-worker-no-process-sandbox") &&
    rc.volumeMounts.some((m) => m.mountPath === "/home/user/.local/share/buildkit"), rc?.args);
  const old = render("buildkit-rootless-1.29", { imageBuilder: { buildkit: { rootless: true } } }, ["--kube-version", "1.29.0"]);
  const opod = bk(old)?.spec.template;
  check("buildkit.rootless: the AppArmor annotation before Kubernetes 1.30",
    opod?.metadata.annotations?.["container.apparmor.security.beta.kubernetes.io/buildkitd"] === "unconfined" &&
    !opod.spec.containers[0].securityContext.appArmorProfile, opod?.metadata.annotations);
  const rf = bk(render("buildkit-rootful", {}))?.spec.template.spec.containers[0];
  check("buildkit: privileged by default, without the rootless flag",
    rf?.securityContext.privileged === true && !rf.args.includes("--oci-worker-no-process-sandbox") && !rf.image.endsWith("-rootless"),
    rf?.securityContext);
}

// ---- monitoring ------------------------------------------------------------------
{
  const kinds = ["ServiceMonitor", "PrometheusRule"];
  const def = render("monitoring-off", {});
  check("metrics: no ServiceMonitor, PrometheusRule or dashboard by default",
    def && kinds.every((k) => find(def, k).length === 0) && !one(def, "ConfigMap", (c) => c.metadata.labels?.grafana_dashboard), "rendered");
  const objs = render("monitoring", {
    metrics: {
      serviceMonitor: { enabled: true, labels: { release: "kube-prometheus-stack" } },
      prometheusRule: { enabled: true },
      dashboard: { enabled: true, namespace: "grafana" },
    },
  });
  const sm = one(objs, "ServiceMonitor");
  const svc = one(objs, "Service", (s) => s.metadata.name === webhookDeployment(objs)?.metadata.name);
  check("serviceMonitor: selects the webhook Service and scrapes its metrics port, with the extra labels",
    sm && svc && Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => svc.metadata.labels[k] === v) &&
    svc.spec.ports.some((p) => p.name === sm.spec.endpoints[0].port && p.name === "metrics") &&
    sm.metadata.labels.release === "kube-prometheus-stack", sm?.spec);
  const rule = one(objs, "PrometheusRule");
  const alerts = rule?.spec.groups.flatMap((g) => g.rules.map((r) => r.alert)) || [];
  const want = ["ImagebuilderWebhookDown", "ImagebuilderWebhookAdmissionErrors", "ImagebuilderWebhookDenialSpike",
    "ImagebuilderWebhookRegistryCheckFailures", "ImagebuilderWebhookNamespaceCheckFailures",
    "ImagebuilderWebhookConfigReloadFailed", "ImagebuilderWebhookCertificateReloadFailed", "ImagebuilderWebhookCertificateExpiresSoon"];
  check("prometheusRule: every alert is there", same([...alerts].sort(), [...want].sort()), alerts);
  const expiry = rule?.spec.groups[0].rules.find((r) => r.alert === "ImagebuilderWebhookCertificateExpiresSoon");
  check("prometheusRule: the certificate alert fires within 7 days, on this release's series",
    /< 7 \* 86400/.test(expiry?.expr) && expiry.expr.includes('job="imagebuilder-webhook",namespace="imagebuilder"'), expiry?.expr);
  const dash = one(objs, "ConfigMap", (c) => c.metadata.labels?.grafana_dashboard === "1");
  check("dashboard: a ConfigMap in the configured namespace", dash?.metadata.namespace === "grafana", dash?.metadata);
  const sel = render("monitoring-selector", { metrics: { prometheusRule: { enabled: true, selector: 'service="ibw"' } } });
  const rs = one(sel, "PrometheusRule")?.spec.groups[0].rules || [];
  check("prometheusRule.selector: replaces the job/namespace selector in every rule",
    rs.length > 0 && rs.every((r) => String(r.expr).includes('service="ibw"') && !String(r.expr).includes("job=")), rs.map((r) => r.expr));
}

// ---- helm test ---------------------------------------------------------------------
{
  const testPod = (objs) => one(objs, "Pod", (p) => p.metadata.annotations?.["helm.sh/hook"] === "test");
  for (const mode of ["helm", "job", "certManager"]) {
    const objs = render(`helm-test-${mode}`, { certificates: { mode }, webhook: { path: "/admit/pods" } });
    const pod = testPod(objs);
    const env = Object.fromEntries((pod?.spec.containers[0].env || []).map((e) => [e.name, e.value]));
    const secret = webhookDeployment(objs)?.spec.template.spec.volumes[0].projected.sources.find((x) => x.secret)?.secret.name;
    check(`helm test (${mode}): a test pod sends a dry-run review to the Service's path, trusting the serving Secret's ca.crt`,
      pod && env.URL === "https://imagebuilder-webhook.imagebuilder.svc:443/admit/pods" &&
      JSON.parse(env.REVIEW).request.dryRun === true &&
      pod.spec.volumes[0].secret.secretName === secret && pod.spec.volumes[0].secret.items[0].key === "ca.crt", { env, secret });
  }
  const img = testPod(render("helm-test-image", { tests: { image: { repository: "registry.example.com/tools/curl", tag: "1.0" } } }));
  check("helm test: the image is configurable", img?.spec.containers[0].image === "registry.example.com/tools/curl:1.0", img?.spec.containers[0].image);
}

// ---- cloud identity for registryCheck ----------------------------------------------
{
  const sa = (objs) => one(objs, "ServiceAccount", (a) => a.metadata.name === RELEASE);
  const role = "arn:aws:iam::123456789012:role/imagebuilder-webhook";
  const irsa = render("cloud-aws-irsa", { cloudIdentity: { aws: { roleArn: role, region: "us-east-2" } } });
  const env = (objs) => Object.fromEntries((webhookContainer(objs)?.env || []).map((e) => [e.name, e.value]));
  check("cloud identity (aws): the ServiceAccount carries the IRSA role annotation",
    sa(irsa)?.metadata.annotations?.["eks.amazonaws.com/role-arn"] === role, sa(irsa)?.metadata);
  check("cloud identity (aws): AWS_REGION is set; EKS's webhook injects the token (nothing projected by default)",
    env(irsa).AWS_REGION === "us-east-2" && !env(irsa).AWS_ROLE_ARN &&
    !webhookDeployment(irsa)?.spec.template.spec.volumes.some((v) => v.name === "aws-iam-token"), env(irsa));
  const proj = render("cloud-aws-projected", { cloudIdentity: { aws: { roleArn: role, projectToken: true } } });
  const vol = webhookDeployment(proj)?.spec.template.spec.volumes.find((v) => v.name === "aws-iam-token");
  const mnt = webhookContainer(proj)?.volumeMounts.find((m) => m.name === "aws-iam-token");
  const tok = vol?.projected.sources[0].serviceAccountToken;
  check("cloud identity (aws, projectToken): an STS-audience token at the path AWS_WEB_IDENTITY_TOKEN_FILE names",
    tok?.audience === "sts.amazonaws.com" && env(proj).AWS_ROLE_ARN === role &&
    env(proj).AWS_WEB_IDENTITY_TOKEN_FILE === `${mnt?.mountPath}/${tok?.path}` && mnt?.readOnly === true, { tok, mnt, env: env(proj) });
  const gke = render("cloud-google", { cloudIdentity: { google: { serviceAccount: "wh@proj-1.iam.gserviceaccount.com" } } });
  check("cloud identity (google): the ServiceAccount carries the GKE Workload Identity annotation",
    sa(gke)?.metadata.annotations?.["iam.gke.io/gcp-service-account"] === "wh@proj-1.iam.gserviceaccount.com", sa(gke)?.metadata);
  const cid = "00000000-1111-2222-3333-444444444444";
  const az = render("cloud-azure", { cloudIdentity: { azure: { clientId: cid } }, serviceAccount: { annotations: { team: "builds" } } });
  check("cloud identity (azure): client-id annotation (next to the user's own) and the pod's workload-identity label",
    sa(az)?.metadata.annotations?.["azure.workload.identity/client-id"] === cid && sa(az)?.metadata.annotations?.team === "builds" &&
    webhookDeployment(az)?.spec.template.metadata.labels?.["azure.workload.identity/use"] === "true", sa(az)?.metadata);
  const none = render("cloud-none", {});
  check("cloud identity: none by default (no annotation, label, env or token)",
    !sa(none)?.metadata.annotations && !webhookDeployment(none)?.spec.template.metadata.labels?.["azure.workload.identity/use"] &&
    !webhookContainer(none)?.env, sa(none)?.metadata);
  lintRefuses("lint: a malformed IRSA role ARN is refused", { cloudIdentity: { aws: { roleArn: "my-role" } } }, /roleArn/);
}

finish();
