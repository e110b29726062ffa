"""Bad specs end in a SpecError that names file, line and key, and says what was received."""

from __future__ import annotations

import re

import pytest

import zoo

GOOD = """\
name: mine
description: a test spec
input: [64, 64, 3]
layers:
  - Conv2D: {filters: 32, kernel_size: [3, 3], padding: same, activation: relu}
  - MaxPooling2D: {pool_size: [2, 2]}
  - Flatten: {}
  - Dense: {units: 10, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
"""


def load(text, path="specs/mine.yaml"):
    return zoo.Spec.from_yaml(text, path)


def test_the_good_spec_loads():
    assert load(GOOD).layers[0].args["kernel_size"] == (3, 3)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "kernel_size: [3, 3]",
            "kernal_size: 3",
            "specs/mine.yaml:5: layers[0].Conv2D.kernal_size: unknown argument; "
            "did you mean 'kernel_size'? Received: kernal_size=3",
        ),
        (
            "MaxPooling2D:",
            "MaxPoolin2D:",  # (MaxPool2D is keras.layers' other name for it, a valid kind)
            "specs/mine.yaml:6: layers[1].MaxPoolin2D: unknown layer class; "
            "did you mean 'MaxPooling2D'? Received: layer='MaxPoolin2D'",
        ),
        (
            "padding: same",
            "padding: sam",
            "specs/mine.yaml:5: layers[0].Conv2D.padding: invalid value; did you mean 'same'? "
            "Received: padding='sam'. Valid: 'valid', 'same'",
        ),
        (
            "activation: relu",
            "activation: rleu",
            "specs/mine.yaml:5: layers[0].Conv2D.activation: unknown activation; did you mean 'relu'?",
        ),
        (
            "filters: 32",
            "filters: '32'",
            "specs/mine.yaml:5: layers[0].Conv2D.filters: must be an integer >= 1. Received: filters='32'",
        ),
        (
            "filters: 32",
            "filters: true",
            "layers[0].Conv2D.filters: must be an integer >= 1. Received: filters=true",
        ),
        ("filters: 32", "filters: 0", "layers[0].Conv2D.filters: must be >= 1. Received: filters=0"),
        ("kernel_size: [3, 3]", "kernel_size: 2.5", "layers[0].Conv2D.kernel_size: wrong type"),
        (
            "kernel_size: [3, 3]",
            "kernel_size: [3, 3, 3]",
            "layers[0].Conv2D.kernel_size: needs 2 values, one per spatial axis. "
            "Received: kernel_size=[3, 3, 3]",
        ),
        ("optimizer: adam", "optimizer: adamm", "compile.optimizer: unknown optimizer; did you mean 'adam'?"),
        (
            "loss: sparse_categorical_crossentropy",
            "loss: sparse_crossentropy",
            "compile.loss: unknown loss; did you mean 'sparse_categorical_crossentropy'?",
        ),
        (
            "description: a test spec",
            "descripton: a test spec",
            "specs/mine.yaml:2: descripton: unknown argument; did you mean 'description'?",
        ),
        ("input: [64, 64, 3]", "input: [64, 0, 3]", "specs/mine.yaml:3: input: invalid input shape"),
    ],
)
def test_mistakes_name_file_line_key_and_value(old, new, message):
    assert old in GOOD
    with pytest.raises(zoo.SpecError, match=re.escape(message)):
        load(GOOD.replace(old, new))


def test_missing_required_keys():
    text = GOOD.replace("description: a test spec\n", "")
    with pytest.raises(
        zoo.SpecError, match=re.escape("specs/mine.yaml:1: missing required key 'description'")
    ):
        load(text)


def test_duplicate_keys_inside_a_layer():
    text = GOOD.replace("padding: same,", "padding: same, padding: valid,")
    with pytest.raises(
        zoo.SpecError,
        match=re.escape(
            "specs/mine.yaml:5: layers[0].Conv2D.padding: "
            "duplicate key 'padding' (first on line 5, again on line 5)"
        ),
    ):
        load(text)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "  - Flatten: {}\n",
            "  - Flatten\n",
            "specs/mine.yaml:7: layers[2]: a layer is a one-key mapping {LayerClass: {arguments}}",
        ),
        (
            "  - Flatten: {}\n",
            "  - {Flatten: {}, Dense: {units: 1}}\n",
            "layers[2]: a layer is a one-key mapping",
        ),
        ("  - Flatten: {}\n", "  - Flatten: [1]\n", "layers[2].Flatten: Flatten's value must be a mapping"),
        ("layers:\n", "layers: []\nx:\n", "x: unknown argument"),
        ("input: [64, 64, 3]", "input: 64", "input: invalid input shape. Received: input=64"),
        ("compile: {", "compile: {epochs: 3, ", "compile.epochs: unknown argument"),
        (
            "Dense: {units: 10,",
            "Dense: {units: 10.0,",
            "layers[3].Dense.units: must be an integer >= 1. Received: units=10.0",
        ),
        (
            "MaxPooling2D: {pool_size: [2, 2]}",
            "MaxPooling2D: {pool_size: [2, -2]}",
            "layers[1].MaxPooling2D.pool_size: every value must be >= 1",
        ),
        ("Flatten: {}", "Dropout: {rate: 1.5}", "layers[2].Dropout.rate: must be a number in [0, 1)"),
        ("Flatten: {}", "VGG16: {include_top: true}", "layers[2].VGG16.include_top: invalid value"),
    ],
)
def test_more_mistakes(old, new, message):
    assert old in GOOD
    with pytest.raises(zoo.SpecError, match=re.escape(message)):
        load(GOOD.replace(old, new))


def test_duplicate_keys_name_both_lines():
    text = GOOD.replace("input: [64, 64, 3]\n", "input: [64, 64, 3]\ninput: [32, 32, 3]\n")
    with pytest.raises(
        zoo.SpecError,
        match=re.escape("specs/mine.yaml:4: input: duplicate key 'input' (first on line 3, again on line 4)"),
    ):
        load(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "specs/mine.yaml:1: spec is empty"),
        ("- just\n- a list\n", "specs/mine.yaml:1: the top level of a spec must be a mapping"),
        ("name: [unclosed\n", "specs/mine.yaml:2: YAML syntax error"),
        (
            "name: !!python/object/apply:os.system ['echo hi']\n",
            "specs/mine.yaml:1: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed",
        ),
        ("name: &a mine\ndescription: *a\n", "specs/mine.yaml:1: YAML anchors and aliases are not allowed"),
        ("name: !custom mine\n", "YAML tag '!custom' is not allowed"),
        ("name: 2024-01-01\n", "YAML tag 'tag:yaml.org,2002:timestamp' is not allowed in specs; quote it"),
        ("name: !!binary aGVsbG8=\n", "YAML tag 'tag:yaml.org,2002:binary' is not allowed"),
        ("name: mine\n<<: {a: 1}\n", "specs/mine.yaml:2: YAML tag 'tag:yaml.org,2002:merge' is not allowed"),
        ("\x00name: mine\n", "specs/mine.yaml:1: spec contains a character YAML does not allow: '\\x00'"),
        ("1: x\n", "specs/mine.yaml:1: keys must be strings. Received: 1"),
    ],
)
def test_unsafe_or_broken_yaml(text, message):
    with pytest.raises(zoo.SpecError, match=re.escape(message)):
        load(text)


def test_a_geometry_error_shows_the_arithmetic_before_keras_is_touched():
    text = GOOD.replace("input: [64, 64, 3]", "input: [2, 2, 3]").replace("padding: same, ", "")
    with pytest.raises(zoo.SpecError) as exc:
        zoo.build(load(text))
    assert str(exc.value).startswith(
        "specs/mine.yaml:5: layers[0].Conv2D: conv2d (in spec 'mine'): output size would be 0: "
        "out = floor((2 - 3 + 0) / 1) + 1 = 0"
    )


def test_non_utf8_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_bytes(GOOD.encode() + b"# caf\xe9\n")
    with pytest.raises(zoo.SpecError, match=r"mine.yaml:10: spec is not UTF-8 text: byte 0xe9"):
        zoo.Spec.from_file(path)


def test_oversized_file_is_refused_without_parsing(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(GOOD + "#" * (300 * 1024), encoding="utf-8")
    with pytest.raises(zoo.SpecError, match="larger than the 256 KiB"):
        zoo.Spec.from_file(path)


def test_duplicate_layer_names():
    text = GOOD.replace("Flatten: {}", "Flatten: {name: conv2d}")
    with pytest.raises(
        zoo.SpecError,
        match=r"layers\[2\].Flatten.name: layer name 'conv2d' is already used by layers\[0\]",
    ):
        load(text)
