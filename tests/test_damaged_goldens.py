"""A golden that cannot be read is bad input: a SpecError naming the file and the line, exit 2."""

from __future__ import annotations

import re

import pytest
from conftest import GOLDENS

import zoo
from zoo import cli
from zoo.golden import fingerprints, summaries

SUMMARY = (GOLDENS / "conv1d.yml").read_text(encoding="utf-8")
PRINT = (GOLDENS / "conv1d.fingerprint.yml").read_text(encoding="utf-8")
DENSE = "  - [dense, Dense, [null, 1], 993, 993, true]"
WAY_BACK = "; the golden is damaged: restore it from version control, or run zoo golden regen conv1d"
ROW = "a row is [name, type, output_shape, params, trainable_params, trainable, connected_to]"
LAYER = "a layer is [name, [shape], scale, mean, std, [indices], [values]]"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (DENSE, "  - [dense, Dense", "s.yml:11: not valid YAML: while parsing a flow sequence"),
        (
            DENSE,
            "  - [dense, Dense, [null, 1], 993]",
            f"s.yml:10: rows[3]: {ROW} (the last only in a graph's "
            "golden). Received: ['dense', 'Dense', [None, 1], 993]",
        ),
        (DENSE, "  - [dense, Dense, [null, one], 993, 993, true]", f"s.yml:10: rows[3]: {ROW}"),
        ("total_params: 1121", "total_params: x", "s.yml:11: total_params: must be a count. Received: 'x'"),
        ("total_params: 1121\n", "", "s.yml:3: missing total_params:"),
        ("rows:", "rows: 5\nold_rows:", f"s.yml:6: rows: must be a list of rows{WAY_BACK}"),
    ],
)
def test_a_damaged_summary_golden_names_file_line_and_the_way_back(old, new, message):
    assert old in SUMMARY
    with pytest.raises(zoo.SpecError) as exc:
        summaries.loads(SUMMARY.replace(old, new), "g/conv1d.yml")
    assert str(exc.value).startswith("g/conv1d.yml:" + message.removeprefix("s.yml:"))
    assert str(exc.value).endswith(WAY_BACK)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda t: t.replace("scheme: zoo-seeded-v1", "scheme: other-v0"),
            "f.yml:6: scheme: not a zoo-seeded-v1 fingerprint (scheme: 'other-v0')",
        ),
        (
            lambda t: re.sub(r"(\[flatten, \[2, 992\]), [0-9.e-]+", r"\1, x", t),
            f"f.yml:12: layers[2]: {LAYER}",
        ),
        (lambda t: t.replace("[dense, [2, 1], ", "[dense, [2, -1], "), f"f.yml:13: layers[3]: {LAYER}"),
        (lambda t: t[:708], "f.yml:12: not valid YAML: while parsing a flow sequence"),
        (lambda t: t.replace("input: [2, 64, 1]", "input: 6"), "f.yml:7: input: missing or of the wrong"),
        (lambda t: "just text\n", "f.yml:1: scheme: not a zoo-seeded-v1 fingerprint (scheme: None)"),
    ],
)
def test_a_damaged_fingerprint_names_file_line_and_the_way_back(damage, message):
    with pytest.raises(zoo.SpecError) as exc:
        fingerprints.loads(damage(PRINT), "g/conv1d.fingerprint.yml")
    assert str(exc.value).startswith("g/conv1d.fingerprint.yml:" + message.removeprefix("f.yml:"))
    assert str(exc.value).endswith(WAY_BACK)


@pytest.mark.parametrize(("name", "line"), [("conv1d.yml", 10), ("conv1d.fingerprint.yml", 9)])
def test_zoo_check_with_a_damaged_golden_is_bad_input_not_a_disagreement(name, line, tmp_path, capsys):
    for f in ("conv1d.yml", "conv1d.fingerprint.yml"):
        (tmp_path / f).write_text((GOLDENS / f).read_text(encoding="utf-8"), encoding="utf-8")
    text = (tmp_path / name).read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / name).write_text("".join(text[:8]) + "  - [broken\n", encoding="utf-8")
    assert cli.main(["check", "conv1d", "--goldens", str(tmp_path)]) == cli.EXIT_USAGE
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "ERROR  conv1d"  # reported beside the other specs' results, not instead of them
    assert out[1].strip().startswith(f"{tmp_path / name}:{line}: not valid YAML")
    assert out[1].endswith(WAY_BACK)


def test_a_missing_golden_says_how_to_create_it(tmp_path, capsys):
    assert cli.main(["check", "conv1d", "--goldens", str(tmp_path)]) == cli.EXIT_DISAGREE
    out = capsys.readouterr().out
    for name in ("conv1d.yml", "conv1d.fingerprint.yml"):
        assert f"missing {tmp_path / name}; create it with `zoo golden regen conv1d`" in out
