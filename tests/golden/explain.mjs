// `review --explain` on every golden case says what the answer says: the
// decision (denied with its code exactly when the answer denies), the
// patch section parsed as YAML equals the answer's decoded JSON Patch
// (injected containers and volumes included, not null) with the operation
// count in its title, and the mutated pod section equals the pod the golden
// checker patched with evanphx/json-patch (PATCHED_DIR/<case>.json).
//
// Usage: node tests/golden/explain.mjs BIN GOLDEN_DIR PATCHED_DIR
// Prints "PASS <case>" or "FAIL <case>: why" per case.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { isDeepStrictEqual } from "node:util";
import path from "node:path";

const require = createRequire(new URL("../deploy/package.json", import.meta.url));
const YAML = require("yaml");

const [bin, root, patchedDir] = process.argv.slice(2);
if (!bin || !root || !patchedDir) {
  console.error("usage: node explain.mjs BIN GOLDEN_DIR PATCHED_DIR");
  process.exit(2);
}

const review = (...args) => execFileSync(bin, ["review", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

// The text between the line `start` matches and the next line `end` matches (or the end).
function section(lines, start, end) {
  const i = lines.findIndex((l) => start.test(l));
  if (i < 0) return null;
  let j = i + 1;
  while (j < lines.length && !(end && end.test(lines[j]))) j++;
  return { title: lines[i], text: lines.slice(i + 1, j).join("\n") };
}

function checkCase(dir) {
  const input = existsSync(path.join(dir, "review.json")) ? path.join(dir, "review.json") : path.join(dir, "pod.yaml");
  const cfg = path.join(dir, "config.yaml");
  const answer = JSON.parse(review("--config", cfg, input)).response;
  const lines = review("--config", cfg, "--explain", input).split("\n");
  const errs = [];
  const decision = lines[0] || "";
  if (answer.allowed === false) {
    if (decision !== `decision: denied (${answer.status?.code})`) errs.push(`first line ${JSON.stringify(decision)} for a denial`);
  }
  const patch = answer.patch ? JSON.parse(Buffer.from(answer.patch, "base64").toString("utf8")) : null;
  if (answer.allowed !== false && decision !== (patch ? "decision: mutated" : "decision: allowed"))
    errs.push(`first line ${JSON.stringify(decision)} for an answer allowed ${patch ? "with" : "without"} a patch`);
  const shown = section(lines, /^patch \(\d+ operations\):$/, /^mutated pod:$/);
  if (!patch) {
    if (shown) errs.push("a patch section without a patch in the answer");
    return errs;
  }
  if (!shown) return [...errs, "no patch section"];
  if (shown.title !== `patch (${patch.length} operations):`) errs.push(`title ${JSON.stringify(shown.title)}, ${patch.length} operations`);
  const parsed = YAML.parse(shown.text);
  if (!isDeepStrictEqual(parsed, patch)) errs.push(`the patch section differs from the answer's patch:\n${shown.text}`);
  const pod = section(lines, /^mutated pod:$/, null);
  const want = path.join(patchedDir, path.basename(dir) + ".json");
  if (!pod) errs.push("no mutated pod section");
  else if (existsSync(want) && !isDeepStrictEqual(YAML.parse(pod.text), JSON.parse(readFileSync(want, "utf8"))))
    errs.push("the mutated pod differs from the patched pod");
  return errs;
}

for (const name of readdirSync(root).sort()) {
  const dir = path.join(root, name);
  if (!statSync(dir).isDirectory()) continue;
  let errs;
  try {
    errs = checkCase(dir);
  } catch (e) {
    errs = [String(e.message || e)];
  }
  console.log(errs.length ? `FAIL ${name}: ${errs.join("; ")}` : `PASS ${name}`);
}
