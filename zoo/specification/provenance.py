"""Where an expanded layer came from, and the one wording of an error in a family file.

Every expanded layer remembers its definition's key path and the chain of block uses that
produced it (:class:`Provenance`); every error names the line of the offending value, then each
use site with the values bound there, then the variant (:func:`story`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from zoo.specification.errors import KeyPath, Source, SpecError, cut, format_key, reason, show


@dataclass(frozen=True)
class Use:
    """One block instance on the way to a layer: for error messages and ``--expanded``."""

    instance: str
    block: str
    bound: tuple[tuple[str, Any], ...]
    path: KeyPath  # of the use item in the file

    def text(self, source: Source) -> str:
        args = ", ".join(f"{k}={show(v)}" for k, v in self.bound)
        where = f"{source.label}:{source.line_of(self.path)}"
        return f"in {cut(self.instance) or '(unnamed)'} = {self.block}({args}), used at {where}"


@dataclass(frozen=True)
class Provenance:
    """Where an expanded layer came from: its definition's key path and the uses that led there."""

    path: KeyPath
    chain: tuple[Use, ...] = ()
    defaulted: tuple[str, ...] = ()  # arguments the layer takes from defaults: (their line is there)


def story(
    source: Source,
    path: KeyPath,
    what: str,
    uses: tuple[Use, ...],
    variant_text: str,
    *,
    received: Mapping[str, Any] | None = None,
    valid: str | None = None,
) -> SpecError:
    """The one wording of an error in a family file: the line of ``path``, then each use
    (innermost first) with its values, then the variant."""
    lines = [u.text(source) for u in reversed(uses)] + ([variant_text] if variant_text else [])
    text = reason(what, received=received, valid=valid) + "".join(f"\n  {c}" for c in lines)
    return SpecError(text, file=source.label, line=source.line_of(path), key=format_key(path))


@dataclass(frozen=True)
class ExpandedSource(Source):
    """A family file's Source: errors about expanded layer ``i`` point into the block definitions."""

    provenance: tuple[Provenance, ...] = ()
    variant_text: str = ""

    def trace(self, path: KeyPath) -> tuple[KeyPath, tuple[Use, ...]]:
        """The file key path of an expanded spec's path, and the uses that led there."""
        index = path[1] if len(path) >= 2 and path[0] == "layers" else None
        if isinstance(index, int) and index < len(self.provenance):
            prov = self.provenance[index]
            if len(path) >= 4 and path[3] in prov.defaulted:  # the value was written in defaults:
                return ("defaults", path[2], *path[3:]), prov.chain
            return (*prov.path, *path[3:]), prov.chain
        return path, ()

    def error(
        self,
        path: KeyPath,
        what: str,
        *,
        received: Mapping[str, Any] | None = None,
        valid: str | None = None,
    ) -> SpecError:
        where, chain = self.trace(path)
        return story(self, where, what, chain, self.variant_text, received=received, valid=valid)
