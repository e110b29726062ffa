"""Specs: safe YAML loading with line marks, validation against the catalogue, the ``Spec`` type.

Loading refuses what PyYAML would let through silently or dangerously:
duplicate keys (PyYAML keeps the last), tags that construct objects, anchors
and aliases (billion-laughs expansion), and files over a size cap. Every value
keeps the line it came from so that any later error, including the formula
engine's geometry errors, can point at it.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from zoo import blocks, catalog
from zoo.catalog import REQUIRED, Arg, Ctx
from zoo.errors import KeyPath, Source, SpecError, did_you_mean, format_key, show

MAX_SPEC_BYTES = 256 * 1024
MAX_YAML_DEPTH = 32  # lists, mappings and values inside each other; the shipped specs nest at most 10 deep
# Integers a spec may write: as many decimal digits as Python converts (0x... has no such limit),
# so that every number can be shown in a message.
MAX_INT_DIGITS = getattr(sys, "get_int_max_str_digits", lambda: 0)() or 4300
MAX_INT_BITS = int(MAX_INT_DIGITS * math.log2(10))

_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}": t for t in ("str", "int", "float", "bool", "null", "seq", "map")}


# ---------------------------------------------------------------- YAML, safely


def _loader_class(libyaml: bool) -> type:
    """A safe loader that composes in Python, to refuse anchors and aliases (unbounded expansion)
    and nesting deeper than MAX_YAML_DEPTH (the composer recurses once per level). It scans and
    parses with libyaml where PyYAML has it (six times faster), else with PyYAML's own code."""
    if libyaml:
        from yaml._yaml import CParser

        parsing: tuple[type, ...] = (CParser,)
    else:
        parsing = (yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser)

    class Loader(yaml.composer.Composer, *parsing, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        label = "<string>"
        depth = 0
        byte_offsets = libyaml  # libyaml's ReaderError counts UTF-8 bytes, PyYAML's characters

        def __init__(self, text: str) -> None:
            if libyaml:
                CParser.__init__(self, text)
            else:
                yaml.reader.Reader.__init__(self, text)
                yaml.scanner.Scanner.__init__(self)
                yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                kind = "alias" if isinstance(event, yaml.AliasEvent) else "anchor"
                raise SpecError(
                    f"YAML anchors and aliases are not allowed in specs; write the value out. "
                    f"Received: {kind} {event.anchor!r}",
                    file=self.label,
                    line=event.start_mark.line + 1,
                )
            if self.depth >= MAX_YAML_DEPTH:
                raise SpecError(f"YAML nested more than {MAX_YAML_DEPTH} levels deep (lists and mappings "
                                "inside each other); a spec needs far fewer", file=self.label,
                                line=event.start_mark.line + 1)  # fmt: skip
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return Loader


_Loader = _loader_class(yaml.__with_libyaml__)


@functools.lru_cache(maxsize=128)
def load_yaml(text: str, label: str = "<string>") -> tuple[Any, Source]:
    """Parse ``text`` into plain Python values and the line of every key path.

    Cached by text and label: a family file is parsed once for all its variants. Callers
    must not change the values they get (expansion and validation build new ones).
    """
    return _load(text, label, _Loader)


def _load(text: str, label: str, loader_class: type) -> tuple[Any, Source]:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SPEC_BYTES:
        raise SpecError(
            f"spec is larger than the {MAX_SPEC_BYTES // 1024} KiB a spec may be",
            file=label,
        )
    loader = None
    try:
        loader = loader_class(text)  # PyYAML's reader checks the characters here, libyaml's later
        loader.label = label
        node = loader.get_single_node()
    except yaml.reader.ReaderError as exc:  # a character YAML forbids
        offset = exc.position
        if loader_class.byte_offsets:
            offset = len(text.encode("utf-8", "surrogatepass")[:offset].decode("utf-8", "ignore"))
        char = chr(exc.character) if isinstance(exc.character, int) else exc.character
        raise SpecError(
            f"spec contains a character YAML does not allow: {char!r} (at offset {offset})",
            file=label,
            line=text[:offset].count("\n") + 1,
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        if "flow" in what:  # {as: ._block{i}}: YAML's flow style stops at brackets and commas
            what += ("; in flow style ({...}) a value containing ',', '[', ']', '{' or '}' must be "
                     'quoted: write {as: "._block{i}"}, {filters: "=max(1, f)"}')  # fmt: skip
        raise SpecError(
            f"YAML syntax error: {what}", file=label, line=mark.line + 1 if mark else None
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML error: {exc}", file=label) from None
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        raise SpecError("spec is empty; it needs at least name, description, input and layers",
                        file=label, line=1)  # fmt: skip
    lines: dict[KeyPath, int] = {}
    value = _plain(node, (), lines, loader, label)
    return value, Source(label, lines)


def _plain(node: Any, path: KeyPath, lines: dict[KeyPath, int], loader: Any, label: str) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    kind = _PLAIN_TAGS.get(node.tag)
    if kind is None:
        hint = "; quote it to make it a string" if node.tag.endswith(":timestamp") else ""
        raise SpecError(
            f"YAML tag {node.tag!r} is not allowed in specs{hint}; "
            "only plain strings, numbers, booleans, null, lists and mappings are",
            file=label,
            line=node.start_mark.line + 1,
        )
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = _plain(key_node, (*path, "<key>"), {}, loader, label)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise SpecError(f"keys must be strings. Received: {show(key)}",
                                file=label, line=line, key=format_key(path))  # fmt: skip
            if key in out:
                raise SpecError(
                    f"duplicate key {key!r} (first on line {first_line[key]}, again on line {line})",
                    file=label,
                    line=line,
                    key=format_key((*path, key)),
                )
            first_line[key] = line
            lines[(*path, key)] = line
            out[key] = _plain(value_node, (*path, key), lines, loader, label)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, (*path, i), lines, loader, label) for i, item in enumerate(node.value)]
    line, key = node.start_mark.line + 1, format_key(path) or None
    try:
        value = loader.construct_object(node)
    except (yaml.YAMLError, ValueError, KeyError, TypeError, ArithmeticError) as exc:  # !!int abc, !!bool x
        if "Exceeds the limit" in str(exc):  # Python's int() refuses more than 4300 decimal digits
            value = 1 << MAX_INT_BITS
        else:
            what = f"YAML value {show(node.value)} is not {_TAG_WORDS[kind]}, as its tag {node.tag!r} says"
            raise SpecError(what, file=label, line=line, key=key) from None
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise SpecError(f"integer of more than {MAX_INT_DIGITS} digits; a spec needs far fewer",
                        file=label, line=line, key=key)  # fmt: skip
    return value


_TAG_WORDS = {
    "str": "a string", "int": "an integer", "float": "a number", "bool": "true or false", "null": "null",
}  # fmt: skip


# ---------------------------------------------------------------- validation


def validate_mapping(
    value: Any,
    path: KeyPath,
    args: Mapping[str, Arg],
    source: Source,
    *,
    rank: int = 0,
    what: str = "section",
) -> dict[str, Any]:
    """Check a mapping against ``args``: unknown keys, missing keys, each value's check.

    Returns only the keys that were given, normalised.
    """
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise source.error(path, f"{what} must be a mapping of arguments",
                           received={str(path[-1]) if path else "spec": value})  # fmt: skip
    for key in value:
        if key not in args:
            raise source.error(
                (*path, key),
                "unknown argument" + did_you_mean(key, args),
                received={key: value[key]},
                valid=", ".join(args),
            )
    missing = [k for k, a in args.items() if a.default is REQUIRED and k not in value]
    if missing:
        raise source.error(path, f"missing required {'key' if len(missing) == 1 else 'keys'} "
                           + ", ".join(repr(m) for m in missing))  # fmt: skip
    return {k: args[k].check(v, Ctx(source, (*path, k), rank)) for k, v in value.items()}


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
        "maxItems": 4,
    }
)
def _input_shape(v: Any, ctx: Ctx) -> tuple[int | None, ...]:
    valid = ("a list of 1 to 4 integers >= 1, without the batch axis, e.g. [64, 64, 3]; "
             "null for a spatial size left open, e.g. [null, null, 3]")  # fmt: skip
    if (
        isinstance(v, list)
        and 1 <= len(v) <= 4
        and all(x is None or (isinstance(x, int) and not isinstance(x, bool) and x >= 1) for x in v)
    ):
        return tuple(v)
    raise ctx.error("invalid input shape", v, valid)


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


OPTIMIZERS = ("adadelta", "adafactor", "adagrad", "adam", "adamax", "adamw", "ftrl",
              "lion", "nadam", "rmsprop", "sgd")  # fmt: skip
LOSSES = (
    "binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
    "categorical_hinge", "cosine_similarity", "hinge", "huber", "kl_divergence",
    "log_cosh", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_error", "mean_squared_logarithmic_error", "poisson",
    "sparse_categorical_crossentropy", "squared_hinge", "mae", "mse",
)  # fmt: skip
METRICS = (
    "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy",
    "mean_squared_error", "mean_absolute_error", "mse", "mae",
)  # fmt: skip

MODEL_KINDS = ("sequential", "functional")
PREPROCESS_MODES = ("caffe", "tf", "torch", "none")  # zoo.preprocessing.MODES  # keras.Sequential, or keras.Model(inputs, outputs)

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
    "input": Arg(_input_shape),
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


def object_schema(args: Mapping[str, Arg], rank: int = 0, *, nullable: bool = False) -> dict[str, Any]:
    """The JSON Schema of a mapping validated by :func:`validate_mapping` against ``args``."""
    out: dict[str, Any] = {
        "type": ["object", "null"] if nullable else "object",
        "additionalProperties": False,
        "properties": {k: catalog.json_of(a.check, rank) for k, a in args.items()},
    }
    required = [k for k, a in args.items() if a.default is REQUIRED]
    if required:
        out["required"] = required
    return out


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the spec format, generated from the same rules the validator applies.

    Geometry (does the kernel fit the input?) is beyond a schema: the formula engine checks it.
    """
    layer_kinds = {
        name: object_schema(kind.args, kind.rank, nullable=True) for name, kind in catalog.LAYERS.items()
    }
    properties: dict[str, Any] = {
        key: catalog.json_of(arg.check)
        for key, arg in TOP_LEVEL.items()
        if key not in SECTIONS and key != "layers"
    }
    properties["layers"] = {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": False,
            "properties": layer_kinds,
        },
    }
    for section, args in SECTIONS.items():
        properties[section] = object_schema(args)
    plain = {
        "type": "object",
        "additionalProperties": False,
        "required": [k for k, a in TOP_LEVEL.items() if a.default is REQUIRED],
        "properties": properties,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "zoo model spec",
        "description": "A Keras model as YAML: zoo's spec format (generated by `zoo schema`). A file "
        "with any of the keys " + ", ".join(blocks.FAMILY_KEYS) + " is a family file: its layers may "
        "hold expressions ('=...') and block uses, checked when zoo expands it.",
        "type": "object",
        "if": {"anyOf": [{"required": [k]} for k in blocks.FAMILY_KEYS]},
        "then": _family_schema(properties),
        "else": plain,
    }


def _family_schema(plain: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON Schema of a family file: its structure; values may be expressions (``=...``)."""
    expr = {"type": "string", "pattern": "^="}
    name = {"type": "string", "minLength": 1}
    use = {
        "type": "object",
        "required": ["use"],
        "properties": {
            "use": name, "as": name, "repeat": {"oneOf": [{"type": "integer", "minimum": 1}, expr]},
            "inputs": {"type": "array", "items": name, "minItems": 1}, "when": {"oneOf": [{"type": "boolean"}, expr]},
        },
    }  # fmt: skip
    layer = {
        "type": "object", "minProperties": 1, "maxProperties": 1,
        "propertyNames": {"enum": sorted(catalog.LAYERS)},
        "additionalProperties": {"type": ["object", "null"]},
    }  # fmt: skip
    items = {"type": "array", "minItems": 1, "items": {"oneOf": [use, layer]}}
    block = {
        "type": "object", "required": ["layers"], "additionalProperties": False,
        "properties": {"description": {"type": "string"}, "params": {"type": ["array", "object"]},
                       "inputs": {"type": "array", "items": name}, "layers": items},
    }  # fmt: skip
    family = {
        "family": plain["name"],
        "params": {"type": "object"},
        "variants": {"type": "object", "minProperties": 1,
                     "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"},
                     "additionalProperties": {"type": ["object", "null"]}},
        "let": {"type": "object"},
        "defaults": {"type": "object", "propertyNames": {"enum": sorted(catalog.LAYERS)},
                     "additionalProperties": {"type": "object"}},
        "blocks": {"type": "object", "additionalProperties": block},
        "require": {"type": "array", "items": {"type": "object", "required": ["that", "message"],
                                               "additionalProperties": False,
                                               "properties": {"that": {"oneOf": [expr, {"type": "boolean"}]},
                                                              "message": {"type": "string"}}}},
        "weights": {"type": "object", "required": ["file"], "additionalProperties": False,
                    "properties": {"file": name, "hash": {"type": ["string", "null"]}, "origin": name}},
    }  # fmt: skip
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["description", "layers"],
        "properties": {**{k: v for k, v in plain.items() if k != "layers"}, **family, "layers": items,
                       "input": {"oneOf": [plain["input"], expr]},
                       "data_format": {"oneOf": [plain["data_format"], expr]}},
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
    def path(self) -> KeyPath:
        return ("layers", self.index, self.kind)

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
    source: str | None = None  # the citation, e.g. "Tutorial, ... cell In [5]"
    compile: Mapping[str, Any] | None = None
    data: Mapping[str, Any] | None = None
    fit: Mapping[str, Any] | None = None
    expect: Mapping[str, Any] = field(default_factory=dict)
    model: str = "sequential"  # the Keras model class it builds: "sequential" or "functional"
    data_format: str = "channels_last"  # the image data format it is built under
    preprocess: str | None = None  # keras.applications' preprocess_input mode, where it has one
    source_inputs: str = "list"  # built on an input_tensor: its source inputs as a list, or the first
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
    def from_dict(cls, data: Mapping[str, Any], label: str = "<dict>", *, name: str | None = None,
                  **overrides: Any) -> Spec:  # fmt: skip
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
            data, source, name, overrides = self.recipe
            return dataclasses.replace(_validate(data, source, name, {**overrides, "weights": value}),
                                       path=self.path)  # fmt: skip
        layers = tuple(
            dataclasses.replace(layer, args={**layer.args, "weights": value})
            if "weights" in layer.catalog.args
            else layer
            for layer in self.layers
        )
        return dataclasses.replace(self, layers=layers)


def _is_chain(layers: tuple[Layer, ...]) -> bool:
    previous = catalog.MODEL_INPUT
    for layer in layers:
        if layer.inputs != (previous,) or layer.kind in catalog.OPS:  # keras.Sequential holds layers only
            return False
        previous = layer.name
    return True


def read_text(path: str | os.PathLike[str]) -> str:
    """A spec file's text: size-capped, UTF-8, with clear errors."""
    path = Path(path)
    label = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_SPEC_BYTES:
            raise SpecError(
                f"spec is larger than the {MAX_SPEC_BYTES // 1024} KiB a spec may be. "
                f"Received: {size} bytes",
                file=label,
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read spec: {exc.strerror}", file=label) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError(
            f"spec is not UTF-8 text: byte {raw[exc.start]:#04x} at offset {exc.start}",
            file=label,
            line=line,
        ) from None
    return text


def _plain_data(value: Any) -> Any:
    """Tuples to lists, so Python-built specs validate exactly like parsed YAML."""
    if isinstance(value, Mapping):
        return {k: _plain_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_data(v) for v in value]
    return value


def _validate(data: Any, source: Source, name: str | None = None,
              overrides: Mapping[str, Any] | None = None) -> Spec:  # fmt: skip
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
    if blocks.is_family(data):
        if name is None:  # the first variant (expansion refuses variants: that are not a mapping)
            variants = data.get("variants")
            first = next(iter(variants), None) if isinstance(variants, dict) else None
            name = first or data.get("name") or ""
        expanded = blocks.expand(data, source, name, overrides, weights=weights, plain_keys=tuple(TOP_LEVEL))
        spec = _validate_plain(expanded.data, expanded.source)
        return dataclasses.replace(spec, family=expanded.family, params=expanded.params,
                                   weights=weights, weights_file=expanded.weights_file, recipe=recipe)  # fmt: skip
    if isinstance(data, dict) and overrides:
        for key, value in overrides.items():
            if key != "input_shape":
                raise SpecError(f"unknown override{did_you_mean(key, ['input_shape', 'weights'])}. Received: "
                                f"{key}={show(value)}. Valid: input_shape, weights (this spec has no parameters)",
                                file=source.label)  # fmt: skip
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
        raise source.error(("layers",), "must be a non-empty list of layers",
                           received={"layers": rawlayers})  # fmt: skip
    data_format = top.get("data_format", "channels_last")
    channels = 0 if data_format == "channels_first" else -1
    if top["input"][channels] is None:
        raise source.error(("input",), f"the channel axis (the {'first' if channels == 0 else 'last'}, "
                           f"data_format {data_format}) must be given", received={"input": list(top["input"])},
                           valid="e.g. [null, null, 3] for channels_last, [3, null, null] for channels_first")  # fmt: skip
    layers = tuple(_layer(entry, i, source, data_format=data_format) for i, entry in enumerate(rawlayers))
    layers = _name_layers(layers, source)
    chain = _is_chain(layers)
    model = top.get("model") or ("sequential" if chain else "functional")
    if model == "sequential" and not chain:
        raise source.error(
            ("model",),
            "a sequential model is a plain chain of layers, but this spec is a graph "
            "(a layer takes an input other than the layer before it)",
            received={"model": model},
            valid="functional, or leave model: out",
        )
    return Spec(
        name=top["name"],
        description=top["description"],
        input=top["input"],
        layers=layers,
        source=top.get("source"),
        compile=sections.get("compile"),
        data=sections.get("data"),
        fit=sections.get("fit"),
        expect=sections.get("expect", {}),
        model=model,
        data_format=data_format,
        preprocess=top.get("preprocess"),
        source_inputs=top.get("source_inputs", "list"),
        origin=source,
    )


def _layer(entry: Any, index: int, source: Source, at: KeyPath | None = None, *,
           data_format: str = "channels_last") -> Layer:  # fmt: skip
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
    if kind not in catalog.LAYERS:
        raise source.error(
            (*path, kind),
            "unknown layer class" + did_you_mean(kind, catalog.LAYERS),
            received={"layer": kind},
            valid=", ".join(sorted(catalog.LAYERS)),
        )
    entry_kind = catalog.LAYERS[kind]
    given = validate_mapping(args, (*path, kind), entry_kind.args, source,
                             rank=entry_kind.rank, what=f"{kind}'s value")  # fmt: skip
    if kind == "Sequential":
        given["layers"] = _group(given["layers"], (*path, kind, "layers"), source, data_format)
    return Layer(kind=kind, args=given, name=given.get("name") or "", index=index, data_format=data_format)


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


def _name_layers(layers: tuple[Layer, ...], source: Source) -> tuple[Layer, ...]:
    """Give unnamed layers Keras's names for a fresh session: conv2d, conv2d_1, ..."""
    counts: dict[str, int] = {}
    named: list[Layer] = []
    seen: dict[str, Layer] = {}
    for layer in layers:
        name = layer.name
        if not name:
            base = catalog.default_name(layer.kind)
            n = counts.get(base, 0)
            counts[base] = n + 1
            name = base if n == 0 else f"{base}_{n}"
        if name in seen:
            raise source.error(
                (*layer.path, "name"),
                f"layer name {name!r} is already used by layers[{seen[name].index}]; "
                "layer names must be unique",
                received={"name": name},
            )
        if name == catalog.MODEL_INPUT:
            raise source.error((*layer.path, "name"), f"{name!r} names the model's input; choose another",
                               received={"name": name})  # fmt: skip
        layer = dataclasses.replace(layer, name=name)
        seen[name] = layer
        named.append(layer)
    return _connect(named, source)


def _connect(layers: list[Layer], source: Source) -> tuple[Layer, ...]:
    """Resolve ``inputs:`` (default: the previous layer) and check the graph they make.

    A layer may take only the model input and earlier layers, so there are no
    cycles; every layer but the last must feed a later one (the last is the output).
    """
    index = {layer.name: layer for layer in layers}
    out: list[Layer] = []
    for i, layer in enumerate(layers):
        path = (*layer.path, "inputs")
        given = layer.args.get("inputs")
        is_merge = layer.kind in catalog.MERGES or (layer.kind in catalog.OPS and layer.args.get("operand") is None)
        if given is None:
            if is_merge:
                raise source.error(path[:-1], f"{layer.kind} merges several layers: give them as "
                                   "inputs: [name, name, ...]")  # fmt: skip
            given = (layers[i - 1].name if i else catalog.MODEL_INPUT,)
        for ref in given:
            if ref == layer.name:
                raise source.error(
                    path, f"{layer.name} takes its own output: a cycle", received={"inputs": given}
                )
            if ref != catalog.MODEL_INPUT and ref not in index:
                near = did_you_mean(ref, [*index, catalog.MODEL_INPUT])
                raise source.error(path, f"unknown layer {ref!r}{near}", received={"inputs": given})
            if ref in index and index[ref].index > i:
                raise source.error(
                    path,
                    f"forward reference: {ref!r} is defined later (layers[{index[ref].index}]); "
                    "a layer may take only the model input and earlier layers",
                    received={"inputs": given},
                )
        if is_merge and len(given) < 2:
            raise source.error(path, f"{layer.kind} needs at least 2 inputs", received={"inputs": given})
        if not is_merge and len(given) != 1:
            raise source.error(path, f"{layer.kind} takes exactly 1 input", received={"inputs": given})
        out.append(dataclasses.replace(layer, inputs=tuple(given)))
    used = {ref for layer in out for ref in layer.inputs}
    for layer in out[:-1]:
        if layer.name not in used:
            raise source.error(
                layer.path,
                f"{layer.name} is not used by any later layer; a spec's output is its last layer, "
                f"so every other layer must feed a later one (inputs: [..., {layer.name}])",
            )
    return tuple(out)
