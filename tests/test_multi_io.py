"""Several inputs and several outputs: the spec format's ``inputs:`` and ``outputs:``, through every
witness (formula summary, Keras build, goldens, fingerprints, diagram) and import.

The judge of the shapes and counts is Keras: each spec's Keras model is read back by
``introspect.summary_of`` and must equal the formula engine's table row by row, ``connected_to``
(the input layers' Keras names) included.
"""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from zoo.cli import main

IMAGE_AND_METADATA = """\
name: image_and_metadata
description: A photo and a few numbers about it; a class and a price out.
inputs: {image: [32, 32, 3], metadata: [6]}
layers:
  - Conv2D: {filters: 8, kernel_size: 3, activation: relu}
  - MaxPooling2D: {}
  - Conv2D: {filters: 16, kernel_size: 3, activation: relu}
  - GlobalAveragePooling2D: {name: image_features}
  - Dense: {name: metadata_features, units: 8, activation: relu, inputs: [metadata]}
  - Concatenate: {name: both, inputs: [image_features, metadata_features]}
  - Dense: {name: category, units: 5, activation: softmax}
  - Dense: {name: price, units: 1, inputs: [both]}
outputs: [category, price]
"""


def spec() -> zoo.Spec:
    return zoo.Spec.from_yaml(IMAGE_AND_METADATA, "image_and_metadata.yaml")


def test_the_formula_engine_and_keras_agree_row_by_row():
    formula = zoo.summary(spec(), engine="formula")
    keras_side = zoo.summary(spec(), engine="keras")
    assert formula.rows == keras_side.rows
    assert (
        formula.total_params == keras_side.total_params == 28 * 8 + 73 * 16 + 7 * 8 + 25 * 5 + 25 * 1
    )  # (fh*fw*c_in + 1) * filters
    both = next(r for r in formula.rows if r.name == "both")
    assert both.output_shape == (None, 24) and both.connected_to == ("image_features", "metadata_features")
    first = formula.rows[0]
    assert first.connected_to == ("image",)  # the input layer's Keras name, as Keras reports it


def test_the_keras_model_has_the_named_inputs_and_the_outputs_in_order():
    model = zoo.build(spec(), compile=False)
    assert [t._keras_history[0].name for t in model.inputs] == ["image", "metadata"]
    assert [t._keras_history[0].name for t in model.outputs] == ["category", "price"]
    out = model([np.zeros((2, 32, 32, 3), "float32"), np.zeros((2, 6), "float32")])
    assert [tuple(o.shape) for o in out] == [(2, 5), (2, 1)]


def test_explain_and_the_diagram_show_both_inputs():
    text = zoo.explain(spec())
    assert "input image: (None, 32, 32, 3)\ninput metadata: (None, 6)\n" in text
    assert "metadata_features [from metadata]: out = units = 8; params = (6 + 1) * 8 = 56" in text
    from zoo import diagram

    dot = diagram.dot(spec())
    assert '"image" [label=<<B>image</B><BR/>Input' in dot and '"metadata" [label=<<B>metadata</B>' in dot
    assert '"metadata" -> "metadata_features"' in dot


def test_the_file_reads_back_as_itself():
    again = zoo.Spec.from_yaml(spec().to_yaml())
    assert again == spec()
    assert "inputs: {image: [32, 32, 3], metadata: [6]}\n" in spec().to_yaml()
    assert spec().to_yaml().endswith("outputs: [category, price]\n")


@pytest.mark.slow  # seconds: the inner loop's budget
def test_goldens_and_fingerprints_of_a_model_with_two_inputs(tmp_path, monkeypatch, capsys):
    from zoo.keras import builder, fingerprint

    fp = fingerprint.take(spec())
    seeded = builder.build(spec(), compile=False, seeded=True)
    assert fp == fingerprint.of_model(seeded, "image_and_metadata", fingerprint.input_shape_for(spec()))
    specs, goldens = tmp_path / "specs", tmp_path / "goldens"
    specs.mkdir()
    (specs / "image_and_metadata.yaml").write_text(IMAGE_AND_METADATA, encoding="utf-8")
    monkeypatch.setenv("ZOO_SPEC_PATH", str(specs))
    assert main(["golden", "regen", "image_and_metadata", "--goldens", str(goldens)]) == 0
    assert main(["check", "image_and_metadata", "--goldens", str(goldens)]) == 0
    assert "ok     image_and_metadata" in capsys.readouterr().out


@pytest.mark.parametrize(
    "text, words",
    [
        (
            IMAGE_AND_METADATA.replace("outputs: [category, price]", "outputs: [category, prize]"),
            "unknown layer 'prize'",
        ),
        (
            IMAGE_AND_METADATA.replace("outputs: [category, price]\n", ""),
            "category is not used by any later layer",
        ),
        (
            IMAGE_AND_METADATA.replace(", inputs: [metadata]", ""),
            "the model's input 'metadata' is taken by no layer",
        ),
        (IMAGE_AND_METADATA.replace("inputs: {image", "input: [8]\ninputs: {image"), "one of the two"),
        (
            IMAGE_AND_METADATA.replace(
                "outputs: [category, price]", "outputs: [category, price]\nmodel: sequential"
            ),
            "several inputs or outputs",
        ),
        (
            IMAGE_AND_METADATA.replace("name: image_features", "name: image"),
            "'image' names one of the model's inputs",
        ),
        (IMAGE_AND_METADATA.replace("metadata: [6]", "metadata: [0]"), "invalid input shape"),
    ],
)
def test_mistakes_are_named_with_their_line(text, words):
    with pytest.raises(zoo.SpecError) as err:
        zoo.Spec.from_yaml(text, "image_and_metadata.yaml")
    assert words in str(err.value)
    assert "image_and_metadata.yaml:" in str(err.value)


def test_zoo_run_says_it_makes_data_for_one_input():
    runnable = (
        IMAGE_AND_METADATA + "compile: {optimizer: adam, loss: mse}\ndata: {classes: 5}\nfit: {epochs: 1}\n"
    )
    with pytest.raises(zoo.SpecError, match="2 inputs and 2 outputs; zoo.run makes"):
        zoo.run(zoo.Spec.from_yaml(runnable))


def test_a_keras_model_with_two_inputs_and_two_outputs_imports_and_rebuilds():
    import keras

    image, meta = keras.Input((24, 24, 1), name="scan"), keras.Input((3,), name="age_sex_site")
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(image)
    x = keras.layers.GlobalMaxPooling2D()(x)
    m = keras.layers.Dense(4, activation="relu")(meta)
    both = keras.layers.Concatenate()([x, m])
    diagnosis = keras.layers.Dense(3, activation="softmax", name="diagnosis")(both)
    severity = keras.layers.Dense(1, name="severity")(both)
    model = keras.Model([image, meta], [diagnosis, severity], name="clinic")
    imported = zoo.from_keras(model)
    assert imported.inputs == (("scan", (24, 24, 1)), ("age_sex_site", (3,)))
    assert imported.output_names == ("diagnosis", "severity")
    ours = zoo.build(imported, compile=False)
    ours.set_weights(model.get_weights())
    x = [np.ones((2, 24, 24, 1), "float32"), np.ones((2, 3), "float32")]
    for a, b in zip(ours(x), model(x), strict=True):
        assert np.array_equal(np.asarray(a), np.asarray(b))
    formula = zoo.summary(imported, engine="formula")
    assert formula.total_params == model.count_params()


# ---------------------------------------------------------------- a layer called twice

SIAMESE = """\
name: siamese
description: Two images through one encoder; how alike they are.
inputs: {left: [16, 16, 1], right: [16, 16, 1]}
layers:
  - Conv2D: {name: encoder, filters: 4, kernel_size: 3, activation: relu}
  - Call: {name: encoder_right, layer: encoder, inputs: [right]}
  - Subtract: {name: difference, inputs: [encoder, encoder_right]}
  - GlobalAveragePooling2D: {}
  - Dense: {units: 1, activation: sigmoid}
"""


def siamese() -> zoo.Spec:
    return zoo.Spec.from_yaml(SIAMESE, "siamese.yaml")


def test_a_shared_layer_is_one_row_with_both_calls_as_keras_lists_it():
    formula, keras_side = zoo.summary(siamese(), engine="formula"), zoo.summary(siamese(), engine="keras")
    assert formula.rows == keras_side.rows
    encoder = formula.rows[0]
    assert (encoder.name, encoder.params, encoder.connected_to) == ("encoder", 40, ("left", "right"))
    assert encoder.macs == 2 * 14 * 14 * 4 * 9  # the work of both calls
    assert formula.rows[1].connected_to == ("encoder", "encoder")  # Keras names the layer, not the call
    assert formula.total_params == keras_side.total_params == 40 + 5
    model = zoo.build(siamese(), compile=False)
    assert [layer.name for layer in model.layers].count("encoder") == 1
    assert len(model.get_layer("encoder")._inbound_nodes) == 2


def test_a_shared_layer_s_call_is_explained_drawn_and_written_back():
    from zoo import diagram

    text = zoo.explain(siamese())
    call = "encoder_right [from right]: out = floor((16 - 3 + 0) / 1) + 1 = 14; params = 0 (the weights of"
    assert call in text
    dot = diagram.dot(siamese())
    assert "Conv2D, encoder&#x27;s weights" in dot or "Conv2D, encoder's weights" in dot
    assert '"right" -> "encoder_right"' in dot and '"encoder_right" -> "difference"' in dot
    assert zoo.Spec.from_yaml(siamese().to_yaml()) == siamese()


def test_a_shared_layer_s_fingerprint_and_import():
    from zoo.keras import builder, fingerprint

    fp = fingerprint.take(siamese())
    assert fp == fingerprint.of_model(
        builder.build(siamese(), compile=False, seeded=True), "siamese", (16, 16, 1)
    )
    model = zoo.build(siamese(), compile=False)
    imported = zoo.from_keras(model, name="siamese")  # rebuilt and compared before it returns
    assert [layer.kind for layer in imported.layers] == [
        "Conv2D",
        "Call",
        "Subtract",
        "GlobalAveragePooling2D",
        "Dense",
    ]
    assert imported.layers[1].args["layer"] == "encoder"


def test_a_keras_siamese_model_imports_with_its_shared_encoder():
    import keras

    left, right = keras.Input((12, 12, 3), name="a"), keras.Input((12, 12, 3), name="b")
    encoder = keras.Sequential(
        [keras.layers.Conv2D(8, 3, activation="relu"), keras.layers.GlobalMaxPooling2D()], name="encoder"
    )
    head = keras.layers.Dense(1, activation="sigmoid", name="same")
    distance = keras.layers.Subtract(name="distance")([encoder(left), encoder(right)])
    model = keras.Model([left, right], head(distance), name="twins")
    spec = zoo.from_keras(model)
    assert [layer.kind for layer in spec.layers] == ["Sequential", "Call", "Subtract", "Dense"]
    assert zoo.summary(spec, engine="formula").total_params == model.count_params() == 8 * 28 + 9


@pytest.mark.parametrize(
    "old, new, words",
    [
        ("layer: encoder, inputs", "layer: encoderr, inputs", "no earlier layer; did you mean 'encoder'"),
        ("layer: encoder, inputs", "layer: difference, inputs", "calls no earlier layer"),
        ("inputs: {left: [16, 16, 1], right: [16, 16, 1]}", "inputs: {left: [16, 16, 1], right: [16, 16, 2]}",
         "encoder's weights (40 parameters) were made for its first inputs; on these it would need 76"),
    ],
)  # fmt: skip
def test_call_mistakes_are_named_with_their_line(old, new, words):
    with pytest.raises(zoo.SpecError) as err:
        zoo.summary(zoo.Spec.from_yaml(SIAMESE.replace(old, new), "siamese.yaml"), engine="formula")
    assert words in str(err.value) and "siamese.yaml:6" in str(err.value)


# ---------------------------------------------------------------- a layer's several outputs

SEQ2SEQ = """\
name: seq2seq
description: keras.io's character-level seq2seq, its encoder's states starting its decoder.
inputs: {source: [null, 7], target: [null, 9]}
layers:
  - LSTM: {name: encoder, units: 8, return_state: true, inputs: [source]}
  - LSTM: {name: decoder, units: 8, return_sequences: true, inputs: [target, "encoder:1", "encoder:2"]}
  - Dense: {units: 9, activation: softmax}
"""


def test_a_layer_s_states_are_taken_by_name_and_index_and_keras_agrees():
    s2s = zoo.Spec.from_yaml(SEQ2SEQ, "seq2seq.yaml")
    formula = zoo.summary(s2s, engine="formula")
    keras_side = zoo.summary(s2s, engine="keras")
    assert formula == keras_side
    encoder = formula.rows[0]
    # LSTM: 4 * ((7 + 8) * 8 + 8) = 512; its output, then h and c
    assert (encoder.params, encoder.output_shape) == (512, ((None, 8), (None, 8), (None, 8)))
    assert formula.rows[1].connected_to == ("target", "encoder:1", "encoder:2")


def test_a_golden_of_several_outputs_round_trips():
    from zoo.golden import summaries

    s = zoo.summary(zoo.Spec.from_yaml(SEQ2SEQ, "seq2seq.yaml"), engine="formula")
    assert summaries.loads(summaries.dumps(s)) == s


@pytest.mark.parametrize(
    "wrong, says",
    [
        ('"encoder:3"', "no output 3 of encoder: encoder gives 3 outputs: encoder, encoder:1, encoder:2"),
        ('"source:1"', "no output 1 of source: source gives one output"),
        ("target", "initial state 1 has shape (None, None, 9), but the layer's state 1 is (None, 8)"),
    ],
)
def test_a_wrong_output_index_or_state_is_a_clear_error(wrong, says):
    text = SEQ2SEQ.replace('"encoder:2"', wrong)
    with pytest.raises(zoo.SpecError) as info:
        zoo.summary(zoo.Spec.from_yaml(text, "seq2seq.yaml"), engine="formula")
    assert "seq2seq.yaml:6" in str(info.value) and says in str(info.value), str(info.value)


def test_states_count_is_the_layer_s():
    text = SEQ2SEQ.replace(', "encoder:2"]', "]")
    with pytest.raises(zoo.SpecError, match="takes its sequence, and may take its 2 initial states"):
        zoo.Spec.from_yaml(text, "seq2seq.yaml")


@pytest.mark.backend  # on JAX too: the fingerprint of a layer's every output
def test_a_fingerprint_pins_every_output_and_both_paths_agree():
    """The layer-by-layer fingerprint (streamed) and the seeded model's run give the same prints, one
    per output: encoder, encoder:1 (h) and encoder:2 (c), each sequence at 32 steps."""
    from zoo.keras import builder, fingerprint

    s2s = zoo.Spec.from_yaml(SEQ2SEQ, "seq2seq.yaml")
    streamed = fingerprint.take(s2s)
    assert [p.name for p in streamed.layers] == ["encoder", "encoder:1", "encoder:2", "decoder", "dense"]
    assert [p.shape for p in streamed.layers[:3]] == [(2, 8)] * 3
    sized = fingerprint.closed_sequences(s2s)
    whole = fingerprint.of_model(builder.build(sized, compile=False, seeded=True), s2s.name, sized.input)
    assert whole.layers == streamed.layers
