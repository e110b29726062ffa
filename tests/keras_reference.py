"""Compare a zoo model with the keras.applications model it mirrors, in a fresh Keras session.

Used by the tests and by ``python tests/keras_reference.py NAME [key=value ...]`` while
writing a family file. Equal means: the same ``model.layers`` (name, class, output shape,
parameter count, inbound layers, in order) and the same ``model.to_json()`` with the
model's own name and its input layer's name set aside.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

import zoo
from zoo.keras.compare import differences as model_differences
from zoo.keras.compare import layer_table, normalised_json
from zoo.specification import catalog, keras_versions

__all__ = ["layer_table", "model_differences", "normalised_json"]

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


def differences(name: str, data_format: str | None = None, **overrides: Any) -> list[str]:
    """Where zoo's model and keras.applications' differ; empty when they are the same model.

    ``data_format``: Keras's global image data format while both are built (zoo's family follows it).
    """
    with image_data_format(data_format):
        theirs = reference(name, **overrides)
        ours = zoo.build(name, compile=False, **{"weights": None, **overrides})
    return model_differences(ours, theirs)


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
