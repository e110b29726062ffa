"""Safe YAML with line marks: what every spec and family file is read with.

Loading refuses what PyYAML would let through silently or dangerously: duplicate keys
(PyYAML keeps the last), tags that construct objects, anchors and aliases (billion-laughs
expansion), values nested without bound, integers beyond Python's conversion limit. Every
value keeps the line it came from, so that any later error, including the formula engine's
geometry errors, can point at it.
"""

from __future__ import annotations

import functools
import math
import re
import sys
from dataclasses import dataclass
from typing import Any

import yaml

from zoo.specification.errors import KeyPath, Source, SpecError, format_key, show
from zoo.specification.files import MAX_SPEC_BYTES

MAX_YAML_DEPTH = 32  # lists, mappings and values inside each other; the shipped specs nest at most 10 deep
# Integers a spec may write: as many decimal digits as Python converts (0x... has no such limit),
# so that every number can be shown in a message.
MAX_INT_DIGITS = getattr(sys, "get_int_max_str_digits", lambda: 0)() or 4300
MAX_INT_BITS = int(MAX_INT_DIGITS * math.log2(10))

_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}": t for t in ("str", "int", "float", "bool", "null", "seq", "map")}


# ---------------------------------------------------------------- YAML, safely


def loader_class(libyaml: bool) -> Any:
    """A safe loader that composes in Python, to refuse anchors and aliases (unbounded expansion)
    and nesting deeper than MAX_YAML_DEPTH (the composer recurses once per level). It scans and
    parses with libyaml where PyYAML has it (six times faster), else with PyYAML's own code."""
    if libyaml:
        from yaml._yaml import CParser

        parsing: tuple[type, ...] = (CParser,)
    else:
        parsing = (yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser)

    # the parser's bases are chosen here, at run time, which a type checker cannot follow
    class Loader(yaml.composer.Composer, *parsing, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):  # type: ignore[misc]
        label = "<string>"
        depth = 0
        byte_offsets = libyaml  # libyaml's ReaderError counts UTF-8 bytes, PyYAML's characters

        def __init__(self, text: str) -> None:
            if libyaml:
                CParser.__init__(self, text)
            else:
                yaml.reader.Reader.__init__(self, text)
                yaml.scanner.Scanner.__init__(self)
                yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                kind = "alias" if isinstance(event, yaml.AliasEvent) else "anchor"
                raise SpecError(
                    f"YAML anchors and aliases are not allowed in specs; write the value out. "
                    f"Received: {kind} {event.anchor!r}",
                    file=self.label,
                    line=event.start_mark.line + 1,
                )
            if self.depth >= MAX_YAML_DEPTH:
                raise SpecError(
                    f"YAML nested more than {MAX_YAML_DEPTH} levels deep (lists and mappings "
                    "inside each other); a spec needs far fewer",
                    file=self.label,
                    line=event.start_mark.line + 1,
                )
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return Loader


DEFAULT_LOADER = loader_class(yaml.__with_libyaml__)


@functools.lru_cache(maxsize=128)
def load_yaml(text: str, label: str = "<string>") -> tuple[Any, Source]:
    """Parse ``text`` into plain Python values and the line of every key path.

    Cached by text and label: a family file is parsed once for all its variants. Callers
    must not change the values they get (expansion and validation build new ones).
    """
    return parse(text, label, DEFAULT_LOADER)


def parse(text: str, label: str, loader_class: Any) -> tuple[Any, Source]:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SPEC_BYTES:
        raise SpecError(
            f"spec is larger than the {MAX_SPEC_BYTES // 1024} KiB a spec may be",
            file=label,
        )
    loader = None
    try:
        loader = loader_class(text)  # PyYAML's reader checks the characters here, libyaml's later
        loader.label = label
        node = loader.get_single_node()
    except yaml.reader.ReaderError as exc:  # a character YAML forbids
        offset = exc.position
        if loader_class.byte_offsets:
            offset = len(text.encode("utf-8", "surrogatepass")[:offset].decode("utf-8", "ignore"))
        char = chr(exc.character) if isinstance(exc.character, int) else exc.character
        raise SpecError(
            f"spec contains a character YAML does not allow: {char!r} (at offset {offset})",
            file=label,
            line=text[:offset].count("\n") + 1,
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        if "flow" in what:  # {as: ._block{i}}: YAML's flow style stops at brackets and commas
            what += (
                "; in flow style ({...}) a value containing ',', '[', ']', '{' or '}' must be "
                'quoted: write {as: "._block{i}"}, {filters: "=max(1, f)"}'
            )
        raise SpecError(
            f"YAML syntax error: {what}", file=label, line=mark.line + 1 if mark else None
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML error: {exc}", file=label) from None
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        raise SpecError(
            "spec is empty; it needs at least name, description, input and layers", file=label, line=1
        )
    lines: dict[KeyPath, int] = {}
    value = _plain(node, (), lines, loader, label)
    return value, Source(label, lines)


def _plain(node: Any, path: KeyPath, lines: dict[KeyPath, int], loader: Any, label: str) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    kind = _PLAIN_TAGS.get(node.tag)
    if kind is None:
        hint = "; quote it to make it a string" if node.tag.endswith(":timestamp") else ""
        raise SpecError(
            f"YAML tag {node.tag!r} is not allowed in specs{hint}; "
            "only plain strings, numbers, booleans, null, lists and mappings are",
            file=label,
            line=node.start_mark.line + 1,
        )
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = _plain(key_node, (*path, "<key>"), {}, loader, label)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise SpecError(
                    f"keys must be strings. Received: {show(key)}",
                    file=label,
                    line=line,
                    key=format_key(path),
                )
            if key in out:
                raise SpecError(
                    f"duplicate key {key!r} (first on line {first_line[key]}, again on line {line})",
                    file=label,
                    line=line,
                    key=format_key((*path, key)),
                )
            first_line[key] = line
            lines[(*path, key)] = line
            out[key] = _plain(value_node, (*path, key), lines, loader, label)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, (*path, i), lines, loader, label) for i, item in enumerate(node.value)]
    line, key = node.start_mark.line + 1, format_key(path) or None
    try:
        value = loader.construct_object(node)
    except (yaml.YAMLError, ValueError, KeyError, TypeError, ArithmeticError) as exc:  # !!int abc, !!bool x
        if "Exceeds the limit" in str(exc):  # Python's int() refuses more than 4300 decimal digits
            value = 1 << MAX_INT_BITS
        else:
            what = f"YAML value {show(node.value)} is not {_TAG_WORDS[kind]}, as its tag {node.tag!r} says"
            raise SpecError(what, file=label, line=line, key=key) from None
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise SpecError(
            f"integer of more than {MAX_INT_DIGITS} digits; a spec needs far fewer",
            file=label,
            line=line,
            key=key,
        )
    return value


_TAG_WORDS = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "null": "null",
}


@dataclass(frozen=True)
class Outline:
    """What a registry needs to know of a spec file without reading it whole: its top-level keys,
    their scalar values (``family:``), and the keys of its top-level mappings (``variants:``,
    ``params:``)."""

    scalars: dict[str, Any]
    mappings: dict[str, tuple[str, ...]]

    @property
    def keys(self) -> set[str]:
        return {*self.scalars, *self.mappings}


# A top-level key at the start of a line, and the sections of a file an outline needs parsed.
_TOP_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)[ \t]*:(?:[ \t]|$)")
_PARSED = ("family", "variants", "params")


def outline(text: str) -> Outline | None:
    """The :class:`Outline` of ``text``, or None where the text is not plainly such a mapping: then
    reading it whole says what is wrong.

    Only the sections an outline needs (``family:``, ``variants:``, ``params:``) go through the
    parser; a file whose top level is not plain block-style keys is parsed whole. The parser's
    events are read, nothing is composed."""
    lines = text.split("\n")
    sections: list[tuple[str, list[str]]] = []
    for line in lines:
        if not line or line[0] in " #\t":  # inside a section: indented, blank, a comment
            if sections:
                sections[-1][1].append(line)
            continue
        match = _TOP_KEY.match(line)
        if match is None:  # a document marker, a flow mapping, a complex key: the slow way
            return outline_from_events(text)
        sections.append((match[1], [line]))
    if not sections:
        return outline_from_events(text)
    parsed = [("\n".join(body) if key in _PARSED else f"{key}: null") for key, body in sections]
    found = outline_from_events("\n".join(parsed))
    if found is None or len(found.keys) != len({key for key, _ in sections}):
        return outline_from_events(text)
    return found


def outline_from_events(text: str) -> Outline | None:
    """The outline from the parser's events (libyaml's where PyYAML has it)."""
    events = yaml.parse(text, Loader=yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader)
    scalars: dict[str, Any] = {}
    mappings: dict[str, tuple[str, ...]] = {}
    try:
        opening = (yaml.StreamStartEvent, yaml.DocumentStartEvent, yaml.MappingStartEvent)
        if not all(isinstance(next(events), kind) for kind in opening):
            return None
        while True:
            key = next(events)
            if isinstance(key, yaml.MappingEndEvent):
                return Outline(scalars, mappings)
            value = next(events)
            if not isinstance(key, yaml.ScalarEvent) or key.anchor or getattr(value, "anchor", None):
                return None
            if isinstance(value, yaml.ScalarEvent):
                scalars[key.value] = value.value
            elif isinstance(value, yaml.MappingStartEvent):
                inner = _mapping_keys(events)
                if inner is None:
                    return None
                mappings[key.value] = inner
            elif isinstance(value, yaml.SequenceStartEvent):
                if not _skip(events, 1):
                    return None
                scalars[key.value] = None
            else:
                return None
    except (yaml.YAMLError, StopIteration):
        return None


def _mapping_keys(events: Any) -> tuple[str, ...] | None:
    """The scalar keys of the mapping whose start was just read, its values skipped."""
    keys: list[str] = []
    while True:
        key = next(events)
        if isinstance(key, yaml.MappingEndEvent):
            return tuple(keys)
        if not isinstance(key, yaml.ScalarEvent) or key.anchor:
            return None
        keys.append(key.value)
        value = next(events)
        if isinstance(value, yaml.AliasEvent) or getattr(value, "anchor", None):
            return None
        if isinstance(value, (yaml.MappingStartEvent, yaml.SequenceStartEvent)) and not _skip(events, 1):
            return None


def _skip(events: Any, depth: int) -> bool:
    """Read past the collection just opened; False at an alias or anchor (the whole read refuses them)."""
    while depth:
        event = next(events)
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            return False
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
    return True
