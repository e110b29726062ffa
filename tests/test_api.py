"""The Python API other issues and users rely on."""

from __future__ import annotations

import pytest
from conftest import ROOT

import zoo


def test_names_are_the_spec_files_and_the_family_variants_sorted():
    import yaml

    names = []
    for path in (ROOT / "specs").glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        names += list(data["variants"]) if "variants" in data else [path.stem]
    assert zoo.names() == sorted(names)
    assert {
        "conv1d",
        "conv2d_stride2",
        "vgg16_transfer",
        "worked_example",
        "vgg16",
        "vgg19",
        "vgg16_base",
    } <= set(names)


def test_names_filter_with_fnmatch():
    assert zoo.names("conv2d*") == ["conv2d", "conv2d_same", "conv2d_stride2", "conv2d_transpose"]
    assert zoo.names("*pooling*") == ["global_average_pooling2d", "maxpooling2d"]
    assert zoo.names("nothing*") == []


def test_spec_by_name_and_from_text_agree(spec_text, tmp_path):
    by_name = zoo.spec("conv2d_stride2")
    assert by_name == zoo.Spec.from_yaml(spec_text)
    path = tmp_path / "conv2d_stride2.yaml"
    path.write_text(spec_text, encoding="utf-8")
    assert zoo.Spec.from_file(path) == by_name
    assert by_name.input == (64, 64, 3)
    assert [layer.kind for layer in by_name.layers] == [
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dense",
    ]


def test_unknown_name_suggests_the_nearest():
    with pytest.raises(
        zoo.SpecError, match=r"unknown model 'conv2d_strid2'; did you mean 'conv2d_stride2'\?"
    ):
        zoo.spec("conv2d_strid2")
    assert issubclass(zoo.SpecError, ValueError)


def test_layer_names_do_not_depend_on_what_was_built_before():
    zoo.build("conv2d", compile=False)
    zoo.build("conv1d", compile=False)
    model = zoo.build("maxpooling2d", compile=False)
    names = [layer.name for layer in model.layers]  # a Sequential: no InputLayer among them
    assert names == ["conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "flatten", "dense"]
    assert model.name == "maxpooling2d"


def test_build_compiles_per_the_spec_unless_told_not_to():
    model = zoo.build("conv1d")
    assert model.compiled
    assert model.optimizer.name == "adam"
    assert model.loss == "binary_crossentropy"
    assert not zoo.build("conv1d", compile=False).compiled


def test_build_accepts_a_spec_object(spec_text):
    spec = zoo.Spec.from_yaml(spec_text.replace("name: conv2d_stride2", "name: mine"))
    model = zoo.build(spec, compile=False)
    assert model.name == "mine"
    assert model.count_params() == 82826


def test_summary_rejects_an_unknown_engine():
    with pytest.raises(
        zoo.SpecError, match=r"unknown engine.*Received: engine='torch'.*Valid: keras, formula"
    ):
        zoo.summary("conv2d", engine="torch")


def test_keras_summary_has_the_documented_shape(keras_summary):
    s = keras_summary("conv2d_stride2")
    first = s.rows[0]
    assert (first.name, first.type, first.output_shape) == ("conv2d", "Conv2D", (None, 32, 32, 32))
    assert (first.params, first.trainable) == (896, True)
    assert (s.total_params, s.trainable_params, s.non_trainable_params) == (82826, 82826, 0)
