// The deploy checks' report: every check prints "PASS <name>" or
// "FAIL <name>: <why>", and the script ends with exit code 1 when any failed.
let failed = 0;

export function pass(name) {
  console.log(`PASS ${name}`);
}

export function fail(name, why) {
  failed++;
  console.log(`FAIL ${name}: ${typeof why === "string" ? why : JSON.stringify(why)}`);
}

export function check(name, cond, why) {
  if (cond) pass(name);
  else fail(name, why);
  return cond;
}

// Exits with 1 when a check failed, 0 otherwise.
export function finish() {
  process.exit(failed ? 1 : 0);
}
