// netpol.mjs: decides whether the NetworkPolicies of a set of objects let a
// given source pod connect to a given port of a given target pod, following
// the semantics of networking.k8s.io/v1 NetworkPolicy (ingress only):
//
// - a pod is isolated for ingress when at least one policy of its namespace
//   selects it and has Ingress among its policyTypes (policyTypes absent:
//   Ingress); an isolated pod admits only what some rule of those policies
//   allows, any other pod admits everything;
// - a rule allows a connection when one of its `from` peers matches the
//   source (no `from`: every source) and one of its `ports` matches the
//   target port (no `ports`: every port); a named port matches a container
//   port of that name, the protocol defaults to TCP;
// - a peer with only podSelector means pods of the policy's own namespace,
//   only namespaceSelector all pods of the matching namespaces, both: the
//   matching pods of the matching namespaces; ipBlock peers are not pods and
//   never match here;
// - an empty selector matches everything; every namespace carries the label
//   kubernetes.io/metadata.name with its name.

// matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist).
export function selectorMatches(sel, labels) {
  if (!sel) return false;
  labels = labels || {};
  const ml = sel.matchLabels || {};
  if (!Object.entries(ml).every(([k, v]) => labels[k] === v)) return false;
  return (sel.matchExpressions || []).every((e) => {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    switch (e.operator) {
      case "In": return has && (e.values || []).includes(labels[e.key]);
      case "NotIn": return !has || !(e.values || []).includes(labels[e.key]);
      case "Exists": return has;
      case "DoesNotExist": return !has;
      default: return false;
    }
  });
}

const nsLabels = (ns) => ({ "kubernetes.io/metadata.name": ns.name, ...(ns.labels || {}) });

function peerMatches(peer, policyNs, src) {
  if (peer.ipBlock) return false;
  const nsOk = peer.namespaceSelector ? selectorMatches(peer.namespaceSelector, nsLabels(src.namespace))
    : src.namespace.name === policyNs;
  const podOk = peer.podSelector ? selectorMatches(peer.podSelector, src.labels) : true;
  return nsOk && podOk;
}

function portMatches(p, target, port) {
  if ((p.protocol || "TCP") !== (port.protocol || "TCP")) return false;
  if (p.port === undefined) return true;
  if (typeof p.port === "string") {
    const named = (target.ports || []).find((cp) => cp.name === p.port);
    return !!named && named.containerPort === port.number;
  }
  const end = p.endPort ?? p.port;
  return port.number >= p.port && port.number <= end;
}

// policies: NetworkPolicy objects. target: {namespace, labels, ports:
// [{name, containerPort}]}. src: {namespace: {name, labels}, labels}.
// port: {number, protocol}.
export function admits(policies, target, src, port) {
  const selecting = policies.filter((p) => (p.metadata?.namespace || "") === target.namespace &&
    selectorMatches(p.spec?.podSelector || {}, target.labels) &&
    (p.spec?.policyTypes || ["Ingress"]).includes("Ingress"));
  if (selecting.length === 0) return true;
  return selecting.some((p) => (p.spec.ingress || []).some((rule) =>
    (!rule.from || rule.from.length === 0 || rule.from.some((peer) => peerMatches(peer, target.namespace, src))) &&
    (!rule.ports || rule.ports.length === 0 || rule.ports.some((pp) => portMatches(pp, target, port)))));
}

// The target description of a Deployment's pods.
export function podTarget(dep) {
  const spec = dep.spec?.template?.spec || {};
  return {
    namespace: dep.metadata?.namespace || "",
    labels: dep.spec?.template?.metadata?.labels || {},
    ports: (spec.containers || []).flatMap((c) => c.ports || []),
  };
}
