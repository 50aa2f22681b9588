"""rill.serving: TF Serving's REST API over a rill-written SavedModel, in-process (ASGI)
and through a real uvicorn server on loopback (bounded in time)."""

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("google.protobuf")
pytest.importorskip("starlette")
httpx = pytest.importorskip("httpx")

import rill as tf  # noqa: E402
from rill import keras  # noqa: E402
from rill.serving import BatchingOptions, ModelRegistry, ServedModel, create_app  # noqa: E402


def _model(seed):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="out")])


def _reference(model, x):
    w, b = [v.numpy() for v in model.weights]
    return x @ w + b  # the Dense layer's formula


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    model = _model(3)
    tf.saved_model.save(model, str(root / "m" / "1"))
    return root, model


def _client(app):
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rill")


@pytest.mark.parametrize(
    "batching", [None, BatchingOptions(max_batch_size=8, batch_timeout_micros=2000)]
)
def test_predict_status_metadata(base, batching):
    root, model = base
    reg = ModelRegistry([ServedModel("m", str(root / "m"))], poll_seconds=0)
    x = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)

    async def go():
        async with _client(create_app(reg, batching)) as c:
            st = (await c.get("/v1/models/m")).json()
            assert st["model_version_status"][0]["version"] == "1"
            assert st["model_version_status"][0]["state"] == "AVAILABLE"
            meta = (await c.get("/v1/models/m/metadata")).json()
            sig = meta["metadata"]["signature_def"]["signature_def"]["serving_default"]
            (name,) = sig["inputs"]
            assert sig["inputs"][name]["dtype"] == "DT_FLOAT"
            rows = await asyncio.gather(
                *[c.post("/v1/models/m:predict", json={"instances": x.tolist()}) for _ in range(6)]
            )
            for r in rows:
                np.testing.assert_allclose(r.json()["predictions"], _reference(model, x), rtol=1e-5)
            cols = await c.post(
                "/v1/models/m/versions/1:predict", json={"inputs": {name: x.tolist()}}
            )
            np.testing.assert_allclose(cols.json()["outputs"], _reference(model, x), rtol=1e-5)

    asyncio.run(go())


def test_errors_are_tf_serving_shaped(base):
    root, _ = base
    reg = ModelRegistry([ServedModel("m", str(root / "m"))], poll_seconds=0)
    app = create_app(reg, None, max_body_bytes=10_000)

    async def go():
        async with _client(app) as c:
            cases = [
                (c.post("/v1/models/m:predict", content=b"{not json"), 400, "JSON Parse error"),
                (c.post("/v1/models/m:predict", json={"instances": [[1, 2]]}), 400, "shape"),
                (c.post("/v1/models/m:predict", json={"instances": [["a"] * 4]}), 400, "DT_FLOAT"),
                (
                    c.post(
                        "/v1/models/m:predict",
                        json={"signature_name": "zz", "instances": [[0] * 4]},
                    ),
                    400,
                    'signature key "zz" not found',
                ),
                (c.post("/v1/models/nope:predict", json={"instances": [[0] * 4]}), 404, "nope"),
                (
                    c.post("/v1/models/m/versions/7:predict", json={"instances": [[0] * 4]}),
                    404,
                    "7",
                ),
                (
                    c.post("/v1/models/m:predict", content=b"[" + b"0," * 20000 + b"0]"),
                    413,
                    "limit",
                ),
                (c.post("/v1/models/m:predict", json={"foo": 1}), 400, "instances"),
            ]
            for req, status, text in cases:
                r = await req
                assert r.status_code == status, (r.status_code, r.text)
                assert text in r.json()["error"]
            ok = await c.post("/v1/models/m:predict", json={"instances": [[0.0] * 4]})
            assert ok.status_code == 200  # still serving after the bad requests

    asyncio.run(go())


def test_b64_strings(tmp_path):
    class Upper(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
        def f(self, text):
            return {"upper": tf.strings.upper(text), "n": tf.strings.length(text)}

    tf.saved_model.save(Upper(), str(tmp_path / "u" / "1"))
    reg = ModelRegistry([ServedModel("u", str(tmp_path / "u"))], poll_seconds=0)

    async def go():
        async with _client(create_app(reg)) as c:
            r = await c.post("/v1/models/u:predict", json={"instances": [{"b64": "YWI="}, "cd"]})
            assert r.json()["predictions"] == [{"n": 2, "upper": "AB"}, {"n": 2, "upper": "CD"}]

    asyncio.run(go())


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_real_server_picks_up_new_version(tmp_path):
    pytest.importorskip("uvicorn")
    m1, m2 = _model(4), _model(5)
    tf.saved_model.save(m1, str(tmp_path / "m" / "1"))
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    proc = subprocess.Popen(
        [sys.executable, "-m", "rill.serving", "--model_name=m",
         f"--model_base_path={tmp_path / 'm'}", f"--rest_api_port={port}",
         "--rest_api_host=127.0.0.1", "--file_system_poll_wait_seconds=0.2",
         "--enable_batching"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/v1/models/m"
        x = np.ones((2, 4), np.float32)
        deadline = time.time() + 60
        while True:
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.time() < deadline, "server did not start"
            time.sleep(0.2)
        r = httpx.post(url + ":predict", json={"instances": x.tolist()}, timeout=30)
        np.testing.assert_allclose(r.json()["predictions"], _reference(m1, x), rtol=1e-5)
        tmp_dir = tmp_path / "staging"
        tf.saved_model.save(m2, str(tmp_dir))
        shutil.move(str(tmp_dir), str(tmp_path / "m" / "2"))  # appears atomically
        deadline = time.time() + 60
        while True:
            r = httpx.post(url + ":predict", json={"instances": x.tolist()}, timeout=30)
            assert r.status_code == 200  # no failed request while the version changes
            if np.allclose(r.json()["predictions"], _reference(m2, x), rtol=1e-5):
                break
            assert time.time() < deadline, "version 2 was not picked up"
            time.sleep(0.2)
        assert httpx.get(url).json()["model_version_status"][0]["version"] == "2"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_model_config_file():
    from rill.serving.cli import parse_model_config

    models = parse_model_config(
        'model_config_list { config { name: "a" base_path: "/x/a" model_platform: "tensorflow" '
        "model_version_policy { specific { versions: 1 versions: 3 } } "
        'version_labels { key: "stable" value: 1 } } config { name: "b" base_path: "/x/b" } }'
    )
    assert [(m.name, m.policy, sorted(m.specific), m.labels) for m in models] == [
        ("a", "specific", [1, 3], {"stable": 1}), ("b", "latest", [], {})]  # fmt: skip
