"""The context a family file is evaluated in: the one error path and the one work budget.

Expressions, name templates, conditions and the file's structure are all read through a
:class:`Context`, which knows where the evaluation is (the chain of block uses, the variant) and
charges what it does to the file's budget (:class:`~zoo.specification.expressions.Budget`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from zoo.specification.errors import KeyPath, Source, SpecError, cut, did_you_mean
from zoo.specification.expressions import Budget, ExpressionError, TensorShapes, evaluate
from zoo.specification.keras_rules import KerasRuleError
from zoo.specification.provenance import ExpandedSource, Use, story

MAX_TEXT_CHARS = 2000
TEMPLATE = re.compile(r"\{([^{}]*)\}")


@dataclass
class Context:
    """Where an evaluation is (the use chain, the variant) and what it has cost (the work budget):
    it travels with every expression, template and item, so every error it raises tells the whole
    story (:func:`~zoo.specification.provenance.story`) and every step is charged."""

    source: Source
    variant_text: str = ""
    budget: Budget = field(default_factory=Budget)
    chain: tuple[Use, ...] = ()  # the block instances being expanded, outermost first

    def error(
        self, path: KeyPath, what: str, *, received: Mapping[str, Any] | None = None, valid: str | None = None
    ) -> SpecError:
        """An error at ``path`` with the whole story: each use the expansion is inside, the variant."""
        return story(self.source, path, what, self.chain, self.variant_text, received=received, valid=valid)

    def traced(self) -> ExpandedSource:
        """A Source whose errors carry this expansion's story (for checks written against a Source)."""
        return ExpandedSource(self.source.label, self.source.lines, (), self.variant_text)

    def charge(self, units: int, path: KeyPath) -> None:
        try:
            self.budget.charge(units)
        except ExpressionError as exc:
            raise self.error(path, exc.what) from None

    def check_keys(self, given: Mapping[str, Any], path: KeyPath, valid: Collection[str], what: str) -> None:
        """Every key of ``given`` is one of ``valid``; else an error with a suggestion and the list."""
        for key in given:
            if key not in valid:
                raise self.error(
                    (*path, key),
                    what + did_you_mean(key, valid),
                    received={key: given[key]},
                    valid=", ".join(valid),
                )

    def mapping(self, data: Mapping[str, Any], key: str) -> dict[str, Any]:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error((key,), "must be a mapping", received={key: value})
        return dict(value)

    def sequence(self, data: Mapping[str, Any], key: str) -> list[Any]:
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error((key,), "must be a list", received={key: value})
        return value

    def value(self, value: Any, env: Mapping[str, Any], path: KeyPath) -> Any:
        """A spec value with its expressions (strings starting with '=') evaluated, recursively."""
        if isinstance(value, str) and value.startswith("="):
            return plain_list(self.evaluate(value[1:], env, path, f"expression {cut(repr(value))}"))
        self.charge(1 + (len(value) if isinstance(value, (list, dict)) else 0), path)
        if isinstance(value, list):
            return [self.value(v, env, (*path, i)) for i, v in enumerate(value)]
        if isinstance(value, dict):  # an initializer's config, a nested layer's arguments
            return {k: self.value(v, env, (*path, k)) for k, v in value.items()}
        return value

    def evaluate(self, text: str, env: Mapping[str, Any], path: KeyPath, where: str) -> Any:
        """Expression ``text``'s value; an error is at ``path`` and names ``where`` it was written."""
        try:
            return evaluate(text, env, self.budget, self.tensor_shapes())
        except KerasRuleError as exc:  # a keras.applications rule the arguments break: Keras's words
            raise self.error(path, exc.message) from None
        except ExpressionError as exc:
            near = did_you_mean(exc.name, [n for n in env if not n.startswith("_")]) if exc.name else ""
            valid = "names: " + ", ".join(sorted(env)) if exc.name else None
            raise self.error(path, f"{exc.what}{near} in {where}", valid=valid) from None

    def tensor_shapes(self) -> TensorShapes | None:
        """What ``shape(x)`` reads where the evaluation is: None here (no tensor is in reach); a
        family file's layers see theirs (:class:`~zoo.specification.blocks.BlockExpansion`)."""
        return None

    def template(self, text: Any, env: Mapping[str, Any], path: KeyPath) -> str:
        """A name template: ``"conv{i}_block"`` with each ``{expression}`` filled in."""
        if isinstance(text, str) and text.startswith("="):
            text = self.value(text, env, path)
        if not isinstance(text, str):
            key = next((str(k) for k in reversed(path) if isinstance(k, str)), "name")
            raise self.error(path, "must be a name (a string)", received={key: text})
        if "{" not in text:
            return text
        made = len(text)

        def fill(m: re.Match[str]) -> str:
            nonlocal made
            piece = str(self.evaluate(m[1], env, path, f"template {cut(repr(text))}"))
            made += len(piece)
            self.charge(len(piece), path)
            if made > MAX_TEXT_CHARS:
                raise self.error(
                    path,
                    f"the template makes a text of more than {MAX_TEXT_CHARS:,} characters",
                    received={str(path[-1]): text},
                )
            return piece

        return TEMPLATE.sub(fill, text)

    def relative(self, name: str, prefix: str, path: KeyPath) -> str:
        """``._1_conv`` in instance ``conv2_block1`` is ``conv2_block1_1_conv``."""
        if not name.startswith("."):
            return name
        if len(prefix) + len(name) > MAX_TEXT_CHARS:
            raise self.error(
                path,
                f"the name is longer than {MAX_TEXT_CHARS:,} characters",
                received={"name": prefix + name[1:]},
            )
        return prefix + name[1:]

    def check_flow_style(self, value: Any, path: KeyPath) -> None:
        """Find expressions and templates that YAML's flow style cut at a comma (``{x: =max(1, f)}``)."""
        if isinstance(value, dict):
            for k, v in value.items():
                self.check_flow_style(v, (*path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.check_flow_style(v, (*path, i))
        elif isinstance(value, str) and (value.startswith("=") or "{" in value or "}" in value):
            depth = 0
            for ch in value:
                depth += ch in "([{"
                depth -= ch in ")]}"
                if depth < 0:
                    break
            if depth:
                key = str(path[-1])
                raise self.error(
                    path,
                    "unbalanced brackets: in YAML's flow style ({...}) a value containing ',', '[', ']', "
                    f"'{{' or '}}' must be quoted, or YAML cuts it at the comma. Write {key}: \"{value}...\"",
                    received={key: value},
                )

    def condition(self, value: Any, env: Mapping[str, Any], path: KeyPath, key: str) -> bool:
        """``when:`` or ``that:``: true, false, or an expression that gives one of them."""
        if isinstance(value, str) and not value.startswith("="):
            raise self.error(
                path,
                f"takes an expression (starting with '=') or true/false; write {key}: \"={value}\"",
                received={key: value},
            )
        result = self.value(value, env, path)
        if not isinstance(result, bool):
            raise self.error(path, "must be true or false", received={key: result})
        return result


def plain_list(value: Any) -> Any:
    """Tuples (and lists inside lists) as lists: what the validator expects of data parsed from YAML."""
    return [plain_list(v) for v in value] if isinstance(value, (list, tuple)) else value
