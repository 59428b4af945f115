// imagespec.mjs: attaching an ImageSpec from flytekit. Checks
// hack/imagespec-annotation.sh (the `imagespec-annotation` command) and the
// README's section "Attaching an ImageSpec from flytekit": the printed YAML
// and Python read back as the label and the very spec given; the README's
// Python snippets run (python3, with a stand-in for the parts of flytekit
// they use) and describe a pod that `review` mutates with the build of that
// spec; the README's PodTemplate is a valid PodTemplate carrying the same
// annotation the tool prints.
//
//   node imagespec.mjs ROOT WEBHOOK_BIN
//
// Prints "PASS <name>" or "FAIL <name>: <why>"; exits 1 when a check failed.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { parse as parseYaml } from "yaml";
import { check, finish } from "./report.mjs";

const [root, bin] = process.argv.slice(2);
if (!root || !bin) {
  console.error("usage: node imagespec.mjs ROOT WEBHOOK_BIN");
  process.exit(2);
}
const LABEL = "imagebuilder.union.ai/builder";
const ANNOT = "imagebuilder.union.ai/image-spec";
const tool = join(root, "hack", "imagespec-annotation.sh");
const work = mkdtempSync(join(tmpdir(), "imagespec-"));

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, WEBHOOK_BIN: bin }, ...opts });
  return { code: r.status, out: r.stdout || "", err: `${r.stderr || ""}${r.error ? r.error.message : ""}` };
}

// ---- the README's section -------------------------------------------------
const readme = readFileSync(join(root, "README.md"), "utf8");
const start = readme.indexOf("### Attaching an ImageSpec from flytekit");
const rest = readme.slice(start + 4);
const section = start < 0 ? "" : readme.slice(start, start + 4 + rest.search(/\n##+ /));
const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], text: m[2] }));
const specBlock = blocks.find((b) => b.lang === "yaml" && b.text.startsWith("# spec.yaml"));
const pythonBlocks = blocks.filter((b) => b.lang === "python").map((b) => b.text);
const templateBlock = blocks.find((b) => b.lang === "yaml" && /kind: PodTemplate/.test(b.text));
check("README: the section has the spec file, two Python snippets and a PodTemplate",
  !!specBlock && pythonBlocks.length === 2 && !!templateBlock, `${blocks.length} code blocks`);
if (!specBlock) process.exit(1);
writeFileSync(join(work, "spec.yaml"), specBlock.text);
const spec = parseYaml(specBlock.text);

// ---- the tool's YAML and Python -------------------------------------------
const both = run(tool, [join(work, "spec.yaml")]);
check("tool: prints the YAML snippet and the Python dicts for the README's spec",
  both.code === 0 && both.out.includes("metadata:") && both.out.includes("ANNOTATIONS = {"), both.err);
const y = run(tool, ["--yaml", join(work, "spec.yaml")]);
let toolAnnotation = "";
if (check("tool --yaml: exit 0", y.code === 0, y.err)) {
  const doc = parseYaml(y.out);
  toolAnnotation = doc?.metadata?.annotations?.[ANNOT] || "";
  check("tool --yaml: the label is imagebuilder.union.ai/builder=union",
    isDeepStrictEqual(doc?.metadata?.labels, { [LABEL]: "union" }), doc?.metadata?.labels);
  check("tool --yaml: the annotation is the spec, field for field", isDeepStrictEqual(JSON.parse(toolAnnotation || "null"), spec),
    toolAnnotation);
  check("tool --yaml: no Python in the YAML part", !y.out.includes("LABELS ="), y.out);
}
const py = run(tool, ["--python", join(work, "spec.yaml")]);
if (check("tool --python: exit 0", py.code === 0, py.err)) {
  const r = run("python3", ["-c", `${py.out}\nimport json\nprint(json.dumps([LABELS, json.loads(ANNOTATIONS["${ANNOT}"])]))`]);
  check("tool --python: valid Python whose dicts hold the label and the spec",
    r.code === 0 && isDeepStrictEqual(JSON.parse(r.out || "null"), [{ [LABEL]: "union" }, spec]), r.err || r.out);
}
const arr = [{ name: "trainer", builder: "union", packages: ["torch==2.3.1"] },
  { name: "sidecar", builder: "union", registry: "ghcr.io/acme", apt_packages: ["curl"] }];
const a = run(tool, ["--yaml", "-"], { input: JSON.stringify(arr) });
check("tool: a JSON list of specs from standard input becomes one annotation",
  a.code === 0 && isDeepStrictEqual(JSON.parse(parseYaml(a.out)?.metadata?.annotations?.[ANNOT] || "null"), arr), a.err || a.out);
const refuse = (name, input, pattern) => {
  const r = run(tool, ["-"], { input });
  check(`tool refuses ${name}`, r.code === 1 && pattern.test(r.err) && r.out === "", `exit ${r.code}: ${r.err}`);
};
refuse("a spec without builder union", "name: x\nbuilder: envd\n", /no ImageSpec has builder union/);
refuse("a spec without a name", "builder: union\n", /has no "name"/);
refuse("a registry with a tag", "name: x\nbuilder: union\nregistry: ghcr.io/acme:latest\n", /registry/);
refuse("an unquoted python_version", "name: x\nbuilder: union\npython_version: 3.10\n", /python_version must be a string/);
refuse("malformed YAML", "name: [x\n", /line \d+/);
const help = run(tool, ["--help"]);
check("tool --help: usage, exit 2", help.code === 2 && /Usage: hack\/imagespec-annotation.sh/.test(help.out), help.out);
const nobin = spawnSync(tool, [join(work, "spec.yaml")], {
  encoding: "utf8", env: { ...process.env, WEBHOOK_BIN: join(work, "missing") },
});
check("tool: a missing binary is reported, exit 2", nobin.status === 2 && /is missing/.test(nobin.stderr), nobin.stderr);

// ---- the README's PodTemplate -----------------------------------------------
if (templateBlock) {
  const tpl = parseYaml(templateBlock.text);
  const { PodTemplate } = await import("kubernetes-models/v1");
  let why = "";
  try {
    new PodTemplate(tpl).validate();
  } catch (e) {
    why = e.message;
  }
  check("README PodTemplate: valid against the Kubernetes schema", why === "", why);
  check("README PodTemplate: the label and exactly the annotation the tool prints",
    tpl?.template?.metadata?.labels?.[LABEL] === "union" && tpl?.template?.metadata?.annotations?.[ANNOT] === toolAnnotation,
    tpl?.template?.metadata);
}

// ---- the README's Python snippets, run ------------------------------------------
// A stand-in for the parts of flytekit the snippets use: ImageSpec takes
// only flytekit's field names and gives name:<22-character tag>; task and
// PodTemplate record what they were given.
const FLYTEKIT = `
import hashlib, json
FIELDS = {"python_version", "builder", "source_root", "env", "registry", "packages",
          "conda_packages", "conda_channels", "requirements", "apt_packages", "cuda", "cudnn",
          "base_image", "platform", "pip_index", "pip_extra_index_url", "pip_secret_mounts",
          "pip_extra_args", "registry_config", "entrypoint", "commands", "tag_format",
          "source_copy_mode", "copy", "python_exec", "runtime_packages", "builder_options",
          "builder_config"}
TASKS = []

class ImageSpec:
    def __init__(self, name="flytekit", **fields):
        unknown = set(fields) - FIELDS
        if unknown:
            raise TypeError("unexpected ImageSpec fields: %s" % sorted(unknown))
        self.name, self.fields = name.lower(), fields

    def image_name(self):
        digest = hashlib.md5(json.dumps([self.name, self.fields], sort_keys=True).encode())
        return "%s:%s" % (self.name, digest.hexdigest()[:22])

class PodTemplate:
    def __init__(self, pod_spec=None, primary_container_name="primary", labels=None, annotations=None):
        self.labels, self.annotations = labels, annotations

def task(_fn=None, **kwargs):
    def wrap(fn):
        pt = kwargs.get("pod_template")
        TASKS.append({"name": fn.__name__, "image": kwargs.get("container_image"),
                      "labels": kwargs.get("labels") or (pt and pt.labels),
                      "annotations": kwargs.get("annotations") or (pt and pt.annotations)})
        return fn
    return wrap(_fn) if _fn else wrap
`;
mkdirSync(join(work, "stub", "flytekit"), { recursive: true });
writeFileSync(join(work, "stub", "flytekit", "__init__.py"), FLYTEKIT);
const program = `${pythonBlocks.join("\n")}\nimport json as _j, flytekit as _f\nprint(_j.dumps(_f.TASKS))\n`;
const r = run("python3", ["-c", program], { cwd: work, env: { ...process.env, PYTHONPATH: join(work, "stub") } });
let tasks = [];
if (check("README Python snippets run (python3 with PyYAML, flytekit stand-in)", r.code === 0, r.err)) tasks = JSON.parse(r.out);
check("README Python snippets: two tasks, one through labels/annotations, one through a PodTemplate",
  tasks.length === 2 && tasks[0].name === "say_hello" && tasks[1].name === "say_hello_again", tasks);
for (const t of tasks) {
  check(`README ${t.name}: the image is cr.union.ai/<name>:<tag>`, /^cr\.union\.ai\/say-hello-image:[0-9a-f]{22}$/.test(t.image), t.image);
  check(`README ${t.name}: the label`, isDeepStrictEqual(t.labels, { [LABEL]: "union" }), t.labels);
  check(`README ${t.name}: the annotation is the spec file`, isDeepStrictEqual(JSON.parse(t.annotations?.[ANNOT] || "null"), spec),
    t.annotations);
}

// ---- the pod those tasks describe, through review ---------------------------------
if (tasks.length) {
  const t = tasks[0];
  const pod = {
    apiVersion: "v1", kind: "Pod",
    metadata: { name: "a8x2k9-n0-0", namespace: "flytesnacks-development", labels: { ...t.labels, project: "flytesnacks" },
      annotations: t.annotations },
    spec: { containers: [{ name: "primary", image: t.image }] },
  };
  writeFileSync(join(work, "pod.json"), JSON.stringify(pod));
  writeFileSync(join(work, "config.yaml"), "imageBuilder:\n  defaultRepository: localhost:5000/union\n");
  let patch = [];
  try {
    const out = JSON.parse(execFileSync(bin, ["review", "--config", join(work, "config.yaml"), join(work, "pod.json")],
      { encoding: "utf8" }));
    patch = JSON.parse(Buffer.from(out.response?.patch || "", "base64").toString() || "[]");
  } catch (e) {
    check("review: the snippet's pod is answered", false, e.message);
  }
  const tag = t.image.split(":")[1];
  const target = `localhost:5000/union/say-hello-image:${tag}`;
  const inits = patch.find((o) => o.path === "/spec/initContainers")?.value || [];
  const env = Object.fromEntries((inits[0]?.env || []).map((e) => [e.name, e.value]));
  check("review: the snippet's pod gets the build of its spec, tag kept",
    inits[0]?.name === "build-image" && env.TARGET_IMAGE === target && isDeepStrictEqual(JSON.parse(env.IMAGE_SPEC || "null"), spec),
    { target: env.TARGET_IMAGE, spec: env.IMAGE_SPEC });
  check("review: the task container now runs the target",
    patch.some((o) => o.path === "/spec/containers/0/image" && o.value === target), patch.map((o) => o.path));
}

rmSync(work, { recursive: true, force: true });
finish();
