"""Import: a Keras model as a spec that builds the same model (``zoo.from_keras``, ``zoo import``).

The judges are models no one here wrote: keras.io's convolutional examples (their model code as the
examples write it, sizes made small where the example takes them as parameters),
keras.applications' own models, and Keras's own file formats. "The same model" is what
``zoo.keras.compare`` says of zoo's family files against keras.applications: the same layers
(names, classes, shapes, parameters, inbound layers) and the same ``to_json()``; then the weights of
the original load into the spec's model, by order and by name, and the outputs are equal.
"""

from __future__ import annotations

import json

import keras_io_models
import numpy as np
import pytest

import zoo
from zoo.cli import main
from zoo.keras import compare, importer
from zoo.specification import catalog

EXAMPLES = keras_io_models.MODELS
mnist_convnet = keras_io_models.mnist_convnet
transfer_on_mobilenet_v2 = keras_io_models.transfer_on_mobilenet_v2


def rebuilds(spec: zoo.Spec, model) -> None:
    """The spec builds ``model``: layers and to_json, the weights by order and by name, outputs."""
    import keras

    ours = zoo.build(spec, compile=False)
    nested = any(isinstance(layer, keras.Model) for layer in model.layers)
    named = spec.input_name != "input"  # an input name Keras generated (input_layer_3) is set aside
    assert compare.differences(ours, model, input_names=named, generated=nested) == []
    rng = np.random.default_rng(1)
    x = [  # each input, a sequence of open length at 32 steps
        rng.standard_normal((2, *(d or 32 for d in t.shape[1:]))).astype("float32") for t in model.inputs
    ]
    x = x if len(x) > 1 else x[0]
    ours.set_weights(model.get_weights())
    mine, theirs = ours(x, training=False), model(x, training=False)
    mine, theirs = (keras.tree.flatten(y) for y in (mine, theirs))  # a model's several outputs
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs):
        assert np.array_equal(np.asarray(a), np.asarray(b))


def examples() -> list:
    """The models as params; those that take seconds in the slow tier (the keras.applications base
    is covered in the inner loop by test_a_keras_applications_base_becomes_a_base_layer...)."""
    big = [pytest.mark.slow, pytest.mark.large]
    return [
        pytest.param(
            e,
            marks=big
            if e in keras_io_models.SLOW
            else [pytest.mark.slow]
            if e in keras_io_models.MEDIUM
            else [],
        )
        for e in EXAMPLES
    ]


# Rebuilding every example (a model built, weights saved and loaded, a forward pass each) takes
# seconds in all: the inner loop rebuilds one of each kind (a Sequential, a graph, one whose layer
# gives its states), the slow tier every one; the row-by-row test below keeps every example inline.
INNER_REBUILDS = {"mnist_convnet", "guide_toy_resnet", "lstm_seq2seq_encoder"}


def rebuild_examples() -> list:
    return [
        p if p.values[0] in INNER_REBUILDS or p.marks else pytest.param(*p.values, marks=pytest.mark.slow)
        for p in examples()
    ]


@pytest.mark.parametrize("example", rebuild_examples())
def test_keras_io_examples_import_to_specs_that_rebuild_them(example, tmp_path):
    model = EXAMPLES[example]()
    spec = zoo.from_keras(model, name=example)
    rebuilds(spec, model)
    # the weights load by name too: Keras's own weights file of the original, into the spec's model
    path = tmp_path / "original.weights.h5"
    model.save_weights(path)
    ours = zoo.build(spec, compile=False)
    ours.load_weights(path)
    for a, b in zip(ours.weights, model.weights, strict=True):
        assert np.array_equal(np.asarray(a), np.asarray(b)), a.path
    # and its file reads back as the same spec
    assert zoo.Spec.from_yaml(spec.to_yaml()) == spec


@pytest.mark.parametrize("example", examples())
def test_the_formula_engine_agrees_with_keras_on_imported_models_row_by_row(example):
    from zoo.keras import introspect

    model = EXAMPLES[example]()
    spec = zoo.from_keras(model, name=example)
    keras_rows = introspect.summary_of(model, order=[layer.name for layer in spec.layers])
    formula = zoo.summary(spec, engine="formula")
    assert [(r.name, r.type, r.output_shape, r.params, r.trainable_params) for r in formula.rows] == [
        (r.name, r.type, r.output_shape, r.params, r.trainable_params) for r in keras_rows.rows
    ]
    assert formula.total_params == keras_rows.total_params
    assert formula.trainable_params == keras_rows.trainable_params
    if example in keras_io_models.PUBLISHED:  # the number the page printed
        assert formula.total_params == keras_io_models.PUBLISHED[example]


def test_arguments_keras_would_use_anyway_are_left_out():
    import keras

    keras.utils.clear_session()  # the names a fresh session gives are left to Keras too
    spec = zoo.from_keras(mnist_convnet(), name="mnist")
    text = spec.to_yaml()
    assert "  - Conv2D: {filters: 32, kernel_size: 3, activation: relu}\n" in text
    assert "  - MaxPooling2D: {}\n" in text  # pool_size 2 is Keras's default
    assert "  - Dropout: {rate: 0.5}\n" in text
    for default in ("strides", "padding", "use_bias", "kernel_initializer", "data_format", "linear"):
        assert default not in text


@pytest.mark.slow  # seconds: the inner loop's budget
def test_a_keras_applications_base_becomes_a_base_layer_recognised_by_its_layers():
    model = transfer_on_mobilenet_v2()
    model.layers[0].name = "my_backbone"  # not the name keras.applications gives it
    spec = zoo.from_keras(model, name="transfer")
    [base, head] = spec.layers
    assert (base.kind, base.name, base.args.get("pooling"), base.args.get("trainable")) == (
        "MobileNetV2",
        "my_backbone",
        "avg",
        False,
    )
    assert head.kind == "Dense"


def _constructors() -> list:
    """Every keras.applications constructor: ResNet50 in the slow tier, all with -m applications."""
    from zoo.specification import catalog

    slow = {"ResNet50"}
    return [
        pytest.param(
            c, marks=[pytest.mark.slow] if c in slow else [pytest.mark.slow, pytest.mark.applications]
        )
        for c in catalog.APPLICATIONS
    ]


@pytest.mark.parametrize("constructor", _constructors())
def test_keras_applications_models_import_as_flat_specs_that_rebuild_them(constructor):
    """keras.applications' own model, without its top at 96x96: every layer its own in the spec."""
    import keras

    keras.utils.clear_session()
    model = getattr(keras.applications, constructor)(weights=None, input_shape=(96, 96, 3), include_top=False)
    spec = zoo.from_keras(model, name=constructor.lower())
    rebuilds(spec, model)
    assert zoo.summary(spec, engine="formula").total_params == model.count_params()


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            n,
            marks=[pytest.mark.slow, pytest.mark.applications]
            if zoo.spec(n).family
            else [pytest.mark.slow, pytest.mark.large]
            if any(layer.kind in catalog.APPLICATIONS for layer in zoo.spec(n).layers)
            else [pytest.mark.slow],
        )
        for n in zoo.names()
    ],
)
def test_zoo_s_own_specs_import_back_to_themselves(name):
    model = zoo.build(name, weights=None, compile=False)
    spec = zoo.from_keras(model, name=name)  # rebuilt and compared with the model before it returns
    # the import lists a graph's layers in Keras's order, a family file in its own: the same rows
    ours, shipped = (zoo.summary(s, engine="formula").rows for s in (spec, name))
    assert sorted(ours, key=lambda r: r.name) == sorted(shipped, key=lambda r: r.name)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            n,
            marks=[pytest.mark.slow, pytest.mark.applications]
            if zoo.spec(n).family and n != "resnet50"
            else [],
        )
        for n in zoo.names()
    ],
)
def test_every_shipped_spec_writes_a_file_that_reads_back_as_itself(name):
    """A family's variant comes out flat: the same layers, the same formula summary."""
    spec = zoo.spec(name)
    text = spec.to_yaml()
    again = zoo.Spec.from_yaml(text)
    assert again.to_yaml() == text
    assert zoo.summary(again, engine="formula") == zoo.summary(spec, engine="formula")
    if spec.family is None:
        assert again == spec


@pytest.fixture
def model_files(tmp_path):
    import keras

    keras.utils.clear_session()  # keras.io's page shows a fresh session's names
    model = mnist_convnet()
    files = {"keras": tmp_path / "mnist.keras", "h5": tmp_path / "mnist.h5", "json": tmp_path / "mnist.json"}
    model.save(files["keras"])
    model.save(files["h5"])
    files["json"].write_text(model.to_json(), encoding="utf-8")
    return model, files


@pytest.mark.parametrize("kind", ["keras", "h5", "json"])
def test_zoo_import_writes_the_spec_of_each_model_file_format(model_files, kind, tmp_path, capsys):
    model, files = model_files
    out = tmp_path / "mnist.yaml"
    assert main(["import", str(files[kind]), "-o", str(out), "--name", "mnist"]) == 0
    assert "the same model" in capsys.readouterr().err
    spec = zoo.Spec.from_file(out)
    assert spec.name == "mnist"
    assert [layer.kind for layer in spec.layers] == [type(layer).__name__ for layer in model.layers]
    if kind != "json":  # a to_json() file has no weights: the architecture is compared
        rebuilds(spec, importer.load(files[kind]))


def test_every_face_works_on_a_model_file(model_files, tmp_path, capsys):
    _, files = model_files
    # keras.io's mnist_convnet page prints "Total params: 34,826" and these rows
    published = [("conv2d_1", "(None, 11, 11, 64)", "18,496"), ("dense", "(None, 10)", "16,010")]
    for engine in ("formula", "keras"):
        assert main(["summary", str(files["keras"]), "--engine", engine]) == 0
        out = capsys.readouterr().out
        assert "Total params: 34,826" in out, engine
        for name, shape, params in published:
            assert any(name in line and shape in line and params in line for line in out.splitlines()), (
                engine,
                name,
            )
    assert main(["explain", str(files["h5"])]) == 0
    assert "out = floor((28 - 3 + 0) / 1) + 1 = 26" in capsys.readouterr().out
    assert main(["diagram", str(files["json"]), "-o", str(tmp_path / "m.dot")]) == 0


@pytest.mark.slow  # seconds: the inner loop's budget
def test_zoo_check_compares_the_formula_engine_with_keras_on_a_model_file(model_files, tmp_path, capsys):
    import keras

    model, files = model_files
    assert main(["check", str(files["keras"])]) == 0
    assert capsys.readouterr().out.startswith(f"ok     {files['keras']}")
    goldens = tmp_path / "goldens"
    assert main(["golden", "regen", str(files["keras"]), "--goldens", str(goldens)]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in goldens.iterdir()) == [f"{model.name}.fingerprint.yml", f"{model.name}.yml"]
    # keras.io's published rows are in the golden written from the file
    assert "18496" in (goldens / f"{model.name}.yml").read_text(encoding="utf-8")
    assert main(["golden", "check", str(files["keras"]), "--goldens", str(goldens)]) == 0
    capsys.readouterr()
    # the same model with one more filter in its second convolution, under the same names
    keras.utils.clear_session()
    changed = keras.models.clone_model(
        model,
        clone_function=lambda layer: (
            keras.layers.Conv2D.from_config({**layer.get_config(), "filters": 65})
            if layer.name == "conv2d_1"
            else layer.__class__.from_config(layer.get_config())
        ),
    )
    changed.save(tmp_path / "changed.keras")
    assert main(["golden", "check", str(tmp_path / "changed.keras"), "--goldens", str(goldens)]) == 1
    out = capsys.readouterr().out
    assert "DIFFER" in out and "conv2d_1" in out, out
    # a model file zoo cannot import is an error for that file, with its reason
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip")
    assert main(["check", str(broken)]) == 2
    assert "Keras could not load this model" in capsys.readouterr().out


def test_bad_model_files_exit_2_and_write_nothing(tmp_path, capsys):
    import keras

    out = tmp_path / "out.yaml"
    missing = tmp_path / "nope.keras"
    assert main(["import", str(missing), "-o", str(out)]) == 2
    assert "no such file" in capsys.readouterr().err
    wrong = tmp_path / "model.txt"
    wrong.write_text("hello", encoding="utf-8")
    assert main(["import", str(wrong), "-o", str(out)]) == 2
    assert "valid: .keras, .h5, .hdf5, .json" in capsys.readouterr().err
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip")
    assert main(["import", str(broken), "-o", str(out)]) == 2
    assert "Keras could not load this model" in capsys.readouterr().err
    lam = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda x: x * 2)])
    lam_json = tmp_path / "lambda.json"
    lam_json.write_text(lam.to_json(), encoding="utf-8")
    assert main(["import", str(lam_json), "-o", str(out)]) == 2
    assert "Lambda layer (arbitrary Python code)" in capsys.readouterr().err
    assert not out.exists()


@pytest.fixture
def uncatalogued_lstm(monkeypatch):
    """LSTM taken out of the catalogue for one test: the class a future Keras release adds, which zoo
    does not know yet (every class of today's keras.layers is catalogued or refused)."""
    from zoo.specification import catalog

    monkeypatch.delitem(catalog.LAYERS, "LSTM")


@pytest.mark.usefixtures("uncatalogued_lstm")
def test_a_layer_zoo_does_not_know_is_named_with_where_it_is():
    import keras

    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3)(inputs)
    x = keras.layers.LSTM(4)(keras.layers.Reshape((36, 4))(x))
    model = keras.Model(inputs, x, name="mixed")
    with pytest.raises(zoo.SpecError) as err:
        zoo.from_keras(model)
    message = str(err.value)
    assert "layer 'lstm" in message and "of model 'mixed'" in message and "no layer class LSTM" in message


def lstm_after_a_conv():
    import keras

    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3)(inputs)
    x = keras.layers.Reshape((36, 4))(x)
    x = keras.layers.LSTM(5, name="lstm")(x)
    return keras.Model(inputs, keras.layers.Dense(2)(x), name="mixed")


@pytest.mark.usefixtures("uncatalogued_lstm")
def test_an_unknown_layer_s_error_names_the_two_ways_forward():
    with pytest.raises(zoo.SpecError) as err:
        zoo.from_keras(lstm_after_a_conv())
    assert "zoo import --opaque" in str(err.value) and "catalogue entry" in str(err.value)


@pytest.mark.slow  # seconds: the inner loop's budget
@pytest.mark.usefixtures("uncatalogued_lstm")
def test_opaque_import_keeps_keras_s_numbers_and_every_face_marks_them_unchecked(tmp_path, capsys):
    from zoo import diagram
    from zoo.arith.summary import render
    from zoo.golden import summaries

    model = lstm_after_a_conv()
    spec = zoo.from_keras(model, opaque=True)  # checked: it rebuilds the same model
    [lstm] = [layer for layer in spec.layers if layer.kind == "Opaque"]
    assert lstm.args["class_name"] == "LSTM" and lstm.args["config"] == {"units": 5}  # defaults left out
    formula, keras_side = zoo.summary(spec, engine="formula"), zoo.summary(spec, engine="keras")
    assert formula.rows == keras_side.rows and formula.total_params == model.count_params()
    assert [r.name for r in formula.rows if r.unchecked] == ["lstm"]
    table = render(formula)
    assert "lstm (LSTM)" in table and "Unchecked by the formula engine" in table and ": lstm\n" in table
    golden = summaries.dumps(formula)
    assert "unchecked: [lstm]\n" in golden
    assert [r.unchecked for r in summaries.loads(golden).rows] == [False, False, True, False]
    assert "unchecked: shape and params from Keras at import" in diagram.dot(spec)
    path = tmp_path / "mixed.keras"
    model.save(path)
    out = tmp_path / "mixed.yaml"
    assert main(["import", str(path), "-o", str(out)]) == 2  # without --opaque: the error
    assert not out.exists()
    assert main(["import", str(path), "-o", str(out), "--opaque"]) == 0
    assert "unchecked by the formula engine: lstm" in capsys.readouterr().err
    assert main(["summary", str(path), "--engine", "formula"]) == 0
    assert "Unchecked by the formula engine" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, words",
    [
        ("{class_name: Lambda, output_shape: [4]}", "zoo refuses Lambda: it runs arbitrary Python code"),
        ("{class_name: os, output_shape: [4]}", "must name a class of keras.layers"),
        ("{class_name: LSTM, output_shape: [4], config: {units: !!python/name:os.system ''}}", "tag"),
    ],
)
def test_an_opaque_layer_in_a_spec_names_only_a_keras_layer_class(args, words):
    text = f"name: o\ndescription: d\ninput: [3, 4]\nlayers:\n  - Opaque: {args}\n"
    with pytest.raises(zoo.SpecError) as err:
        zoo.Spec.from_yaml(text, "o.yaml")
    assert words in str(err.value)


def test_an_opaque_class_keras_layers_lacks_is_a_spec_error_at_build():
    opaque = "Opaque: {class_name: NoSuchLayer, output_shape: [4]}"
    text = f"name: o\ndescription: d\ninput: [3, 4]\nlayers:\n  - {opaque}\n"
    with pytest.raises(zoo.SpecError, match="keras.layers has no layer class 'NoSuchLayer'"):
        zoo.build(zoo.Spec.from_yaml(text), compile=False)


def test_a_setting_the_catalogue_cannot_write_is_refused_naming_the_layer():
    """A kernel regularizer is not a spec argument: the import would lose it, so it is refused."""
    import keras

    model = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, kernel_regularizer="l2", name="reg")]
    )
    with pytest.raises(zoo.SpecError) as err:
        zoo.from_keras(model)
    assert "does not rebuild the same model" in str(err.value)
    assert "kernel_regularizer" in str(err.value)


def test_a_layer_called_twice_imports_as_a_call_with_its_weights_once():
    import keras

    a, b = keras.Input((4,)), keras.Input((4,))
    shared = keras.layers.Dense(2, name="shared")
    model = keras.Model([a, b], keras.layers.Add()([shared(a), shared(b)]))
    spec = zoo.from_keras(model, name="twice")  # rebuilt and compared before it returns
    assert [(layer.kind, layer.name) for layer in spec.layers[:2]] == [
        ("Dense", "shared"),
        ("Call", "shared_call2"),
    ]
    assert spec.layers[1].args["layer"] == "shared" and spec.layers[2].kind == "Add"
    assert zoo.summary(spec, engine="formula").total_params == model.count_params() == 10


def test_json_of_imported_spec_names_the_input_the_model_gave():
    import keras

    model = keras.Sequential([keras.Input((8, 8, 3), name="image"), keras.layers.Conv2D(4, 3)])
    spec = zoo.from_keras(model, name="named")
    assert spec.input_name == "image"
    config = json.loads(zoo.build(spec, compile=False).to_json())
    assert config["config"]["layers"][0]["config"]["name"] == "image"


def test_the_layer_by_layer_check_finds_what_the_rows_cannot_show():
    """``check="layers"`` (what `zoo summary FILE` runs; no model is built) compares each layer's
    Keras configuration, then the rows: an activation changes no row, and is still found."""
    model = mnist_convnet()
    spec = zoo.from_keras(model, check="layers")
    assert importer.same_layers(spec, model) == []
    data = importer.spec_data(model)
    data["layers"][0]["Conv2D"]["activation"] = "tanh"
    changed = zoo.Spec.from_dict(data)
    [problem] = importer.same_layers(changed, model)
    assert "activation: zoo 'tanh', keras 'relu'" in problem, problem
    data = importer.spec_data(model)
    data["layers"][2]["Conv2D"]["filters"] = 65
    rows = importer.same_layers(zoo.Spec.from_dict(data), model)
    assert any("filters: zoo 65, keras 64" in p for p in rows), rows
    assert any("row 2" in p and "params" in p for p in rows), rows
    with pytest.raises(zoo.SpecError, match="check: 'quick' is not one of 'full', 'layers'"):
        zoo.from_keras(model, check="quick")


@pytest.mark.slow  # seconds: the inner loop's budget
def test_a_nested_functional_model_is_a_group_every_face_shows(tmp_path, capsys):
    import keras

    keras.utils.clear_session()
    model = keras_io_models.guide_nested_autoencoder()
    path = tmp_path / "autoencoder.keras"
    model.save(path)
    out = tmp_path / "autoencoder.yaml"
    assert main(["import", str(path), "-o", str(out)]) == 0
    capsys.readouterr()
    spec = zoo.Spec.from_file(out)
    assert [(layer.kind, layer.name) for layer in spec.layers] == [
        ("Functional", "encoder"),
        ("Functional", "decoder"),
    ]
    assert spec.layers[0].args["input_name"] == "original_img"  # the guide's name for it, kept
    rebuilds(spec, importer.load(path))
    # the guide prints the encoder's row (None, 16) with 18,672 parameters, the decoder's 9,569
    assert main(["summary", str(path), "--engine", "formula"]) == 0
    printed = capsys.readouterr().out
    assert any("encoder" in r and "(None, 16)" in r and "18,672" in r for r in printed.splitlines()), printed
    assert any("decoder" in r and "(None, 28, 28, 1)" in r and "9,569" in r for r in printed.splitlines())
    assert main(["explain", str(path)]) == 0
    assert "params = 18,672 (the sum of its layers)" in capsys.readouterr().out
    assert main(["check", str(path)]) == 0
    assert main(["diagram", str(path), "-o", str(tmp_path / "a.dot")]) == 0
    assert "encoder" in (tmp_path / "a.dot").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("layers", "words"),
    [
        ([{"Conv2D": {"filters": 2, "kernel_size": 1}}], "name every layer of a nested functional model"),
        ([{"Dense": {"name": "a", "units": 2, "inputs": ["b"]}}], "takes a layer not defined before it"),
        ([{"Sequential": {"name": "s", "layers": [{"Dense": {"name": "d", "units": 1}}]}}], "not Sequential"),
        ([{"Dense": {"name": "a", "units": 2}}, {"Dense": {"name": "a", "units": 2}}], "have this name"),
    ],
)
def test_a_nested_functional_model_s_mistakes_are_named(layers, words):
    data = {"name": "n", "description": "d", "input": [4], "model": "functional"}
    with pytest.raises(zoo.SpecError, match=words):
        zoo.Spec.from_dict({**data, "layers": [{"Functional": {"name": "f", "layers": layers}}]})
    with pytest.raises(zoo.SpecError, match="names no layer of this nested model"):
        zoo.Spec.from_dict(
            {
                **data,
                "layers": [
                    {
                        "Functional": {
                            "name": "f",
                            "output": "x",
                            "layers": [{"Dense": {"name": "a", "units": 2}}],
                        }
                    }
                ],
            }
        )


def test_a_refused_class_is_named_with_the_reason():
    import keras

    lookup = keras.layers.StringLookup(vocabulary=["a", "b"])
    model = keras.Sequential([keras.Input((3,), dtype="string"), lookup], name="words")
    with pytest.raises(zoo.SpecError, match="is a StringLookup layer, which zoo refuses: its vocabulary"):
        zoo.from_keras(model)


@pytest.mark.slow  # seconds: the inner loop's budget
def test_every_face_works_on_a_sequence_model_file(tmp_path, capsys):
    """keras.io's bidirectional LSTM (token ids of any length): summary and check on its file; the
    check fingerprints it at a fixed length of token ids."""
    import keras

    keras.utils.clear_session()
    path = tmp_path / "imdb.keras"
    keras_io_models.bidirectional_lstm_imdb(max_features=500).save(path)
    assert main(["summary", str(path), "--engine", "formula"]) == 0
    out = capsys.readouterr().out
    # 2 directions * 4 gates * ((128 + 64) * 64 + 64): the page's 98,816 per Bidirectional
    assert sum("(Bidirectional)" in r and "98,816" in r for r in out.splitlines()) == 2, out
    assert main(["check", str(path)]) == 0, capsys.readouterr()


@pytest.mark.slow  # seconds: the inner loop's budget
def test_every_face_works_on_a_model_whose_layers_give_their_states(tmp_path, capsys):
    """keras.io's seq2seq sampling decoder: three inputs, an LSTM started from two of them, and the
    model's outputs its probabilities and the LSTM's states (``lstm:1``, ``lstm:2``). Summary,
    explain, diagram, check and goldens on its file; the check fingerprints every output."""
    import keras

    keras.utils.clear_session()
    path = tmp_path / "decoder.keras"
    keras_io_models.lstm_seq2seq_decoder(num_decoder_tokens=9, latent_dim=8).save(path)
    assert main(["summary", str(path), "--engine", "formula"]) == 0
    out = capsys.readouterr().out
    # 4 gates * ((9 + 8) * 8 + 8) = 576 parameters; its outputs as Keras's summary lists them
    assert "[(None, None, 8), (None, 8), (None, 8)]" in out and "576" in out, out
    assert main(["explain", str(path)]) == 0
    out = capsys.readouterr().out
    assert "-> outputs lstm (None, None, 8), lstm:1 (None, 8), lstm:2 (None, 8)" in out, out
    assert main(["diagram", str(path), "-o", str(tmp_path / "decoder.dot")]) == 0
    assert main(["check", str(path)]) == 0, capsys.readouterr()
    goldens = tmp_path / "goldens"
    assert main(["golden", "regen", str(path), "--goldens", str(goldens)]) == 0
    [pinned] = [p.read_text() for p in goldens.glob("*.yml") if not p.name.endswith(".fingerprint.yml")]
    assert "[null, null, 8], [null, 8], [null, 8]]" in pinned, pinned
    [fingerprint] = [p.read_text() for p in goldens.glob("*.fingerprint.yml")]
    assert "lstm:2" in fingerprint, fingerprint
    assert main(["golden", "check", str(path), "--goldens", str(goldens)]) == 0, capsys.readouterr()


def test_a_bidirectional_s_given_backward_layer_imports_and_rebuilds():
    """Keras's Bidirectional with backward_layer (its docstring's example: an LSTM forward, a
    go_backwards layer given for the other direction), with its states returned."""
    import keras

    from zoo.keras import fingerprint

    inputs = keras.Input((5, 3))
    wrapped = keras.layers.Bidirectional(
        keras.layers.LSTM(4, return_state=True),
        backward_layer=keras.layers.LSTM(4, go_backwards=True, return_state=True, name="back"),
        merge_mode="sum",
    )
    model = keras.Model(inputs, wrapped(inputs))
    spec = zoo.from_keras(model)
    assert (
        "backward_layer: {LSTM: {name: back, units: 4, return_state: true, go_backwards: true}}"
        in spec.to_yaml()
    )
    rebuilds(spec, model)
    # 2 * 4 * ((3 + 4) * 4 + 4); the sum, then each direction's h and c
    row = zoo.summary(spec, engine="formula").rows[0]
    assert row.params == 2 * 128 == model.count_params()
    assert row.output_shape == ((None, 4),) * 5
    prints = fingerprint.take(spec).layers
    assert [p.name for p in prints] == [f"{row.name}{k}" for k in ("", ":1", ":2", ":3", ":4")]


def test_a_nested_model_s_layer_may_give_its_states_to_a_later_one():
    """An encoder model whose LSTM's cell state joins its output: inside a nested functional model
    too, a layer's k-th output is ``name:k``."""
    import keras

    x = keras.Input((6, 3), name="seq")
    out, _, c = keras.layers.LSTM(4, return_state=True, name="enc")(x)
    encoder = keras.Model(x, keras.layers.Concatenate(name="both")([out, c]), name="encoder")
    inputs = keras.Input((6, 3))
    model = keras.Model(inputs, keras.layers.Dense(2, name="head")(encoder(inputs)))
    spec = zoo.from_keras(model)
    assert "- Concatenate: {name: both, inputs: [enc, 'enc:2']}" in spec.to_yaml()
    rebuilds(spec, model)
    assert zoo.summary(spec, engine="formula").rows[0].output_shape == (None, 8)
    with pytest.raises(zoo.SpecError, match="no output 3 of enc: enc gives 3 outputs"):
        zoo.Spec.from_yaml(spec.to_yaml().replace("'enc:2'", "'enc:3'"))


def test_a_nested_functional_model_calls_attention_as_the_top_level_graph_does():
    """Attention takes (query, value) as positional arguments, inside a nested model as at the top."""
    import keras

    tokens = keras.Input((6, 8), name="tokens")
    attended = keras.layers.MultiHeadAttention(2, 4, name="attend")(tokens, tokens)
    block = keras.Model(tokens, keras.layers.Add(name="residual")([tokens, attended]), name="block")
    inputs = keras.Input((6, 8))
    model = keras.Model(inputs, keras.layers.Dense(3, name="out")(block(inputs)), name="encoder")
    spec = zoo.from_keras(model)
    assert spec.layers[0].kind == "Functional"
    rebuilds(spec, model)


def test_lookups_encodings_and_attention_s_newer_arguments_round_trip():
    """Issue 25: the lookups' encoded modes, attention over given axes and, where the running Keras
    has them (3.14, 3.15), the gate and the sliding window import and rebuild."""
    import keras

    from zoo.specification import keras_versions

    version = keras_versions.parse(keras.__version__)
    newer: dict[str, object] = {}
    if keras_versions.change("attention-use-gate").is_new(version):
        newer["use_gate"] = True
    if keras_versions.change("attention-sliding-window").is_new(version):
        newer["sliding_window"] = 2
    grid = keras.Input((2, 3, 4), name="grid")
    gate = {k: v for k, v in newer.items() if k == "use_gate"}  # a sliding window needs sequences
    over_rows = keras.layers.MultiHeadAttention(2, 3, attention_axes=(2,), name="rows", **gate)(grid, grid)
    tokens = keras.Input((5, 4), name="tokens")
    grouped = keras.layers.GroupQueryAttention(3, 4, 2, name="grouped", **newer)(tokens, tokens)
    codes = keras.Input((3,), name="codes")
    bins = keras.layers.Discretization(bin_boundaries=[0.0, 1.0], output_mode="one_hot", name="bins")(codes)
    hashed = keras.layers.Hashing(num_bins=4, output_mode="count", name="hashed")(codes)
    model = keras.Model(
        [grid, tokens, codes],
        [over_rows, grouped, bins, hashed],
        name="newer",
    )
    spec = zoo.from_keras(model)
    written = {layer.name: layer.args for layer in spec.layers}
    assert list(written["rows"]["attention_axes"]) == [2]
    assert all(written["grouped"].get(k) == v for k, v in newer.items())
    assert all(written["rows"].get(k) == v for k, v in gate.items())
    assert written["bins"]["output_mode"] == "one_hot" and written["hashed"]["output_mode"] == "count"
    rebuilds(spec, model)


def test_a_built_attention_s_default_axes_are_not_written():
    """Keras writes the axes it chose into a built MultiHeadAttention's config; the spec leaves them out."""
    import keras

    tokens = keras.Input((5, 4))
    model = keras.Model(tokens, keras.layers.MultiHeadAttention(2, 3, name="attend")(tokens, tokens))
    assert model.get_layer("attend").get_config()["attention_axes"] == (1,)
    spec = zoo.from_keras(model)
    assert "attention_axes" not in spec.layers[0].args
    rebuilds(spec, model)
