"""How much of TensorFlow 2.21's public API rill has, namespace by namespace.

Reads ``tools/api/tf-2.21.json`` (written by ``dump_tf_api.py`` under TensorFlow) and,
with only rill installed, resolves every name at the same path in rill (``tf.math.add``
-> ``rill.math.add``, ``tf.keras.layers.Dense`` -> ``rill.keras.layers.Dense``) by
``getattr`` from ``import rill``, as user code would (lazy namespaces load on access).
For each name rill has, it also checks the kind (a TF class must be a class in rill, a
function a function...) and the parameters: TF's positional-or-keyword parameters must
be rill's, by name and in order; TF's keyword-only names must be accepted; rill may add
trailing parameters with defaults; rill's ``*args`` or ``**kwargs`` accept any name.

    python tools/api/coverage.py                 # print the per-namespace table
    python tools/api/coverage.py --write         # regenerate docs/compatibility.md
    python tools/api/coverage.py --check         # floors hold, no new mismatches, doc current
    python tools/api/coverage.py --update-floor  # raise coverage_floor.json (never lowers)

Run it in a fresh interpreter: a namespace that some other import has already loaded
would otherwise look present.
"""

from __future__ import annotations

import argparse
import fnmatch
import inspect
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
API_JSON = os.path.join(HERE, "tf-2.21.json")
REASONS_JSON = os.path.join(HERE, "reasons.json")
FLOOR_JSON = os.path.join(HERE, "coverage_floor.json")
KNOWN_JSON = os.path.join(HERE, "known_mismatches.json")
DOC = os.path.join(ROOT, "docs", "compatibility.md")
README = os.path.join(ROOT, "README.md")
OUT_OF_SCOPE = "out of scope"

sys.path.insert(0, HERE)
from dump_tf_api import kind_of  # noqa: E402 - stdlib only; TensorFlow is not imported


def tf_name(ns: str, name: str = "") -> str:
    """``"math", "add"`` -> ``"tf.math.add"``; ``""`` is the top level ``tf``."""
    return ".".join(p for p in ("tf", ns, name) if p)


# ------------------------------------------------------------------------------ reasons
class Reasons:
    """The hand-kept table: why a name is missing, and which namespaces are out of scope.

    ``namespaces`` keys cover a namespace and its sub-namespaces (the longest key wins;
    ``"tf"`` is the top level alone); ``names`` keys are fnmatch patterns on full names
    and win over the namespace's reason (the longest matching pattern first).
    """

    def __init__(self, table: dict):
        self.default = table["default"]
        self.namespaces = table["namespaces"]
        self.names = table.get("names", {})

    def for_namespace(self, ns: str) -> str:
        full = tf_name(ns)
        if full in self.namespaces:
            return self.namespaces[full]
        best = None
        for key in self.namespaces:
            if key != "tf" and full.startswith(key + "."):
                if best is None or len(key) > len(best):
                    best = key
        return self.namespaces[best] if best else self.default

    def for_name(self, ns: str, name: str, kind: str = "") -> str:
        """A name's reason; a sub-module takes the reason of the namespace it is."""
        full = tf_name(ns, name)
        hits = [p for p in self.names if fnmatch.fnmatchcase(full, p)]
        if hits:
            return self.names[max(hits, key=len)]
        if kind == "module":
            return self.for_namespace(f"{ns}.{name}" if ns else name)
        return self.for_namespace(ns)

    def in_scope(self, ns: str) -> bool:
        return not self.for_namespace(ns).startswith(OUT_OF_SCOPE)


# ------------------------------------------------------------------------------ rill side
def resolve(root, ns: str, name: str):
    """``root.ns.name`` by getattr, or raise AttributeError."""
    obj = root
    for part in [*(ns.split(".") if ns else ()), name]:
        obj = getattr(obj, part)
    return obj


_P = inspect.Parameter


def _signature(obj, kind: str):
    """rill's signature (a class: ``__init__`` less ``self``), or None if unreadable."""
    try:
        if kind == "function":
            return inspect.signature(obj)
        init = obj.__init__
        if init is object.__init__:
            if obj.__new__ is object.__new__:
                return inspect.Signature([])
            sig = inspect.signature(obj.__new__)
        else:
            sig = inspect.signature(init)
        params = list(sig.parameters.values())[1:]
        return sig.replace(parameters=params)
    except (TypeError, ValueError):
        return None


def _parse_tokens(tokens: list[str]) -> list[tuple[str, object]]:
    """TF's recorded tokens -> ``[(name, Parameter kind)]``."""
    out: list[tuple[str, object]] = []
    kind = _P.POSITIONAL_OR_KEYWORD
    for t in tokens:
        if t == "/":
            out = [(n, _P.POSITIONAL_ONLY) for n, _ in out]
        elif t == "*":
            kind = _P.KEYWORD_ONLY
        elif t.startswith("**"):
            out.append((t[2:], _P.VAR_KEYWORD))
        elif t.startswith("*"):
            out.append((t[1:], _P.VAR_POSITIONAL))
            kind = _P.KEYWORD_ONLY
        else:
            out.append((t, kind))
    return out


def param_problems(tokens: list[str], sig: inspect.Signature) -> list[str]:
    """Why a call valid for TF's parameters may fail against rill's signature."""
    tf = _parse_tokens(tokens)
    rill = list(sig.parameters.values())
    r_pos = [p for p in rill if p.kind in (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD)]
    r_varpos = any(p.kind is _P.VAR_POSITIONAL for p in rill)
    r_varkw = any(p.kind is _P.VAR_KEYWORD for p in rill)
    if r_varpos and r_varkw:
        return []
    r_kw = {p.name for p in rill if p.kind in (_P.POSITIONAL_OR_KEYWORD, _P.KEYWORD_ONLY)}
    problems = []
    tf_pos = [(n, k) for n, k in tf if k in (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD)]
    for i, (n, k) in enumerate(tf_pos):
        if i < len(r_pos):
            p = r_pos[i]
            if k is _P.POSITIONAL_OR_KEYWORD and p.name != n:
                problems.append(f"#{i} is {p.name!r}, TF's {n!r}")
            elif k is _P.POSITIONAL_OR_KEYWORD and p.kind is _P.POSITIONAL_ONLY:
                problems.append(f"{n!r} is positional-only")
        elif n in {p.name for p in r_pos}:
            continue  # out of order: reported at its position above
        elif not (r_varpos or r_varkw):  # either accepts what rill does not name
            problems.append(f"{n!r} keyword-only" if n in r_kw else f"{n!r} missing")
    if any(k is _P.VAR_POSITIONAL for _, k in tf) and not r_varpos:
        problems.append("no *args")
    for n, k in tf:
        if k is _P.KEYWORD_ONLY and n not in r_kw and not r_varkw:
            problems.append(f"keyword {n!r} missing")
    if any(k in (_P.VAR_POSITIONAL, _P.VAR_KEYWORD) for _, k in tf):
        return problems  # TF's *args/**kwargs may feed rill's required parameters
    tf_names = {n for n, _ in tf}
    for p in rill:
        if p.default is not _P.empty or p.kind in (_P.VAR_POSITIONAL, _P.VAR_KEYWORD):
            continue
        if p in r_pos and r_pos.index(p) < len(tf_pos):
            continue
        if p.name not in tf_names:
            problems.append(f"extra required {p.name!r}")
    return problems


def mismatch(tf_kind: str, tf_params, obj) -> str | None:
    """A one-line description of how rill's object differs from TF's, or None."""
    kind = kind_of(obj)
    if kind != tf_kind:
        return f"{kind} in rill, {tf_kind} in TF"
    if kind not in ("function", "class") or tf_params is None:
        return None
    sig = _signature(obj, kind)
    if sig is None:
        return None
    problems = param_problems(tf_params, sig)
    if not problems:
        return None
    more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
    return "params: " + "; ".join(problems[:3]) + more


# ------------------------------------------------------------------------------ survey
def survey(api: dict, reasons: Reasons) -> dict:
    """``{ns: {"present": [...], "missing": {name: reason}, "in_scope": bool}}`` plus
    ``mismatches`` (full name -> detail) and ``errors`` (non-AttributeError lookups)."""
    import rill

    namespaces, mismatches, errors = {}, {}, {}
    for ns, table in api["namespaces"].items():
        present, missing = [], {}
        for name, (tf_kind, tf_params) in table.items():
            try:
                obj = resolve(rill, ns, name)
            except AttributeError:
                missing[name] = reasons.for_name(ns, name, tf_kind)
                continue
            except Exception as e:  # a lazy namespace that failed to import
                errors[tf_name(ns, name)] = f"{type(e).__name__}: {e}"
                missing[name] = reasons.for_name(ns, name, tf_kind)
                continue
            present.append(name)
            why = mismatch(tf_kind, tf_params, obj)
            if why:
                mismatches[tf_name(ns, name)] = why
        namespaces[ns] = {
            "present": present,
            "total": len(table),
            "missing": missing,
            "in_scope": reasons.in_scope(ns),
            "reason": reasons.for_namespace(ns),
        }
    return {"namespaces": namespaces, "mismatches": mismatches, "errors": errors}


def overall(result: dict) -> tuple[int, int]:
    ns = [v for v in result["namespaces"].values() if v["in_scope"]]
    return sum(len(v["present"]) for v in ns), sum(v["total"] for v in ns)


def pct(a: int, b: int) -> str:
    return f"{100.0 * a / b:.1f}%" if b else "-"


# ------------------------------------------------------------------------------ the doc
def render_doc(api: dict, result: dict, known: dict) -> str:
    meta = api["meta"]
    present, total = overall(result)
    nss = result["namespaces"]
    lines = [
        "# TensorFlow API compatibility",
        "",
        "<!-- Generated by `python tools/api/coverage.py --write`; do not edit by hand. -->",
        "",
        f"Which of TensorFlow {meta['tensorflow']}'s public names (Keras {meta['keras']} "
        "under `tf.keras`) exist in rill at the same path. The list of names comes from "
        "`tools/api/tf-2.21.json` (`tools/api/dump_tf_api.py`, run under TensorFlow); "
        "an alias counts once per path, and a namespace's own sub-modules count as names "
        "of it. The reasons for missing names are kept by hand in `tools/api/reasons.json`.",
        "",
        f"**In scope: {present} / {total} names ({pct(present, total)}).** Namespaces out "
        "of scope are listed but not counted in that figure.",
        "",
        "## Namespaces",
        "",
        "| namespace | present | total | % | why names are missing |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for ns, v in nss.items():
        n = len(v["present"])
        # an in-scope namespace: why its missing names are missing (their own reasons)
        why = "; ".join(dict.fromkeys(v["missing"].values())) or v["reason"]
        note = why if v["in_scope"] else f"**{v['reason']}**"
        if n == v["total"]:
            note = "-"
        lines.append(f"| `{tf_name(ns)}` | {n} | {v['total']} | {pct(n, v['total'])} | {note} |")
    mism = result["mismatches"]
    lines += [
        "",
        "## Kind and parameter mismatches",
        "",
        "Names rill has whose kind (class, function, module, constant) differs from "
        "TensorFlow's, or whose signature does not accept TensorFlow's parameter names "
        f"in TensorFlow's order: {len(mism)}. They are recorded in "
        "`tools/api/known_mismatches.json`; the test fails on any new one.",
        "",
    ]
    lines += [f"- `{name}`: {detail}" for name, detail in sorted(mism.items())] or ["None."]
    lines += ["", "## Missing names", ""]
    for ns, v in nss.items():
        if not v["missing"]:
            continue
        n = len(v["present"])
        lines += [f"### `{tf_name(ns)}` ({n}/{v['total']})", ""]
        if not v["in_scope"]:
            names = ", ".join(f"`{m}`" for m in v["missing"])
            lines += [f"{v['reason']}: {names}", ""]
            continue
        lines += [f"- `{m}`: {why}" for m, why in v["missing"].items()]
        lines.append("")
    return "\n".join(lines)


README_LINE = re.compile(r"^.*\(docs/compatibility\.md\).*$", re.M)


def readme_line(result: dict) -> str:
    present, total = overall(result)
    return (
        f"[docs/compatibility.md](docs/compatibility.md) lists which of TensorFlow 2.21's "
        f"public names rill has: {present} of the {total} in scope "
        f"({pct(present, total)}), regenerated by `python tools/api/coverage.py --write`."
    )


# ------------------------------------------------------------------------------ checks
def load(path: str, default=None):
    if default is not None and not os.path.exists(path):
        return default
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def dump(path: str, data: dict) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")


def check(api: dict, result: dict) -> dict:
    """Problems by kind: fallen floors, new and stale mismatches, a stale doc/README."""
    floors = load(FLOOR_JSON, {})
    known = load(KNOWN_JSON, {})
    nss = result["namespaces"]
    fallen = [
        f"{tf_name(ns)}: {len(nss[ns]['present']) if ns in nss else 0} present, floor {floor}"
        for ns, floor in sorted(floors.items())
        if (len(nss[ns]["present"]) if ns in nss else 0) < floor
    ]
    mism = result["mismatches"]
    new = [f"{n}: {d}" for n, d in sorted(mism.items()) if n not in known]
    stale = [f"{n}: recorded but no longer a mismatch" for n in sorted(known) if n not in mism]
    doc = []
    expected = render_doc(api, result, known)
    if not os.path.exists(DOC) or open(DOC, encoding="utf-8").read() != expected:
        doc.append("docs/compatibility.md is out of date")
    if os.path.exists(README):
        line = README_LINE.search(open(README, encoding="utf-8").read())
        if line is None or line.group(0) != readme_line(result):
            doc.append("README.md's docs/compatibility.md line is out of date")
    return {
        "fallen_floors": fallen,
        "new_mismatches": new,
        "stale_mismatches": stale,
        "stale_doc": doc,
        "lookup_errors": [f"{n}: {e}" for n, e in sorted(result["errors"].items())],
    }


FIXES = {
    "fallen_floors": "a namespace lost names (tools/api/coverage_floor.json)",
    "new_mismatches": "fix the kind/signature, or record it in tools/api/known_mismatches.json",
    "stale_mismatches": "remove them from tools/api/known_mismatches.json",
    "stale_doc": "run: python tools/api/coverage.py --write",
    "lookup_errors": "a rill namespace failed to import",
}


def write_doc(api: dict, result: dict) -> None:
    os.makedirs(os.path.dirname(DOC), exist_ok=True)
    with open(DOC, "w", encoding="utf-8") as f:
        f.write(render_doc(api, result, load(KNOWN_JSON, {})))
    if os.path.exists(README):
        text = open(README, encoding="utf-8").read()
        if README_LINE.search(text):
            text = README_LINE.sub(lambda m: readme_line(result), text, count=1)
            with open(README, "w", encoding="utf-8") as f:
                f.write(text)


def print_table(result: dict) -> None:
    rows = [("namespace", "present", "total", "%", "scope")]
    for ns, v in result["namespaces"].items():
        n = len(v["present"])
        rows.append(
            (
                tf_name(ns),
                str(n),
                str(v["total"]),
                pct(n, v["total"]),
                "" if v["in_scope"] else "out",
            )
        )
    w = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        print(f"{r[0]:<{w[0]}}  {r[1]:>{w[1]}}  {r[2]:>{w[2]}}  {r[3]:>{w[3]}}  {r[4]}")
    present, total = overall(result)
    print(f"\nin scope: {present} / {total} ({pct(present, total)})")
    print(f"kind/param mismatches: {len(result['mismatches'])}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="regenerate docs/compatibility.md")
    ap.add_argument("--check", action="store_true", help="fail on fallen floors etc.")
    ap.add_argument("--check-json", action="store_true", help="--check's findings as JSON")
    ap.add_argument("--update-floor", action="store_true", help="raise the floors")
    ap.add_argument("--mismatches", action="store_true", help="list kind/param mismatches")
    args = ap.parse_args(argv)

    api = load(API_JSON)
    result = survey(api, Reasons(load(REASONS_JSON)))
    if args.write:
        write_doc(api, result)
        print(f"wrote {os.path.relpath(DOC, ROOT)}")
    if args.update_floor:
        floors = load(FLOOR_JSON, {})
        for ns, v in result["namespaces"].items():
            floors[ns] = max(floors.get(ns, 0), len(v["present"]))
        dump(FLOOR_JSON, floors)
        print(f"wrote {os.path.relpath(FLOOR_JSON, ROOT)}")
    if args.check_json:
        print(json.dumps(check(api, result), indent=1))
        return 0
    if args.mismatches:
        for name, detail in sorted(result["mismatches"].items()):
            print(f"{name}: {detail}")
        return 0
    if args.check:
        problems = check(api, result)
        bad = {k: v for k, v in problems.items() if v}
        for k, items in bad.items():
            print(f"{k} ({FIXES[k]}):")
            for item in items:
                print(f"  {item}")
        if not bad:
            present, total = overall(result)
            print(f"ok: {present} / {total} in scope ({pct(present, total)})")
        return 1 if bad else 0
    if not (args.write or args.update_floor):
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
