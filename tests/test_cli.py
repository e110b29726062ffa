"""The zoo command line, run in-process through its entry function."""

from __future__ import annotations

import io
import re
import sys

import pytest

import zoo
from zoo.cli import main


def test_list_shows_every_name_with_its_description(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out.splitlines()
    listed = [line.split()[0] for line in out if line.strip() and not line.startswith("family ")]
    assert sorted(listed) == zoo.names()
    assert zoo.spec("conv1d").description in out[0]


def test_list_groups_the_families_with_their_parameter_counts(capsys):
    assert main(["list", "resnet*"]) == 0
    out = capsys.readouterr().out
    assert "family resnet (resnet.yaml): Bottleneck residual networks" in out
    assert re.search(
        r"\n  resnet50 +25,636,712 params\n  resnet101 +44,707,176 params\n  resnet152 +60,419,944 params",
        out,
    )
    assert "family resnet_v2 (resnet_v2.yaml)" in out


def test_list_filters(capsys):
    assert main(["list", "conv2d_s*"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == [
        "conv2d_same",
        "conv2d_stride2",
    ]


@pytest.mark.slow  # seconds: the inner loop's budget
def test_summary_all_prints_every_table(capsys):
    """The formula engine, so that it takes a second; every Keras summary is in test_goldens."""
    assert main(["summary", "--all", "--engine", "formula"]) == 0
    out = capsys.readouterr().out
    for name in zoo.names():
        assert f'Model: "{name}"' in out
    assert "Total params: 82,826" in out  # conv2d_stride2, thousands separators
    assert "Non-trainable params: 14,714,688" in out  # vgg16_transfer


def test_summary_formula_adds_macs_and_receptive_field(capsys):
    assert main(["summary", "worked_example", "--engine", "formula"]) == 0
    out = capsys.readouterr().out
    assert "MACs" in out and "RF" in out
    assert "conv2d (Conv2D)" in out and "(None, 32, 32, 2)" in out


def test_explain_reproduces_the_worked_example(capsys):
    assert main(["explain", "worked_example"]) == 0
    out = capsys.readouterr().out
    assert "out = floor((32 - 3 + 2) / 1) + 1 = 32" in out
    assert "params = (3*3*3 + 1) * 2 = 56" in out


def test_unknown_name_is_a_clean_error(capsys):
    assert main(["explain", "conv2dd"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "did you mean 'conv2d'?" in captured.err
    assert "Traceback" not in captured.err


def test_summary_needs_a_name_or_all(capsys):
    assert main(["summary"]) == 2
    assert "--all" in capsys.readouterr().err


def test_check_passes_on_the_shipped_goldens(capsys):
    from conftest import GOLDENS

    assert main(["check", "conv1d", "worked_example", "--goldens", str(GOLDENS)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "ok     conv1d",
        "ok     worked_example",
        "2 ok, 0 differ",
    ]


def test_check_fails_on_a_wrong_golden(tmp_path, capsys):
    from conftest import GOLDENS

    text = (GOLDENS / "conv1d.yml").read_text().replace("993, 993", "994, 994")
    (tmp_path / "conv1d.yml").write_text(text)
    assert main(["check", "conv1d", "--goldens", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("DIFFER conv1d\n") and out.endswith("0 ok, 1 differ\n")
    # one line for the change, naming the witness that disagrees and what each was made with
    made = "(made with tensorflow 2.21.0, keras 3.15.1)"
    assert re.search(
        rf"row 3 dense: formula and keras \(.*\) say params 993, trainable_params 993; golden "
        rf"{re.escape(made)} says params 994, trainable_params 994",
        out,
    )


@pytest.mark.parametrize("argv", [["--help"], ["summary", "--help"], ["check", "--help"]])
def test_help(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    assert "usage: zoo" in capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_summary_as_data(fmt, capsys):
    import json

    import yaml

    assert main(["summary", "residual_block", "--engine", "formula", "--format", fmt]) == 0
    out = capsys.readouterr().out
    [data] = json.loads(out) if fmt == "json" else yaml.safe_load(out)
    assert data["name"] == "residual_block" and data["total_params"] == 4810
    skip = next(r for r in data["rows"] if r["name"] == "skip")
    assert skip["connected_to"] == ["input", "conv_b"]
    assert skip["output_shape"] == [None, 32, 32, 16]


def test_schema_command_prints_the_shipped_schema(capsys):
    import json

    from conftest import ROOT

    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(
        (ROOT / "specs" / "spec.schema.json").read_text()
    )


def test_golden_regen_refuses_without_a_golden_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["golden", "regen", "conv1d"]) == 2
    assert "no golden folder: pass --goldens DIR" in capsys.readouterr().err


def test_weights_path_knows_every_application(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert main(["weights", "path", "resnet50"]) == 0
    assert capsys.readouterr().out.strip() == str(
        tmp_path / "models" / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    )
    assert main(["weights", "path", "convnext_tiny", "--top"]) == 0
    assert capsys.readouterr().out.strip().endswith("/models/convnext_tiny.h5")
    assert main(["weights", "path", "conv2d"]) == 2
    assert "no ImageNet weights are known for 'conv2d'" in capsys.readouterr().err
    assert main(["weights", "path", "resnet5"]) == 2
    assert "did you mean 'resnet50'" in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.slow  # seconds: the inner loop's budget
def test_check_shows_a_progress_bar_on_a_terminal_and_lines_otherwise(monkeypatch, capsys):
    from zoo.cli import main

    assert main(["check", "conv2d", "conv2d_same"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[:2] == ["ok     conv2d", "ok     conv2d_same"]
    assert "zoo: conv2d (1/2)" in captured.err and "zoo: conv2d_same (2/2)" in captured.err
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["check", "conv2d", "conv2d_same"]) == 0
    bar = terminal.getvalue()
    # tqdm's description, count and the spec's name (its rate reads spec/s or s/spec by the machine's speed)
    assert "checking" in bar and "1/2" in bar and re.search(r"(spec/s|s/spec), conv2d_same", bar)
    assert "zoo: conv2d (1/2)" not in bar
    assert capsys.readouterr().out.splitlines()[:2] == ["ok     conv2d", "ok     conv2d_same"]
