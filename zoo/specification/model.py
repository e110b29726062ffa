"""The ``Spec`` type and the validation that makes one: a plain spec's data checked against the
catalogue, its layers named as a fresh Keras session names them and connected into a graph.

A family file is expanded first (:mod:`zoo.specification.family`); what reaches validation is always a
plain spec's data, each value with its line (:mod:`zoo.specification.loading`), so every error points at
the file, the line and the key.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo.specification import catalog, family
from zoo.specification.catalog import Arg, Ctx, object_schema, validate_mapping
from zoo.specification.errors import KeyPath, Source, SpecError, did_you_mean, show
from zoo.specification.files import builtin_dir, read_text
from zoo.specification.loading import load_yaml

# ---------------------------------------------------------------- validation


@catalog.described({"type": "string", "minLength": 1, "pattern": "\\S"})
def _string(v: Any, ctx: Ctx) -> str:
    if isinstance(v, str) and v.strip():
        return v
    raise ctx.error("must be a non-empty string", v)


@catalog.described({"type": "string", "pattern": "^[a-z][a-z0-9_]*$"})
def _spec_name(v: Any, ctx: Ctx) -> str:
    if isinstance(v, str) and re.fullmatch(r"[a-z][a-z0-9_]*", v):
        return v
    raise ctx.error("invalid spec name", v, "lower-case letters, digits and '_', starting with a letter")


@catalog.described(
    {
        "type": "array",
        "items": {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]},
        "minItems": 1,
        "maxItems": 5,
    }
)
def _input_shape(v: Any, ctx: Ctx) -> tuple[int | None, ...]:
    valid = (
        "a list of 1 to 5 integers >= 1, without the batch axis, e.g. [64, 64, 3] (ConvLSTM3D's "
        "(time, depth, height, width, channels) has 5); "
        "null for a spatial size left open, e.g. [null, null, 3]"
    )
    if (
        isinstance(v, list)
        and 1 <= len(v) <= 5
        and all(x is None or (isinstance(x, int) and not isinstance(x, bool) and x >= 1) for x in v)
    ):
        return tuple(v)
    raise ctx.error("invalid input shape", v, valid)


@catalog.described(
    lambda rank: {
        "type": "object",
        "minProperties": 1,
        "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_.-]*$"},
        "additionalProperties": catalog.json_of(_input_shape),
    }
)
def _named_inputs(v: Any, ctx: Ctx) -> tuple[tuple[str, tuple[int | None, ...]], ...]:
    """``inputs:``: the model's inputs, each name with its shape: ``{image: [64, 64, 3], meta: [8]}``."""
    if not isinstance(v, dict) or not v:
        raise ctx.error("must map each input's name to its shape", v, "e.g. {image: [64, 64, 3], meta: [8]}")
    out = []
    for name, shape in v.items():
        inner = Ctx(ctx.source, (*ctx.path, name), ctx.rank)
        out.append((catalog.layer_name(name, inner), _input_shape(shape, inner)))
    return tuple(out)


def _list_of(check: catalog.Check) -> catalog.Check:
    def run(v: Any, ctx: Ctx) -> tuple[Any, ...]:
        if not isinstance(v, list):
            raise ctx.error("must be a list", v)
        return tuple(check(x, dataclasses.replace(ctx, path=(*ctx.path, i))) for i, x in enumerate(v))

    return catalog.described(lambda rank: {"type": "array", "items": catalog.json_of(check, rank)})(run)


@catalog.described(
    {
        "type": "array",
        "minItems": 1,
        "items": {"oneOf": [{"type": "null"}, {"type": "integer", "minimum": 0}]},
    }
)
def _shape(v: Any, ctx: Ctx) -> tuple[int | None, ...]:
    if (
        isinstance(v, list)
        and v
        and all(x is None or (isinstance(x, int) and not isinstance(x, bool) and x >= 0) for x in v)
    ):
        return tuple(v)
    raise ctx.error("invalid output shape", v, "a list like [null, 62, 62, 32], null for the batch")


OPTIMIZERS = tuple("adadelta adafactor adagrad adam adamax adamw ftrl lion nadam rmsprop sgd".split())
LOSSES = tuple(
    "binary_crossentropy binary_focal_crossentropy categorical_crossentropy categorical_hinge "
    "cosine_similarity hinge huber kl_divergence log_cosh mean_absolute_error "
    "mean_absolute_percentage_error mean_squared_error mean_squared_logarithmic_error poisson "
    "sparse_categorical_crossentropy squared_hinge mae mse".split()
)
METRICS = tuple(
    "accuracy binary_accuracy categorical_accuracy sparse_categorical_accuracy "
    "top_k_categorical_accuracy sparse_top_k_categorical_accuracy mean_squared_error "
    "mean_absolute_error mse mae".split()
)

MODEL_KINDS = ("sequential", "functional")
INPUT_DTYPES = ("float32", "float16", "bfloat16", "float64", "int32", "int64", "uint8", "bool")
PREPROCESS_MODES = (
    "caffe",
    "tf",
    "torch",
    "none",
)  # zoo.preprocessing.MODES  # keras.Sequential, or keras.Model(inputs, outputs)

_EXPECT_LAYER = {
    "name": Arg(_string, None),
    "output_shape": Arg(_shape, None),
    "params": Arg(catalog.int_at_least(0), None),
}


@catalog.described(lambda rank: object_schema(_EXPECT_LAYER))
def _expect_layer(v: Any, ctx: Ctx) -> dict[str, Any]:
    return validate_mapping(v, ctx.path, _EXPECT_LAYER, ctx.source, what="an expected layer")


SECTIONS: dict[str, Mapping[str, Arg]] = {
    "compile": {
        "optimizer": Arg(catalog.name_in(OPTIMIZERS, "optimizer")),
        "loss": Arg(catalog.name_in(LOSSES, "loss")),
        "metrics": Arg(_list_of(catalog.name_in(METRICS, "metric")), ()),
    },
    "data": {
        "samples": Arg(catalog.positive_int, 100),
        "classes": Arg(catalog.int_at_least(2)),
        # per_sample: one label per input (the tutorial); per_pixel: one per output position
        "labels": Arg(catalog.one_of("per_sample", "per_pixel"), "per_sample"),
    },
    "fit": {"epochs": Arg(catalog.positive_int, 10), "batch_size": Arg(catalog.positive_int, 32)},
    "expect": {
        "layers": Arg(_list_of(_expect_layer), ()),
        "total_params": Arg(catalog.int_at_least(0), None),
        "trainable_params": Arg(catalog.int_at_least(0), None),
        "non_trainable_params": Arg(catalog.int_at_least(0), None),
    },
}

TOP_LEVEL: dict[str, Arg] = {
    "name": Arg(_spec_name),
    "description": Arg(_string),
    "source": Arg(_string, None),
    "input": Arg(_input_shape, None),
    # several inputs, by name (the names layers' ``inputs:`` lists take, and the Keras input
    # layers'), each with its shape: instead of ``input:``
    "inputs": Arg(_named_inputs, None),
    # the model's outputs, by layer name (default: the last layer)
    "outputs": Arg(catalog.layer_names, None),
    # the Keras name of the model's input layer (an imported model keeps its own); in ``inputs:``
    # lists the model's input is always called ``input``
    "input_name": Arg(catalog.layer_name, catalog.MODEL_INPUT),
    # the dtype of a single input (keras.Input's): int32 or int64 where the model takes token ids
    "input_dtype": Arg(catalog.one_of(*INPUT_DTYPES), "float32"),
    # which Keras model class a spec builds; default: sequential for a chain, functional for a graph
    "model": Arg(catalog.one_of(*MODEL_KINDS), None),
    # the image data format the model is built under, as keras.config.image_data_format() is in
    # Keras: the default data_format of every layer that takes one (and of a pretrained base)
    "data_format": Arg(catalog.one_of(*catalog.DATA_FORMATS), "channels_last"),
    # a model built on an input_tensor: its inputs are those the tensor comes from, as a list
    # (keras.applications) or the first of them (ConvNeXt: get_source_inputs(input_tensor)[0])
    "source_inputs": Arg(catalog.one_of("list", "first"), "list"),
    # how its input images are prepared, as keras.applications' preprocess_input (zoo.preprocess_input)
    "preprocess": Arg(catalog.one_of(*PREPROCESS_MODES), None),
    "layers": Arg(lambda v, ctx: v),  # validated layer by layer below
    **{section: Arg(lambda v, ctx: v, None) for section in SECTIONS},
}


# ---------------------------------------------------------------- the Spec type


@dataclass(frozen=True)
class Layer:
    """One layer of a spec: the catalogue entry it names and the arguments the spec gave."""

    kind: str  # Keras class name, e.g. "Conv2D"
    args: Mapping[str, Any]  # normalised, only what the spec wrote
    name: str  # the layer's name in the built model
    index: int  # position in the spec's ``layers`` list
    inputs: tuple[str, ...] = ()  # names of the layers it takes (catalog.MODEL_INPUT: the model input)
    data_format: str = "channels_last"  # its spec's: the default of its own data_format argument

    @property
    def keras_args(self) -> dict[str, Any]:
        """What the spec wrote, less zoo's own keys (name, trainable and inputs are applied apart)."""
        return {k: v for k, v in self.args.items() if k not in ("name", "trainable", "inputs")}

    @property
    def catalog(self) -> catalog.LayerKind:
        return catalog.LAYERS[self.kind]

    @property
    def class_name(self) -> str:
        """Keras's class: the catalogue's, or an opaque layer's own (``LSTM``)."""
        return str(self.args["class_name"]) if self.kind == catalog.OPAQUE else self.catalog.class_name

    @property
    def path(self) -> KeyPath:
        return ("layers", self.index, self.kind)

    def base(self, shape: Sequence[int | None]) -> Spec:
        """A pretrained base layer's own spec: its family file without the top, at input ``shape``
        (what both witnesses compute it from; no architecture is described twice)."""
        a = self.resolved()
        return base_spec(self.kind, tuple(shape), a["pooling"], a["weights"], a["data_format"])

    @property
    def states(self) -> int:
        """How many states a recurrent layer keeps (an LSTM its h and c: 2; RNN its cells'; a
        Bidirectional both directions'); 0 for any other layer. With ``return_state`` it gives them
        after its output, and it takes as many initial states after its sequence."""
        if self.kind == "RNN":
            cell = self.args["cell"]
            cells = cell.args["cells"] if cell.kind == "StackedRNNCells" else (cell,)
            return sum(catalog.STATES[c.kind] for c in cells)
        if self.kind == "Bidirectional":
            held: Layer = self.args["layer"]
            backward: Layer | None = self.args.get("backward_layer")
            return held.states + (held if backward is None else backward).states
        return catalog.STATES.get(self.kind, 0) if self.kind in catalog.RECURRENT else 0

    @property
    def output_count(self) -> int:
        """How many tensors the layer gives: 1, or a recurrent layer's output and states
        (``return_state``), or a Bidirectional's two directions (``merge_mode: null``) and states."""
        if self.kind != "Bidirectional" and self.kind not in catalog.RECURRENT:
            return 1
        a = self.resolved()
        if self.kind == "Bidirectional":
            keeps = a["layer"].resolved()["return_state"]
            return (2 if a["merge_mode"] is None else 1) + (self.states if keeps else 0)
        return 1 + self.states if a["return_state"] else 1

    def resolved(self) -> dict[str, Any]:
        """Arguments with the catalogue's (Keras's) defaults filled in; ``data_format`` defaults to the
        spec's, as a Keras layer's defaults to ``keras.config.image_data_format()``."""
        follows = {"data_format": self.data_format} if "data_format" in self.catalog.args else {}
        return catalog.resolve(self.catalog, {**follows, **self.args})


@dataclass(frozen=True)
class Spec:
    """A validated model spec: what to build, and what the tutorial printed for it."""

    name: str
    description: str
    input: tuple[int | None, ...]  # None: a spatial size left open, as keras.applications does
    layers: tuple[Layer, ...]
    citation: str | None = None  # its `source:` key: where it comes from, e.g. "Tutorial, ... cell In [5]"
    compile: Mapping[str, Any] | None = None
    data: Mapping[str, Any] | None = None
    fit: Mapping[str, Any] | None = None
    expect: Mapping[str, Any] = field(default_factory=dict)
    model: str = "sequential"  # the Keras model class it builds: "sequential" or "functional"
    data_format: str = "channels_last"  # the image data format it is built under
    preprocess: str | None = None  # keras.applications' preprocess_input mode, where it has one
    source_inputs: str = "list"  # built on an input_tensor: its source inputs as a list, or the first
    input_name: str = "input"  # the Keras name of its input layer
    input_dtype: str = "float32"  # its input layer's dtype (keras.Input's)
    # its inputs, (name in ``inputs:`` lists, shape) each; one input is (``input``, ``input``)
    named_inputs: tuple[tuple[str, tuple[int | None, ...]], ...] = ()
    outputs: tuple[str, ...] = ()  # the layers whose outputs are the model's; () for the last
    family: str | None = None  # the family file it is a variant of (resnet for resnet50)
    params: Mapping[str, Any] = field(default_factory=dict, compare=False)  # a family's, resolved
    # a whole-model spec's own weights: None (Keras's initialisers), "imagenet" or a file path
    weights: str | None = None
    weights_file: Mapping[str, Any] | None = field(default=None, compare=False)  # imagenet's file
    origin: Source = field(default_factory=Source, compare=False, repr=False)
    path: Path | None = field(default=None, compare=False, repr=False)
    # what it was made from (parsed data, source, model name, overrides): a family's model is made
    # again, its rules applied, when its weights change
    recipe: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def from_yaml(
        cls,
        text: str,
        path: str | os.PathLike[str] | None = None,
        *,
        name: str | None = None,
        **overrides: Any,
    ) -> Spec:
        """Parse and validate a spec from YAML text; ``path`` only labels messages.

        For a family file, ``name`` picks the variant (default: the first); ``overrides``
        set its parameters (``include_top=False``) and, for any spec, ``input_shape``.
        """
        label = str(path) if path is not None else "<string>"
        data, source = load_yaml(text, label)
        spec = _validate(data, source, name, overrides)
        return dataclasses.replace(spec, path=Path(path) if path is not None else None)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], label: str = "<dict>", *, name: str | None = None, **overrides: Any
    ) -> Spec:
        """Validate a spec given as plain Python data (what the YAML would have parsed to)."""
        return _validate(_plain_data(data), Source(label), name, overrides)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, name: str | None = None, **overrides: Any) -> Spec:
        """Read, parse and validate a spec file."""
        return cls.from_yaml(read_text(path), path, name=name, **overrides)

    def error(self, layer: Layer, what: str, **received: Any) -> SpecError:
        """An error about one layer, pointing at its line and naming spec and layer."""
        return self.origin.error(
            layer.path,
            f"{layer.name} (in spec {self.name!r}): {what}",
            received=received or None,
        )

    @property
    def is_chain(self) -> bool:
        """True when every layer takes the previous one's output (it could be a Sequential model)."""
        return _is_chain(self.layers)

    @property
    def inputs(self) -> tuple[tuple[str, tuple[int | None, ...]], ...]:
        """(name, shape) of each input; the name is what ``inputs:`` lists call it."""
        return self.named_inputs or ((catalog.MODEL_INPUT, self.input),)

    @property
    def output_names(self) -> tuple[str, ...]:
        """The layers whose outputs are the model's outputs, in order."""
        return self.outputs or (self.layers[-1].name,)

    def keras_input_name(self, name: str) -> str:
        """The Keras name of the input layer an ``inputs:`` list calls ``name``."""
        return self.input_name if name == catalog.MODEL_INPUT and not self.named_inputs else name

    def remade(self, **overrides: Any) -> Spec:
        """The same spec made again from its file with more ``overrides`` (``input_shape=...``):
        a family's rules apply to them as to the first ones."""
        if self.recipe is None:
            raise SpecError(f"spec {self.name!r} was not made from data zoo can make it again from")
        data, source, name, given = self.recipe
        return dataclasses.replace(_validate(data, source, name, {**given, **overrides}), path=self.path)

    def fine_tuned(self, trainable_from: str | None) -> set[str] | None:
        """The layers of this (base) model that train when it is fine-tuned from ``trainable_from``:
        that layer and every later one in the file's order, BatchNormalization excepted (the Keras
        transfer-learning guide keeps it in inference mode). None: no fine-tuning. Both witnesses
        and zoo.run count and train by this one rule."""
        if trainable_from is None:
            return None
        names = [layer.name for layer in self.layers]
        if trainable_from not in names:
            raise SpecError(
                f"trainable_from names no layer of {self.name}{did_you_mean(trainable_from, names)}. "
                f"Received: trainable_from={trainable_from!r}"
            )
        later = self.layers[names.index(trainable_from) :]
        return {layer.name for layer in later if layer.kind != "BatchNormalization"}

    def with_weights(self, weights: str | os.PathLike[str] | None) -> Spec:
        """The same spec with every pretrained base (or the whole model) loading ``weights`` instead.

        A family's model is made again with ``weights``, so its rules apply (ImageNet weights with
        the top need 1000 classes), as keras.applications applies them.
        """
        value = os.fspath(weights) if weights is not None else None
        if self.family is not None:
            if value == self.weights:
                return self
            if self.recipe is None:
                return dataclasses.replace(self, weights=value)
            return self.remade(weights=value)
        layers = tuple(
            dataclasses.replace(layer, args={**layer.args, "weights": value})
            if "weights" in layer.catalog.args
            else layer
            for layer in self.layers
        )
        recipe = self.recipe
        if recipe is not None:  # made again (another input_shape), it keeps these weights
            data, source, name, given = recipe
            recipe = (data, source, name, {**given, "weights": value})
        return dataclasses.replace(self, layers=layers, recipe=recipe)

    def to_data(self) -> dict[str, Any]:
        """The spec as the plain data of a spec file: what :meth:`from_dict` validates back into it.
        A family's variant comes out as a flat spec of its layers; defaults are left out."""
        out: dict[str, Any] = {"name": self.name, "description": self.description}
        if self.citation is not None:
            out["source"] = self.citation
        if self.named_inputs:
            out["inputs"] = {name: list(shape) for name, shape in self.named_inputs}
        else:
            out["input"] = list(self.input)
        if self.input_name != catalog.MODEL_INPUT:
            out["input_name"] = self.input_name
        if self.input_dtype != "float32":
            out["input_dtype"] = self.input_dtype
        if self.model != (
            "sequential" if self.is_chain and not self.named_inputs and not self.outputs else "functional"
        ):
            out["model"] = self.model
        if self.data_format != "channels_last":
            out["data_format"] = self.data_format
        if self.source_inputs != "list":
            out["source_inputs"] = self.source_inputs
        if self.preprocess is not None:
            out["preprocess"] = self.preprocess
        auto = catalog.AutoNames()
        previous = self.inputs[0][0]
        layers = []
        for layer in self.layers:
            layers.append(_layer_data(layer, auto.implied(layer.kind, layer.name), previous))
            previous = layer.name
        out["layers"] = layers
        if self.outputs:
            out["outputs"] = list(self.outputs)
        for key in ("compile", "data", "fit"):
            section = getattr(self, key)
            if section is not None:
                out[key] = _plain_data(dict(section))
        if self.expect:
            out["expect"] = _plain_data(dict(self.expect))
        return out

    def to_yaml(self) -> str:
        """The spec as a spec file's text, one layer a line as zoo's own files are written;
        ``Spec.from_yaml(spec.to_yaml())`` is the same spec."""
        return dump_spec(self.to_data())


def _layer_data(layer: Layer, implied_name: bool, previous: str) -> dict[str, Any]:
    """One layer as a spec file writes it: ``{Kind: {arguments}}``, without the name Keras would
    give it anyway, nor ``inputs:`` where it takes the layer before."""
    args: dict[str, Any] = {}
    if not implied_name:
        args["name"] = layer.name
    for key, value in layer.args.items():
        if key in ("name", "inputs"):
            continue
        if key == "layers" and layer.kind == "Sequential":
            value = [{inner.kind: _plain_data({"name": inner.name, **inner.keras_args})} for inner in value]
        elif key == "layers" and layer.kind == "Functional":  # a graph of named layers over `input`
            before = [catalog.MODEL_INPUT, *(inner.name for inner in value)]
            value = [_layer_data(inner, False, before[i]) for i, inner in enumerate(value)]
        elif key in catalog.held_keys(layer.kind) and value is not None:
            value = [_held_data(x) for x in value] if isinstance(value, tuple) else _held_data(value)
        args[key] = _written(layer, key, _plain_data(value))
    is_merge = layer.kind in catalog.MERGES or (
        layer.kind in catalog.OPS and layer.args.get("operand") is None
    )
    if is_merge or layer.inputs != (previous,):
        args["inputs"] = list(layer.inputs)
    return {layer.kind: args}


def _held_data(layer: Layer) -> dict[str, Any]:
    """A held layer (Bidirectional's, RNN's cell) as a spec writes it, its name left out where it is
    the one validation gives it."""
    args: dict[str, Any] = {} if layer.name == catalog.default_name(layer.kind) else {"name": layer.name}
    for key, value in layer.keras_args.items():
        if key in catalog.held_keys(layer.kind) and value is not None:
            args[key] = [_held_data(x) for x in value] if isinstance(value, tuple) else _held_data(value)
        else:
            args[key] = _written(layer, key, _plain_data(value))
    return {layer.kind: args}


def _written(layer: Layer, key: str, value: Any) -> Any:
    """A value as a person writes it: ``3`` for ``[3, 3]`` where the argument takes one number for
    every axis, ``[1, 2]`` for ``[[1, 1], [2, 2]]``, when it validates to the very same value."""

    def shortest(v: Any) -> Any:
        if not isinstance(v, list) or not v:
            return v
        inner = [shortest(x) for x in v]
        return inner[0] if all(x == inner[0] for x in inner) and len(inner) > 1 else inner

    arg = layer.catalog.args.get(key)
    if arg is None or not isinstance(value, list):
        return value
    ctx = catalog.Ctx(Source(), (key,), layer.catalog.rank)
    try:
        meant = arg.check(value, ctx)
    except SpecError:
        return value
    candidate = shortest(value)
    try:
        return candidate if arg.check(candidate, ctx) == meant else value
    except SpecError:
        return value


def dump_spec(data: Mapping[str, Any]) -> str:
    """A spec's plain data as YAML text: block style at the top, each layer on one line."""
    import yaml

    def flow(value: Any) -> str:
        text = yaml.safe_dump(value, default_flow_style=True, width=10**9, sort_keys=False)
        return text.strip().removesuffix("...").strip()

    def layer_lines(entries: Any, indent: str) -> list[str]:
        out = []
        for entry in entries:
            for kind, args in entry.items():
                if not isinstance(args.get("layers"), list):
                    out.append(f"{indent}- {kind}: {flow(args)}")
                    continue
                # a nested group: its arguments, then its layers one per line
                out.append(f"{indent}- {kind}:")
                for key, value in args.items():
                    if key != "layers":
                        out.append(f"{indent}    {key}: {flow(value)}")
                out.append(f"{indent}    layers:")
                out += layer_lines(args["layers"], indent + "      ")
        return out

    lines = ["# yaml-language-server: $schema=spec.schema.json"]
    for key, value in data.items():
        if key == "layers":
            lines.append("layers:")
            lines += layer_lines(value, "  ")
        elif isinstance(value, Mapping):
            lines.append(f"{key}: {flow(dict(value))}")
        else:
            lines.append(f"{key}: {flow(value)}")
    return "\n".join(lines) + "\n"


def _is_chain(layers: tuple[Layer, ...]) -> bool:
    previous = catalog.MODEL_INPUT
    for layer in layers:
        if (
            layer.inputs != (previous,)
            or layer.kind in catalog.OPS
            or layer.kind == catalog.CALL
            or layer.output_count > 1
        ):
            # keras.Sequential holds layers only, each called once
            return False
        previous = layer.name
    return True


def _plain_data(value: Any) -> Any:
    """Tuples to lists, so Python-built specs validate exactly like parsed YAML."""
    if isinstance(value, Mapping):
        return {k: _plain_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_data(v) for v in value]
    return value


def _validate(
    data: Any, source: Source, name: str | None = None, overrides: Mapping[str, Any] | None = None
) -> Spec:
    """The Spec of ``data``: a family file's model ``name`` (default: its first), or a plain spec.

    ``overrides`` are a family's parameters (keras.applications' arguments), or for any spec
    ``input_shape`` and ``weights`` (None, "imagenet" or a file: a family's whole model, a plain
    spec's pretrained bases).
    """
    overrides = dict(overrides or {})
    recipe = (data, source, name, dict(overrides))
    weights_given = "weights" in overrides
    weights = overrides.pop("weights", None)
    if weights is not None:
        weights = os.fspath(weights)
    if family.is_family(data):
        if name is None:  # the first variant (expansion refuses variants: that are not a mapping)
            variants = data.get("variants")
            first = next(iter(variants), None) if isinstance(variants, dict) else None
            name = first or data.get("name") or ""
        expanded = family.expand(data, source, name, overrides, weights=weights, plain_keys=tuple(TOP_LEVEL))
        spec = _validate_plain(expanded.data, expanded.source)
        return dataclasses.replace(
            spec,
            family=expanded.family,
            params=expanded.params,
            weights=weights,
            weights_file=expanded.weights_file,
            recipe=recipe,
        )
    if isinstance(data, dict) and overrides:
        for key, value in overrides.items():
            if key != "input_shape":
                raise SpecError(
                    f"unknown override{did_you_mean(key, ['input_shape', 'weights'])}. Received: "
                    f"{key}={show(value)}. Valid: input_shape, weights (this spec has no parameters)",
                    file=source.label,
                )
        data = {**data, "input": _plain_data(overrides["input_shape"])}
    spec = dataclasses.replace(_validate_plain(data, source), recipe=recipe)
    return spec.with_weights(weights) if weights_given else spec


def _validate_plain(data: Any, source: Source) -> Spec:
    if not isinstance(data, dict):
        raise SpecError(
            "the top level of a spec must be a mapping (name:, description:, input:, layers:, ...). "
            f"Received: {type(data).__name__} {show(data)[:60]}",
            file=source.label,
            line=source.line_of(()),
        )
    top = validate_mapping(data, (), TOP_LEVEL, source, what="a spec")
    sections = {
        key: validate_mapping(top[key], (key,), args, source, what=f"{key!r}")
        for key, args in SECTIONS.items()
        if top.get(key) is not None
    }
    rawlayers = top["layers"]
    if not isinstance(rawlayers, list) or not rawlayers:
        raise source.error(("layers",), "must be a non-empty list of layers", received={"layers": rawlayers})
    data_format = top.get("data_format", "channels_last")
    channels = 0 if data_format == "channels_first" else -1
    if (top.get("input") is None) == (top.get("inputs") is None):
        raise source.error(
            (),
            "a spec gives its input's shape as input: [...], or several inputs as inputs: {name: [...]}, "
            "one of the two",
            received={"input": top.get("input"), "inputs": top.get("inputs")},
        )
    named: tuple[tuple[str, tuple[int | None, ...]], ...] = top.get("inputs") or ()
    for key, shape in [("input", top["input"])] if top.get("input") is not None else named:
        if shape[channels] is None and len(shape) > 1:  # [null]: token ids of any length (an Embedding's)
            raise source.error(
                ("input",) if key == "input" else ("inputs", key),
                f"the channel axis (the {'first' if channels == 0 else 'last'}, "
                f"data_format {data_format}) must be given",
                received={key: list(shape)},
                valid="e.g. [null, null, 3] for channels_last, [3, null, null] for channels_first, "
                "[null] for token ids of any length",
            )
    if named and top.get("input_name") is not None:
        raise source.error(("input_name",), "with inputs: {...}, each input is named there")
    if named and top.get("input_dtype") not in (None, "float32"):
        raise source.error(("input_dtype",), "input_dtype is a single input's; inputs: {...} are float32")
    layers = tuple(_layer(entry, i, source, data_format=data_format) for i, entry in enumerate(rawlayers))
    layers = _name_layers(
        layers, source, tuple(n for n, _ in named) or (catalog.MODEL_INPUT,), top.get("outputs")
    )
    chain = _is_chain(layers) and not named and not top.get("outputs")
    model = top.get("model") or ("sequential" if chain else "functional")
    if model == "sequential" and not chain:
        raise source.error(
            ("model",),
            "a sequential model is a plain chain of layers, but this spec is a graph (a layer takes "
            "an input other than the layer before it, a layer is called twice, or the model has "
            "several inputs or outputs)",
            received={"model": model},
            valid="functional, or leave model: out",
        )
    return Spec(
        name=top["name"],
        description=top["description"],
        input=top["input"] if top.get("input") is not None else named[0][1],
        layers=layers,
        citation=top.get("source"),
        compile=sections.get("compile"),
        data=sections.get("data"),
        fit=sections.get("fit"),
        expect=sections.get("expect", {}),
        model=model,
        data_format=data_format,
        preprocess=top.get("preprocess"),
        source_inputs=top.get("source_inputs", "list"),
        input_name=top.get("input_name") or catalog.MODEL_INPUT,
        input_dtype=top.get("input_dtype") or "float32",
        named_inputs=tuple(named),
        outputs=tuple(top.get("outputs") or ()),
        origin=source,
    )


def _layer(
    entry: Any, index: int, source: Source, at: KeyPath | None = None, *, data_format: str = "channels_last"
) -> Layer:
    """One ``{LayerClass: {arguments}}``, validated; ``at`` is its key path (default ``layers[index]``)."""
    path: KeyPath = at or ("layers", index)
    if not isinstance(entry, dict) or len(entry) != 1:
        raise source.error(
            path,
            "a layer is a one-key mapping {LayerClass: {arguments}}, e.g. "
            "{Conv2D: {filters: 32, kernel_size: 3}}",
            received={"layer": entry},
        )
    [(kind, args)] = entry.items()
    if kind in catalog.REFUSED:
        raise source.error(
            (*path, kind),
            f"zoo refuses {kind}: {catalog.REFUSED[kind]}",
            received={"layer": kind},
            valid="a layer of the catalogue (zoo list-layers; README: refused layers)",
        )
    if kind not in catalog.LAYERS:
        raise source.error(
            (*path, kind),
            "unknown layer class" + did_you_mean(kind, catalog.LAYERS),
            received={"layer": kind},
            valid=", ".join(sorted(catalog.LAYERS)),
        )
    entry_kind = catalog.LAYERS[kind]
    given = validate_mapping(
        args, (*path, kind), entry_kind.args, source, rank=entry_kind.rank, what=f"{kind}'s value"
    )
    if kind == "Sequential":
        given["layers"] = _group(given["layers"], (*path, kind, "layers"), source, data_format)
    elif kind == "Functional":
        given["layers"] = _graph_group(given, (*path, kind), source, data_format)
    elif kind in catalog.WRAPPED:  # the layer, cell or cells it holds (and a backward layer)
        allowed = catalog.WRAPPED[kind][1]
        for key in catalog.held_keys(kind):
            held, where = given.get(key), (*path, kind, key)
            if held is None:
                continue
            given[key] = (
                tuple(_held(e, (*where, j), source, data_format, allowed, kind) for j, e in enumerate(held))
                if kind == "StackedRNNCells"
                else _held(held, where, source, data_format, allowed, kind)
            )
        if kind == "Bidirectional":
            _backward_fits(given, (*path, kind), source)
    return Layer(kind=kind, args=given, name=given.get("name") or "", index=index, data_format=data_format)


def _backward_fits(args: Mapping[str, Any], path: KeyPath, source: Source) -> None:
    """Keras's Bidirectional._verify_layer_config, in its words: a given backward layer runs the
    other way, and returns what the forward one returns."""
    backward: Layer | None = args.get("backward_layer")
    if backward is None:
        return
    forward = args["layer"].resolved()
    back = backward.resolved()
    where = (*path, "backward_layer", backward.kind)
    if forward["go_backwards"] == back["go_backwards"]:
        raise source.error(
            where,
            "Forward layer and backward layer should have different `go_backwards` value. Received: "
            f"forward_layer.go_backwards {forward['go_backwards']}, "
            f"backward_layer.go_backwards={back['go_backwards']}",
            valid="go_backwards: true in the backward layer",
        )
    for a in ("return_sequences", "return_state"):
        if forward[a] != back[a]:
            raise source.error(
                where,
                "Forward layer and backward layer are expected to have the same value for attribute "
                f'"{a}", got "{forward[a]}" for forward layer and "{back[a]}" for backward layer',
            )


def _held(
    entry: Any,
    path: KeyPath,
    source: Source,
    data_format: str,
    allowed: tuple[str, ...] | None,
    owner: str,
) -> Layer:
    """The layer a wrapper holds (Bidirectional's layer, RNN's cell), validated as a spec's layer; named
    as Keras would name it in a fresh session (lstm), so its weights' paths never depend on the session."""
    layer = _layer(entry, 0, source, at=path, data_format=data_format)
    where = (*path, layer.kind)
    plain = (
        layer.kind not in ("Sequential", *catalog.APPLICATIONS, catalog.OPAQUE, catalog.CALL, *catalog.CELLS)
        and layer.kind not in catalog.MERGES | catalog.OPS
        and layer.kind not in catalog.WRAPPED
    )
    if (allowed is not None and layer.kind not in allowed) or (allowed is None and not plain):
        raise source.error(
            where,
            f"{owner} cannot hold {layer.kind}",
            received={"layer": layer.kind},
            valid=", ".join(allowed) if allowed else "a one-input layer of the catalogue (not a wrapper)",
        )
    if "inputs" in layer.args:
        raise source.error((*where, "inputs"), f"the layer {owner} holds takes {owner}'s input")
    return dataclasses.replace(layer, name=layer.name or catalog.default_name(layer.kind))


def _group(entries: Any, path: KeyPath, source: Source, data_format: str) -> tuple[Layer, ...]:
    """The layers of a nested Sequential: a non-empty chain of named, plain layers."""
    if not isinstance(entries, list) or not entries:
        raise source.error(path, "must be a non-empty list of layers", received={"layers": entries})
    inner = []
    for j, entry in enumerate(entries):
        layer = _layer(entry, j, source, at=(*path, j), data_format=data_format)
        where = (*path, j, layer.kind)
        if layer.kind in ("Sequential", *catalog.APPLICATIONS) or layer.kind in catalog.MERGES | catalog.OPS:
            raise source.error(where, f"a nested Sequential holds plain one-input layers, not {layer.kind}")
        if not layer.name:
            raise source.error(where, "name every layer of a nested Sequential (name: ...)")
        if "inputs" in layer.args:
            raise source.error((*where, "inputs"), "layers of a nested Sequential take the one before them")
        inner.append(layer)
    return tuple(inner)


def _graph_group(args: dict[str, Any], path: KeyPath, source: Source, data_format: str) -> tuple[Layer, ...]:
    """The layers of a nested functional model: a non-empty graph of named layers over its one input
    (``input``), each taking the layer before it unless its ``inputs:`` say otherwise."""
    entries = args["layers"]
    if not isinstance(entries, list) or not entries:
        raise source.error(
            (*path, "layers"), "must be a non-empty list of layers", received={"layers": entries}
        )
    inner: list[Layer] = []
    seen = {catalog.MODEL_INPUT}
    previous = catalog.MODEL_INPUT
    for j, entry in enumerate(entries):
        layer = _layer(entry, j, source, at=(*path, "layers", j), data_format=data_format)
        where = (*path, "layers", j, layer.kind)
        if layer.kind in (catalog.CALL, catalog.OPAQUE, *catalog.GROUPS, *catalog.APPLICATIONS):
            raise source.error(
                where, f"a nested functional model holds plain layers and merges here, not {layer.kind}"
            )
        if not layer.name:
            raise source.error(where, "name every layer of a nested functional model (name: ...)")
        if layer.name in seen:
            raise source.error(
                (*where, "name"),
                "two layers of this nested model have this name",
                received={"name": layer.name},
            )
        taken = tuple(layer.args.get("inputs") or (previous,))
        for ref in taken:
            name = catalog.split_ref(ref)[0]  # lstm:1, a layer's second output
            if name not in seen:
                raise source.error(
                    (*where, "inputs"),
                    "takes a layer not defined before it in this nested model"
                    + did_you_mean(name, sorted(seen)),
                    received={"inputs": list(taken)},
                    valid=", ".join(sorted(seen)),
                )
            made = next((x for x in inner if x.name == name), None)
            _check_output_index(ref, made, source, (*where, "inputs"), {"inputs": list(taken)})
        inner.append(dataclasses.replace(layer, inputs=taken))
        seen.add(layer.name)
        previous = layer.name
    output = args.get("output")
    if output is not None and output not in seen - {catalog.MODEL_INPUT}:
        raise source.error(
            (*path, "output"),
            "names no layer of this nested model" + did_you_mean(output, sorted(seen)),
            received={"output": output},
        )
    return tuple(inner)


def _name_layers(
    layers: tuple[Layer, ...],
    source: Source,
    model_inputs: tuple[str, ...] = (catalog.MODEL_INPUT,),
    outputs: tuple[str, ...] | None = None,
) -> tuple[Layer, ...]:
    """Give unnamed layers Keras's names for a fresh session: conv2d, conv2d_1, ..."""
    auto = catalog.AutoNames()
    named: list[Layer] = []
    seen: dict[str, Layer] = {}
    for layer in layers:
        name = layer.name
        if not name:
            name = auto.next(layer.kind)
        if name in seen:
            raise source.error(
                (*layer.path, "name"),
                f"layer name {name!r} is already used by layers[{seen[name].index}]; "
                "layer names must be unique",
                received={"name": name},
            )
        if name in model_inputs:
            what = "the model's input" if len(model_inputs) == 1 else "one of the model's inputs"
            raise source.error(
                (*layer.path, "name"),
                f"{name!r} names {what}; choose another",
                received={"name": name},
            )
        layer = dataclasses.replace(layer, name=name)
        seen[name] = layer
        named.append(layer)
    return _connect(named, source, model_inputs, outputs)


def _connect(
    layers: list[Layer],
    source: Source,
    model_inputs: tuple[str, ...] = (catalog.MODEL_INPUT,),
    outputs: tuple[str, ...] | None = None,
) -> tuple[Layer, ...]:
    """Resolve ``inputs:`` (default: the previous layer, the first input for the first layer) and
    check the graph they make.

    A layer may take only the model's inputs and earlier layers, so there are no cycles; every
    layer that is not an output must feed a later one, and every input must be taken.
    """
    index = {layer.name: layer for layer in layers}
    out: list[Layer] = []
    for i, layer in enumerate(layers):
        path = (*layer.path, "inputs")
        given = layer.args.get("inputs")
        is_merge = layer.kind in catalog.MERGES or (
            layer.kind in catalog.OPS and layer.args.get("operand") is None
        )
        if given is None:
            if is_merge:
                raise source.error(
                    path[:-1], f"{layer.kind} merges several layers: give them as inputs: [name, name, ...]"
                )
            given = (layers[i - 1].name if i else model_inputs[0],)
        for ref in given:
            name, k = catalog.split_ref(ref)
            if name == layer.name:
                raise source.error(
                    path, f"{layer.name} takes its own output: a cycle", received={"inputs": given}
                )
            if name not in model_inputs and name not in index:
                near = did_you_mean(name, [*index, *model_inputs])
                raise source.error(path, f"unknown layer {name!r}{near}", received={"inputs": given})
            if name in index and index[name].index > i:
                raise source.error(
                    path,
                    f"forward reference: {name!r} is defined later (layers[{index[name].index}]); "
                    "a layer may take only the model input and earlier layers",
                    received={"inputs": given},
                )
            _check_output_index(ref, index.get(name), source, path, {"inputs": given})
        if is_merge and len(given) < 2:
            raise source.error(path, f"{layer.kind} needs at least 2 inputs", received={"inputs": given})
        if layer.kind == catalog.CALL:
            called = index.get(layer.args["layer"])
            where = (*layer.path, "layer")
            if called is None or called.index > i:
                near = did_you_mean(layer.args["layer"], [n for n in index if index[n].index < i])
                raise source.error(
                    where, f"calls no earlier layer{near}", received={"layer": layer.args["layer"]}
                )
            if called.kind == catalog.CALL or called.kind in catalog.OPS:
                raise source.error(
                    where,
                    f"{called.name} is a {called.kind}: a Call calls a layer (or a nested model) again",
                    received={"layer": called.name},
                )
            is_merge = called.kind in catalog.MERGES
        if layer.states and len(given) not in (1, 1 + layer.states):
            raise source.error(
                path,
                f"{layer.kind} takes its sequence, and may take its {layer.states} initial states after it "
                f"(Keras's initial_state): 1 or {1 + layer.states} inputs",
                received={"inputs": given},
            )
        if (
            not is_merge
            and len(given) != 1
            and not (layer.kind in (catalog.OPAQUE, catalog.CALL) and given)
            and not layer.states
        ):
            raise source.error(path, f"{layer.kind} takes exactly 1 input", received={"inputs": given})
        out.append(dataclasses.replace(layer, inputs=tuple(given)))
    used = {catalog.split_ref(ref)[0] for layer in out for ref in layer.inputs}
    if outputs:
        for j, ref in enumerate(outputs):
            name = catalog.split_ref(ref)[0]
            if name not in index:
                near = did_you_mean(name, list(index))
                raise source.error(
                    ("outputs", j), f"unknown layer {name!r}{near}", received={"outputs": outputs}
                )
            _check_output_index(ref, index[name], source, ("outputs", j), {"outputs": outputs})
        if len({catalog.canonical_ref(ref) for ref in outputs}) != len(outputs):
            raise source.error(("outputs",), "a layer is named twice", received={"outputs": outputs})
    ends = {catalog.split_ref(ref)[0] for ref in outputs or (out[-1].name,)}
    for layer in out:
        if layer.name not in used and layer.name not in ends:
            raise source.error(
                layer.path,
                f"{layer.name} is not used by any later layer; a spec's output is its last layer "
                "(or those its outputs: list names), so every other layer must feed a later one "
                f"(inputs: [..., {layer.name}])",
            )
    for name in model_inputs:
        if name not in used:
            raise source.error(
                ("inputs", name) if len(model_inputs) > 1 else ("layers",),
                f"the model's input {name!r} is taken by no layer",
            )
    return tuple(out)


def _check_output_index(
    ref: str, layer: Layer | None, source: Source, path: KeyPath, received: dict[str, Any]
) -> None:
    """``name:k`` must name one of the outputs the layer gives (the model's input gives one)."""
    name, k = catalog.split_ref(ref)
    count = 1 if layer is None else layer.output_count
    if k >= count:
        what = (
            f"{name} gives one output (write {name})"
            if count == 1
            else f"{name} gives {count} outputs: {', '.join(catalog.ref_of(name, j) for j in range(count))}"
        )
        raise source.error(path, f"no output {k} of {name}: {what}", received=received)


def builtin_model(name: str, **overrides: Any) -> Spec:
    """A keras.applications model from zoo's own family file of it (``resnet50`` from specs/resnet.yaml)."""
    if name not in catalog.BASE_FILES:
        raise SpecError(
            f"{name!r} is not a keras.applications model{did_you_mean(name, catalog.BASE_FILES)}. "
            f"Valid: {', '.join(catalog.BASE_FILES)}"
        )
    frozen = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}  # hashable
    return _builtin(name, tuple(sorted(frozen.items())))


@functools.lru_cache(maxsize=256)
def _builtin(name: str, overrides: tuple[tuple[str, Any], ...]) -> Spec:
    return Spec.from_file(builtin_dir() / f"{catalog.BASE_FILES[name]}.yaml", name=name, **dict(overrides))


def base_spec(
    kind: str, shape: tuple[int | None, ...], pooling: str | None, weights: str | None, data_format: str
) -> Spec:
    """The spec of pretrained base ``kind`` (ResNet50) without the top, at input ``shape``."""
    return builtin_model(
        catalog.APPLICATIONS[kind],
        include_top=False,
        input_shape=list(shape),
        pooling=pooling,
        weights=weights,
        data_format=data_format,
    )
