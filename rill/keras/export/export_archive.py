"""``keras.export.ExportArchive``: endpoints and variables of Keras objects, written with
``tf.saved_model.save`` as a TensorFlow SavedModel for inference (TF Serving, TFLite,
``tf.saved_model.load``)."""

from __future__ import annotations

from rill.core.module import Module


class _Root(Module):
    def __init__(self):
        super().__init__(name="export_archive")


class ExportArchive:
    """Collects tracked Keras objects, endpoints (traced functions with an input
    signature) and variable collections, then ``write_out``s them as a SavedModel."""

    def __init__(self):
        self._root = _Root()
        self._endpoints: dict = {}
        self._tracked: list = []

    @property
    def variables(self) -> list:
        return list(getattr(self._root, "variables_", []))

    def track(self, resource) -> None:
        """Track a layer or model, so that its variables are saved."""
        if not hasattr(resource, "variables"):
            raise ValueError(
                f"Invalid resource type. Expected a Keras layer or model. Received: {resource!r}"
            )
        self._tracked.append(resource)
        variables = list(getattr(self._root, "variables_", []))
        for v in resource.variables:
            if all(v is not w for w in variables):
                variables.append(v)
        object.__setattr__(self._root, "variables_", variables)

    def add_endpoint(self, name, fn, input_signature=None, **kwargs):
        """Add endpoint ``name``: ``fn`` traced with ``input_signature`` (a list of
        ``tf.TensorSpec``s), or already a ``tf.function`` with one."""
        from rill.tracing.polymorphic import Function, function

        if name in self._endpoints:
            raise ValueError(f"Endpoint name '{name}' is already taken.")
        if not name.isidentifier():
            raise ValueError(f"Invalid endpoint name '{name}': use a Python identifier.")
        if isinstance(fn, Function):
            if input_signature is None and fn.input_signature is None:
                raise ValueError(
                    f"The endpoint '{name}' is a tf.function without an input_signature; "
                    "pass input_signature."
                )
            if input_signature is not None:
                fn = function(fn.python_function if hasattr(fn, "python_function") else fn,
                              input_signature=input_signature)  # fmt: skip
        else:
            if input_signature is None:
                raise ValueError(
                    f"You must provide an `input_signature` when adding endpoint '{name}'."
                )
            fn = function(fn, input_signature=list(input_signature))
        self._endpoints[name] = fn
        object.__setattr__(self._root, name, fn)
        return fn

    def add_variable_collection(self, name, variables) -> None:
        """Save ``variables`` (a list of ``tf.Variable``s) as attribute ``name``."""
        variables = list(variables)
        if not all(getattr(v, "_rill_variable", False) for v in variables):
            raise ValueError(
                f"Expected all elements in `variables` to be `tf.Variable` instances for "
                f"collection '{name}'."
            )
        object.__setattr__(self._root, name, variables)

    def write_out(self, filepath, options=None, verbose=True) -> None:
        """Write the SavedModel to ``filepath``; the first endpoint is also the
        ``serving_default`` signature."""
        from rill.saved_model import save

        if not self._endpoints:
            raise ValueError("No endpoints have been set yet. Call add_endpoint().")
        signatures = dict(self._endpoints)
        signatures.setdefault("serving_default", next(iter(self._endpoints.values())))
        save(self._root, filepath, signatures=signatures, options=options)
        if verbose:
            print(f"Saved artifact at '{filepath}'. Endpoints: {sorted(self._endpoints)}")


def export_saved_model(model, filepath, verbose=True, input_signature=None, **kwargs):
    """``Model.export(format="tf_saved_model")``: one ``serve`` endpoint calling the
    model in inference mode."""
    from rill.core.tensor import TensorSpec

    if input_signature is None:
        inputs = getattr(model, "inputs", None)
        if not inputs:
            raise ValueError(
                "The model has no known inputs (build it, or pass input_signature=...)."
            )
        input_signature = [TensorSpec(t.shape, t.dtype, name=getattr(t, "name", None))
                           for t in inputs]  # fmt: skip
    archive = ExportArchive()
    archive.track(model)
    if len(input_signature) == 1:
        archive.add_endpoint("serve", lambda x: model(x, training=False), input_signature)
    else:
        archive.add_endpoint("serve", lambda *xs: model(list(xs), training=False), input_signature)
    archive.write_out(filepath, verbose=verbose)
