"""A model server speaking TensorFlow Serving's REST API, for SavedModels (rill's or
TensorFlow's), on uvicorn and Starlette (``pip install "rill[serving]"``).

    python -m rill.serving --model_name=NAME --model_base_path=DIR --rest_api_port=8501
"""

from rill.serving.models import ModelRegistry, ServedModel, ServingError
from rill.serving.rest import BatchingOptions, create_app

__all__ = ["ModelRegistry", "ServedModel", "ServingError", "BatchingOptions", "create_app", "main"]


def main(argv=None) -> int:
    """The ``rill-model-server`` command (TF Serving's flag names)."""
    from rill.serving.cli import main as _main

    return _main(argv)
