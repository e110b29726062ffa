"""The one exception users see for a bad spec, and the one helper that words it.

Every message has the same shape so that people (and editors) can jump to the
place and act on it without reading zoo's code:

    specs/mine.yaml:9: layers[1].Conv2D.kernal_size: unknown argument; did you mean
    'kernel_size'? Received: kernal_size=3
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

KeyPath = tuple[str | int, ...]


class SpecError(ValueError):
    """A problem in a spec, a registry or a request a user made; never a bug in zoo.

    Attributes mirror the parts of the message so tools can use them:
    ``file``, ``line``, ``key`` (formatted key path) and ``reason``.
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        self.file, self.line, self.key, self.reason = file, line, key, reason
        place = ""
        if file is not None:
            place = f"{file}:{line}: " if line is not None else f"{file}: "
        keypart = f"{key}: " if key else ""
        super().__init__(f"{place}{keypart}{reason}")


class WeightsError(SpecError):
    """Weights that cannot be found, downloaded or trusted."""


def format_key(path: KeyPath) -> str:
    """``('layers', 1, 'Conv2D', 'kernel_size')`` -> ``layers[1].Conv2D.kernel_size``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


MAX_SHOWN = 300  # characters of one value in a message; a longer one is cut with "..."


def show(value: Any) -> str:
    """A value as the user wrote it in YAML, near enough: lists, not tuples; cut at MAX_SHOWN."""
    if isinstance(value, tuple):
        value = list(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    try:
        return cut(repr(value))
    except ValueError:  # an integer beyond Python's digit limit for printing
        return "<a number too long to show>"


def cut(text: str) -> str:
    """``text``, or its first MAX_SHOWN characters ending in "..."."""
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


def did_you_mean(word: object, options: Iterable[str]) -> str:
    """``"; did you mean 'kernel_size'?"`` or ``""`` when nothing is close."""
    if not isinstance(word, str):
        return ""
    options = list(options)
    lowered = {o.lower(): o for o in options}
    if word.lower() in lowered:
        return f"; did you mean {lowered[word.lower()]!r}?"
    close = difflib.get_close_matches(word, options, n=3, cutoff=0.6)
    if not close:
        return ""
    # Among close names, the one sharing the longest start wins (people mistype endings).
    best = max(close, key=lambda o: (len(os.path.commonprefix([o, word])), -close.index(o)))
    return f"; did you mean {best!r}?"


def reason(
    what: str,
    *,
    received: Mapping[str, Any] | None = None,
    valid: str | None = None,
) -> str:
    """``what`` + ``Received: k=v`` + ``Valid: ...``, the Keras way of wording it."""
    text = what
    if received:
        text += (
            ("" if what.endswith("?") else ".")
            + " Received: "
            + ", ".join(f"{k}={show(v)}" for k, v in received.items())
        )
    if valid:
        text += ("" if text.endswith("?") else ".") + f" Valid: {valid}"
    return text


@dataclass(frozen=True)
class Source:
    """Where a spec came from: a label for messages and the line of every key path."""

    label: str = "<string>"
    lines: Mapping[KeyPath, int] = field(default_factory=dict)

    def line_of(self, path: KeyPath) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None

    def error(
        self,
        path: KeyPath,
        what: str,
        *,
        received: Mapping[str, Any] | None = None,
        valid: str | None = None,
    ) -> SpecError:
        return SpecError(
            reason(what, received=received, valid=valid),
            file=self.label,
            line=self.line_of(path),
            key=format_key(path),
        )
