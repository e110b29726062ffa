"""``zoo import --blocks``: an imported model written with its repeated blocks (issue 24).

The judge is the flat import and Keras: the spec with blocks must expand to the very layers the
flat import lists (names, classes, arguments, inputs) and build the model it came from
(``importer.same_model``, then the test's own comparison, ``rebuilds``). The expectations about
the blocks (one block, ``repeat: 3``) come from how the hand-made models below were written.
"""

from __future__ import annotations

import keras_io_models
import pytest
import yaml
from test_import import rebuilds

import zoo
from zoo.cli import main
from zoo.specification import catalog, recognise

ROOT_SPECS = __import__("pathlib").Path(__file__).resolve().parent.parent / "specs"


def residual_flat(blocks: int = 3) -> dict:
    """The flat spec data of ``blocks`` identical residual blocks, as zoo import writes it."""
    layers: list[dict] = [{"Conv2D": {"name": "stem", "filters": 8, "kernel_size": 3, "padding": "same"}}]
    prev = "stem"
    for k in range(1, blocks + 1):
        p = f"res{k}"
        layers += [
            {
                "Conv2D": {
                    "name": f"{p}_conv1",
                    "filters": 8,
                    "kernel_size": 3,
                    "padding": "same",
                    "activation": "relu",
                }
            },
            {"Conv2D": {"name": f"{p}_conv2", "filters": 8, "kernel_size": 3, "padding": "same"}},
            {"Add": {"name": f"{p}_add", "inputs": [prev, f"{p}_conv2"]}},
            {"Activation": {"name": f"{p}_out", "activation": "relu"}},
        ]
        prev = f"{p}_out"
    layers.append({"GlobalAveragePooling2D": {}})
    return {
        "name": "res",
        "description": "three blocks",
        "input": [16, 16, 8],
        "model": "functional",
        "layers": layers,
    }


def args(layer) -> dict:
    """A layer's arguments as it runs with them (its name and inputs compared on their own)."""
    return {k: v for k, v in layer.resolved().items() if k not in ("name", "inputs")}


def test_three_identical_residual_blocks_are_one_block_repeated_three_times():
    flat = residual_flat(3)
    out = recognise.recognise(flat)
    assert list(out["blocks"]) == ["res"]
    [use] = [item for item in out["layers"] if "use" in item]
    assert (use["use"], use["as"], use["repeat"]) == ("res", "res{i}", 3)
    # the written file reads back, and expands to the flat spec's layers (zoo's own validation)
    text = recognise.dump(out)
    assert yaml.safe_load(text) == out
    ours = zoo.Spec.from_yaml(text)
    theirs = zoo.Spec.from_dict(flat)
    assert [(x.name, x.kind, x.inputs) for x in ours.layers] == [
        (x.name, x.kind, x.inputs) for x in theirs.layers
    ]
    assert [args(x) for x in ours.layers] == [args(x) for x in theirs.layers]
    assert recognise.size(text)[1] < recognise.size(zoo.Spec.from_dict(flat).to_yaml())[1]


def test_a_block_whose_first_instance_has_a_projection_gets_when_and_a_repeat_expression():
    flat = residual_flat(3)
    # the first block projects its input (a 1x1 convolution on the shortcut), as ResNet's do
    layers = flat["layers"]
    at = next(i for i, e in enumerate(layers) if e.get("Add", {}).get("name") == "res1_add")
    layers.insert(at, {"Conv2D": {"name": "res1_proj", "filters": 8, "kernel_size": 1, "inputs": ["stem"]}})
    layers[at + 1]["Add"]["inputs"] = ["res1_proj", "res1_conv2"]
    out = recognise.recognise(flat)
    [use] = [item for item in out["layers"] if "use" in item]
    assert use["repeat"] == 3 and any(v == "=i == 1" for v in use.values())
    assert any("when" in args for item in out["blocks"]["res"]["layers"] for args in item.values())
    assert not recognise._differences(out, flat)


def test_a_model_without_repeats_comes_back_flat():
    flat = {
        "name": "tiny",
        "description": "no repeats",
        "input": [8, 8, 3],
        "model": "sequential",
        "layers": [{"Conv2D": {"filters": 4, "kernel_size": 3}}, {"Flatten": {}}, {"Dense": {"units": 2}}],
    }
    assert recognise.recognise(flat) == flat


def test_values_the_block_language_would_read_as_expressions_leave_the_spec_flat():
    flat = residual_flat(3)
    flat["layers"][0]["Conv2D"]["name"] = "stem"
    flat["description"] = "a {brace} in a description is no template"
    assert "blocks" in recognise.recognise(flat)
    for key, value in [("description", "=1 + 1"), ("name", "={x}")]:
        assert recognise.recognise({**flat, key: value}) == {**flat, key: value}
    flat["layers"].insert(1, {"Activation": {"name": "act", "activation": "=relu"}})
    assert recognise.recognise(flat) == flat


def test_size_counts_lines_and_nodes():
    assert recognise.size("# comment\n\na: 1\nb: [1, 2]\nc: {d: x}\n") == (3, 8)  # a, 1, b, 1, 2, c, d, x


def keras_residual_model(blocks: int = 3):
    import keras

    def res(x, name):
        y = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name=name + "_conv1")(x)
        y = keras.layers.Conv2D(8, 3, padding="same", name=name + "_conv2")(y)
        return keras.layers.Activation("relu", name=name + "_out")(
            keras.layers.Add(name=name + "_add")([x, y])
        )

    inp = keras.Input((16, 16, 8))
    x = inp
    for k in range(1, blocks + 1):
        x = res(x, f"res{k}")
    return keras.Model(inp, keras.layers.GlobalAveragePooling2D()(x), name="three")


@pytest.mark.slow  # seconds: two builds and comparisons
def test_from_keras_with_blocks_rebuilds_the_model():
    model = keras_residual_model(3)
    spec = zoo.from_keras(model, blocks=True)
    text = spec.to_yaml()
    assert "blocks:" in text and "repeat: 3" in text
    rebuilds(zoo.Spec.from_yaml(text), model)
    assert [x.name for x in spec.layers] == [x.name for x in zoo.from_keras(model).layers]


def test_zoo_import_blocks_writes_the_family_file(tmp_path, capsys):
    path = tmp_path / "three.keras"
    keras_residual_model(3).save(path)
    out = tmp_path / "three.yaml"
    assert main(["import", str(path), "--blocks", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "built again, it is the same model" in err and "lines with blocks (flat:" in err
    assert "repeat: 3" in out.read_text()
    assert zoo.Spec.from_file(out).name == "three"


def test_zoo_import_blocks_refuses_bad_input_without_writing(tmp_path, capsys):
    bad = tmp_path / "model.keras"
    bad.write_bytes(b"not a zip")
    assert main(["import", str(bad), "--blocks", "-o", str(tmp_path / "out.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("zoo: error: ") and "Traceback" not in err
    assert not (tmp_path / "out.yaml").exists()


def test_diagram_folds_the_recognised_repeat(tmp_path):
    from zoo import diagram

    spec = zoo.from_keras(keras_residual_model(3), blocks=True)
    built = diagram.build(zoo.Spec.from_yaml(spec.to_yaml()), detail="blocks")
    folded = [n for n in built.nodes() if n.collapsed]
    assert [(n.title, n.kind) for n in folded] == [("res1 … res3", "res")]
    assert "res ×3" in diagram.to_dot(built)


@pytest.mark.parametrize(
    "example",
    [pytest.param(e, marks=[pytest.mark.slow, pytest.mark.large]) for e in keras_io_models.MODELS],
)
def test_keras_io_examples_rebuild_with_blocks(example):
    model = keras_io_models.MODELS[example]()
    spec = zoo.from_keras(model, name=example, blocks=True)
    rebuilds(zoo.Spec.from_yaml(spec.to_yaml()), model)


HAND_WRITTEN = {"ResNet50": "resnet", "MobileNetV2": "mobilenet_v2", "DenseNet121": "densenet"}


@pytest.mark.slow
@pytest.mark.large
@pytest.mark.parametrize("constructor", list(HAND_WRITTEN))
def test_blocks_import_is_within_one_and_a_half_times_the_hand_written_family_file(constructor):
    import keras

    model = getattr(keras.applications, constructor)(weights=None)
    spec = zoo.from_keras(model, blocks=True)
    ours = recognise.size(spec.to_yaml())[0]
    theirs = recognise.size((ROOT_SPECS / f"{HAND_WRITTEN[constructor]}.yaml").read_text())[0]
    assert ours <= 1.5 * theirs, (ours, theirs)
    rebuilds(zoo.Spec.from_yaml(spec.to_yaml()), model)


@pytest.mark.slow
@pytest.mark.applications
@pytest.mark.parametrize("constructor", list(catalog.APPLICATIONS))
def test_every_keras_application_rebuilds_with_blocks(constructor):
    import keras

    keras.utils.clear_session()
    model = getattr(keras.applications, constructor)(weights=None)
    spec = zoo.from_keras(model, blocks=True)  # compared with the model before it is returned
    assert "blocks:" in spec.to_yaml()
    rebuilds(zoo.Spec.from_yaml(spec.to_yaml()), model)


def test_the_readme_s_size_table_measures_the_family_files_as_they_are():
    """The hand-written column of the README's table is what recognise.size says of each file today
    (rewrite a family file, then `python tools/import_sizes.py table --families`)."""
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- import-sizes -->")[1].split("<!-- /import-sizes -->")[0]
    rows = [r for r in table.splitlines() if r.startswith("| ") and ".yaml:" in r]
    assert len(rows) == len(catalog.APPLICATIONS)
    for row in rows:
        cells = row.split(" | ")
        file, measured = cells[5].split(": ")
        lines, nodes = recognise.size((ROOT / "specs" / file).read_text(encoding="utf-8"))
        assert measured == f"{lines} / {nodes}", row
        assert cells[6] == f"{int(cells[3].split(' / ')[0]) / lines:.2f} |", row


@pytest.mark.slow  # seconds: two builds and comparisons
def test_a_changed_copy_of_a_recognised_spec_does_not_keep_its_file():
    """Its file (to_yaml) is the model recognised at import; a copy with other weights is another
    spec, which writes its own data, not that file."""
    spec = zoo.from_keras(keras_residual_model(), blocks=True)
    assert "blocks:" in spec.to_yaml()
    copy = spec.with_weights(None)
    assert type(copy) is zoo.Spec
    assert "blocks:" not in copy.to_yaml()
    assert [layer.name for layer in copy.layers] == [layer.name for layer in spec.layers]
