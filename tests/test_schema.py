"""The JSON Schema shipped for editors: generated from the validator's rules, and agreeing with it."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml
from conftest import ROOT

import zoo
from zoo.specification.schema import json_schema

SHIPPED = ROOT / "specs" / "spec.schema.json"
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
MODELINE = "# yaml-language-server: $schema=spec.schema.json"


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SHIPPED.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_shipped_schema_is_the_generated_one():
    assert json.loads(SHIPPED.read_text()) == json_schema(), "run: zoo schema > specs/spec.schema.json"


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_spec_validates_and_carries_the_modeline(path, validator):
    text = path.read_text()
    assert text.splitlines()[0] == MODELINE
    assert list(validator.iter_errors(yaml.safe_load(text))) == []


GOOD = (ROOT / "specs" / "conv2d_stride2.yaml").read_text()
BAD = [
    ("kernel_size: [3, 3]", "kernal_size: [3, 3]"),
    ("kernel_size: [3, 3]", "kernel_size: [3, 3, 3]"),
    ("kernel_size: [3, 3]", "kernel_size: 2.5"),
    ("filters: 32", "filters: 0"),
    ("filters: 32", "filters: '32'"),
    ("filters: 32", "filters: true"),
    ("padding: same", "padding: sam"),
    ("activation: relu", "activation: rleu"),
    ("Conv2D:", "Conv2d:"),
    ("optimizer: adam", "optimizer: adamm"),
    ("loss: sparse_categorical_crossentropy", "loss: crossentropy"),
    ("metrics: [accuracy]", "metrics: accuracy"),
    ("input: [64, 64, 3]", "input: [64, 64, 0]"),
    ("description: Conv2D", "descripton: Conv2D"),
    ("name: conv2d_stride2", "name: Conv2D-stride2"),
    ("data: {samples: 100, classes: 10}", "data: {samples: 100, classes: 1}"),
    ("fit: {epochs: 10, batch_size: 32}", "fit: {epochs: 10, batch_size: 32, shuffle: true}"),
    ("  - Flatten: {}", "  - {Flatten: {}, Dense: {units: 3}}"),
    ("  - Flatten: {}", "  - Dropout: {rate: 1.0}"),
    ("  - Flatten: {}", "  - Reshape: {target_shape: [0, 8]}"),
    ("total_params: 82826", "total_params: -1"),
]


@pytest.mark.parametrize(("old", "new"), BAD, ids=[new for _, new in BAD])
def test_schema_and_validator_refuse_the_same_mistakes(old, new, validator):
    assert old in GOOD
    text = GOOD.replace(old, new)
    assert list(validator.iter_errors(yaml.safe_load(text))), "the schema accepted it"
    with pytest.raises(zoo.SpecError):
        zoo.Spec.from_yaml(text)


def test_schema_and_validator_accept_the_same_variations(validator):
    variations = [
        ("kernel_size: [3, 3]", "kernel_size: 3"),
        ("strides: [2, 2]", "strides: 2"),
        ("  - Flatten: {}", "  - Flatten:"),
        ("  - Flatten: {}", "  - ZeroPadding2D: {padding: [[1, 0], [0, 1]]}\n  - Flatten: {}"),
        ("activation: relu}", "activation: null}"),
    ]
    for old, new in variations:
        text = GOOD.replace(old, new)
        assert list(validator.iter_errors(yaml.safe_load(text))) == [], new
        zoo.Spec.from_yaml(text)
