"""The command line behaves like one: pipes, ``-o -``, options checked, names suggested, quiet by default,
colour only on a terminal, shell completion. In-process through ``zoo.cli.main`` where possible; in a
subprocess where the convention is about the process (a closed pipe, what TensorFlow writes at start-up).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from zoo.cli import main


def zoo_process(*argv: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.Popen:
    """``python -m zoo ARGV`` with the user's environment: no ZOO_SPEC_PATH or TensorFlow log level
    of the test process's own."""
    clean = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "ZOO_SPEC_PATH")}
    return subprocess.Popen(
        [sys.executable, "-m", "zoo", *argv],
        env={**clean, **(env or {})},
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


# ------------------------------------------------------------------ 1. a closed pipe


@pytest.mark.parametrize("argv", [["list"], ["schema"], ["show", "--expanded", "resnet50"]])
def test_a_closed_pipe_ends_quietly_with_status_0(argv):
    """``zoo list | head -2``: the reader is gone before zoo writes (closed here before it starts
    writing), so every write meets a broken pipe; zoo stops without a traceback, status 0."""
    proc = zoo_process(*argv, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert err == ""


# ------------------------------------------------------------------ 2. -o - and output folders


def test_diagram_dash_o_dash_is_standard_output(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["diagram", "conv2d", "-o", "-"]) == 0
    out = capsys.readouterr().out
    assert out.startswith('digraph "conv2d" {') and out.rstrip().endswith("}")
    assert list(tmp_path.iterdir()) == []  # no file named "-"


def test_diagram_dash_o_dash_takes_a_format(tmp_path, monkeypatch, capsys):
    pytest.importorskip("graphviz")
    import shutil

    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    monkeypatch.chdir(tmp_path)
    assert main(["diagram", "conv2d", "-o", "-", "--format", "svg"]) == 0
    assert "<svg" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_diagram_makes_the_output_folder(tmp_path, capsys):
    target = tmp_path / "new" / "dir" / "conv2d.dot"
    assert main(["diagram", "conv2d", "-o", str(target)]) == 0
    assert target.read_text().startswith('digraph "conv2d" {')


@pytest.mark.parametrize(
    "argv",
    [
        ["diagram", "no_such_model", "-o", "{out}/new/x.dot"],
        ["diagram", "conv2d", "-o", "{out}/new/x.svg", "--format", "png"],  # suffix and format disagree
        ["diagram", "conv2d", "-o", "{out}/new/x.txt"],  # a format zoo cannot tell
        ["golden", "regen", "no_such_model", "--goldens", "{out}/new"],
    ],
)
def test_a_failed_command_writes_nothing(argv, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    assert main([a.replace("{out}", str(out)) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("zoo: error: ") and "Traceback" not in err
    assert list(out.iterdir()) == []


@pytest.mark.slow
def test_golden_regen_makes_a_golden_folder_that_does_not_exist_yet(tmp_path, capsys):
    folder = tmp_path / "new" / "goldens"
    assert main(["golden", "regen", "conv1d", "--goldens", str(folder)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["conv1d.fingerprint.yml", "conv1d.yml"]
    assert "1 checked, 2 changed" in capsys.readouterr().out


def test_golden_regen_refuses_a_file_for_a_folder(tmp_path, capsys):
    file = tmp_path / "goldens"
    file.write_text("not a folder")
    assert main(["golden", "regen", "conv1d", "--goldens", str(file)]) == 2
    assert "--goldens names a file, not a folder" in capsys.readouterr().err
    assert file.read_text() == "not a folder"
