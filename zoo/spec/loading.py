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
import sys
from typing import Any

import yaml

from zoo.spec.errors import KeyPath, Source, SpecError, format_key, show
from zoo.spec.files import MAX_SPEC_BYTES

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
