"""The command line behaves like one: pipes, ``-o -``, options checked, names suggested, quiet by default,
colour only on a terminal, shell completion. In-process through ``zoo.cli.main`` where possible; in a
subprocess where the convention is about the process (a closed pipe, what TensorFlow writes at start-up).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


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
