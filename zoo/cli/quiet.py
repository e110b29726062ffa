"""What the command line prints besides its answer: nothing from TensorFlow unless asked (``-v``),
colour only on a terminal.

TensorFlow 2.21 writes its start-up lines (oneDNN, CUDA drivers, ``cuInit``) from C++ while it is
imported, before ``TF_CPP_MIN_LOG_LEVEL`` is read by the logger that writes them; so the import of
the framework runs with the process's standard error (file descriptor 2) pointed at the null
device, and ``TF_CPP_MIN_LOG_LEVEL=3`` silences what TensorFlow logs afterwards. A variable the
user set is theirs: zoo neither overrides it nor silences what it lets through.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from typing import IO, Any

# TensorFlow's C++ log level: 3 leaves out INFO, WARNING and ERROR (the "failed call to cuInit"
# that every machine without a GPU prints, and which reads like a failure)
QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3"}
# Python loggers of the frameworks (tf.function's retracing warning; absl's start-up lines)
QUIET_LOGGERS = ("tensorflow", "absl", "jax", "jax._src.xla_bridge")


class _State:
    verbose = True  # the Python API's default: zoo.cli.quiet only changes anything through setup()
    silence_import = False


def setup(verbose: bool) -> None:
    """Make the command line quiet (or, with ``verbose``, leave everything as the frameworks have it)."""
    _State.verbose = verbose
    _State.silence_import = False
    if verbose:
        return
    users = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    for name, value in QUIET_ENV.items():
        os.environ.setdefault(name, value)
    # silence the import too, unless the user asked TensorFlow for more than zoo would show
    _State.silence_import = users is None or users.strip() == "3"
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    with contextlib.suppress(ImportError):  # absl keeps its own verbosity, besides its logger's level
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)


def verbose() -> bool:
    return _State.verbose


@contextlib.contextmanager
def _stderr_fd_silenced() -> Iterator[None]:
    """File descriptor 2 at the null device (what C++ writes), Python's ``sys.stderr`` flushed first."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield  # no file descriptor 2 to silence
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def import_framework() -> Any:
    """Keras (and its backend) imported, quietly unless ``-v`` or the user's own log level says otherwise.

    Only the import is silenced: a Python exception (Keras missing, say) still reaches the user."""
    from zoo.keras import builder

    if not _State.silence_import or "keras" in sys.modules:
        return builder.import_keras()
    with _stderr_fd_silenced():
        return builder.import_keras()


def colour(stream: IO[str]) -> bool:
    """Whether ``stream`` may carry colour: a terminal, and ``NO_COLOR`` unset or empty (no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
