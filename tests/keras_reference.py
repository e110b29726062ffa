"""Compare a zoo model with the keras.applications model it mirrors, in a fresh Keras session.

Used by the tests and by ``python tests/keras_reference.py NAME [key=value ...]`` while
writing a family file. Equal means: the same ``model.layers`` (name, class, output shape,
parameter count, inbound layers, in order) and the same ``model.to_json()`` with the
model's own name and its input layer's name set aside.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from typing import Any

import zoo
from zoo.specification import catalog, keras_versions

# zoo name -> keras.applications constructor (zoo's catalogue maps them the other way)
APPLICATIONS = {name: constructor for constructor, name in catalog.APPLICATIONS.items()}


def reference(name: str, **overrides: Any) -> Any:
    """keras.applications' model, built in a fresh session (automatic names start from zero)."""
    import keras

    keras.utils.clear_session()
    return getattr(keras.applications, APPLICATIONS[name])(**{"weights": None, **overrides})


@contextlib.contextmanager
def image_data_format(data_format: str | None) -> Iterator[None]:
    """Keras's global image data format, as keras.applications' tests set it, restored after."""
    import keras

    previous = keras.config.image_data_format()
    keras.config.set_image_data_format(data_format or previous)
    try:
        yield
    finally:
        keras.config.set_image_data_format(previous)


def layer_table(model: Any) -> list[tuple[Any, ...]]:
    rows = []
    for layer in model.layers:
        inbound = []
        for node in layer._inbound_nodes:
            inbound.append(tuple(t._keras_history[0].name for t in node.input_tensors))
        rows.append(
            (
                layer.name,
                type(layer).__name__,
                tuple(layer.output.shape),
                layer.count_params(),
                tuple(inbound),
            )
        )
    return rows


def normalised_json(model: Any) -> dict[str, Any]:
    """``model.to_json()`` with the model's name and its input layers' names replaced by placeholders.

    The input layers of nested Sequential groups (ConvNeXt's stem) count as input layers too:
    Keras names them automatically, so their names depend on what the session built before.
    """
    text = model.to_json()
    names: list[str] = []

    def inputs(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("class_name") == "InputLayer":
                names.append(node["config"]["name"])
            for value in node.values():
                inputs(value)
        elif isinstance(node, list):
            for value in node:
                inputs(value)

    inputs(json.loads(text))
    for i, name in enumerate(names):
        text = text.replace(f'"{name}"', f'"<input {i}>"')
    config = json.loads(text)
    config["config"]["name"] = "<model>"
    return config


def differences(name: str, data_format: str | None = None, **overrides: Any) -> list[str]:
    """Where zoo's model and keras.applications' differ; empty when they are the same model.

    ``data_format``: Keras's global image data format while both are built (zoo's family follows it).
    """
    with image_data_format(data_format):
        theirs = reference(name, **overrides)
        ours = zoo.build(name, compile=False, **{"weights": None, **overrides})
    return model_differences(ours, theirs)


def model_differences(ours: Any, theirs: Any) -> list[str]:
    """Where two built models differ: their layer tables, then their normalised ``to_json()``."""
    out = []
    a, b = layer_table(ours), layer_table(theirs)
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else None
        y = b[i] if i < len(b) else None
        if x is None or y is None or _strip_input(x, ours) != _strip_input(y, theirs):
            out.append(f"layer {i}: zoo {x}\n          keras {y}")
            if len(out) > 5:
                break
    if not out:
        ja, jb = normalised_json(ours), normalised_json(theirs)
        if ja != jb:
            la, lb = ja["config"]["layers"], jb["config"]["layers"]
            for x, y in zip(la, lb):
                if x != y:
                    out.append(f"to_json differs at {x.get('name')}:\n  zoo   {x}\n  keras {y}")
                    break
            else:
                out.append("to_json differs outside the layers")
    return out


def _strip_input(row: tuple[Any, ...], model: Any) -> tuple[Any, ...]:
    input_name = model.layers[0].name
    name, kind, shape, params, inbound = row
    if name == input_name:
        name = "<input>"
    inbound = tuple(tuple("<input>" if n == input_name else n for n in node) for node in inbound)
    return (name, kind, shape, params, inbound)


if __name__ == "__main__":
    import ast

    model_name, *pairs = sys.argv[1:]
    kwargs = {}
    for pair in pairs:
        k, v = pair.split("=", 1)
        try:
            kwargs[k] = ast.literal_eval(v)
        except (ValueError, SyntaxError):
            kwargs[k] = v
    found = differences(model_name, **kwargs)
    print("\n".join(found) if found else f"{model_name} {kwargs}: the same model as keras.applications")
    sys.exit(1 if found else 0)


def older_keras(change_id: str) -> bool:
    """Whether the running Keras is on the old side of one of Keras's recorded changes."""
    import keras

    return not keras_versions.change(change_id).is_new(keras_versions.parse(keras.__version__))
