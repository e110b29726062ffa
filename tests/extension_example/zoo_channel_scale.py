"""An extension package's zoo side, as a user would write it: plain Python, no framework import.

``ChannelScale`` multiplies each channel by a learned factor (one weight per channel); its Keras
class lives in ``channel_scale_layers`` and only zoo's Keras builder imports it.
"""

from __future__ import annotations

from typing import Any

from zoo.arith.step import Step
from zoo.specification.extensions import Extension


def channel_scale(shape: tuple[Any, ...], args: dict[str, Any], rank: int) -> Step:
    channels = shape[-1]
    return Step(
        shape=shape,
        params=channels,
        window=[(1, 1)] * (len(shape) - 1),
        work=["out = in", f"params = channels = {channels}"],
    )


def layers() -> list[Extension]:
    return [Extension("ChannelScale", channel_scale, module="channel_scale_layers", rank=2)]
