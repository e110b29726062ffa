"""Chains build keras.Sequential, as the tutorial's cells do; Keras's own view matches the tutorial."""

from __future__ import annotations

import re

import pytest

import zoo

# The specs of the tutorial's cells that printed a summary (they carry its table in expect:).
TUTORIAL = [
    n
    for n in zoo.names()
    if (zoo.spec(n).citation or "").startswith("Tutorial") and zoo.spec(n).expect.get("layers")
]


def test_the_tutorial_specs_are_found():
    assert {
        "conv1d",
        "conv2d",
        "conv2d_same",
        "conv2d_stride2",
        "maxpooling2d",
        "upsampling2d",
        "global_average_pooling2d",
        "worked_example",
    } <= set(TUTORIAL)


def _keras_rows(model):
    return [(layer.name, tuple(layer.output.shape), layer.count_params()) for layer in model.layers]


def _printed_rows(model):
    """(name, type, shape, params) of every row Keras's own model.summary() prints (rows may wrap)."""
    lines: list[str] = []
    model.summary(print_fn=lambda text, **_: lines.append(text))
    text = "\n".join(lines)
    rows, cells = [], None
    for line in text.splitlines():
        if line.startswith("│"):
            parts = [c.strip() for c in line.strip("│").split("│")]
            cells = parts if cells is None else [f"{a} {b}".strip() for a, b in zip(cells, parts)]
        elif cells is not None:  # a rule ends the row
            m = re.fullmatch(r"(\w+) \((\w+)\)", cells[0])
            rows.append((m[1], m[2], cells[1], int(cells[2].replace(",", ""))) if m else tuple(cells))
            cells = None
    return rows, text


@pytest.mark.parametrize("name", TUTORIAL)
def test_keras_model_layers_are_the_tutorial_rows(name):
    import keras

    spec = zoo.spec(name)
    model = zoo.build(name, compile=False)
    assert isinstance(model, keras.Sequential)
    assert model.name == name
    got = _keras_rows(model)
    assert len(spec.expect["layers"]) == len(spec.layers) == len(got)
    want = [
        (layer.name, tuple(row.get("output_shape", shape)), row.get("params", params))
        for layer, row, (_, shape, params) in zip(spec.layers, spec.expect["layers"], got)
    ]
    assert got == want
    assert [type(layer).__name__ for layer in model.layers] == [layer.kind for layer in spec.layers]
    assert model.layers[0].count_params() == spec.expect["layers"][0]["params"]


@pytest.mark.parametrize("name", TUTORIAL)
def test_keras_summary_prints_the_tutorial_rows_and_no_input_layer(name):
    spec = zoo.spec(name)
    rows, text = _printed_rows(zoo.build(name, compile=False))
    assert len(rows) == len(spec.layers)
    want = [
        (layer.name, layer.kind, _shape_text(row.get("output_shape"), shape), row.get("params", params))
        for layer, row, (_, _, shape, params) in zip(spec.layers, spec.expect["layers"], rows)
    ]
    assert rows == want
    assert "InputLayer" not in text and "input" not in [r[0] for r in rows]
    if "total_params" in spec.expect:  # the maxpooling2d printout is cut off before its totals
        assert f"Total params: {spec.expect['total_params']:,}" in text


def _shape_text(shape, printed):
    if shape is None:
        return printed
    return (
        "("
        + ", ".join("None" if d is None else str(d) for d in shape)
        + ("," if len(shape) == 1 else "")
        + ")"
    )


@pytest.mark.parametrize("name", TUTORIAL)
def test_layer_names_are_those_a_fresh_keras_session_gives_the_tutorial_cell(name):
    """zoo names layers explicitly; Keras's own automatic naming of the same cell is the witness."""
    import keras

    spec = zoo.spec(name)
    keras.utils.clear_session()
    cell = keras.Sequential(
        [
            keras.Input(spec.input),
            *(getattr(keras.layers, layer.kind)(**layer.keras_args) for layer in spec.layers),
        ]
    )
    assert [layer.name for layer in cell.layers] == [layer.name for layer in spec.layers]


def test_the_transfer_cell_has_the_base_as_its_first_layer():
    import keras

    model = zoo.build("vgg16_transfer", weights=None, compile=False)
    assert isinstance(model, keras.Sequential)
    base = model.layers[0]
    assert (base.name, type(base).__name__, base.trainable) == ("vgg16", "Functional", False)
    assert base.count_params() == 14_714_688  # Keras's published VGG16 no-top size
    assert [layer.name for layer in model.layers[1:]] == [
        "global_average_pooling2d",
        "dense",
        "dropout",
        "dense_1",
    ]


def test_a_graph_spec_builds_a_functional_model():
    import keras

    model = zoo.build("residual_block", compile=False)
    assert not isinstance(model, keras.Sequential)
    assert type(model.layers[0]).__name__ == "InputLayer"
    assert zoo.spec("residual_block").model == "functional"


def test_a_chain_may_ask_for_a_functional_model(spec_text):
    import keras

    text = spec_text.replace("input: [64, 64, 3]", "input: [64, 64, 3]\nmodel: functional")
    spec = zoo.Spec.from_yaml(text)
    model = zoo.build(spec, compile=False)
    assert spec.model == "functional" and not isinstance(model, keras.Sequential)
    assert [layer.name for layer in model.layers] == ["input", "conv2d", "max_pooling2d", "flatten", "dense"]
    assert zoo.summary(spec) == zoo.summary("conv2d_stride2")  # the same table either way


def test_a_graph_cannot_be_sequential():
    text = """\
name: g
description: a graph
input: [8, 8, 4]
model: sequential
layers:
  - Conv2D: {name: a, filters: 4, kernel_size: 3, padding: same}
  - Add: {name: skip, inputs: [input, a]}
"""
    with pytest.raises(
        zoo.SpecError,
        match=re.escape(
            "<string>:4: model: a sequential model is a plain chain of layers, but this spec is a graph"
        ),
    ):
        zoo.Spec.from_yaml(text)


def test_an_unknown_model_class_is_refused(spec_text):
    text = spec_text.replace("input: [64, 64, 3]", "input: [64, 64, 3]\nmodel: sequental")
    with pytest.raises(zoo.SpecError, match=r"model: invalid value; did you mean 'sequential'\?"):
        zoo.Spec.from_yaml(text)
