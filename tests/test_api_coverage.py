"""TensorFlow API coverage (tools/api): no namespace loses names, no new kind or parameter
mismatch appears, and docs/compatibility.md is current. The survey runs in a fresh
interpreter: in this one, other tests have already imported namespaces that a plain
``import rill`` may not load."""

import importlib.util
import inspect
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, "tools", "api")


def _load(name, filename):
    # by path: "coverage" is also the name of coverage.py's package
    spec = importlib.util.spec_from_file_location(name, os.path.join(TOOLS, filename))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


api_coverage = _load("rill_api_coverage", "coverage.py")


@pytest.fixture(scope="module")
def findings():
    proc = subprocess.run(
        [sys.executable, os.path.join(TOOLS, "coverage.py"), "--check-json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _explain(findings, key):
    return f"{api_coverage.FIXES[key]}:\n  " + "\n  ".join(findings[key])


@pytest.mark.parametrize(
    "key", ["fallen_floors", "new_mismatches", "stale_mismatches", "stale_doc", "lookup_errors"]
)
def test_coverage_check(findings, key):
    assert not findings[key], _explain(findings, key)


def test_floors_cover_every_namespace():
    api = api_coverage.load(api_coverage.API_JSON)
    floors = api_coverage.load(api_coverage.FLOOR_JSON)
    assert set(floors) == set(api["namespaces"])


def test_reasons_table():
    reasons = api_coverage.Reasons(api_coverage.load(api_coverage.REASONS_JSON))
    assert not reasons.in_scope("compat.v1") and not reasons.in_scope("raw_ops")
    assert not reasons.in_scope("experimental.dtensor") and reasons.in_scope("experimental")
    assert reasons.for_namespace("") == "not yet (issue 13)"
    assert reasons.for_namespace("data") == reasons.default  # "tf" is the top level alone
    assert reasons.for_namespace("keras.layers") == "not yet (issue 14)"
    assert reasons.for_namespace("keras.utils.legacy") == "not yet (issue 15)"
    assert reasons.for_name("", "summary", "module") == "not yet (issue 17)"
    assert reasons.for_name("", "load_op_library", "function").startswith("out of scope")


def _sig(fn):
    return inspect.signature(fn)


@pytest.mark.parametrize(
    "tokens, fn, ok",
    [
        (["x", "y", "name"], lambda x, y, name=None: 0, True),
        (["x", "y", "name"], lambda x, y, name=None, extra=1: 0, True),  # trailing extra
        (["x", "y", "name"], lambda x, y, extra, name=None: 0, False),  # out of order
        (["x", "y", "name"], lambda x, z, name=None: 0, False),  # renamed
        (["x", "y", "name"], lambda x, y: 0, False),  # missing
        (["x", "y", "name"], lambda x, **kwargs: 0, True),  # **kwargs takes the rest
        (["x", "y", "name"], lambda *args, **kwargs: 0, True),
        (["x", "y", "name"], lambda x, *, y=0, name=None: 0, False),  # keyword-only
        (["x", "y", "name"], lambda x, y, name=None, *, z: 0, False),  # extra required
        (["*args", "**kwargs"], lambda a=0: 0, False),
        (["x", "/", "y"], lambda anything, y: 0, True),  # TF's positional-only: any name
        (["x", "*", "axis"], lambda x, axis=None: 0, True),
        (["x", "*", "axis"], lambda x: 0, False),
    ],
)
def test_param_rules(tokens, fn, ok):
    assert (not api_coverage.param_problems(tokens, _sig(fn))) == ok


def test_kind_rules():
    class C:
        def __init__(self, units, activation=None):
            pass

    assert api_coverage.mismatch("class", ["units", "activation"], C) is None
    assert api_coverage.mismatch("function", None, C) == "class in rill, function in TF"
    assert api_coverage.mismatch("class", ["units"], lambda units: 0) is not None
    assert "'units'" in api_coverage.mismatch("class", ["filters", "units"], C)


@pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None, reason="TensorFlow not installed"
)
def test_json_matches_a_fresh_dump():
    dump_tf_api = _load("rill_dump_tf_api", "dump_tf_api.py")
    api = api_coverage.load(api_coverage.API_JSON)
    tf = dump_tf_api.import_tf()
    if tf.__version__ != api["meta"]["tensorflow"]:
        pytest.skip(f"TensorFlow {tf.__version__}, the list is {api['meta']['tensorflow']}'s")
    site = dump_tf_api._site_packages(tf)
    for ns in [n for n in api["namespaces"] if not n.startswith("compat")][:6]:
        fresh = dump_tf_api.entries(dump_tf_api.resolve(tf, ns), site)
        assert json.loads(json.dumps(fresh)) == api["namespaces"][ns], ns
