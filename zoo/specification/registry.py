"""Where specs are found: the packaged ones, ``ZOO_SPEC_PATH`` folders, folders added in code.

A spec's name is its file name without ``.yaml``; its ``name:`` must say the same.
A family file (``resnet.yaml``, with ``variants:``) defines one name per variant
(``resnet50``, ``resnet101``, ...). Two models of one name anywhere on the path
are an error naming both files.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from zoo.specification import family
from zoo.specification.errors import SpecError
from zoo.specification.files import builtin_dir, read_text
from zoo.specification.loading import load_yaml, outline
from zoo.specification.model import Spec

_MODEL_NAME = re.compile(r"[a-z][a-z0-9_]*")


CONFIGURATION = "@"  # NAME@WEIGHTS: a model with other weights than its spec's (see Registry.spec)


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
        self._cache: dict[tuple[Path, str, str], tuple[float, Spec]] = {}
        self._families: dict[Path, tuple[float, list[str], bool]] = {}

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
        found, problems = self.scan()
        if problems:
            raise problems[0]
        return found

    def scan(self) -> tuple[dict[str, Path], list[SpecError]]:
        """Every spec name and its file, and apart from them what could not be read: a missing
        folder, a broken file, a name two files define (the first file keeps it). ``zoo list``
        reports those beside the names; every lookup (:meth:`files`) fails on the first."""
        found: dict[str, Path] = {}
        problems: list[SpecError] = []
        for folder in self.dirs:
            if not folder.is_dir():
                problems.append(
                    SpecError(
                        "spec folder not found (from the registry's folders or ZOO_SPEC_PATH)",
                        file=str(folder),
                    )
                )
                continue
            for path in sorted(folder.glob("*.yaml")):
                try:
                    names = self._names_in(path)
                except SpecError as exc:
                    problems.append(exc)
                    continue
                for name in names:
                    if name in found and found[name].resolve() != path.resolve():
                        problems.append(
                            SpecError(
                                f"two specs are named {name!r}: {found[name]} and {path}; rename one "
                                "(a spec's name is its file name, or a variant of a family file)",
                                file=str(path),
                            )
                        )
                        continue
                    found[name] = path
        return found, problems

    def _names_in(self, path: Path) -> list[str]:
        """The model names a file defines: its stem, or a family file's variants."""
        return self._read(path)[0]

    def _read(self, path: Path) -> tuple[list[str], bool]:
        """A file's model names, and whether it is a family file (with parameters: keras.applications'
        arguments), whatever its variants are called. Read from the file's outline (its top-level
        keys and their mappings' keys), not parsed whole; a file whose outline is not plain is read
        whole, which says what is wrong."""
        mtime = path.stat().st_mtime
        cached = self._families.get(path)
        if cached and cached[0] == mtime:
            return cached[1], cached[2]
        text = read_text(path)
        names, is_family = [path.stem], False
        shape = outline(text)
        if shape is None or shape.keys & set(family.FAMILY_KEYS):
            variants = shape.mappings.get("variants") if shape is not None else None
            plain = (
                shape is not None
                and (variants is None) == ("variants" not in shape.keys)
                and (variants is None or (variants and shape.scalars.get("family") == path.stem))
                and all(_MODEL_NAME.fullmatch(v) for v in variants or ())
            )
            if plain and shape is not None:
                names, is_family = list(variants or [path.stem]), True
            else:  # read whole: its errors name the line
                data, source = load_yaml(text, str(path))
                names, is_family = family.model_names(data, source, path.stem), family.is_family(data)
        self._families[path] = (mtime, names, is_family)
        return names, is_family

    def variants(self, name: str) -> list[str]:
        """Every model name of the file that defines ``name``, in the file's order."""
        return self._names_in(self.path(name))

    def parameters(self, name: str) -> list[str]:
        """A family's parameters (keras.applications' arguments and its own); none for a plain spec."""
        path = self.path(name)
        if not self._read(path)[1]:
            return []
        shape = outline(read_text(path))
        return list(shape.mappings.get("params", ())) if shape is not None else []

    def is_family(self, name: str) -> bool:
        """Whether ``name`` is a model of a family file (one variant or several)."""
        return self._read(self.path(name))[1]

    def names(self, pattern: str | None = None) -> list[str]:
        """Model names, sorted (a family's variants among them, by name)."""
        names = sorted(self.files())
        return names if pattern is None else [n for n in names if fnmatch.fnmatchcase(n, pattern)]

    def path(self, name: str) -> Path:
        name = name.partition(CONFIGURATION)[0]
        files = self.files()
        if name not in files:
            raise SpecError(unknown_model(name, files, self.searched()))
        return files[name]

    def searched(self) -> list[str]:
        """The folders looked in, in order, each with where it came from, for messages."""
        if self._fixed is not None:
            origins = [(d, "given to Registry") for d in self._fixed]
        else:
            origins = [(builtin_dir(), "zoo's own specs"), *((d, "ZOO_SPEC_PATH") for d in env_dirs())]
        seen = {d for d, _ in origins}
        origins += [(d, "zoo.add_spec_dir") for d in self._added if d not in seen]
        return [f"{d} ({origin})" for d, origin in origins]

    def spec(self, name: str, **overrides: Any) -> Spec:
        """The validated spec called ``name``; ``overrides`` set a family's parameters
        (``include_top=False``), ``input_shape`` (any spec) and ``weights``.

        ``NAME@WEIGHTS`` (``efficientnet_b0@imagenet``) names a configuration: the model ``NAME``
        with those weights, whose architecture may differ from the default's (EfficientNet's
        ImageNet rescaling); it has goldens of its own."""
        base, at, weights = name.partition(CONFIGURATION)
        if at:
            if "weights" in overrides:
                raise SpecError(
                    f"{name!r} names its weights already. Received: weights={overrides['weights']!r}"
                )
            if not weights:
                raise SpecError(f"{name!r}: name the weights after '@' (e.g. {base}@imagenet)")
            return self.spec(base, weights=weights, **overrides)
        path = self.path(name)
        mtime = path.stat().st_mtime
        key = (path, name, repr(sorted(overrides.items())))
        cached = self._cache.get(key)
        if cached and cached[0] == mtime:
            return cached[1]
        spec = Spec.from_file(path, name=name, **overrides)
        if spec.name != name:
            raise spec.origin.error(
                ("name",),
                "the spec's name must match its file name",
                received={"name": spec.name},
                valid=repr(name),
            )
        self._cache[key] = (mtime, spec)
        return spec


SUGGESTIONS = 5  # names offered for an unknown one, at most; `zoo list` has them all


def close_names(word: str, names: Iterable[str]) -> list[str]:
    """The names ``word`` most likely meant, best first.

    The same name in other letters' case alone; else the names that start with ``word`` (``unet`` ->
    ``unet_small``; ``resnet`` -> ``resnet50``, ``resnet101``, ...; shortest first), or where none
    does and one name is close enough to be a typo (``conv2dd``), that one alone; then those difflib
    finds close, and those that contain ``word`` (``transfer``)."""
    names = sorted(set(names))
    low = word.lower()
    same = [n for n in names if n.lower() == low]
    if same:
        return same[:1]
    by_length = sorted(names, key=lambda n: (len(n), n))
    found = [n for n in by_length if n.lower().startswith(low)]
    ratio = {n: difflib.SequenceMatcher(None, low, n.lower()).ratio() for n in names}
    typos = [n for n in names if ratio[n] >= 0.85]
    if not found and len(typos) == 1:
        return typos
    found += sorted((n for n in names if ratio[n] >= 0.6), key=lambda n: -ratio[n])
    if len(low) >= 3:  # a letter or two is inside too many names to suggest them
        found += [n for n in by_length if low in n.lower()]
    return list(dict.fromkeys(found))


def unknown_model(name: str, names: Iterable[str], searched: list[str]) -> str:
    """The message for a name no folder defines: a few suggestions, the folders searched, `zoo list`;
    never every name (sixty of them on one line help nobody)."""
    close = close_names(name, names)
    shown = [repr(n) for n in close[:SUGGESTIONS]]
    text = f"unknown model {name!r}"
    if shown:
        more = f" (and {len(close) - len(shown)} more)" if len(close) > len(shown) else ""
        listed = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"
        text += f"; did you mean {listed}{more}?"
    else:
        text += "."
    text += f" Searched: {', '.join(searched)}"
    if not env_dirs() and any(s.endswith("(zoo's own specs)") for s in searched):
        text += f"; ZOO_SPEC_PATH is not set (it adds folders, {os.pathsep!r}-separated)"
    return text + ". Every name: `zoo list` (zoo.names() in Python)"


DEFAULT = Registry()
"""The default registry: packaged specs, ``ZOO_SPEC_PATH``, then folders added with ``add_dir``."""
