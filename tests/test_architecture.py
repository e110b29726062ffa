"""The layers of ARCHITECTURE.md, kept by import-linter's contracts (pyproject.toml): each layer imports
only from those below it, and no two modules of a layer import each other in a cycle. The checks are
shown to fail: on a copy of the package with an upward import, and with a cycle."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

LINT = [
    sys.executable,
    "-c",
    "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())",
]


def lint(where: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(LINT, cwd=where, capture_output=True, text=True, env={"PYTHONPATH": str(where)})


def copy_of_the_package(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "zoo", tmp_path / "zoo", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_contracts_are_kept():
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 2 kept, 0 broken." in done.stdout


def test_an_upward_import_breaks_the_layers(tmp_path):
    copy = copy_of_the_package(tmp_path)
    errors = copy / "zoo" / "specification" / "errors.py"
    errors.write_text(errors.read_text() + "\nfrom zoo.keras import builder  # noqa\n")
    done = lint(copy)
    assert done.returncode == 1
    assert (
        "zoo's layers point one way BROKEN" in done.stdout
        and "zoo.specification.errors -> zoo.keras.builder" in done.stdout
    )


def test_a_cycle_in_a_layer_breaks_its_contract(tmp_path):
    copy = copy_of_the_package(tmp_path)
    catalog = copy / "zoo" / "specification" / "catalog.py"
    catalog.write_text(catalog.read_text() + "\nfrom zoo.specification import registry  # noqa\n")
    done = lint(copy)
    assert done.returncode == 1
    assert "no import cycle between the modules of a layer BROKEN" in done.stdout
