"""The one protocol every golden goes through, as pytest-regressions' ``perform_regression_check``:
a kind of golden knows its file name, how to dump and load its value, and how to compare a
golden with what was computed now; reading names the file and line of any damage (exit 2 from
the command line, never a traceback); writing is atomic (:func:`zoo.specification.files.write_atomic`).
Summaries (``NAME.yml``) and fingerprints (``NAME.fingerprint.yml``) are its two kinds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml

from zoo.specification.errors import KeyPath, SpecError, format_key
from zoo.specification.files import write_atomic

T = TypeVar("T")


@dataclass(frozen=True)
class Kind(Generic[T]):
    """One kind of golden: its suffix, its text format and its comparison."""

    suffix: str  # NAME + suffix is the file
    dumps: Callable[[T], str]
    loads: Callable[[str, str], T]  # (text, label); a damaged text is a SpecError
    compare: Callable[[T, T], list[str]]  # (golden, now): the differences, empty when they agree
    what: str  # "golden" or "fingerprint", for messages

    def path(self, folder: Path, name: str) -> Path:
        return folder / f"{name}{self.suffix}"

    def read(self, folder: Path, name: str) -> T | None:
        """The golden of ``name`` in ``folder``, or None where there is none."""
        path = self.path(folder, name)
        return read(path, self.loads) if path.is_file() else None

    def check(self, folder: Path, name: str, now: T) -> list[str]:
        """Where ``now`` differs from the golden; a missing golden says how to create it."""
        golden = self.read(folder, name)
        return [self.missing(folder, name)] if golden is None else self.compare(golden, now)

    def missing(self, folder: Path, name: str) -> str:
        return f"{self.what}: missing {self.path(folder, name)}; create it with `zoo golden regen {name}`"

    def text_if_changed(self, folder: Path, name: str, now: T) -> str | None:
        """The text to write for ``now``, or None where the golden already says it (or agrees with it:
        a golden records the numbers it was made with, not the last backend's rounding)."""
        try:
            golden = self.read(folder, name)
        except SpecError:  # a damaged golden is rewritten
            golden = None
        if golden is not None and not self.compare(golden, now):
            return None
        return self.dumps(now)


def write(path: Path, text: str) -> bool:
    """Write a golden atomically unless it already holds ``text``; whether it was written."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    write_atomic(path, text)
    return True


def parse_yaml(text: str, label: str, loader: Any = yaml.SafeLoader) -> Any:
    """A golden's YAML, or a SpecError naming the file and the line where it stops being YAML."""
    try:
        return yaml.load(text, Loader=loader)  # a safe loader: SafeLoader or CSafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        line = mark.line + 1 if mark else None
        raise damaged(label, text, None, f"not valid YAML: {what}", line=line) from None
    except (yaml.YAMLError, ValueError, TypeError, KeyError, ArithmeticError, RecursionError) as exc:
        raise damaged(label, text, None, f"not valid YAML: {exc}") from None


def damaged(label: str, text: str, where: KeyPath | None, what: str, *, line: int | None = None) -> SpecError:
    """A golden that cannot be read: the file, the line of ``where``, and how to get a good one back."""
    name = Path(label).name.split(".")[0]
    if line is None and where is not None:
        line = _line_of(text, where)
    what += f"; the golden is damaged: restore it from version control, or run zoo golden regen {name}"
    return SpecError(what, file=label, line=line, key=format_key(where or ()) or None)


def _line_of(text: str, where: KeyPath) -> int | None:
    """The line of key path ``where`` in YAML ``text`` (of its nearest ancestor that exists)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for part in where:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def read(path: Path, parse: Callable[[str, str], Any]) -> Any:
    """Golden file ``path`` parsed by ``parse(text, label)``; an unreadable file is a SpecError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read golden: {exc.strerror}", file=str(path)) from None
    except UnicodeDecodeError as exc:
        what = f"not UTF-8 text: byte {exc.object[exc.start]:#04x} at offset {exc.start}"
        raise damaged(str(path), "", None, what, line=exc.object[: exc.start].count(b"\n") + 1) from None
    return parse(text, str(path))
