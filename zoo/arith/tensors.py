"""A family file's tensors while it expands: what ``shape(x)`` reads.

keras.applications reads shapes as it builds (``imagenet_utils.correct_pad(x, 3)`` pads by
``x.shape``; MobileNetV2 widens by ``inputs.shape[channel_axis]``). A family file says the same
with ``shape(x)``; expansion reads it only through this engine: the layers expanded so far are
validated as the spec's own layers will be and computed by their rules, each once, when a shape
first needs them. The shape is Keras's ``x.shape``: the batch axis (None) first, None for a size
left open. Shapes are computed as the newest supported Keras release computes them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from zoo.arith.engine import compute
from zoo.arith.step import UNKNOWN, GeometryError, Shape
from zoo.specification import catalog
from zoo.specification import model as specs
from zoo.specification.errors import Source
from zoo.specification.model import Layer
from zoo.specification.provenance import ExpandedSource, Provenance


class Tensors:
    """The shapes of one expansion's tensors: its inputs', then each layer's as it is computed."""

    def __init__(
        self, source: Source, variant_text: str, model: str, data_format: Any, inputs: Mapping[str, Any]
    ) -> None:
        self.label, self.lines, self.variant_text, self.name = source.label, source.lines, variant_text, model
        traced = ExpandedSource(source.label, source.lines, (), variant_text)
        if data_format not in catalog.DATA_FORMATS:
            raise traced.error(
                ("data_format",),
                "invalid data_format",
                received={"data_format": data_format},
                valid=", ".join(catalog.DATA_FORMATS),
            )
        self.data_format: str = data_format
        self.shapes: dict[str, Shape] = {}
        for key, shape in inputs.items():
            if shape is None:
                continue  # no shape to read: the validator says what the spec lacks
            where = ("input",) if key == catalog.MODEL_INPUT else ("inputs", key)
            given = specs.TOP_LEVEL["input"].check(shape, catalog.Ctx(traced, where, 0))
            self.shapes[key] = tuple(UNKNOWN if d is None else d for d in given)
        self.first: dict[str, Layer] = {}  # each layer by name, for a Call of it
        self.done = 0

    def shape(
        self, layers: Sequence[Mapping[str, Any]], provenance: Sequence[Provenance], name: str
    ) -> tuple[int | None, ...]:
        """Keras's ``x.shape`` of tensor ``name``: an input, or one of ``layers`` (every layer before it
        is computed first, those not computed yet)."""
        if name not in self.shapes:
            source = ExpandedSource(self.label, self.lines, tuple(provenance), self.variant_text)
            while name not in self.shapes and self.done < len(layers):
                self.step(layers[self.done], self.done, source)
                self.done += 1
        if name not in self.shapes:  # the model's input, where the spec gives none
            raise ExpandedSource(self.label, self.lines, (), self.variant_text).error(
                ("input",), f"shape() reads {name!r}, whose shape the spec does not give"
            )
        return (None, *(None if d is UNKNOWN else d for d in self.shapes[name]))

    def step(self, entry: Mapping[str, Any], index: int, source: ExpandedSource) -> None:
        """One layer validated (as the spec's layers will be) and computed by its rule."""
        layer = specs._layer(dict(entry), index, source, data_format=self.data_format)
        layer = dataclasses.replace(layer, inputs=tuple(layer.args.get("inputs") or ()))
        called = layer
        if layer.kind == catalog.CALL:
            target = self.first.get(layer.args["layer"])
            if target is None:
                raise source.error(
                    (*layer.path, "layer"), "calls no earlier layer", received={"layer": layer.args["layer"]}
                )
            called = target
        missing = [n for n in layer.inputs if n not in self.shapes]
        if missing:
            raise source.error(
                (*layer.path, "inputs"),
                f"takes {missing[0]!r}, whose shape the spec does not give",
                received={"inputs": list(layer.inputs)},
            )
        try:
            step = compute(called, [self.shapes[n] for n in layer.inputs])
        except GeometryError as exc:  # worded as the validated spec words it (Spec.error)
            raise source.error(
                layer.path, f"{layer.name} (in spec {self.name!r}): {exc.what}", received=exc.received or None
            ) from None
        self.first.setdefault(layer.name, layer)
        self.shapes.update(catalog.by_ref(layer.name, step.outputs))  # lstm, lstm:1, ... (return_state)
