"""The small expression language of family specs: ``"=4 * filters"``, ``"=ceil(depth * r)"``.

An expression is a Python expression parsed with :mod:`ast` and evaluated by
walking the tree: only literals, names, arithmetic, comparisons, ``and/or/not``,
conditional expressions, indexing and slicing, list literals, bounded list
comprehensions (one ``for`` over a list, a tuple or a ``range``, at most one ``if``:
``[ceil(d * a['repeats']) for a in blocks_args]``), calls of the fixed pure
functions in :data:`FUNCTIONS`, and ``shape(x)``: Keras's ``x.shape`` of a tensor in
reach where the expression is written, which the caller reads through the formula
engine (:data:`TensorShapes`; the expression only names the tensor). No attribute access, no imports, no
lambdas, no user functions, so an expression cannot run arbitrary code, and a
loop runs over a value already bounded in size, each step charged.

Work is bounded twice. Every value an expression makes is bounded in size
(:data:`MAX_ITEMS` items or characters, nested ones included, :data:`MAX_DEPTH`
levels deep). And every evaluation is charged to a :class:`Budget`, one per
expansion of a family file: one unit per syntax node, plus the size of every
value an operation walks (comparisons, ``in``, ``+``, ``*``, ``str`` and the other
functions), charged *before* the operation runs. Sizes alone do not bound work: a
name template filled thousands of times, or a comparison of two large values
repeated in every block, stays under every size limit; the budget stops it.
"""

from __future__ import annotations

import ast
import collections
import functools
import itertools
import math
import operator
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

from zoo.specification import keras_rules
from zoo.specification.errors import SpecError

MAX_EXPRESSION_CHARS = 500
MAX_INT = 10**15  # far beyond any layer size, far below a number that costs time to build
MAX_ITEMS = 1000  # one value: its items, nested ones included, and its strings' characters
MAX_DEPTH = 32  # lists and mappings in one value, and syntax nodes in one expression (x 4)
# The work one expansion of a family file may do, in units: one per syntax node evaluated, per
# item or character an operation walks or a template fills in, and zoo.blocks.STEP_WORK per item
# the expansion visits. The largest shipped families need far less (README, "The block language").
MAX_WORK = 1_000_000
CALL_WORK = 3  # what one evaluation costs before its first node (a template fills one per {...})


# shape(x): the caller's reader of Keras's ``x.shape`` (the batch axis first, None for a size left
# open) of the tensor a handle names; it raises ExpressionError for a handle that names none
TensorShapes = Callable[[str], "list[int | None]"]
SHAPE = "shape"


class ExpressionError(Exception):
    """An expression that is not allowed or cannot be evaluated; the caller words the SpecError."""

    def __init__(self, what: str, name: str | None = None) -> None:
        super().__init__(what)
        self.what, self.name = what, name


class Budget:
    """The work one expansion may still do; every operation charges it before it runs."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = MAX_WORK if limit is None else limit
        self.used = 0

    def charge(self, units: int) -> None:
        self.used += units
        if self.used > self.limit:
            raise ExpressionError(
                f"the spec asks for more than {self.limit:,} units of work (the limit of one expansion); "
                "something repeats far more, or walks far larger values, than a model needs"
            )

    def touch(self, *values: Any) -> None:
        """Charge for walking ``values``: their sizes (the walk that measures them stops at what is left)."""
        for value in values:
            self.charge(1 if type(value) in _SCALARS else size_of(value, self.limit - self.used + 1))


_SCALARS = (int, float, bool, type(None))


def size_of(value: Any, cap: int = MAX_ITEMS) -> int:
    """Items and characters in ``value``, nested ones included (at least 1 each); the count stops
    soon after ``cap``, so measuring costs at most about ``cap``. A value nested more than
    :data:`MAX_DEPTH` levels deep is an error."""
    if isinstance(value, str):
        return max(1, len(value))
    if not isinstance(value, (list, tuple, dict)):
        return 1
    total = 0
    stack = [_items(value)]
    while stack:
        for v in stack[-1]:
            if isinstance(v, str):
                total += max(1, len(v))
            elif isinstance(v, (list, tuple, dict)) and v:
                if len(stack) >= MAX_DEPTH:
                    raise ExpressionError(f"a value nested more than {MAX_DEPTH} levels deep")
                stack.append(_items(v))
                break
            else:
                total += 1
            if total > cap:
                return total
        else:
            stack.pop()
    return max(total, 1)


def _items(value: Any) -> Iterator[Any]:
    return itertools.chain.from_iterable(value.items()) if isinstance(value, dict) else iter(value)


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """MobileNet's and EfficientNet's channel rounding (``_make_divisible`` in keras.applications)."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:  # do not round down by more than 10%
        new_v += divisor
    return new_v


def correct_pad(size: int | list[int | None] | None, kernel_size: int = 3) -> list[list[int]]:
    """keras.applications' ``imagenet_utils.correct_pad`` for an input of ``size``: its rows and
    cols (Keras's ``input_size = inputs.shape[img_dim:img_dim + 2]``; a family file writes
    ``correct_pad(shape(x)[img_dim:img_dim + 2], k)``), or one number for both.

    The padding that makes a 'valid' strided convolution cover the input as 'same' would. As in
    Keras, both axes count as open (None) when the rows are.
    """
    sizes = [size, size] if size is None or isinstance(size, int) else list(size)
    out = []
    for n in sizes:
        adjust = 1 if sizes[0] is None or n is None else 1 - n % 2
        out.append([kernel_size // 2 - adjust, kernel_size // 2])
    return out


def _round(x: float, digits: int | None = None) -> float:
    if digits is not None and not -20 <= digits <= 20:  # round(5, -10**9) would build 10**(10**9)
        raise ValueError(f"round's digits must be between -20 and 20, not {digits}")
    return round(x) if digits is None else round(x, digits)


def _sum(values: Any, start: float = 0) -> float:
    """Python's sum of numbers (a sum of lists copies every prefix: quadratic work)."""
    values = list(values)
    if not all(isinstance(v, (int, float)) for v in [*values, start]):
        raise TypeError("sum adds numbers only")
    return sum(values, start)


def _prod(values: Any, start: float = 1) -> float:
    """math.prod of numbers (a product of lists would repeat them)."""
    values = list(values)
    if not all(isinstance(v, (int, float)) for v in [*values, start]):
        raise TypeError("prod multiplies numbers only")
    return math.prod(values, start=start)


def _cumsum(values: Any) -> list[Any]:
    """The running sums of numbers: ``cumsum([1, 2, 3]) == [1, 3, 6]`` (itertools.accumulate's)."""
    values = list(values)
    if not all(isinstance(v, (int, float)) for v in values):
        raise TypeError("cumsum adds numbers only")
    return list(itertools.accumulate(values))


def _range(*args: int) -> list[int]:
    """Python's range, as a list, refused before it is made when it has more than MAX_ITEMS items."""
    if not all(isinstance(a, int) for a in args):
        raise TypeError("range takes integers")
    r = range(*args)
    if len(r) > MAX_ITEMS:
        raise ValueError(f"range of more than {MAX_ITEMS} items")
    return list(r)


def linspace(start: float, stop: float, num: int) -> list[float]:
    """numpy.linspace(start, stop, num) as Python floats, computed as numpy computes it (the step
    ``(stop - start) / (num - 1)`` times each index, plus start, and the last value ``stop``), so
    every value is numpy's to the bit: ConvNeXt's stochastic-depth rates
    ``[float(x) for x in np.linspace(0.0, drop_path_rate, sum(depths))]``."""
    if not isinstance(num, int) or isinstance(num, bool) or num < 0:
        raise ValueError(f"linspace's num must be a non-negative integer, not {num!r}")
    if num > MAX_ITEMS:
        raise ValueError(f"linspace of more than {MAX_ITEMS} items")
    start, stop = float(start), float(stop)
    delta, div = stop - start, num - 1
    if div > 0:
        step = delta / div
        y = [k / div * delta if step == 0 else k * step for k in range(num)]
    else:
        y = [k * delta for k in range(num)]
    y = [v + start for v in y]
    if num > 1:
        y[-1] = stop
    return y


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": abs,
    "sqrt": math.sqrt,
    "ceil": math.ceil,
    "floor": math.floor,
    "int": int,
    "float": float,
    "round": _round,
    "min": min,
    "max": max,
    "sum": _sum,
    "prod": _prod,
    "cumsum": _cumsum,
    "range": _range,
    "linspace": linspace,
    "len": len,
    "str": str,
    "tuple": tuple,  # for messages: Keras prints shapes as tuples, "{tuple(input_shape)}"
    "make_divisible": make_divisible,
    "correct_pad": correct_pad,
    "letter": lambda j: chr(96 + j),  # letter(1) == 'a': EfficientNet's block1a, block1b, ...
    **keras_rules.FUNCTIONS,  # keras.applications' rules: obtain_input_shape, file_exists
}

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}


def names_in(text: str) -> set[str]:
    """The variable names an expression reads (for did-you-mean and dependency checks); an
    ExpressionError where ``text`` is not an expression."""
    tree = _parse(text)
    bound = {
        g.target.id
        for g in ast.walk(tree)
        if isinstance(g, ast.comprehension) and isinstance(g.target, ast.Name)
    }
    handles = {id(a) for c in ast.walk(tree) if _is_shape(c) for a in cast(ast.Call, c).args}  # tensors
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in handles}
    return names - set(FUNCTIONS) - {SHAPE} - bound


def _is_shape(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == SHAPE


def evaluate(
    text: str, env: Mapping[str, Any], budget: Budget | None = None, shapes: TensorShapes | None = None
) -> Any:
    """The value of expression ``text`` (without its leading ``=``) with ``env``'s names.

    ``budget`` is charged for the work (a fresh one of :data:`MAX_WORK` units when not given);
    ``shapes`` reads the tensors ``shape(x)`` names (None where no tensor is in reach).
    """
    tree = _parse(text)
    evaluator = _Evaluator(env, budget if budget is not None else Budget(), shapes)
    evaluator.budget.charge(CALL_WORK)
    try:
        return evaluator.bounded(evaluator.eval(tree))
    except (ExpressionError, SpecError):  # SpecError: a layer shape() needed that the engine refused
        raise
    except (ArithmeticError, TypeError, ValueError, IndexError, KeyError) as exc:
        raise ExpressionError(f"cannot evaluate: {type(exc).__name__}: {exc}") from None


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> ast.expr:
    """The syntax tree of an expression, checked for length and depth (parsed once per text)."""
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"expression is longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        with warnings.catch_warnings():  # "1if x else 2", "'\\d'": Python warns; an expression is refused
            warnings.simplefilter("error")
            tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ExpressionError(f"not a valid expression: {exc.msg}") from None
    except (ValueError, MemoryError, RecursionError) as exc:  # a null byte; a parser stack overflow
        raise ExpressionError(f"not a valid expression: {exc}") from None
    todo: list[tuple[ast.AST, int]] = [(tree, 1)]
    while todo:
        node, depth = todo.pop()
        if depth > 4 * MAX_DEPTH:
            raise ExpressionError(f"expression is nested more than {4 * MAX_DEPTH} levels deep")
        todo += [(child, depth + 1) for child in ast.iter_child_nodes(node)]
    return tree


class _Evaluator:
    """One evaluation: the names it may read and the budget it charges."""

    def __init__(self, env: Mapping[str, Any], budget: Budget, shapes: TensorShapes | None = None) -> None:
        self.env, self.budget, self.shapes = env, budget, shapes

    def bounded(self, value: Any) -> Any:
        """``value`` if it is of an allowed type and size; the measuring is charged."""
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int):
            if abs(value) > MAX_INT:
                raise ExpressionError(f"the result is too large (more than {MAX_INT:.0e})")
            return value
        if isinstance(value, float):
            if math.isnan(value) or abs(value) > MAX_INT:
                raise ExpressionError("the result is too large or not a number")
            return value
        if not isinstance(value, (str, list, tuple, dict)):
            raise ExpressionError(f"a value of type {type(value).__name__} is not allowed")
        n = size_of(value, MAX_ITEMS)
        self.budget.charge(min(n, MAX_ITEMS))
        if n > MAX_ITEMS:
            raise ExpressionError(f"the result has more than {MAX_ITEMS} items or characters")
        return value

    def eval(self, node: ast.AST) -> Any:
        self.budget.charge(1)
        ev = self.eval
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (int, float, str, bool)) or node.value is None:
                return self.bounded(node.value)
            raise ExpressionError(f"constant {node.value!r} is not allowed")
        if isinstance(node, ast.Name):
            if node.id in self.env:
                return self.env[node.id]
            raise ExpressionError(f"unknown name {node.id!r}", name=node.id)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = ev(node.left), ev(node.right)
            self.before_binary(node.op, left, right)
            return self.bounded(_BINARY[type(node.op)](left, right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return self.bounded(_UNARY[type(node.op)](ev(node.operand)))
        if isinstance(node, ast.BoolOp):
            stop = not isinstance(node.op, ast.And)  # `and` stops at a false value, `or` at a true one
            result = None
            for v in node.values:
                result = ev(v)
                if bool(result) is stop:
                    break
            return result
        if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
            left = ev(node.left)
            for op, comparator in zip(node.ops, node.comparators):
                right = ev(comparator)
                self.budget.touch(left, right)
                if not _COMPARE[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return ev(node.body) if ev(node.test) else ev(node.orelse)
        if isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice):
            return ev(node.value)[ev(node.slice)]
        if isinstance(node, ast.Subscript):  # a[lower:upper:step]: a copy, charged by its size
            value, part = ev(node.value), cast(ast.Slice, node.slice)
            bounds = [None if b is None else ev(b) for b in (part.lower, part.upper, part.step)]
            if not isinstance(value, (list, tuple, str)) or not all(
                b is None or type(b) is int for b in bounds
            ):
                raise ExpressionError(
                    f"only lists, tuples and strings are sliced, by integers: {ast.unparse(node)!r}"
                )
            if bounds[2] == 0:
                raise ExpressionError("slice step cannot be zero")
            self.budget.touch(value)
            return self.bounded(value[slice(*bounds)])
        if isinstance(node, ast.ListComp):
            return self.comprehension(node)
        if isinstance(node, (ast.List, ast.Tuple)):
            if len(node.elts) > MAX_ITEMS:
                raise ExpressionError(f"a list of more than {MAX_ITEMS} items")
            return self.bounded([ev(e) for e in node.elts])
        if _is_shape(node):
            return self.shape(cast(ast.Call, node))
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
                what = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
                raise ExpressionError(
                    f"only these functions may be called, with positional arguments: "
                    f"{', '.join(sorted([*FUNCTIONS, SHAPE]))}. Received: {what}(...)",
                    name=what if isinstance(node.func, ast.Name) else None,
                )
            args = [ev(a) for a in node.args]
            self.budget.touch(*args)
            try:
                result = FUNCTIONS[node.func.id](*args)
            except keras_rules.KerasRuleError:  # a keras.applications rule: the caller says Keras's words
                raise
            except Exception as exc:  # the functions are pure: what they refuse is what they were given
                what = f"cannot evaluate {node.func.id}(...): {type(exc).__name__}: {exc}"
                raise ExpressionError(what) from None
            return self.bounded(result)
        raise ExpressionError(f"{type(node).__name__} is not allowed in an expression: {ast.unparse(node)!r}")

    def shape(self, node: ast.Call) -> list[int | None]:
        """``shape(x)``: Keras's ``x.shape`` of the tensor handle ``x`` names, batch axis first. The
        handle is written as ``inputs:`` writes it, never evaluated: a bare name (``input``, a block's
        input, an ``id:``) or a layer's name in quotes (``shape('.expand_activation')``)."""
        arg = node.args[0] if len(node.args) == 1 and not node.keywords else None
        if isinstance(arg, ast.Name):
            handle = arg.id
        elif isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            handle = arg.value
        else:
            raise ExpressionError(
                "shape() takes one tensor, named as inputs: names it: a handle (shape(input), a block's "
                f"input, an id) or a layer's name in quotes (shape('.conv')). Received: {ast.unparse(node)}"
            )
        if self.shapes is None:
            raise ExpressionError(
                f"{ast.unparse(node)}: no tensor is in reach here; shape() reads tensors in a family "
                "file's layers and block uses, not in let:, require:, defaults: or weights:"
            )
        self.budget.charge(len(handle))
        shape: list[int | None] = self.bounded(list(self.shapes(handle)))
        return shape

    def comprehension(self, node: ast.ListComp) -> list[Any]:
        """``[elt for name in items if cond]``: one ``for`` over a list or tuple (already bounded in
        size), at most one ``if``; each step is charged, and the result is bounded."""
        if len(node.generators) != 1:
            raise ExpressionError(f"a comprehension has one `for`: {ast.unparse(node)!r}")
        gen = node.generators[0]
        if not isinstance(gen.target, ast.Name) or gen.is_async or len(gen.ifs) > 1:
            raise ExpressionError(
                f"a comprehension is `[x for NAME in items if cond]`: {ast.unparse(node)!r}"
            )
        items = self.eval(gen.iter)
        if not isinstance(items, (list, tuple)):
            raise ExpressionError(
                f"a comprehension runs over a list, a tuple or a range, not {type(items).__name__}"
            )
        scope: dict[str, Any] = {}
        inner = _Evaluator(collections.ChainMap(scope, cast(Any, self.env)), self.budget, self.shapes)
        out: list[Any] = []
        for item in items:
            self.budget.charge(1)
            scope[gen.target.id] = item
            if gen.ifs and not inner.eval(gen.ifs[0]):
                continue
            out.append(inner.eval(node.elt))
            if len(out) > MAX_ITEMS:
                raise ExpressionError(f"the result has more than {MAX_ITEMS} items or characters")
        bounded: list[Any] = self.bounded(out)
        return bounded

    def before_binary(self, op: ast.operator, left: Any, right: Any) -> None:
        """Refuse, before it runs, an operation whose result would be too large; charge its walk."""
        if isinstance(op, ast.Pow) and _is_num(left) and _is_num(right):
            if abs(right) > 64:
                raise ExpressionError("exponent larger than 64")
            if isinstance(left, int) and right > 0 and abs(left).bit_length() * right > 128:
                raise ExpressionError(f"the result is too large (more than {MAX_INT:.0e})")
        if isinstance(op, ast.Mod) and isinstance(left, str):
            raise ExpressionError("'%' formatting of strings is not allowed; write a template: 'conv{i}'")
        if isinstance(op, ast.Mult) and isinstance(left, (str, list)) != isinstance(right, (str, list)):
            seq, count = (left, right) if isinstance(left, (str, list)) else (right, left)
            if isinstance(count, int) and count > 0 and count * size_of(seq, MAX_ITEMS) > MAX_ITEMS:
                raise ExpressionError(f"the result has more than {MAX_ITEMS} items or characters")
        self.budget.touch(left, right)


_UNARY: dict[type, Callable[[Any], Any]] = {
    ast.Not: operator.not_,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
