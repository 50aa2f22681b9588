"""TensorFlow Serving's REST API over rill's SavedModel loader, as a Starlette app.

Routes (TF Serving's): ``GET /v1/models/{name}[/versions/{v}|/labels/{l}]`` (version
status), ``GET .../metadata`` (signatures), ``POST ...:predict`` (``instances`` row format
or ``inputs`` columnar format, ``signature_name``, ``{"b64": ...}`` for bytes),
``:classify`` and ``:regress``; ``GET /healthz`` and ``/readyz``. Errors are
``{"error": message}`` with TF Serving's status codes. With batching on, concurrent
row-format requests to one signature are stacked into one call (up to
``max_batch_size`` rows, waiting at most ``batch_timeout_micros``), and split back.
"""

from __future__ import annotations

import asyncio
import base64
import json

import numpy as np

from rill.serving.models import ModelRegistry, ServingError, run_signature, signature_specs

__all__ = ["create_app", "BatchingOptions"]

_DT_NAMES = {
    "float32": "DT_FLOAT", "float64": "DT_DOUBLE", "int32": "DT_INT32", "int64": "DT_INT64",
    "int8": "DT_INT8", "int16": "DT_INT16", "uint8": "DT_UINT8", "uint16": "DT_UINT16",
    "uint32": "DT_UINT32", "uint64": "DT_UINT64", "bool": "DT_BOOL", "string": "DT_STRING",
    "float16": "DT_HALF", "bfloat16": "DT_BFLOAT16", "complex64": "DT_COMPLEX64",
    "complex128": "DT_COMPLEX128",
}  # fmt: skip


class BatchingOptions:
    """Request batching: rows per batch and the longest wait for a batch to fill."""

    def __init__(self, max_batch_size: int = 32, batch_timeout_micros: int = 1000):
        self.max_batch_size = max_batch_size
        self.batch_timeout_micros = batch_timeout_micros


# -- JSON <-> arrays ---------------------------------------------------------------------


def _decode_b64(x):
    if isinstance(x, dict):
        if set(x) != {"b64"} or not isinstance(x["b64"], str):
            raise ServingError('JSON Value not a string or a {"b64": ...} object', 400)
        try:
            return base64.b64decode(x["b64"], validate=True)
        except ValueError as e:
            raise ServingError(f"Unable to base64 decode: {e}", 400) from None
    if isinstance(x, list):
        return [_decode_b64(v) for v in x]
    if isinstance(x, str):
        return x.encode()
    raise ServingError(
        f"JSON Value: {json.dumps(x)} Type: {type(x).__name__} is not of expected type: string", 400
    )


def _to_array(value, spec, what: str) -> np.ndarray:
    dtype = spec.dtype
    try:
        if dtype.is_string:
            arr = np.array(_decode_b64(value), dtype=object)
        elif dtype.name == "bool":
            arr = np.asarray(value)
            if arr.dtype != np.bool_:
                raise TypeError
        else:
            arr = np.asarray(value)
            if arr.dtype == object or arr.dtype.kind in "USV":
                raise TypeError
            if arr.dtype.kind == "f" and not dtype.is_floating:
                raise TypeError
            arr = arr.astype(dtype.np)
    except ServingError:
        raise
    except (TypeError, ValueError):
        raise ServingError(
            f"{what}: the values could not be read as a tensor of type "
            f"{_DT_NAMES.get(dtype.name, dtype.name)} (ragged rows or wrong types?)",
            400,
        ) from None
    if not spec.shape.is_compatible_with(arr.shape):
        raise ServingError(
            f"{what}: the shape {list(arr.shape)} is not compatible with the signature's "
            f"{spec.shape.as_list() if spec.shape.rank is not None else 'unknown'}",
            400,
        )
    return arr


def _to_json(arr: np.ndarray, key: str):
    if arr.dtype == object or arr.dtype.kind == "S":

        def conv(b):
            if isinstance(b, bytes):
                if key.endswith("_bytes"):
                    return {"b64": base64.b64encode(b).decode()}
                try:
                    return b.decode("utf-8")
                except UnicodeDecodeError:
                    return {"b64": base64.b64encode(b).decode()}
            return b

        return np.vectorize(conv, otypes=[object])(arr).tolist() if arr.size else arr.tolist()
    if arr.dtype.kind == "f":
        out = arr.tolist()
        return out
    return arr.tolist()


def _rows_to_inputs(instances, specs: dict) -> tuple[dict, int]:
    if not isinstance(instances, list) or not instances:
        raise ServingError("'instances' must be a non-empty list", 400)
    names = sorted(specs)
    if all(isinstance(r, dict) and "b64" not in r for r in instances):
        cols = {}
        for n in names:
            try:
                cols[n] = [r[n] for r in instances]
            except KeyError:
                raise ServingError(f"Missing named input: {n} in 'instances'", 400) from None
        extra = sorted(set().union(*(set(r) for r in instances)) - set(names))
        if extra:
            raise ServingError(f"Unknown input(s) {extra}; the signature takes {names}", 400)
    elif len(names) == 1:
        cols = {names[0]: instances}
    else:
        raise ServingError(
            f"The signature has {len(names)} inputs ({names}): each instance must be an "
            "object naming them",
            400,
        )
    return {n: _to_array(cols[n], specs[n], f"input '{n}'") for n in names}, len(instances)


def _columns_to_inputs(inputs, specs: dict) -> dict:
    names = sorted(specs)
    if not isinstance(inputs, dict) or ("b64" in inputs and len(inputs) == 1):
        if len(names) != 1:
            raise ServingError(
                f"The signature has {len(names)} inputs ({names}): 'inputs' must be an "
                "object naming them",
                400,
            )
        inputs = {names[0]: inputs}
    missing = [n for n in names if n not in inputs]
    extra = sorted(set(inputs) - set(names))
    if missing or extra:
        raise ServingError(
            f"Missing input(s) {missing} / unknown input(s) {extra}; the signature takes {names}",
            400,
        )
    return {n: _to_array(inputs[n], specs[n], f"input '{n}'") for n in names}


# -- batching ------------------------------------------------------------------------------


class _Batcher:
    """Stacks concurrent row-format requests to one signature into one call."""

    def __init__(self, options: BatchingOptions, run):
        self.options = options
        self.run = run  # (version, fn, inputs) -> outputs, in a worker thread
        self.queues: dict = {}

    async def submit(self, key, version, fn, inputs: dict, n: int) -> dict:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        q = self.queues.get(key)
        if q is None:
            q = self.queues[key] = []
            q.append((inputs, n, fut))
            loop.create_task(self._flush_later(key, version, fn))
        else:
            q.append((inputs, n, fut))
            if sum(x[1] for x in q) >= self.options.max_batch_size:
                self._flush(key, version, fn)
        return await fut

    async def _flush_later(self, key, version, fn):
        await asyncio.sleep(self.options.batch_timeout_micros / 1e6)
        self._flush(key, version, fn)

    def _flush(self, key, version, fn):
        items = self.queues.pop(key, None)
        if not items:
            return
        asyncio.get_running_loop().create_task(self._run(items, version, fn))

    async def _run(self, items, version, fn):
        names = list(items[0][0])
        shapes_ok = all(
            all(i[0][n].shape[1:] == items[0][0][n].shape[1:] for n in names) for i in items
        )
        groups = [items] if shapes_ok else [[i] for i in items]
        for group in groups:
            try:
                stacked = {n: np.concatenate([i[0][n] for i in group]) for n in names}
                outs = await asyncio.to_thread(self.run, version, fn, stacked)
                start = 0
                for _inputs, n, fut in group:
                    part = {k: v[start : start + n] for k, v in outs.items()}
                    start += n
                    if not fut.done():
                        fut.set_result(part)
            except Exception as e:  # every waiting request gets the error
                for _, _, fut in group:
                    if not fut.done():
                        fut.set_exception(e)


# -- the app --------------------------------------------------------------------------------


def create_app(registry: ModelRegistry, batching: BatchingOptions | None = None,
               max_body_bytes: int = 64 << 20):  # fmt: skip
    """The Starlette app serving ``registry``'s models."""
    try:
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse, PlainTextResponse
        from starlette.routing import Route
    except ImportError:
        raise ImportError(
            'rill.serving needs starlette and uvicorn: pip install "rill[serving]"'
        ) from None

    batcher = _Batcher(batching, run_signature) if batching else None

    def error(message: str, status: int):
        return JSONResponse({"error": message}, status_code=status)

    def parse_path(rest: str):
        """``name[/versions/v|/labels/l][/metadata]`` or ``...:verb``."""
        verb = None
        if ":" in rest:
            rest, verb = rest.rsplit(":", 1)
        parts = rest.strip("/").split("/")
        name, version, label, meta = parts[0], None, None, False
        i = 1
        while i < len(parts):
            if parts[i] == "versions" and i + 1 < len(parts):
                version = parts[i + 1]
                if not version.isdigit():
                    raise ServingError(f"Malformed version: {version}", 400)
                i += 2
            elif parts[i] == "labels" and i + 1 < len(parts):
                label = parts[i + 1]
                i += 2
            elif parts[i] == "metadata" and i == len(parts) - 1:
                meta = True
                i += 1
            else:
                raise ServingError(f"Malformed request: {rest}", 404)
        return name, version, label, meta, verb

    async def get_model(request):
        try:
            name, version, label, meta, verb = parse_path(request.path_params["rest"])
            if verb is not None:
                raise ServingError(f"Malformed request: GET {request.url.path}", 404)
            model = registry.get(name)
            if label is not None:
                version = str(model.get(label=label).version)
            if meta:
                return JSONResponse(_metadata(model, version))
            return JSONResponse({"model_version_status": model.status(version)})
        except ServingError as e:
            return error(str(e), e.status)

    async def post_model(request):
        try:
            name, version, label, meta, verb = parse_path(request.path_params["rest"])
            if verb not in ("predict", "classify", "regress") or meta:
                raise ServingError(f"Malformed request: POST {request.url.path}", 404)
            size = request.headers.get("content-length")
            if size is not None and size.isdigit() and int(size) > max_body_bytes:
                raise ServingError(
                    f"Request body of {size} bytes is over the limit of {max_body_bytes}", 413
                )
            body = bytearray()
            async for chunk in request.stream():
                body += chunk
                if len(body) > max_body_bytes:
                    raise ServingError(
                        f"Request body is over the limit of {max_body_bytes} bytes", 413
                    )
            try:
                doc = json.loads(bytes(body))
            except (ValueError, UnicodeDecodeError) as e:
                raise ServingError(f"JSON Parse error: {e}", 400) from None
            if not isinstance(doc, dict):
                raise ServingError("JSON Value is not an object", 400)
            model = registry.get(name)
            v = model.get(version=version, label=label)
            sig_name = doc.get("signature_name") or "serving_default"
            fn, specs = signature_specs(v, sig_name)
            if verb == "predict":
                return JSONResponse(await _predict(doc, v, fn, specs, sig_name))
            return JSONResponse(await _classify_regress(doc, v, fn, specs, verb))
        except ServingError as e:
            return error(str(e), e.status)
        except Exception as e:  # an op error while running the model
            return error(f"{type(e).__name__}: {e}", 400)

    async def run(v, fn, inputs, n=None, key=None):
        if batcher is not None and n is not None:
            return await batcher.submit(key, v, fn, inputs, n)
        return await asyncio.to_thread(run_signature, v, fn, inputs)

    async def _predict(doc, v, fn, specs, sig_name):
        has_rows, has_cols = "instances" in doc, "inputs" in doc
        if has_rows == has_cols:
            raise ServingError(
                "Missing 'inputs' or 'instances' key" if not has_rows
                else "Not both 'inputs' and 'instances' may be given",
                400,
            )  # fmt: skip
        if has_rows:
            inputs, n = _rows_to_inputs(doc["instances"], specs)
            key = (id(v), sig_name)
            outs = await run(v, fn, inputs, n, key)
            keys = sorted(outs)
            for k in keys:
                if outs[k].ndim == 0 or outs[k].shape[0] != n:
                    raise ServingError(
                        f"Output '{k}' does not have the batch size {n} of the instances; "
                        "use the 'inputs' (columnar) format",
                        400,
                    )
            if len(keys) == 1:
                return {"predictions": _to_json(outs[keys[0]], keys[0])}
            cols = {k: _to_json(outs[k], k) for k in keys}
            return {"predictions": [{k: cols[k][i] for k in keys} for i in range(n)]}
        inputs = _columns_to_inputs(doc["inputs"], specs)
        outs = await run(v, fn, inputs)
        keys = sorted(outs)
        if len(keys) == 1:
            return {"outputs": _to_json(outs[keys[0]], keys[0])}
        return {"outputs": {k: _to_json(outs[k], k) for k in keys}}

    async def _classify_regress(doc, v, fn, specs, verb):
        examples = doc.get("examples")
        if not isinstance(examples, list) or not examples:
            raise ServingError("'examples' must be a non-empty list", 400)
        context = doc.get("context") or {}
        rows = [{**context, **e} for e in examples]
        inputs, n = _rows_to_inputs(rows, specs)
        outs = await run(v, fn, inputs)
        if verb == "regress":
            key = "outputs" if "outputs" in outs else sorted(outs)[0]
            return {"results": np.asarray(outs[key]).reshape(n, -1)[:, 0].tolist()}
        scores = outs.get("scores")
        classes = outs.get("classes")
        results = []
        for i in range(n):
            s = np.asarray(scores[i]).reshape(-1).tolist() if scores is not None else []
            c = (
                _to_json(np.asarray(classes[i]).reshape(-1), "classes")
                if classes is not None
                else [str(j) for j in range(len(s))]
            )
            results.append([[ci, si] for ci, si in zip(c, s)])
        return {"results": results}

    async def health(request):
        return PlainTextResponse("ok")

    async def ready(request):
        ok = all(m.versions for m in registry.models.values())
        return PlainTextResponse("ready" if ok else "loading", status_code=200 if ok else 503)

    routes = [
        Route("/healthz", health),
        Route("/readyz", ready),
        Route("/v1/models/{rest:path}", get_model, methods=["GET"]),
        Route("/v1/models/{rest:path}", post_model, methods=["POST"]),
    ]

    async def not_found(request, exc):
        return error(f"Malformed request: {request.method} {request.url.path}", exc.status_code)

    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})


def _tensor_info(spec, name):
    shape = spec.shape
    info = {"dtype": _DT_NAMES.get(spec.dtype.name, spec.dtype.name), "name": name}
    if shape.rank is None:
        info["tensor_shape"] = {"dim": [], "unknown_rank": True}
    else:
        info["tensor_shape"] = {
            "dim": [{"size": str(-1 if d is None else d), "name": ""} for d in shape.as_list()],
            "unknown_rank": False,
        }
    return info


def _metadata(model, version):
    from rill import nest

    v = model.get(version=version)
    defs = {}
    for key, fn in sorted(v.signatures.items()):
        ins = fn.structured_input_signature[1] or {}
        outs = fn.structured_outputs
        if not isinstance(outs, dict):
            outs = {f"output_{i}": s for i, s in enumerate(nest.flatten(outs))}
        defs[key] = {
            "inputs": {k: _tensor_info(s, f"{key}_{k}:0") for k, s in sorted(ins.items())},
            "outputs": {
                k: _tensor_info(s, f"StatefulPartitionedCall:{i}")
                for i, (k, s) in enumerate(sorted(outs.items()))
            },  # fmt: skip
            "method_name": "tensorflow/serving/predict",
        }
    return {
        "model_spec": {"name": model.name, "signature_name": "", "version": str(v.version)},
        "metadata": {"signature_def": {"signature_def": defs}},
    }
