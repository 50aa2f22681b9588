"""What every application model shares: input-shape validation, the input tensor, the
classifier head or pooling, and pretrained weights (downloaded with ``get_file`` and read
from Keras' legacy ``.h5`` files or Keras 3 ``.weights.h5`` files)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

from rill.keras import layers
from rill.keras.config import image_data_format

__all__ = [
    "obtain_input_shape",
    "correct_pad",
    "validate_activation",
    "weights_ok",
    "check_weights_arg",
    "image_input",
    "channel_axis",
    "classifier_or_pooling",
    "finish_model",
    "load_legacy_h5_weights",
    "named_constructor",
    "family_member",
]


def obtain_input_shape(
    input_shape, default_size, min_size, data_format, require_flatten, weights=None
) -> tuple:
    """The model's input shape: ``input_shape`` checked against the model's minimum size,
    the channel count pretrained weights need, and the static shape a flattening head
    needs; or the default shape when ``input_shape`` is not given."""
    first = data_format == "channels_first"
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if first else input_shape[-1]
        if channels not in {1, 3}:
            warnings.warn(
                "This model usually expects 1 or 3 input channels. However, it was passed "
                f"an input_shape with {channels} input channels.",
                stacklevel=3,
            )
        square = (default_size, default_size)
        default_shape = (channels, *square) if first else (*square, channels)
    else:
        default_shape = (
            (3, default_size, default_size) if first else (default_size, default_size, 3)
        )
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and tuple(input_shape) != default_shape:
            raise ValueError(
                "When setting `include_top=True` and loading `imagenet` weights, "
                f"`input_shape` should be {default_shape}.  Received: input_shape={input_shape}"
            )
        return default_shape
    if input_shape:
        if len(input_shape) != 3:
            raise ValueError("`input_shape` must be a tuple of three integers.")
        channels = input_shape[0] if first else input_shape[-1]
        spatial = input_shape[1:] if first else input_shape[:2]
        if channels != 3 and weights == "imagenet":
            raise ValueError(
                f"The input must have 3 channels; Received `input_shape={input_shape}`"
            )
        if any(s is not None and s < min_size for s in spatial):
            raise ValueError(
                f"Input size must be at least {min_size}x{min_size}; Received: "
                f"input_shape={input_shape}"
            )
    elif require_flatten:
        input_shape = default_shape
    else:
        input_shape = (3, None, None) if first else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError(
            "If `include_top` is True, you should specify a static `input_shape`. "
            f"Received: input_shape={input_shape}"
        )
    return input_shape


def correct_pad(inputs, kernel_size) -> tuple:
    """Zero padding ``((top, bottom), (left, right))`` that makes a strided 'valid'
    convolution of ``kernel_size`` see the same window centres as TF's 'same' padding."""
    first = image_data_format() == "channels_first"
    size = tuple(inputs.shape[2:4] if first else inputs.shape[1:3])
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    # an even input loses one row/column of leading padding; unknown sizes keep both
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    half = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((half[0] - adjust[0], half[0]), (half[1] - adjust[1], half[1]))


def validate_activation(classifier_activation, weights) -> None:
    """Refuse a classifier activation other than softmax or none with pretrained weights."""
    if weights is None:
        return
    from rill.keras import activations

    act = activations.get(classifier_activation)
    if act not in {activations.get("softmax"), activations.get(None)}:
        raise ValueError(
            "Only `None` and `softmax` activations are allowed for the "
            "`classifier_activation` argument when using pretrained weights, with "
            f"`include_top=True`; Received: classifier_activation={act}"
        )


def weights_ok(weights) -> bool:
    """Whether ``weights`` is None, 'imagenet' or an existing file's path."""
    return weights in {"imagenet", None} or bool(weights and os.path.exists(weights))


def check_weights_arg(weights, include_top, classes) -> None:
    """Raise the ValueError Keras raises for an unknown ``weights`` value, or for
    ImageNet weights with a classifier of other than 1000 classes."""
    if not weights_ok(weights):
        raise ValueError(
            "The `weights` argument should be either `None` (random initialization), "
            "'imagenet' (pre-training on ImageNet), or the path to the weights file to be "
            f"loaded.  Received: weights={weights}"
        )
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            "If using `weights='imagenet'` with `include_top=True`, `classes` should be "
            f"1000.  Received classes={classes}"
        )


def channel_axis() -> int:
    """The channel axis of a 4-D image batch in the current data format."""
    return 1 if image_data_format() == "channels_first" else 3


def image_input(input_tensor, input_shape):
    """The model's image input: a new ``Input`` or the given tensor (wrapped in an
    ``Input`` when it is not already a Keras tensor)."""
    from rill.keras.backend import is_keras_tensor

    if input_tensor is None:
        return layers.Input(shape=input_shape)
    if not is_keras_tensor(input_tensor):
        return layers.Input(tensor=input_tensor, shape=input_shape)
    return input_tensor


def classifier_or_pooling(
    x,
    include_top,
    pooling,
    classes,
    classifier_activation,
    weights,
    dropout=None,
    pool_names=True,
):
    """The usual head: global average pooling and a softmax ``predictions`` Dense layer,
    or, without a top, the requested global pooling (``avg_pool`` / ``max_pool``)."""
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout:
            x = layers.Dropout(dropout, name="top_dropout")(x)
        validate_activation(classifier_activation, weights)
        return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name="avg_pool" if pool_names else None)(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name="max_pool" if pool_names else None)(x)
    return x


def finish_model(
    img_input,
    input_tensor,
    outputs,
    name: str,
    weights,
    remote: Callable[[], tuple[str, str, str] | None] | None = None,
):
    """Build the functional model and load its weights: ``remote()`` names the
    pretrained file (file name, origin, hash) for ``weights="imagenet"``; any other
    non-None ``weights`` is a local file path."""
    from rill.keras.models import Functional

    if input_tensor is not None:
        from rill.keras.utils.graph_utils import get_source_inputs

        inputs = get_source_inputs(input_tensor)
    else:
        inputs = img_input
    model = Functional(inputs, outputs, name=name)
    if weights == "imagenet":
        found = remote() if remote is not None else None
        if found is not None:
            from rill.keras.utils.file_utils import get_file

            file_name, origin, file_hash = found
            path = get_file(file_name, origin, cache_subdir="models", file_hash=file_hash)
            load_weights(model, path)
    elif weights is not None:
        load_weights(model, weights)
    return model


def load_weights(model, path: str) -> None:
    """Load a weights file into ``model``: Keras 3 files through ``model.load_weights``,
    Keras 2 style ``.h5`` files (the published pretrained weights) by layer order."""
    path = os.fspath(path)
    if path.endswith((".keras", ".weights.h5")):
        model.load_weights(path)
    elif path.endswith((".h5", ".hdf5")):
        load_legacy_h5_weights(model, path)
    else:
        model.load_weights(path)


def _h5py() -> Any:
    try:
        import h5py
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            'Loading pretrained application weights needs h5py: pip install "rill[h5]"'
        ) from e
    return h5py


def _names(group, attr: str) -> list[str]:
    # long name lists are split over attrs "name0", "name1", ... by the writer
    if attr in group.attrs:
        raw = list(group.attrs[attr])
    else:
        raw, i = [], 0
        while f"{attr}{i}" in group.attrs:
            raw.extend(group.attrs[f"{attr}{i}"])
            i += 1
    return [n.decode("utf8") if hasattr(n, "decode") else str(n) for n in raw]


def load_legacy_h5_weights(model, path: str) -> None:
    """Assign the weights of a Keras 2 style ``.h5`` file (layers listed in the
    ``layer_names`` attribute, each with ``weight_names``) to ``model``'s layers that
    have weights, in order, as Keras' topological loader does."""
    h5py = _h5py()
    with h5py.File(path, "r") as f:
        group = f["model_weights"] if "model_weights" in f else f
        saved = []
        for lname in _names(group, "layer_names"):
            wnames = _names(group[lname], "weight_names")
            if wnames:
                saved.append((lname, [group[lname][w][()] for w in wnames]))
        targets = [
            lyr for lyr in model.layers if lyr.trainable_weights or lyr.non_trainable_weights
        ]
        if len(saved) != len(targets):
            raise ValueError(
                "Layer count mismatch when loading weights from file. Model expected "
                f"{len(targets)} layers, found {len(saved)} saved layers."
            )
        for k, (layer, (lname, values)) in enumerate(zip(targets, saved)):
            variables = list(layer.trainable_weights) + list(layer.non_trainable_weights)
            if len(values) != len(variables):
                raise ValueError(
                    f"Weight count mismatch for layer #{k} (named {layer.name} in the current "
                    f"model, {lname} in the save file). Layer expects {len(variables)} "
                    f"weight(s). Received {len(values)} saved weight(s)"
                )
            for var, value in zip(variables, values):
                if tuple(var.shape) != tuple(value.shape):
                    raise ValueError(
                        f"Shape mismatch in layer #{k} (named {layer.name}) for weight "
                        f"{var.path}. Weight expects shape {tuple(var.shape)}. Received "
                        f"saved weight with shape {tuple(value.shape)}"
                    )
                var.assign(value)


def square_default_size(input_shape, sizes, fallback=224) -> int:
    """The input size a size-family model (MobileNet) defaults to: the given square size
    when it is one the pretrained weights exist for, else ``fallback``."""
    if input_shape is None:
        return fallback
    first = image_data_format() == "channels_first"
    rows, cols = (input_shape[1], input_shape[2]) if first else (input_shape[0], input_shape[1])
    return rows if rows == cols and rows in sizes else fallback


def spatial(shape) -> tuple:
    """(rows, cols) of a 3-D image shape in the current data format."""
    first = image_data_format() == "channels_first"
    return (shape[1], shape[2]) if first else (shape[0], shape[1])


def make_divisible(v, divisor=8, min_value=None) -> int:
    """``v`` rounded to the nearest multiple of ``divisor`` (at least ``min_value``),
    never rounding down by more than 10%: the MobileNet/EfficientNet channel rule."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def named_constructor(fn: Callable, public_name: str, doc: str, module: str) -> Callable:
    """``fn`` presented as the public ``module.public_name`` with docstring ``doc``."""
    fn.__name__ = fn.__qualname__ = public_name
    fn.__doc__ = doc
    fn.__module__ = module
    return fn


def family_member(build: Callable, public_name: str, default_name: str, doc: str,
                  module: str) -> Callable:  # fmt: skip
    """A family member's constructor: Keras' standard application arguments (``name``
    defaulting to ``default_name``), passed to ``build`` by keyword."""

    def constructor(
        include_top=True,
        weights="imagenet",
        input_tensor=None,
        input_shape=None,
        pooling=None,
        classes=1000,
        classifier_activation="softmax",
        name=default_name,
    ):
        return build(include_top=include_top, weights=weights, input_tensor=input_tensor,
                     input_shape=input_shape, pooling=pooling, classes=classes,
                     classifier_activation=classifier_activation, name=name)  # fmt: skip

    return named_constructor(constructor, public_name, doc, module)
