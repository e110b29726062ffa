"""Blocks: a family file's items (layers and block uses, with repeats, conditions, relative names
and name templates) expanded into a flat list of plain layers, each with its provenance."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from zoo.specification import catalog
from zoo.specification.context import MAX_TEXT_CHARS, Context
from zoo.specification.errors import KeyPath, Source, cut, did_you_mean
from zoo.specification.expressions import ExpressionError, TensorShapes
from zoo.specification.provenance import Provenance, Use

USE_KEYS = ("use", "as", "repeat", "inputs", "outputs", "when")
LAYER_EXTRA_KEYS = ("when", "id")  # zoo's own keys on a layer inside a family file
BLOCK_KEYS = ("description", "params", "inputs", "outputs", "layers")
OWN_KEYS = ("name", "inputs", "layers", *LAYER_EXTRA_KEYS)
MAX_LAYERS = 5000
MAX_NESTING = 16
STEP_WORK = 10
HANDLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # a name a use binds to one of its block's outputs


class Tensors(Protocol):
    """The formula engine's view of a family file's tensors while it expands: the layers made so
    far, validated and computed as the spec's own layers will be, each once (``zoo.arith.tensors``)."""

    done: int  # how many of the layers it has computed

    def shape(
        self, layers: Sequence[Mapping[str, Any]], provenance: Sequence[Provenance], name: str
    ) -> tuple[int | None, ...]:
        """Keras's ``x.shape`` of tensor ``name`` (an input, or one of ``layers``), batch axis first."""
        ...


class ShapeEngine(Protocol):
    def __call__(
        self, source: Source, variant_text: str, model: str, data_format: Any, inputs: Mapping[str, Any]
    ) -> Tensors: ...


# Expansion reads shapes only through the formula engine. The specification layer may not import
# it (zoo.arith stands on this layer), so the engine hands its shape rules over when it is
# imported (zoo/arith/__init__.py; importing zoo imports it).
SHAPE_ENGINE: list[ShapeEngine] = []


def install_shape_engine(engine: ShapeEngine) -> None:
    """The formula engine that ``shape(x)`` reads shapes through (``zoo.arith`` installs its own)."""
    SHAPE_ENGINE[:] = [engine]


@dataclass
class BlockExpansion(Context):
    """One family file's items expanded into flat layers: the blocks it may use, its defaults and
    environment, and what it has made so far (the layers, their provenance, Keras's name counters)."""

    blocks: dict[str, Any] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # each block's, as a mapping
    defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    genv: dict[str, Any] = field(default_factory=dict)
    out: list[dict[str, Any]] = field(default_factory=list)
    prov: list[Provenance] = field(default_factory=list)
    names: dict[str, int] = field(default_factory=dict)  # final name -> index in out
    auto_names: catalog.AutoNames = field(default_factory=catalog.AutoNames)
    here: tuple[dict[str, str], str, bool] | None = None  # the tensors in reach: scope, prefix, top
    open_tensors: Callable[[], Tensors] | None = None  # the engine's view, made at the first shape()
    tensors: Tensors | None = None

    def tensor_shapes(self) -> TensorShapes | None:
        return self.shape_of if self.here is not None else None

    def shape_of(self, handle: str) -> list[int | None]:
        """``shape(handle)``: Keras's ``x.shape`` of the tensor ``handle`` names where the expression
        is written (as ``inputs:`` would name it), from the formula engine. The layers before it are
        computed once each, when a shape first needs them, and charged to the budget."""
        if self.here is None:
            raise ExpressionError(f"shape({handle}): no tensor is in reach here")
        scope, prefix, top = self.here
        name = prefix + handle[1:] if handle.startswith(".") else handle
        if len(name) > MAX_TEXT_CHARS:
            raise ExpressionError(f"shape({handle}): the name is longer than {MAX_TEXT_CHARS:,} characters")
        if name in scope:
            final = scope[name]
        elif top and name in self.names:
            final = name
        else:
            known = [*scope, *(self.names if top else ())]
            where = "" if top else " (a block sees only its own layers and its inputs)"
            raise ExpressionError(
                f"shape({handle}): no tensor {cut(repr(name))} in reach{did_you_mean(name, known)}{where}"
            )
        if self.tensors is None:
            if self.open_tensors is None or not SHAPE_ENGINE:
                raise ExpressionError(f"shape({handle}): no formula engine to read shapes through")
            here, self.here = self.here, None  # the model's data_format and input read no tensor
            try:
                self.tensors = self.open_tensors()
            finally:
                self.here = here
        needed = self.names[final] + 1 if final in self.names else 0
        self.budget.charge(STEP_WORK * max(0, needed - self.tensors.done))
        return list(self.tensors.shape(self.out, self.prov, final))

    def once_each(self, names: list[str], path: KeyPath, message: str) -> None:
        """Each of ``names`` once (a block's inputs, the names a use gives its outputs); ``message``
        says so, the name filled in, at the second one."""
        for k, n in enumerate(names):
            if names.index(n) != k:
                raise self.error((*path, k), message.format(n), received={str(path[-1]): names})

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
                self.once_each(
                    inputs,
                    (*path, "inputs"),
                    "input {!r} is named twice; each input of a block needs its own name",
                )
            outputs = block.get("outputs")
            if outputs is not None and (
                not isinstance(outputs, list) or not outputs or not all(isinstance(n, str) for n in outputs)
            ):
                raise self.error(
                    (*path, "outputs"),
                    "must be a non-empty list of the handles (its layers or inputs) the block gives, "
                    "in order",
                    received={"outputs": outputs},
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
        outer, self.here = self.here, (scope, prefix, top)
        try:
            for j, item in enumerate(items):
                self.charge(STEP_WORK + (len(item) if isinstance(item, dict) else 0), (*path, j))
                if isinstance(item, dict) and "use" in item:
                    prev = self.use(item, (*path, j), scope, prev, env, prefix, top)
                else:
                    prev = self.layer(item, (*path, j), scope, prev, env, prefix, top)
        finally:
            self.here = outer
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
        key = next((str(k) for k in reversed(path) if isinstance(k, str)), "inputs")  # inputs or outputs
        raise self.error(
            path, f"unknown layer {name!r}{did_you_mean(name, known)}{where}", received={key: ref}
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
        block_outputs = block.get("outputs")
        bind = self.check_outputs(item, path, block_name, block_inputs, block_outputs)
        as_name = item.get("as")
        if "when" in item and not self.condition(item["when"], env, (*path, "when"), "when"):
            if as_name is not None:  # its output names keep what they were, as after Python's `if`
                handle = self.template(as_name, {**env, "i": 1}, (*path, "as"))
                scope[self.relative(handle, prefix, (*path, "as"))] = prev
            return prev
        repeat = self.value(item.get("repeat", 1), env, (*path, "repeat"))
        if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
            raise self.error(
                (*path, "repeat"), "repeat must be a positive integer", received={"repeat": repeat}
            )
        carried: list[str] = []
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
            if i > 1:  # the previous repetition's outputs, in order: Keras's `x, p = cell(x, p)`
                given = carried
            else:
                given = self.refs(item, path, scope, ienv, prefix, top) if "inputs" in item else [prev]
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
                carried = [prev]
                if block_outputs is not None:
                    self.charge(len(block_outputs), ("blocks", block_name, "outputs"))
                    carried = [
                        self.resolve(
                            ref, ("blocks", block_name, "outputs", k), scope_in, benv, instance, False
                        )
                        for k, ref in enumerate(block_outputs)
                    ]
                    prev = carried[0]
            finally:
                self.chain = outer
            if as_name is not None:
                scope[instance] = prev
        scope.update(zip(bind, carried))
        return prev

    def check_outputs(
        self,
        item: dict[str, Any],
        path: KeyPath,
        block_name: str,
        block_inputs: list[str],
        block_outputs: list[str] | None,
    ) -> list[str]:
        """The names a use binds to its block's outputs (``outputs: [x, p]``, Python's
        ``x, p = cell(...)``), one per output; and a repeated block gives as many outputs as it
        takes inputs, since each repetition's outputs are the next one's inputs, in order."""
        gives = block_outputs or ["(its last item)"]
        declared = f"block {block_name!r} gives {len(gives)} output(s): {', '.join(gives)}"
        if "repeat" in item and len(gives) != len(block_inputs):
            raise self.error(
                (*path, "repeat"),
                f"{declared}, and takes {len(block_inputs)} input(s): {', '.join(block_inputs)}; a repeated "
                "block's outputs are its next repetition's inputs, in order, so it needs as many of each "
                "(outputs: [...] in the block)",
                received={"repeat": item["repeat"]},
            )
        bind = item.get("outputs")
        if bind is None:
            return []
        if not isinstance(bind, list) or not all(isinstance(n, str) and HANDLE.fullmatch(n) for n in bind):
            raise self.error(
                (*path, "outputs"),
                "must be a list of names, one for each output of the block (letters, digits and '_', "
                "not starting with a digit)",
                received={"outputs": bind},
            )
        if len(bind) != len(gives):
            raise self.error(
                (*path, "outputs"),
                f"{declared}; the use names each once, in order",
                received={"outputs": bind},
            )
        self.once_each(
            bind, (*path, "outputs"), "output name {!r} is given twice; each output needs its own name"
        )
        return bind
