"""``zoo import --blocks``: an imported model written with its repeated blocks, checked by Keras.

The recognition itself is plain Python over the flat import's data
(:mod:`zoo.specification.recognise`); here its result is built by Keras and compared with the
model by :func:`zoo.keras.importer.same_model`, the comparison every import passes. A recognised
spec that does not rebuild the same model is a :class:`SpecError` (nothing is written), never a
spec.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from zoo.specification import recognise
from zoo.specification.errors import SpecError
from zoo.specification.model import Spec


@dataclasses.dataclass(frozen=True)
class RecognisedSpec(Spec):
    """An imported model's spec with its blocks: the same model as the flat import, whose file
    (:meth:`to_yaml`) is written with ``blocks:``, ``repeat:`` and name templates."""

    blocked_yaml: str = dataclasses.field(default="", compare=False, repr=False)
    flat_yaml: str = dataclasses.field(default="", compare=False, repr=False)

    def to_yaml(self) -> str:
        """The spec file with the blocks recognised in it (``Spec.from_yaml`` reads it back into this
        spec's model)."""
        return self.blocked_yaml

    def plain(self) -> Spec:
        """The same spec without its recognised file (what a changed copy of it is)."""
        return Spec(**{f.name: getattr(self, f.name) for f in dataclasses.fields(Spec)})

    def with_weights(self, weights: Any) -> Spec:
        """A copy with other weights is another spec: its file is no longer the recognised one."""
        return self.plain().with_weights(weights)

    def sizes(self) -> dict[str, tuple[int, int]]:
        """(lines, YAML nodes) of this file and of the flat import's (:func:`recognise.size`)."""
        return {"blocks": recognise.size(self.blocked_yaml), "flat": recognise.size(self.flat_yaml)}


def with_blocks(
    flat: Spec, data: Mapping[str, Any], model: Any, same_model: Callable[[Spec, Any], list[str]]
) -> Spec:
    """The spec of ``model`` with its repeated blocks, from the flat import ``flat`` (already
    checked by ``same_model``, the importer's comparison) and its plain ``data``; the flat spec
    where no block repeats."""
    blocked = recognise.recognise(data)
    if not recognise.block_count(blocked):
        return flat
    text = recognise.dump(blocked)
    spec = Spec.from_yaml(text, f"<import of {model.name} with blocks>")
    problems = same_model(spec, model)
    if problems:
        raise SpecError(
            f"the spec with blocks recognised in {model.name!r} does not rebuild the same model, so it "
            "is not written (import without --blocks for the flat spec):\n  " + "\n  ".join(problems)
        )
    values = {f.name: getattr(spec, f.name) for f in dataclasses.fields(Spec)}
    return RecognisedSpec(**values, blocked_yaml=text, flat_yaml=flat.to_yaml())
