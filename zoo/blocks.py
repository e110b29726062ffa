"""Family specs: variants, parameters, blocks, repeats, conditions, expanded into plain layers.

A family file describes several models the way keras.applications' Python does
(ResNet50/101/152 differ only in how many blocks each stage repeats). Expansion
turns one variant of it, with the caller's overrides, into the plain spec that
the validator, the formula engine and the Keras builder already understand:
a flat list of ``{LayerClass: {arguments}}`` with every name and input written
out. Expansion never looks at tensor shapes.

Every expanded layer remembers where it was defined and the chain of block uses
that produced it, so any later error (an unknown argument, geometry that cannot
work) names the line in the block definition first, then each use site with the
values bound there, then the variant.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zoo import catalog
from zoo.errors import KeyPath, Source, SpecError, did_you_mean, format_key, reason, show
from zoo.expressions import ExpressionError, evaluate, names_in
from zoo.keras_rules import KerasRuleError

# Keys that make a spec a family file (everything else is a plain spec's key).
FAMILY_KEYS = ("family", "params", "variants", "let", "defaults", "blocks", "require", "weights")
USE_KEYS = ("use", "as", "repeat", "inputs", "when")
LAYER_EXTRA_KEYS = ("when", "id")  # zoo's own keys on a layer inside a family file
BLOCK_KEYS = ("description", "params", "inputs", "layers")
WEIGHTS_KEYS = ("file", "hash", "origin")
# NASNetLarge, the largest keras.applications model, has about 1,040 layers.
MAX_LAYERS = 5000
MAX_STEPS = 50_000  # layers and uses visited, taken or not: bounds the work a spec can ask for


@dataclass(frozen=True)
class Use:
    """One block instance on the way to a layer: for error messages and ``--expanded``."""

    instance: str
    block: str
    bound: tuple[tuple[str, Any], ...]
    path: KeyPath  # of the use item in the file

    def text(self, source: Source) -> str:
        args = ", ".join(f"{k}={show(v)}" for k, v in self.bound)
        return f"in {self.instance or '(unnamed)'} = {self.block}({args}), used at {source.label}:{source.line_of(self.path)}"


@dataclass(frozen=True)
class Provenance:
    """Where an expanded layer came from: its definition's key path and the uses that led there."""

    path: KeyPath
    chain: tuple[Use, ...] = ()


@dataclass(frozen=True)
class ExpandedSource(Source):
    """A family file's Source: errors about expanded layer ``i`` point into the block definitions."""

    provenance: tuple[Provenance, ...] = ()
    variant_text: str = ""

    def trace(self, path: KeyPath) -> tuple[KeyPath, list[str]]:
        """The file key path of an expanded spec's path, and the lines of its use chain."""
        tail = [self.variant_text] if self.variant_text else []
        if len(path) >= 2 and path[0] == "layers" and isinstance(path[1], int) and path[1] < len(self.provenance):
            prov = self.provenance[path[1]]
            uses = [u.text(self) for u in reversed(prov.chain)]
            return (*prov.path, *path[3:]), uses + tail
        return path, tail

    def error(
        self,
        path: KeyPath,
        what: str,
        *,
        received: Mapping[str, Any] | None = None,
        valid: str | None = None,
    ) -> SpecError:
        where, chain = self.trace(path)
        text = reason(what, received=received, valid=valid) + "".join(f"\n  {c}" for c in chain)
        return SpecError(text, file=self.label, line=self.line_of(where), key=format_key(where))


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
            raise source.error(("variants",), "must be a mapping of model names to parameter overrides",
                               received={"variants": variants})  # fmt: skip
        if data.get("family") != stem:
            raise source.error(("family",), "a family file's family: must match its file name",
                               received={"family": data.get("family")}, valid=repr(stem))  # fmt: skip
        for name in variants:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", str(name)):
                raise source.error(("variants", name), "invalid model name", received={"variant": name},
                                   valid="lower-case letters, digits and '_', starting with a letter")  # fmt: skip
        return list(variants)
    return [stem]


# ---------------------------------------------------------------- YAML's flow-style trap


def check_flow_style(value: Any, path: KeyPath, source: Source) -> None:
    """Find expressions and templates that YAML's flow style cut at a comma (``{x: =max(1, f)}``)."""
    if isinstance(value, dict):
        for k, v in value.items():
            check_flow_style(v, (*path, k), source)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check_flow_style(v, (*path, i), source)
    elif isinstance(value, str) and (value.startswith("=") or "{" in value or "}" in value):
        depth = 0
        for ch in value:
            depth += ch in "([{"
            depth -= ch in ")]}"
            if depth < 0:
                break
        if depth:
            key = str(path[-1])
            raise source.error(
                path,
                "unbalanced brackets: in YAML's flow style ({...}) a value containing ',', '[', ']', "
                f"'{{' or '}}' must be quoted, or YAML cuts it at the comma. Write {key}: \"{value}...\"",
                received={key: value},
            )


# ---------------------------------------------------------------- expansion


def expand(
    data: dict[str, Any], source: Source, name: str, overrides: Mapping[str, Any], *, weights: Any = None
) -> Expanded:
    """The plain spec data of model ``name`` (a variant, or the file's one model) with ``overrides``.

    ``weights`` (None, "imagenet" or a path) is visible to expressions as ``weights``, so a
    family can state keras.applications' rules (ImageNet weights with the top need 224x224).
    """
    check_flow_style(data, (), source)
    variants = _mapping(data, "variants", source)
    params = _mapping(data, "params", source)
    variant_given: dict[str, Any] = {}
    if variants and name not in variants:
        raise source.error(("variants",), f"unknown model {name!r}" + did_you_mean(name, variants),
                           valid=", ".join(variants))  # fmt: skip
    if variants:
        variant_given = variants[name] if isinstance(variants[name], dict) else {}
        if variants[name] is not None and not isinstance(variants[name], dict):
            raise source.error(("variants", name), "a variant is a mapping of parameter overrides",
                               received={name: variants[name]})  # fmt: skip
        for key in variant_given:
            if key not in params:
                raise source.error(("variants", name, key), "unknown parameter" + did_you_mean(key, params),
                                   received={key: variant_given[key]}, valid=", ".join(params))  # fmt: skip
    params = {**params, **variant_given}
    takes_input_shape = "input_shape" in params  # keras.applications' argument: the input follows from it
    input_shape = data.get("input") if takes_input_shape else overrides.get("input_shape", data.get("input"))
    for key, value in overrides.items():
        if key == "input_shape" and not takes_input_shape:
            continue
        if key not in params:
            valid = ", ".join(dict.fromkeys(["input_shape", *params]))
            raise SpecError(reason(f"unknown override for {name!r}" + did_you_mean(key, [*params, "input_shape"]),
                                   received={key: value}, valid=valid), file=source.label)  # fmt: skip
        params[key] = value
    shown = {**variant_given, **overrides, **({"weights": weights} if weights is not None else {})}
    variant_text = ""
    if variants or shown:
        what = f"variant {name}" if variants else f"model {name}"
        args = ", ".join(f"{k}={show(v)}" for k, v in shown.items())
        line = source.line_of(("variants", name)) if variants else source.line_of(())
        variant_text = f"in {what}" + (f" ({args})" if args else "") + f", {source.label}:{line}"
    base = Source(source.label, source.lines)
    traced = ExpandedSource(source.label, source.lines, (), variant_text)
    env: dict[str, Any] = {**params, "variant": name, "weights": weights}
    lets = _mapping(data, "let", source)
    rules = _list(data, "require", source)
    # keras.applications' order: a constructor checks its own arguments first, then computes from them.
    # A requirement that reads only arguments `let:` leaves alone is checked before `let:`; the others
    # once the values they read are final.
    early = [i for i, rule in enumerate(rules) if _reads(rule) <= set(env) - set(lets)]
    if takes_input_shape:
        # `let:` sees the arguments as given and may rebind them, as Keras's code does
        # (input_shape: "=obtain_input_shape(input_shape, 224, 32, ...)"); then the input
        # (input: "=input_tensor or input_shape"); from there on `input_shape` is the model's input.
        env["input_shape"] = _plain_list(params["input_shape"])
        _require(rules, early, env, traced, variant_text)
        _let(lets, env, traced)
        input_shape = _value(input_shape, env, ("input",), traced)
        env["input_shape"] = _plain_list(input_shape)
    else:
        env["input_shape"] = _plain_list(input_shape)
        _require(rules, early, env, traced, variant_text)
        _let(lets, env, traced)
    _require(rules, [i for i in range(len(rules)) if i not in early], env, traced, variant_text)
    blocks = _mapping(data, "blocks", source)
    _check_blocks(blocks, data.get("layers"), base)
    defaults = {}
    for kind, args in _mapping(data, "defaults", source).items():
        if kind not in catalog.LAYERS:
            raise base.error(("defaults", kind), "unknown layer class" + did_you_mean(kind, catalog.LAYERS),
                             received={"class": kind})  # fmt: skip
        if not isinstance(args, dict):
            raise base.error(("defaults", kind), "must be a mapping of arguments", received={kind: args})
        defaults[kind] = {k: _value(v, env, ("defaults", kind, k), traced) for k, v in args.items()}
    layers = data.get("layers")
    if not isinstance(layers, list) or not layers:
        raise base.error(("layers",), "must be a non-empty list of layers", received={"layers": layers})
    run = _Run(base, blocks, defaults, env)
    run.items(layers, ("layers",), {catalog.MODEL_INPUT: catalog.MODEL_INPUT}, catalog.MODEL_INPUT, env, (), "",
              top=True)  # fmt: skip
    weights_file = None
    if data.get("weights") is not None and weights == "imagenet":  # a variant with overrides may have none
        spec_w = data["weights"]
        if not isinstance(spec_w, dict) or set(spec_w) - set(WEIGHTS_KEYS) or "file" not in spec_w:
            raise traced.error(("weights",), "weights: is {file: NAME, hash: HEX or null, origin: URL}",
                               received={"weights": spec_w})  # fmt: skip
        weights_file = {k: _template(v, env, ("weights", k), traced) if k != "hash"
                        else _value(v, env, ("weights", k), traced) for k, v in spec_w.items()}  # fmt: skip
    # the plain spec's other keys may be expressions too (data_format: =data_format)
    plain = {k: _value(v, env, (k,), traced) for k, v in data.items()
             if k not in FAMILY_KEYS and k not in ("layers", "input")}  # fmt: skip
    plain["name"] = name
    if input_shape is not None:
        plain["input"] = _plain_list(input_shape)
    plain["layers"] = run.out
    source_out = ExpandedSource(source.label, source.lines, tuple(run.prov), variant_text)
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
        except SyntaxError:
            out.add("\0")  # not an expression: checked last, where evaluating it words the error
    return out


def _require(rules: list[Any], which: list[int], env: Mapping[str, Any], source: ExpandedSource,
             variant_text: str) -> None:  # fmt: skip
    """Check requirements ``which`` of ``rules``: each false one is its message, Keras's words."""
    for i in which:
        rule = rules[i]
        path: KeyPath = ("require", i)
        if not isinstance(rule, dict) or set(rule) != {"that", "message"}:
            raise source.error(path, "a requirement is {that: =EXPRESSION, message: TEXT}", received={"require": rule})
        if not _value(rule["that"], env, (*path, "that"), source):
            raise SpecError(reason(_template(str(rule["message"]), env, (*path, "message"), source))
                            + (f"\n  {variant_text}" if variant_text else ""),
                            file=source.label, line=source.line_of(path), key=format_key(path))  # fmt: skip


def _let(lets: Mapping[str, Any], env: dict[str, Any], source: Source) -> None:
    """``let:``'s values in order, each seeing those before it (a mapping is data, kept as written)."""
    for key, value in lets.items():
        env[key] = _value(value, env, ("let", key), source) if not isinstance(value, dict) else value


def _plain_list(value: Any) -> Any:
    return [_plain_list(v) for v in value] if isinstance(value, (list, tuple)) else value


def _mapping(data: dict[str, Any], key: str, source: Source) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise source.error((key,), "must be a mapping", received={key: value})
    return dict(value)


def _list(data: dict[str, Any], key: str, source: Source) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise source.error((key,), "must be a list", received={key: value})
    return value


def _value(value: Any, env: Mapping[str, Any], path: KeyPath, source: Source) -> Any:
    """A spec value with its expressions (strings starting with '=') evaluated, recursively."""
    if isinstance(value, str) and value.startswith("="):
        try:
            return _plain_list(evaluate(value[1:], env))
        except KerasRuleError as exc:  # a keras.applications rule the arguments break: Keras's words
            raise source.error(path, exc.message) from None
        except ExpressionError as exc:
            near = did_you_mean(exc.name, [n for n in env if not n.startswith("_")]) if exc.name else ""
            raise source.error(path, f"{exc.what}{near} in expression {value!r}",
                               valid=None if not exc.name else "names: " + ", ".join(sorted(env))) from None  # fmt: skip
    if isinstance(value, list):
        return [_value(v, env, (*path, i), source) for i, v in enumerate(value)]
    if isinstance(value, dict):  # an initializer's config, a nested layer's arguments
        return {k: _value(v, env, (*path, k), source) for k, v in value.items()}
    return value


_TEMPLATE = re.compile(r"\{([^{}]*)\}")


def _template(text: Any, env: Mapping[str, Any], path: KeyPath, source: Source) -> str:
    """A name template: ``"conv{i}_block"`` with each ``{expression}`` filled in."""
    if isinstance(text, str) and text.startswith("="):
        text = _value(text, env, path, source)
    if not isinstance(text, str):
        raise source.error(path, "must be a name (a string)", received={str(path[-1]): text})

    def fill(m: re.Match[str]) -> str:
        try:
            return str(evaluate(m[1], env))
        except ExpressionError as exc:
            near = did_you_mean(exc.name, list(env)) if exc.name else ""
            raise source.error(path, f"{exc.what}{near} in template {text!r}") from None

    return _TEMPLATE.sub(fill, text)


def _uses(items: Any, path: KeyPath, source: Source) -> list[tuple[int, str]]:
    out = []
    for j, item in enumerate(items or []):
        if isinstance(item, dict) and "use" in item:
            if not isinstance(item["use"], str):
                raise source.error((*path, j, "use"), "must be a block's name", received={"use": item["use"]})
            out.append((j, item["use"]))
    return out


def _check_blocks(blocks: dict[str, Any], top_layers: Any, source: Source) -> None:
    """Block definitions well-formed, every use names a block, no block uses itself, none unused."""
    for name, block in blocks.items():
        path: KeyPath = ("blocks", name)
        block_inputs = block.get("inputs") if isinstance(block, dict) else None
        if block_inputs is not None and (not isinstance(block_inputs, list) or not block_inputs
                                         or not all(isinstance(x, str) for x in block_inputs)):  # fmt: skip
            raise source.error((*path, "inputs"), "must be a list of input names", received={"inputs": block_inputs})
        if not isinstance(block, dict) or "layers" not in block:
            raise source.error(path, "a block is {params: ..., layers: [...]}", received={name: block})
        for key in block:
            if key not in BLOCK_KEYS:
                raise source.error((*path, key), "unknown key" + did_you_mean(key, BLOCK_KEYS),
                                   received={key: block[key]}, valid=", ".join(BLOCK_KEYS))  # fmt: skip
        if not isinstance(block["layers"], list) or not block["layers"]:
            raise source.error((*path, "layers"), "must be a non-empty list", received={"layers": block["layers"]})
    graph: dict[str, list[tuple[KeyPath, str]]] = {}
    for name, block in blocks.items():
        declared = block.get("params") or []
        names = declared if isinstance(declared, list) else list(declared) if isinstance(declared, dict) else None
        if names is None or not all(isinstance(p, str) for p in names):
            raise source.error((*path, "params"), "must be a list of names or a mapping "
                               "of names to defaults (~ for required)", received={"params": declared})  # fmt: skip
        graph[name] = [(("blocks", name, "layers", j), used)
                       for j, used in _uses(block["layers"], ("blocks", name, "layers"), source)]  # fmt: skip
    top = [(("layers", j), used) for j, used in _uses(top_layers if isinstance(top_layers, list) else [],
                                                       ("layers",), source)]  # fmt: skip
    for path, used in [*top, *(u for us in graph.values() for u in us)]:
        if used not in blocks:
            raise source.error((*path, "use"), "unknown block" + did_you_mean(used, blocks),
                               received={"use": used}, valid=", ".join(blocks) or "(no blocks: defined)")  # fmt: skip
    # cycles: depth-first search, reporting the path of names
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for path, used in graph[name]:
            if state.get(used) == 1:
                loop = " -> ".join([*trail[trail.index(used):], used]) if used in trail else f"{name} -> {used}"
                raise source.error((*path, "use"), f"block {used!r} uses itself ({loop}); blocks may not recurse")
            if used not in state:
                visit(used, [*trail, used])
        state[name] = 2

    for name in blocks:
        if name not in state:
            visit(name, [name])
    reached: set[str] = set()
    todo = [used for _, used in top]
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo += [used for _, used in graph[name]]
    for name in blocks:
        if name not in reached:
            raise source.error(("blocks", name), f"block {name!r} is never used; remove it or use it")


@dataclass
class _Run:
    """The state of one expansion: the flat layers so far, their provenance, Keras's name counters."""

    source: Source
    blocks: dict[str, Any]
    defaults: dict[str, dict[str, Any]]
    genv: dict[str, Any]
    out: list[dict[str, Any]] = field(default_factory=list)
    prov: list[Provenance] = field(default_factory=list)
    names: dict[str, int] = field(default_factory=dict)  # final name -> index in out
    counters: dict[str, int] = field(default_factory=dict)
    steps: int = 0

    def error(self, path: KeyPath, chain: tuple[Use, ...], what: str, **received: Any) -> SpecError:
        traced = ExpandedSource(self.source.label, self.source.lines,
                                (Provenance(path, chain),), "")  # fmt: skip
        return traced.error(("layers", 0, "_"), what, received=received or None)

    def items(self, items: list[Any], path: KeyPath, scope: dict[str, str], prev: str,
              env: dict[str, Any], chain: tuple[Use, ...], prefix: str, *, top: bool = False) -> str:  # fmt: skip
        """Expand a list of items (layers and uses); the name of the last one's output."""
        for j, item in enumerate(items):
            self.steps += 1
            if self.steps > MAX_STEPS:
                raise self.error((*path, j), chain, f"the expansion takes more than {MAX_STEPS:,} steps")
            if isinstance(item, dict) and "use" in item:
                prev = self.use(item, (*path, j), scope, prev, env, chain, prefix, top)
            else:
                prev = self.layer(item, (*path, j), scope, prev, env, chain, prefix, top)
        return prev

    def resolve(self, ref: Any, path: KeyPath, scope: dict[str, str], env: dict[str, Any],
                chain: tuple[Use, ...], prefix: str, top: bool) -> str:  # fmt: skip
        name = self.relative(_template(ref, env, path, self.source), prefix)
        if name in scope:
            return scope[name]
        if top and name in self.names:
            return name
        known = [*scope, *(self.names if top else ())]
        where = "" if top else " (a block sees only its own layers and its inputs)"
        raise self.error(path, chain, f"unknown layer {name!r}{did_you_mean(name, known)}{where}", inputs=ref)

    @staticmethod
    def relative(name: str, prefix: str) -> str:
        return prefix + name[1:] if name.startswith(".") else name

    def when(self, item: dict[str, Any], path: KeyPath, env: dict[str, Any], chain: tuple[Use, ...]) -> bool:
        if "when" not in item:
            return True
        value = item["when"]
        result = _value(value, env, (*path, "when"), self.source) if isinstance(value, str) else value
        if not isinstance(result, bool):
            raise self.error((*path, "when"), chain, "when: must be true or false", when=result)
        return result

    def layer(self, item: Any, path: KeyPath, scope: dict[str, str], prev: str, env: dict[str, Any],
              chain: tuple[Use, ...], prefix: str, top: bool) -> str:  # fmt: skip
        if not isinstance(item, dict) or len(item) != 1:
            raise self.error(path, chain, "an item is a layer {LayerClass: {arguments}} or a block use "
                             "{use: BLOCK, ...}", item=item)  # fmt: skip
        [(kind, args)] = item.items()
        args = dict(args) if isinstance(args, dict) else args
        path = (*path, kind)
        if not isinstance(args, dict):
            args = {} if args is None else args
            if not isinstance(args, dict):
                raise self.error(path, chain, f"{kind}'s value must be a mapping of arguments", value=args)
        name = None
        raw = args.get("name")
        if isinstance(raw, str) and raw.startswith("="):  # an expression may leave the layer unnamed
            raw = _value(raw, env, (*path, "name"), self.source)
        if raw is not None:
            name = self.relative(_template(raw, env, (*path, "name"), self.source), prefix)
        if not self.when(args, path, env, chain):  # as if the line were deleted
            for handle in (name, args.get("id")):
                if isinstance(handle, str):
                    scope[handle] = prev
            return prev
        if "inputs" in args:
            refs = args["inputs"]
            if not isinstance(refs, list) or not refs:
                raise self.error((*path, "inputs"), chain, "must be a list of layer names", inputs=refs)
            inputs = [self.resolve(r, (*path, "inputs", k), scope, env, chain, prefix, top) for k, r in enumerate(refs)]
        else:
            inputs = [prev]
        if name is None:
            base = catalog.default_name(kind)
            n = self.counters.get(base, 0)
            self.counters[base] = n + 1
            name = base if n == 0 else f"{base}_{n}"
        if name in self.names:
            first = self.prov[self.names[name]]
            raise self.error((*path, "name"), chain,
                             f"layer name {name!r} is already used (first defined at {self.source.label}:"
                             f"{self.source.line_of(first.path)}); names must be unique after expansion",
                             name=name)  # fmt: skip
        given = {k: _value(v, env, (*path, k), self.source) for k, v in args.items()
                 if k not in ("name", "inputs", "layers", *LAYER_EXTRA_KEYS)}  # fmt: skip
        if "layers" in args:  # a nested Sequential: its layers' names are templates too
            given["layers"] = self.nested(args["layers"], (*path, "layers"), env, chain, prefix)
        layer_args = {**self.defaults.get(kind, {}), **given, "name": name, "inputs": inputs}
        if len(self.out) >= MAX_LAYERS:
            raise self.error(path, chain, f"the model expands to more than {MAX_LAYERS:,} layers")
        self.names[name] = len(self.out)
        self.out.append({kind: layer_args})
        self.prov.append(Provenance(path, chain))
        scope[name] = name
        if "id" in args:
            if not isinstance(args["id"], str):
                raise self.error((*path, "id"), chain, "must be a name (a string)", id=args["id"])
            scope[args["id"]] = name
        return name

    def nested(self, items: Any, path: KeyPath, env: dict[str, Any], chain: tuple[Use, ...], prefix: str) -> Any:
        """A nested Sequential's layers, with expressions, names and per-class defaults applied."""
        if not isinstance(items, list):
            return items  # the validator words the error
        out = []
        for j, item in enumerate(items):
            if not (isinstance(item, dict) and len(item) == 1 and isinstance(next(iter(item.values())), dict)):
                out.append(item)
                continue
            [(kind, args)] = item.items()
            where = (*path, j, kind)
            inner = {k: _value(v, env, (*where, k), self.source) for k, v in args.items() if k != "name"}
            if "name" in args:
                inner["name"] = self.relative(_template(args["name"], env, (*where, "name"), self.source), prefix)
            out.append({kind: {**self.defaults.get(kind, {}), **inner}})
        return out

    def use(self, item: dict[str, Any], path: KeyPath, scope: dict[str, str], prev: str, env: dict[str, Any],
            chain: tuple[Use, ...], prefix: str, top: bool) -> str:  # fmt: skip
        block_name = item["use"]
        block = self.blocks[block_name]
        declared = block.get("params") or {}
        if isinstance(declared, list):
            declared = {p: None for p in declared}
        if not isinstance(declared, dict):
            raise self.error(("blocks", block_name, "params"), (), "must be a list of names or a mapping "
                             "of names to defaults", params=declared)  # fmt: skip
        block_inputs = block.get("inputs") or [catalog.MODEL_INPUT]
        as_name = item.get("as")
        if not self.when(item, path, env, chain):
            if as_name is not None:
                scope[self.relative(_template(as_name, {**env, "i": 1}, (*path, "as"), self.source), prefix)] = prev
            return prev
        repeat = _value(item.get("repeat", 1), env, (*path, "repeat"), self.source)
        if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
            raise self.error((*path, "repeat"), chain, "repeat must be a positive integer", repeat=repeat)
        for key in item:
            if key not in USE_KEYS and key not in declared:
                raise self.error((*path, key), chain, f"unknown parameter of block {block_name!r}"
                                 + did_you_mean(key, declared), **{key: item[key]})  # fmt: skip
        missing = [p for p, d in declared.items() if d is None and p not in item]
        if missing:
            raise self.error(path, chain, f"block {block_name!r} needs {', '.join(missing)}")
        for i in range(1, repeat + 1):
            ienv = {**env, "i": i}
            bound = {p: _value(item[p], ienv, (*path, p), self.source) if p in item else d
                     for p, d in declared.items()}  # fmt: skip
            instance = prefix
            if as_name is not None:
                instance = self.relative(_template(as_name, ienv, (*path, "as"), self.source), prefix)
            if "inputs" in item:
                refs = item["inputs"]
                if not isinstance(refs, list) or not refs:
                    raise self.error((*path, "inputs"), chain, "must be a list of layer names", inputs=refs)
                given = [self.resolve(r, (*path, "inputs", k), scope, ienv, chain, prefix, top)
                         for k, r in enumerate(refs)] if i == 1 else [prev]  # fmt: skip
            else:
                given = [prev]
            if len(given) != len(block_inputs):
                raise self.error((*path, "inputs"), chain, f"block {block_name!r} takes "
                                 f"{len(block_inputs)} input(s): {', '.join(block_inputs)}", inputs=given)  # fmt: skip
            shown = tuple((*bound.items(), *((("i", i),) if repeat > 1 else ())))
            inner_chain = (*chain, Use(instance, block_name, shown, path))
            inner_scope = dict(zip(block_inputs, given))
            benv = {**self.genv, **bound}
            prev = self.items(block["layers"], ("blocks", block_name, "layers"), inner_scope, given[0],
                              benv, inner_chain, instance)  # fmt: skip
            if as_name is not None:
                scope[instance] = prev
        return prev

