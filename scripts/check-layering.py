#!/usr/bin/env python3
"""Checks that every target imports only what Package.swift's layering table allows.

The table at the top of Package.swift lists the targets in layer order; a Swift target may import
a target only if it is one of its declared dependencies (directly or transitively) in
Package.swift. This script reads both, then every `import X` of Sources/<target>/**/*.swift, and
reports imports of package targets that are not dependencies, and table rows that name no target.
Exit status 1 on any problem. Run from the repository root: `python3 scripts/check-layering.py`.
"""
import pathlib, re, sys

root = pathlib.Path(__file__).resolve().parent.parent
package = (root / "Package.swift").read_text()

# Declared targets and their dependencies (string dependencies only; products are external).
targets = {}
declarations = list(re.finditer(r'\.(target|executableTarget|systemLibrary|testTarget)\(\s*name:\s*"([^"]+)"', package))
for i, m in enumerate(declarations):
    end = declarations[i + 1].start() if i + 1 < len(declarations) else len(package)
    kind, name, rest = m.group(1), m.group(2), package[m.end():end]
    deps = re.search(r'dependencies:\s*\[(.*?)\]', rest, re.S)
    path = re.search(r'path:\s*"([^"]+)"', rest)
    targets[name] = (set(re.findall(r'"([^"]+)"', deps.group(1))) if deps else set(),
                     path.group(1) if path else None, kind == "testTarget")

def closure(name, seen=None):
    seen = set() if seen is None else seen
    for dep in targets.get(name, (set(),))[0]:
        if dep not in seen:
            seen.add(dep)
            closure(dep, seen)
    return seen

problems = []
table = re.findall(r'^//   (\S+(?:, \S+)*)\s{2,}', package, re.M)
tabled = {n.strip() for row in table for n in row.split(",")}
for name in tabled:
    if name not in targets:
        problems.append(f"Package.swift's layering table names {name}, which is not a target")
for name, (deps, path, is_test) in targets.items():
    if not is_test and name not in tabled:
        problems.append(f"target {name} is missing from Package.swift's layering table")
    folder = root / (path or (("Tests/" if is_test else "Sources/") + name))
    allowed = closure(name) | {name}
    for file in sorted(folder.rglob("*.swift")):
        for line_number, line in enumerate(file.read_text().splitlines(), 1):
            m = re.match(r'\s*(?:@_exported\s+|@testable\s+)?import\s+(\w+)', line)
            if m and m.group(1) in targets and m.group(1) not in allowed:
                problems.append(f"{file.relative_to(root)}:{line_number}: {name} imports {m.group(1)}, "
                                f"which is not among its dependencies in Package.swift")
    # The table's order: a non-test target depends only on targets listed above it.
    if not is_test and name in tabled:
        order = [n.strip() for row in table for n in row.split(",")]
        for dep in deps:
            if dep in order and order.index(dep) > order.index(name):
                problems.append(f"{name} depends on {dep}, which is below it in Package.swift's layering table")

for p in problems:
    print(p)
print(f"checked {len(targets)} targets: {'OK' if not problems else str(len(problems)) + ' problems'}")
sys.exit(1 if problems else 0)
