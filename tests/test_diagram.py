"""``zoo diagram``: the DOT of every spec, block groups, collapsed blocks, arithmetic, rendering, errors.

The DOT is read back by a real DOT parser: Graphviz's own (``dot -Tdot_json``, no layout) where
``dot`` is installed, else pydot (pure Python; it reads the largest models' DOT slowly, so those are
left to Graphviz). Where both are there, they must read every spec's DOT alike: the same nodes,
labels, edges and clusters.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field

import pytest
from conftest import ROOT

import zoo
from zoo import diagram
from zoo.arith.summary import format_shape
from zoo.cli import main, parser

DOT = shutil.which("dot")
needs_dot = pytest.mark.skipif(DOT is None, reason="Graphviz's dot program is not installed")
try:
    import graphviz  # noqa: F401

    HAS_GRAPHVIZ_PACKAGE = True
except ImportError:
    HAS_GRAPHVIZ_PACKAGE = False
needs_graphviz = pytest.mark.skipif(
    DOT is None or not HAS_GRAPHVIZ_PACKAGE,
    reason="rendering needs Graphviz's dot program and the graphviz Python package",
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NS = "{http://www.w3.org/2000/svg}"


# ------------------------------------------------------------------ zoo's DOT, read back by pydot


@dataclass
class Parsed:
    """What a DOT text declares: nodes (id -> attributes), edges in order, clusters."""

    name: str = ""
    nodes: dict[str, dict[str, str]] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    clusters: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)  # id -> (label, all nodes)

    def label(self, node: str) -> str:
        return self.nodes[node]["label"]

    def labels(self) -> list[tuple[str, str]]:
        """Every node with its label, in declaration order."""
        return [(node, attrs["label"]) for node, attrs in self.nodes.items()]


def _value(token: str) -> str:
    """A DOT ID's string: quotes removed (only \\" is an escape in DOT), an HTML string's brackets removed."""
    if token.startswith('"'):
        return token[1:-1].replace('\\"', '"')
    if token.startswith("<"):
        return token[1:-1]
    return token


def parse_dot(text: str) -> Parsed:
    """zoo's DOT as pydot's parser reads it: nodes, edges and clusters in declaration order."""
    import pydot

    graphs = pydot.graph_from_dot_data(text)
    assert graphs is not None and len(graphs) == 1, "not one DOT graph"
    out = Parsed(name=_value(graphs[0].get_name()))

    def walk(graph) -> set[str]:  # in the text's order: pydot numbers each graph's statements
        declared: set[str] = set()
        items = [*graph.get_nodes(), *graph.get_edges(), *graph.get_subgraphs()]
        for item in sorted(items, key=lambda x: x.obj_dict["sequence"]):
            if isinstance(item, pydot.Subgraph):
                inner = walk(item)
                name = _value(item.get_name())
                assert name not in out.clusters, f"cluster {name} twice"
                out.clusters[name] = (_value(item.get_label() or ""), frozenset(inner))
                declared |= inner
            elif isinstance(item, pydot.Edge):
                out.edges.append((_value(item.get_source()), _value(item.get_destination())))
            elif item.get_name() not in ("graph", "node", "edge"):  # attribute statements
                node = _value(item.get_name())
                assert node not in out.nodes, f"node {node} declared twice"
                out.nodes[node] = {k: _value(str(v)) for k, v in item.get_attributes().items()}
                declared.add(node)
        return declared

    walk(graphs[0])
    return out


def graphviz_read(*texts: str) -> list[Parsed]:
    """What :func:`parse_dot` reads, read by Graphviz's own parser instead (``dot -Tdot_json``:
    no layout), all the texts in one run of ``dot``."""
    assert DOT is not None
    done = subprocess.run(
        [DOT, "-Tdot_json"], input="\n".join(texts).encode(), capture_output=True, check=True
    )
    decoder, output, pos, graphs = json.JSONDecoder(), done.stdout.decode(), 0, []
    while True:  # one JSON document per graph
        while pos < len(output) and output[pos].isspace():
            pos += 1
        if pos == len(output):
            return graphs
        data, pos = decoder.raw_decode(output, pos)
        graphs.append(_from_json(data))


def _from_json(data: dict) -> Parsed:
    count = data.get("_subgraph_cnt", 0)
    objects = data.get("objects", [])
    subgraphs, nodes = objects[:count], objects[count:]
    by_gvid = {n["_gvid"]: n["name"] for n in nodes}
    out = Parsed(name=data["name"])
    out.nodes = {n["name"]: {"label": n["label"]} for n in nodes}
    out.edges = [(by_gvid[e["tail"]], by_gvid[e["head"]]) for e in data.get("edges", [])]
    out.clusters = {
        s["name"]: (s.get("label", ""), frozenset(by_gvid[g] for g in s.get("nodes", []))) for s in subgraphs
    }
    return out


def read_dot(*texts: str) -> list[Parsed]:
    """The DOT texts read back by a real DOT parser: Graphviz's own where ``dot`` is installed (fast, all
    at once), else pydot's (pure Python, slow on the largest models: its texts over ``PYDOT_LIMIT``
    characters are skipped, saying so)."""
    if DOT is not None:
        return graphviz_read(*texts)
    if any(len(t) > PYDOT_LIMIT for t in texts):
        pytest.skip(
            f"pydot reads a DOT text of over {PYDOT_LIMIT:,} characters slowly; Graphviz's dot "
            "(apt-get install graphviz) reads every one"
        )
    return [parse_dot(t) for t in texts]


PYDOT_LIMIT = 40_000  # ResNet50's layers: about 37,000 characters, 1.8 s with pydot


def clusters(built: diagram.Diagram) -> list[tuple[str, frozenset[str]]]:
    """A built diagram's block instances: each cluster's label and the ids of every node inside it."""
    out: list[tuple[str, frozenset[str]]] = []

    def walk(items) -> set[str]:
        inside: set[str] = set()
        for item in items:
            if isinstance(item, diagram.Cluster):
                mine = walk(item.items)
                out.append((item.label, frozenset(mine)))
                inside |= mine
            else:
                inside.add(item.id)
        return inside

    walk(built.items)
    return out


def text_of(label: str) -> str:
    """An HTML-like label's text, tags removed, entities decoded, one line per <BR/>."""
    return html.unescape(re.sub(r"<(?!BR/>)[^>]*>", "", label).replace("<BR/>", "\n"))


# ------------------------------------------------------------------ every spec


# the largest families (hundreds of layers, most of a second each) in the slow tier
LARGE = (
    "nasnet",
    "efficientnet_v2_",
    "efficientnet_b",
    "inception_resnet",
    "convnext_",
    "densenet",
    "resnet152",
)


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=[pytest.mark.slow] if n.startswith(LARGE) else []) for n in zoo.names()],
)
def test_every_spec_has_one_node_per_row_and_one_edge_per_connection(name):
    summary = zoo.summary(name, engine="formula")
    [parsed] = read_dot(diagram.dot(name))
    assert parsed.name == name
    assert list(parsed.nodes) == ["input", *(r.name for r in summary.rows)]
    assert len(parsed.edges) == sum(len(r.connected_to) for r in summary.rows)
    assert Counter(parsed.edges) == Counter((s, r.name) for r in summary.rows for s in r.connected_to)
    for row in summary.rows:
        label = text_of(parsed.label(row.name)).splitlines()
        assert label[:3] == [row.name, row.type, format_shape(row.output_shape)]
        assert label[3].startswith(f"params {row.params:,}")


@needs_dot
@pytest.mark.slow
@pytest.mark.large  # every spec, the keras.applications families included: the large tier
def test_graphviz_reads_every_spec_as_pydot_does():
    """The DOT of every spec at every detail is valid for Graphviz, and pydot reads it as Graphviz
    does (the specs whose DOT pydot reads in good time)."""
    cases = [(name, detail) for name in zoo.names() for detail in diagram.DETAILS]
    texts = [diagram.dot(name, detail=detail, arithmetic=True) for name, detail in cases]
    cases, texts = zip(*[(c, t) for c, t in zip(cases, texts) if len(t) <= PYDOT_LIMIT], strict=True)
    for case, text, theirs in zip(cases, texts, graphviz_read(*texts), strict=True):
        ours = parse_dot(text)
        assert ours.labels() == theirs.labels(), case
        assert (ours.name, ours.clusters) == (theirs.name, theirs.clusters), case
        # Graphviz lists the edges in an order of its own
        assert Counter(ours.edges) == Counter(theirs.edges), case


def test_quoting_and_escaping_survive_graphviz_s_parser():
    odd = diagram.Node(
        id='a "quoted" id',
        title="x < y & z > w",
        kind='say "hi"',
        output_shape=(None, 3),
        params=1,
        trainable_params=1,
        layers=("a",),
    )
    cluster = diagram.Cluster('a "label" with \\ a backslash', [odd])
    text = diagram.to_dot(diagram.Diagram('my "model"', (cluster,), ((odd.id, odd.id),), 1))
    for parsed in [parse_dot(text), *(graphviz_read(text) if DOT else [])]:
        assert parsed.name == 'my "model"'
        assert [node for node, _ in parsed.labels()] == ['a "quoted" id']
        assert text_of(parsed.label('a "quoted" id')).splitlines()[:2] == ["x < y & z > w", 'say "hi"']
        assert parsed.edges == [('a "quoted" id', 'a "quoted" id')]
        # DOT keeps "\\" as written; Graphviz draws it as one backslash (see the rendering test)
        shown = 'a "label" with \\\\ a backslash'
        assert parsed.clusters == {"cluster_0": (shown, frozenset({'a "quoted" id'}))}


# ------------------------------------------------------------------ block groups


def instances(name: str) -> dict[str, list[str]]:
    """From the expansion's provenance: each block instance, labelled as `zoo show --expanded` names
    it, with every layer it produced (nested instances included). For specs whose instances have
    names of their own, unique in the model."""
    spec = zoo.spec(name)
    found: dict[str, list[str]] = {}
    for layer, prov in zip(spec.layers, spec.origin.provenance):
        for use in prov.chain:
            assert use.instance, f"{name}: an unnamed instance; this test reads named ones"
            found.setdefault(f"{use.instance} ({use.block})", []).append(layer.name)
    return found


@pytest.mark.parametrize("name", ["resnet50", "mobilenet_v2", "densenet121"])
def test_block_groups_hold_exactly_the_layers_of_their_instance(name):
    expected = {label: frozenset(layers) for label, layers in instances(name).items()}
    found = clusters(diagram.build(name))
    assert len(found) == len(expected)  # one cluster per instance, never split
    assert dict(found) == expected
    if name == "resnet50":  # and the DOT says so, read back by a DOT parser
        rows = [r.name for r in zoo.summary(name, engine="formula").rows]
        first = frozenset(n for n in rows if n.startswith("conv2_block1_"))
        [parsed] = read_dot(diagram.dot(name))
        assert parsed.clusters["cluster_1"] == ("conv2_block1 (bottleneck)", first)
        assert sorted(parsed.clusters.values()) == sorted(found)


def test_plain_specs_have_no_groups():
    assert parse_dot(diagram.dot("unet_small")).clusters == {}


# ------------------------------------------------------------------ collapsed blocks


def test_resnet50_blocks_is_its_stem_four_folded_stages_of_blocks_and_head():
    spec = zoo.spec("resnet50")
    summary = zoo.summary("resnet50", engine="formula")
    chains = [prov.chain for prov in spec.origin.provenance]
    innermost: dict[str, list[str]] = {}  # instance -> its layers, from the provenance
    stage_of: dict[str, str] = {}
    for layer, chain in zip(spec.layers, chains):
        if chain:
            innermost.setdefault(chain[-1].instance, []).append(layer.name)
            stage_of[chain[-1].instance] = chain[0].instance
    plain = [layer.name for layer, chain in zip(spec.layers, chains) if not chain]
    assert len(innermost) == 16 and plain[:2] == ["conv1_pad", "conv1_conv"] and plain[-1] == "predictions"
    # consecutive bottleneck instances (a stage's repeat) fold into one node each
    folded: dict[str, list[str]] = {}
    for instance, names in innermost.items():
        folded.setdefault(stage_of[instance], []).extend(names)

    built = diagram.build("resnet50", detail="blocks")
    nodes = built.nodes()
    assert len(nodes) == 1 + len(plain) + len(folded)
    collapsed = [n for n in nodes if n.collapsed]
    assert [list(n.layers) for n in collapsed] == list(folded.values())
    firsts_lasts = [(s + "_block1", [i for i in innermost if stage_of[i] == s][-1]) for s in folded]
    assert [n.title for n in collapsed] == [f"{a} … {b}" for a, b in firsts_lasts]
    for node in collapsed:
        rows = [summary.row(name) for name in node.layers]
        assert node.params == sum(r.params for r in rows)
        assert node.trainable_params == sum(r.trainable_params for r in rows)
        assert node.output_shape == rows[-1].output_shape

    parsed = parse_dot(diagram.to_dot(built))
    assert len(parsed.nodes) == len(nodes)
    for node in collapsed:
        label = text_of(parsed.label(node.id))
        assert f"{node.title}\nbottleneck block, {len(node.layers)} layers\n" in label
        assert f"params {node.params:,}" in label
    assert {label for label, _ in parsed.clusters.values()} == {f"conv{i} (stack)" for i in range(2, 6)} | {
        "bottleneck ×3",
        "bottleneck ×4",
        "bottleneck ×6",
    }
    # edges follow the layer connections: no self-loops, no duplicates, nothing missing
    owner = {"input": "input"} | {r.name: r.name for r in summary.rows}
    owner |= {layer: n.id for n in collapsed for layer in n.layers}
    wanted = {(owner[s], owner[r.name]) for r in summary.rows for s in r.connected_to} - {
        (a, a) for a in owner.values()
    }
    assert len(parsed.edges) == len(set(parsed.edges)) == len(wanted)
    assert set(parsed.edges) == wanted


def test_stages_collapse_the_outermost_instances():
    nodes = diagram.build("resnet50", detail="stages").nodes()
    assert [n.title for n in nodes if n.collapsed] == ["conv2", "conv3", "conv4", "conv5"]
    assert sum(n.params for n in nodes) == zoo.summary("resnet50", engine="formula").total_params


def test_instances_without_a_name_of_their_own_are_named_by_their_arguments():
    mobilenet = [n for n in diagram.build("mobilenet", detail="blocks").nodes() if n.collapsed]
    # its thirteen separable blocks follow one another: one node, "×13", named by the first and last
    layers = mobilenet[0].layers
    assert len(mobilenet) == 1 and (layers[0], layers[-1]) == ("conv_dw_1", "conv_pw_13_relu")
    first, last = mobilenet[0].title.split(" … ")
    assert first == "separable(filters=64, block_id=1, stride=1)" and "block_id=13" in last
    # InceptionResNetV2's conv2d_bn uses inside block35_1 have no `as:` and inherit its name
    labels = [label for label, _ in clusters(diagram.build("inception_resnet_v2"))]
    assert "block35_1 (inception_resnet_block)" in labels and "block35_1 (conv2d_bn)" not in labels
    assert (
        "conv2d_bn(filters=32, kernel=1, strides=1, padding='same', activation='relu', use_bias=false, "
        "named=false)" in labels
    )


@pytest.mark.parametrize("detail", diagram.DETAILS)
def test_every_row_is_drawn_once_at_every_detail(detail):
    for name in ("inception_resnet_v2", "mobilenet", "efficientnet_b0", "vgg16_transfer"):
        summary = zoo.summary(name, engine="formula")
        nodes = diagram.build(name, detail=detail).nodes()
        assert sorted(layer for n in nodes for layer in n.layers) == sorted(r.name for r in summary.rows)
        assert sum(n.params for n in nodes) == summary.total_params


# ------------------------------------------------------------------ arithmetic


def explained(name: str) -> dict[str, list[str]]:
    """zoo explain's worked lines per layer: 'conv2d: out = ...; params = ...' -> {conv2d: [...]}."""
    out = {}
    for line in zoo.explain(name).splitlines()[2:]:
        match = re.match(r"(\w+)(?: \[from [^\]]*\])?: (.*)", line)
        if match:
            out[match[1]] = match[2].split("; ")
    return out


@pytest.mark.parametrize("name", ["conv2d_stride2", "unet_small"])
def test_arithmetic_labels_hold_zoo_explain_s_lines(name):
    parsed = parse_dot(diagram.dot(name, arithmetic=True))
    plain = parse_dot(diagram.dot(name))
    work = explained(name)
    assert set(work) == {r.name for r in zoo.summary(name, engine="formula").rows}
    for layer, lines in work.items():
        for line in lines:
            assert line in text_of(parsed.label(layer)).splitlines()
            assert line not in text_of(plain.label(layer))
    if name == "conv2d_stride2":
        label = text_of(parsed.label("conv2d")).splitlines()
        assert "out = floor((64 - 3 + 2) / 2) + 1 = 32" in label
        assert "params = (3*3*3 + 1) * 32 = 896" in label


def test_arithmetic_of_a_nested_base_lists_its_layers():
    label = text_of(parse_dot(diagram.dot("vgg16_transfer", arithmetic=True)).label("vgg16"))
    lines = zoo.explain("vgg16_transfer").splitlines()
    inner = [line.strip() for line in lines if line.startswith("    block")]
    assert inner and all(line in label for line in inner)


# ------------------------------------------------------------------ rendering


RENDERED = [("conv2d_stride2", []), ("unet_small", []), ("resnet50", ["--detail", "blocks"])]


@needs_graphviz
@pytest.mark.parametrize(("name", "options"), RENDERED, ids=[n for n, _ in RENDERED])
def test_svg_and_png_render(name, options, tmp_path, capsys):
    svg, png = tmp_path / f"{name}.svg", tmp_path / f"{name}.png"
    assert main(["diagram", name, *options, "-o", str(svg)]) == 0
    assert main(["diagram", name, *options, "-o", str(png)]) == 0
    assert capsys.readouterr().out == f"wrote {svg}\nwrote {png}\n"
    texts = {t.text for t in ET.parse(svg).getroot().iter(f"{SVG_NS}text")}
    for node in diagram.build(name, detail=options[-1] if options else "layers").nodes():
        assert node.title in texts
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([svg.name, png.name])  # no temporary files


@needs_graphviz
def test_svg_shows_escaped_labels_as_written():
    node = diagram.Node(id="n", title='x < "y" & z', kind="K", output_shape=(None, 1), layers=("n",))
    cluster = diagram.Cluster("back\\slash", [node])
    svg = diagram.render(diagram.to_dot(diagram.Diagram("m", (cluster,), (), 0)), "svg")
    texts = {t.text for t in ET.fromstring(svg).iter(f"{SVG_NS}text")}
    assert {'x < "y" & z', "back\\slash"} <= texts


def test_svg_to_stdout_and_dot_by_default(capsys):
    assert main(["diagram", "conv2d"]) == 0
    assert parse_dot(capsys.readouterr().out).name == "conv2d"
    if DOT and HAS_GRAPHVIZ_PACKAGE:
        assert main(["diagram", "conv2d", "--format", "svg"]) == 0
        assert ET.fromstring(capsys.readouterr().out).tag == f"{SVG_NS}svg"


# ------------------------------------------------------------------ without Graphviz


@pytest.mark.parametrize("missing", ["program", "package"])
def test_without_graphviz_svg_fails_clearly_and_writes_nothing(missing, tmp_path, monkeypatch, capsys):
    if missing == "program":
        empty = tmp_path / "empty"
        empty.mkdir()
        monkeypatch.setenv("PATH", str(empty))
    else:
        monkeypatch.setitem(sys.modules, "graphviz", None)  # `import graphviz` raises ImportError
    out = tmp_path / "out"
    for fmt in ("svg", "png"):
        assert main(["diagram", "unet_small", "-o", str(out / f"unet.{fmt}")]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"zoo: error: --format {fmt} needs ")
        for advice in ("apt-get install graphviz", "brew install graphviz", "pip install graphviz"):
            assert advice in err
    assert not out.exists()
    assert main(["diagram", "unet_small", "-o", str(out / "unet.dot")]) == 0  # DOT needs no Graphviz
    assert [p.name for p in out.iterdir()] == ["unet.dot"]
    assert parse_dot((out / "unet.dot").read_text()).name == "unet_small"


def test_a_failed_render_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "m.svg"
    target.write_text("old")
    monkeypatch.setitem(sys.modules, "graphviz", None)
    assert main(["diagram", "conv2d", "-o", str(target)]) == 2
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["m.svg"]


def test_diagram_is_formula_only():
    code = (
        "import sys\n"
        "from zoo.cli import main\n"
        "assert main(['diagram', 'unet_small', '--format', 'dot']) == 0\n"
        "assert main(['diagram', 'resnet50', '--detail', 'blocks', '--arithmetic']) == 0\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'graphviz'))\n"
        "print('modules:', bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-1] == "modules: []"


# ------------------------------------------------------------------ the command line


def test_cli_takes_the_module_s_formats_and_details(capsys):
    for fmt in diagram.FORMATS:
        assert parser().parse_args(["diagram", "x", "--format", fmt]).format == fmt
    for detail in diagram.DETAILS:
        assert parser().parse_args(["diagram", "x", "--detail", detail]).detail == detail
    for bad in (["--format", "jpeg"], ["--detail", "everything"]):
        with pytest.raises(SystemExit):
            parser().parse_args(["diagram", "x", *bad])
    assert "invalid choice: 'everything'" in capsys.readouterr().err


@pytest.mark.slow  # seconds: the inner loop's budget
def test_cli_takes_the_overrides(capsys):
    assert main(["diagram", "resnet50", "--set", "include_top=false", "--input-shape", "64,64,3"]) == 0
    parsed = parse_dot(capsys.readouterr().out)
    assert "predictions" not in parsed.nodes and "avg_pool" not in parsed.nodes
    assert text_of(parsed.label("input")).splitlines()[-1] == "(None, 64, 64, 3)"
    assert text_of(parsed.label("conv5_block3_out")).splitlines()[2] == "(None, 2, 2, 2048)"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["diagram", "resnet5"], "did you mean"),
        (["diagram", "conv2d", "--format", "png"], "PNG is binary: name a file with -o FILE.png"),
        (
            ["diagram", "conv2d", "-o", "x.svg", "--format", "png"],
            "x.svg has the suffix of svg, but --format",
        ),
        (["diagram", "conv2d", "-o", "x.jpeg"], "cannot tell the format of 'x.jpeg'"),
        (["diagram", "conv2d", "--set", "alpha"], "--set takes KEY=VALUE"),
    ],
)
def test_cli_errors(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("zoo: error: ") and message in err
    assert list(tmp_path.iterdir()) == []


def test_written_files_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        assert main(["diagram", "conv2d", "-o", str(tmp_path / "sub" / "m.dot")]) == 0
    finally:
        os.umask(old)
    assert (tmp_path / "sub" / "m.dot").stat().st_mode & 0o777 == 0o644


@needs_graphviz
def test_tool_draws_the_readme_pictures_with_the_command(tmp_path):
    done = subprocess.run(
        [sys.executable, "tools/diagrams.py", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines() == [
        f"wrote {tmp_path / 'unet_small.svg'}",
        f"wrote {tmp_path / 'resnet50_blocks.svg'}",
    ]
    for svg, name, detail in [
        ("unet_small.svg", "unet_small", "layers"),
        ("resnet50_blocks.svg", "resnet50", "blocks"),
    ]:
        texts = {t.text for t in ET.parse(tmp_path / svg).getroot().iter(f"{SVG_NS}text")}
        assert {n.title for n in diagram.build(name, detail=detail).nodes()} <= texts
        shipped = ROOT / "docs" / svg  # README shows these: they must draw the same nodes
        assert texts == {t.text for t in ET.parse(shipped).getroot().iter(f"{SVG_NS}text")}
