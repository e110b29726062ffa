"""Nothing zoo does on bad input writes, moves or deletes a file."""

from __future__ import annotations

import hashlib

import pytest
from conftest import GOLDENS, ROOT

import zoo
from zoo.cli import main
from zoo.keras import weights


def snapshot(*folders):
    state = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                state[path] = (path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
            elif path.is_dir():
                state[path] = "dir"
    return state


def test_bad_input_changes_nothing_on_disk(tmp_path, monkeypatch, capsys):
    home, user = tmp_path / "keras_home", tmp_path / "user_specs"
    (home / "models").mkdir(parents=True)
    corrupt = home / "models" / weights.imagenet_file("vgg16").filename
    corrupt.write_bytes(b"corrupt")
    user.mkdir()
    (user / "broken.yaml").write_text(
        "name: broken\ndescription: x\ninput: [8, 8, 1]\nlayers:\n  - Conv2D: {filters: 1}\n"
    )
    (user / "renamed.yaml").write_text((ROOT / "specs" / "conv1d.yaml").read_text())
    (user / "tiny.yaml").write_text(
        "name: tiny\ndescription: x\ninput: [2, 2, 1]\nlayers:\n  - Conv2D: {filters: 1, kernel_size: 3}\n"
    )
    golden_copy = tmp_path / "goldens"
    golden_copy.mkdir()
    (golden_copy / "conv1d.yml").write_text((GOLDENS / "conv1d.yml").read_text().replace("993", "994"))
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setattr(weights, "download", lambda wf: (_ for _ in ()).throw(OSError("offline")))
    before = snapshot(ROOT / "specs", GOLDENS, tmp_path)

    registry = zoo.Registry([user])
    for name in ("broken", "renamed", "tiny"):
        with pytest.raises(zoo.SpecError):
            zoo.build(registry.spec(name))
    with pytest.raises(zoo.SpecError):
        zoo.build("vgg16_transfer")  # corrupt cached weights
    with pytest.raises(zoo.SpecError):
        weights.install("vgg16", corrupt)
    with pytest.raises(zoo.SpecError):
        zoo.Spec.from_file(user / "missing.yaml")
    assert main(["summary", "nope"]) == 2
    assert main(["check", "conv1d", "--goldens", str(golden_copy)]) == 1
    capsys.readouterr()

    assert snapshot(ROOT / "specs", GOLDENS, tmp_path) == before
