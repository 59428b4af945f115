// pss.mjs: the Pod Security Standards' "baseline" and "restricted"
// profiles as checks over a Pod (metadata + spec), written from the table of
// controls in the Kubernetes documentation (concepts/security/
// pod-security-standards), for Linux pods. Also a JSON Patch (RFC 6902)
// apply for the operations the webhook sends (add, remove, replace, test).
//
// violations(pod) -> {baseline: [..], restricted: [..]}: restricted lists
// only its own controls, so a pod meets "restricted" when both lists are
// empty, "baseline" when the first is.

const CAPS_BASELINE = new Set(["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
  "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"]);
const SELINUX_TYPES = new Set(["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]);
const SAFE_SYSCTLS = new Set(["kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"]);
const RESTRICTED_VOLUMES = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
  "projected", "secret"]);
const APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/";

// Every container of the pod with the field it is listed under.
export function containersOf(spec) {
  return ["initContainers", "containers", "ephemeralContainers"].flatMap((f) =>
    (spec?.[f] || []).map((c) => ({ c, where: `${f}[${c.name}]` })));
}

export function violations(pod) {
  const meta = pod.metadata || {};
  const spec = pod.spec || {};
  const psc = spec.securityContext || {};
  const ctrs = containersOf(spec);
  const base = [];
  const restr = [];
  const b = (msg) => base.push(msg);
  const r = (msg) => restr.push(msg);

  // ---- baseline ----
  // HostProcess
  if (psc.windowsOptions?.hostProcess) b("hostProcess: pod securityContext.windowsOptions.hostProcess");
  for (const { c, where } of ctrs)
    if (c.securityContext?.windowsOptions?.hostProcess) b(`hostProcess: ${where}`);
  // Host namespaces
  for (const f of ["hostNetwork", "hostPID", "hostIPC"]) if (spec[f]) b(`host namespaces: ${f} is true`);
  // Privileged containers
  for (const { c, where } of ctrs) if (c.securityContext?.privileged) b(`privileged: ${where}`);
  // Capabilities
  for (const { c, where } of ctrs)
    for (const cap of c.securityContext?.capabilities?.add || [])
      if (!CAPS_BASELINE.has(cap)) b(`capabilities: ${where} adds ${cap}`);
  // HostPath volumes
  for (const v of spec.volumes || []) if (v.hostPath) b(`hostPath volume ${v.name}`);
  // Host ports
  for (const { c, where } of ctrs)
    for (const p of c.ports || []) if (p.hostPort) b(`host port ${p.hostPort}: ${where}`);
  // AppArmor
  const apparmorOk = (t) => t === undefined || t === "RuntimeDefault" || t === "Localhost";
  if (!apparmorOk(psc.appArmorProfile?.type)) b(`AppArmor: pod profile ${psc.appArmorProfile.type}`);
  for (const { c, where } of ctrs)
    if (!apparmorOk(c.securityContext?.appArmorProfile?.type)) b(`AppArmor: ${where} profile ${c.securityContext.appArmorProfile.type}`);
  for (const [k, v] of Object.entries(meta.annotations || {}))
    if (k.startsWith(APPARMOR_ANNOTATION) && v !== "runtime/default" && !String(v).startsWith("localhost/"))
      b(`AppArmor: annotation ${k}=${v}`);
  // SELinux
  const seOk = (o, where) => {
    if (!o) return;
    if (!SELINUX_TYPES.has(o.type ?? "")) b(`SELinux: ${where} type ${o.type}`);
    if (o.user) b(`SELinux: ${where} sets user`);
    if (o.role) b(`SELinux: ${where} sets role`);
  };
  seOk(psc.seLinuxOptions, "pod");
  for (const { c, where } of ctrs) seOk(c.securityContext?.seLinuxOptions, where);
  // /proc mount type
  for (const { c, where } of ctrs) {
    const pm = c.securityContext?.procMount;
    if (pm !== undefined && pm !== "Default") b(`procMount ${pm}: ${where}`);
  }
  // Seccomp
  if (psc.seccompProfile?.type === "Unconfined") b("seccomp: pod profile Unconfined");
  for (const { c, where } of ctrs)
    if (c.securityContext?.seccompProfile?.type === "Unconfined") b(`seccomp: ${where} profile Unconfined`);
  // Sysctls
  for (const s of psc.sysctls || []) if (!SAFE_SYSCTLS.has(s.name)) b(`sysctl ${s.name}`);

  // ---- restricted ----
  // Volume types
  for (const v of spec.volumes || []) {
    const kinds = Object.keys(v).filter((k) => k !== "name");
    if (!kinds.every((k) => RESTRICTED_VOLUMES.has(k))) r(`volume ${v.name} of type ${kinds.join(",")}`);
  }
  for (const { c, where } of ctrs) {
    const sc = c.securityContext || {};
    // Privilege escalation: must be false.
    if (sc.allowPrivilegeEscalation !== false) r(`allowPrivilegeEscalation is not false: ${where}`);
    // Running as non-root: the container's own value wins over the pod's.
    if ((sc.runAsNonRoot ?? psc.runAsNonRoot) !== true) r(`runAsNonRoot is not true: ${where}`);
    // Non-root user: runAsUser, where set, is not 0.
    if (sc.runAsUser === 0) r(`runAsUser 0: ${where}`);
    // Seccomp: RuntimeDefault or Localhost, on the container or the pod.
    const sec = sc.seccompProfile?.type ?? psc.seccompProfile?.type;
    if (sec !== "RuntimeDefault" && sec !== "Localhost") r(`seccomp profile is not RuntimeDefault or Localhost: ${where}`);
    // Capabilities: drop ALL, add at most NET_BIND_SERVICE.
    if (!(sc.capabilities?.drop || []).includes("ALL")) r(`capabilities do not drop ALL: ${where}`);
    for (const cap of sc.capabilities?.add || []) if (cap !== "NET_BIND_SERVICE") r(`capabilities: ${where} adds ${cap}`);
  }
  if (psc.runAsUser === 0) r("runAsUser 0: pod");
  return { baseline: base, restricted: restr };
}

export const LEVELS = ["privileged", "baseline", "restricted"];

// The highest level the pod meets.
export function level(pod) {
  const v = violations(pod);
  if (v.baseline.length) return "privileged";
  return v.restricted.length ? "baseline" : "restricted";
}

// ---- JSON Patch (RFC 6902): add, remove, replace, test ----

function parsePointer(path) {
  if (path === "") return [];
  if (!path.startsWith("/")) throw new Error(`bad JSON pointer ${JSON.stringify(path)}`);
  return path.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a), kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
}

function arrayIndex(arr, tok, forAdd) {
  if (forAdd && tok === "-") return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(tok)) throw new Error(`bad array index ${tok}`);
  const i = Number(tok);
  if (i > arr.length || (!forAdd && i === arr.length)) throw new Error(`array index ${i} out of range`);
  return i;
}

// Applies the operations to a deep copy of doc and returns it; throws on an
// operation it cannot apply (as the API server would reject the patch).
export function applyPatch(doc, ops) {
  let root = structuredClone(doc);
  for (const op of ops) {
    const toks = parsePointer(op.path);
    if (toks.length === 0) {
      if (op.op === "test") { if (!deepEqual(root, op.value)) throw new Error("test failed at the root"); continue; }
      if (op.op === "add" || op.op === "replace") { root = structuredClone(op.value); continue; }
      throw new Error(`${op.op} of the whole document`);
    }
    let parent = root;
    for (const t of toks.slice(0, -1)) {
      if (Array.isArray(parent)) parent = parent[arrayIndex(parent, t, false)];
      else if (parent && typeof parent === "object" && Object.prototype.hasOwnProperty.call(parent, t)) parent = parent[t];
      else throw new Error(`path ${op.path} does not exist`);
      if (parent === null || typeof parent !== "object") throw new Error(`path ${op.path} does not exist`);
    }
    const last = toks[toks.length - 1];
    const has = Array.isArray(parent) ? null : Object.prototype.hasOwnProperty.call(parent, last);
    switch (op.op) {
      case "add":
        if (!("value" in op)) throw new Error("add without a value");
        if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true), 0, structuredClone(op.value));
        else parent[last] = structuredClone(op.value);
        break;
      case "remove":
        if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, false), 1);
        else if (has) delete parent[last];
        else throw new Error(`remove of missing ${op.path}`);
        break;
      case "replace":
        if (!("value" in op)) throw new Error("replace without a value");
        if (Array.isArray(parent)) parent[arrayIndex(parent, last, false)] = structuredClone(op.value);
        else if (has) parent[last] = structuredClone(op.value);
        else throw new Error(`replace of missing ${op.path}`);
        break;
      case "test": {
        const cur = Array.isArray(parent) ? parent[arrayIndex(parent, last, false)] : has ? parent[last] : undefined;
        if (cur === undefined || !deepEqual(cur, op.value)) throw new Error(`test failed at ${op.path}`);
        break;
      }
      default:
        throw new Error(`unsupported patch operation ${op.op}`);
    }
  }
  return root;
}
