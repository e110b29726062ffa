"""Family specs: variants, parameters, blocks, repeats, conditions, expanded into plain layers.

A family file describes several models the way keras.applications' Python does
(ResNet50/101/152 differ only in how many blocks each stage repeats). Expansion
turns one variant of it, with the caller's overrides, into the plain spec that
the validator, the formula engine and the Keras builder already understand:
a flat list of ``{LayerClass: {arguments}}`` with every name and input written
out. Expansion never looks at tensor shapes.

One :class:`_Expansion` object carries the story of the evaluation while it runs:
the chain of block uses it is inside (pushed and popped as it enters and leaves a
block instance), the variant, and the work :class:`~zoo.expressions.Budget` that
every expression, template fill and expansion step charges. Every error raised
while expanding is worded by :meth:`_Expansion.error` from that state: the line of
the offending value first, then each use site with the values bound there, then
the variant. Every expanded layer remembers the same story (its
:class:`Provenance`), so errors found later (an unknown argument value, geometry
that cannot work) read the same way.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from zoo.specification import catalog
from zoo.specification.errors import KeyPath, Source, SpecError, cut, did_you_mean, format_key, reason, show
from zoo.specification.expressions import Budget, ExpressionError, evaluate, names_in
from zoo.specification.keras_rules import KerasRuleError

# Keys that make a spec a family file (everything else is a plain spec's key).
FAMILY_KEYS = ("family", "params", "variants", "let", "defaults", "blocks", "require", "weights")
USE_KEYS = ("use", "as", "repeat", "inputs", "when")
LAYER_EXTRA_KEYS = ("when", "id")  # zoo's own keys on a layer inside a family file
BLOCK_KEYS = ("description", "params", "inputs", "layers")
REQUIRE_KEYS = ("that", "message")
WEIGHTS_KEYS = ("file", "hash", "origin")
# A layer's own keys, which defaults: cannot set for every layer of a class.
OWN_KEYS = ("name", "inputs", "layers", *LAYER_EXTRA_KEYS)
# NASNetLarge, the largest keras.applications model, has about 1,040 layers.
MAX_LAYERS = 5000
# Blocks used inside blocks, at most this deep (the shipped families nest at most 3 deep).
MAX_NESTING = 16
# Work units charged for each item (a layer or a use, taken or not) the expansion visits, on
# top of what its expressions and templates charge: about what it costs next to a syntax node.
STEP_WORK = 10
# Characters in a name, or another text, that a template makes (a name is far shorter).
MAX_TEXT_CHARS = 2000


@dataclass(frozen=True)
class Use:
    """One block instance on the way to a layer: for error messages and ``--expanded``."""

    instance: str
    block: str
    bound: tuple[tuple[str, Any], ...]
    path: KeyPath  # of the use item in the file

    def text(self, source: Source) -> str:
        args = ", ".join(f"{k}={show(v)}" for k, v in self.bound)
        where = f"{source.label}:{source.line_of(self.path)}"
        return f"in {cut(self.instance) or '(unnamed)'} = {self.block}({args}), used at {where}"


@dataclass(frozen=True)
class Provenance:
    """Where an expanded layer came from: its definition's key path and the uses that led there."""

    path: KeyPath
    chain: tuple[Use, ...] = ()
    defaulted: tuple[str, ...] = ()  # arguments the layer takes from defaults: (their line is there)


def _story(
    source: Source,
    path: KeyPath,
    what: str,
    uses: tuple[Use, ...],
    variant_text: str,
    *,
    received: Mapping[str, Any] | None = None,
    valid: str | None = None,
) -> SpecError:
    """The one wording of an error in a family file: the line of ``path``, then each use
    (innermost first) with its values, then the variant."""
    lines = [u.text(source) for u in reversed(uses)] + ([variant_text] if variant_text else [])
    text = reason(what, received=received, valid=valid) + "".join(f"\n  {c}" for c in lines)
    return SpecError(text, file=source.label, line=source.line_of(path), key=format_key(path))


@dataclass(frozen=True)
class ExpandedSource(Source):
    """A family file's Source: errors about expanded layer ``i`` point into the block definitions."""

    provenance: tuple[Provenance, ...] = ()
    variant_text: str = ""

    def trace(self, path: KeyPath) -> tuple[KeyPath, tuple[Use, ...]]:
        """The file key path of an expanded spec's path, and the uses that led there."""
        index = path[1] if len(path) >= 2 and path[0] == "layers" else None
        if isinstance(index, int) and index < len(self.provenance):
            prov = self.provenance[index]
            if len(path) >= 4 and path[3] in prov.defaulted:  # the value was written in defaults:
                return ("defaults", path[2], *path[3:]), prov.chain
            return (*prov.path, *path[3:]), prov.chain
        return path, ()

    def error(
        self,
        path: KeyPath,
        what: str,
        *,
        received: Mapping[str, Any] | None = None,
        valid: str | None = None,
    ) -> SpecError:
        where, chain = self.trace(path)
        return _story(self, where, what, chain, self.variant_text, received=received, valid=valid)


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


# ---------------------------------------------------------------- expansion


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
    x = _Expansion(Source(source.label, source.lines))
    x.check_flow_style(data, ())
    variants = x.mapping(data, "variants")
    params = x.mapping(data, "params")
    variant_given: dict[str, Any] = {}
    if variants and name not in variants:
        raise x.error(
            ("variants",), f"unknown model {name!r}" + did_you_mean(name, variants), valid=", ".join(variants)
        )
    if variants:
        variant_given = variants[name] if isinstance(variants[name], dict) else {}
        if variants[name] is not None and not isinstance(variants[name], dict):
            raise x.error(
                ("variants", name),
                "a variant is a mapping of parameter overrides",
                received={name: variants[name]},
            )
        for key in variant_given:
            if key not in params:
                raise x.error(
                    ("variants", name, key),
                    "unknown parameter" + did_you_mean(key, params),
                    received={key: variant_given[key]},
                    valid=", ".join(params),
                )
    params = {**params, **variant_given}
    takes_input_shape = "input_shape" in params  # keras.applications' argument: the input follows from it
    input_shape = data.get("input") if takes_input_shape else overrides.get("input_shape", data.get("input"))
    for key, value in overrides.items():
        if key == "input_shape" and not takes_input_shape:
            continue
        if key not in params:
            valid = ", ".join(dict.fromkeys(["input_shape", *params]))
            near = did_you_mean(key, [*params, "input_shape"])
            what = reason(f"unknown override for {name!r}{near}", received={key: value}, valid=valid)
            raise SpecError(what, file=source.label)
        params[key] = value
    shown = {**variant_given, **overrides, **({"weights": weights} if weights is not None else {})}
    if variants or shown:
        what = f"variant {name}" if variants else f"model {name}"
        args = ", ".join(f"{k}={show(v)}" for k, v in shown.items())
        line = source.line_of(("variants", name)) if variants else source.line_of(())
        x.variant_text = f"in {what}" + (f" ({args})" if args else "") + f", {source.label}:{line}"
    if plain_keys:
        x.check_keys(data, (), [*plain_keys, *FAMILY_KEYS], "unknown key")
    env: dict[str, Any] = {**params, "variant": name, "weights": weights}
    lets = x.mapping(data, "let")
    rules = x.sequence(data, "require")
    # keras.applications' order: a constructor checks its own arguments first, then computes from them.
    # A requirement that reads only arguments `let:` leaves alone is checked before `let:`; the others
    # once the values they read are final.
    early = [i for i, rule in enumerate(rules) if _reads(rule) <= set(env) - set(lets)]
    if takes_input_shape:
        # `let:` sees the arguments as given and may rebind them, as Keras's code does
        # (input_shape: "=obtain_input_shape(input_shape, 224, 32, ...)"); then the input
        # (input: "=input_tensor or input_shape"); from there on `input_shape` is the model's input.
        env["input_shape"] = _plain_list(params["input_shape"])
        x.check_requirements(rules, early, env)
        x.let(lets, env)
        input_shape = x.value(input_shape, env, ("input",))
        env["input_shape"] = _plain_list(input_shape)
    else:
        env["input_shape"] = _plain_list(input_shape)
        x.check_requirements(rules, early, env)
        x.let(lets, env)
    x.genv = env
    x.check_requirements(rules, [i for i in range(len(rules)) if i not in early], env)
    x.check_blocks(x.mapping(data, "blocks"), data.get("layers"))
    x.defaults = x.check_defaults(x.mapping(data, "defaults"), env)
    layers = data.get("layers")
    if not isinstance(layers, list) or not layers:
        raise x.error(("layers",), "must be a non-empty list of layers", received={"layers": layers})
    model_input = catalog.MODEL_INPUT
    x.items(layers, ("layers",), {model_input: model_input}, model_input, env, "", top=True)
    weights_file = x.weights_file(data.get("weights"), env, wanted=weights == "imagenet")
    # the plain spec's other keys may be expressions too (data_format: =data_format)
    plain = {
        k: x.value(v, env, (k,))
        for k, v in data.items()
        if k not in FAMILY_KEYS and k not in ("layers", "input")
    }
    plain["name"] = name
    if input_shape is not None:
        plain["input"] = _plain_list(input_shape)
    plain["layers"] = x.out
    source_out = ExpandedSource(source.label, source.lines, tuple(x.prov), x.variant_text)
    return Expanded(plain, source_out, data.get("family"), params, weights_file)


def _reads(rule: Any) -> set[str]:
    """The names a requirement reads: in its condition and in its message's ``{...}`` templates."""
    if not isinstance(rule, dict):
        return set()
    that, message = rule.get("that"), rule.get("message")
    texts = [that[1:]] if isinstance(that, str) and that.startswith("=") else []
    texts += _TEMPLATE.findall(message) if isinstance(message, str) else []
    out: set[str] = set()
    for text in texts:
        try:
            out |= names_in(text)
        except ExpressionError:
            out.add("\0")  # not an expression: checked last, where evaluating it words the error
    return out


def _plain_list(value: Any) -> Any:
    return [_plain_list(v) for v in value] if isinstance(value, (list, tuple)) else value


_TEMPLATE = re.compile(r"\{([^{}]*)\}")


@dataclass
class _Expansion:
    """One expansion in progress: where it is (the use chain, the variant), what it has cost (the
    budget), what it has made (the flat layers, their provenance, Keras's name counters)."""

    source: Source
    variant_text: str = ""
    budget: Budget = field(default_factory=Budget)
    chain: tuple[Use, ...] = ()  # the block instances being expanded, outermost first
    blocks: dict[str, Any] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # each block's, as a mapping
    defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    genv: dict[str, Any] = field(default_factory=dict)
    out: list[dict[str, Any]] = field(default_factory=list)
    prov: list[Provenance] = field(default_factory=list)
    names: dict[str, int] = field(default_factory=dict)  # final name -> index in out
    auto_names: catalog.AutoNames = field(default_factory=catalog.AutoNames)

    # ---------------------------------------------------------------- the one error path

    def error(
        self, path: KeyPath, what: str, *, received: Mapping[str, Any] | None = None, valid: str | None = None
    ) -> SpecError:
        """An error at ``path`` with the whole story: each use the expansion is inside, the variant."""
        return _story(self.source, path, what, self.chain, self.variant_text, received=received, valid=valid)

    def traced(self) -> ExpandedSource:
        """A Source whose errors carry this expansion's story (for checks written against a Source)."""
        return ExpandedSource(self.source.label, self.source.lines, (), self.variant_text)

    def charge(self, units: int, path: KeyPath) -> None:
        try:
            self.budget.charge(units)
        except ExpressionError as exc:
            raise self.error(path, exc.what) from None

    def check_keys(self, given: Mapping[str, Any], path: KeyPath, valid: Collection[str], what: str) -> None:
        """Every key of ``given`` is one of ``valid``; else an error with a suggestion and the list."""
        for key in given:
            if key not in valid:
                raise self.error(
                    (*path, key),
                    what + did_you_mean(key, valid),
                    received={key: given[key]},
                    valid=", ".join(valid),
                )

    # ---------------------------------------------------------------- values

    def mapping(self, data: Mapping[str, Any], key: str) -> dict[str, Any]:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error((key,), "must be a mapping", received={key: value})
        return dict(value)

    def sequence(self, data: Mapping[str, Any], key: str) -> list[Any]:
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error((key,), "must be a list", received={key: value})
        return value

    def value(self, value: Any, env: Mapping[str, Any], path: KeyPath) -> Any:
        """A spec value with its expressions (strings starting with '=') evaluated, recursively."""
        if isinstance(value, str) and value.startswith("="):
            return _plain_list(self.evaluate(value[1:], env, path, f"expression {cut(repr(value))}"))
        self.charge(1 + (len(value) if isinstance(value, (list, dict)) else 0), path)
        if isinstance(value, list):
            return [self.value(v, env, (*path, i)) for i, v in enumerate(value)]
        if isinstance(value, dict):  # an initializer's config, a nested layer's arguments
            return {k: self.value(v, env, (*path, k)) for k, v in value.items()}
        return value

    def evaluate(self, text: str, env: Mapping[str, Any], path: KeyPath, where: str) -> Any:
        """Expression ``text``'s value; an error is at ``path`` and names ``where`` it was written."""
        try:
            return evaluate(text, env, self.budget)
        except KerasRuleError as exc:  # a keras.applications rule the arguments break: Keras's words
            raise self.error(path, exc.message) from None
        except ExpressionError as exc:
            near = did_you_mean(exc.name, [n for n in env if not n.startswith("_")]) if exc.name else ""
            valid = "names: " + ", ".join(sorted(env)) if exc.name else None
            raise self.error(path, f"{exc.what}{near} in {where}", valid=valid) from None

    def template(self, text: Any, env: Mapping[str, Any], path: KeyPath) -> str:
        """A name template: ``"conv{i}_block"`` with each ``{expression}`` filled in."""
        if isinstance(text, str) and text.startswith("="):
            text = self.value(text, env, path)
        if not isinstance(text, str):
            key = next((str(k) for k in reversed(path) if isinstance(k, str)), "name")
            raise self.error(path, "must be a name (a string)", received={key: text})
        if "{" not in text:
            return text
        made = len(text)

        def fill(m: re.Match[str]) -> str:
            nonlocal made
            piece = str(self.evaluate(m[1], env, path, f"template {cut(repr(text))}"))
            made += len(piece)
            self.charge(len(piece), path)
            if made > MAX_TEXT_CHARS:
                raise self.error(
                    path,
                    f"the template makes a text of more than {MAX_TEXT_CHARS:,} characters",
                    received={str(path[-1]): text},
                )
            return piece

        return _TEMPLATE.sub(fill, text)

    def relative(self, name: str, prefix: str, path: KeyPath) -> str:
        """``._1_conv`` in instance ``conv2_block1`` is ``conv2_block1_1_conv``."""
        if not name.startswith("."):
            return name
        if len(prefix) + len(name) > MAX_TEXT_CHARS:
            raise self.error(
                path,
                f"the name is longer than {MAX_TEXT_CHARS:,} characters",
                received={"name": prefix + name[1:]},
            )
        return prefix + name[1:]

    def check_flow_style(self, value: Any, path: KeyPath) -> None:
        """Find expressions and templates that YAML's flow style cut at a comma (``{x: =max(1, f)}``)."""
        if isinstance(value, dict):
            for k, v in value.items():
                self.check_flow_style(v, (*path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.check_flow_style(v, (*path, i))
        elif isinstance(value, str) and (value.startswith("=") or "{" in value or "}" in value):
            depth = 0
            for ch in value:
                depth += ch in "([{"
                depth -= ch in ")]}"
                if depth < 0:
                    break
            if depth:
                key = str(path[-1])
                raise self.error(
                    path,
                    "unbalanced brackets: in YAML's flow style ({...}) a value containing ',', '[', ']', "
                    f"'{{' or '}}' must be quoted, or YAML cuts it at the comma. Write {key}: \"{value}...\"",
                    received={key: value},
                )

    # ---------------------------------------------------------------- the file's sections

    def let(self, lets: Mapping[str, Any], env: dict[str, Any]) -> None:
        """``let:``'s values in order, each seeing those before it (a mapping is data, kept as written)."""
        for key, value in lets.items():
            env[key] = self.value(value, env, ("let", key)) if not isinstance(value, dict) else value

    def check_requirements(self, rules: list[Any], which: list[int], env: Mapping[str, Any]) -> None:
        """Requirements ``which`` of ``require:``: each ``that`` true, else the error is its message."""
        for i in which:
            rule = rules[i]
            path: KeyPath = ("require", i)
            form = "{that: =EXPRESSION, message: TEXT}"
            if not isinstance(rule, dict):
                raise self.error(path, f"a requirement is {form}", received={"require": rule})
            self.check_keys(rule, path, REQUIRE_KEYS, "unknown key")
            missing = [k for k in REQUIRE_KEYS if k not in rule]
            if missing:
                raise self.error(
                    path, f"a requirement needs {' and '.join(missing)}: {form}", received={"require": rule}
                )
            if not isinstance(rule["message"], str):
                raise self.error((*path, "message"), "must be a text", received={"message": rule["message"]})
            if not self.condition(rule["that"], env, (*path, "that"), "that"):
                raise self.error(path, self.template(rule["message"], env, (*path, "message")))

    def condition(self, value: Any, env: Mapping[str, Any], path: KeyPath, key: str) -> bool:
        """``when:`` or ``that:``: true, false, or an expression that gives one of them."""
        if isinstance(value, str) and not value.startswith("="):
            raise self.error(
                path,
                f"takes an expression (starting with '=') or true/false; write {key}: \"={value}\"",
                received={key: value},
            )
        result = self.value(value, env, path)
        if not isinstance(result, bool):
            raise self.error(path, "must be true or false", received={key: result})
        return result

    def check_defaults(self, given: dict[str, Any], env: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """``defaults:``, each entry validated where it is written, whether a layer uses it or not."""
        out = {}
        for kind, args in given.items():
            path: KeyPath = ("defaults", kind)
            if kind not in catalog.LAYERS:
                raise self.error(
                    path,
                    "unknown layer class" + did_you_mean(kind, catalog.LAYERS),
                    received={"class": kind},
                    valid=", ".join(sorted(catalog.LAYERS)),
                )
            if not isinstance(args, dict):
                raise self.error(path, "must be a mapping of arguments", received={kind: args})
            layer = catalog.LAYERS[kind]
            for key in args:
                if key in OWN_KEYS:
                    raise self.error(
                        (*path, key),
                        f"defaults: cannot set {key} (each layer's own)",
                        received={key: args[key]},
                    )
            valid = [k for k in layer.args if k not in OWN_KEYS]
            self.check_keys(args, path, valid, "unknown argument")
            out[kind] = {k: self.value(v, env, (*path, k)) for k, v in args.items()}
            for key, value in out[kind].items():
                layer.args[key].check(value, catalog.Ctx(self.traced(), (*path, key), layer.rank))
        return out

    def weights_file(self, spec_w: Any, env: Mapping[str, Any], *, wanted: bool) -> dict[str, Any] | None:
        """``weights:``, checked always, its templates filled in only when ImageNet weights are wanted."""
        if spec_w is None:
            return None
        if not isinstance(spec_w, dict) or "file" not in spec_w:
            raise self.error(
                ("weights",),
                "weights: is {file: NAME, hash: HEX or null, origin: URL}",
                received={"weights": spec_w},
            )
        self.check_keys(spec_w, ("weights",), WEIGHTS_KEYS, "unknown key")
        if not wanted:
            return None
        # the hash is a value (null where Keras publishes none), the file and the origin are templates
        return {
            k: (self.value if k == "hash" else self.template)(v, env, ("weights", k))
            for k, v in spec_w.items()
        }

    def uses_in(self, items: Any, path: KeyPath) -> list[tuple[KeyPath, str]]:
        out = []
        for j, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, dict) and "use" in item:
                if not isinstance(item["use"], str):
                    raise self.error(
                        (*path, j, "use"), "must be a block's name", received={"use": item["use"]}
                    )
                out.append(((*path, j), item["use"]))
        return out

    def check_blocks(self, blocks: dict[str, Any], top_layers: Any) -> None:
        """Block definitions well-formed, every use names a block, no block uses itself, blocks
        nested at most MAX_NESTING deep, none unused."""
        for name, block in blocks.items():
            path: KeyPath = ("blocks", name)
            if not isinstance(block, dict):
                raise self.error(path, "a block is {params: ..., layers: [...]}", received={name: block})
            self.check_keys(block, path, BLOCK_KEYS, "unknown key")
            if not isinstance(block.get("layers"), list) or not block["layers"]:
                raise self.error(
                    (*path, "layers"),
                    "a block needs layers: a non-empty list",
                    received={"layers": block.get("layers")},
                )
            declared = block.get("params") or []
            names = list(declared) if isinstance(declared, (list, dict)) else None
            if names is None or not all(isinstance(p, str) for p in names):
                raise self.error(
                    (*path, "params"),
                    "must be a list of names or a mapping of names to defaults (~ for required)",
                    received={"params": declared},
                )
            for k, p in enumerate(names):
                if p in USE_KEYS or names.index(p) != k:
                    why = f"{p!r} is a use's own key" if p in USE_KEYS else f"{p!r} is named twice"
                    raise self.error(
                        (*path, "params"), f"invalid parameter name: {why}", received={"params": declared}
                    )
            self.params[name] = dict(declared) if isinstance(declared, dict) else dict.fromkeys(declared)
            inputs = block.get("inputs")
            if inputs is not None:
                if not isinstance(inputs, list) or not inputs or not all(isinstance(n, str) for n in inputs):
                    raise self.error(
                        (*path, "inputs"), "must be a list of input names", received={"inputs": inputs}
                    )
                for k, n in enumerate(inputs):
                    if inputs.index(n) != k:
                        raise self.error(
                            (*path, "inputs", k),
                            f"input {n!r} is named twice; each input of a block needs its own name",
                            received={"inputs": inputs},
                        )
        self.blocks = blocks
        graph = {name: self.uses_in(b["layers"], ("blocks", name, "layers")) for name, b in blocks.items()}
        top = self.uses_in(top_layers, ("layers",))
        for path, used in [*top, *(u for us in graph.values() for u in us)]:
            if used not in blocks:
                raise self.error(
                    (*path, "use"),
                    "unknown block" + did_you_mean(used, blocks),
                    received={"use": used},
                    valid=", ".join(blocks) or "(no blocks: defined)",
                )
        self.check_nesting(graph)
        reached: set[str] = set()
        todo = [used for _, used in top]
        while todo:
            name = todo.pop()
            if name not in reached:
                reached.add(name)
                todo += [used for _, used in graph[name]]
        for name in blocks:
            if name not in reached:
                raise self.error(("blocks", name), f"block {name!r} is never used; remove it or use it")

    def check_nesting(self, graph: dict[str, list[tuple[KeyPath, str]]]) -> None:
        """No block uses itself, directly or through others; uses nest at most MAX_NESTING deep.
        A depth-first search with its own stack, so a long chain of blocks cannot exhaust Python's."""
        state: dict[str, int] = {}  # 1: on the current trail, 2: done
        depth: dict[str, int] = {}  # the most blocks nested from this one down, itself included
        for root in graph:
            if root in state:
                continue
            state[root] = 1
            trail, stack = [root], [iter(graph[root])]
            while stack:
                for path, used in stack[-1]:
                    if state.get(used) == 1:
                        loop = " -> ".join([*trail[trail.index(used) :], used])
                        raise self.error(
                            (*path, "use"), f"block {used!r} uses itself ({loop}); blocks may not recurse"
                        )
                    if used not in state:
                        state[used] = 1
                        trail.append(used)
                        stack.append(iter(graph[used]))
                        break
                else:
                    stack.pop()
                    name = trail.pop()
                    state[name] = 2
                    inner = max(graph[name], key=lambda u: depth[u[1]], default=None)
                    depth[name] = 1 + (depth[inner[1]] if inner is not None else 0)
                    if depth[name] > MAX_NESTING:
                        chain, at = [name], name
                        while graph[at]:
                            at = max(graph[at], key=lambda u: depth[u[1]])[1]
                            chain.append(at)
                        raise self.error(
                            (*inner[0], "use") if inner is not None else ("blocks", name),
                            f"blocks nest more than {MAX_NESTING} deep ({' -> '.join(chain)})",
                        )

    # ---------------------------------------------------------------- items, layers, uses

    def items(
        self,
        items: list[Any],
        path: KeyPath,
        scope: dict[str, str],
        prev: str,
        env: dict[str, Any],
        prefix: str,
        *,
        top: bool = False,
    ) -> str:
        """Expand a list of items (layers and uses); the name of the last one's output."""
        for j, item in enumerate(items):
            self.charge(STEP_WORK + (len(item) if isinstance(item, dict) else 0), (*path, j))
            if isinstance(item, dict) and "use" in item:
                prev = self.use(item, (*path, j), scope, prev, env, prefix, top)
            else:
                prev = self.layer(item, (*path, j), scope, prev, env, prefix, top)
        return prev

    def resolve(
        self, ref: Any, path: KeyPath, scope: dict[str, str], env: dict[str, Any], prefix: str, top: bool
    ) -> str:
        name = self.relative(self.template(ref, env, path), prefix, path)
        if name in scope:
            return scope[name]
        if top and name in self.names:
            return name
        known = [*scope, *(self.names if top else ())]
        where = "" if top else " (a block sees only its own layers and its inputs)"
        raise self.error(
            path, f"unknown layer {name!r}{did_you_mean(name, known)}{where}", received={"inputs": ref}
        )

    def refs(
        self,
        item: dict[str, Any],
        path: KeyPath,
        scope: dict[str, str],
        env: dict[str, Any],
        prefix: str,
        top: bool,
    ) -> list[str]:
        refs = item["inputs"]
        if not isinstance(refs, list) or not refs:
            raise self.error((*path, "inputs"), "must be a list of layer names", received={"inputs": refs})
        return [self.resolve(r, (*path, "inputs", k), scope, env, prefix, top) for k, r in enumerate(refs)]

    def layer(
        self,
        item: Any,
        path: KeyPath,
        scope: dict[str, str],
        prev: str,
        env: dict[str, Any],
        prefix: str,
        top: bool,
    ) -> str:
        if not isinstance(item, dict) or len(item) != 1:
            raise self.error(
                path,
                "an item is a layer {LayerClass: {arguments}} or a block use {use: BLOCK, ...}",
                received={"item": item},
            )
        [(kind, args)] = item.items()
        path = (*path, kind)
        if kind not in catalog.LAYERS:
            raise self.error(
                path,
                "unknown layer class" + did_you_mean(kind, catalog.LAYERS),
                received={"layer": kind},
                valid=", ".join(sorted(catalog.LAYERS)),
            )
        args = {} if args is None else args
        if not isinstance(args, dict):
            raise self.error(path, f"{kind}'s value must be a mapping of arguments", received={"value": args})
        self.charge(len(args), path)
        self.check_keys(args, path, [*catalog.LAYERS[kind].args, *LAYER_EXTRA_KEYS], "unknown argument")
        if "id" in args and not isinstance(args["id"], str):
            raise self.error((*path, "id"), "must be a name (a string)", received={"id": args["id"]})
        name = None
        raw = args.get("name")
        if isinstance(raw, str) and raw.startswith("="):  # an expression may leave the layer unnamed
            raw = self.value(raw, env, (*path, "name"))
        if raw is not None:
            name = self.relative(self.template(raw, env, (*path, "name")), prefix, (*path, "name"))
        if "when" in args and not self.condition(args["when"], env, (*path, "when"), "when"):
            for handle in (name, args.get("id")):  # as if the line were deleted
                if isinstance(handle, str):
                    scope[handle] = prev
            return prev
        inputs = self.refs(args, path, scope, env, prefix, top) if "inputs" in args else [prev]
        if name is None:
            name = self.auto_names.next(kind)
        if name in self.names:
            first = self.prov[self.names[name]]
            raise self.error(
                (*path, "name"),
                f"layer name {name!r} is already used (first defined at "
                f"{self.source.label}:{self.source.line_of(first.path)}); names must be unique "
                "after expansion",
                received={"name": name},
            )
        given = {
            k: self.value(v, env, (*path, k))
            for k, v in args.items()
            if k not in ("name", "inputs", "layers", *LAYER_EXTRA_KEYS)
        }
        if "layers" in args:  # a nested Sequential: its layers' names are templates too
            given["layers"] = self.nested(args["layers"], (*path, "layers"), env, prefix)
        defaults = self.defaults.get(kind, {})
        self.charge(len(defaults) + len(given), path)
        layer_args = {**defaults, **given, "name": name, "inputs": inputs}
        if len(self.out) >= MAX_LAYERS:
            raise self.error(path, f"the model expands to more than {MAX_LAYERS:,} layers")
        self.names[name] = len(self.out)
        self.out.append({kind: layer_args})
        self.prov.append(Provenance(path, self.chain, tuple(k for k in defaults if k not in given)))
        scope[name] = name
        if "id" in args:
            scope[args["id"]] = name
        return name

    def nested(self, items: Any, path: KeyPath, env: dict[str, Any], prefix: str) -> Any:
        """A nested Sequential's layers, with expressions, names and per-class defaults applied."""
        if not isinstance(items, list):
            return items  # the validator words the error
        out = []
        for j, item in enumerate(items):
            self.charge(STEP_WORK, (*path, j))
            if not (isinstance(item, dict) and len(item) == 1 and isinstance([*item.values()][0], dict)):
                out.append(item)
                continue
            [(kind, args)] = item.items()
            where = (*path, j, kind)
            inner = {k: self.value(v, env, (*where, k)) for k, v in args.items() if k != "name"}
            if "name" in args:
                inner["name"] = self.relative(
                    self.template(args["name"], env, (*where, "name")), prefix, (*where, "name")
                )
            out.append({kind: {**self.defaults.get(kind, {}), **inner}})
        return out

    def use(
        self,
        item: dict[str, Any],
        path: KeyPath,
        scope: dict[str, str],
        prev: str,
        env: dict[str, Any],
        prefix: str,
        top: bool,
    ) -> str:
        block_name = item["use"]
        block, declared = self.blocks[block_name], self.params[block_name]
        self.check_keys(
            {k: v for k, v in item.items() if k not in USE_KEYS},
            path,
            [*declared, *USE_KEYS],
            f"unknown parameter of block {block_name!r}",
        )
        missing = [p for p, d in declared.items() if d is None and p not in item]
        if missing:
            raise self.error(path, f"block {block_name!r} needs {', '.join(missing)}")
        block_inputs = block.get("inputs") or [catalog.MODEL_INPUT]
        as_name = item.get("as")
        if "when" in item and not self.condition(item["when"], env, (*path, "when"), "when"):
            if as_name is not None:
                handle = self.template(as_name, {**env, "i": 1}, (*path, "as"))
                scope[self.relative(handle, prefix, (*path, "as"))] = prev
            return prev
        repeat = self.value(item.get("repeat", 1), env, (*path, "repeat"))
        if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
            raise self.error(
                (*path, "repeat"), "repeat must be a positive integer", received={"repeat": repeat}
            )
        for i in range(1, repeat + 1):
            self.charge(STEP_WORK + len(env) + len(self.genv), path)  # the two environments below
            ienv = {**env, "i": i}
            bound = {}
            for p, d in declared.items():  # a default is evaluated where it is written, with the file's names
                bound[p] = (
                    self.value(item[p], ienv, (*path, p))
                    if p in item
                    else self.value(d, self.genv, ("blocks", block_name, "params", p))
                )
            instance = prefix
            if as_name is not None:
                instance = self.relative(self.template(as_name, ienv, (*path, "as")), prefix, (*path, "as"))
            given = self.refs(item, path, scope, ienv, prefix, top) if "inputs" in item and i == 1 else [prev]
            if len(given) != len(block_inputs):
                takes = f"block {block_name!r} takes {len(block_inputs)} input(s): {', '.join(block_inputs)}"
                raise self.error((*path, "inputs"), takes, received={"inputs": given})
            shown = tuple((*bound.items(), *((("i", i),) if repeat > 1 else ())))
            outer = self.chain
            self.chain = (*outer, Use(instance, block_name, shown, path))
            try:
                scope_in, benv = dict(zip(block_inputs, given)), {**self.genv, **bound}
                where = ("blocks", block_name, "layers")
                prev = self.items(block["layers"], where, scope_in, given[0], benv, instance)
            finally:
                self.chain = outer
            if as_name is not None:
                scope[instance] = prev
        return prev
