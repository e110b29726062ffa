"""The formula engine on its own: independence from Keras, hand-worked numbers, published figures."""

from __future__ import annotations

import re
import subprocess
import sys
from fractions import Fraction

import pytest
from conftest import ROOT

import zoo
from zoo import arith


def spec_of(*layers, input=(64, 64, 3)):
    return zoo.Spec.from_dict({"name": "t", "description": "t", "input": list(input), "layers": list(layers)})


def test_formula_summary_never_imports_tensorflow_or_keras():
    code = (
        "import sys, zoo\n"
        "s = zoo.summary('vgg16_transfer', engine='formula')\n"
        "zoo.explain('vgg16_transfer'); zoo.names(); zoo.spec('conv1d')\n"
        "assert s.total_params == 14_848_586, s.total_params\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_spec_and_arithmetic_layers_have_no_framework_import_in_their_source():
    modules = [
        path for layer in ("specification", "arith") for path in sorted((ROOT / "zoo" / layer).glob("*.py"))
    ]
    assert len(modules) > 10
    for path in modules:
        source = path.read_text()
        assert not re.search(r"^\s*(import|from)\s+(tensorflow|keras|jax|torch)\b", source, re.M), path


def test_vgg16_receptive_field_and_stride_match_the_published_figure():
    """VGG16's last pooling layer: receptive field 212, effective stride 32.

    (The published figure, e.g. Araujo et al., "Computing Receptive Fields of CNNs", Distill 2019.)
    """
    row = zoo.summary("vgg16_transfer", engine="formula").rows[0]
    assert row.receptive_field == (212, 212)
    assert row.effective_stride == (32, 32)


def test_vgg16_base_macs_are_the_known_15_3_giga():
    macs = zoo.summary("vgg16_transfer", engine="formula").rows[0].macs
    assert round(macs / 1e9, 1) == 15.3


def test_macs_worked_by_hand():
    s = zoo.summary("conv2d", engine="formula")
    # conv2d: 62*62 outputs, each 3*3*3 multiply-adds, for 32 filters
    assert s.rows[0].macs == 62 * 62 * 27 * 32 == 3_321_216
    assert s.rows[1].macs == 0  # pooling
    assert s.rows[3].macs == 30752 * 10  # dense: one MAC per weight
    sep = spec_of({"SeparableConv2D": {"filters": 8, "kernel_size": 3}}, input=(10, 10, 4))
    # depthwise 8*8 outputs * 9 * 4 channels, then pointwise 8*8 * 4 * 8
    assert arith.summarize(sep).rows[0].macs == 64 * 9 * 4 + 64 * 4 * 8


def test_receptive_field_worked_by_hand():
    rows = zoo.summary("maxpooling2d", engine="formula").rows
    # r' = r + (k - 1) * j ; j' = j * s
    assert [r.receptive_field for r in rows[:4]] == [(3, 3), (4, 4), (8, 8), (10, 10)]
    assert [r.effective_stride for r in rows[:4]] == [(1, 1), (2, 2), (2, 2), (4, 4)]
    assert rows[4].receptive_field is None  # flatten: no spatial axes left


def test_upsampling_divides_the_effective_stride():
    rows = zoo.summary("upsampling2d", engine="formula").rows
    assert rows[1].effective_stride == (Fraction(1, 2), Fraction(1, 2))
    assert rows[2].receptive_field == (4, 4)  # 3 + (3 - 1) * 1/2


def test_explain_shows_the_tutorials_formula_with_numbers():
    text = zoo.explain("conv2d_stride2")
    assert "conv2d: out = floor((64 - 3 + 2) / 2) + 1 = 32; params = (3*3*3 + 1) * 32 = 896" in text
    assert "max_pooling2d: out = floor((32 - 2 + 0) / 2) + 1 = 16; params = 0" in text
    assert "dense: out = units = 10; params = (8192 + 1) * 10 = 81,930" in text


def test_explain_reproduces_the_worked_example():
    text = zoo.explain("worked_example")
    assert "floor((32 - 3 + 2) / 1) + 1 = 32" in text
    assert "(3*3*3 + 1) * 2 = 56" in text


def test_explain_shows_a_non_square_kernel_per_axis():
    text = arith.explain(spec_of({"Conv2D": {"filters": 4, "kernel_size": [3, 5], "strides": [1, 2]}}))
    assert "out = (floor((64 - 3 + 0) / 1) + 1, floor((64 - 5 + 0) / 2) + 1) = (62, 30)" in text


def test_tutorial_transposed_formula_disagrees_with_keras():
    """The tutorial's s * (n + f - p) is wrong; Keras's rule is implemented and shown beside it."""
    import keras

    n, f, s = 16, 3, 2
    tutorial = s * (n + f - 0)  # valid padding: p = 0
    keras_out = keras.layers.Conv1DTranspose(1, f, strides=s).compute_output_shape((None, n, 1))[1]
    assert (tutorial, keras_out) == (38, 33)
    spec = spec_of({"Conv1DTranspose": {"filters": 1, "kernel_size": f, "strides": s}}, input=(n, 1))
    assert arith.summarize(spec).rows[0].output_shape == (None, keras_out, 1)
    text = arith.explain(spec)
    assert (
        "out = 16 * 2 + max(3 - 2, 0) = 33 (the tutorial's s * (n + f - p) would give 2 * (16 + 3 - 0) = 38)"
        in text
    )


def test_batch_normalization_statistics_are_non_trainable():
    s = arith.summarize(spec_of({"BatchNormalization": {}}, input=(8, 8, 16)))
    assert (s.total_params, s.trainable_params, s.non_trainable_params) == (64, 32, 32)


@pytest.mark.parametrize(
    ("layer", "input", "message"),
    [
        (
            {"Conv2D": {"filters": 2, "kernel_size": 5}},
            (4, 4, 1),
            "conv2d (in spec 't'): output size would be 0: out = floor((4 - 5 + 0) / 1) + 1 = 0; "
            "the kernel (5) is larger than the input (4)",
        ),
        (
            {"Conv2D": {"filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2}},
            (9, 9, 1),
            "strides > 1 together with dilation_rate > 1 is not supported by Keras",
        ),
        (
            {"MaxPooling2D": {"pool_size": 3}},
            (2, 9, 1),
            "output size would be 0: out = floor((2 - 3 + 0) / 3) + 1 = 0; the pool (3) is larger",
        ),
        (
            {"Conv1DTranspose": {"filters": 1, "kernel_size": 3, "strides": 2, "output_padding": 2}},
            (5, 1),
            "output_padding must be strictly less than strides on every axis",
        ),
        (
            {"Conv2D": {"filters": 2, "kernel_size": 3}},
            (9, 1),
            "needs input of rank 4 (batch, 2 spatial axes, channels), but the layer before gives rank 3",
        ),
        ({"Reshape": {"target_shape": [5, -1]}}, (4, 3), "cannot infer -1: 12 values do not divide into 5"),
        ({"Cropping1D": {"cropping": [2, 2]}}, (4, 1), "output size would be 0: out = 4 - 2 - 2"),
    ],
)
def test_geometry_keras_rejects_is_a_spec_error_with_the_arithmetic(layer, input, message):
    with pytest.raises(zoo.SpecError, match=re.escape(message)) as exc:
        arith.summarize(spec_of(layer, input=input))
    assert str(exc.value).startswith("<dict>:")
    assert "layers[0]." in str(exc.value)


def test_formula_and_keras_summaries_render_the_same_table_columns(keras_summary):
    from zoo.arith.summary import render

    def cells(text):
        rows = [line for line in text.splitlines() if "(None" in line]
        return [re.split(r"\s{2,}", line.strip()) for line in rows]

    keras_cells = cells(render(keras_summary("conv1d")))
    formula_cells = cells(render(zoo.summary("conv1d", engine="formula")))
    assert keras_cells[0] == ["conv1d (Conv1D)", "(None, 62, 32)", "128", "yes"]
    assert [c[:4] for c in formula_cells] == keras_cells
    # 62 outputs * kernel 3 * 1 input channel * 32 filters MACs; receptive field 3, stride 1
    assert formula_cells[0][4:] == ["5,952", "3", "1"]


def test_a_squeeze_and_excitation_branch_does_not_widen_the_receptive_field():
    """google-research's convention: the globally pooled branch that scales the map adds nothing."""
    text = """\
name: se
description: squeeze and excitation
input: [16, 16, 8]
model: functional
layers:
  - Conv2D: {name: c, filters: 8, kernel_size: 3, padding: same}
  - GlobalAveragePooling2D: {name: squeeze, keepdims: true}
  - Conv2D: {name: excite, filters: 8, kernel_size: 1, activation: sigmoid}
  - Multiply: {name: scale, inputs: [c, excite]}
  - Conv2D: {name: after, filters: 8, kernel_size: 3, padding: same}
"""
    spec = zoo.Spec.from_yaml(text)
    s = zoo.summary(spec, engine="formula")
    assert s.row("squeeze").receptive_field is None and s.row("excite").receptive_field is None
    assert s.row("scale").receptive_field == (3, 3) and s.row("after").receptive_field == (5, 5)
    assert "excite was pooled over the whole grid" in zoo.explain(spec)


def test_a_nested_sequential_has_the_receptive_field_of_its_layers_flat():
    """One recurrence for every path: [UpSampling2D, Conv2D 3x3] inside a nested Sequential sees what the
    same layers see written flat (2 input positions at stride 1/2; a second recurrence gave 5 at 2)."""
    from fractions import Fraction

    layers = [{"UpSampling2D": {"name": "up"}}, {"Conv2D": {"name": "conv", "filters": 2, "kernel_size": 3}}]
    flat = arith.summarize(spec_of(*layers, input=(8, 8, 1))).rows[-1]
    nested = arith.summarize(
        spec_of({"Sequential": {"name": "group", "layers": layers}}, input=(8, 8, 1))
    ).rows[-1]
    assert (flat.receptive_field, flat.effective_stride) == ((2, 2), (Fraction(1, 2), Fraction(1, 2)))
    assert (nested.receptive_field, nested.effective_stride) == (flat.receptive_field, flat.effective_stride)
    assert nested.output_shape == flat.output_shape and nested.params == flat.params


def test_every_base_s_family_file_is_the_registry_s():
    """A base layer is computed from the family file the catalogue names; it is the one the registry finds."""
    from zoo.specification import catalog

    registry = zoo.default_registry()
    assert sorted(catalog.BASE_FILES) == sorted(catalog.APPLICATIONS.values())
    for name, stem in catalog.BASE_FILES.items():
        assert registry.path(name).stem == stem, name


def test_receptive_fields_of_the_new_spatial_layers_worked_by_hand():
    """r' = r + (k - 1) * j ; j' = j * s, after a 3x3 convolution (r 3, j 1)."""

    def rf(layer, input=(10, 10, 4)):
        conv = {"Conv2D": {"filters": 4, "kernel_size": 3, "padding": "same"}}
        row = arith.summarize(spec_of(conv, layer, input=input)).rows[1]
        return row.receptive_field, row.effective_stride, row.macs, row.params

    # adaptive pooling 10 -> 3: windows [0, 4), [3, 7), [6, 10) (floor(i*10/3) ... ceil((i+1)*10/3)),
    # the widest 4, sliding by 10/3: r = 3 + 3 = 6
    assert rf({"AdaptiveMaxPooling2D": {"output_size": 3}}) == ((6, 6), (Fraction(10, 3),) * 2, 0, 0)
    # 10 -> 5: windows of 2 sliding by 2, as MaxPooling2D(2)
    assert rf({"AdaptiveAveragePooling2D": {"output_size": 5}}) == ((4, 4), (2, 2), 0, 0)
    # 10 -> 4: windows [0, 3), [2, 5), [5, 8), [7, 10): the widest 3, sliding by 5/2
    assert rf({"AdaptiveAveragePooling2D": {"output_size": [4, 10]}})[:2] == ((5, 3), (Fraction(5, 2), 1))
    # crops keep the pixels' scale; bilinear resizing from 10 to 5 reads 2 pixels 2 apart
    assert rf({"CenterCrop": {"height": 4, "width": 4}})[:2] == ((3, 3), (1, 1))
    assert rf({"RandomCrop": {"height": 4, "width": 4}})[:2] == ((3, 3), (1, 1))
    assert rf({"Resizing": {"height": 5, "width": 20}})[:2] == ((4, 4), (2, Fraction(1, 2)))
    assert rf({"Resizing": {"height": 5, "width": 5, "interpolation": "nearest"}})[:2] == ((3, 3), (2, 2))
    # the identity at inference, spatial dropout and normalisation keep the field
    for layer in (
        {"RandomFlip": {}},
        {"SpatialDropout2D": {"rate": 0.5}},
        {"GroupNormalization": {"groups": 2}},
        {"PReLU": {"shared_axes": [1, 2]}},
    ):
        assert rf(layer)[:2] == ((3, 3), (1, 1)), layer
    assert rf({"PReLU": {"shared_axes": [1, 2]}})[3] == 4  # one alpha per channel
    # a permutation of the spatial axes ends the field, as Flatten does; the identity one keeps it
    assert rf({"Permute": {"dims": [2, 1, 3]}})[0] is None
    assert rf({"Permute": {"dims": [1, 2, 3]}})[0] == (3, 3)
