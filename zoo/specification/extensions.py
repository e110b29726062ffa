"""The extension point: a user's package adds layer kinds to zoo's catalogue.

A package declares an entry point in the group ``zoo.layers``::

    # its pyproject.toml
    [project.entry-points."zoo.layers"]
    my_layers = "my_package.zoo_layers:layers"

naming a function that returns :class:`Extension` objects, one per layer class::

    # my_package/zoo_layers.py: plain Python, no framework import (the formula engine runs it)
    from zoo.arith.step import Step
    from zoo.specification.catalog import Arg, int_at_least
    from zoo.specification.extensions import Extension

    def channel_scale(shape, args, rank):
        return Step(shape=shape, params=shape[-1], work=["out = in", f"params = {shape[-1]}"])

    def layers():
        return [Extension("ChannelScale", channel_scale, module="my_package.keras_layers")]

``module`` is where the Keras class lives; only the Keras builder imports it. The arguments a spec
may give are ``args`` (name -> :class:`~zoo.specification.catalog.Arg`, as zoo's own entries
declare them); ``rank`` is the number of spatial axes the layer takes (its receptive field follows
the Step's ``window``). Specs then name the kind like any other (``- ChannelScale: {}``), both
witnesses compute it, and ``zoo import`` recognises the class.

Extensions load when the catalogue does, once; one that fails to load (or names a kind that exists)
is left out with a warning naming its entry point, and zoo works on without it.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from zoo.specification import catalog

GROUP = "zoo.layers"


@dataclasses.dataclass(frozen=True)
class Extension:
    """One layer kind a package adds: its class name, its arithmetic and where Keras finds it."""

    name: str
    compute: Callable[..., Any]  # (shape, args, rank) -> zoo.arith.step.Step
    module: str
    keras_class: str | None = None
    rank: int = 0
    args: Mapping[str, catalog.Arg] = dataclasses.field(default_factory=dict)


def register(extension: Extension, source: str = "zoo.specification.extensions.register") -> str:
    """Add one kind to the catalogue; returns its name. A name already taken is refused."""
    name = extension.name
    if not (isinstance(name, str) and name[:1].isupper() and name.isidentifier()):
        raise ValueError(f"{source}: a layer kind is a class name (e.g. ChannelScale). Received: {name!r}")
    if name in catalog.LAYERS:
        raise ValueError(f"{source}: the catalogue has {name} already (from {catalog.LAYERS[name].source})")
    if not callable(extension.compute):
        raise ValueError(f"{source}: {name}'s compute must be a function (shape, args, rank) -> Step")
    catalog.LAYERS[name] = catalog.LayerKind(
        name=name,
        rule="extension",
        rank=int(extension.rank),
        args={**extension.args, **catalog.COMMON},
        module=extension.module,
        keras_class=extension.keras_class,
        compute=extension.compute,
        source=source,
    )
    return name


def unregister(name: str) -> None:
    """Take an extension's kind out again (tests; a package being reloaded)."""
    if name in catalog.LAYERS and catalog.LAYERS[name].rule == "extension":
        del catalog.LAYERS[name]


def load(entry_points: Iterable[Any] | None = None) -> list[str]:
    """Register the kinds of every installed package's ``zoo.layers`` entry point; returns their names."""
    found = importlib.metadata.entry_points(group=GROUP) if entry_points is None else entry_points
    names = []
    for ep in found:
        where = f"entry point {ep.name} = {ep.value} (group {GROUP})"
        try:
            made = ep.load()()
            for extension in made:
                if not isinstance(extension, Extension):
                    raise ValueError(f"returned {type(extension).__name__}, not an Extension")
                names.append(register(extension, where))
        except Exception as exc:  # a broken extension must not break zoo: say so, go on without it
            warnings.warn(f"zoo: {where} was not loaded: {exc}", stacklevel=2)
    return names
