"""Where specs come from: packaged, ZOO_SPEC_PATH, added folders; and the registry's own errors."""

from __future__ import annotations

import os
import re

import pytest
from conftest import ROOT

import zoo

MINE = (ROOT / "specs" / "worked_example.yaml").read_text()


def write(folder, name, text=None):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text if text is not None else MINE.replace("name: worked_example", f"name: {name}"))
    return path


def test_zoo_spec_path_adds_user_folders(tmp_path, monkeypatch):
    write(tmp_path / "a", "mine_a")
    write(tmp_path / "b", "mine_b")
    monkeypatch.setenv("ZOO_SPEC_PATH", os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")]))
    assert {"mine_a", "mine_b", "conv2d"} <= set(zoo.names())
    assert zoo.names("mine_*") == ["mine_a", "mine_b"]
    assert zoo.summary("mine_b", engine="formula").total_params == 56


def test_add_dir(tmp_path):
    registry = zoo.Registry()
    write(tmp_path, "mine")
    registry.add_dir(tmp_path)
    assert "mine" in registry.names() and "conv1d" in registry.names()
    assert registry.spec("mine").name == "mine"


def test_a_fixed_registry_holds_only_its_folders(tmp_path):
    write(tmp_path, "only")
    assert zoo.Registry([tmp_path]).names() == ["only"]


def test_two_specs_with_one_name_are_an_error_naming_both(tmp_path, monkeypatch):
    first = write(tmp_path / "a", "twin")
    second = write(tmp_path / "b", "twin")
    with pytest.raises(zoo.SpecError) as exc:
        zoo.Registry([tmp_path / "a", tmp_path / "b"]).names()
    assert f"two specs are named 'twin': {first} and {second}" in str(exc.value)


def test_a_user_spec_may_not_shadow_a_packaged_one(tmp_path, monkeypatch):
    mine = write(tmp_path, "conv2d")
    monkeypatch.setenv("ZOO_SPEC_PATH", str(tmp_path))
    with pytest.raises(zoo.SpecError, match=re.escape(f"specs/conv2d.yaml and {mine}")):
        zoo.names()


def test_the_name_inside_must_match_the_file_name(tmp_path):
    write(tmp_path, "mine", MINE)  # says name: worked_example
    with pytest.raises(zoo.SpecError) as exc:
        zoo.Registry([tmp_path]).spec("mine")
    assert str(exc.value) == (
        f"{tmp_path / 'mine.yaml'}:2: name: the spec's name must match its file name. "
        "Received: name='worked_example'. Valid: 'mine'"
    )


def test_a_missing_folder_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_SPEC_PATH", str(tmp_path / "nope"))
    with pytest.raises(zoo.SpecError, match="spec folder not found"):
        zoo.names()
    with pytest.raises(zoo.SpecError, match="spec folder not found"):
        zoo.Registry().add_dir(tmp_path / "nope")


def test_an_edited_spec_is_read_again(tmp_path):
    path = write(tmp_path, "mine")
    registry = zoo.Registry([tmp_path])
    assert registry.spec("mine").layers[0].args["filters"] == 2
    path.write_text(path.read_text().replace("filters: 2", "filters: 4"))
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 10))
    assert registry.spec("mine").layers[0].args["filters"] == 4
