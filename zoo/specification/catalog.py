"""The layer catalogue: every layer class a spec may name, its arguments and their defaults.

This is the allowlist that keeps specs from naming arbitrary Python: a spec's
layer must be a key of :data:`LAYERS`, and each argument must be one listed
for it. Defaults are Keras's own (checked against Keras by the property tests);
the formula engine reads them from here, the Keras builder passes only what the
spec wrote and lets Keras apply its defaults, so a drift between the two shows.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from zoo.specification.errors import KeyPath, Source, did_you_mean, show

REQUIRED: Any = object()  # marks an argument without a default

ACTIVATIONS = tuple(
    "celu elu exponential gelu glu hard_shrink hard_sigmoid hard_silu hard_swish hard_tanh "
    "leaky_relu linear log_sigmoid log_softmax mish relu relu6 selu sigmoid silu soft_shrink "
    "softmax softplus softsign sparse_plus sparse_sigmoid sparsemax squareplus swish tanh "
    "tanh_shrink".split()
)
INITIALIZERS = tuple(
    "glorot_normal glorot_uniform he_normal he_uniform lecun_normal lecun_uniform ones orthogonal "
    "random_normal random_uniform truncated_normal uniform variance_scaling zeros".split()
)


# Initializer classes a spec may configure ({class_name: VarianceScaling, config: {...}}), as
# keras.initializers.get takes them: EfficientNet's convolutions use VarianceScaling(2.0, fan_out).
INITIALIZER_CLASSES = tuple(
    "Constant GlorotNormal GlorotUniform HeNormal HeUniform LecunNormal LecunUniform Ones "
    "Orthogonal RandomNormal RandomUniform TruncatedNormal VarianceScaling Zeros".split()
)


@dataclass(frozen=True)
class Ctx:
    """What a validator needs to normalise a value and to word an error."""

    source: Source
    path: KeyPath
    rank: int

    def error(self, what: str, value: Any, valid: str | None = None) -> Exception:
        return self.source.error(self.path, what, received={str(self.path[-1]): value}, valid=valid)


Check = Callable[[Any, Ctx], Any]


def described(schema: Callable[[int], dict[str, Any]] | dict[str, Any]) -> Callable[[Check], Check]:
    """Attach the JSON Schema fragment (for a layer of a given rank) that mirrors a check.

    The shipped schema (``zoo schema``) is generated from these, so editors see the
    same rules the validator applies.
    """

    def mark(check: Check) -> Check:
        setattr(check, "json", schema if callable(schema) else (lambda rank: schema))  # noqa: B010
        return check

    return mark


def json_of(check: Check, rank: int = 0) -> dict[str, Any]:
    schema: dict[str, Any] = getattr(check, "json")(rank)  # noqa: B009
    return schema


def _int(low: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": low}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def int_at_least(low: int) -> Check:
    def check(v: Any, ctx: Ctx) -> int:
        if not _is_int(v):
            raise ctx.error(f"must be an integer >= {low}", v)
        if v < low:
            raise ctx.error(f"must be >= {low}", v)
        return int(v)

    return described(_int(low))(check)


positive_int = int_at_least(1)


def ints(low: int, *, optional: bool = False, lists: bool = True) -> Check:
    """An int (the same on every spatial axis) or, where Keras takes one, a list of one int per axis."""

    def check(v: Any, ctx: Ctx) -> tuple[int, ...] | None:
        if v is None and optional:
            return None
        valid = f"an integer >= {low}" + (f", or a list of {ctx.rank} such integers" if lists else "")
        if _is_int(v):
            items = [v] * ctx.rank
        elif lists and isinstance(v, list) and all(_is_int(x) for x in v):
            if len(v) != ctx.rank:
                raise ctx.error(f"needs {ctx.rank} values, one per spatial axis", v, valid)
            items = v
        else:
            raise ctx.error("wrong type", v, valid)
        if any(x < low for x in items):
            raise ctx.error(f"every value must be >= {low}", v, valid)
        return tuple(items)

    def schema(rank: int) -> dict[str, Any]:
        forms = [_int(low)]
        if lists:
            forms.append({"type": "array", "items": _int(low), "minItems": rank, "maxItems": rank})
        if optional:
            forms.append({"type": "null"})
        return {"oneOf": forms} if len(forms) > 1 else forms[0]

    return described(schema)(check)


def _pairs_schema(rank: int) -> dict[str, Any]:
    pair = {"type": "array", "items": _int(0), "minItems": 2, "maxItems": 2}
    if rank == 1:
        return {"oneOf": [_int(0), pair]}
    per_axis = {"type": "array", "items": _int(0), "minItems": rank, "maxItems": rank}
    pairs_ = {"type": "array", "items": pair, "minItems": rank, "maxItems": rank}
    return {"oneOf": [_int(0), per_axis, pairs_]}


@described(_pairs_schema)
def pairs(v: Any, ctx: Ctx) -> tuple[tuple[int, int], ...]:
    """ZeroPadding/Cropping amounts: an int, one int per axis, or a [before, after] pair per axis."""
    valid = f"an integer >= 0, a list of {ctx.rank} integers, or a list of {ctx.rank} [before, after] pairs"
    if ctx.rank == 1:  # Keras's 1D forms: n, or [before, after]
        valid = "an integer >= 0, or a [before, after] pair"
        if isinstance(v, list) and len(v) == 2 and all(_is_int(x) for x in v):
            v = [v]
        elif not _is_int(v):
            raise ctx.error("wrong type or length", v, valid)
    if _is_int(v):
        out = [(v, v)] * ctx.rank
    elif isinstance(v, list) and len(v) == ctx.rank and all(_is_int(x) for x in v):
        out = [(x, x) for x in v]
    elif (
        isinstance(v, list)
        and len(v) == ctx.rank
        and all(isinstance(p, list) and len(p) == 2 and all(_is_int(x) for x in p) for p in v)
    ):
        out = [(p[0], p[1]) for p in v]
    else:
        raise ctx.error("wrong type or length", v, valid)
    if any(x < 0 for p in out for x in p):
        raise ctx.error("amounts must be >= 0", v, valid)
    return tuple(out)


def one_of(*options: Any) -> Check:
    def check(v: Any, ctx: Ctx) -> Any:
        if v in options and type(v) is type(next(o for o in options if o == v)):
            return v
        raise ctx.error(
            "invalid value" + did_you_mean(v, [o for o in options if isinstance(o, str)]),
            v,
            ", ".join(show(o) for o in options),
        )

    return described({"enum": list(options)})(check)


def name_in(options: tuple[str, ...], what: str, *, optional: bool = False) -> Check:
    def check(v: Any, ctx: Ctx) -> str | None:
        if v is None and optional:
            return None
        if isinstance(v, str) and v in options:
            return v
        raise ctx.error(f"unknown {what}" + did_you_mean(v, options), v, ", ".join(options))

    return described({"enum": [*options, *([None] if optional else [])]})(check)


_INIT_CONFIG = {"type": "object", "additionalProperties": {"type": ["number", "string", "null"]}}


@described(
    {
        "oneOf": [
            {"enum": list(INITIALIZERS)},
            {
                "type": "object",
                "required": ["class_name"],
                "additionalProperties": False,
                "properties": {"class_name": {"enum": list(INITIALIZER_CLASSES)}, "config": _INIT_CONFIG},
            },
        ]
    }
)
def initializer(v: Any, ctx: Ctx) -> Any:
    """An initializer by name (glorot_uniform), or configured:
    {class_name: VarianceScaling, config: {...}}."""
    if isinstance(v, str) and v in INITIALIZERS:
        return v
    if isinstance(v, dict):
        valid = f"{{class_name: one of {', '.join(INITIALIZER_CLASSES)}, config: {{name: number or string}}}}"
        if set(v) - {"class_name", "config"} or v.get("class_name") not in INITIALIZER_CLASSES:
            raise ctx.error(
                "unknown initializer class" + did_you_mean(v.get("class_name"), INITIALIZER_CLASSES), v, valid
            )
        config = v.get("config") or {}
        if not isinstance(config, dict) or not all(
            isinstance(k, str) and (x is None or isinstance(x, str) or _is_number(x))
            for k, x in config.items()
        ):
            raise ctx.error("an initializer's config maps names to numbers or strings", v, valid)
        return {"class_name": v["class_name"], "config": dict(config)}
    raise ctx.error("unknown initializer" + did_you_mean(v, INITIALIZERS), v, ", ".join(INITIALIZERS))


@described({"type": "boolean"})
def boolean(v: Any, ctx: Ctx) -> bool:
    if isinstance(v, bool):
        return v
    raise ctx.error("must be true or false", v)


@described({"type": "number", "minimum": 0, "exclusiveMaximum": 1})
def fraction(v: Any, ctx: Ctx) -> float:
    if _is_number(v) and 0 <= v < 1:
        return float(v)
    raise ctx.error("must be a number in [0, 1)", v)


@described({"type": "number", "exclusiveMinimum": 0})
def positive_number(v: Any, ctx: Ctx) -> float:
    if _is_number(v) and v > 0:
        return float(v)
    raise ctx.error("must be a number > 0", v)


def number_at_least(low: float, *, optional: bool = False) -> Check:
    """A number >= ``low``, kept as a float (Keras's configs hold ``6.0``, not ``6``)."""

    def check(v: Any, ctx: Ctx) -> float | None:
        if v is None and optional:
            return None
        if _is_number(v) and v >= low:
            return float(v)
        raise ctx.error(f"must be a number >= {low:g}", v)

    schema: dict[str, Any] = {"type": "number", "minimum": low}
    return described({"oneOf": [schema, {"type": "null"}]} if optional else schema)(check)


@described({"oneOf": [{"type": "number"}, {"type": "array", "items": {"type": "number"}, "minItems": 1}]})
def numbers(v: Any, ctx: Ctx) -> float | tuple[float, ...]:
    """A number, or one number per channel (Rescaling's scale, Normalization's mean), kept as written."""
    if _is_number(v):
        written: float = v
        return written
    if isinstance(v, list) and v and all(_is_number(x) for x in v):
        return tuple(v)
    raise ctx.error("must be a number or a list of numbers", v)


def optional(check: Check) -> Check:
    def run(v: Any, ctx: Ctx) -> Any:
        return None if v is None else check(v, ctx)

    return described(lambda rank: {"oneOf": [json_of(check, rank), {"type": "null"}]})(run)


@described(
    {
        "type": "array",
        "minItems": 1,
        "items": {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]},
    }
)
def noise_shape(v: Any, ctx: Ctx) -> tuple[int | None, ...]:
    """Dropout's noise_shape: one size per axis, batch included; null takes the input's, 1 shares the mask."""
    if isinstance(v, list) and v and all(x is None or (_is_int(x) and x >= 1) for x in v):
        return tuple(v)
    raise ctx.error(
        "invalid noise shape",
        v,
        "a list of sizes (null or integers >= 1), batch axis first, e.g. [null, 1, 1, null]",
    )


@described({"type": "number"})
def number(v: Any, ctx: Ctx) -> float:
    if _is_number(v):
        return float(v)
    raise ctx.error("must be a number", v)


@described({"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": -1, "not": {"const": 0}}})
def target_shape(v: Any, ctx: Ctx) -> tuple[int, ...]:
    valid = "a list of integers >= 1, with at most one -1 (inferred)"
    if not (isinstance(v, list) and v and all(_is_int(x) for x in v)):
        raise ctx.error("wrong type", v, valid)
    if any(x == 0 or x < -1 for x in v) or v.count(-1) > 1:
        raise ctx.error("invalid size", v, valid)
    return tuple(v)


@described({"type": "integer"})
def axis(v: Any, ctx: Ctx) -> int:
    if _is_int(v):
        return int(v)
    raise ctx.error("must be an integer axis", v)


@described({"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_.-]*$"})
def layer_name(v: Any, ctx: Ctx) -> str:
    """A layer's name: letters, digits, ``_``, ``.`` and ``-`` (keras.applications names its
    MobileNetV2 ``mobilenetv2_1.00_224``), starting with a letter."""
    if isinstance(v, str) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]*", v):
        return v
    raise ctx.error("invalid layer name", v, "letters, digits, '_', '.' and '-', starting with a letter")


@described(
    {"oneOf": [{"const": "imagenet"}, {"type": "null"}, {"type": "string", "pattern": "\\.(h5|keras)$"}]}
)
def weights(v: Any, ctx: Ctx) -> str | None:
    if v is None or v == "imagenet":
        return None if v is None else "imagenet"
    if isinstance(v, str) and v.endswith((".h5", ".weights.h5", ".keras")):
        return v
    raise ctx.error("invalid weights", v, "imagenet, null, or a path to a .h5 weights file")


@described({"type": "integer", "minimum": 1, "not": {"multipleOf": 2}})
def odd_int(v: Any, ctx: Ctx) -> int:
    """An odd integer >= 1 (a blur's kernel size: it has a centre)."""
    if _is_int(v) and v >= 1 and v % 2:
        return int(v)
    raise ctx.error("must be an odd integer >= 1", v)


@described({"type": "number", "minimum": 0, "maximum": 1})
def unit_interval(v: Any, ctx: Ctx) -> float:
    """A number in [0, 1], both ends included (GaussianNoise's stddev, GaussianDropout's rate)."""
    if _is_number(v) and 0 <= v <= 1:
        return float(v)
    raise ctx.error("must be a number in [0, 1]", v)


_NUMBER_PAIR = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}


@described(_NUMBER_PAIR)
def number_pair(v: Any, ctx: Ctx) -> tuple[float, float]:
    """Two numbers, [low, high] (an augmentation's value_range)."""
    if isinstance(v, list) and len(v) == 2 and all(_is_number(x) for x in v):
        return v[0], v[1]
    raise ctx.error("must be a list of two numbers", v, "[low, high], e.g. [0, 255]")


@described({"oneOf": [{"type": "number"}, _NUMBER_PAIR]})
def factor(v: Any, ctx: Ctx) -> float | tuple[float, float]:
    """An augmentation's strength: a number, or a [low, high] range, kept as written."""
    if _is_number(v):
        written: float = v
        return written
    if isinstance(v, list) and len(v) == 2 and all(_is_number(x) for x in v):
        return v[0], v[1]
    raise ctx.error("must be a number or a [low, high] pair of numbers", v)


@described({"oneOf": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}, "minItems": 1}]})
def axes(v: Any, ctx: Ctx) -> int | tuple[int, ...]:
    """An axis, or a list of axes (UnitNormalization, RMSNormalization)."""
    if _is_int(v):
        return int(v)
    if isinstance(v, list) and v and all(_is_int(x) for x in v):
        return tuple(v)
    raise ctx.error("must be an integer axis or a list of them", v)


@described(
    {
        "oneOf": [
            {"type": "integer"},
            {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
        ]
    }
)
def dot_axes(v: Any, ctx: Ctx) -> int | tuple[int, int]:
    """Dot's axes: one axis for both inputs, or [axis of the first, axis of the second]."""
    if _is_int(v):
        return int(v)
    if isinstance(v, list) and len(v) == 2 and all(_is_int(x) for x in v):
        return v[0], v[1]
    raise ctx.error("must be an integer axis or a list of two", v, "e.g. 1, or [2, 1]")


@described({"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": 1}})
def permutation(v: Any, ctx: Ctx) -> tuple[int, ...]:
    """Permute's dims: a permutation of 1 ... n (the batch axis stays first)."""
    if isinstance(v, list) and v and all(_is_int(x) for x in v) and sorted(v) == list(range(1, len(v) + 1)):
        return tuple(v)
    raise ctx.error("invalid permutation", v, "the integers 1 ... n in some order, e.g. [2, 1]")


@described(
    {
        "oneOf": [
            {"type": "integer", "minimum": 1},
            {"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": 1}},
            {"type": "null"},
        ]
    }
)
def shared_axes(v: Any, ctx: Ctx) -> tuple[int, ...] | None:
    """PReLU's shared_axes: the axis or axes (the batch is 0) along which one alpha is shared."""
    if v is None:
        return None
    if _is_int(v) and v >= 1:
        return (int(v),)
    if isinstance(v, list) and v and all(_is_int(x) and x >= 1 for x in v):
        return tuple(v)
    raise ctx.error(
        "must be an axis >= 1 or a list of them", v, "e.g. [1, 2] to share alpha over height and width"
    )


@described({"oneOf": [{"type": "integer", "minimum": 1}, {"const": -1}]})
def groups_or_all(v: Any, ctx: Ctx) -> int:
    """GroupNormalization's groups: an integer >= 1, or -1 for one group per channel."""
    if _is_int(v) and (v >= 1 or v == -1):
        return int(v)
    raise ctx.error("must be an integer >= 1, or -1 (one group per channel)", v)


@dataclass(frozen=True)
class Arg:
    check: Check
    default: Any = REQUIRED


@dataclass(frozen=True)
class LayerKind:
    """One layer class a spec may name."""

    name: str  # the Keras class (or application) name, as written in specs
    rule: str  # the arithmetic that computes it (zoo.arith.rules.RULES, or the engine's own)
    rank: int  # number of spatial axes; 0 where there are none
    args: Mapping[str, Arg]
    # where Keras keeps the class: keras.layers, or (for the two layer classes that live in
    # keras.applications itself, and for operations) the module that defines it; tests pin them
    module: str = "keras.layers"
    keras_class: str | None = None  # the class's name where it differs from the spec's (ops.add: Add)
    # an extension's own arithmetic (rule "extension"): ``compute(shape, args, rank) -> Step``,
    # plain Python from the package that registered the kind (see zoo.specification.extensions)
    compute: Callable[..., Any] | None = field(default=None, compare=False, repr=False)
    source: str = "zoo"  # who defines the entry: zoo, or the extension package (its entry point)

    @property
    def class_name(self) -> str:
        """The Keras class name: what summaries show in the type column."""
        return self.keras_class or self.name

    def defaults(self) -> dict[str, Any]:
        return {k: a.default for k, a in self.args.items() if a.default is not REQUIRED}

    def required(self) -> list[str]:
        return [k for k, a in self.args.items() if a.default is REQUIRED]


# Arguments every Keras layer takes.
@described(
    {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_.-]*$"}}
)
def layer_names(v: Any, ctx: Ctx) -> tuple[str, ...]:
    """``inputs:``: earlier layers by name (``input`` is the model's input)."""
    if isinstance(v, list) and v and all(isinstance(x, str) for x in v):
        return tuple(v)
    raise ctx.error("must be a list of layer names", v, "e.g. [conv2d, input]")


COMMON = {
    "name": Arg(layer_name, None),
    "trainable": Arg(boolean, True),
    # graphs: the layers whose outputs this layer takes (default: the previous layer)
    "inputs": Arg(layer_names, None),
}
MODEL_INPUT = "input"  # the name of the model's input in ``inputs:`` lists and in built models
# A layer with several outputs (an LSTM with return_state: its output, then its states) is taken
# by ``name:k``, its k-th output counted from 0; ``name`` alone is its first (``name:0``). Layer
# names cannot hold ':', so a reference reads one way only.
_REF = re.compile(r"(.+):([0-9]+)")


def split_ref(ref: str) -> tuple[str, int]:
    """``lstm:2`` -> (``lstm``, 2); ``lstm`` -> (``lstm``, 0)."""
    m = _REF.fullmatch(ref)
    return (m[1], int(m[2])) if m else (ref, 0)


def ref_of(name: str, k: int) -> str:
    """The reference to output ``k`` of layer ``name``, as Keras's summary lists it: the name alone
    for the first output."""
    return name if k == 0 else f"{name}:{k}"


def canonical_ref(ref: str) -> str:
    """``lstm:0`` -> ``lstm``: one way to write each reference."""
    return ref_of(*split_ref(ref))


def by_ref(name: str, values: Sequence[Any]) -> dict[str, Any]:
    """What each reference to a layer's outputs ``values`` finds: ``name`` and ``name:0`` the first,
    ``name:k`` the k-th."""
    return {name: values[0], **{f"{name}:{k}": v for k, v in enumerate(values)}}


DATA_FORMATS = ("channels_last", "channels_first")
# Keras's layers default to keras.config.image_data_format(); in zoo a layer's default is its
# spec's `data_format` (channels_last unless the spec says otherwise), and the Keras builder always
# passes it, so the global configuration never changes what a spec builds.
_DATA_FORMAT = {"data_format": Arg(one_of(*DATA_FORMATS), "channels_last")}


def _act() -> dict[str, Arg]:
    return {
        "activation": Arg(name_in(ACTIVATIONS, "activation", optional=True), None),
        "use_bias": Arg(boolean, True),
        "bias_initializer": Arg(initializer, "zeros"),
    }


def _init(*names: str) -> dict[str, Arg]:
    return {n: Arg(initializer, "glorot_uniform") for n in names}


def _padding(*extra: str) -> dict[str, Arg]:
    return {"padding": Arg(one_of("valid", "same", *extra), "valid")}


LAYERS: dict[str, LayerKind] = {}


def _add(name: str, rule: str, rank: int, **args: Arg) -> None:
    LAYERS[name] = LayerKind(name, rule, rank, {**args, **COMMON})


def _kept_in(module: str, *names: str, keras_class: str | None = None) -> None:
    """Where Keras keeps these kinds' class, when it is not keras.layers (and its name, when it differs)."""
    for name in names:
        LAYERS[name] = dataclasses.replace(LAYERS[name], module=module, keras_class=keras_class)


for _r in (1, 2, 3):
    _add(
        f"Conv{_r}D",
        "conv",
        _r,
        filters=Arg(positive_int),
        kernel_size=Arg(ints(1)),
        strides=Arg(ints(1), 1),
        **_padding(*(("causal",) if _r == 1 else ())),
        dilation_rate=Arg(ints(1), 1),
        groups=Arg(positive_int, 1),
        **_act(),
        **_init("kernel_initializer"),
        **_DATA_FORMAT,
    )
    _add(
        f"Conv{_r}DTranspose",
        "conv_transpose",
        _r,
        filters=Arg(positive_int),
        kernel_size=Arg(ints(1)),
        strides=Arg(ints(1), 1),
        **_padding(),
        output_padding=Arg(ints(0, optional=True), None),
        dilation_rate=Arg(ints(1), 1),
        **_act(),
        **_init("kernel_initializer"),
        **_DATA_FORMAT,
    )
    for _pool in ("MaxPooling", "AveragePooling"):
        _add(
            f"{_pool}{_r}D",
            "pool",
            _r,
            # Keras 3 gives MaxPooling a default pool_size of 2 and AveragePooling none
            pool_size=Arg(ints(1), 2 if _pool == "MaxPooling" else REQUIRED),
            strides=Arg(ints(1, optional=True), None),
            **_padding(),
            **_DATA_FORMAT,
        )
        _add(f"Global{_pool}{_r}D", "global_pool", _r, keepdims=Arg(boolean, False), **_DATA_FORMAT)
    _add(
        f"UpSampling{_r}D",
        "upsampling",
        _r,
        size=Arg(ints(1, lists=_r > 1), 2),
        **(
            {
                "interpolation": Arg(
                    one_of("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area"), "nearest"
                )
            }
            if _r == 2
            else {}
        ),
        **({} if _r == 1 else _DATA_FORMAT),
    )
    _add(f"ZeroPadding{_r}D", "zero_padding", _r, padding=Arg(pairs, 1), **_DATA_FORMAT)  # 1D: Keras >= 3.5
    _add(
        f"Cropping{_r}D",
        "cropping",
        _r,
        cropping=Arg(pairs, 0 if _r == 2 else 1),
        **({} if _r == 1 else _DATA_FORMAT),
    )

for _r in (1, 2):
    _add(
        f"SeparableConv{_r}D",
        "separable_conv",
        _r,
        filters=Arg(positive_int),
        kernel_size=Arg(ints(1)),
        strides=Arg(ints(1), 1),
        **_padding(),
        dilation_rate=Arg(ints(1), 1),
        depth_multiplier=Arg(positive_int, 1),
        **_act(),
        **_init("depthwise_initializer", "pointwise_initializer"),
        **_DATA_FORMAT,
    )
    _add(
        f"DepthwiseConv{_r}D",
        "depthwise_conv",
        _r,
        kernel_size=Arg(ints(1)),
        strides=Arg(ints(1), 1),
        **_padding(),
        depth_multiplier=Arg(positive_int, 1),
        dilation_rate=Arg(ints(1), 1),
        **_act(),
        **_init("depthwise_initializer"),
        **_DATA_FORMAT,
    )

for _merge in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"):
    _add(_merge, "elementwise", 0)
_add("Concatenate", "concatenate", 0, axis=Arg(axis, -1))

_add("Flatten", "flatten", 0, **_DATA_FORMAT)
_add("Reshape", "reshape", 0, target_shape=Arg(target_shape))
_add("Dense", "dense", 0, units=Arg(positive_int), **_act(), **_init("kernel_initializer"))
_add(
    "Dropout",
    "dropout",
    0,
    rate=Arg(fraction),
    seed=Arg(int_at_least(0), None),
    noise_shape=Arg(noise_shape, None),
)
# Preprocessing inside a model (EfficientNet, MobileNetV3, ConvNeXt): x * scale + offset, and
# (x - mean) / sqrt(variance), whose mean, variance and count are weights unless given
_add("Rescaling", "identity", 0, scale=Arg(numbers), offset=Arg(numbers, 0.0))
_add(
    "Normalization",
    "normalization",
    0,
    axis=Arg(axis, -1),
    mean=Arg(optional(numbers), None),
    variance=Arg(optional(numbers), None),
    invert=Arg(boolean, False),
)
_add(
    "LayerNormalization",
    "layer_norm",
    0,
    axis=Arg(axis, -1),
    epsilon=Arg(positive_number, 0.001),
    center=Arg(boolean, True),
    scale=Arg(boolean, True),
)
# The layer classes keras.applications defines for itself.
_add(
    "LayerScale",
    "layer_scale",
    0,
    init_values=Arg(number),
    projection_dim=Arg(positive_int),
)
_kept_in("keras.src.applications.convnext", "LayerScale")
# ConvNeXt's StochasticDepth: drops the residual branch of a whole batch while training, the
# identity at inference (no weights). Keras documents its rate "within [0, 1]".
_add("StochasticDepth", "identity", 0, drop_path_rate=Arg(unit_interval))
_kept_in("keras.src.applications.convnext", "StochasticDepth")
_add(
    "CustomScaleLayer",
    "elementwise",
    0,
    scale=Arg(number),
)  # inputs[0] + inputs[1] * scale (InceptionResNetV2's residual)
_kept_in("keras.src.applications.inception_resnet_v2", "CustomScaleLayer")
# Operations in the graph, not layers: ConvNeXt's residual `inputs + x`, MobileNetV3's hard sigmoid
# `relu6(x + 3.0) * (1/6)`. Two inputs, or one input and a number (`operand`).
for _op in ("Add", "Multiply"):
    _add(
        f"ops.{_op.lower()}",
        "op",
        0,
        operand=Arg(optional(number), None),
    )
    _kept_in("keras.src.ops.numpy", f"ops.{_op.lower()}", keras_class=_op)
OPS = frozenset(k for k, v in LAYERS.items() if v.rule == "op")
# A nested keras.Sequential, one row in the summary (ConvNeXt's stem and downsampling blocks);
# its `layers` are validated like a spec's, each named.
_add(
    "Sequential",
    "group",
    0,
    layers=Arg(described({"type": "array", "minItems": 1, "items": {"type": "object"}})(lambda v, ctx: v)),
)
_kept_in("keras", "Sequential")
# A nested functional model (a user's encoder built with keras.Model(inputs, outputs), used as a
# layer): one row in the summary, as Keras shows it. Its `layers` form a graph over its one input
# (`input` in their `inputs:` lists), each named; `output` names the layer it ends at (default: its
# last); `input_name` its input layer's name, where Keras did not generate it.
_add(
    "Functional",
    "group",
    0,
    layers=Arg(described({"type": "array", "minItems": 1, "items": {"type": "object"}})(lambda v, ctx: v)),
    output=Arg(optional(layer_name), None),
    input_name=Arg(optional(layer_name), None),
)
_kept_in("keras.src.models.functional", "Functional")
GROUPS = frozenset(k for k, v in LAYERS.items() if v.rule == "group")


# A layer the catalogue does not know, imported with `zoo import --opaque`: Keras's own class (from
# keras.layers only, built from its configuration; nothing else can be named) with the output shape
# and parameter counts Keras gave at import. The formula engine does not check it: every summary,
# golden and diagram says so.
@described({"type": "string", "pattern": "^[A-Z][A-Za-z0-9]*$"})
def keras_layer_class(v: Any, ctx: Ctx) -> str:
    if isinstance(v, str) and v in REFUSED:
        raise ctx.error(f"zoo refuses {v}: {REFUSED[v]}", v, "a keras.layers class zoo does not refuse")
    if isinstance(v, str) and re.fullmatch(r"[A-Z][A-Za-z0-9]*", v):
        return v
    raise ctx.error("must name a class of keras.layers (Lambda is refused: it runs code)", v, "e.g. LSTM")


@described({"type": "object"})
def keras_config(v: Any, ctx: Ctx) -> dict[str, Any]:
    """A layer's ``get_config()`` as plain data (names, numbers, strings, lists, mappings)."""

    def plain(x: Any, depth: int = 0) -> bool:
        if depth > 8:
            return False
        if x is None or isinstance(x, (bool, int, float, str)):
            return True
        if isinstance(x, list):
            return all(plain(y, depth + 1) for y in x)
        if isinstance(x, dict):
            return all(isinstance(k, str) and plain(y, depth + 1) for k, y in x.items())
        return False

    if isinstance(v, dict) and plain(v):
        return dict(v)
    raise ctx.error("must be a mapping of plain values (a layer's get_config())", v)


@described({"type": "array", "items": {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]}})
def output_shape(v: Any, ctx: Ctx) -> tuple[int | None, ...]:
    """An output shape without the batch axis; null for a size left open."""
    if isinstance(v, list) and len(v) <= 8 and all(x is None or (_is_int(x) and x >= 0) for x in v):
        return tuple(v)
    raise ctx.error("must be a list of sizes without the batch axis (null: open)", v, "e.g. [10, 64]")


_add(
    "Opaque",
    "opaque",
    0,
    class_name=Arg(keras_layer_class),
    config=Arg(keras_config, None),
    output_shape=Arg(output_shape),
    params=Arg(int_at_least(0), 0),
    non_trainable_params=Arg(int_at_least(0), 0),
)
# One layer's weights used at a second place of the graph (a Siamese network's shared encoder):
# `- Call: {layer: encoder, inputs: [right], name: encoder_right}`. Not a Keras layer: Keras calls
# the layer again, and lists it once; its summary row holds every call.
_add("Call", "call", 0, layer=Arg(layer_name))
_add("Activation", "identity", 0, activation=Arg(name_in(ACTIVATIONS, "activation")))
# ReLU as a layer: min(max(x, threshold), max_value), with negative_slope below threshold (MobileNet's ReLU6)
_add(
    "ReLU",
    "identity",
    0,
    max_value=Arg(number_at_least(0, optional=True), None),
    negative_slope=Arg(number_at_least(0), 0.0),
    threshold=Arg(number_at_least(0), 0.0),
)
_add(
    "BatchNormalization",
    "batch_norm",
    0,
    axis=Arg(axis, -1),
    momentum=Arg(fraction, 0.99),
    epsilon=Arg(positive_number, 0.001),
    center=Arg(boolean, True),
    scale=Arg(boolean, True),
)
# Activations as layers.
_add("LeakyReLU", "identity", 0, negative_slope=Arg(number_at_least(0), 0.3))
_add("ELU", "identity", 0, alpha=Arg(number, 1.0))
_add("Softmax", "identity", 0, axis=Arg(axis, -1))
_add(
    "PReLU",
    "prelu",
    0,
    shared_axes=Arg(shared_axes, None),
)
# Normalisations besides Batch/Layer/Normalization.
_add(
    "GroupNormalization",
    "group_norm",
    0,
    groups=Arg(groups_or_all, 32),
    axis=Arg(axis, -1),
    epsilon=Arg(positive_number, 0.001),
    center=Arg(boolean, True),
    scale=Arg(boolean, True),
)
_add("UnitNormalization", "unit_norm", 0, axis=Arg(axes, -1))
_add(
    "RMSNormalization", "rms_norm", 0, axis=Arg(axes, -1), epsilon=Arg(positive_number, 1e-6)
)  # Keras >= 3.9
# Regularisation: the identity at inference.
for _r in (1, 2, 3):
    _add(
        f"SpatialDropout{_r}D",
        "spatial_dropout",
        _r,
        rate=Arg(fraction),
        seed=Arg(int_at_least(0), None),
        **({} if _r == 1 else _DATA_FORMAT),
    )
_add("GaussianNoise", "identity", 0, stddev=Arg(unit_interval), seed=Arg(int_at_least(0), None))
_add("GaussianDropout", "identity", 0, rate=Arg(unit_interval), seed=Arg(int_at_least(0), None))
_add(
    "AlphaDropout",
    "dropout",
    0,
    rate=Arg(unit_interval),
    noise_shape=Arg(noise_shape, None),
    seed=Arg(int_at_least(0), None),
)
_add(
    "ActivityRegularization", "identity", 0, l1=Arg(number_at_least(0), 0.0), l2=Arg(number_at_least(0), 0.0)
)
_add("Identity", "identity", 0)
# Reshaping.
_add("Permute", "permute", 0, dims=Arg(permutation))
_add("RepeatVector", "repeat_vector", 0, n=Arg(positive_int))
_add("Dot", "dot", 0, axes=Arg(dot_axes), normalize=Arg(boolean, False))
# Adaptive pooling (Keras >= 3.13): a fixed output grid, whatever the input's.
for _r in (1, 2, 3):
    for _pool in ("Max", "Average"):
        _add(f"Adaptive{_pool}Pooling{_r}D", "adaptive_pool", _r, output_size=Arg(ints(1)), **_DATA_FORMAT)

# Image preprocessing and augmentation (keras.layers' image_preprocessing): at inference each keeps
# its input's shape, but for the three that give a fixed height and width (rule image_size).
_INTERPOLATION = {"interpolation": Arg(one_of("nearest", "bilinear"), "bilinear")}
_FILL = {
    "fill_mode": Arg(one_of("reflect", "wrap", "constant", "nearest"), "reflect"),
    "fill_value": Arg(number, 0.0),
}
_SEED = {"seed": Arg(int_at_least(0), None)}
_RANGE = {"value_range": Arg(number_pair, [0, 255])}
_add(
    "Resizing",
    "image_size",
    2,
    height=Arg(positive_int),
    width=Arg(positive_int),
    interpolation=Arg(one_of("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area"), "bilinear"),
    crop_to_aspect_ratio=Arg(boolean, False),
    pad_to_aspect_ratio=Arg(boolean, False),
    fill_mode=Arg(one_of("constant"), "constant"),
    fill_value=Arg(number, 0.0),
    **_DATA_FORMAT,
)
_add("CenterCrop", "image_size", 2, height=Arg(positive_int), width=Arg(positive_int), **_DATA_FORMAT)
_add(
    "RandomCrop", "image_size", 2, height=Arg(positive_int), width=Arg(positive_int), **_SEED, **_DATA_FORMAT
)
_add(
    "RandomFlip",
    "augmentation",
    2,
    mode=Arg(one_of("horizontal", "vertical", "horizontal_and_vertical"), "horizontal_and_vertical"),
    **_SEED,
    **_DATA_FORMAT,
)
_add(
    "RandomRotation",
    "augmentation",
    2,
    factor=Arg(factor),
    **_FILL,
    **_INTERPOLATION,
    **_SEED,
    **_DATA_FORMAT,
)
_add(
    "RandomZoom",
    "augmentation",
    2,
    height_factor=Arg(factor),
    width_factor=Arg(optional(factor), None),
    **_FILL,
    **_INTERPOLATION,
    **_SEED,
    **_DATA_FORMAT,
)
_add(
    "RandomTranslation",
    "augmentation",
    2,
    height_factor=Arg(factor),
    width_factor=Arg(factor),
    **_FILL,
    **_INTERPOLATION,
    **_SEED,
    **_DATA_FORMAT,
)
_add(
    "RandomShear",
    "augmentation",
    2,
    x_factor=Arg(factor, 0.0),
    y_factor=Arg(factor, 0.0),
    **_INTERPOLATION,
    **_FILL,
    **_SEED,
    **_DATA_FORMAT,
)
for _name in ("RandomContrast", "RandomBrightness"):
    _add(_name, "augmentation", 2, factor=Arg(factor), **_RANGE, **_SEED)
for _name in ("RandomHue", "RandomSaturation", "RandomSharpness"):
    _add(_name, "augmentation", 2, factor=Arg(factor), **_RANGE, **_SEED, **_DATA_FORMAT)
# it mixes each pixel with its grey value: RGB, three channels (Keras >= 3.15 checks it)
_add("RandomColorDegeneration", "augmentation", 2, factor=Arg(factor), **_RANGE, **_SEED, **_DATA_FORMAT)
_add(
    "RandomPosterization",
    "augmentation",
    2,
    factor=Arg(factor),  # the bits kept per channel, 1 ... 8
    **_RANGE,
    **_SEED,
    **_DATA_FORMAT,
)
_add(
    "RandomColorJitter",
    "augmentation",
    2,
    **_RANGE,
    **{f"{_k}_factor": Arg(optional(factor), None) for _k in ("brightness", "contrast", "saturation", "hue")},
    **_SEED,
    **_DATA_FORMAT,
)
_add("RandomGrayscale", "augmentation", 2, factor=Arg(number, 0.5), **_SEED, **_DATA_FORMAT)
_add(
    "Solarization",
    "augmentation",
    2,
    addition_factor=Arg(factor, 0.0),
    threshold_factor=Arg(factor, 0.0),
    **_RANGE,
    **_SEED,
)
_add("AutoContrast", "augmentation", 2, **_RANGE)
# (not Equalization: its compute_output_spec returns its input, so no model can hold it, Keras 3.8
# to 3.15: "Tensor ... from operation 'equalization' is part of a cycle")
_add(
    "RandAugment",
    "augmentation",
    2,
    **_RANGE,
    num_ops=Arg(positive_int, 2),
    factor=Arg(factor, 0.5),
    **_INTERPOLATION,
    **_SEED,
    **_DATA_FORMAT,
)
_add("MixUp", "augmentation", 2, alpha=Arg(positive_number, 0.2), **_SEED, **_DATA_FORMAT)
# Keras >= 3.9
_add("CutMix", "augmentation", 2, factor=Arg(factor, 1.0), **_SEED, **_DATA_FORMAT)
_add(
    "AugMix",
    "augmentation",
    2,
    **_RANGE,
    num_chains=Arg(positive_int, 3),
    chain_depth=Arg(positive_int, 3),
    factor=Arg(number, 0.3),
    alpha=Arg(positive_number, 1.0),
    all_ops=Arg(boolean, True),
    **_INTERPOLATION,
    **_SEED,
    **_DATA_FORMAT,
)
_add(
    "RandomErasing",
    "augmentation",
    2,
    factor=Arg(factor, 1.0),
    scale=Arg(number_pair, [0.02, 0.33]),
    fill_value=Arg(optional(number), None),
    **_RANGE,
    **_SEED,
    **_DATA_FORMAT,
)
_add(
    "RandomGaussianBlur",
    "augmentation",
    2,
    factor=Arg(factor, 1.0),
    kernel_size=Arg(odd_int, 3),
    sigma=Arg(factor, 1.0),
    **_RANGE,
    **_SEED,
    **_DATA_FORMAT,
)
_add("RandomInvert", "augmentation", 2, factor=Arg(factor, 1.0), **_RANGE, **_SEED, **_DATA_FORMAT)
_add(
    "RandomPerspective",
    "augmentation",
    2,
    factor=Arg(factor, 1.0),
    scale=Arg(number, 1.0),
    **_INTERPOLATION,
    fill_value=Arg(number, 0.0),
    **_SEED,
    **_DATA_FORMAT,
)
# Keras >= 3.10
_add(
    "RandomElasticTransform",
    "augmentation",
    2,
    factor=Arg(factor, 1.0),
    scale=Arg(number, 1.0),
    **_INTERPOLATION,
    **_FILL,
    **_RANGE,
    **_SEED,
    **_DATA_FORMAT,
)
# Keras >= 3.14
_add(
    "ContrastLimitedAdaptiveHistogramEqualization",
    "augmentation",
    2,
    **_RANGE,
    clip_limit=Arg(positive_number, 4.0),
    tile_grid_size=Arg(ints(1), [8, 8]),
    **_DATA_FORMAT,
)

# ---------------------------------------------------------------- sequences, attention, lookups
# Recurrent layers take (time, features) (ConvLSTM: (time, *spatial, channels)); wrappers
# (Bidirectional, TimeDistributed, SpectralNormalization, RNN's cell) hold another layer, written
# as a spec layer is ({LSTM: {units: 8}}) and validated as one (zoo.specification.model).


@described({"enum": ["concat", "sum", "mul", "ave", None]})
def merge_mode(v: Any, ctx: Ctx) -> str | None:
    """Bidirectional's merge_mode: concat, sum, mul or ave, or None: the two directions as two
    outputs (``bidirectional:0`` forward, ``bidirectional:1`` backward)."""
    if v is None or v in ("concat", "sum", "mul", "ave"):
        return None if v is None else str(v)
    raise ctx.error(
        "invalid value" + did_you_mean(v, ["concat", "sum", "mul", "ave"]), v, "concat, sum, mul, ave, null"
    )


_SPEC_LAYER = {"type": "object", "minProperties": 1, "maxProperties": 1}


@described(_SPEC_LAYER)
def spec_layer(v: Any, ctx: Ctx) -> Any:
    """A layer held by a wrapper, written as a spec's layer ({LSTM: {units: 8}}); the specification's
    model validates it (it needs the whole catalogue)."""
    return v


@described({"type": "array", "minItems": 1, "items": _SPEC_LAYER})
def spec_layers(v: Any, ctx: Ctx) -> Any:
    """StackedRNNCells' cells: a list of cells written as spec layers."""
    return v


_EINSUM = (  # Keras's three forms: ab,bc->ac; ...b,bc->...c; ab...,bc->ac...
    r"[a-zA-Z]+,[a-zA-Z]+->[a-zA-Z]+"
    r"|\.\.\.[a-zA-Z]+,[a-zA-Z]+->\.\.\.[a-zA-Z]+"
    r"|[a-zA-Z]{2,}\.\.\.,[a-zA-Z]+->[a-zA-Z]+\.\.\."
)


@described({"type": "string", "pattern": f"^({_EINSUM})$"})
def einsum_equation(v: Any, ctx: Ctx) -> str:
    """EinsumDense's equation, in one of Keras's three forms: ``ab,bc->ac``, ``...b,bc->...c`` (axes
    elided on the left) or ``ab...,bc->ac...`` (on the right); the input's first letter (or the
    ellipsis) holds the batch axis."""
    if isinstance(v, str) and re.fullmatch(_EINSUM, v):
        return v
    raise ctx.error("invalid einsum equation", v, "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...")


@described(
    {
        "oneOf": [
            {"type": "integer", "minimum": 1},
            {"type": "array", "minItems": 1, "items": {"oneOf": [_int(1), {"type": "null"}]}},
        ]
    }
)
def sizes(v: Any, ctx: Ctx) -> tuple[int | None, ...]:
    """An output shape without the batch axis: one size, or a list (null: taken from the input)."""
    if _is_int(v) and v >= 1:
        return (int(v),)
    if isinstance(v, list) and v and all(x is None or (_is_int(x) and x >= 1) for x in v):
        return tuple(v)
    raise ctx.error(
        "must be a size >= 1 or a list of sizes (null: from the input)", v, "e.g. 64, or [null, 64]"
    )


_AXIS_FROM_1 = {"type": "integer", "minimum": 1}


@described(
    {"oneOf": [_AXIS_FROM_1, {"type": "array", "items": _AXIS_FROM_1, "minItems": 1, "uniqueItems": True}]}
)
def attention_axes(v: Any, ctx: Ctx) -> tuple[int, ...]:
    """MultiHeadAttention's attention_axes: the axes attention runs over, counted as Keras counts them
    (the batch is 0), each between the batch and the features (the rule checks the rank). A negative
    axis is refused: Keras 3.12 changed what it means (keras-team/keras#21721: before, -1 is the
    features, which fails when the layer runs; from 3.12, the last axis before them)."""
    items = [v] if _is_int(v) else v
    valid = "an axis >= 1 or a list of distinct such axes (the batch is axis 0), e.g. [1, 2]"
    if not (isinstance(items, list) and items and all(_is_int(x) for x in items)):
        raise ctx.error("wrong type", v, valid)
    if any(x < 0 for x in items):
        raise ctx.error(
            "a negative axis means other axes before and from Keras 3.12 (keras-team/keras#21721): "
            "write the axis counted from the batch, 0",
            v,
            valid,
        )
    if 0 in items or len(set(items)) != len(items):
        raise ctx.error("must name distinct axes after the batch, axis 0", v, valid)
    return tuple(int(x) for x in items)


@described({"type": "string", "pattern": "^[a-zA-Z]+$"})
def letters(v: Any, ctx: Ctx) -> str:
    if isinstance(v, str) and re.fullmatch("[a-zA-Z]+", v):
        return v
    raise ctx.error("must be letters of the equation's output", v, "e.g. 'c'")


@described({"type": "array", "minItems": 1, "items": {"type": "integer"}})
def int_vocabulary(v: Any, ctx: Ctx) -> tuple[int, ...]:
    """IntegerLookup's vocabulary as data: distinct integers (the spec's whole vocabulary)."""
    if isinstance(v, list) and v and all(_is_int(x) for x in v) and len(set(v)) == len(v):
        return tuple(v)
    raise ctx.error("must be a list of distinct integers", v, "e.g. [12, 36, 1138, 42]")


def lookup_tokens(a: Mapping[str, Any]) -> tuple[Any, ...]:
    """IntegerLookup's own tokens: its vocabulary less a leading run of its special tokens, the mask
    token (output_mode int only) then num_oov_indices OOV tokens, which Keras's set_vocabulary
    accepts at the start and drops (the layer adds them itself)."""
    vocabulary = tuple(a["vocabulary"])
    masked = a["mask_token"] is not None and a["output_mode"] == "int"
    special = (a["mask_token"],) * masked + (a["oov_token"],) * a["num_oov_indices"]
    return vocabulary[len(special) :] if vocabulary[: len(special)] == special else vocabulary


@described({"type": "array", "minItems": 1, "items": {"type": "number"}})
def boundaries(v: Any, ctx: Ctx) -> tuple[float, ...]:
    """Discretization's bin_boundaries: a sorted list of numbers."""
    if isinstance(v, list) and v and all(_is_number(x) for x in v) and list(v) == sorted(v):
        return tuple(v)
    raise ctx.error("must be a sorted list of numbers", v, "e.g. [0.0, 1.0, 2.0]")


def _recurrent(*, lstm: bool = False, gru: bool = False, sequence: bool = True) -> dict[str, Arg]:
    args: dict[str, Arg] = {
        "activation": Arg(name_in(ACTIVATIONS, "activation", optional=True), "tanh"),
        **(
            {"recurrent_activation": Arg(name_in(ACTIVATIONS, "activation", optional=True), "sigmoid")}
            if lstm or gru
            else {}
        ),
        "use_bias": Arg(boolean, True),
        **_init("kernel_initializer"),
        "recurrent_initializer": Arg(initializer, "orthogonal"),
        "bias_initializer": Arg(initializer, "zeros"),
        **({"unit_forget_bias": Arg(boolean, True)} if lstm else {}),
        "dropout": Arg(unit_interval, 0.0),
        "recurrent_dropout": Arg(unit_interval, 0.0),
        "seed": Arg(int_at_least(0), None),
        **({"reset_after": Arg(boolean, True)} if gru else {}),
    }
    if sequence:
        args.update(
            return_sequences=Arg(boolean, False),
            return_state=Arg(boolean, False),
            go_backwards=Arg(boolean, False),
        )
    return args


_add("SimpleRNN", "simple_rnn", 0, units=Arg(positive_int), **_recurrent())
_add("LSTM", "lstm", 0, units=Arg(positive_int), **_recurrent(lstm=True))
_add("GRU", "gru", 0, units=Arg(positive_int), **_recurrent(gru=True))
# The cells: one step of each, run over a sequence by RNN (a cell alone is refused: it takes states)
_add("SimpleRNNCell", "cell", 0, units=Arg(positive_int), **_recurrent(sequence=False))
_add("LSTMCell", "cell", 0, units=Arg(positive_int), **_recurrent(lstm=True, sequence=False))
_add("GRUCell", "cell", 0, units=Arg(positive_int), **_recurrent(gru=True, sequence=False))
_add("StackedRNNCells", "cell", 0, cells=Arg(spec_layers))
CELLS = ("SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells")
_add(
    "RNN",
    "rnn",
    0,
    cell=Arg(spec_layer),
    return_sequences=Arg(boolean, False),
    return_state=Arg(boolean, False),
    go_backwards=Arg(boolean, False),
)
for _r in (1, 2, 3):
    _add(
        f"ConvLSTM{_r}D",
        "conv_lstm",
        _r,
        filters=Arg(positive_int),
        kernel_size=Arg(ints(1)),
        strides=Arg(ints(1), 1),
        **_padding(),
        dilation_rate=Arg(ints(1), 1),
        **_recurrent(lstm=True),
        **_DATA_FORMAT,
    )
RECURRENT = ("SimpleRNN", "LSTM", "GRU", "RNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
# the states each recurrent layer (or cell) keeps: with return_state it gives them after its output
STATES = {
    "SimpleRNN": 1,
    "GRU": 1,
    "LSTM": 2,
    **{f"ConvLSTM{r}D": 2 for r in (1, 2, 3)},
    "SimpleRNNCell": 1,
    "GRUCell": 1,
    "LSTMCell": 2,
}
_add(
    "Bidirectional",
    "bidirectional",
    0,
    layer=Arg(spec_layer),
    merge_mode=Arg(merge_mode, "concat"),
    # the backward copy, given (go_backwards: true); Keras makes it from the layer without one
    backward_layer=Arg(optional(spec_layer), None),
)
_add("TimeDistributed", "time_distributed", 0, layer=Arg(spec_layer))
_add(
    "SpectralNormalization", "spectral_norm", 0, layer=Arg(spec_layer), power_iterations=Arg(positive_int, 1)
)
# the layers another layer holds: the key of each, and the kinds it may hold
WRAPPED: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "Bidirectional": ("layer", RECURRENT),
    "TimeDistributed": ("layer", None),  # any one-input layer but a wrapper, a base or a group
    "SpectralNormalization": (
        "layer",
        ("Dense", "Embedding", *(f"Conv{r}D" for r in (1, 2, 3)), *(f"Conv{r}DTranspose" for r in (1, 2, 3))),
    ),
    "RNN": ("cell", CELLS),
    "StackedRNNCells": ("cells", CELLS[:3]),
}
# a wrapper's other held layers, validated as the first is: a Bidirectional's backward copy
ALSO_HELD: dict[str, tuple[str, ...]] = {"Bidirectional": ("backward_layer",)}


def held_keys(kind: str) -> tuple[str, ...]:
    """The arguments of a wrapper that hold layers (``layer``, and ``backward_layer``); none for others."""
    return (WRAPPED[kind][0], *ALSO_HELD.get(kind, ())) if kind in WRAPPED else ()


_add("Masking", "identity", 0, mask_value=Arg(number, 0.0))
_EMBEDDING = {
    "input_dim": Arg(positive_int),
    "output_dim": Arg(positive_int),
    "embeddings_initializer": Arg(initializer, "uniform"),
    "mask_zero": Arg(boolean, False),
}
_add("Embedding", "embedding", 0, **_EMBEDDING)
# Keras >= 3.12 (keras_hub's, moved to keras.layers): the embedding, and its transpose for logits
_add("ReversibleEmbedding", "embedding", 0, **_EMBEDDING, tie_weights=Arg(boolean, True))
_add(
    "EinsumDense",
    "einsum_dense",
    0,
    equation=Arg(einsum_equation),
    output_shape=Arg(sizes),
    activation=Arg(name_in(ACTIVATIONS, "activation", optional=True), None),
    bias_axes=Arg(optional(letters), None),
    **_init("kernel_initializer"),
    bias_initializer=Arg(initializer, "zeros"),
)
_ATTENTION = {
    "dropout": Arg(unit_interval, 0.0),
    "use_bias": Arg(boolean, True),
    **_init("kernel_initializer"),
    "bias_initializer": Arg(initializer, "zeros"),
    "seed": Arg(int_at_least(0), None),
    # how the scores are computed (a fused kernel), not what: passed to Keras as written (None: Keras
    # decides, keras.config.is_flash_attention_enabled); the TensorFlow backend refuses True
    "flash_attention": Arg(optional(boolean), None),
}
# Keras 3.14's gate (a sigmoid projection of the query, keras-team/keras#22372) and 3.15's banded mask
# (keras-team/keras#22814): a release without them refuses them (zoo.specification.keras_versions)
_NEWER_ATTENTION = {
    "use_gate": Arg(boolean, False),
    "sliding_window": Arg(optional(positive_int), None),
}
# arguments newer than the oldest supported Keras: the builder leaves them out at their default, so a
# spec that writes the default builds on every release
NEWER_ARGUMENTS = {k: v.default for k, v in _NEWER_ATTENTION.items()}
_add(
    "MultiHeadAttention",
    "multi_head_attention",
    0,
    num_heads=Arg(positive_int),
    key_dim=Arg(positive_int),
    value_dim=Arg(optional(positive_int), None),
    output_shape=Arg(optional(sizes), None),
    attention_axes=Arg(optional(attention_axes), None),
    **_ATTENTION,
    **_NEWER_ATTENTION,
)
_add(
    "GroupQueryAttention",
    "group_query_attention",
    0,
    head_dim=Arg(positive_int),
    num_query_heads=Arg(positive_int),
    num_key_value_heads=Arg(positive_int),
    **_ATTENTION,
    **_NEWER_ATTENTION,
)
_add(
    "Attention",
    "attention",
    0,
    use_scale=Arg(boolean, False),
    score_mode=Arg(one_of("dot", "concat"), "dot"),
    dropout=Arg(unit_interval, 0.0),
    seed=Arg(int_at_least(0), None),
)
_add("AdditiveAttention", "attention", 0, use_scale=Arg(boolean, True), dropout=Arg(unit_interval, 0.0))
# called as layer(query, value[, key]), not on a list
POSITIONAL = frozenset({"MultiHeadAttention", "GroupQueryAttention"})

# Preprocessing of numbers and categories. Their vocabularies and boundaries are the spec's data:
# a layer that would learn them from data (adapt) cannot follow from its configuration, and is refused.
# Discretization, Hashing, HashedCrossing and IntegerLookup give indices (output_mode int) or encode
# them (one_hot, multi_hot, count; HashedCrossing one_hot only). Keras's shape rule for Discretization's
# and IntegerLookup's encodings changed in 3.14 (zoo.specification.keras_versions: the engine computes
# each release's); tf_idf needs idf_weights learnt from data, and is refused.
_ENCODING = ("one_hot", "multi_hot", "count")
_add(
    "CategoryEncoding",
    "category_encoding",
    0,
    num_tokens=Arg(positive_int),
    output_mode=Arg(one_of(*_ENCODING), "multi_hot"),
)
_add(
    "Discretization",
    "index_lookup",
    0,
    bin_boundaries=Arg(boundaries),
    output_mode=Arg(one_of("int", *_ENCODING), "int"),
)
_add(
    "Hashing",
    "index_lookup",
    0,
    num_bins=Arg(positive_int),
    mask_value=Arg(optional(number), None),
    salt=Arg(optional(int_at_least(0)), None),
    output_mode=Arg(one_of("int", *_ENCODING), "int"),
)
_add(
    "HashedCrossing",
    "hashed_crossing",
    0,
    num_bins=Arg(positive_int),
    output_mode=Arg(one_of("int", "one_hot"), "int"),
)
_add(
    "IntegerLookup",
    "index_lookup",
    0,
    vocabulary=Arg(int_vocabulary),
    num_oov_indices=Arg(int_at_least(0), 1),
    mask_token=Arg(optional(number), None),
    oov_token=Arg(number, -1),
    invert=Arg(boolean, False),
    output_mode=Arg(one_of("int", *_ENCODING), "int"),
)
# Audio: waveforms (samples,) or (samples, channels) to spectrograms.
_add(
    "MelSpectrogram",
    "mel_spectrogram",
    0,
    fft_length=Arg(positive_int, 2048),
    sequence_stride=Arg(positive_int, 512),
    sequence_length=Arg(optional(positive_int), None),
    window=Arg(one_of("hann", "hamming", None), "hann"),
    sampling_rate=Arg(positive_int, 16000),
    num_mel_bins=Arg(positive_int, 128),
    min_freq=Arg(number_at_least(0), 20.0),
    max_freq=Arg(number_at_least(0, optional=True), None),
    power_to_db=Arg(boolean, True),
    top_db=Arg(number, 80.0),
    mag_exp=Arg(number, 2.0),
    min_power=Arg(positive_number, 1e-10),
    ref_power=Arg(positive_number, 1.0),
)
_add(
    "STFTSpectrogram",
    "stft_spectrogram",
    1,
    mode=Arg(one_of("log", "magnitude", "psd", "real", "imag", "angle", "stft"), "log"),
    frame_length=Arg(positive_int, 256),
    frame_step=Arg(optional(positive_int), None),
    fft_length=Arg(optional(positive_int), None),
    window=Arg(one_of("hann", "hamming", None), "hann"),
    periodic=Arg(boolean, False),
    scaling=Arg(one_of("density", "spectrum", None), "density"),
    **_padding(),
    expand_dims=Arg(boolean, False),
    **_DATA_FORMAT,
)

# keras.layers' classes that zoo refuses, each with the reason: what they compute does not follow from
# their configuration (code, a saved graph, a vocabulary learnt from data), or they are not layers a
# model holds. A spec or an import that names one is told the reason (tests/test_catalogue_complete.py:
# every keras.layers class is catalogued, an alias, or here).
REFUSED: dict[str, str] = {
    "Lambda": "it runs arbitrary Python code, which a spec cannot hold and zoo will not run",
    "TFSMLayer": "it wraps a TensorFlow SavedModel: its computation is in the saved graph, not its "
    "configuration",
    "JaxLayer": "it wraps a JAX function: its computation is code, not configuration",
    "FlaxLayer": "it wraps a Flax module: its computation is code, not configuration",
    "TorchModuleWrapper": "it wraps a PyTorch module: its computation is code, not configuration",
    "StringLookup": "its vocabulary of strings is learnt from data (adapt) or a file; zoo's inputs are "
    "numbers, so a string vocabulary cannot reach it (IntegerLookup takes its vocabulary as data)",
    "TextVectorization": "it splits and looks up text with a vocabulary learnt from data (adapt); zoo's "
    "inputs are numbers (an Embedding over token ids does the model's part)",
    "Equalization": "no Keras release can build a model that holds it (its compute_output_spec returns its "
    "input: 'part of a cycle', Keras 3.8 to 3.15)",
    "MaxNumBoundingBoxes": "it pads bounding-box dictionaries, data that is not a tensor of a model",
    "Pipeline": "it chains preprocessing outside a model (keras.layers.Pipeline is not traced into a graph); "
    "write its layers in order instead",
    "Layer": "the base class of every layer: it computes nothing of its own",
    "Wrapper": "the abstract base of Bidirectional and TimeDistributed: it computes nothing of its own",
    "InputLayer": "the model's input, which a spec writes as input: (or inputs:), not as a layer",
    "InputSpec": "not a layer: the description of a layer's expected input",
}

# Every keras.applications constructor, as a pretrained base in a spec (the tutorial's
# `- VGG16: {weights: imagenet, include_top: false, trainable: false}`), and the zoo model that
# describes it: the formula engine computes the base's row from that family file.
APPLICATIONS: dict[str, str] = {
    "VGG16": "vgg16",
    "VGG19": "vgg19",
    "ResNet50": "resnet50",
    "ResNet101": "resnet101",
    "ResNet152": "resnet152",
    "ResNet50V2": "resnet50_v2",
    "ResNet101V2": "resnet101_v2",
    "ResNet152V2": "resnet152_v2",
    "MobileNet": "mobilenet",
    "MobileNetV2": "mobilenet_v2",
    "MobileNetV3Small": "mobilenet_v3_small",
    "MobileNetV3Large": "mobilenet_v3_large",
    "DenseNet121": "densenet121",
    "DenseNet169": "densenet169",
    "DenseNet201": "densenet201",
    "InceptionV3": "inception_v3",
    "InceptionResNetV2": "inception_resnet_v2",
    "Xception": "xception",
    **{f"EfficientNetB{k}": f"efficientnet_b{k}" for k in range(8)},
    **{f"EfficientNetV2{k}": f"efficientnet_v2_{k.lower()}" for k in ("B0", "B1", "B2", "B3", "S", "M", "L")},
    **{f"ConvNeXt{k}": f"convnext_{k.lower()}" for k in ("Tiny", "Small", "Base", "Large", "XLarge")},
    "NASNetMobile": "nasnet_mobile",
    "NASNetLarge": "nasnet_large",
}
# The family file (in specs/) that describes each of them: what a base layer is computed from.
BASE_FILES: dict[str, str] = {
    "vgg16": "vgg",
    "vgg19": "vgg",
    "resnet50": "resnet",
    "resnet101": "resnet",
    "resnet152": "resnet",
    "resnet50_v2": "resnet_v2",
    "resnet101_v2": "resnet_v2",
    "resnet152_v2": "resnet_v2",
    "mobilenet": "mobilenet",
    "mobilenet_v2": "mobilenet_v2",
    "mobilenet_v3_small": "mobilenet_v3",
    "mobilenet_v3_large": "mobilenet_v3",
    "densenet121": "densenet",
    "densenet169": "densenet",
    "densenet201": "densenet",
    "inception_v3": "inception_v3",
    "inception_resnet_v2": "inception_resnet_v2",
    "xception": "xception",
    "nasnet_mobile": "nasnet",
    "nasnet_large": "nasnet",
    **{f"efficientnet_b{k}": "efficientnet" for k in range(8)},
    **{f"efficientnet_v2_{k}": "efficientnet_v2" for k in ("b0", "b1", "b2", "b3", "s", "m", "l")},
    **{f"convnext_{k}": "convnext" for k in ("tiny", "small", "base", "large", "xlarge")},
}
for _app in APPLICATIONS:
    _add(
        _app,
        "application",
        2,
        weights=Arg(weights, "imagenet"),
        include_top=Arg(one_of(False), False),
        pooling=Arg(one_of(None, "avg", "max"), None),
        # fine-tuning: the base's layers from this one on (in its family file's order) train,
        # the rest stay frozen, and its BatchNormalization layers stay frozen (inference mode)
        trainable_from=Arg(layer_name, None),
        # the image data format Keras builds it under (keras.config.image_data_format())
        **_DATA_FORMAT,
    )
    _kept_in("keras.applications", _app, keras_class="Functional")


# keras.layers' other names for its classes (the same class object under two names): a spec may
# write either; summaries show the class's own name (Convolution2D builds a Conv2D named conv2d).
ALIASES: dict[str, str] = {
    **{f"Convolution{_r}D": f"Conv{_r}D" for _r in (1, 2, 3)},
    **{f"Convolution{_r}DTranspose": f"Conv{_r}DTranspose" for _r in (1, 2, 3)},
    **{f"SeparableConvolution{_r}D": f"SeparableConv{_r}D" for _r in (1, 2)},
    **{f"MaxPool{_r}D": f"MaxPooling{_r}D" for _r in (1, 2, 3)},
    **{f"AvgPool{_r}D": f"AveragePooling{_r}D" for _r in (1, 2, 3)},
    **{f"GlobalMaxPool{_r}D": f"GlobalMaxPooling{_r}D" for _r in (1, 2, 3)},
    **{f"GlobalAvgPool{_r}D": f"GlobalAveragePooling{_r}D" for _r in (1, 2, 3)},
}
for _alias, _of in ALIASES.items():
    LAYERS[_alias] = dataclasses.replace(LAYERS[_of], name=_alias, keras_class=LAYERS[_of].class_name)


# the layers that take several inputs (attention: query, value and an optional key)
MULTI_INPUT_RULES = (
    "elementwise",
    "concatenate",
    "dot",
    "multi_head_attention",
    "group_query_attention",
    "attention",
    "hashed_crossing",
)
MERGES = frozenset(k for k, v in LAYERS.items() if v.rule in MULTI_INPUT_RULES)
OPAQUE = "Opaque"  # takes one input or several
CALL = "Call"  # a layer called again, on other inputs, with the same weights


def resolve(kind: LayerKind, given: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments a layer runs with: what the spec gave over the catalogue's defaults.

    Defaults go through the same normalisation as the spec's own values
    (``strides: 1`` -> ``(1, 1)`` for a 2D layer).
    """
    return {**_normalised_defaults(kind.name), **given}


@functools.cache
def _normalised_defaults(name: str) -> dict[str, Any]:
    kind = LAYERS[name]
    out = {}
    for key, value in kind.defaults().items():
        ctx = Ctx(Source(), (key,), kind.rank)
        out[key] = value if value is None else kind.args[key].check(value, ctx)
    return out


def default_name(kind: str) -> str:
    """The name Keras gives the first unnamed layer of class ``kind`` in a fresh session.

    Operations share the counter of the layer class of the same name (ops.add and Add: add, add_1).
    """
    if kind in APPLICATIONS:  # a base is named after its zoo model: vgg16, resnet50, efficientnet_b0
        return APPLICATIONS[kind]
    return snake_case(LAYERS[kind].class_name if kind in LAYERS else kind)


class AutoNames:
    """Keras's automatic layer names in a fresh session, in creation order: conv2d, conv2d_1, ...
    (the one counter both a family's expansion and a plain spec's validation use)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def next(self, kind: str) -> str:
        name = self.peek(kind)
        base = default_name(kind)
        self.counts[base] = self.counts.get(base, 0) + 1
        return name

    def peek(self, kind: str) -> str:
        """The name the next unnamed layer of ``kind`` would get (nothing is counted)."""
        base = default_name(kind)
        n = self.counts.get(base, 0)
        return base if n == 0 else f"{base}_{n}"

    def implied(self, kind: str, name: str) -> bool:
        """Whether a layer named ``name`` may leave its name out: it is the one it would be given.
        Counts it when so, as validation counts the unnamed layers (and only those)."""
        if name != self.peek(kind):
            return False
        self.next(kind)
        return True


def snake_case(class_name: str) -> str:
    """Keras's default layer name for a class: ``MaxPooling2D`` -> ``max_pooling2d``."""
    name = re.sub(r"\W+", "", class_name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


# ---------------------------------------------------------------- mappings of arguments


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
        raise source.error(
            path,
            f"{what} must be a mapping of arguments",
            received={str(path[-1]) if path else "spec": value},
        )
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
        raise source.error(
            path,
            f"missing required {'key' if len(missing) == 1 else 'keys'} "
            + ", ".join(repr(m) for m in missing),
        )
    return {k: args[k].check(v, Ctx(source, (*path, k), rank)) for k, v in value.items()}


def object_schema(args: Mapping[str, Arg], rank: int = 0, *, nullable: bool = False) -> dict[str, Any]:
    """The JSON Schema of a mapping validated by :func:`validate_mapping` against ``args``."""
    out: dict[str, Any] = {
        "type": ["object", "null"] if nullable else "object",
        "additionalProperties": False,
        "properties": {k: json_of(a.check, rank) for k, a in args.items()},
    }
    required = [k for k, a in args.items() if a.default is REQUIRED]
    if required:
        out["required"] = required
    return out
