#!/usr/bin/env python3
"""Structure rules of webhook/ that the build cannot see, one line per check:
"ok WHAT" or "ko WHAT<TAB>DETAIL".

- every file opens with a comment naming what it owns ("/* name: ...");
- no .c file over 700 lines;
- no function over 80 lines unless the comment just above it says why,
  with "(long: <why>)";
- no include cycle between the project's headers;
- no prototype of another module declared inside a .c file (a non-static
  declaration at file scope): it belongs in that module's header.
"""
import glob
import os
import re
import sys

MAX_FILE = 700
MAX_FUNC = 80
root = sys.argv[1] if len(sys.argv) > 1 else "webhook"
files = sorted(glob.glob(os.path.join(root, "*.[ch]")))


def out(good, what, detail=""):
    print(("ok " if good else "ko ") + what + ("" if good else "\t" + detail))


def functions(lines):
    """(name, first line index, length, comment above) of each function definition."""
    i = 0
    while i < len(lines):
        if lines[i] == "{" and i > 0 and not lines[i - 1].startswith((" ", "\t", "#")):
            start = i - 1
            while start > 0 and lines[start - 1] and not lines[start - 1].endswith((";", "}", "*/")) \
                    and lines[start - 1][0] not in " \t#/":
                start -= 1
            end = i
            while end < len(lines) and lines[end] != "}":
                end += 1
            above = []
            j = start - 1
            while j >= 0 and (lines[j].startswith(("/*", " *")) or lines[j].endswith("*/")):
                above.insert(0, lines[j])
                j -= 1
            m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", " ".join(lines[start:i]))
            yield (m.group(1) if m else "?"), start, end - start + 1, "\n".join(above)
            i = end
        i += 1


def check_file(path):
    text = open(path, encoding="utf-8").read()
    lines = text.split("\n")
    base = os.path.basename(path)
    name = base.rsplit(".", 1)[0]
    out(re.match(r"/\* %s: " % re.escape(name), text) is not None,
        "%s opens with what it owns" % base, 'the first line must be "/* %s: ..."' % name)
    if not path.endswith(".c"):
        return
    out(len(lines) - 1 <= MAX_FILE, "%s is at most %d lines" % (base, MAX_FILE),
        "%d lines" % (len(lines) - 1))
    long_ones = ["%s (%d lines, line %d)" % (fn, n, s + 1)
                 for fn, s, n, above in functions(lines)
                 if n > MAX_FUNC and "(long:" not in above]
    out(not long_ones, "%s: functions at most %d lines" % (base, MAX_FUNC),
        ", ".join(long_ones) + ' (split it, or say why above it with "(long: ...)")')
    protos = []
    depth = 0
    for ln in lines:
        if depth == 0 and re.match(r"^(?!static|typedef|extern \"C\"|#|\s|/|\*|}|struct\b[^;]*\{)"
                                   r"[A-Za-z_].*\)\s*;\s*$", ln) and "=" not in ln:
            protos.append(ln.strip())
        depth += ln.count("{") - ln.count("}")
    out(not protos, "%s declares no other module's prototype" % base,
        "; ".join(protos) + " (include the module's header)")


def check_cycles():
    graph = {}
    for h in glob.glob(os.path.join(root, "*.h")):
        inc = re.findall(r'^#include "([^"]+)"', open(h, encoding="utf-8").read(), re.M)
        graph[os.path.basename(h)] = [i for i in inc if os.path.exists(os.path.join(root, i))]
    state, cycles = {}, []

    def visit(n, stack):
        state[n] = 1
        for m in graph.get(n, []):
            if state.get(m) == 1:
                cycles.append(" -> ".join(stack[stack.index(m):] + [m]))
            elif not state.get(m):
                visit(m, stack + [m])
        state[n] = 2

    for n in sorted(graph):
        if not state.get(n):
            visit(n, [n])
    out(not cycles, "no include cycle between the headers", "; ".join(cycles))


for f in files:
    check_file(f)
check_cycles()
