"""Report rill's import graph: cycles between packages, and function-local imports.

    python tools/import_graph.py [ROOT]

Reads the source (runs nothing). A package is ``rill.<name>`` (``rill.core``,
``rill.ops``, ...); an edge A -> B means a module of A imports one of B, at module level
or inside a function. Prints each strongly connected set of packages (an import cycle
between packages) and, per package, the module-level cycles inside it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def _imports(path: Path, module: str):
    """(imported module, is_local) for each import in ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    local_nodes = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node):
                if isinstance(sub, (ast.Import, ast.ImportFrom)):
                    local_nodes.add(id(sub))
    pkg = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = pkg.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for n in names:
            if n.startswith("rill"):
                yield n, id(node) in local_nodes


# design.md's layers, lowest first; a module may import only from its own layer or below.
# The public namespaces (rill.math, rill.nn, ...) re-export and sit above everything.
LAYERS = [
    ["rill.backend"],
    ["rill.core"],
    ["rill.ops"],
    # rill.xla lowers traced graphs; tracing reaches it (lazily) for jit_compile=True
    ["rill.tracing", "rill.autograph", "rill.xla"],
    ["rill.structures"],
    ["rill.data"],
    ["rill.summary"],  # below Keras: its TensorBoard callback writes through tf.summary
    # below Keras, as in TF: Keras saves through tf.saved_model and trains under
    # tf.distribute strategies; none of these import Keras
    ["rill.train", "rill.io", "rill.export", "rill.saved_model"],
    ["rill.distribute"],
    ["rill.keras"],
    ["rill.serving"],  # serves SavedModels over HTTP
]
_LAYER = {p: i for i, ps in enumerate(LAYERS) for p in ps}


def _package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else parts[0]


def _sccs(graph):
    """Strongly connected components of size > 1 (Tarjan, iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph.get(root, ())))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(graph.get(w, ()))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def main(root: Path) -> None:
    modules = {}
    for path in sorted((root / "rill").rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    pkg_graph: dict[str, set] = {}
    mod_graph: dict[str, set] = {}
    local_count = 0
    for mod, path in modules.items():
        for target, local in _imports(path, mod):
            while target not in modules and "." in target:
                target = target.rpartition(".")[0]
            if target not in modules or target == mod:
                continue
            local_count += local
            a, b = _package(mod), _package(target)
            if a != b and a != "rill" and b != "rill":
                pkg_graph.setdefault(a, set()).add(b)
            if not local:
                mod_graph.setdefault(mod, set()).add(target)
    upward = sorted(
        (a, b)
        for a, bs in pkg_graph.items()
        for b in bs
        if a in _LAYER and b in _LAYER and _LAYER[b] > _LAYER[a]
    )
    print(f"imports from a lower layer into a higher one: {len(upward)}")
    for a, b in upward:
        print(f"  {a} -> {b}")
    cycles = _sccs(pkg_graph)
    print(f"package import cycles: {len(cycles)}")
    for c in cycles:
        print("  " + " <-> ".join(c))
    inner = [c for c in _sccs(mod_graph) if len({_package(m) for m in c}) == 1]
    print(f"module-level import cycles inside one package: {len(inner)}")
    for c in inner:
        print("  " + ", ".join(c))
    print(f"function-local imports of rill modules: {local_count}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent))
