"""Recognising repeated blocks in an imported model: a flat spec's data written with ``blocks:``.

``zoo import --blocks`` (``zoo.from_keras(model, blocks=True)``) turns the flat layer list of an
import into a family file, as a person would write it from Keras's code: blocks with parameters,
uses with ``repeat:``, relative names and name templates, optional layers with ``when:``. This
module is plain Python over the flat data (no Keras); the importer then builds the result and
compares it with the model, as it does every import.

How the blocks are chosen (each step keeps the layers' order, names, arguments and inputs):

1. **Instances by name prefix.** Keras names a block's layers after it (``conv2_block1_1_conv``).
   For each depth d, the layers whose names share their first d ``_``-separated words form runs
   of consecutive layers (``conv2_block1``); runs with the same structure (classes, argument keys,
   wiring inside the run, names relative to the prefix) are instances of one block. Runs whose
   layers are a subset of another's become instances of it with those layers under ``when:``
   (ResNet's projection shortcut). The depth that saves the most lines is taken first, then the
   next on the layers left (DenseNet: the conv blocks at depth 2, the transitions at depth 1).
2. **Instances by structure.** Among the layers left, repeated runs of 2 to 12 consecutive layers
   of the same structure (InceptionV3's unnamed conv-batchnorm-relu triples) become blocks too;
   their names, where Keras gave them, become parameters.
3. **Parameters.** The argument values that differ between instances are the block's parameters
   (named after the argument; a value that is always a whole multiple of another parameter is
   written as that, ``=4 * filters``).
4. **Repeats and stages.** Consecutive uses of one block, each taking the one before, whose names
   count up (``conv2_block1``, ``conv2_block2`` ...) become one use with ``repeat:``; a parameter is
   then a constant, ``=a if i == 1 else b`` or a list indexed by ``i``. Where several such runs
   share a name template under different prefixes (``conv2_block{i}``, ``conv3_block{i}``), they
   become uses of a stage block (``{use: block_stack, as: conv3, blocks: 4, ...}``).

The result is checked here by expanding it (:func:`zoo.specification.family.expand`, the
expansion every family file goes through) and comparing each layer with the flat data; where the
stages, then the repeats, then the ``when:`` merges do not reproduce it, they are dropped, and
where nothing does, the flat data comes back unchanged.

Size (:func:`size`): the non-blank, non-comment lines of the YAML text, and its YAML nodes (every
mapping key and scalar value); :func:`dump` writes one layer or use a line, as zoo's family
files do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zoo.specification import catalog
from zoo.specification.blocks import USE_KEYS
from zoo.specification.errors import Source, SpecError

MAX_WINDOW = 12  # the longest run of unnamed structure looked for
MAX_DEPTH = 4  # name prefixes of up to four words
BLOCK_OVERHEAD = 3  # a block's name, params: and layers: lines
# layers that stay at the top level: they name other layers, or hold layers of their own
_UNBLOCKED = {catalog.CALL, catalog.OPAQUE, "Sequential"}
_ALWAYS_INPUTS = catalog.MERGES | catalog.OPS


@dataclass
class _Layer:
    kind: str
    args: dict[str, Any]  # without name and inputs
    name: str  # the final name (an automatic one where the flat data has none)
    named: bool  # whether the flat data names it
    inputs: list[str]


@dataclass
class _Block:
    name: str
    params: list[str]
    inputs: list[str]  # the block's input names (one: ["input"])
    items: list[dict[str, Any]]
    instances: list[_Instance] = field(default_factory=list)


@dataclass
class _Instance:
    start: int
    end: int  # exclusive: flat layers [start, end)
    prefix: str | None
    members: list[int]  # the flat layers it holds, in order
    ext: list[str]  # its external inputs, in the order the block takes them
    block: str = ""
    args: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------ the flat data


def _layers(data: Mapping[str, Any]) -> list[_Layer]:
    auto = catalog.AutoNames()
    out: list[_Layer] = []
    previous = catalog.MODEL_INPUT
    for entry in data["layers"]:
        [(kind, args)] = entry.items()
        args = dict(args or {})
        name = args.pop("name", None)
        inputs = args.pop("inputs", None)
        final = name if name is not None else auto.next(kind)
        args = {k: _short(kind, k, v) for k, v in args.items()}
        out.append(_Layer(kind, args, final, name is not None, list(inputs) if inputs else [previous]))
        previous = final
    return out


def _short(kind: str, key: str, value: Any) -> Any:
    """``3`` for ``[3, 3]``, ``1`` for ``[[1, 1], [1, 1]]``, where the argument means the same by it."""

    def shortest(v: Any) -> Any:
        if not isinstance(v, list) or not v:
            return v
        inner = [shortest(x) for x in v]
        return inner[0] if len(inner) > 1 and all(x == inner[0] for x in inner) else inner

    arg = catalog.LAYERS[kind].args.get(key) if kind in catalog.LAYERS else None
    if arg is None or not isinstance(value, list):
        return value
    ctx = catalog.Ctx(Source(), (key,), catalog.LAYERS[kind].rank)
    try:
        candidate = shortest(value)
        return candidate if arg.check(candidate, ctx) == arg.check(value, ctx) else value
    except SpecError:
        return value


def _starts_with_equals(value: Any) -> bool:
    """A family file reads every such string as an expression, at its top level too."""
    if isinstance(value, str):
        return value.startswith("=")
    if isinstance(value, Mapping):
        return any(_starts_with_equals(v) for v in value.values())
    if isinstance(value, list):
        return any(_starts_with_equals(v) for v in value)
    return False


def _has_expression(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith("=") or "{" in value or "}" in value
    if isinstance(value, Mapping):
        return any(_has_expression(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_expression(v) for v in value)
    return False


# ------------------------------------------------------------------ candidate instances


def _words(name: str) -> list[str]:
    return name.split("_")


def _prefix(layer: _Layer, depth: int) -> str | None:
    if not layer.named:
        return None
    words = _words(layer.name)
    if len(words) <= depth or not all(words[:depth]):
        return None
    return "_".join(words[:depth])


def _signature(
    layers: list[_Layer], members: list[int], prefix: str | None
) -> tuple[tuple[Any, ...], list[str]] | None:
    """The structure of a run (classes, argument keys, names, wiring) and its external inputs."""
    index = {layers[j].name: k for k, j in enumerate(members)}
    ext: list[str] = []
    items = []
    for k, j in enumerate(members):
        f = layers[j]
        if f.kind in _UNBLOCKED:
            return None
        if not f.named:
            nm: tuple[Any, ...] = ("auto",)
        elif prefix is None:
            nm = ("param",)
        elif f.name.startswith(prefix + "_"):
            nm = ("rel", f.name[len(prefix) :])
        else:
            return None
        refs = []
        for src in f.inputs:
            if src in index and index[src] < k:
                refs.append(("in", index[src]))
            else:
                if src not in ext:
                    ext.append(src)
                refs.append(("ext", ext.index(src)))
        # argument keys are left out: a key one instance leaves out is Keras's default there
        items.append((f.kind, nm, tuple(refs)))
    return tuple(items), ext


def _prefix_runs(layers: list[_Layer], free: list[bool], depth: int) -> list[_Instance]:
    """Maximal runs of free consecutive layers whose named layers share their first ``depth`` words
    (unnamed layers inside a run belong to it)."""
    runs: list[_Instance] = []
    current: list[int] = []
    key: str | None = None

    def close() -> None:
        nonlocal current, key
        # an unnamed merge at the end belongs to the run where it takes one of its layers
        # (ConvNeXt's residual `x + y`); other unnamed layers there, to what follows
        inside = {layers[j].name for j in current}
        while current and not layers[current[-1]].named:
            last = layers[current[-1]]
            if (
                last.kind in _ALWAYS_INPUTS
                and inside.intersection(last.inputs)
                and len(current) > 1
                and all(layers[j].named for j in current[:-1])
            ):
                break
            inside.discard(last.name)
            current.pop()
        if key is not None and len(current) >= 2:
            runs.append(_Instance(current[0], current[-1] + 1, key, list(current), []))
        current, key = [], None

    for j, layer in enumerate(layers):
        if not free[j] or layer.kind in _UNBLOCKED:
            close()
            continue
        p = _prefix(layer, depth)
        if p is None and not layer.named and key is not None:
            current.append(j)
            continue
        if p is None or p != key:
            close()
        if p is not None:
            key = p
            current.append(j)
    close()
    return runs


# ------------------------------------------------------------------ blocks from instances


def _fresh(name: str, taken: set[str]) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_") or "p"
    if not name[0].isalpha():
        name = "p_" + name
    out, k = name, 2
    while out in taken or out in USE_KEYS or out in ("i", "input", "True", "False", "None"):
        out, k = f"{name}_{k}", k + 1
    taken.add(out)
    return out


def _lit(value: Any) -> str:
    """A value as a literal of zoo's expressions (Python's syntax)."""
    if isinstance(value, list):
        return "[" + ", ".join(_lit(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_lit(k)}: {_lit(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _block_name(prefixes: list[str | None], layers: list[_Layer], first: list[int], taken: set[str]) -> str:
    p = prefixes[0]
    if p is not None:
        words = [re.sub(r"\d+[a-z]?$", "", w) for w in _words(p)]
        words = [w for w in words if w and not w.isdigit()]
        if words:
            return _fresh(words[-1].lower(), taken)
    return _fresh(catalog.snake_case(layers[first[0]].kind) + "_unit", taken)


def _writable_default(kind: str, key: str, data_format: str) -> Any:
    """The value a spec writes for an argument left out: what Keras uses without it."""
    if key == "data_format":
        return data_format
    arg = catalog.LAYERS[kind].args.get(key) if kind in catalog.LAYERS else None
    if arg is None or arg.default is catalog.REQUIRED:
        return _MISSING
    return _plain(arg.default)


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, (list, tuple)) else value


def _make_block(
    layers: list[_Layer], group: list[_Instance], taken_blocks: set[str], data_format: str
) -> _Block | None:
    """One block for ``group``, instances of one structure; ``template``: the instance whose
    layers are the block's items (each other instance holds all of them, or a subset: ``when:``).
    None where the instances cannot share one block."""
    longest = max(group, key=lambda g: len(g.members))

    def key_of(g: _Instance, j: int) -> Any:
        f = layers[j]
        if g.prefix is not None and f.named:
            return ("rel", f.name[len(g.prefix) :])
        return None

    # each instance's layers matched to the longest's, by relative name (by position where the
    # structures are the same)
    base = longest.members
    matches: list[list[int | None]] = []
    for g in group:
        if len(g.members) == len(base):
            matches.append(list(g.members))
            continue
        by_key = {key_of(g, j): j for j in g.members}
        if None in by_key or g.prefix is None:
            return None
        row = [by_key.pop(key_of(longest, j), None) for j in base]
        if by_key:
            return None
        matches.append(row)
    present = [[m is not None for m in row] for row in matches]
    optional = [t for t in range(len(base)) if not all(p[t] for p in present)]
    order = list(range(len(base)))
    if optional:  # optional layers as early as their inputs allow: absent, they pass on what came before
        for t in optional:
            if not layers[base[t]].named:
                return None
        pos_of = {layers[j].name: t for t, j in enumerate(base)}
        new: list[int] = [t for t in order if t not in optional]
        for t in optional:
            deps = [pos_of[s] for s in layers[base[t]].inputs if s in pos_of]
            at = max((new.index(d) + 1 for d in deps), default=0)
            new.insert(at, t)
        # the required layers keep their order; an optional one after its inputs
        order = new
    # the references of every instance, in terms of the block's items
    n = len(order)
    rank = {t: r for r, t in enumerate(order)}
    items: list[dict[str, Any]] = []
    params: list[str] = []
    taken: set[str] = set()
    per_instance: list[dict[str, Any]] = [{} for _ in group]
    exts: list[list[str]] = []
    for row in matches:
        names = {layers[j].name for j in row if j is not None}
        ext: list[str] = []
        for j in (row[t] for t in order):
            if j is None:
                continue
            for s in layers[j].inputs:
                if s not in names and s not in ext:
                    ext.append(s)
        exts.append(ext)
    n_inputs = len(exts[0])
    if any(len(e) != n_inputs for e in exts) or n_inputs == 0:
        return None
    block_inputs = ["input"] + [f"input_{k + 1}" for k in range(1, n_inputs)]

    def actual(gi: int, j: int) -> list[Any]:
        """Layer j's inputs in block terms: ("in", rank) or ("ext", slot)."""
        row = matches[gi]
        by_name = {layers[x].name: rank[t] for t, x in enumerate(row) if x is not None}
        return [("in", by_name[s]) if s in by_name else ("ext", exts[gi].index(s)) for s in layers[j].inputs]

    def resolve(gi: int, ref: Any) -> Any:
        """What a reference to block item ``ref`` means in instance gi (an absent item passes on the
        item before it, the first the block's input)."""
        if ref[0] == "ext":
            return ref
        r = ref[1]
        row = matches[gi]
        while r >= 0 and row[order[r]] is None:
            r -= 1
        return ("in", r) if r >= 0 else ("ext", 0)

    when_params: dict[tuple[bool, ...], str] = {}
    handles: dict[int, str] = {}
    needs_id: set[int] = set()
    rows_refs: list[list[Any]] = []
    for t in order:
        refs_here: list[Any] | None = None
        for gi in range(len(group)):
            j = matches[gi][t]
            if j is None:
                continue
            got = actual(gi, j)
            if refs_here is None:
                refs_here = got
            elif len(got) != len(refs_here):
                return None
        if refs_here is None:
            return None
        # a reference the instances agree on once absent items are passed over
        chosen = []
        for k in range(len(refs_here)):
            options = []
            for gi in range(len(group)):
                j = matches[gi][t]
                if j is not None:
                    options.append(actual(gi, j)[k])
            pick = None
            for cand in dict.fromkeys(options):
                if all(
                    resolve(gi, cand) == actual(gi, matches[gi][t])[k]  # type: ignore[arg-type]
                    for gi in range(len(group))
                    if matches[gi][t] is not None
                ):
                    pick = cand
                    break
            if pick is None:
                return None
            chosen.append(pick)
        rows_refs.append(chosen)
    # the block's output: its last item, or what passes for it
    for gi, g in enumerate(group):
        if resolve(gi, ("in", n - 1)) != ("in", rank[matches[gi].index(g.members[-1])]):
            return None
    for refs in rows_refs:
        for ref in refs:
            if ref[0] == "in":
                needs_id.add(ref[1])
    # names
    for r, t in enumerate(order):
        j0 = base[t]
        f0 = layers[j0]
        if f0.named and longest.prefix is not None:
            handles[r] = "." + f0.name[len(longest.prefix) :]
        elif r in needs_id:
            handles[r] = f"l{r + 1}"
    # arguments: equal everywhere, or a parameter
    vectors: dict[str, list[Any]] = {}
    # the arguments of the layers every instance holds first: an optional layer's may be theirs
    arg_order = sorted(range(len(order)), key=lambda r: not all(m[order[r]] is not None for m in matches))
    made_args: dict[int, dict[str, Any]] = {}
    for r in arg_order:
        t = order[r]
        f0 = layers[base[t]]
        args: dict[str, Any] = {}
        if f0.named and longest.prefix is None:
            p = _fresh(catalog.snake_case(f0.kind) + "_name", taken)
            params.append(p)
            for gi, row in enumerate(matches):
                j = row[t]
                per_instance[gi][p] = layers[j].name if j is not None else None
            args["name"] = "{" + p + "}"
        elif f0.named:
            args["name"] = handles[r]
        held = [j for row in matches if (j := row[t]) is not None]
        keys = list(dict.fromkeys(k for j in held for k in layers[j].args))
        for key in keys:
            values = []
            for gi in range(len(group)):
                j = matches[gi][t]
                if j is None:
                    continue
                if key not in layers[j].args:
                    default = _writable_default(f0.kind, key, data_format)
                    if default is _MISSING:
                        return None
                    layers[j].args[key] = default
                values.append(layers[j].args[key])
            if all(v == values[0] for v in values) and len(
                {gi for gi in range(len(group)) if matches[gi][t] is not None}
            ) == len(group):
                args[key] = values[0]
                continue
            full = [
                layers[matches[gi][t]].args[key] if matches[gi][t] is not None else None  # type: ignore[index]
                for gi in range(len(group))
            ]
            here = [v for v, gi in zip(full, range(len(group))) if matches[gi][t] is not None]
            if all(v == here[0] for v in here):
                args[key] = here[0]
                continue
            expr = _reuse(vectors, full, [matches[gi][t] is not None for gi in range(len(group))])
            if expr is not None:
                args[key] = expr
                continue
            p = _fresh(key, taken)
            params.append(p)
            full = [here[0] if v is None and matches[gi][t] is None else v for gi, v in enumerate(full)]
            vectors[p] = full
            for gi, value in enumerate(full):
                per_instance[gi][p] = value
            args[key] = "=" + p
        made_args[r] = args
    for r, t in enumerate(order):
        f0 = layers[base[t]]
        args = made_args[r]
        if r in handles and not handles[r].startswith("."):
            args["id"] = handles[r]
        refs = rows_refs[r]
        default = [("in", r - 1)] if r else [("ext", 0)]
        if refs != default or f0.kind in _ALWAYS_INPUTS:
            args["inputs"] = [(handles[ref[1]] if ref[0] == "in" else block_inputs[ref[1]]) for ref in refs]
        pattern = tuple(matches[gi][t] is not None for gi in range(len(group)))
        if not all(pattern):
            if pattern not in when_params:
                suffix = handles.get(r, f"l{r + 1}").lstrip("._")
                p = _fresh("with_" + suffix, taken)
                params.append(p)
                when_params[pattern] = p
                for gi, holds in enumerate(pattern):
                    per_instance[gi][p] = holds
            args["when"] = "=" + when_params[pattern]
        items.append({f0.kind: args})
    for gi, g in enumerate(group):
        g.args = per_instance[gi]
        g.ext = exts[gi]
    name = _block_name([g.prefix for g in group], layers, base, taken_blocks)
    return _Block(name, params, block_inputs, items, list(group))


_MISSING = object()


def _reuse(vectors: Mapping[str, list[Any]], full: list[Any], present: list[bool]) -> str | None:
    """An expression over an existing parameter that gives ``full`` in every instance holding the
    layer: the parameter itself, or a whole multiple of it."""
    for p, vec in vectors.items():
        pairs = [(a, b) for a, b, here in zip(full, vec, present) if here]
        if all(a == b for a, b in pairs):
            return "=" + p
        if all(_is_int(a) and _is_int(b) and b != 0 for a, b in pairs):
            ratio = pairs[0][0] // pairs[0][1] if pairs[0][0] % pairs[0][1] == 0 else None
            if ratio is not None and ratio > 1 and all(a == ratio * b for a, b in pairs):
                return f"={ratio} * {p}"
    return None


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# ------------------------------------------------------------------ choosing instances


def _saving(count: int, length: int) -> int:
    return count * length - (BLOCK_OVERHEAD + length + count)


def _estimate(group: list[_Instance]) -> int:
    """The lines a block of ``group`` saves: its layers, less the block and one use per run of
    consecutive instances whose names count up (one ``repeat:`` each)."""
    runs = 0
    last: _Instance | None = None
    for inst in sorted(group, key=lambda r: r.start):
        counts = (
            last is not None
            and last.end == inst.start
            and last.prefix is not None
            and inst.prefix is not None
            and _index_template([last.prefix, inst.prefix]) is not None
        )
        runs += not counts
        last = inst
    return sum(len(r.members) for r in group) - BLOCK_OVERHEAD - max(len(r.members) for r in group) - runs


def _groups(layers: list[_Layer], runs: list[_Instance]) -> list[list[_Instance]]:
    by_sig: dict[Any, list[_Instance]] = {}
    for run in runs:
        sig = _signature(layers, run.members, run.prefix)
        if sig is None:
            continue
        by_sig.setdefault(sig[0], []).append(run)
    groups = sorted(by_sig.values(), key=lambda g: -len(g[0].members))
    # a structure whose named layers are a subset of a larger one's joins it (``when:``)
    merged: list[list[_Instance]] = []
    for g in groups:
        names = _rel_names(layers, g[0])
        home = None
        if names is not None:
            for m in merged:
                big = _rel_names(layers, m[0])
                if big is not None and len(names) < len(big) <= 2 * len(names) and set(names) <= set(big):
                    home = m
                    break
        if home is not None and len(home) + len(g) >= 2:
            home.extend(g)
        else:
            merged.append(list(g))
    return [sorted(g, key=lambda r: r.start) for g in merged]


def _rel_names(layers: list[_Layer], run: _Instance) -> list[str] | None:
    if run.prefix is None or any(not layers[j].named for j in run.members):
        return None
    return [layers[j].name[len(run.prefix) :] for j in run.members]


def _claim(made: list[_Block], free: list[bool]) -> None:
    """The layers of the blocks just made belong to them: no later block may take them."""
    for b in made:
        for inst in b.instances:
            for j in inst.members:
                free[j] = False


def _take(
    layers: list[_Layer],
    groups: list[list[_Instance]],
    blocks: list[_Block],
    taken: set[str],
    merge: bool,
    data_format: str,
) -> list[_Block]:
    made = []
    for g in groups:
        if len(g) < 2:
            continue
        if not merge and len({len(r.members) for r in g}) > 1:
            # without when: merges, the instances of the most common structure only
            sizes: dict[int, list[_Instance]] = {}
            for r in g:
                sizes.setdefault(len(r.members), []).append(r)
            g = max(sizes.values(), key=len)
            if len(g) < 2:
                continue
        if _saving(len(g), max(len(r.members) for r in g)) <= 0:
            continue
        block = _make_block(layers, g, taken, data_format)
        if block is None and len({len(r.members) for r in g}) > 1:
            sizes = {}
            for r in g:
                sizes.setdefault(len(r.members), []).append(r)
            for part in sizes.values():
                if len(part) >= 2 and _saving(len(part), len(part[0].members)) > 0:
                    b = _make_block(layers, part, taken, data_format)
                    if b is not None:
                        made.append(b)
            continue
        if block is not None:
            made.append(block)
    blocks.extend(made)
    return made


def _structural_runs(layers: list[_Layer], free: list[bool]) -> list[list[_Instance]]:
    """The best set of repeated windows of unnamed structure among the free layers: the window
    length whose non-overlapping repeats save the most lines."""
    best: tuple[int, list[list[_Instance]]] = (0, [])
    n = len(layers)
    for k in range(2, MAX_WINDOW + 1):
        found: dict[Any, list[_Instance]] = {}
        ends: dict[Any, int] = {}
        for s in range(0, n - k + 1):
            members = list(range(s, s + k))
            if not all(free[j] for j in members):
                continue
            sig = _signature(layers, members, None)
            if sig is None:
                continue
            if ends.get(sig[0], -1) > s:
                continue  # overlaps the last one taken
            found.setdefault(sig[0], []).append(_Instance(s, s + k, None, members, []))
            ends[sig[0]] = s + k
        # the windows of different structures may overlap: take the best structures first
        groups = sorted(found.values(), key=lambda g: -_saving(len(g), k))
        used: set[int] = set()
        chosen = []
        total = 0
        for g in groups:
            g = [r for r in g if not used.intersection(r.members)]
            if len(g) < 2 or _saving(len(g), k) <= 0:
                continue
            chosen.append(g)
            total += _saving(len(g), k)
            for r in g:
                used.update(r.members)
        if total > best[0]:
            best = (total, chosen)
    return best[1]


# ------------------------------------------------------------------ the top level


@dataclass
class _Use:
    block: _Block
    inst: _Instance
    output: str


def _top_items(layers: list[_Layer], blocks: list[_Block]) -> list[Any]:
    """The top-level items in order: flat layers (their index) and uses."""
    starts = {}
    for b in blocks:
        for inst in b.instances:
            starts[inst.start] = (b, inst)
    out: list[Any] = []
    j = 0
    while j < len(layers):
        if j in starts:
            b, inst = starts[j]
            out.append(_Use(b, inst, layers[inst.members[-1]].name))
            j = inst.end
        else:
            out.append(j)
            j += 1
    return out


def _index_template(names: list[str]) -> tuple[str, str, int] | None:
    """``conv2_block1, conv2_block2, ...``: ("conv2_block", "", 1); None where no number counts up."""
    parts = [re.split(r"(\d+)", n) for n in names]
    if len({len(p) for p in parts}) != 1 or len(parts[0]) < 3:
        return None
    for r in range(len(parts[0]) - 2, 0, -2):
        if all(p[:r] == parts[0][:r] and p[r + 1 :] == parts[0][r + 1 :] for p in parts):
            if not all(p[r] == str(int(p[r])) for p in parts):
                continue
            nums = [int(p[r]) for p in parts]
            if nums == list(range(nums[0], nums[0] + len(nums))):
                return "".join(parts[0][:r]), "".join(parts[0][r + 1 :]), nums[0]
    return None


def _counter(start: int) -> str:
    return "{i}" if start == 1 else f"{{i + {start - 1}}}" if start > 1 else f"{{i - {1 - start}}}"


def _form(values: list[Any]) -> str:
    if all(v == values[0] for v in values):
        return "const"
    if len(values) > 2 and all(v == values[1] for v in values[1:]):
        return "first"
    return "list"


_FORMS = ("const", "first", "list")


def _repeat_runs(items: list[Any], layer_names: set[str]) -> list[tuple[int, int, tuple[str, str, int]]]:
    """(start, end, name template) of each run of two or more consecutive uses of one block that
    can be one use with ``repeat:``."""
    out = []
    k = 0
    while k < len(items):
        u = items[k]
        if not isinstance(u, _Use) or len(u.block.inputs) != 1 or u.inst.prefix is None:
            k += 1
            continue
        end = k + 1
        while (
            end < len(items)
            and isinstance(items[end], _Use)
            and items[end].block is u.block
            and items[end].inst.ext == [items[end - 1].output]
        ):
            end += 1
        best = None
        e = end
        while e - k >= 2:
            t = _index_template([items[x].inst.prefix for x in range(k, e)])
            if t is not None:
                best = (k, e, t)
                break
            e -= 1
        if best is not None:
            out.append(best)
            k = best[1]
        else:
            k += 1
    return out


def _expression(form: str, values: list[Any]) -> Any:
    """A parameter across one run of a repeat: a value (or the stage's parameter), ``=f if i == 1
    else r``, or a list indexed by ``i``."""
    if form == "const":
        return values[0]
    if form == "first":
        f, r = values[0], values[1]
        if f is True and r is False:
            return "=i == 1"
        if f is False and r is True:
            return "=i != 1"
        return f"={_lit(f)} if i == 1 else {_lit(r)}"
    return f"={_lit(values)}[i - 1]"


def _uses(
    items: list[Any], layers: list[_Layer], blocks: list[_Block], taken_blocks: set[str], stages: bool
) -> tuple[list[dict[str, Any]], list[_Block]]:
    """The top level's items as data: layers as they were, uses with repeats and stages."""
    layer_names = {f.name for f in layers}
    runs = _repeat_runs(items, layer_names)
    # runs sharing a block and a relative name template under distinct prefixes: a stage block
    stage_groups: dict[Any, list[tuple[int, int, tuple[str, str, int], str, str]]] = {}
    for s, e, (pre, post, start) in runs:
        cut = pre.rfind("_")
        if stages and cut > 0:
            q = pre[:cut]
            rel = "." + pre[cut:] + _counter(start) + post
            stage_groups.setdefault((id(items[s].block), rel), []).append((s, e, (pre, post, start), q, rel))
    stage_of: dict[int, Any] = {}
    new_blocks: list[_Block] = []
    for (_, rel), group in stage_groups.items():
        qs = [g[3] for g in group]
        if len(group) < 2 or len(set(qs)) != len(qs) or any(q in layer_names for q in qs):
            continue
        inner = items[group[0][0]].block
        taken: set[str] = set()
        stage_params: list[str] = []
        inner_use: dict[str, Any] = {"use": inner.name, "as": rel}
        per_stage: list[dict[str, Any]] = [{} for _ in group]
        counts = [e - s for s, e, *_ in group]
        if all(c == counts[0] for c in counts):
            inner_use["repeat"] = counts[0]
        else:
            p = _fresh("blocks", taken)
            stage_params.append(p)
            inner_use["repeat"] = "=" + p
            for gi, c in enumerate(counts):
                per_stage[gi][p] = c
        for param in inner.params:
            runs_values = [[items[x].inst.args[param] for x in range(s, e)] for s, e, *_ in group]
            form = max((_form(v) for v in runs_values), key=_FORMS.index)
            if form == "const":
                firsts = [v[0] for v in runs_values]
                if all(f == firsts[0] for f in firsts):
                    inner_use[param] = firsts[0]
                else:
                    p = _fresh(param, taken)
                    stage_params.append(p)
                    inner_use[param] = "=" + p
                    for gi, f in enumerate(firsts):
                        per_stage[gi][p] = f
            elif form == "first":
                firsts, rests = [v[0] for v in runs_values], [v[1] for v in runs_values]
                f_expr, r_expr = _lit(firsts[0]), _lit(rests[0])
                if not all(f == firsts[0] for f in firsts):
                    p = _fresh("first_" + param, taken)
                    stage_params.append(p)
                    f_expr = p
                    for gi, f in enumerate(firsts):
                        per_stage[gi][p] = f
                if not all(r == rests[0] for r in rests):
                    p = _fresh(param, taken)
                    stage_params.append(p)
                    r_expr = p
                    for gi, r in enumerate(rests):
                        per_stage[gi][p] = r
                if f_expr == "True" and r_expr == "False":
                    inner_use[param] = "=i == 1"
                else:
                    inner_use[param] = f"={f_expr} if i == 1 else {r_expr}"
            else:
                p = _fresh(param + "_list", taken)
                stage_params.append(p)
                inner_use[param] = f"={p}[i - 1]"
                for gi, v in enumerate(runs_values):
                    per_stage[gi][p] = v
        stage = _Block(_fresh(inner.name + "_stack", taken_blocks), stage_params, ["input"], [inner_use])
        new_blocks.append(stage)
        for gi, (s, e, _t, q, _r) in enumerate(group):
            stage_of[s] = (stage, e, q, per_stage[gi])
    repeat_at = {s: (e, t) for s, e, t in runs}
    out: list[dict[str, Any]] = []
    prev = catalog.MODEL_INPUT
    k = 0
    while k < len(items):
        item = items[k]
        if isinstance(item, int):
            f = layers[item]
            args: dict[str, Any] = {}
            if f.named:
                args["name"] = f.name
            args.update(f.args)
            if f.inputs != [prev] or f.kind in _ALWAYS_INPUTS:
                args["inputs"] = list(f.inputs)
            out.append({f.kind: args})
            prev = f.name
            k += 1
            continue
        use: dict[str, Any]
        if k in stage_of:
            stage, e, q, values = stage_of[k]
            use = {"use": stage.name, "as": q, **values}
        elif k in repeat_at:
            e, (pre, post, start) = repeat_at[k]
            use = {"use": item.block.name, "as": pre + _counter(start) + post, "repeat": e - k}
            for param in item.block.params:
                values = [items[x].inst.args[param] for x in range(k, e)]
                use[param] = _expression(_form(values), values)
        else:
            e = k + 1
            use = {"use": item.block.name, "as": item.inst.prefix, **item.inst.args}
            if item.inst.prefix is None:
                del use["as"]
        if item.inst.ext != [prev]:
            use["inputs"] = list(item.inst.ext)
        out.append(use)
        prev = items[e - 1].output
        k = e
    return out, new_blocks


# ------------------------------------------------------------------ the whole


def recognise(
    data: Mapping[str, Any], *, stages: bool = True, repeats: bool = True, merge: bool = True
) -> dict[str, Any]:
    """The flat spec data ``data`` (``zoo.keras.importer.spec_data``) with its repeated blocks as
    ``blocks:``; checked by expanding it; the flat data itself where no block reproduces it."""
    if (
        "inputs" in data
        or not isinstance(data.get("layers"), list)
        or _has_expression(data["layers"])
        or any(_starts_with_equals(v) for k, v in data.items() if k != "layers")
    ):
        return dict(data)  # several inputs, or values the block language would read as expressions
    for attempt in (
        (stages, repeats, merge),
        (False, repeats, merge),
        (False, False, merge),
        (False, False, False),
    ):
        if not attempt[1] and attempt[0]:
            continue
        out = _recognise(data, stages=attempt[0], repeats=attempt[1], merge=attempt[2])
        if out is None:
            return dict(data)
        if not _differences(out, data):
            return out
    return dict(data)


def _recognise(data: Mapping[str, Any], *, stages: bool, repeats: bool, merge: bool) -> dict[str, Any] | None:
    layers = _layers(data)
    data_format = str(data.get("data_format", "channels_last"))
    free = [True] * len(layers)
    blocks: list[_Block] = []
    taken_blocks: set[str] = set()
    names = {f.name for f in layers}
    while True:  # by name prefix: the depth that saves the most first
        best: tuple[int, list[list[_Instance]]] = (0, [])
        for depth in range(1, MAX_DEPTH + 1):
            runs = [r for r in _prefix_runs(layers, free, depth) if r.prefix not in names]
            groups = _groups(layers, runs) if merge else _groups_strict(layers, runs)
            total = sum(_estimate(g) for g in groups if len(g) >= 2)
            if total > best[0]:
                best = (total, groups)
        if not best[0]:
            break
        made = _take(layers, best[1], blocks, taken_blocks, merge, data_format)
        if not made:
            break
        _claim(made, free)
    while True:  # by structure, among the layers left
        groups = _structural_runs(layers, free)
        made = _take(layers, groups, blocks, taken_blocks, False, data_format)
        if not made:
            break
        _claim(made, free)
    if not blocks:
        return None
    # a run's members are consecutive: an instance covers [start, end) and nothing else
    for b in blocks:
        for inst in b.instances:
            inst.members.sort()
            if inst.members != list(range(inst.start, inst.end)):
                return None
    items = _top_items(layers, blocks)
    top, stage_blocks = (
        _uses(items, layers, blocks, taken_blocks, stages) if repeats else _plain_uses(items, layers)
    )
    used = {u["use"] for u in top if "use" in u} | {
        it["use"] for b in stage_blocks for it in b.items if "use" in it
    }
    out: dict[str, Any] = {}
    # per-class defaults reach into nested Sequential models too: none where there are any
    defaults = {} if any(f.kind in _UNBLOCKED for f in layers) else _defaults(layers)
    for key, value in data.items():
        if key == "layers":
            if defaults:
                out["defaults"] = defaults
            out["blocks"] = {
                b.name: _block_data(b, defaults) for b in [*stage_blocks, *blocks] if b.name in used
            }
            out["layers"] = [_without_defaults(item, defaults) for item in top]
        else:
            out[key] = value
    return out


def _groups_strict(layers: list[_Layer], runs: list[_Instance]) -> list[list[_Instance]]:
    by_sig: dict[Any, list[_Instance]] = {}
    for run in runs:
        sig = _signature(layers, run.members, run.prefix)
        if sig is not None:
            by_sig.setdefault(sig[0], []).append(run)
    return list(by_sig.values())


def _plain_uses(items: list[Any], layers: list[_Layer]) -> tuple[list[dict[str, Any]], list[_Block]]:
    out: list[dict[str, Any]] = []
    prev = catalog.MODEL_INPUT
    for item in items:
        if isinstance(item, int):
            f = layers[item]
            args: dict[str, Any] = {"name": f.name} if f.named else {}
            args.update(f.args)
            if f.inputs != [prev] or f.kind in _ALWAYS_INPUTS:
                args["inputs"] = list(f.inputs)
            out.append({f.kind: args})
            prev = f.name
            continue
        use = {
            "use": item.block.name,
            **({"as": item.inst.prefix} if item.inst.prefix else {}),
            **item.inst.args,
        }
        if item.inst.ext != [prev]:
            use["inputs"] = list(item.inst.ext)
        out.append(use)
        prev = item.output
    return out, []


def _defaults(layers: list[_Layer]) -> dict[str, dict[str, Any]]:
    """Per class, the arguments every layer of it gives the same value (BatchNormalization's
    epsilon in ResNet), where the class appears at least twice."""
    out: dict[str, dict[str, Any]] = {}
    by_kind: dict[str, list[_Layer]] = {}
    for f in layers:
        by_kind.setdefault(f.kind, []).append(f)
    for kind, group in by_kind.items():
        if len(group) < 2 or kind in _UNBLOCKED or kind not in catalog.LAYERS:
            continue
        common = {
            k: v
            for k, v in group[0].args.items()
            if k not in ("name", "inputs", "layers") and all(k in f.args and f.args[k] == v for f in group)
        }
        if common:
            out[kind] = common
    return out


def _without_defaults(item: dict[str, Any], defaults: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    if "use" in item:
        return item
    [(kind, args)] = item.items()
    common = defaults.get(kind, {})
    return {kind: {k: v for k, v in args.items() if not (k in common and common[k] == v)}}


def _block_data(block: _Block, defaults: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"params": list(block.params)}
    if len(block.inputs) > 1:
        out["inputs"] = list(block.inputs)
    out["layers"] = [_without_defaults(item, defaults) for item in block.items]
    return out


# ------------------------------------------------------------------ the check, the text, the size


def _differences(blocked: Mapping[str, Any], flat: Mapping[str, Any]) -> list[str]:
    """Where expanding ``blocked`` differs from ``flat``: each layer's class, arguments and inputs,
    by name (empty: the same layers)."""
    from zoo.specification import family

    try:
        expanded = family.expand(dict(blocked), Source("<recognised>"), str(blocked.get("name", "")), {})
    except SpecError as exc:
        return [str(exc)]
    ours = {}
    for entry in expanded.data["layers"]:
        [(kind, args)] = entry.items()
        ours[args["name"]] = (
            kind,
            {k: v for k, v in args.items() if k not in ("name", "inputs")},
            list(args["inputs"]),
        )
    problems = []
    data_format = str(flat.get("data_format", "channels_last"))
    ours = {n: (k, _canonical(k, a, data_format), i) for n, (k, a, i) in ours.items()}
    theirs = _layers(flat)
    if len(theirs) != len(ours):
        problems.append(f"{len(ours)} layers instead of {len(theirs)}")
    for f in theirs:
        got = ours.get(f.name)
        if f.kind in _UNBLOCKED and got is not None:  # written as it was, at the top level
            got = (got[0], _canonical(f.kind, f.args, data_format), got[2])
        if got != (f.kind, _canonical(f.kind, f.args, data_format), f.inputs):
            problems.append(f"layer {f.name!r}: {got} instead of {(f.kind, f.args, f.inputs)}")
            if len(problems) > 5:
                break
    return problems


def _canonical(kind: str, args: Mapping[str, Any], data_format: str) -> dict[str, Any]:
    """A layer's arguments as it runs with them: given values normalised, the others the defaults."""
    if kind not in catalog.LAYERS:
        return dict(args)
    layer = catalog.LAYERS[kind]
    out = dict(catalog.resolve(layer, {"data_format": data_format} if "data_format" in layer.args else {}))
    for key, value in args.items():
        arg = layer.args.get(key)
        try:
            out[key] = arg.check(value, catalog.Ctx(Source(), (key,), layer.rank)) if arg else value
        except SpecError:
            out[key] = value
    out.pop("name", None)
    out.pop("inputs", None)
    return out


def dump(data: Mapping[str, Any]) -> str:
    """A spec's plain data as YAML text, one layer or use a line: ``blocks:`` with each block's
    params and layers, as zoo's family files are written."""
    import yaml

    def flow(value: Any) -> str:
        text = yaml.safe_dump(value, default_flow_style=True, width=10**9, sort_keys=False)
        return text.strip().removesuffix("...").strip()

    def item(entry: Mapping[str, Any]) -> str:
        if "use" in entry:
            return flow(dict(entry))
        [(kind, args)] = entry.items()
        return f"{flow(kind)}: {flow(args)}"

    lines = ["# yaml-language-server: $schema=spec.schema.json"]
    for key, value in data.items():
        if key == "layers":
            lines.append("layers:")
            lines += [f"  - {item(entry)}" for entry in value]
        elif key == "blocks":
            lines.append("blocks:")
            for name, block in value.items():
                lines.append(f"  {name}:")
                for part, content in block.items():
                    if part == "layers":
                        lines.append("    layers:")
                        lines += [f"      - {item(entry)}" for entry in content]
                    else:
                        lines.append(f"    {part}: {flow(content)}")
        elif key == "defaults":
            lines.append("defaults:")
            lines += [f"  {kind}: {flow(args)}" for kind, args in value.items()]
        elif isinstance(value, Mapping):
            lines.append(f"{key}: {flow(dict(value))}")
        else:
            lines.append(f"{key}: {flow(value)}")
    return "\n".join(lines) + "\n"


def size(text: str) -> tuple[int, int]:
    """(lines, nodes) of a spec file's text: its non-blank lines that are not only a comment, and
    its YAML nodes (every mapping key and every scalar value)."""
    import yaml

    lines = sum(1 for line in text.splitlines() if line.strip() and not line.strip().startswith("#"))

    def nodes(value: Any) -> int:
        if isinstance(value, Mapping):
            return sum(1 + nodes(v) for v in value.values())
        if isinstance(value, list):
            return sum(nodes(v) for v in value)
        return 1

    return lines, nodes(yaml.safe_load(text))


def block_count(data: Mapping[str, Any]) -> int:
    return len(data.get("blocks") or {})


__all__ = ["block_count", "dump", "recognise", "size"]
