"""``zoo tour``, the main job: the tutorial's examples in its order with three witnesses, then the zoo."""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import GOLDENS

import zoo
from zoo.cli import main, tour


def _order(citation: str) -> tuple[int, int]:
    """Where the tutorial has a spec's example: (section, cell); its closing arithmetic comes last."""
    section = re.search(r"section (\d+)", citation)
    cell = re.search(r"In \[(\d+)\]", citation)
    closing = "Number of parameters" in citation
    return (99 if closing else int(section.group(1)) if section else 0, int(cell.group(1)) if cell else 0)


def test_the_tour_holds_the_tutorial_s_own_examples_in_its_order():
    """Every spec whose citation is one of the tutorial's cells, its VGG16 example or its closing
    arithmetic; not the transfer variants zoo adds on other bases."""
    own = re.compile(
        r"^Tutorial, (section \d+, .* example, cell In \[\d+\]|section 5, Transfer Learning, "
        r"Example using VGG16|Number of parameters and output shape, .*)$"
    )
    cited = [n for n in zoo.names() if own.match(zoo.spec(n).citation or "")]
    assert sorted(tour.TUTORIAL) == sorted(cited)
    orders = [_order(zoo.spec(n).citation) for n in tour.TUTORIAL]
    assert orders == sorted(orders)


@pytest.mark.slow  # seconds: the inner loop's budget
def test_the_tour_shows_the_three_witnesses_then_the_rest(monkeypatch, capsys):
    monkeypatch.setattr(tour, "TUTORIAL", ("conv1d", "conv2d_stride2"))
    assert main(["tour", "--goldens", str(GOLDENS)]) == 0
    out = capsys.readouterr().out
    first, second = out.index("# conv1d:"), out.index("# conv2d_stride2:")
    assert first < second < out.index("The rest of the zoo")
    # conv2d_stride2: 'same' padding with stride 2, floor((64 - 3 + 2) / 2) + 1 = 32; the tutorial's table
    assert "conv2d (Conv2D)               (None, 32, 32, 32)      896" in out
    assert out.count("ok: formula = keras = golden, row by row") == 2
    rest = out[out.index("The rest of the zoo") :]
    assert re.search(r"^  resnet50 +176 layers +25,636,712 params +3\.86 GMACs$", rest, re.M)
    assert "conv1d " not in rest
    assert re.search(r"2 tutorial examples checked by three witnesses, \d+ models computed", out)


@pytest.mark.slow  # seconds: the inner loop's budget
def test_a_disagreeing_golden_fails_the_tour_and_says_where(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(tour, "TUTORIAL", ("conv1d",))
    shutil.copy(GOLDENS / "conv1d.yml", tmp_path / "conv1d.yml")
    text = (tmp_path / "conv1d.yml").read_text(encoding="utf-8")
    (tmp_path / "conv1d.yml").write_text(text.replace("993, 993", "994, 994"), encoding="utf-8")
    assert main(["tour", "--goldens", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "DIFFER" in out and "row 3 dense: formula and keras" in out and "says params 994" in out
    assert out.rstrip().splitlines()[-2].endswith("1 disagree: conv1d")


@pytest.mark.slow
def test_the_whole_tour_passes(capsys):
    assert main(["tour", "--goldens", str(GOLDENS)]) == 0
    out = capsys.readouterr().out
    assert out.count("ok: formula = keras = golden") == len(tour.TUTORIAL)
