"""The small expression language of family specs: ``"=4 * filters"``, ``"=ceil(depth * r)"``.

An expression is a Python expression parsed with :mod:`ast` and evaluated by
walking the tree: only literals, names, arithmetic, comparisons, ``and/or/not``,
conditional expressions, indexing, list literals and calls of the fixed pure
functions in :data:`FUNCTIONS` are allowed. No attribute access, no imports, no
lambdas or comprehensions, no user functions; every result is bounded in size,
so an expression cannot run arbitrary code, loop, or build a huge value.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

from zoo import keras_rules

MAX_EXPRESSION_CHARS = 500
MAX_INT = 10**15  # far beyond any layer size, far below a number that costs time to build
MAX_ITEMS = 1000  # strings and lists


class ExpressionError(Exception):
    """An expression that is not allowed or cannot be evaluated; the caller words the SpecError."""

    def __init__(self, what: str, name: str | None = None) -> None:
        super().__init__(what)
        self.what, self.name = what, name


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """MobileNet's and EfficientNet's channel rounding (``_make_divisible`` in keras.applications)."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:  # do not round down by more than 10%
        new_v += divisor
    return new_v


def correct_pad(size: int | list[int], kernel_size: int = 3) -> list[list[int]]:
    """keras.applications' ``imagenet_utils.correct_pad`` for an input of ``size`` (per axis).

    The padding that makes a 'valid' strided convolution cover the input as 'same' would.
    """
    sizes = [size, size] if size is None or isinstance(size, int) else list(size)
    out = []
    for n in sizes:
        adjust = 1 if n is None else 1 - n % 2
        out.append([kernel_size // 2 - adjust, kernel_size // 2])
    return out


def _round(x: float, digits: int | None = None) -> float:
    return round(x) if digits is None else round(x, digits)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": abs, "sqrt": math.sqrt, "ceil": math.ceil, "floor": math.floor, "int": int, "float": float,
    "round": _round, "min": min, "max": max, "sum": sum, "len": len, "str": str,
    "tuple": tuple,  # for messages: Keras prints shapes as tuples, "{tuple(input_shape)}"
    "make_divisible": make_divisible, "correct_pad": correct_pad,
    "letter": lambda j: chr(96 + j),  # letter(1) == 'a': EfficientNet's block1a, block1b, ...
    **keras_rules.FUNCTIONS,  # keras.applications' rules: obtain_input_shape, file_exists
}  # fmt: skip

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}  # fmt: skip
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}  # fmt: skip


def names_in(text: str) -> set[str]:
    """The variable names an expression reads (for did-you-mean and dependency checks)."""
    return {n.id for n in ast.walk(ast.parse(text, mode="eval")) if isinstance(n, ast.Name)} - set(FUNCTIONS)


def evaluate(text: str, env: Mapping[str, Any]) -> Any:
    """The value of expression ``text`` (without its leading ``=``) with ``env``'s names."""
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"expression is longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"not a valid expression: {exc.msg}") from None
    try:
        return _bounded(_eval(tree.body, env))
    except ExpressionError:
        raise
    except (ArithmeticError, TypeError, ValueError, IndexError, KeyError) as exc:
        raise ExpressionError(f"cannot evaluate: {type(exc).__name__}: {exc}") from None


def _bounded(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int) and abs(value) > MAX_INT:
        raise ExpressionError(f"the result is too large (more than {MAX_INT:.0e})")
    if isinstance(value, float) and (math.isnan(value) or abs(value) > MAX_INT):
        raise ExpressionError("the result is too large or not a number")
    if isinstance(value, (str, list, tuple, dict)) and len(value) > MAX_ITEMS:
        raise ExpressionError(f"the result has more than {MAX_ITEMS} items or characters")
    return value


def _eval(node: ast.AST, env: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, (int, float, str, bool)) or node.value is None:
            return _bounded(node.value)
        raise ExpressionError(f"constant {node.value!r} is not allowed")
    if isinstance(node, ast.Name):
        if node.id in env:
            return env[node.id]
        raise ExpressionError(f"unknown name {node.id!r}", name=node.id)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left, env), _eval(node.right, env)
        if isinstance(node.op, ast.Pow) and _is_num(left) and _is_num(right) and abs(right) > 64:
            raise ExpressionError("exponent larger than 64")
        if isinstance(node.op, ast.Mult) and isinstance(left, (str, list)) != isinstance(right, (str, list)):
            seq, count = (left, right) if isinstance(left, (str, list)) else (right, left)
            if isinstance(count, int) and count * len(seq) > MAX_ITEMS:
                raise ExpressionError(f"the result has more than {MAX_ITEMS} items or characters")
        return _bounded(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, env)
        if isinstance(node.op, ast.Not):
            return not value
        if isinstance(node.op, ast.USub):
            return -value
        if isinstance(node.op, ast.UAdd):
            return +value
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            result = True
            for v in node.values:
                result = _eval(v, env)
                if not result:
                    return result
            return result
        result = False
        for v in node.values:
            result = _eval(v, env)
            if result:
                return result
        return result
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        left = _eval(node.left, env)
        for op, comparator in zip(node.ops, node.comparators):
            right = _eval(comparator, env)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _eval(node.body, env) if _eval(node.test, env) else _eval(node.orelse, env)
    if isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice):
        return _eval(node.value, env)[_eval(node.slice, env)]
    if isinstance(node, (ast.List, ast.Tuple)):
        if len(node.elts) > MAX_ITEMS:
            raise ExpressionError(f"a list of more than {MAX_ITEMS} items")
        return [_eval(e, env) for e in node.elts]
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
            what = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise ExpressionError(
                f"only these functions may be called, with positional arguments: "
                f"{', '.join(sorted(FUNCTIONS))}. Received: {what}(...)",
                name=what if isinstance(node.func, ast.Name) else None,
            )
        return FUNCTIONS[node.func.id](*(_eval(a, env) for a in node.args))
    raise ExpressionError(f"{type(node).__name__} is not allowed in an expression: {ast.unparse(node)!r}")


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
