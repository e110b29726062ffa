"""Every use of Keras's internals, in one place: reading a built model (its summary rows, the
layers a layer was called on, a nested layer's output in the model that called it).

Keras has no public API for some of what zoo reads (a layer's inbound nodes); a Keras release that
moves them breaks this module alone, and its tests say so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from zoo.arith.summary import Row, Summary
from zoo.specification.catalog import ref_of


def tensor_ref(tensor: Any) -> str:
    """The layer a symbolic tensor comes from, as a spec's ``inputs:`` names it: ``lstm``, or
    ``lstm:2`` for a layer's third output (an LSTM's state c with return_state)."""
    history = tensor._keras_history
    return ref_of(history.operation.name, history.tensor_index)


def output_shape(layer: Any) -> tuple[Any, ...]:
    """A layer's output shape with the batch axis, or its several outputs' (a tuple of shapes)."""
    out = layer.output
    if isinstance(out, (list, tuple)):
        return tuple(tuple(t.shape) for t in out)
    return tuple(out.shape)


def _connected_to(layer: Any, model: Any = None) -> tuple[str, ...]:
    """The names of the layers whose outputs ``layer`` took: from its latest call in the graph, and
    where ``model`` calls it several times (a shared layer), from each of those calls in turn."""
    nodes = getattr(layer, "_inbound_nodes", None) or []
    if not nodes:
        return ()
    graph = getattr(model, "_nodes_by_depth", None)
    ours = [n for n in nodes if graph and any(n in level for level in graph.values())]
    calls = ours if len(ours) > 1 else nodes[-1:]
    taken = dict.fromkeys(tuple(tensor_ref(t) for t in n.input_tensors) for n in calls)
    return tuple(name for call in taken for name in call)


def connected_to(layer: Any, model: Any = None) -> tuple[str, ...]:
    """The names of the layers (and inputs) whose outputs ``layer`` took in ``model``."""
    return _connected_to(layer, model)


def summary_of(model: Any, order: Iterable[str] | None = None) -> Summary:
    """Read a built Keras model into a Summary, one row per top-level layer.

    The input layer is left out, as in Keras's own summary of a Sequential model;
    a nested model (the VGG16 base) is one row. Totals come from the model's own
    weight lists, not from the rows, so the "rows add up" invariant can be tested.
    ``order`` lists layer names in the order rows should take (a spec's definition
    order; Keras keeps a graph's layers in an order of its own).
    """
    # A functional model's operations are its layers plus the operations in its graph
    # (ConvNeXt's `inputs + x`), as Keras's own summary lists them.
    everything = getattr(model, "operations", None) or model.layers
    layers = [layer for layer in everything if type(layer).__name__ != "InputLayer"]
    if order is not None:
        rank = {name: i for i, name in enumerate(order)}
        layers.sort(key=lambda layer: rank.get(layer.name, len(rank)))
    rows = []
    for layer in layers:
        rows.append(
            Row(
                name=layer.name,
                type=type(layer).__name__,
                output_shape=output_shape(layer),
                params=layer.count_params() if hasattr(layer, "count_params") else 0,
                trainable=bool(getattr(layer, "trainable", True)),
                trainable_params=_count(getattr(layer, "trainable_weights", ())),
                connected_to=_connected_to(layer, model),
            )
        )
    trainable = _count(model.trainable_weights)
    non_trainable = _count(model.non_trainable_weights)
    return Summary(model.name, tuple(rows), trainable + non_trainable, trainable, non_trainable, frameworks())


def _count(weights: Iterable[Any]) -> int:
    unique = {id(w): w for w in weights}.values()
    return sum(math.prod(w.shape) for w in unique)


def outer_output(layer: Any) -> Any:
    """A layer's output in the model that called it last: for a nested base (ResNet50 as a layer),
    ``layer.output`` is the output of its own inner graph, not of its call in the outer model."""
    return layer._inbound_nodes[-1].output_tensors[0]


def layer_outputs(model: Any) -> list[tuple[str, Any]]:
    """(reference, symbolic output) of every output of every layer of the model, as its summary lists
    them: ``lstm``, then ``lstm:1`` and ``lstm:2`` where it gives its states too."""
    return [
        (ref_of(layer.name, k), t)
        for layer in model.layers
        if type(layer).__name__ != "InputLayer"
        for k, t in enumerate(layer._inbound_nodes[-1].output_tensors)
    ]


def run_graph(model: Any, inputs: Any, call: Any) -> Any:
    """Run a functional model's graph on ``inputs``, each operation through ``call(operation, *args,
    **kwargs)``: the order and arguments of Keras's own ``Functional.call``, the computing ours."""
    return model._run_through_graph(inputs, operation_fn=lambda op: lambda *a, **k: call(op, *a, **k))


def frameworks() -> str:
    """The backend and Keras that compute here, with their versions: ``tensorflow 2.21.0, keras 3.15.1``."""
    import importlib.metadata

    import keras

    backend = keras.backend.backend()
    try:
        version = importlib.metadata.version(
            {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[backend]
        )
    except (KeyError, importlib.metadata.PackageNotFoundError):
        version = "?"
    return f"{backend} {version}, keras {keras.__version__}"
