"""The block language under attack: malicious and mistaken family files (tests/attacks/*.yaml).

Each file is a family file that must end in a SpecError, and says what the message is in
``# expect:`` lines, in order: the first line (a prefix of it), then every further line of the
message exactly (each use site innermost first, then the variant); ``...`` stands for any text.
The file names say the category of the issue each attacks:

- ``budget_``: work bounded by effort, not only by size (one budget for the whole expansion);
- ``story_``: errors inside blocks name the line, each use site and the variant;
- ``crash_``: failures that ended in another exception (YAML constructors, digit limits, nesting);
- ``silent_``: mistakes that were accepted silently;
- ``place_``: errors that pointed at the wrong line;
- ``dym_``: unknown keys at every level, with a suggestion and the right list;
- ``carry_``: a block's several outputs (``outputs:``) and a repeat that carries them to the next
  repetition's inputs: declared, counted and named strictly.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from conftest import ROOT, time_limit

import zoo
from zoo import cli

ATTACKS = ROOT / "tests" / "attacks"
CASES = sorted(ATTACKS.glob("*.yaml"))
CATEGORIES = ("budget", "story", "crash", "silent", "place", "dym", "carry")
CPU_SECONDS = 2.0  # the issue's bound for every case, measured as this process's CPU time


def expectations(text: str) -> list[re.Pattern[str]]:
    return [
        re.compile(".*?".join(re.escape(part) for part in line[len("# expect: ") :].split("...")))
        for line in text.splitlines()
        if line.startswith("# expect: ")
    ]


def check_story(message: str, path: Path) -> None:
    expected = expectations(path.read_text(encoding="utf-8"))
    lines = message.splitlines()
    assert expected, f"{path.name} says nothing about the error it expects"
    assert len(lines) == len(expected), f"{len(lines)} lines, {len(expected)} expected:\n{message}"
    assert expected[0].match(lines[0]), f"first line differs:\n{lines[0]}\nexpected: {expected[0].pattern}"
    for want, line in zip(expected[1:], lines[1:]):
        assert want.fullmatch(line), f"line differs:\n{line}\nexpected: {want.pattern}"


@pytest.fixture
def guard():
    """Turn a hang into a failure."""
    with time_limit(20, "an attack"):
        yield


def test_the_corpus_covers_every_category_of_the_issue():
    counts = {c: sum(p.stem.startswith(c + "_") for p in CASES) for c in CATEGORIES}
    assert all(n >= 3 for n in counts.values()), counts
    assert sum(counts.values()) == len(CASES), "every case's name starts with its category"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_an_attack_is_a_spec_error_with_its_whole_story_within_two_seconds(path, guard):
    text = path.read_text(encoding="utf-8")
    start = time.process_time()
    with pytest.raises(zoo.SpecError) as exc:
        zoo.summary(zoo.Spec.from_yaml(text, path.name), engine="formula")
    spent = time.process_time() - start
    check_story(str(exc.value), path)
    assert spent < CPU_SECONDS, f"{spent:.2f} s of CPU"


def cli_cases() -> list:
    """Every case; those that spend the budget (a second each, as designed) in the slow tier: the
    test above runs them inline, and the CLI's path is the same for every case."""
    return [
        pytest.param(p, id=p.stem, marks=[pytest.mark.slow] if p.stem.startswith("budget_") else [])
        for p in CASES
    ]


@pytest.mark.parametrize("path", cli_cases())
def test_the_cli_says_the_same_with_exit_2_and_no_traceback(path, guard, tmp_path, monkeypatch, capsys):
    """Through the registry (ZOO_SPEC_PATH), as a shared folder of specs would be read."""
    (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("ZOO_SPEC_PATH", str(tmp_path))
    assert cli.main(["summary", "atk", "--engine", "formula"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("zoo: error: ")
    check_story(err[len("zoo: error: ") :].replace(f"{tmp_path}/", ""), path)
