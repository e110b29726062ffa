"""Fuzzing family files: mutants of the shipped family files expand, validate and pass the
formula engine, or raise SpecError; never another exception, never past a time bound.

Mutations reach what a family file adds to a plain spec: parameters and variants, ``let:``
values, expressions (tokens replaced, inserted, wrapped in operations that multiply sizes),
name templates, block bodies (items dropped, copied, moved, uses of other blocks added),
uses (targets, parameters, ``repeat``, ``when``, ``as``, ``inputs``), and the generic edits
and text cuts of tests/test_fuzz.py. Keras is not built (the formula engine stands in for it:
a family model takes seconds to build). The default run tries 200 mutants; ``pytest -m fuzz``
runs a campaign of 10,000.
"""

from __future__ import annotations

import contextlib
import copy
import re
from typing import Any

import pytest
import yaml
from conftest import ROOT, time_limit
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fuzz import VALUES, get, paths

import zoo
from zoo.specification import family

_TEXTS = {p.stem: p.read_text(encoding="utf-8") for p in sorted((ROOT / "specs").glob("*.yaml"))}
FAMILIES = {stem: data for stem, text in _TEXTS.items() if family.is_family(data := yaml.safe_load(text))}
TIME_BOUND = 20  # seconds a mutant may take, wall clock, on a busy machine (each takes well under one)

NUMBERS = ["0", "-1", "1", "2.5", "10**15", "1e308", "999999", "True", "None", "''", "'x' * 999"]
OPERATORS = ["+", "-", "*", "/", "//", "%", "**", "==", "!=", "<", " in ", " not in ", " and ", " or ", ","]
INSERTS = [
    "[",
    "]",
    "(",
    ")",
    "[0]",
    "['x']",
    " if i else ",
    "not ",
    "str(",
    "len(",
    "[1] * 1000",
    "{i}",
    ".real",
    "** 64",
    "'",
    "=",
    "\\",
    "lambda: 0",
    "[x for x in [1]]",
    "__import__('os')",
]
WRAPS = [
    "({0}) * 1000",
    "[{0}] * 999",
    "str({0}) * 500",
    "[{0}, {0}, {0}, {0}]",
    "{0} == {0}",
    "sum([{0}])",
    "'%s' % ({0})",
    "[[{0}] * 30] * 30",
    "min({0}, {0})",
    "{0} if {0} else {0}",
    "correct_pad({0})",
]
TEMPLATE_INSERTS = [
    "{i}",
    "{i * 1000}",
    "{'x' * 999}",
    "{variant}",
    "{",
    "}",
    "{}",
    "{undefined}",
    "{str([1] * 300)}",
    "{input_shape}",
    ".",
]
TOKEN = re.compile(r"[A-Za-z_]\w*|\d+(?:\.\d+)?|\*\*|//|==|!=|<=|>=|[-+*/%<>]")


def names_of(data: dict[str, Any]) -> list[str]:
    """Names an expression in this file may read, and some it may not."""
    out = ["i", "variant", "weights", "input_shape", "undefined_name", "ceil", "letter", "make_divisible"]
    for key in ("params", "let"):
        if isinstance(data.get(key), dict):
            out += list(data[key])
    for block in _mapping(data.get("blocks")).values():
        params = block.get("params") if isinstance(block, dict) else None
        out += list(params) if isinstance(params, (list, dict)) else []
    return [n for n in out if isinstance(n, str)]


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}  # a mutant's blocks: may be anything


def strings(data: Any, want) -> list[tuple]:
    return [p for p in paths(data)[1:] if isinstance(get(data, p), str) and want(get(data, p))]


def items_lists(data: Any) -> list[tuple]:
    """Paths of the lists of items: the top-level layers and every block's layers."""
    out = [("layers",)] if isinstance(data.get("layers"), list) else []
    for name, block in _mapping(data.get("blocks")).items():
        if isinstance(block, dict) and isinstance(block.get("layers"), list):
            out.append(("blocks", name, "layers"))
    return out


def edit_expression(draw: st.DrawFn, text: str, names: list[str]) -> str:
    body = text[1:]
    kind = draw(st.sampled_from(["replace", "insert", "wrap", "truncate"]))
    tokens = list(TOKEN.finditer(body))
    if kind == "replace" and tokens:
        m = draw(st.sampled_from(tokens))
        new = draw(st.sampled_from(names + NUMBERS + OPERATORS))
        body = body[: m.start()] + new + body[m.end() :]
    elif kind == "insert":
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(st.sampled_from(INSERTS + OPERATORS + NUMBERS + names)) + body[at:]
    elif kind == "wrap":
        body = draw(st.sampled_from(WRAPS)).format(body)
    else:
        body = body[: draw(st.integers(0, len(body)))]
    return "=" + body


def edit_template(draw: st.DrawFn, text: str) -> str:
    kind = draw(st.sampled_from(["insert", "double", "drop_dot", "cut"]))
    if kind == "insert":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.sampled_from(TEMPLATE_INSERTS)) + text[at:]
    if kind == "double":
        return text + text
    if kind == "drop_dot":
        return text.lstrip(".") or "x"
    return text[: draw(st.integers(0, len(text)))]


def edit_items(draw: st.DrawFn, data: dict[str, Any], names: list[str]) -> None:
    """Change a list of items: drop, copy or move one, or add a use of some block."""
    where = draw(st.sampled_from(items_lists(data)))
    items = get(data, where)
    if not items:
        return
    j = draw(st.integers(0, len(items) - 1))
    kind = draw(st.sampled_from(["drop", "copy", "move", "use", "when", "repeat", "inputs"]))
    blocks_ = list(_mapping(data.get("blocks"))) or ["nothing"]
    if kind == "drop":
        del items[j]
    elif kind == "copy":
        items.insert(draw(st.integers(0, len(items))), copy.deepcopy(items[j]))
    elif kind == "move":
        items.insert(draw(st.integers(0, len(items))), items.pop(j))
    elif kind == "use":
        use: dict[str, Any] = {"use": draw(st.sampled_from(blocks_))}
        for p in draw(st.lists(st.sampled_from(names), max_size=4)):
            use[p] = draw(st.sampled_from([1, 8, "=i", "=filters", [1, 2], None, True, "x"]))
        items.insert(j, use)
    elif isinstance(items[j], dict):
        item = items[j] if "use" in items[j] else next(iter(items[j].values()), None)
        if not isinstance(item, dict):
            return
        if kind == "when":
            item["when"] = draw(st.sampled_from([True, False, "=i == 1", "=1", "yes", "=undefined", None]))
        elif kind == "repeat":
            item["repeat"] = draw(st.sampled_from([0, 1, 3, 10**6, 10**12, "=i", "=-1", 2.5, "=len(i)"]))
        else:
            item["inputs"] = draw(st.lists(st.sampled_from([*names, "input", ".", "._x"]), max_size=3))


@st.composite
def mutants(draw: st.DrawFn) -> str:
    """The text of a mutated family file."""
    stem = draw(st.sampled_from(sorted(FAMILIES)))
    data = copy.deepcopy(FAMILIES[stem])
    names = names_of(data)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(
                [
                    "expression",
                    "expression",
                    "template",
                    "items",
                    "items",
                    "value",
                    "drop",
                    "rename",
                    "duplicate_key",
                ]
            )
        )
        if kind == "expression" and (found := strings(data, lambda s: s.startswith("="))):
            path = draw(st.sampled_from(found))
            get(data, path[:-1])[path[-1]] = edit_expression(draw, get(data, path), names)
        elif kind == "template" and (found := strings(data, lambda s: "{" in s or s.startswith("."))):
            path = draw(st.sampled_from(found))
            get(data, path[:-1])[path[-1]] = edit_template(draw, get(data, path))
        elif kind == "items" and items_lists(data):
            edit_items(draw, data, names)
        elif kind in ("value", "drop", "rename"):
            path = draw(st.sampled_from(paths(data)[1:]))
            parent, key = get(data, path[:-1]), path[-1]
            if kind == "value":
                parent[key] = draw(st.one_of(VALUES, st.sampled_from([10**6, -5, "=" + "1 + " * 100 + "1"])))
            elif kind == "drop":
                del parent[key]
            elif isinstance(parent, dict):
                parent[key + draw(st.sampled_from(["s", "_", "X"])) if key[:-1] else "x"] = parent.pop(key)
    text = yaml.dump(
        data,
        Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
        sort_keys=False,
        default_flow_style=None,
        allow_unicode=True,
        width=120,
    )
    if draw(st.integers(0, 9)) == 0:  # a splice in the text, as YAML traps make them, rarely a cut
        cut = draw(st.integers(0, len(text)))
        splice = draw(st.sampled_from(["", "\n", ": ", "- ", "{", "]", "\t", "&a ", "*a", "!!int ", "cut"]))
        text = text[:cut] if splice == "cut" else text[:cut] + splice + text[cut:]
    return text


def expand_or_refuse(text: str) -> None:
    with time_limit(TIME_BOUND, "a family file's expansion"), contextlib.suppress(zoo.SpecError):
        zoo.summary(zoo.Spec.from_yaml(text, "fuzz.yaml"), engine="formula")


@pytest.mark.slow  # seconds: the inner loop's budget
@settings(max_examples=200)
@given(mutants())
def test_mutated_family_files_expand_or_raise_spec_error(text):
    expand_or_refuse(text)


@pytest.mark.fuzz
@pytest.mark.slow  # `-m "not slow"` replaces addopts' `-m 'not fuzz'`: keep the campaign out of it
@settings(max_examples=10_000, derandomize=False)
@given(mutants())
def test_fuzz_ten_thousand_family_files(text):
    expand_or_refuse(text)
