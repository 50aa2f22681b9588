"""``python -m rill.serving``: TF Serving's ``tensorflow_model_server`` flags, on uvicorn."""

from __future__ import annotations

import argparse
import re

from rill.serving.models import ModelRegistry, ServedModel
from rill.serving.rest import BatchingOptions, create_app


def _bool(s: str) -> bool:
    return s.lower() in ("1", "true", "yes", "")


def parse_model_config(text: str) -> list:
    """Models from a ``model_config_list`` file (TF Serving's text format: ``config { name:
    ... base_path: ... model_version_policy { latest { num_versions: N } | all {} | specific
    { versions: V ... } } version_labels { key: ... value: ... } }``)."""
    models = []
    for block in _blocks(text, "config"):
        name = _field(block, "name")
        base = _field(block, "base_path")
        if not name or not base:
            raise ValueError("each config needs a name and a base_path")
        policy, num, specific = "latest", 1, []
        if re.search(r"\ball\s*\{", block):
            policy = "all"
        elif re.search(r"\bspecific\s*\{", block):
            policy = "specific"
            specific = [int(v) for v in re.findall(r"versions\s*:\s*(\d+)", block)]
        else:
            m = re.search(r"num_versions\s*:\s*(\d+)", block)
            num = int(m.group(1)) if m else 1
        labels = {
            k: int(v)
            for k, v in re.findall(
                r"version_labels\s*\{\s*key\s*:\s*\"([^\"]*)\"\s*value\s*:\s*(\d+)\s*\}", block
            )
        }
        models.append(ServedModel(name, base, policy, num, specific, labels))
    return models


def _field(block, key):
    m = re.search(key + r"\s*:\s*\"([^\"]*)\"", block)
    return m.group(1) if m else None


def _blocks(text, key):
    out = []
    for m in re.finditer(r"\b" + key + r"\s*\{", text):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        out.append(text[m.end() : i - 1])
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rill.serving", description=__doc__)
    p.add_argument("--model_name", default="default")
    p.add_argument("--model_base_path", default="")
    p.add_argument("--model_config_file", default="")
    p.add_argument("--rest_api_port", type=int, default=8501)
    p.add_argument("--rest_api_host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=8500, help="gRPC port (not served by rill)")
    p.add_argument("--enable_batching", type=_bool, nargs="?", const=True, default=False)
    p.add_argument("--max_batch_size", type=int, default=32)
    p.add_argument("--batch_timeout_micros", type=int, default=1000)
    p.add_argument("--file_system_poll_wait_seconds", type=float, default=1.0)
    p.add_argument("--max_body_bytes", type=int, default=64 << 20)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        import uvicorn
    except ImportError:
        raise ImportError('rill.serving needs uvicorn: pip install "rill[serving]"') from None
    if args.model_config_file:
        with open(args.model_config_file) as f:
            models = parse_model_config(f.read())
    elif args.model_base_path:
        models = [ServedModel(args.model_name, args.model_base_path)]
    else:
        raise SystemExit("give --model_base_path or --model_config_file")
    registry = ModelRegistry(models, poll_seconds=args.file_system_poll_wait_seconds)
    registry.start_polling()
    batching = (
        BatchingOptions(args.max_batch_size, args.batch_timeout_micros)
        if args.enable_batching
        else None
    )
    app = create_app(registry, batching, args.max_body_bytes)
    uvicorn.run(app, host=args.rest_api_host, port=args.rest_api_port, log_level="warning")
    registry.stop()
    return 0
