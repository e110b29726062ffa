"""Where specs are found: the packaged ones, ``ZOO_SPEC_PATH`` folders, folders added in code.

A spec's name is its file name without ``.yaml``; its ``name:`` must say the same.
Two files with the same name anywhere on the path are an error naming both.
"""

from __future__ import annotations

import fnmatch
import importlib.resources
import os
from collections.abc import Iterable
from pathlib import Path

from zoo.errors import SpecError, did_you_mean
from zoo.spec_format import Spec


def builtin_dir() -> Path:
    """The specs shipped with zoo: inside the installed package, or ``specs/`` in a checkout."""
    try:
        return Path(str(importlib.resources.files("zoo.specs")))
    except ModuleNotFoundError:  # running from a source checkout: zoo/ next to specs/
        return Path(__file__).resolve().parent.parent / "specs"


def env_dirs() -> list[Path]:
    """Folders named in ``ZOO_SPEC_PATH`` (``os.pathsep``-separated)."""
    return [Path(p) for p in os.environ.get("ZOO_SPEC_PATH", "").split(os.pathsep) if p]


class Registry:
    """Specs by name from an ordered list of folders.

    ``Registry()`` is the default one: the packaged specs, then ``ZOO_SPEC_PATH``
    (read afresh on every lookup), then folders given to :meth:`add_dir`.
    ``Registry([folders])`` uses exactly those folders.
    """

    def __init__(self, dirs: Iterable[str | os.PathLike[str]] | None = None) -> None:
        self._fixed = None if dirs is None else [Path(d) for d in dirs]
        self._added: list[Path] = []
        self._cache: dict[Path, tuple[float, Spec]] = {}

    @property
    def dirs(self) -> list[Path]:
        base = [builtin_dir(), *env_dirs()] if self._fixed is None else self._fixed
        return [*base, *(d for d in self._added if d not in base)]

    def add_dir(self, path: str | os.PathLike[str]) -> None:
        """Add a folder of specs after the existing ones."""
        path = Path(path)
        if not path.is_dir():
            raise SpecError("spec folder not found", file=str(path))
        if path not in self._added:
            self._added.append(path)

    def files(self) -> dict[str, Path]:
        """Every spec name and its file; duplicates across folders are an error."""
        found: dict[str, Path] = {}
        for folder in self.dirs:
            if not folder.is_dir():
                raise SpecError("spec folder not found (from the registry's folders or "
                                "ZOO_SPEC_PATH)", file=str(folder))  # fmt: skip
            for path in sorted(folder.glob("*.yaml")):
                name = path.stem
                if name in found and found[name].resolve() != path.resolve():
                    raise SpecError(
                        f"two specs are named {name!r}: {found[name]} and {path}; "
                        "rename one (a spec's name is its file name)",
                        file=str(path),
                    )
                found[name] = path
        return found

    def names(self, pattern: str | None = None) -> list[str]:
        names = sorted(self.files())
        return names if pattern is None else [n for n in names if fnmatch.fnmatchcase(n, pattern)]

    def path(self, name: str) -> Path:
        files = self.files()
        if name not in files:
            raise SpecError(
                f"unknown model {name!r}{did_you_mean(name, files)}. Valid: {', '.join(sorted(files))}"
            )
        return files[name]

    def spec(self, name: str) -> Spec:
        path = self.path(name)
        mtime = path.stat().st_mtime
        cached = self._cache.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
        spec = Spec.from_file(path)
        if spec.name != name:
            raise spec.origin.error(
                ("name",),
                "the spec's name must match its file name",
                received={"name": spec.name},
                valid=repr(name),
            )
        self._cache[path] = (mtime, spec)
        return spec
