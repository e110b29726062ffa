"""The command line behaves like one: pipes, ``-o -``, options checked, names suggested, quiet by default,
colour only on a terminal, shell completion. In-process through ``zoo.cli.main`` where possible; in a
subprocess where the convention is about the process (a closed pipe, what TensorFlow writes at start-up).
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

import pytest

import zoo
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


@pytest.mark.parametrize("argv", [["list", "conv[0-9]*"], ["schema"], ["show", "--expanded", "resnet50"]])
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


# ------------------------------------------------------------------ 3. every option checked


def usage_error(argv: list[str], capsys) -> str:
    """The message argparse gives for a bad option: status 2, no traceback, nothing on stdout."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    return captured.err


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--samples", "-5", "argument --samples: takes a positive integer. Received: -5"),
        ("--epochs", "0", "argument --epochs: takes a positive integer. Received: 0"),
        ("--batch-size", "0", "argument --batch-size: takes a positive integer. Received: 0"),
        ("--batch-size", "many", "argument --batch-size: takes an integer. Received: 'many'"),
        ("--devices", "0", "argument --devices: takes a positive integer. Received: 0"),
        ("--seed", "-1", "argument --seed: takes an integer >= 0. Received: -1"),
        ("--rows", "-1", "argument --rows: takes an integer >= 0. Received: -1"),
    ],
)
def test_run_checks_its_numbers(option, value, said, capsys):
    assert said in usage_error(["run", "conv2d", option, value], capsys)


@pytest.mark.parametrize("name", ["conv2d", "vgg16_transfer", "resnet50"])  # no base, a base, a family
def test_run_weights_misspelt_gets_did_you_mean(name, capsys):
    err = usage_error(["run", name, "--weights", "imagnet"], capsys)
    assert "argument --weights: 'imagnet' is neither a file nor one of" in err
    assert "did you mean 'imagenet'?" in err


@pytest.mark.parametrize("name", ["conv2d", "vgg16_transfer"])
def test_run_weights_file_must_exist(name, tmp_path, capsys):
    missing = tmp_path / "no" / "such.h5"
    err = usage_error(["run", name, "--weights", str(missing)], capsys)
    assert f"weights file not found: {str(missing)!r}" in err
    assert usage_error(["run", name, "--weights", str(tmp_path)], capsys).count("is not a file") == 1


@pytest.mark.parametrize("weights", ["imagenet", "{file}"])
def test_run_weights_on_a_spec_without_pretrained_weights_is_refused(weights, tmp_path, capsys):
    """conv2d has nothing to load ImageNet weights or a file into: saying so beats ignoring it."""
    file = tmp_path / "w.weights.h5"
    file.write_bytes(b"")
    assert main(["run", "conv2d", "--weights", weights.replace("{file}", str(file))]) == 2
    err = capsys.readouterr().err
    assert "conv2d has no pretrained weights to load" in err and "Valid here: none, seeded, spec" in err


def test_run_passes_batch_size_to_zoo_run(monkeypatch, capsys):
    import numpy as np

    from zoo.cli import quiet

    asked = {}

    def fake_run(spec, **kwargs):
        asked.update(kwargs)
        return zoo.RunResult(model=None, history={}, predictions=np.zeros((3, 2)))

    monkeypatch.setattr(zoo, "run", fake_run)
    monkeypatch.setattr(quiet, "import_framework", lambda: None)
    assert main(["run", "conv2d", "--batch-size", "7", "--epochs", "2", "--samples", "3"]) == 0
    assert (asked["batch_size"], asked["epochs"], asked["samples"]) == (7, 2, 3)
    assert "predictions: shape (3, 2)" in capsys.readouterr().out


# ------------------------------------------------------------------ 4. unknown names


def unknown_name_error(name: str, capsys) -> str:
    assert main(["explain", name]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    assert captured.err.startswith("zoo: error: ")
    return captured.err.removeprefix("zoo: error: ").strip()


def suggested(message: str) -> list[str]:
    import re

    said = re.search(r"did you mean (.*?)(?: \(and \d+ more\))?\?", message)
    return re.findall(r"'([a-z0-9_]+)'", said[1]) if said else []


def test_unknown_name_suggests_the_name_it_starts(capsys):
    message = unknown_name_error("unet", capsys)
    assert suggested(message) == ["unet_small"]
    assert "`zoo list`" in message


def test_unknown_name_never_lists_every_name(capsys):
    message = unknown_name_error("resnet", capsys)
    names = suggested(message)
    assert 1 < len(names) <= 5 and all(n.startswith("resnet") for n in names)
    assert "resnet50" in names
    others = [n for n in zoo.names() if not n.startswith("resnet")]
    assert not any(f"'{n}'" in message for n in others)
    assert len(message) < 400
    assert "?." not in message


@pytest.mark.parametrize(("typed", "meant"), [("conv2dd", "conv2d"), ("ResNet50", "resnet50")])
def test_unknown_name_with_one_clear_meaning_suggests_it_alone(typed, meant, capsys):
    assert suggested(unknown_name_error(typed, capsys)) == [meant]


def test_unknown_name_substring(capsys):
    names = suggested(unknown_name_error("transfer", capsys))
    assert names and all("transfer" in n for n in names)
    assert "vgg16_transfer" in names


def test_unknown_name_says_which_folders_were_searched(tmp_path, monkeypatch, capsys):
    from zoo.specification.files import builtin_dir

    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    monkeypatch.setenv("ZOO_SPEC_PATH", os.pathsep.join([str(first), str(second)]))
    message = unknown_name_error("no_such_model", capsys)
    assert suggested(message) == []
    for folder in (builtin_dir(), first, second):
        assert str(folder) in message
    assert message.index(str(first)) < message.index(str(second))
    monkeypatch.delenv("ZOO_SPEC_PATH")
    assert "ZOO_SPEC_PATH is not set" in unknown_name_error("no_such_model", capsys)


def test_the_python_api_gives_the_same_message(capsys):
    cli = unknown_name_error("unet", capsys)
    with pytest.raises(zoo.SpecError) as exc:
        zoo.build("unet")
    assert str(exc.value) == cli


# ------------------------------------------------------------------ 5. zoo list: broken files, no match


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("name: broken\nlayers: [\n", "conv_broken.yaml:3: YAML syntax error"),  # not YAML
        (
            "name: broken\ndescription: d\ninput: [8, 3]\nlayers:\n  - Conv1E: {filters: 2}\n",
            "broken.yaml:5",
        ),  # no such layer
    ],
)
def test_list_reports_a_broken_spec_beside_the_others(text, said, tmp_path, monkeypatch, capsys):
    """Listed: every spec that can be read (its own and the path's); reported: the broken file. The
    pattern keeps it to a second (no family's parameters to count)."""
    import fnmatch

    from conftest import ROOT

    from zoo.specification.files import builtin_dir

    (tmp_path / "conv_broken.yaml").write_text(text.replace("name: broken", "name: conv_broken"))
    mine = (ROOT / "specs" / "conv1d.yaml").read_text().replace("name: conv1d", "name: conv_mine")
    (tmp_path / "conv_mine.yaml").write_text(mine)
    monkeypatch.setenv("ZOO_SPEC_PATH", str(tmp_path))
    pattern = "conv[0-9_]*"
    assert main(["list", pattern]) == 2
    captured = capsys.readouterr()
    listed = [line.split()[0] for line in captured.out.splitlines() if line and not line.startswith("family")]
    shipped = [n for n in zoo.Registry([builtin_dir()]).names() if fnmatch.fnmatchcase(n, pattern)]
    assert len(shipped) >= 5
    assert sorted(listed) == sorted([*shipped, "conv_mine"])
    [error] = captured.err.splitlines()
    assert error.startswith("zoo: error: ") and said in error and "Traceback" not in captured.err


def test_list_with_a_pattern_that_matches_nothing_says_so(capsys):
    assert main(["list", "nothing*"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no spec name matches 'nothing*'" in captured.err


# ------------------------------------------------------------------ 6. colour only on a terminal


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def fake_run(monkeypatch, note: str = "") -> dict:
    """zoo.run replaced by one that records what it was asked and logs a note as zoo.run does."""
    import logging

    import numpy as np

    from zoo.cli import quiet

    asked: dict = {}

    def run(spec, **kwargs):
        asked.update(kwargs)
        if note:
            logging.getLogger("zoo").info("%s: %s", spec.name, note)
        return zoo.RunResult(model=None, history={}, predictions=np.zeros((2, 2)))

    monkeypatch.setattr(zoo, "run", run)
    monkeypatch.setattr(quiet, "import_framework", lambda: None)
    return asked


@pytest.mark.parametrize(
    ("terminal", "no_color", "extra", "verbose"),
    [
        (True, None, [], 1),  # Keras's coloured bar
        (True, "1", [], 2),  # NO_COLOR: plain lines, on a terminal too
        (False, None, [], 2),  # redirected: plain lines
        (True, "", [], 1),  # NO_COLOR empty counts as unset (no-color.org)
        (True, None, ["--quiet"], 0),
    ],
)
def test_run_colours_only_a_terminal(terminal, no_color, extra, verbose, monkeypatch, capsys):
    asked = fake_run(monkeypatch)
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    if terminal:
        monkeypatch.setattr(sys, "stdout", Terminal())
    assert main(["run", "conv2d", *extra]) == 0
    assert asked["verbose"] == verbose


@pytest.mark.slow
def test_redirected_run_has_no_escape_codes_and_no_note_about_a_base_it_lacks(capsys):
    assert main(["run", "conv1d", "--epochs", "1", "--samples", "4", "--batch-size", "2"]) == 0
    captured = capsys.readouterr()
    assert "\x1b" not in captured.out and "\x1b" not in captured.err
    assert "2/2 - " in captured.out  # one plain line: two batches of two
    assert "plain fit" not in captured.err and "frozen" not in captured.err
    assert main(["-v", "run", "conv1d", "--epochs", "1", "--samples", "4", "--quiet"]) == 0
    assert "zoo: conv1d: plain fit: no frozen layer with parameters" in capsys.readouterr().err


@pytest.mark.parametrize(("name", "shown"), [("conv2d", False), ("vgg16_transfer", True), ("resnet50", True)])
def test_run_notes_only_where_there_is_a_frozen_part(name, shown, monkeypatch, capsys):
    fake_run(monkeypatch, note="frozen-base fast path: ...")
    assert main(["run", name]) == 0
    assert (f"zoo: {name}: frozen-base fast path" in capsys.readouterr().err) == shown
    assert main(["run", name, "-v"]) == 0
    assert f"zoo: {name}: frozen-base fast path" in capsys.readouterr().err


# ------------------------------------------------------------------ 7. quiet by default


@pytest.fixture
def restore_quiet(monkeypatch):
    """quiet.setup changes process-wide things: the environment and the frameworks' loggers."""
    import logging

    from zoo.cli import quiet

    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    levels = {name: logging.getLogger(name).level for name in quiet.QUIET_LOGGERS}
    yield quiet
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    quiet.setup(verbose=True)


def test_quiet_sets_tensorflows_log_level_unless_the_user_did(restore_quiet, monkeypatch):
    import logging

    quiet = restore_quiet
    quiet.setup(verbose=False)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
    assert logging.getLogger("tensorflow").getEffectiveLevel() == logging.ERROR  # retracing warnings
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "1")
    quiet.setup(verbose=False)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "1"


def test_verbose_leaves_the_environment_and_loggers_alone(restore_quiet):
    import logging

    quiet = restore_quiet
    before = logging.getLogger("tensorflow").level
    quiet.setup(verbose=True)
    assert "TF_CPP_MIN_LOG_LEVEL" not in os.environ
    assert logging.getLogger("tensorflow").level == before


TF_LINE = re.compile(r"^(?:[IWEF]\d{4} |WARNING: All log messages before absl)")


@pytest.mark.slow
def test_no_line_of_tensorflows_start_up_on_stderr_by_default():
    """What a user sees from ``zoo summary conv2d`` (Keras builds it): TensorFlow's start-up lines
    with -v (or the user's own TF_CPP_MIN_LOG_LEVEL=0), none by default."""
    runs = {}
    for label, argv, env in [
        ("verbose", ["-v", "summary", "conv2d"], {}),
        ("default", ["summary", "conv2d"], {}),
        ("user's level", ["summary", "conv2d"], {"TF_CPP_MIN_LOG_LEVEL": "0"}),
    ]:
        proc = zoo_process(*argv, env=env, stdout=subprocess.PIPE)
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert 'Model: "conv2d"' in out
        runs[label] = err
    if not any(TF_LINE.match(line) for line in runs["verbose"].splitlines()):
        pytest.skip("TensorFlow writes no start-up line here: nothing to keep quiet")
    assert runs["default"] == ""
    for word in ("cuInit", "oneDNN", "TF_ENABLE_ONEDNN_OPTS", "This TensorFlow binary", "absl"):
        assert word not in runs["default"]
    assert any(TF_LINE.match(line) for line in runs["user's level"].splitlines())


# ------------------------------------------------------------------ 8. diagrams after a plain install


def test_graphviz_is_a_dependency_of_a_plain_install():
    """zoo diagram's SVG and PNG need only the system's dot (tests/test_diagram.py checks the message
    where it is missing: how to install it, status 2, nothing written)."""
    tomllib = pytest.importorskip("tomllib")
    from conftest import ROOT

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert any(re.match(r"graphviz\b", d) for d in project["dependencies"])


def test_without_dot_the_message_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    pytest.importorskip("graphviz")
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert main(["diagram", "conv2d", "-o", "-", "--format", "svg"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    assert "dot program" in captured.err
    assert "apt-get install graphviz" in captured.err and "brew install graphviz" in captured.err
    assert "zoo[diagram]" not in captured.err  # a plain install has the Python package


# ------------------------------------------------------------------ 9. shell completion


def completion_script(shell: str, capsys) -> str:
    assert main(["completion", shell]) == 0
    return capsys.readouterr().out


def every_command() -> list[str]:
    import argparse

    from zoo.cli.parser import parser

    [sub] = [a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return list(sub.choices)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script_is_valid_and_names_every_command(shell, tmp_path, capsys):
    import shutil

    text = completion_script(shell, capsys)
    commands = every_command()
    assert {"list", "summary", "run", "golden", "completion"} <= set(commands)
    for command in commands:
        assert re.search(rf"(?<![\w-]){command}(?![\w-])", text), command
    for option in ("--batch-size", "--engine", "--goldens", "--verbose"):
        assert option.lstrip("-") in text
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed: its syntax is not checked here")
    path = tmp_path / f"zoo.{shell}"
    path.write_text(text)
    checked = subprocess.run([shell, "-n", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


BASH_CASES = [
    (["zoo", "su"], ["summary"]),
    (["zoo", "golden", ""], ["regen", "check"]),
    (["zoo", "golden", "regen", "--g"], ["--goldens"]),
    (["zoo", "summary", "--engine", ""], ["keras", "formula"]),
    (["zoo", "-v", "diagram", "conv2d", "--detail", "s"], ["stages"]),
    (["zoo", "run", "conv2d", "--b"], ["--batch-size"]),
    (["zoo", "weights", "install", "resnet50", "--t"], ["--top"]),
    (["zoo", "completion", ""], ["bash", "zsh", "fish"]),
]


def test_bash_completion_completes(tmp_path, capsys):
    """The script run by bash as bash runs it on TAB: COMP_WORDS in, COMPREPLY out."""
    import shlex
    import shutil

    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    script = tmp_path / "zoo.bash"
    script.write_text(completion_script("bash", capsys))
    lines = [f"source {shlex.quote(str(script))}"]
    for words, _ in BASH_CASES:
        quoted = " ".join(shlex.quote(w) for w in words)
        cword = len(words) - 1
        lines.append(
            f'COMP_WORDS=({quoted}); COMP_CWORD={cword}; COMPREPLY=(); _zoo; echo "${{COMPREPLY[*]}}"'
        )
    done = subprocess.run(["bash", "-c", "\n".join(lines)], capture_output=True, text=True, check=True)
    got = done.stdout.splitlines()
    assert [sorted(line.split()) for line in got] == [sorted(want) for _, want in BASH_CASES]


def test_completion_follows_the_parser(capsys):
    """A command added to the parser completes without touching the generator."""
    from zoo.cli import completion
    from zoo.cli.parser import parser

    p = parser()
    [sub] = [a for a in p._actions if a.dest == "command"]
    new = sub.add_parser("frobnicate", help="a new command")
    new.add_argument("--widget", choices=["a", "b"])
    for shell in completion.SHELLS:
        text = completion.script(p, shell)
        assert "frobnicate" in text and "widget" in text, shell


def test_completion_needs_a_known_shell(capsys):
    err = usage_error(["completion", "tcsh"], capsys)
    assert "invalid choice: 'tcsh'" in err


def test_without_keras_the_keras_engine_says_so_in_one_line_and_points_at_the_formula_engine():
    """Keras hidden from the process (as on a machine without it): one line on stderr, exit 2, no
    traceback; the formula engine still answers."""
    import subprocess
    import sys

    hide = "import sys; sys.modules['keras'] = None; from zoo.cli import main; sys.exit(main({}))"
    done = subprocess.run(
        [sys.executable, "-c", hide.format(["summary", "conv2d"])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Keras is not installed" in lines[0] and "--engine formula" in lines[0]
    done = subprocess.run(
        [sys.executable, "-c", hide.format(["summary", "conv2d", "--engine", "formula"])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "Total params: 308,426" in done.stdout  # the tutorial printed it
