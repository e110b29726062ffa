"""`pip install .` gives a working package: the wheel, installed in a fresh environment, used from outside."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import textwrap
import venv
from pathlib import Path

import pytest
from conftest import ROOT

DOWNSTREAM = textwrap.dedent("""
    import zoo.testing

    @zoo.testing.parametrize_models("conv2d_stride2")
    def test_fixture(model_name, zoo_model):
        assert zoo_model(model_name, compile=False).count_params() == 82826
""")


@pytest.mark.slow
def test_the_wheel_works_outside_the_source_tree(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis"
        ),
    )
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", dist, source],
        check=True,
        capture_output=True,
    )
    [wheel] = dist.glob("zoo-*.whl")

    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # zoo comes from the wheel; its dependencies (TensorFlow, ...) from this environment
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel],
        check=True,
        capture_output=True,
    )

    outside = tmp_path / "elsewhere"
    outside.mkdir()

    def run(*args):
        return subprocess.run(args, cwd=outside, capture_output=True, text=True, check=True).stdout

    where = run(
        python,
        "-c",
        "import zoo, zoo.specification.files as f; print(zoo.__file__); print(f.builtin_dir())",
    )
    assert where.startswith(str(env_dir)) and "site-packages/zoo/specs" in where
    listing = run(env_dir / "bin" / "zoo", "list")
    assert listing.split()[0] == "conv1d" and "vgg16_transfer" in listing
    table = run(env_dir / "bin" / "zoo", "summary", "conv2d_stride2")
    assert "Total params: 82,826" in table
    (outside / "test_downstream.py").write_text(DOWNSTREAM)
    tests = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_downstream.py")
    assert "1 passed" in tests
