"""`zoo show NAME --expanded` stays exactly as it is when a family file is rewritten.

A family file may be rewritten to read more like Keras's source (loops, comprehensions,
shapes read where Keras reads them); the layers it expands to must not move. The pin is
tests/pins/expanded.yml: for every shipped spec, and for each family's model under a
few keras.applications arguments, a digest of the expanded layers (name, class, every Keras
argument, inputs) without the provenance comments, which name file lines and so change with
any edit.

When a digest moves, see which layer did: run `zoo show NAME --expanded` (with the case's
`--set` arguments) before and after the change and diff the two. Regenerate with
`pytest tests/test_expanded_unchanged.py --force-regen` only for a change meant to move
layers, and say in the commit which layers moved and why.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import zoo
from zoo.cli.commands import expanded_text
from zoo.specification.provenance import ExpandedSource

# keras.applications arguments each family's model is expanded under besides its defaults;
# a case a family refuses (an input below its minimum) is left out of the pin by name below.
CASES: dict[str, dict] = {
    "headless": {"include_top": False, "pooling": "avg"},
    "odd_size": {"include_top": False, "input_shape": [97, 113, 3]},
    "channels_first": {"include_top": False, "data_format": "channels_first"},
    "classes": {"classes": 10, "classifier_activation": None},
}

# Arguments one family's rewrite most easily gets wrong: NASNet's cell count and widths, and the
# sizes EfficientNet's correct_pad reads.
FAMILY_CASES: dict[str, dict[str, dict]] = {
    "nasnet_mobile": {
        **{f"num_blocks_{n}": {"num_blocks": n} for n in range(1, 7)},
        "penultimate_filters_2016": {"penultimate_filters": 2016, "include_top": False},
        "open_size": {"include_top": False, "input_shape": [None, None, 3]},
    },
    "nasnet_large": {"num_blocks_2": {"num_blocks": 2, "include_top": False}},
    "efficientnet_b0": {
        "open_size": {"include_top": False, "input_shape": [None, None, 3]},
        "size_33": {"include_top": False, "input_shape": [33, 47, 3]},
    },
    "efficientnet_v2_s": {"open_size": {"include_top": False, "input_shape": [None, None, 3]}},
}


def layer_lines(spec: zoo.Spec) -> str:
    """The expanded layers, without the comment lines that say where each came from."""
    return "\n".join(line for line in expanded_text(spec).splitlines() if not line.lstrip().startswith("#"))


def digest(spec: zoo.Spec) -> str:
    return hashlib.sha256(layer_lines(spec).encode()).hexdigest()[:16]


def expanded_digests() -> dict[str, str]:
    out: dict[str, str] = {}
    for name in zoo.names():
        spec = zoo.spec(name)
        out[name] = digest(spec)
        if not isinstance(spec.origin, ExpandedSource):
            continue
        for case, overrides in {**CASES, **FAMILY_CASES.get(name, {})}.items():
            try:
                varied = zoo.spec(name, **overrides)
            except zoo.SpecError:  # not an argument of this family, or a size it refuses
                continue
            out[f"{name}[{case}]"] = digest(varied)
    return out


PIN = Path(__file__).parent / "pins" / "expanded.yml"


@pytest.mark.slow  # about 8 s: every family expanded under a dozen argument sets
def test_expanded_layers_unchanged(data_regression: pytest.FixtureRequest) -> None:
    data_regression.check(expanded_digests(), fullpath=PIN)  # type: ignore[attr-defined]
