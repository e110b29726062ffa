"""Family files: variants, parameters, ``let:``, requirements, defaults and the ImageNet file of a
family of models, expanded into the plain spec of one of them.

A family file describes several models the way keras.applications' Python does
(ResNet50/101/152 differ only in how many blocks each stage repeats). Expansion turns one variant
of it, with the caller's overrides, into the plain spec that the validator, the formula engine and
the Keras builder already understand: a flat list of ``{LayerClass: {arguments}}`` with every name
and input written out (its blocks: :mod:`zoo.specification.blocks`). Expansion reads shapes only
through the formula engine: where a layer's value is Keras's reading of a tensor's shape
(``shape(input)[1]``, as ``correct_pad`` reads ``x.shape``), the layers expanded so far are
computed by the engine's rules, each once, and the shape is theirs (sizes left open stay None).
Everything is evaluated in one :class:`~zoo.specification.context.Context`: the one error path
(the line, each use site, the variant) and the one work budget.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from zoo.specification import catalog
from zoo.specification.blocks import OWN_KEYS, SHAPE_ENGINE, BlockExpansion, Tensors
from zoo.specification.context import TEMPLATE, plain_list
from zoo.specification.errors import KeyPath, Source, SpecError, did_you_mean, reason, show
from zoo.specification.expressions import ExpressionError, names_in
from zoo.specification.provenance import ExpandedSource

FAMILY_KEYS = ("family", "params", "variants", "let", "defaults", "blocks", "require", "weights")
REQUIRE_KEYS = ("that", "message")
WEIGHTS_KEYS = ("file", "hash", "origin")


@dataclass
class Expanded:
    """One variant of a family file, expanded: a plain spec's data and where each layer came from."""

    data: dict[str, Any]
    source: ExpandedSource
    family: str | None
    params: dict[str, Any]
    weights_file: dict[str, Any] | None = None


def is_family(data: Any) -> bool:
    return isinstance(data, dict) and any(k in data for k in FAMILY_KEYS)


def model_names(data: Any, source: Source, stem: str) -> list[str]:
    """The model names a parsed spec file defines: its variants, or its one name."""
    if isinstance(data, dict) and "variants" in data:
        variants = data["variants"]
        if not isinstance(variants, dict) or not variants:
            raise source.error(
                ("variants",),
                "must be a mapping of model names to parameter overrides",
                received={"variants": variants},
            )
        if data.get("family") != stem:
            raise source.error(
                ("family",),
                "a family file's family: must match its file name",
                received={"family": data.get("family")},
                valid=repr(stem),
            )
        for name in variants:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", str(name)):
                raise source.error(
                    ("variants", name),
                    "invalid model name",
                    received={"variant": name},
                    valid="lower-case letters, digits and '_', starting with a letter",
                )
        return list(variants)
    return [stem]


def expand(
    data: dict[str, Any],
    source: Source,
    name: str,
    overrides: Mapping[str, Any],
    *,
    weights: Any = None,
    plain_keys: Collection[str] = (),
) -> Expanded:
    """The plain spec data of model ``name`` (a variant, or the file's one model) with ``overrides``.

    ``weights`` (None, "imagenet" or a path) is visible to expressions as ``weights``, so a
    family can state keras.applications' rules (ImageNet weights with the top need 224x224).
    ``plain_keys``: the top-level keys of a plain spec; with them, any other key that is not a
    family key is refused (with a suggestion).
    """
    x = BlockExpansion(Source(source.label, source.lines))
    x.check_flow_style(data, ())
    params, given = _parameters(x, data, name, overrides)
    shown = {**given, **overrides, **({"weights": weights} if weights is not None else {})}
    if "variants" in data or shown:
        what = f"variant {name}" if "variants" in data else f"model {name}"
        args = ", ".join(f"{k}={show(v)}" for k, v in shown.items())
        line = source.line_of(("variants", name) if "variants" in data else ())
        x.variant_text = f"in {what}" + (f" ({args})" if args else "") + f", {source.label}:{line}"
    if plain_keys:
        x.check_keys(data, (), [*plain_keys, *FAMILY_KEYS], "unknown key")
    env, input_shape = _environment(x, data, {**params, "variant": name, "weights": weights}, overrides)
    x.genv = env
    x.check_blocks(x.mapping(data, "blocks"), data.get("layers"))
    x.defaults = _check_defaults(x, x.mapping(data, "defaults"), env)
    layers = data.get("layers")
    if not isinstance(layers, list) or not layers:
        raise x.error(("layers",), "must be a non-empty list of layers", received={"layers": layers})
    x.open_tensors = lambda: _tensors(x, data, env, name, input_shape)
    model_input = catalog.MODEL_INPUT
    x.items(layers, ("layers",), {model_input: model_input}, model_input, env, "", top=True)
    weights_file = _weights_file(x, data.get("weights"), env, wanted=weights == "imagenet")
    # the plain spec's other keys may be expressions too (data_format: =data_format)
    plain = {
        k: x.value(v, env, (k,))
        for k, v in data.items()
        if k not in FAMILY_KEYS and k not in ("layers", "input")
    }
    plain["name"] = name
    if input_shape is not None:
        plain["input"] = plain_list(input_shape)
    plain["layers"] = x.out
    source_out = ExpandedSource(source.label, source.lines, tuple(x.prov), x.variant_text)
    return Expanded(plain, source_out, data.get("family"), params, weights_file)


def _tensors(
    x: BlockExpansion, data: dict[str, Any], env: dict[str, Any], name: str, input_shape: Any
) -> Tensors:
    """The formula engine's view of the model's tensors, for its first ``shape()``: the model's
    data format and input(s), as the plain spec will say them."""
    data_format = x.value(data.get("data_format", "channels_last"), env, ("data_format",))
    if input_shape is not None or data.get("inputs") is None:
        inputs = {catalog.MODEL_INPUT: input_shape}
    else:
        inputs = x.value(data["inputs"], env, ("inputs",))
    return SHAPE_ENGINE[0](x.source, x.variant_text, name, data_format, inputs)


def _parameters(
    x: BlockExpansion, data: dict[str, Any], name: str, overrides: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The model's parameters (the file's, its variant's, the caller's overrides) and its variant's."""
    variants = x.mapping(data, "variants")
    params = x.mapping(data, "params")
    given: dict[str, Any] = {}
    if variants and name not in variants:
        raise x.error(
            ("variants",), f"unknown model {name!r}" + did_you_mean(name, variants), valid=", ".join(variants)
        )
    if variants:
        given = variants[name] if isinstance(variants[name], dict) else {}
        if variants[name] is not None and not isinstance(variants[name], dict):
            raise x.error(
                ("variants", name),
                "a variant is a mapping of parameter overrides",
                received={name: variants[name]},
            )
        for key in given:
            if key not in params:
                raise x.error(
                    ("variants", name, key),
                    "unknown parameter" + did_you_mean(key, params),
                    received={key: given[key]},
                    valid=", ".join(params),
                )
    params = {**params, **given}
    for key, value in overrides.items():
        if key == "input_shape" and "input_shape" not in params:
            continue  # a family without keras.applications' argument: the input is given directly
        if key not in params:
            valid = ", ".join(dict.fromkeys(["input_shape", *params]))
            near = did_you_mean(key, [*params, "input_shape"])
            what = reason(f"unknown override for {name!r}{near}", received={key: value}, valid=valid)
            raise SpecError(what, file=x.source.label)
        params[key] = value
    return params, given


def _environment(
    x: BlockExpansion, data: dict[str, Any], env: dict[str, Any], overrides: Mapping[str, Any]
) -> tuple[dict[str, Any], Any]:
    """What expressions see, and the model's input: ``let:`` and ``input:`` evaluated, ``require:``
    checked, in keras.applications' order: a constructor checks its own arguments first, then
    computes from them. A requirement that reads only arguments ``let:`` leaves alone is checked
    before ``let:``; the others once the values they read are final."""
    lets = x.mapping(data, "let")
    rules = x.sequence(data, "require")
    early = [i for i, rule in enumerate(rules) if _reads(rule) <= set(env) - set(lets)]
    if "input_shape" in env:  # keras.applications' argument: the input follows from it
        # `let:` sees the arguments as given and may rebind them, as Keras's code does
        # (input_shape: "=obtain_input_shape(input_shape, 224, 32, ...)"); then the input
        # (input: "=input_tensor or input_shape"); from there on `input_shape` is the model's input.
        env["input_shape"] = plain_list(env["input_shape"])
        _check_requirements(x, rules, early, env)
        _let(x, lets, env)
        input_shape = x.value(data.get("input"), env, ("input",))
    else:
        input_shape = overrides.get("input_shape", data.get("input"))
        env["input_shape"] = plain_list(input_shape)
        _check_requirements(x, rules, early, env)
        _let(x, lets, env)
    env["input_shape"] = plain_list(input_shape)
    _check_requirements(x, rules, [i for i in range(len(rules)) if i not in early], env)
    return env, input_shape


def _reads(rule: Any) -> set[str]:
    """The names a requirement reads: in its condition and in its message's ``{...}`` templates."""
    if not isinstance(rule, dict):
        return set()
    that, message = rule.get("that"), rule.get("message")
    texts = [that[1:]] if isinstance(that, str) and that.startswith("=") else []
    texts += TEMPLATE.findall(message) if isinstance(message, str) else []
    out: set[str] = set()
    for text in texts:
        try:
            out |= names_in(text)
        except ExpressionError:
            out.add("\0")  # not an expression: checked last, where evaluating it words the error
    return out


def _let(x: BlockExpansion, lets: Mapping[str, Any], env: dict[str, Any]) -> None:
    """``let:``'s values in order, each seeing those before it (a mapping is data, kept as written)."""
    for key, value in lets.items():
        env[key] = x.value(value, env, ("let", key)) if not isinstance(value, dict) else value


def _check_requirements(
    x: BlockExpansion, rules: list[Any], which: list[int], env: Mapping[str, Any]
) -> None:
    """Requirements ``which`` of ``require:``: each ``that`` true, else the error is its message."""
    for i in which:
        rule = rules[i]
        path: KeyPath = ("require", i)
        form = "{that: =EXPRESSION, message: TEXT}"
        if not isinstance(rule, dict):
            raise x.error(path, f"a requirement is {form}", received={"require": rule})
        x.check_keys(rule, path, REQUIRE_KEYS, "unknown key")
        missing = [k for k in REQUIRE_KEYS if k not in rule]
        if missing:
            raise x.error(
                path, f"a requirement needs {' and '.join(missing)}: {form}", received={"require": rule}
            )
        if not isinstance(rule["message"], str):
            raise x.error((*path, "message"), "must be a text", received={"message": rule["message"]})
        if not x.condition(rule["that"], env, (*path, "that"), "that"):
            raise x.error(path, x.template(rule["message"], env, (*path, "message")))


def _check_defaults(
    x: BlockExpansion, given: dict[str, Any], env: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """``defaults:``, each entry validated where it is written, whether a layer uses it or not."""
    out = {}
    for kind, args in given.items():
        path: KeyPath = ("defaults", kind)
        if kind not in catalog.LAYERS:
            raise x.error(
                path,
                "unknown layer class" + did_you_mean(kind, catalog.LAYERS),
                received={"class": kind},
                valid=", ".join(sorted(catalog.LAYERS)),
            )
        if not isinstance(args, dict):
            raise x.error(path, "must be a mapping of arguments", received={kind: args})
        layer = catalog.LAYERS[kind]
        for key in args:
            if key in OWN_KEYS:
                raise x.error(
                    (*path, key),
                    f"defaults: cannot set {key} (each layer's own)",
                    received={key: args[key]},
                )
        valid = [k for k in layer.args if k not in OWN_KEYS]
        x.check_keys(args, path, valid, "unknown argument")
        out[kind] = {k: x.value(v, env, (*path, k)) for k, v in args.items()}
        for key, value in out[kind].items():
            layer.args[key].check(value, catalog.Ctx(x.traced(), (*path, key), layer.rank))
    return out


def _weights_file(
    x: BlockExpansion, spec_w: Any, env: Mapping[str, Any], *, wanted: bool
) -> dict[str, Any] | None:
    """``weights:``, checked always, its templates filled in only when ImageNet weights are wanted."""
    if spec_w is None:
        return None
    if not isinstance(spec_w, dict) or "file" not in spec_w:
        raise x.error(
            ("weights",),
            "weights: is {file: NAME, hash: HEX or null, origin: URL}",
            received={"weights": spec_w},
        )
    x.check_keys(spec_w, ("weights",), WEIGHTS_KEYS, "unknown key")
    if not wanted:
        return None
    # the hash is a value (null where Keras publishes none), the file and the origin are templates
    return {k: (x.value if k == "hash" else x.template)(v, env, ("weights", k)) for k, v in spec_w.items()}
