"""Spec YAML is scanned and parsed by libyaml where PyYAML has it, else by PyYAML's own code:
both read every spec the same, and refuse the same mistakes at the same line."""

from __future__ import annotations

import pytest
from conftest import ROOT

import zoo
from zoo.specification import loading

LOADERS = {"libyaml": loading.loader_class(True), "pyyaml": loading.loader_class(False)}
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


def load(text: str, loader: str):
    return loading.parse(text, "specs/mine.yaml", LOADERS[loader])


def test_the_default_loader_is_libyamls_where_pyyaml_has_it():
    import yaml

    assert loading.DEFAULT_LOADER.byte_offsets is yaml.__with_libyaml__


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_both_read_every_shipped_spec_the_same_values_and_lines(path):
    text = path.read_text(encoding="utf-8")
    (fast, fast_source), (slow, slow_source) = load(text, "libyaml"), load(text, "pyyaml")
    assert fast == slow
    assert fast_source.lines == slow_source.lines


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: [unclosed\n", "specs/mine.yaml:2: YAML syntax error"),
        ("a: {as: ._b{i}}\n", 'must be quoted: write {as: "._block{i}"}'),
        (
            "name: café\n\x00x: 1\n",
            "mine.yaml:2: spec contains a character YAML does not allow: '\\x00' (at offset 11)",
        ),
        ("name: &a mine\ndescription: *a\n", "specs/mine.yaml:1: YAML anchors and aliases are not allowed"),
        ("a: " + "[" * 40 + "]" * 40 + "\n", "specs/mine.yaml:1: YAML nested more than 32 levels deep"),
        ("a:\n  b: !!int four\n", "specs/mine.yaml:2: a.b: YAML value 'four' is not an integer"),
    ],
)
@pytest.mark.parametrize("loader", sorted(LOADERS))
def test_both_refuse_the_same_mistakes_at_the_same_line(text, message, loader):
    with pytest.raises(zoo.SpecError) as exc:
        load(text, loader)
    assert message in str(exc.value)


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_a_file_s_outline_is_what_all_its_parser_events_say(path):
    """The registry reads outlines (only family:, variants: and params: are parsed): the same keys,
    family and variants as the parser's events of the whole file give."""
    text = path.read_text(encoding="utf-8")
    quick, whole = loading.outline(text), loading.outline_from_events(text)
    assert quick is not None and whole is not None
    assert quick.keys == whole.keys and quick.scalars.get("family") == whole.scalars.get("family")
    assert {k: quick.mappings.get(k) for k in ("variants", "params")} == {
        k: whole.mappings.get(k) for k in ("variants", "params")
    }


def test_an_outline_of_a_file_not_in_plain_block_style_reads_it_whole():
    flow = "{family: tiny, variants: {tiny_a: {}, tiny_b: {}}, layers: []}\n"
    assert loading.outline(flow) == loading.outline_from_events(flow)
    assert loading.outline(flow).mappings["variants"] == ("tiny_a", "tiny_b")
    assert loading.outline("name: x\n&a key: 1\n") is None  # an anchor: read whole, which refuses it
