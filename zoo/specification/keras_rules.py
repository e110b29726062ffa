"""keras.applications' shared argument rules, in plain Python and in Keras's own words.

Family files call these from their expressions (``=obtain_input_shape(input_shape, 224, 32,
data_format, include_top, weights)``), so a family reads like the keras.applications function
it mirrors, and a broken rule is Keras's own message. Nothing here imports a framework; each
function follows ``keras/src/applications/imagenet_utils.py`` line by line (Keras 3.15), and the
tests run Keras's own cases (``imagenet_utils_test.py``) against both.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any


class KerasRuleError(Exception):
    """A keras.applications rule that the arguments break; ``message`` is Keras's, verbatim."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _shape(value: Any) -> tuple[Any, ...] | None:
    """A shape as Keras prints it: a tuple (zoo's expressions hold lists)."""
    return None if value is None else tuple(value)


def obtain_input_shape(
    input_shape: Any,
    default_size: int | None,
    min_size: int,
    data_format: str,
    require_flatten: bool,
    weights: Any = None,
) -> list[Any]:
    """keras.applications' ``imagenet_utils.obtain_input_shape``: the model's input shape, checked.

    Its default when ``input_shape`` is None (``default_size`` square with 3 channels with the
    top, open sizes without it), and its refusals: ImageNet weights with the top need the default
    shape, 3 channels with ImageNet weights, at least ``min_size`` on each spatial axis, three
    axes, and a static shape with the top.
    """
    input_shape = _shape(input_shape)
    channels_first = data_format == "channels_first"
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if channels_first else input_shape[-1]
        if channels not in {1, 3}:  # Keras's warning, in its words
            warnings.warn(
                "This model usually expects 1 or 3 input channels. However, it was passed an "
                f"input_shape with {channels} input channels.",
                UserWarning,
                stacklevel=2,
            )
        if channels_first:
            default_shape: tuple[Any, ...] = (input_shape[0], default_size, default_size)
        else:
            default_shape = (default_size, default_size, input_shape[-1])
    else:
        default_shape = (3, default_size, default_size) if channels_first else (default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and input_shape != default_shape:
            raise KerasRuleError(
                "When setting `include_top=True` and loading `imagenet` weights, "
                f"`input_shape` should be {default_shape}.  Received: input_shape={input_shape}"
            )
        return list(default_shape)
    if input_shape:
        if len(input_shape) != 3:
            raise KerasRuleError("`input_shape` must be a tuple of three integers.")
        channels, rows, cols = (
            (input_shape[0], input_shape[1], input_shape[2])
            if channels_first
            else (input_shape[-1], input_shape[0], input_shape[1])
        )
        if channels != 3 and weights == "imagenet":
            raise KerasRuleError(f"The input must have 3 channels; Received `input_shape={input_shape}`")
        if (rows is not None and rows < min_size) or (cols is not None and cols < min_size):
            raise KerasRuleError(
                f"Input size must be at least {min_size}x{min_size}; Received: input_shape={input_shape}"
            )
    elif require_flatten:
        input_shape = default_shape
    else:
        input_shape = (3, None, None) if channels_first else (None, None, 3)
    if require_flatten and None in input_shape:
        raise KerasRuleError(
            "If `include_top` is True, you should specify a static `input_shape`. "
            f"Received: input_shape={input_shape}"
        )
    return list(input_shape)


def file_exists(path: Any) -> bool:
    """Whether ``path`` names an existing file: keras.applications' ``weights`` rule
    (``weights in {"imagenet", None} or file_utils.exists(weights)``). It only looks."""
    return isinstance(path, str) and os.path.exists(path)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "obtain_input_shape": obtain_input_shape,
    "file_exists": file_exists,
}
