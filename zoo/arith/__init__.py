"""The arithmetic: every layer's shape, parameters, MACs and receptive field, in plain Python."""

from zoo.arith.engine import *  # noqa: F401,F403  (split below)
