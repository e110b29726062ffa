"""Graph specs (inputs: / name:), merges against Keras, and the zoo's models beyond the tutorial."""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import zoo
from zoo import arith
from zoo.keras import builder

BLOCK = """\
name: block
description: a graph
input: [8, 8, 4]
layers:
  - Conv2D: {name: a, filters: 4, kernel_size: 3, padding: same}
  - Conv2D: {name: b, filters: 4, kernel_size: 3, padding: same}
  - Add: {name: skip, inputs: [input, b]}
"""


def load(text):
    return zoo.Spec.from_yaml(text, "specs/block.yaml")


def test_a_graph_spec_builds_with_its_connections():
    spec = load(BLOCK)
    assert not spec.is_chain
    assert [layer.inputs for layer in spec.layers] == [("input",), ("a",), ("input", "b")]
    keras_rows = zoo.summary(spec).rows
    assert [r.connected_to for r in keras_rows] == [("input",), ("a",), ("input", "b")]
    assert arith.summarize(spec) == zoo.summary(spec)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "inputs: [input, b]",
            "inputs: [input, skip]",
            "specs/block.yaml:7: layers[2].Add.inputs: skip takes its own output: a cycle",
        ),
        (
            "inputs: [input, b]",
            "inputs: [input, bb]",
            "layers[2].Add.inputs: unknown layer 'bb'; did you mean 'b'?",
        ),
        (
            "{name: b, filters: 4, kernel_size: 3, padding: same}",
            "{name: b, filters: 4, kernel_size: 3, padding: same, inputs: [skip]}",
            "layers[1].Conv2D.inputs: forward reference: 'skip' is defined later (layers[2])",
        ),
        (
            "Add: {name: skip, inputs: [input, b]}",
            "Add: {name: skip}",
            "layers[2].Add: Add merges several layers: give them as inputs: [name, name, ...]",
        ),
        ("inputs: [input, b]", "inputs: [b]", "layers[2].Add.inputs: Add needs at least 2 inputs"),
        (
            "{name: b, filters: 4, kernel_size: 3, padding: same}",
            "{name: b, filters: 4, kernel_size: 3, padding: same, inputs: [a, input]}",
            "layers[1].Conv2D.inputs: Conv2D takes exactly 1 input",
        ),
        (
            "inputs: [input, b]",
            "inputs: [input, a]",
            "layers[1].Conv2D: b is not used by any later layer; a spec's output is its last layer",
        ),
        ("name: a,", "name: input,", "layers[0].Conv2D.name: 'input' names the model's input"),
    ],
)
def test_graph_mistakes_are_spec_errors_naming_the_layer(old, new, message):
    assert old in BLOCK
    with pytest.raises(zoo.SpecError, match=re.escape(message)):
        load(BLOCK.replace(old, new))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "padding: same}\n  - Add",
            "padding: valid}\n  - Add",
            "skip (in spec 'block'): inputs have different shapes: axis 1 is 8 in one and 6 in another",
        ),
        (
            "Add: {name: skip, inputs: [input, b]}",
            "Concatenate: {name: skip, inputs: [input, b], axis: 1}\n"
            "  - Conv2D: {filters: 1, kernel_size: 1}",
            "skip (in spec 'block'): inputs differ on axis 3 (4, 4)",
        ),
    ],
)
def test_shape_mismatches_at_a_merge_are_caught_before_keras(old, new, message, monkeypatch):

    text = BLOCK.replace(old, new)
    if "axis 3" in message:  # make the channel counts differ so only axis 3 may not
        text = text.replace("{name: b, filters: 4", "{name: b, filters: 6")
        message = (
            "skip (in spec 'block'): inputs differ on axis 3 (4, 6); only the concatenation axis 1 may differ"
        )
    monkeypatch.setattr(builder, "import_keras", lambda: pytest.fail("Keras was touched"))
    with pytest.raises(zoo.SpecError, match=re.escape(message)):
        zoo.build(load(text))


shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3)


@given(shapes, st.data(), st.sampled_from(["Add", "Multiply", "Maximum", "Concatenate"]), st.integers(-3, 3))
def test_merges_agree_with_keras(first, data, kind, axis):
    """Merge the input with a Reshape of it; where Keras accepts the pair of shapes, so must zoo."""
    import keras

    # the same rank (zoo refuses mixed ranks) and the same size (the Reshape must be able to make it):
    # the input's sizes in another order
    second = data.draw(st.permutations(first))
    args = {"axis": axis} if kind == "Concatenate" else {}
    try:  # a symbolic call: Keras's compute_output_shape alone misses some mismatches
        layer = getattr(keras.layers, kind)(**args)
        want = tuple(layer([keras.Input(tuple(first)), keras.Input(tuple(second))]).shape)
    except Exception:  # noqa: BLE001 - any refusal by Keras counts
        want = None
    if kind == "Concatenate" and axis % (len(first) + 1) == 0:
        want = None  # Keras concatenates along the batch axis; zoo refuses, in a model it is a mistake
    spec = {
        "name": "m",
        "description": "m",
        "input": first,
        "layers": [
            {"Reshape": {"name": "other", "target_shape": second}},
            {kind: {**args, "inputs": ["input", "other"]}},
        ],
    }
    try:
        got = arith.summarize(zoo.Spec.from_dict(spec)).rows[-1].output_shape
    except zoo.SpecError:
        got = None
    assert got == want, f"{kind}({args}) on {first} and {second}: zoo {got}, keras {want}"


def test_vgg16_base_spec_is_keras_vgg16_layer_by_layer(tmp_path):
    import h5py
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    keras.utils.set_random_seed(3)
    reference = keras.applications.VGG16(include_top=False, weights=None, input_shape=(224, 224, 3))
    ours = zoo.build("vgg16_base", compile=False)
    theirs = [(x.name, tuple(x.output.shape), x.count_params()) for x in reference.layers[1:]]
    mine = [(x.name, tuple(x.output.shape), x.count_params()) for x in ours.layers[1:]]
    assert mine == theirs
    # and the same weights file loads into both
    path = tmp_path / "vgg16_notop.h5"
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, reference)
    ours.load_weights(path)
    for a, b in zip(ours.weights, reference.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_vgg16_base_last_pool_has_the_published_receptive_field():
    row = zoo.summary("vgg16_base", engine="formula").row("block5_pool")
    assert (row.receptive_field, row.effective_stride) == ((212, 212), (32, 32))


def test_mobilenet_block_shows_batch_normalization_statistics(keras_summary):
    s = keras_summary("mobilenet_block")
    bn = s.row("batch_normalization")
    assert (bn.params, bn.trainable_params) == (4 * 16, 2 * 16)
    assert s.non_trainable_params == 2 * 16 + 2 * 32


def test_graph_summaries_render_connections():
    from zoo.arith.summary import render

    text = render(zoo.summary("unet_small", engine="formula"))
    assert "Connected to" in text
    assert re.search(r"cat1 \(Concatenate\)\s+\(None, 32, 32, 24\).*up1, enc1", text)
    assert "Connected to" not in render(zoo.summary("conv2d", engine="formula"))


@pytest.mark.slow  # seconds: the inner loop's budget
def test_segmentation_runs_with_a_label_per_pixel():
    result = zoo.run("unet_small", samples=4, epochs=1, verbose=0)
    assert result.predictions.shape == (4, 32, 32, 3)
    assert result.notes == ["plain fit: the model is a graph; the fast path handles chains of layers only"]


def test_every_spec_says_what_it_alone_teaches():
    """A description is its own (none copied from another spec; a family's variants share theirs),
    and `zoo list` shows it beside the name."""
    owners: dict[str, str] = {}
    for name in zoo.names():
        spec = zoo.spec(name)
        owner = owners.setdefault(spec.description, spec.family or name)
        assert owner == (spec.family or name), f"{name} and {owner} share a description"
    from zoo.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["list", "conv3d"]) == 0
    assert out.getvalue().split(None, 1) == ["conv3d", zoo.spec("conv3d").description + "\n"]


OPS_AND_GROUPS = """\
name: ops
description: a nested Sequential, operations in the graph, a configured initializer
input: [16, 16, 3]
layers:
  - Sequential:
      name: stem
      layers:
        - Conv2D: {name: stem_conv, filters: 8, kernel_size: 4, strides: 4}
        - LayerNormalization: {name: stem_ln, epsilon: 1.0e-6}
  - Conv2D: {name: dw, filters: 8, kernel_size: 3, padding: same, groups: 8,
             kernel_initializer: {class_name: VarianceScaling, config: {scale: 2.0, mode: fan_out}}}
  - Dense: {name: pw, units: 8}
  - ops.add: {inputs: [stem, pw]}
  - ops.add: {operand: 3.0}
  - ReLU: {max_value: 6.0}
  - ops.multiply: {operand: 0.16666666666666666}
"""


def test_operations_and_nested_sequentials_are_the_graph_keras_builds():
    """ConvNeXt's `inputs + x` and nested Sequential stem, MobileNetV3's relu6(x + 3) * (1/6)."""
    import keras
    from keras_reference import normalised_json

    spec = zoo.Spec.from_yaml(OPS_AND_GROUPS)
    assert spec.model == "functional"  # keras.Sequential cannot hold an operation
    assert [layer.name for layer in spec.layers] == ["stem", "dw", "pw", "add", "add_1", "re_lu", "multiply"]
    formula_summary = zoo.summary(spec, engine="formula")
    assert formula_summary == zoo.summary(spec, engine="keras")
    stem = formula_summary.row("stem")
    assert (stem.type, stem.params, stem.receptive_field) == ("Sequential", 392 + 16, (4, 4))
    assert formula_summary.row("add").connected_to == ("stem", "pw")

    keras.utils.clear_session()
    x = keras.Input((16, 16, 3))
    y = keras.Sequential(
        [
            keras.layers.Conv2D(8, 4, strides=4, name="stem_conv"),
            keras.layers.LayerNormalization(epsilon=1e-6, name="stem_ln"),
        ],
        name="stem",
    )(x)
    init = keras.initializers.VarianceScaling(scale=2.0, mode="fan_out")
    z = keras.layers.Dense(8, name="pw")(
        keras.layers.Conv2D(8, 3, padding="same", groups=8, name="dw", kernel_initializer=init)(y)
    )
    z = keras.layers.ReLU(6.0)((y + z) + 3.0) * (1.0 / 6.0)
    reference = keras.Model(x, z)
    assert normalised_json(zoo.build(spec, compile=False)) == normalised_json(reference)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("  - ops.add: {inputs: [stem, pw]}", "  - ops.add: {}", "ops.add merges several layers"),
        (
            "  - ops.add: {operand: 3.0}",
            "  - ops.add: {operand: 3.0, inputs: [add, pw]}",
            "takes exactly 1 input",
        ),
        (
            "- LayerNormalization: {name: stem_ln, epsilon: 1.0e-6}",
            "- LayerNormalization: {epsilon: 1.0e-6}",
            "layers[0].Sequential.layers[1].LayerNormalization: name every layer of a nested Sequential",
        ),
        (
            "class_name: VarianceScaling",
            "class_name: VarianceScalin",
            "unknown initializer class; did you mean 'VarianceScaling'?",
        ),
        (
            "{name: stem_conv, filters: 8",
            "{name: stem_conv, filtrs: 8",
            "<string>:8: layers[0].Sequential.layers[0].Conv2D.filtrs: unknown argument; "
            "did you mean 'filters'?",
        ),
    ],
)
def test_mistakes_with_operations_groups_and_initializers(old, new, message):
    assert old in OPS_AND_GROUPS
    with pytest.raises(zoo.SpecError, match=re.escape(message)):
        zoo.Spec.from_yaml(OPS_AND_GROUPS.replace(old, new))
