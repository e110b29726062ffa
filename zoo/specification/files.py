"""Files: reading a spec safely, and writing any file zoo writes (goldens, diagrams, weights) atomically.

Reading is size-capped and decoded as UTF-8 with errors that name the byte. Writing goes through
a temporary file in the target's folder and a rename, so a reader sees the old file or the new,
never half of one, and the file gets the usual permissions (0o666 less the umask).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import IO

from zoo.specification.errors import SpecError

MAX_SPEC_BYTES = 256 * 1024


def builtin_dir() -> Path:
    """The specs shipped with zoo: inside the installed package, or ``specs/`` in a checkout."""
    import importlib

    try:  # the package the wheel ships specs/ as (an empty __init__: cheap to import)
        specs = importlib.import_module("zoo.specs")
    except ModuleNotFoundError:  # running from a source checkout: zoo/ next to specs/
        return Path(__file__).resolve().parent.parent.parent / "specs"
    return Path(specs.__file__ or "").resolve().parent


def read_text(path: str | os.PathLike[str]) -> str:
    """A spec file's text: size-capped, UTF-8, with clear errors."""
    path = Path(path)
    label = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_SPEC_BYTES:
            raise SpecError(
                f"spec is larger than the {MAX_SPEC_BYTES // 1024} KiB a spec may be. Received: {size} bytes",
                file=label,
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read spec: {exc.strerror}", file=label) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError(
            f"spec is not UTF-8 text: byte {raw[exc.start]:#04x} at offset {exc.start}", file=label, line=line
        ) from None


def _replace(path: Path, fill: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` through a temporary file next to it and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            fill(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# The Keras model files zoo imports (zoo.keras.importer.load): the CLI tells them from spec names
# without importing Keras.
MODEL_FILES = (".keras", ".h5", ".hdf5", ".json")


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8) to ``path``: the old file or the new, never half."""
    raw = data.encode("utf-8") if isinstance(data, str) else data

    def fill(f: IO[bytes]) -> None:
        f.write(raw)

    _replace(path, fill)


def copy_atomic(source: Path, path: Path) -> None:
    """Copy ``source`` to ``path`` the same way (a weights file: streamed, not read whole)."""

    def fill(f: IO[bytes]) -> None:
        with open(source, "rb") as src:
            shutil.copyfileobj(src, f, 1 << 20)

    _replace(path, fill)
