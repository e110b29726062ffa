"""shape(x) in family files: Keras's ``x.shape`` of a tensor in reach, read through the formula engine.

Every expected shape below is worked by hand from Keras's rules (the numbers in each comment): a
'same' convolution of stride s gives ceil(n / s), a 'valid' one floor((n - k) / s) + 1, and
``imagenet_utils.correct_pad`` pads (k // 2 - adjust, k // 2) per axis, adjust = 1 - n % 2, or 1
for both axes when the rows are None.
"""

from __future__ import annotations

import re

import pytest

import zoo
from zoo.specification import blocks, family
from zoo.specification.loading import load_yaml

PROBE = """\
family: probe
description: shapes read where Keras reads them
model: functional
data_format: =data_format
input: =input_shape
params: {input_shape: [33, 47, 3], data_format: channels_last}
variants:
  probe: {}
let:
  img_dim: "=2 if data_format == 'channels_first' else 1"      # correct_pad's
  channel_axis: "=1 if data_format == 'channels_first' else -1"
blocks:
  down:                               # EfficientNet's stride-2 depthwise step, widened first
    params: [k]
    inputs: [x]
    layers:
      - Conv2D: {name: .expand, filters: "=2 * shape(x)[channel_axis]", kernel_size: 1}
      - ZeroPadding2D: {name: .pad, padding: "=correct_pad(shape('.expand')[img_dim:img_dim + 2], k)"}
      - Conv2D: {name: .conv, filters: 8, kernel_size: =k, strides: 2}
  stage:                              # a block holding blocks: each reads its own input
    params: []
    layers:
      - {use: down, as: .a, k: 3}
      - {use: down, as: .b, k: 5}
layers:
  - Conv2D: {name: stem, filters: 4, kernel_size: 3, strides: 2, padding: same, id: x}
  - {use: stage, as: s}
  - Dense: {name: probe_input, units: "=shape(input)"}
  - Dense: {name: probe_stem, units: "=shape(x)"}
  - Dense: {name: probe_out, units: "=shape('sbconv')"}
"""


def expanded(**overrides):
    """The expanded plain spec's layers by name (expansion alone: the probes' units are lists)."""
    data, source = load_yaml(PROBE, "probe.yaml")
    out = family.expand(data, source, "probe", overrides).data["layers"]
    return {args["name"]: (kind, args) for layer in out for kind, args in layer.items()}


def test_shape_is_keras_x_shape_channels_last():
    layers = expanded()
    assert layers["probe_input"][1]["units"] == [None, 33, 47, 3]
    assert layers["probe_stem"][1]["units"] == [None, 17, 24, 4]  # ceil(33 / 2), ceil(47 / 2)
    assert layers["saexpand"][1]["filters"] == 8  # 2 * the stem's 4 channels
    # 17 is odd: (1, 1); 24 is even: (0, 1); 19 x 25 -> floor(16 / 2) + 1 = 9, floor(22 / 2) + 1 = 12
    assert layers["sapad"][1]["padding"] == [[1, 1], [0, 1]]
    assert layers["sbexpand"][1]["filters"] == 16  # 2 * sa's 8
    # 9 odd: (2, 2); 12 even: (1, 2) for k = 5; 13 x 15 -> floor(8 / 2) + 1 = 5, floor(10 / 2) + 1 = 6
    assert layers["sbpad"][1]["padding"] == [[2, 2], [1, 2]]
    assert layers["probe_out"][1]["units"] == [None, 5, 6, 8]


def test_shape_is_keras_x_shape_channels_first():
    layers = expanded(input_shape=[3, 33, 47], data_format="channels_first")
    assert layers["probe_input"][1]["units"] == [None, 3, 33, 47]
    assert layers["probe_stem"][1]["units"] == [None, 4, 17, 24]
    assert layers["saexpand"][1]["filters"] == 8  # channel_axis 1
    assert layers["sapad"][1]["padding"] == [[1, 1], [0, 1]]
    assert layers["sbpad"][1]["padding"] == [[2, 2], [1, 2]]
    assert layers["probe_out"][1]["units"] == [None, 8, 5, 6]


def test_open_sizes_stay_open():
    layers = expanded(input_shape=[None, None, 3])
    assert layers["probe_stem"][1]["units"] == [None, None, None, 4]
    assert layers["sapad"][1]["padding"] == [[0, 1], [0, 1]]  # adjust 1: k // 2 - 1
    assert layers["sbpad"][1]["padding"] == [[1, 2], [1, 2]]
    assert layers["probe_out"][1]["units"] == [None, None, None, 8]
    # Keras's correct_pad: both axes count as open when the rows are, whatever the cols (23 is
    # odd, which alone would pad (1, 1))
    layers = expanded(input_shape=[None, 45, 3])
    assert layers["probe_stem"][1]["units"] == [None, None, 23, 4]
    assert layers["sapad"][1]["padding"] == [[0, 1], [0, 1]]


def test_the_model_reads_the_same_shapes_as_the_engine_computes():
    """The padding shape() chose makes the layers Keras would build: the engine's rows agree."""
    spec = zoo.Spec.from_yaml(PROBE.split("  - Dense: {name: probe_input")[0], "probe.yaml")
    rows = {r.name: r.output_shape for r in zoo.summary(spec, engine="formula").rows}
    assert rows["sapad"] == (None, 19, 25, 8)
    assert rows["sbconv"] == (None, 5, 6, 8)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # a relative name inside a block: only the block's own layers and inputs are in reach
        (
            "shape('.expand')[img_dim",
            "shape('.expnd')[img_dim",
            r"probe.yaml:18: .*shape\(.expnd\): no tensor 'saexpnd' in reach; did you mean 'saexpand'\? "
            r"\(a block sees only",
        ),
        (
            "shape(x)[channel_axis]",
            "shape(stem)[channel_axis]",
            r"probe.yaml:17: .*no tensor 'stem' in reach.*a block sees only its own layers and its inputs",
        ),
        (
            'units: "=shape(input)"',
            'units: "=shape(input, 1)"',
            r"probe.yaml:28: layers\[2\].Dense.units: shape\(\) takes one tensor",
        ),
        ('units: "=shape(input)"', 'units: "=shape(1 + 1)"', r"shape\(\) takes one tensor"),
        # let: runs before any tensor exists
        (
            "  img_dim:",
            '  early: "=shape(input)"\n  img_dim:',
            r"probe.yaml:10: let.early: shape\(input\): no tensor is in reach here",
        ),
        # the engine's own error, at the layer it cannot compute, with the uses that made it
        (
            "filters: 8, kernel_size: =k, strides: 2",
            "filters: 8, kernel_size: =k * 9, strides: 2",
            r"probe.yaml:19: blocks.down.layers\[2\].Conv2D: saconv \(in spec 'probe'\): ",
        ),
    ],
)
def test_shape_errors_name_the_line_and_key(old, new, message):
    assert old in PROBE
    with pytest.raises(zoo.SpecError, match=message):
        zoo.Spec.from_yaml(PROBE.replace(old, new, 1), "probe.yaml")


def test_shape_reads_are_charged_and_each_layer_is_computed_once(monkeypatch):
    from zoo.arith import tensors

    computed: list[str] = []
    step = tensors.Tensors.step

    def counted(self, entry, index, source):
        computed.append(next(iter(entry.values()))["name"])
        return step(self, entry, index, source)

    monkeypatch.setattr(tensors.Tensors, "step", counted)
    expanded()
    # each layer once, when a shape first needs it: the stem for sa's expand, saexpand for its
    # padding, sapad and saconv for sb's expand, sbexpand for its padding, the rest for probe_out
    assert computed == ["stem", "saexpand", "sapad", "saconv", "sbexpand", "sbpad", "sbconv"]


def test_the_layers_a_shape_needs_are_charged_to_the_budget(monkeypatch):
    """probe_out reading sbconv computes two more layers than reading the input: STEP_WORK each."""
    used = {}
    for handle in ("'sbconv'", "input"):
        data, source = load_yaml(PROBE.replace("shape('sbconv')", f"shape({handle})"), "probe.yaml")
        x = blocks.BlockExpansion(source)
        monkeypatch.setattr(family, "BlockExpansion", lambda _source, x=x: x)
        family.expand(data, source, "probe", {})
        used[handle] = x.budget.used
    assert used["'sbconv'"] - used["input"] >= 2 * blocks.STEP_WORK


def test_expressions_outside_layers_see_no_tensor():
    text = PROBE.replace("data_format: =data_format", 'data_format: "=str(shape(input))"')
    with pytest.raises(zoo.SpecError, match=re.escape("no tensor is in reach here")):
        zoo.Spec.from_yaml(text, "probe.yaml")
