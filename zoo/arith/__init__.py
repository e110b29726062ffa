"""The arithmetic: every layer's output shape, parameters, MACs and receptive field, in plain Python.

Never imports a framework and never asks one for an answer; see :mod:`zoo.arith.engine`.
"""

from zoo.arith.engine import compute, explain, layer_step, steps, summarize
from zoo.arith.step import UNKNOWN, GeometryError, Shape, Step, size_or_none
from zoo.arith.summary import Row, Summary, render
from zoo.arith.tensors import Tensors
from zoo.specification import blocks

# family files read shapes (``shape(x)``) through this engine; expansion cannot import it
blocks.install_shape_engine(Tensors)

__all__ = [
    "UNKNOWN",
    "GeometryError",
    "Row",
    "Shape",
    "Step",
    "Summary",
    "compute",
    "explain",
    "layer_step",
    "render",
    "size_or_none",
    "steps",
    "summarize",
]
