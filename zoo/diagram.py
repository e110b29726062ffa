"""``zoo diagram``: a picture of a model, drawn from the formula engine's summary.

One node per summary row (its name, type, output shape and parameters) plus one
for the model's input; one edge per entry of a row's ``connected_to``. Layers
that came from one block instance of a family file are drawn inside a Graphviz
cluster labelled with the instance, as ``zoo show NAME --expanded`` names it
(``conv2_block1 (bottleneck)``); clusters nest as the block uses do.

Levels of detail:

- ``layers``: every layer, block instances as (nested) clusters;
- ``blocks``: each innermost block instance collapsed into one node with its
  totals, the instances around it still drawn as clusters, and consecutive
  instances of one block (a ``repeat:``) folded into one node in a cluster marked
  ``×N`` (ResNet50: its stem, four stages of a bottleneck block ×3, ×4, ×6, ×3, and head);
- ``stages``: each outermost block instance collapsed (ResNet50: conv2 ... conv5).

Edges between collapsed nodes follow the layer connections, without self-loops
or duplicates. ``arithmetic=True`` adds each layer's worked formula, the very
lines ``zoo explain`` prints (the formula engine's ``Step.work``).

The DOT text is built here; only SVG and PNG need Graphviz (the ``graphviz``
Python package, a dependency of zoo's, and the system's ``dot`` program), imported
when rendering. Nothing here imports TensorFlow or Keras.
"""

from __future__ import annotations

import dataclasses
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zoo
from zoo import arith
from zoo.arith.step import shown
from zoo.arith.summary import OutputShape, Row, format_shape
from zoo.specification import catalog
from zoo.specification.errors import SpecError, show
from zoo.specification.model import Layer, Spec
from zoo.specification.provenance import ExpandedSource, Use

DETAILS = ("layers", "blocks", "stages")
FORMATS = ("svg", "png", "dot")
SUFFIXES = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot"}
INSTALL_HELP = (
    "Install Graphviz (Debian/Ubuntu: apt-get install graphviz; Fedora: dnf install graphviz; macOS: "
    "brew install graphviz; conda: conda install graphviz); its Python package is one of zoo's "
    "dependencies (where it is missing: pip install graphviz); --format dot needs neither."
)

_FILL = {
    "input": "#e3f2e1",
    "layer": "#ffffff",
    "frozen": "#e6e6e6",
    "block": "#e3ecf7",
    "unchecked": "#fde9d9",
}


@dataclass(frozen=True)
class Node:
    """One box of the picture: a layer, a collapsed block instance, or the model's input."""

    id: str  # the layer's name, "input", or "block:N" (layer names cannot contain ':')
    title: str
    kind: str  # the layer's class, the block's name, or "Input"
    output_shape: OutputShape
    params: int = 0
    trainable_params: int = 0
    layers: tuple[str, ...] = ()  # the summary rows it stands for
    work: tuple[str, ...] = ()  # the worked arithmetic, as ``zoo explain`` prints it
    fill: str = "layer"

    @property
    def collapsed(self) -> bool:
        return self.id.startswith("block:")


@dataclass
class Cluster:
    """A block instance drawn as a box around its layers (and the instances inside it)."""

    label: str
    items: list[Node | Cluster] = field(default_factory=list)


@dataclass(frozen=True)
class Diagram:
    """A model's picture before it is written as DOT: nested items and edges between node ids."""

    name: str
    items: tuple[Node | Cluster, ...]
    edges: tuple[tuple[str, str], ...]
    total_params: int

    def nodes(self) -> list[Node]:
        """Every node, clusters flattened, in drawing order."""
        out: list[Node] = []
        stack: list[Node | Cluster] = list(reversed(self.items))
        while stack:
            item = stack.pop()
            if isinstance(item, Cluster):
                stack.extend(reversed(item.items))
            else:
                out.append(item)
        return out


def own_name(chain: tuple[Use, ...], level: int) -> str:
    """The instance name of ``chain[level]``, or "" where its use had no ``as:`` (it inherits the name
    of the instance around it, as InceptionResNetV2's conv2d_bn uses inside block35_1 do)."""
    name = chain[level].instance
    return "" if level and name == chain[level - 1].instance else name


def instance_label(chain: tuple[Use, ...], level: int) -> str:
    """``conv2_block1 (bottleneck)``, as ``zoo show --expanded`` says; unnamed: ``block(arguments)``."""
    use, name = chain[level], own_name(chain, level)
    if name:
        return f"{name} ({use.block})"
    args = ", ".join(f"{k}={show(v)}" for k, v in use.bound if k != "i")
    return f"{use.block}({args})"


def chains(spec: Spec) -> list[tuple[Use, ...]]:
    """For each layer, the block uses that produced it, outermost first (empty for a plain spec).

    The expansion makes one ``Use`` per block instance, shared by all its layers: an
    instance is identified by that object, so two unnamed instances never merge.
    """
    source = spec.origin
    if not isinstance(source, ExpandedSource):
        return [() for _ in spec.layers]
    return [source.provenance[layer.index].chain for layer in spec.layers]


def build(
    name_or_spec: str | Spec, *, detail: str = "layers", arithmetic: bool = False, **overrides: Any
) -> Diagram:
    """The diagram of a spec (by name, with keyword ``overrides`` as for :func:`zoo.summary`)."""
    if detail not in DETAILS:
        raise SpecError(f"unknown detail. Received: {detail!r}. Valid: {', '.join(DETAILS)}")
    if isinstance(name_or_spec, Spec) and overrides:
        raise SpecError(f"overrides ({', '.join(overrides)}) apply to specs given by name")
    spec = name_or_spec if isinstance(name_or_spec, Spec) else zoo.spec(name_or_spec, **overrides)
    computed = arith.steps(spec)
    summary = arith.summarize(spec, computed)  # what zoo.summary(name, engine="formula") returns
    drawn = _drawn_rows(computed, summary)
    uses = chains(spec)
    # how many uses deep each row is collapsed: 0 draws the layer itself
    depth = [{"layers": 0, "blocks": len(c), "stages": min(1, len(c))}[detail] for c in uses]
    groups: dict[tuple[int, ...], list[int]] = {}  # a collapsed instance -> its rows
    for i, (chain, d) in enumerate(zip(uses, depth)):
        if d:
            groups.setdefault(_key(chain[:d]), []).append(i)
    # instances drawn as clusters around collapsed ones: a collapsed instance's own layers
    # (InceptionResNetV2's block35_1 around its conv2d_bn blocks) are drawn inside its cluster
    around_others = {_key(chain[:k]) for chain, d in zip(uses, depth) for k in range(1, d)}

    top: list[Node | Cluster] = [
        Node(name, name, "Input", (None, *shape), fill="input") for name, shape in spec.inputs
    ]
    clusters: dict[tuple[int, ...], Cluster] = {}

    def container(around: tuple[Use, ...]) -> list[Node | Cluster]:
        """The item list of the innermost cluster of ``around``, creating the clusters on the way."""
        items = top
        for level in range(len(around)):
            key = _key(around[: level + 1])
            if key not in clusters:
                clusters[key] = Cluster(instance_label(around, level))
                items.append(clusters[key])
            items = clusters[key].items
        return items

    node_of = {name: name for name, _ in spec.inputs}  # row name -> the id of the node that draws it
    collapsed = 0
    for i, ((_, _, step), row, chain, d) in enumerate(zip(computed, drawn, uses, depth)):
        if not d:
            work = (*step.work, *(f"{name}: {'; '.join(inner.work)}" for name, inner in step.inner))
            node_of[row.name] = row.name
            container(chain).append(
                Node(
                    id=row.name,
                    title=row.name,
                    kind=row.type,
                    output_shape=row.output_shape,
                    params=row.params,
                    trainable_params=row.trainable_params,
                    layers=(row.name,),
                    work=work if arithmetic else (),
                    fill="unchecked" if row.unchecked else ("layer" if row.trainable else "frozen"),
                )
            )
            continue
        members = groups[_key(chain[:d])]
        if i != members[0]:
            continue  # drawn with the instance's first row
        rows = [drawn[k] for k in members]
        node = Node(
            id=f"block:{collapsed}",
            title=own_name(chain, d - 1) or instance_label(chain, d - 1),
            kind=chain[d - 1].block,
            output_shape=rows[-1].output_shape,
            params=sum(r.params for r in rows),
            trainable_params=sum(r.trainable_params for r in rows),
            layers=tuple(r.name for r in rows),
            fill="block",
        )
        container(chain[:d] if _key(chain[:d]) in around_others else chain[: d - 1]).append(node)
        node_of.update((r.name, node.id) for r in rows)
        collapsed += 1
    if detail == "blocks":
        _fold_repeats(top, node_of)
    return Diagram(
        spec.name, tuple(top), _edges(tuple(drawn), node_of, dedupe=detail != "layers"), summary.total_params
    )


def _fold_repeats(items: list[Node | Cluster], node_of: dict[str, str]) -> None:
    """Consecutive collapsed instances of one block (a ``repeat:``, a stage's blocks) folded into
    one node inside a cluster marked ``×N``; its edges are the first's in and the last's out."""
    k = 0
    while k < len(items):
        item = items[k]
        if isinstance(item, Cluster):
            _fold_repeats(item.items, node_of)
            k += 1
            continue
        end = k + 1
        while (
            item.collapsed
            and end < len(items)
            and isinstance(items[end], Node)
            and items[end].collapsed  # type: ignore[union-attr]
            and items[end].kind == item.kind  # type: ignore[union-attr]
        ):
            end += 1
        if end - k < 2:
            k += 1
            continue
        run = [x for x in items[k:end] if isinstance(x, Node)]
        folded = dataclasses.replace(
            run[0],
            title=f"{run[0].title} … {run[-1].title}",
            output_shape=run[-1].output_shape,
            params=sum(n.params for n in run),
            trainable_params=sum(n.trainable_params for n in run),
            layers=tuple(name for n in run for name in n.layers),
        )
        for name in folded.layers:
            node_of[name] = folded.id
        items[k:end] = [Cluster(f"{item.kind} ×{len(run)}", [folded])]
        k += 1


def _drawn_rows(computed: list[tuple[Layer, Any, Any]], summary: Any) -> list[Row]:
    """One row per spec entry, as the picture draws it: a layer's summary row taking the spec's own
    inputs, and for a layer called again (``Call``) a node of its own, its weights counted at the
    layer's."""
    by_name = {r.name: r for r in summary.rows}
    out = []
    for layer, _, step in computed:
        if layer.kind == catalog.CALL:
            of = by_name[layer.args["layer"]]
            out.append(
                dataclasses.replace(
                    of,
                    name=layer.name,
                    type=f"{of.type}, {of.name}'s weights",
                    output_shape=shown(step.shape),
                    params=0,
                    trainable_params=0,
                    connected_to=layer.inputs,
                )
            )
        else:
            out.append(dataclasses.replace(by_name[layer.name], connected_to=layer.inputs))
    return out


def _edges(rows: tuple[Row, ...], node_of: dict[str, str], *, dedupe: bool) -> tuple[tuple[str, str], ...]:
    """One edge per connection; with ``dedupe`` (collapsed nodes) no self-loops and no repeats."""
    edges: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for row in rows:
        for source in row.connected_to:  # lstm:1 (a layer's second output) is drawn from lstm
            edge = (node_of[catalog.split_ref(source)[0]], node_of[row.name])
            if not dedupe or (edge[0] != edge[1] and edge not in seen):
                edges.append(edge)
                seen.add(edge)
    return tuple(edges)


def _key(uses: tuple[Use, ...]) -> tuple[int, ...]:
    return tuple(id(u) for u in uses)


# ------------------------------------------------------------------ DOT


def quote(text: str) -> str:
    """A DOT double-quoted string: ``"`` and ``\\`` escaped (labels read ``\\`` as one backslash)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _html(text: str) -> str:
    return html.escape(text, quote=False)


def node_label(node: Node) -> str:
    """The node's HTML-like label: name in bold, then type, output shape, parameters, arithmetic."""
    lines = [f"<B>{_html(node.title)}</B>"]
    if node.collapsed:
        count = len(node.layers)
        lines.append(_html(f"{node.kind} block, {count} layer{'s' if count != 1 else ''}"))
    else:
        lines.append(_html(node.kind))
    lines.append(_html(format_shape(node.output_shape)))
    if node.fill != "input":
        frozen = node.params - node.trainable_params
        lines.append(f"params {node.params:,}" + (f" ({frozen:,} non-trainable)" if frozen else ""))
    if node.fill == "unchecked":
        lines.append(_html("unchecked: shape and params from Keras at import"))
    lines += [f'<FONT POINT-SIZE="9" COLOR="#1f4e79">{_html(line)}</FONT>' for line in node.work]
    return "<" + "<BR/>".join(lines) + ">"


def to_dot(diagram: Diagram) -> str:
    """The diagram as DOT text: nodes in definition order, clusters nested, then the edges."""
    title = f"{diagram.name}: {diagram.total_params:,} params"
    out = [
        f"digraph {quote(diagram.name)} {{",
        f'  graph [label={quote(title)}, labelloc=t, fontname="Helvetica", fontsize=14];',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
        '  edge [color="#555555", arrowsize=0.6];',
    ]
    clusters = 0

    def emit(items: list[Node | Cluster] | tuple[Node | Cluster, ...], indent: str) -> None:
        nonlocal clusters
        for item in items:
            if isinstance(item, Cluster):
                out.append(f"{indent}subgraph {quote(f'cluster_{clusters}')} {{")
                out.append(f'{indent}  label={quote(item.label)}; style="rounded"; color="#8c8c8c";')
                clusters += 1
                emit(item.items, indent + "  ")
                out.append(f"{indent}}}")
            else:
                shape = ", shape=oval" if item.fill == "input" else ""
                out.append(
                    f"{indent}{quote(item.id)} [label={node_label(item)}, "
                    f'fillcolor="{_FILL[item.fill]}"{shape}];'
                )

    emit(diagram.items, "  ")
    out += [f"  {quote(a)} -> {quote(b)};" for a, b in diagram.edges]
    out.append("}")
    return "\n".join(out) + "\n"


def dot(
    name_or_spec: str | Spec, *, detail: str = "layers", arithmetic: bool = False, **overrides: Any
) -> str:
    """The DOT text of a spec's diagram (see :func:`build`)."""
    return to_dot(build(name_or_spec, detail=detail, arithmetic=arithmetic, **overrides))


# ------------------------------------------------------------------ rendering and writing


def render(dot_text: str, fmt: str) -> bytes:
    """``dot_text`` as ``fmt`` (svg, png or dot); SVG and PNG through Graphviz, imported here."""
    if fmt not in FORMATS:
        raise SpecError(f"unknown format. Received: {fmt!r}. Valid: {', '.join(FORMATS)}")
    if fmt == "dot":
        return dot_text.encode("utf-8")
    try:
        import graphviz
    except ImportError:
        missing = "the graphviz Python package, which is not installed"
        raise SpecError(f"--format {fmt} needs {missing}. {INSTALL_HELP}") from None
    try:
        return graphviz.Source(dot_text).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        missing = "Graphviz's dot program, which is not on PATH"
        raise SpecError(f"--format {fmt} needs {missing}. {INSTALL_HELP}") from None
    except graphviz.CalledProcessError as exc:
        said = exc.stderr.decode("utf-8", "replace") if isinstance(exc.stderr, bytes) else str(exc.stderr)
        raise SpecError(f"Graphviz's dot failed: {said.strip()}") from None


def output_format(path: Path | None, fmt: str | None) -> str:
    """The format asked for: ``fmt``, else the file's suffix, else dot; a contradiction is an error."""
    implied = SUFFIXES.get(path.suffix.lower()) if path is not None else None
    if fmt is not None:
        if implied is not None and implied != fmt:
            raise SpecError(f"{path} has the suffix of {implied}, but --format is {fmt}")
        return fmt
    if path is not None and implied is None:
        raise SpecError(
            f"cannot tell the format of {path.name!r}: name it .svg, .png or .dot or pass --format"
        )
    return implied or "dot"
