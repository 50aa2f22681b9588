"""Write ``tools/api/tf-2.21.json``: TensorFlow's public API, namespace by namespace.

Run once with a Python that has TensorFlow (never a rill dependency)::

    /path/to/peers/bin/python tools/api/dump_tf_api.py            # writes the JSON
    /path/to/peers/bin/python tools/api/dump_tf_api.py --stdout   # prints it instead

The walk starts at ``tf`` and follows every public (not ``_``-prefixed) attribute that
is a module of TensorFlow's or Keras's generated API packages (``tensorflow/_api/...``,
``keras/...`` outside ``keras/src``); implementation packages that happen to be
attributes of ``tf`` (``tf.tools``, ``tf.security``, ``tf.dtensor``) are not API and are
left out. ``tf.keras`` is Keras 3 as TensorFlow ships it. The same module reached under
two paths (``tf.losses`` and ``tf.keras.losses``) is listed under both, as is any object:
an alias is one name per path. ``tf.compat.v1`` and ``tf.compat.v2`` are listed, but not
their sub-modules (``compat.v2.*`` mirrors ``tf.*`` and ``compat.v1.*`` is TF1's API:
both are out of rill's scope, and expanding them would be 90% of the file).

Each name records its kind (``module``, ``class``, ``function``, ``constant``) and, for
functions and classes, its parameters as Python spells a signature (for a class, those of
``__init__`` less ``self``): ``"x"`` for a positional-or-keyword parameter, ``"/"`` after
the positional-only ones, ``"*"`` before keyword-only ones when there is no ``*args``,
``"*args"`` and ``"**kwargs"``. ``null`` where no signature can be read (C types, classes
that keep ``object.__init__``).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
OUTPUT = os.path.join(HERE, "tf-2.21.json")

# namespaces listed but not descended into (see the module docstring)
NOT_EXPANDED = ("compat.v1", "compat.v2")


def import_tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore")
    import tensorflow as tf

    try:
        tf.get_logger().setLevel("ERROR")
    except Exception:
        pass
    return tf


def _site_packages(tf):
    return os.path.dirname(os.path.dirname(os.path.abspath(tf.__file__)))


def is_api_module(obj, site) -> bool:
    """A module of TensorFlow's or Keras's generated public API packages."""
    if not inspect.ismodule(obj):
        return False
    try:
        path = obj.__file__  # loads a lazy module
    except Exception:
        return False
    if not path:
        return False
    rel = os.path.relpath(os.path.abspath(path), site).replace(os.sep, "/")
    if rel.startswith("tensorflow/_api/"):
        return True
    return rel.startswith("keras/") and not rel.startswith("keras/src/")


def kind_of(obj) -> str:
    if inspect.ismodule(obj):
        return "module"
    if inspect.isclass(obj):
        return "class"
    if inspect.isroutine(obj) or callable(obj):
        return "function"
    return "constant"


def _tokens(sig: inspect.Signature) -> list[str]:
    out: list[str] = []
    params = list(sig.parameters.values())
    kinds = [p.kind for p in params]
    for i, p in enumerate(params):
        if p.kind is p.KEYWORD_ONLY and (i == 0 or kinds[i - 1] not in (p.KEYWORD_ONLY,)):
            if p.VAR_POSITIONAL not in kinds:
                out.append("*")
        if p.kind is p.VAR_POSITIONAL:
            out.append("*" + p.name)
        elif p.kind is p.VAR_KEYWORD:
            out.append("**" + p.name)
        else:
            out.append(p.name)
        if p.kind is p.POSITIONAL_ONLY and (i + 1 == len(params) or kinds[i + 1] is not p.kind):
            out.append("/")
    return out


def params_of(obj, kind: str):
    """The parameter tokens of a function, or of a class's ``__init__`` less ``self``."""
    try:
        if kind == "function":
            return _tokens(inspect.signature(obj))
        if kind == "class":
            init = obj.__init__
            if init is object.__init__ or not (
                inspect.isfunction(init) or inspect.ismethod(init) or hasattr(init, "__wrapped__")
            ):
                return None
            sig = inspect.signature(init)
            params = list(sig.parameters.values())
            if params and params[0].kind in (
                inspect.Parameter.POSITIONAL_ONLY,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
            ):
                params = params[1:]
            return _tokens(sig.replace(parameters=params))
    except (TypeError, ValueError):
        return None
    return None


def entries(module, site) -> dict:
    """``{name: [kind, params]}`` for the public names of one namespace."""
    out = {}
    for name in sorted(dir(module)):
        if name.startswith("_"):
            continue
        try:
            obj = getattr(module, name)
        except Exception:
            continue
        if inspect.ismodule(obj) and not is_api_module(obj, site):
            continue
        kind = kind_of(obj)
        out[name] = [kind, params_of(obj, kind) if kind in ("function", "class") else None]
    return out


def resolve(tf, path: str):
    obj = tf
    for part in path.split(".") if path else ():
        obj = getattr(obj, part)
    return obj


def walk(tf) -> dict:
    """Every namespace reachable from ``tf``: ``{path: entries}``."""
    site = _site_packages(tf)
    result: dict[str, dict] = {}
    stack = [("", tf, ())]
    while stack:
        path, module, ancestors = stack.pop()
        result[path] = table = entries(module, site)
        if path in NOT_EXPANDED:
            continue
        for name, (kind, _) in table.items():
            if kind != "module":
                continue
            sub = getattr(module, name)
            if id(sub) in ancestors or sub is module:
                continue  # a cycle (compat.v2.compat.v2...)
            stack.append((f"{path}.{name}" if path else name, sub, ancestors + (id(module),)))
    return dict(sorted(result.items()))


def render(tf, namespaces: dict) -> str:
    """The JSON text: one name per line, everything sorted, so diffs stay readable."""
    import keras

    meta = {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "generated_by": "tools/api/dump_tf_api.py",
        "not_expanded": list(NOT_EXPANDED),
        "params": "Python signature tokens: name, '/', '*', '*args', '**kwargs'; null: none",
    }
    lines = ["{", f'  "meta": {json.dumps(meta, sort_keys=True)},', '  "namespaces": {']
    ns_items = list(namespaces.items())
    for i, (path, table) in enumerate(ns_items):
        lines.append(f"    {json.dumps(path)}: {{")
        items = list(table.items())
        for j, (name, value) in enumerate(items):
            comma = "," if j + 1 < len(items) else ""
            lines.append(f"      {json.dumps(name)}: {json.dumps(value)}{comma}")
        lines.append("    }" + ("," if i + 1 < len(ns_items) else ""))
    lines += ["  }", "}", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stdout", action="store_true", help="print instead of writing")
    ap.add_argument("--output", default=OUTPUT)
    args = ap.parse_args(argv)
    tf = import_tf()
    text = render(tf, walk(tf))
    if args.stdout:
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
