"""Whether two built Keras models are the same model: the same ``model.layers`` (names, classes,
output shapes, parameter counts, the layers each takes, in order) and the same ``model.to_json()``
with the names Keras generates set aside (the model's, and its input layers').

The judge of zoo's family files against keras.applications (the tests) and of an import against the
model it came from (:mod:`zoo.keras.importer`, before a spec is written).
"""

from __future__ import annotations

import json
import re
from typing import Any

from zoo.keras import introspect
from zoo.specification.catalog import snake_case


def layer_table(model: Any) -> list[tuple[Any, ...]]:
    """One row per layer: name, class, output shape, parameters, the layers each call took (each
    once: a Sequential built by ``add`` calls its earlier layers again at every step)."""
    rows = []
    for layer in model.layers:
        inbound: list[tuple[str, ...]] = []
        for node in layer._inbound_nodes:
            took = tuple(introspect.tensor_ref(t) for t in node.input_tensors)
            if took not in inbound:
                inbound.append(took)
        rows.append(
            (
                layer.name,
                type(layer).__name__,
                introspect.output_shape(layer),
                layer.count_params(),
                tuple(inbound),
            )
        )
    return rows


def normalised_json(model: Any, *, input_names: bool = False, generated: bool = False) -> dict[str, Any]:
    """``model.to_json()`` with the model's name (and, unless ``input_names``, its input layers'
    names; with ``generated``, every name Keras generates from a class, ``conv2d_7``, as inside a
    nested base whose counters depend on what the session built before) replaced by placeholders.

    The input layers of nested Sequential groups (ConvNeXt's stem) count as input layers too:
    Keras names them automatically, so their names depend on what the session built before.
    """
    text = model.to_json()
    names: list[str] = []

    def inputs(node: Any) -> None:
        if isinstance(node, dict):
            config = node.get("config")
            name = config.get("name") if isinstance(config, dict) else None
            if node.get("class_name") == "InputLayer" and not input_names and isinstance(name, str):
                names.append(name)
            elif generated and isinstance(name, str) and isinstance(node.get("class_name"), str):
                if re.fullmatch(re.escape(snake_case(node["class_name"])) + r"(_\d+)?", name):
                    names.append(name)
            for value in node.values():
                inputs(value)
        elif isinstance(node, list):
            for value in node:
                inputs(value)

    inputs(json.loads(text)["config"].get("layers", []))  # the model's own name is set aside below
    for i, name in enumerate(dict.fromkeys(names)):
        text = text.replace(f'"{name}"', f'"<input {i}>"')
    config = json.loads(text)
    config["config"]["name"] = "<model>"
    for key in ("input_layers", "output_layers"):  # keras.Model([x], [y]) and keras.Model(x, y): one graph
        ends = config["config"].get(key)
        if isinstance(ends, list) and len(ends) == 1 and isinstance(ends[0], list):
            config["config"][key] = ends[0]
    return config


def differences(
    ours: Any,
    theirs: Any,
    *,
    input_names: bool = False,
    generated: bool = False,
    limit: int = 5,
) -> list[str]:
    """Where two built models differ: their layer tables, then their normalised ``to_json()``;
    empty when they are the same model. ``input_names``: the input layers' names count too;
    ``generated``: names Keras generates inside nested models do not (:func:`normalised_json`)."""
    out = []
    a, b = layer_table(ours), layer_table(theirs)
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else None
        y = b[i] if i < len(b) else None
        if not input_names and x is not None and y is not None:
            x, y = _strip_input(x, ours), _strip_input(y, theirs)
        if x != y:
            out.append(f"layer {i}: zoo {x}\n          keras {y}")
            if len(out) > limit:
                break
    if not out:
        ja = normalised_json(ours, input_names=input_names, generated=generated)
        jb = normalised_json(theirs, input_names=input_names, generated=generated)
        if ja != jb:
            la, lb = ja["config"].get("layers", []), jb["config"].get("layers", [])
            for x, y in zip(la, lb):
                if x != y:
                    out.append(f"to_json differs at {x.get('name')}: {config_difference(x, y)}")
                    break
            else:
                out.append("to_json differs outside the layers")
    return out


def config_difference(ours: Any, theirs: Any, path: str = "") -> str:
    """The first place two JSON values differ, as ``key.key: zoo X, keras Y``."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in [*ours, *(k for k in theirs if k not in ours)]:
            if ours.get(key) != theirs.get(key):
                return config_difference(ours.get(key), theirs.get(key), f"{path}.{key}" if path else key)
    if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        for i, (x, y) in enumerate(zip(ours, theirs)):
            if x != y:
                return config_difference(x, y, f"{path}[{i}]")
    return f"{path or 'value'}: zoo {ours!r}, keras {theirs!r}"


def _strip_input(row: tuple[Any, ...], model: Any) -> tuple[Any, ...]:
    input_names = {t._keras_history[0].name for t in model.inputs}
    name, kind, shape, params, inbound = row
    if name in input_names:
        name = "<input>"
    inbound = tuple(tuple("<input>" if n in input_names else n for n in node) for node in inbound)
    return (name, kind, shape, params, inbound)
