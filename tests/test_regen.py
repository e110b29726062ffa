"""Golden regeneration: refuses contradictions, writes atomically, changes nothing it refuses."""

from __future__ import annotations

import importlib.util
import os

import pytest
from conftest import GOLDENS, ROOT

import zoo
from zoo.golden import summaries
from zoo.specification import files, registry


@pytest.fixture(scope="module")
def regen():
    spec = importlib.util.spec_from_file_location("regen_goldens", ROOT / "tools" / "regen_goldens.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def without_frameworks(text: str) -> str:
    """A golden's text without its made_with line: the frameworks it was made with (the shipped ones
    on the newest supported release; the suite also runs on the oldest)."""
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("made_with:"))


@pytest.mark.slow  # seconds: the inner loop's budget
def test_regeneration_reproduces_the_shipped_goldens(regen, tmp_path):
    from zoo.golden import fingerprints

    written, refused = regen.regenerate(["conv1d", "worked_example"], tmp_path)
    assert refused == {}
    for name in ("conv1d", "worked_example"):
        ours, shipped = ((d / f"{name}.yml").read_text() for d in (tmp_path, GOLDENS))
        assert without_frameworks(ours) == without_frameworks(shipped)
        ours, shipped = (
            fingerprints.loads(fingerprints.KIND.path(d, name).read_text()) for d in (tmp_path, GOLDENS)
        )
        assert fingerprints.compare(shipped, ours) is None
    assert len(written) == 4  # a summary and a fingerprint each
    assert regen.regenerate(["conv1d"], tmp_path) == ([], {})  # unchanged: nothing rewritten


@pytest.mark.slow  # seconds: the inner loop's budget
def test_a_summary_that_contradicts_expect_is_refused_and_nothing_is_written(regen, tmp_path, monkeypatch):
    (tmp_path / "conv1d.yml").write_text("old\n")
    wrong = zoo.spec("conv1d")
    wrong = type(wrong)(**{**wrong.__dict__, "expect": {**wrong.expect, "total_params": 1120}})
    real_spec = registry.DEFAULT.spec
    monkeypatch.setattr(registry.DEFAULT, "spec", lambda name: wrong if name == "conv1d" else real_spec(name))
    written, refused = regen.regenerate(["worked_example", "conv1d"], tmp_path)
    assert written == []
    assert refused == {"conv1d": ["expect: total_params: expect says 1,120, summary has 1,121"]}
    assert (tmp_path / "conv1d.yml").read_text() == "old\n"
    assert not (tmp_path / "worked_example.yml").exists()  # checked first, written never


def test_formula_keras_disagreement_is_refused(keras_summary):
    spec = zoo.spec("conv2d")
    formula = zoo.summary(spec, engine="formula")
    keras = keras_summary("conv2d")
    bad = type(formula)(
        formula.name,
        (
            formula.rows[0].__class__(**{**formula.rows[0].__dict__, "params": 897}),
            *formula.rows[1:],
        ),
        formula.total_params + 1,
        formula.trainable_params + 1,
        0,
    )
    found = summaries.problems(spec, keras, bad)
    assert found[0] == "row 0 conv2d: formula says params 897; keras says params 896"
    assert "total_params: formula says 308,427; keras says 308,426" in found


def test_an_interrupted_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    target = tmp_path / "conv1d.yml"
    target.write_text("old golden\n")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        files.write_atomic(target, "new golden\n" * 1000)
    assert target.read_text() == "old golden\n"
    assert [p.name for p in tmp_path.iterdir()] == ["conv1d.yml"]  # no temporary file left behind


def test_the_command_line_refuses_unknown_names(capsys):
    from zoo.cli import main

    assert main(["golden", "regen", "conv2dd", "--goldens", str(GOLDENS)]) == 2
    assert "did you mean 'conv2d'?" in capsys.readouterr().err


@pytest.mark.slow  # seconds: the inner loop's budget
def test_an_interrupted_regeneration_leaves_every_golden_old_or_new(regen, tmp_path, monkeypatch):
    names = ["conv1d", "conv2d", "conv2d_same", "worked_example"]
    for name in names:
        (tmp_path / f"{name}.yml").write_text("old\n")
    calls = {"n": 0}
    real_fsync = os.fsync

    def interrupt_third_write(fd):
        calls["n"] += 1
        if calls["n"] == 5:  # conv2d_same's summary (after two specs' summaries and fingerprints)
            raise KeyboardInterrupt
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", interrupt_third_write)
    with pytest.raises(KeyboardInterrupt):
        regen.regenerate(names, tmp_path)
    states = {n: (tmp_path / f"{n}.yml").read_text() for n in names}
    assert without_frameworks(states["conv1d"]) == without_frameworks((GOLDENS / "conv1d.yml").read_text())
    assert without_frameworks(states["conv2d"]) == without_frameworks((GOLDENS / "conv2d.yml").read_text())
    assert states["conv2d_same"] == "old\n"
    assert states["worked_example"] == "old\n"
    done = ["conv1d.fingerprint.yml", "conv2d.fingerprint.yml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*done, *(f"{n}.yml" for n in names)])


@pytest.mark.slow  # seconds: the inner loop's budget
def test_regeneration_refuses_when_the_formula_engine_disagrees(regen, tmp_path, monkeypatch):
    from zoo import arith

    real = arith.summarize

    def off_by_one(spec, *computed, **keras):
        s = real(spec, *computed, **keras)
        first = type(s.rows[0])(**{**s.rows[0].__dict__, "params": s.rows[0].params + 1})
        return type(s).from_rows(s.name, (first, *s.rows[1:]))

    monkeypatch.setattr(arith, "summarize", off_by_one)
    written, refused = regen.regenerate(["conv2d"], tmp_path)
    assert written == [] and list(tmp_path.iterdir()) == []
    assert refused["conv2d"][0] == "row 0 conv2d: formula says params 897; keras says params 896"
