"""NASNet's loops, `x, p = _normal_a_cell(x, p, ...)`, for any number of cells: zoo's family file
(specs/nasnet.yaml, its cells repeated with `outputs:` carrying both of a cell's results) against
Keras's own `NASNet()` built with the same arguments.

Each case is small (no top or a small one, a 32 to 64 pixel input, few filters), so that eight
cells per stage build in seconds; the expectation is whatever Keras builds: the same
`model.layers` (names, classes, output shapes, parameter counts, inbound layers, in order), the
same `model.to_json()` (every layer's configuration), the same weights, layer by layer, by shape.
"""

from __future__ import annotations

from typing import Any

import pytest
from keras_reference import model_differences

import zoo

SMALL = {"input_shape": (32, 32, 3), "include_top": False, "penultimate_filters": 96, "stem_block_filters": 8}

CASES: dict[str, dict[str, Any]] = {
    # one to eight cells per stage, Mobile's skip_reduction and Large's in turn
    **{
        f"num_blocks_{n}": {**SMALL, "num_blocks": n, "skip_reduction": n % 2 == 0, "filter_multiplier": 2}
        for n in range(1, 9)
    },
    # other widths: 24 * filter_multiplier ** 2 divides penultimate_filters
    "multiplier_1": {
        **SMALL,
        "input_shape": (64, 64, 3),
        "penultimate_filters": 192,
        "filter_multiplier": 1,
        "num_blocks": 3,
        "skip_reduction": True,
        "stem_block_filters": 16,
    },
    "multiplier_3": {
        **SMALL,
        "penultimate_filters": 432,  # filters 18: _adjust_block halves it (Keras cannot build 216's 9)
        "filter_multiplier": 3,
        "num_blocks": 2,
        "skip_reduction": False,
        "stem_block_filters": 12,
    },
    # an open size: _adjust_block compares only channels (stem_2's p needs no projection here)
    "open_size": {
        **SMALL,
        "input_shape": (None, None, 3),
        "num_blocks": 3,
        "skip_reduction": False,
        "filter_multiplier": 2,
        "stem_block_filters": 2,
    },
    "top_non_square": {
        **SMALL,
        "input_shape": (48, 40, 3),
        "include_top": True,
        "classes": 7,
        "num_blocks": 2,
        "skip_reduction": True,
        "filter_multiplier": 2,
    },
}


# seconds each (Keras builds a NASNet per case): CI's slow tier takes two cells per stage
# (Large's skip_reduction) and an open size (Mobile's); the other cell counts and widths are in the
# large tier (every family's expanded layers for one to six cells are pinned in the default run:
# tests/test_expanded_unchanged.py)
LARGE_CASES = set(CASES) - {"num_blocks_2", "open_size"}


def keras_nasnet(**args: Any) -> Any:
    import keras
    from keras.src.applications import nasnet

    keras.utils.clear_session()  # automatic names start from zero, as in zoo's build
    return nasnet.NASNet(weights=None, **args)


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        # five to eight cells per stage: about a thousand layers each, built twice (run with -m large)
        pytest.param(args, id=case, marks=[pytest.mark.large] if case in LARGE_CASES else [])
        for case, args in CASES.items()
    ],
)
def test_zoo_s_nasnet_is_keras_s_for_any_number_of_cells(args):
    theirs = keras_nasnet(**args)
    ours = zoo.build("nasnet_large", compile=False, weights=None, **args)  # NASNet()'s defaults but these
    assert model_differences(ours, theirs) == []
    # each layer's weights by shape (Keras's variable paths also carry its name scopes, which
    # zoo's layers do not have and no weights file reads)
    assert [[tuple(w.shape) for w in layer.weights] for layer in ours.layers] == [
        [tuple(w.shape) for w in layer.weights] for layer in theirs.layers
    ]
    assert ours.count_params() == theirs.count_params()
    cells = [layer.name for layer in theirs.layers if layer.name.startswith("normal_concat_")]
    assert len(cells) == 3 * args["num_blocks"]


def test_num_blocks_0_is_refused_in_keras_s_words():
    """Keras's NASNet() names both reduction cells reduce_0 and fails on the name used twice
    (tests/test_keras_rules.py holds Keras's own verdict); a negative count zoo refuses itself."""
    with pytest.raises(
        zoo.SpecError, match=r'The name "adjust_relu_1_reduce_0" is used 2 times in the model'
    ):
        zoo.spec("nasnet_mobile", num_blocks=0)
    with pytest.raises(zoo.SpecError, match=r'The name "reduction_conv_1_reduce_0" is used 2 times'):
        zoo.spec("nasnet_mobile", num_blocks=0, include_top=False, input_shape=[None, None, 3])
    with pytest.raises(
        zoo.SpecError, match=r"num_blocks must be a positive number .* Received: num_blocks=-1"
    ):
        zoo.spec("nasnet_mobile", num_blocks=-1)


def test_any_positive_num_blocks_expands_three_stages_of_cells():
    for n in (7, 12):
        names = [layer.name for layer in zoo.spec("nasnet_mobile", num_blocks=n).layers]
        want = [
            f"normal_concat_{k}" for k in [*range(n), *range(n + 1, 2 * n + 1), *range(2 * n + 1, 3 * n + 1)]
        ]
        assert [x for x in names if x.startswith("normal_concat_")] == want
        assert [x for x in names if x.startswith("reduction_concat_")] == [
            "reduction_concat_stem_1",
            "reduction_concat_stem_2",
            f"reduction_concat_reduce_{n}",
            f"reduction_concat_reduce_{2 * n}",
        ]
