// pss-check.mjs: pods against the Pod Security Standards (pss.mjs). Prints
// "PASS <name>" or "FAIL <name>: <why>" per check; exit 1 when any failed.
//
//   node pss-check.mjs selftest
//       each control of both profiles catches what it must, on synthetic
//       pods; JSON Patch apply follows RFC 6902
//   node pss-check.mjs golden BIN GOLDEN_DIR [--record-restricted]
//       every golden case whose answer carries a patch: the patch applied to
//       the case's pod; the mutated pod meets at least the level the
//       original met. Then the same pod made "restricted" (every container
//       given the restricted securityContext, nothing at pod level) is
//       reviewed by BIN with the case's config: the mutated pod must still
//       be "restricted", so the containers the webhook adds must carry a
//       restricted securityContext of their own. --record-restricted
//       reports that last check as NOTE lines instead of failing (for a
//       webhook that does not give the build container one yet)
//   node pss-check.mjs workloads NAME FILE...
//       the pods of every Deployment, Job and Pod in FILE meet "restricted",
//       except buildkitd, which is reported at the level it needs
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { LEVELS, applyPatch, containersOf, level, violations } from "./pss.mjs";
import { check, finish } from "./report.mjs";

// The securityContext that makes a container meet "restricted" by itself.
const RESTRICTED_SC = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

function selftest() {
  const ctr = (sc) => ({ name: "c", image: "x", ...(sc ? { securityContext: sc } : {}) });
  const pod = (spec, meta = {}) => ({ metadata: meta, spec: { containers: [ctr(RESTRICTED_SC)], ...spec } });
  const cases = [
    ["a pod of restricted containers", pod({}), "restricted"],
    ["a container without securityContext", pod({ containers: [ctr()] }), "baseline"],
    ["an init container without securityContext", pod({ initContainers: [ctr()] }), "baseline"],
    ["pod-level runAsNonRoot and seccomp cover the container",
      pod({ securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
        containers: [ctr({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } })] }), "restricted"],
    ["the container's runAsNonRoot false wins over the pod's true",
      pod({ securityContext: { runAsNonRoot: true }, containers: [ctr({ ...RESTRICTED_SC, runAsNonRoot: false })] }), "baseline"],
    ["runAsUser 0", pod({ containers: [ctr({ ...RESTRICTED_SC, runAsUser: 0 })] }), "baseline"],
    ["allowPrivilegeEscalation unset", pod({ containers: [ctr({ ...RESTRICTED_SC, allowPrivilegeEscalation: undefined })] }), "baseline"],
    ["capabilities not dropped", pod({ containers: [ctr({ ...RESTRICTED_SC, capabilities: {} })] }), "baseline"],
    ["NET_BIND_SERVICE added", pod({ containers: [ctr({ ...RESTRICTED_SC, capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } })] }), "restricted"],
    ["CHOWN added (baseline allows it)", pod({ containers: [ctr({ ...RESTRICTED_SC, capabilities: { drop: ["ALL"], add: ["CHOWN"] } })] }), "baseline"],
    ["NET_ADMIN added", pod({ containers: [ctr({ ...RESTRICTED_SC, capabilities: { drop: ["ALL"], add: ["NET_ADMIN"] } })] }), "privileged"],
    ["seccomp Localhost", pod({ containers: [ctr({ ...RESTRICTED_SC, seccompProfile: { type: "Localhost", localhostProfile: "p" } })] }), "restricted"],
    ["seccomp unset", pod({ containers: [ctr({ ...RESTRICTED_SC, seccompProfile: undefined })] }), "baseline"],
    ["seccomp Unconfined", pod({ containers: [ctr({ ...RESTRICTED_SC, seccompProfile: { type: "Unconfined" } })] }), "privileged"],
    ["privileged", pod({ containers: [ctr({ ...RESTRICTED_SC, privileged: true })] }), "privileged"],
    ["hostNetwork", pod({ hostNetwork: true }), "privileged"],
    ["hostPID", pod({ hostPID: true }), "privileged"],
    ["hostIPC", pod({ hostIPC: true }), "privileged"],
    ["hostProcess", pod({ containers: [ctr({ ...RESTRICTED_SC, windowsOptions: { hostProcess: true } })] }), "privileged"],
    ["a hostPath volume", pod({ volumes: [{ name: "h", hostPath: { path: "/" } }] }), "privileged"],
    ["a host port", pod({ containers: [{ ...ctr(RESTRICTED_SC), ports: [{ containerPort: 80, hostPort: 80 }] }] }), "privileged"],
    ["AppArmor Unconfined", pod({ containers: [ctr({ ...RESTRICTED_SC, appArmorProfile: { type: "Unconfined" } })] }), "privileged"],
    ["the AppArmor annotation unconfined", pod({}, { annotations: { "container.apparmor.security.beta.kubernetes.io/c": "unconfined" } }), "privileged"],
    ["the AppArmor annotation runtime/default", pod({}, { annotations: { "container.apparmor.security.beta.kubernetes.io/c": "runtime/default" } }), "restricted"],
    ["SELinux type spc_t", pod({ securityContext: { seLinuxOptions: { type: "spc_t" } } }), "privileged"],
    ["SELinux user set", pod({ containers: [ctr({ ...RESTRICTED_SC, seLinuxOptions: { user: "system_u" } })] }), "privileged"],
    ["SELinux type container_t", pod({ securityContext: { seLinuxOptions: { type: "container_t" } } }), "restricted"],
    ["procMount Unmasked", pod({ containers: [ctr({ ...RESTRICTED_SC, procMount: "Unmasked" })] }), "privileged"],
    ["an unsafe sysctl", pod({ securityContext: { sysctls: [{ name: "kernel.msgmax", value: "1" }] } }), "privileged"],
    ["a safe sysctl", pod({ securityContext: { sysctls: [{ name: "net.ipv4.tcp_syncookies", value: "1" }] } }), "restricted"],
    ["a projected and an emptyDir volume", pod({ volumes: [{ name: "p", projected: { sources: [] } }, { name: "e", emptyDir: {} }] }), "restricted"],
    ["an nfs volume", pod({ volumes: [{ name: "n", nfs: { server: "s", path: "/" } }] }), "baseline"],
    ["an ephemeral container without securityContext", pod({ ephemeralContainers: [ctr()] }), "baseline"],
  ];
  for (const [name, p, want] of cases) {
    const got = level(p);
    check(`selftest: ${name} meets ${want}`, got === want, `level ${got}: ${JSON.stringify(violations(p))}`);
  }
  const build = pod({ initContainers: [{ name: "build-image", image: "b" }] });
  const v = violations(build).restricted.join("; ");
  check("selftest: a build container without securityContext is named in every restricted control it misses",
    ["allowPrivilegeEscalation", "runAsNonRoot", "seccomp", "drop ALL"].every((w) => v.includes(w) && v.includes("initContainers[build-image]")), v);

  const doc = { a: { "b/c": [1, 2] }, d: "x" };
  const out = applyPatch(doc, [
    { op: "test", path: "/d", value: "x" },
    { op: "add", path: "/a/b~1c/1", value: 9 },
    { op: "add", path: "/a/b~1c/-", value: 3 },
    { op: "replace", path: "/d", value: { e: 1 } },
    { op: "remove", path: "/a/b~1c/0" },
    { op: "add", path: "/n", value: [] },
  ]);
  check("selftest: JSON Patch add, remove, replace and test",
    JSON.stringify(out) === '{"a":{"b/c":[9,2,3]},"d":{"e":1},"n":[]}' && doc.a["b/c"].length === 2, JSON.stringify(out));
  const throws = (ops) => { try { applyPatch(doc, ops); return false; } catch { return true; } };
  check("selftest: JSON Patch refuses a failed test, a missing path, an index past the end, move",
    throws([{ op: "test", path: "/d", value: "y" }]) && throws([{ op: "add", path: "/x/y", value: 1 }]) &&
    throws([{ op: "add", path: "/a/b~1c/5", value: 1 }]) && throws([{ op: "replace", path: "/z", value: 1 }]) &&
    throws([{ op: "move", from: "/d", path: "/e" }]), "accepted");
}

// The review the golden case sends, as the webhook wraps it.
function reviewOf(bin, dir) {
  const input = existsSync(join(dir, "review.json")) ? join(dir, "review.json") : join(dir, "pod.yaml");
  return JSON.parse(execFileSync(bin, ["review", "--wrap-only", input], { encoding: "utf8" }));
}
function patchOf(answer) {
  const p = answer.response?.patch;
  return p ? JSON.parse(Buffer.from(p, "base64").toString("utf8")) : null;
}
const rank = (l) => LEVELS.indexOf(l);

function golden(bin, goldenDir, record) {
  const tmp = mkdtempSync(join(tmpdir(), "pss-"));
  let mutated = 0;
  const pending = [];
  try {
    for (const name of readdirSync(goldenDir).sort()) {
      const dir = join(goldenDir, name);
      if (!existsSync(join(dir, "response.json"))) continue;
      const ops = patchOf(JSON.parse(readFileSync(join(dir, "response.json"), "utf8")));
      if (!ops) continue;
      mutated++;
      const review = reviewOf(bin, dir);
      const pod = review.request.object;
      let after;
      try {
        after = applyPatch(pod, ops);
      } catch (e) {
        check(`${name}: the golden patch applies`, false, e.message);
        continue;
      }
      const before = level(pod), now = level(after);
      check(`${name}: the mutated pod meets the level the original met (${before} -> ${now})`, rank(now) >= rank(before),
        violations(after));

      // The same pod made restricted, reviewed with the case's config.
      const hard = structuredClone(pod);
      for (const { c } of containersOf(hard.spec)) c.securityContext = { ...(c.securityContext || {}), ...RESTRICTED_SC };
      if (!check(`${name}: the pod made restricted meets restricted before review`, level(hard) === "restricted", violations(hard)))
        continue;
      const f = join(tmp, `${name}.json`);
      writeFileSync(f, JSON.stringify({ ...review, request: { ...review.request, object: hard } }));
      const answer = JSON.parse(execFileSync(bin, ["review", "--config", join(dir, "config.yaml"), f], { encoding: "utf8" }));
      const hops = patchOf(answer);
      if (!check(`${name}: the pod made restricted is still mutated`, !!hops, JSON.stringify(answer.response))) continue;
      const hafter = applyPatch(hard, hops);
      const added = containersOf(hafter.spec).filter(({ c }) => !containersOf(hard.spec).some((o) => o.c.name === c.name));
      const what = `${name}: mutated, the restricted pod still meets restricted (containers added: ${added.map((a) => a.c.name).join(", ") || "none"})`;
      const why = violations(hafter).restricted.concat(violations(hafter).baseline).join("; ");
      if (record && level(hafter) !== "restricted") {
        pending.push(name);
      } else check(what, level(hafter) === "restricted", why);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  check("golden: there are mutated cases to check", mutated > 0, "no golden answer carries a patch");
  if (record)
    console.log(`NOTE golden: ${mutated - pending.length} of ${mutated} mutated restricted pods stay restricted; ` +
      `not yet (the added build container lacks a restricted securityContext): ${pending.join(", ")}`);
}

function workloads(label, files) {
  const objs = files.flatMap((f) => parseAllDocuments(readFileSync(f, "utf8")).map((d) => d.toJS()).filter(Boolean));
  const pods = objs.flatMap((o) => {
    if (o.kind === "Pod") return [{ o, pod: o }];
    if (o.kind === "Deployment" || o.kind === "Job") return [{ o, pod: o.spec.template }];
    return [];
  });
  check(`${label}: has pods`, pods.length > 0, "none");
  for (const { o, pod } of pods) {
    const name = `${label}: ${o.kind} ${o.metadata.name}`;
    if (pod.metadata?.labels?.["app.kubernetes.io/component"] === "buildkit") {
      // Documented in SECURITY.md: buildkitd needs a namespace that admits privileged pods.
      check(`${name} (buildkitd) needs Pod Security privileged, as documented`, level(pod) === "privileged", level(pod));
      continue;
    }
    check(`${name} meets Pod Security restricted`, level(pod) === "restricted",
      violations(pod).baseline.concat(violations(pod).restricted).join("; "));
  }
}

const [cmd, ...rest] = process.argv.slice(2);
try {
  if (cmd === "selftest") selftest();
  else if (cmd === "golden") golden(rest[0], rest[1], rest[2] === "--record-restricted");
  else if (cmd === "workloads") workloads(rest[0], rest.slice(1));
  else {
    console.error("usage: node pss-check.mjs selftest | golden BIN GOLDEN_DIR | workloads NAME FILE...");
    process.exit(2);
  }
} catch (e) {
  check(`${cmd}`, false, e.message);
}
finish();
