"""zoo's built-in specs, installed as the ``zoo.specs`` package (see pyproject.toml).

This file makes ``zoo.specs`` a regular package, so ``importlib.resources.files``
returns a real folder rather than a namespace's MultiplexedPath.
"""
