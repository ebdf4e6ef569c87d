#!/usr/bin/env python3
"""The house's shape rules, checked on the source tree and on a build's objects.

  scripts/check_layout.py [--build DIR] [PATH ...]

- No C function longer than FUNC_MAX lines, no C source file longer than FILE_MAX
  lines (under PATH..., default: common server routes store proxy).
- No two source files call each other, directly or round a circle: from the
  object files of the build (nm), file A depends on file B when A uses a symbol
  that B defines; every strongly connected group of more than one file is a
  violation.  Skipped when no build directory is given or found.

Prints one line per violation and exits 1 if there is any.
"""
import argparse
import os
import re
import subprocess
import sys

FUNC_MAX = 150
FILE_MAX = 1000
DEFAULT_PATHS = ["common", "server", "routes", "store", "proxy"]

# A function definition as the house formats it: the signature ends a line
# with ')' and the body opens with '{' alone at column 0, closes with '}'.
NAME_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def c_sources(root, paths):
    for p in paths:
        top = os.path.join(root, p)
        for d, _, files in os.walk(top):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.join(d, f)


def check_sizes(root, paths):
    bad = []
    for path in c_sources(root, paths):
        rel = os.path.relpath(path, root)
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().split("\n")
        if path.endswith(".c") and len(lines) > FILE_MAX:
            bad.append("%s: %d lines (at most %d)" % (rel, len(lines), FILE_MAX))
        start = None
        for i, line in enumerate(lines):
            if line == "{" and start is None:
                start = i
            elif line.startswith("}") and start is not None:
                n = i - start + 1
                if n > FUNC_MAX:
                    name = "?"
                    for j in range(start - 1, max(start - 6, -1), -1):
                        m = NAME_RE.search(lines[j])
                        if m:
                            name = m.group(1)
                            break
                    bad.append("%s:%d: %s() is %d lines (at most %d)"
                               % (rel, start + 1, name, n, FUNC_MAX))
                start = None
    return bad


def objects(build):
    for d, _, files in os.walk(build):
        if "CMakeFiles" not in d:
            continue
        for f in files:
            if f.endswith(".c.o"):
                yield os.path.join(d, f)


def source_of(obj):
    """build/CMakeFiles/<target>.dir/<src path>.c.o -> <src path>.c"""
    parts = obj.split(os.sep)
    for i, p in enumerate(parts):
        if p.endswith(".dir") and i > 0 and parts[i - 1] == "CMakeFiles":
            return os.sep.join(parts[i + 1:])[:-2]
    return None


def nm(obj, flag):
    out = subprocess.run(["nm", flag, obj], capture_output=True, text=True).stdout
    syms = set()
    for line in out.splitlines():
        f = line.split()
        if flag == "-u" and len(f) >= 2:
            syms.add(f[-1])
        elif flag == "--defined-only" and len(f) == 3 and f[1] in "TDBRGSV":
            syms.add(f[2])
    return syms


def check_cycles(build, paths):
    defined, used = {}, {}
    for obj in objects(build):
        src = source_of(obj)
        if src is None or not any(src.startswith(p + os.sep) for p in paths):
            continue
        if os.path.basename(src).startswith(("test_", "fuzz_", "bench_")):
            continue
        for s in nm(obj, "--defined-only"):
            defined.setdefault(s, set()).add(src)
        used.setdefault(src, set()).update(nm(obj, "-u"))
    graph = {}
    for src, syms in used.items():
        graph[src] = set()
        for s in syms:
            for d in defined.get(s, ()):
                if d != src:
                    graph[src].add(d)
    # Tarjan's strongly connected components.
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return ["files that call each other: %s" % " <-> ".join(c) for c in sccs]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", help="a build directory (default: build/ if present)")
    ap.add_argument("paths", nargs="*", default=DEFAULT_PATHS)
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bad = check_sizes(root, a.paths)
    build = a.build or os.path.join(root, "build")
    if os.path.isdir(build):
        bad += check_cycles(build, a.paths)
    for b in bad:
        print(b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
