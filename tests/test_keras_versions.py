"""Keras's changes between releases, each side of each: the formula engine computes as the release
it is given, the running Keras is on the side the version data says, and the messages name the
release and Keras's reference.

The expectations for the side the running Keras is not on come from Keras itself at those releases:
its source at the release tags (quoted where a message is compared) and the runs recorded in each
change's ``verified`` (every supported release pair, ``tools/matrix.py``). CI runs this file on the
oldest supported pair too, where the other side is the running one.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_formula_vs_keras import keras_answer, keras_model_answer

import zoo
from zoo import arith
from zoo.specification import keras_versions
from zoo.specification.keras_versions import change, parse

pytestmark = pytest.mark.releases

REFUSED = "refused"

# change id -> (layer, arguments, input shape, the old side's answer, the new side's answer);
# an answer is (output shape, params, trainable params) or REFUSED
EXAMPLES: dict[str, tuple[str, dict[str, Any], tuple[int, ...], Any, Any]] = {
    # out = floor((9 - 2*(3 - 1) - 1) / 2) + 1 = 3; params (3*3 + 1) * 3
    "depthwise-separable-strides-dilation": (
        "DepthwiseConv2D",
        {"kernel_size": 3, "strides": 2, "dilation_rate": 2},
        (9, 9, 3),
        REFUSED,
        ((None, 3, 3, 3), 30, 30),
    ),
    # out = (4 - 1)*2 + 3 - 0 + 0 = 9; params (3*3*1 + 1) * 2
    "conv-transpose-output-padding-zero": (
        "Conv2DTranspose",
        {"filters": 2, "kernel_size": 3, "strides": 2, "output_padding": 0},
        (4, 4, 1),
        REFUSED,
        ((None, 9, 9, 2), 20, 20),
    ),
    "normalization-given-stats-other-axis": (
        "Normalization",
        {"axis": 1, "mean": [0.5] * 3, "variance": [2.0] * 3},
        (3, 4),
        REFUSED,
        ((None, 3, 4), 0, 0),
    ),
    # Keras 3.11's compute_output_shape: the scalar offset's length, 1, becomes the last axis
    "rescaling-per-channel-shape": (
        "Rescaling",
        {"scale": [0.1, 0.2, 0.3]},
        (8, 8, 3),
        ((None, 8, 8, 3), 0, 0),
        ((None, 8, 8, 1), 0, 0),
    ),
    "activation-sparse-sigmoid": (
        "Activation",
        {"activation": "sparse_sigmoid"},
        (4,),
        REFUSED,
        ((None, 4), 0, 0),
    ),
    # layers newer than the oldest supported release: one scale per feature, 4
    "layer-rms-normalization": ("RMSNormalization", {}, (3, 4), REFUSED, ((None, 3, 4), 4, 4)),
    # one row of output_dim numbers per id: 10 * 4 (tie_weights: the reverse call uses their transpose)
    "layer-reversible-embedding": (
        "ReversibleEmbedding",
        {"input_dim": 10, "output_dim": 4},
        (5,),
        REFUSED,
        ((None, 5, 4), 40, 40),
    ),
    "layer-adaptive-pooling": (
        "AdaptiveAveragePooling2D",
        {"output_size": 2},
        (5, 5, 3),
        REFUSED,
        ((None, 2, 2, 3), 0, 0),
    ),
    **{
        f"layer-{cid}": (kind, {}, (8, 8, 3), REFUSED, ((None, 8, 8, 3), 0, 0))
        for cid, kind in (
            ("aug-mix", "AugMix"),
            ("cut-mix", "CutMix"),
            ("random-invert", "RandomInvert"),
            ("random-erasing", "RandomErasing"),
            ("random-gaussian-blur", "RandomGaussianBlur"),
            ("random-perspective", "RandomPerspective"),
            ("random-elastic-transform", "RandomElasticTransform"),
            ("clahe", "ContrastLimitedAdaptiveHistogramEqualization"),
        )
    },
    "random-grayscale-in-a-model": ("RandomGrayscale", {}, (8, 8, 3), REFUSED, ((None, 8, 8, 3), 0, 0)),
    "random-color-degeneration-channels": (
        "RandomColorDegeneration",
        {"factor": 0.2},
        (8, 8, 1),
        ((None, 8, 8, 1), 0, 0),
        REFUSED,
    ),
    # depth = 3 boundaries + 1 = 4; Keras 3.14's multi_hot drops the first axis after the batch
    "discretization-encoded-shape": (
        "Discretization",
        {"bin_boundaries": [0.0, 1.0, 2.0], "output_mode": "multi_hot"},
        (2, 3),
        ((None, 2, 3), 0, 0),
        ((None, 3, 4), 0, 0),
    ),
    # depth = 3 tokens + 1 OOV index = 4; before 3.14, (batch, depth) whatever the input
    "integer-lookup-encoded-shape": (
        "IntegerLookup",
        {"vocabulary": [3, 4, 5], "output_mode": "one_hot"},
        (2, 3),
        ((None, 4), 0, 0),
        ((None, 2, 3, 4), 0, 0),
    ),
}
# the changes Keras shows only in a model (the layer called on a keras.Input), not in
# compute_output_shape and build alone
IN_A_MODEL = {
    "random-grayscale-in-a-model",
    "random-color-degeneration-channels",
    "discretization-encoded-shape",
    "integer-lookup-encoded-shape",
}


def formula(kind: str, args: dict[str, Any], shape: tuple[int, ...], keras: str) -> Any:
    data = {"name": "t", "description": "t", "input": list(shape), "layers": [{kind: args}]}
    try:
        row = arith.summarize(zoo.Spec.from_dict(data), keras=keras).rows[0]
    except zoo.SpecError:
        return REFUSED
    return row.output_shape, row.params, row.trainable_params


def before(version: str) -> str:
    """The last supported release before ``version`` (a minor's .0): 3.15.0 -> 3.14.99."""
    major, minor, _ = parse(version)
    return f"{major}.{minor - 1}.99"


def test_every_change_with_an_engine_effect_has_an_example():
    engine = {c.id for c in keras_versions.CHANGES if c.effect_old or c.effect_new}
    # Keras builds these before the change and fails when it runs them: zoo refuses on both sides (their
    # tests: tests/test_formula_vs_keras.py's check and tests/test_sequence_layers_vs_keras.py's)
    built_but_failing = {"conv-transpose-output-padding-ge-strides", "conv-lstm-strides-dilation"}
    assert engine - built_but_failing == set(EXAMPLES) | set(TWO_INPUTS)


@pytest.mark.parametrize("cid", sorted(EXAMPLES))
def test_the_formula_engine_computes_each_side(cid):
    c = change(cid)
    kind, args, shape, old, new = EXAMPLES[cid]
    assert formula(kind, args, shape, before(c.since)) == old
    assert formula(kind, args, shape, c.since) == new
    assert formula(kind, args, shape, keras_versions.OLDEST[0]) == (new if c.is_new(parse("3.8.0")) else old)
    if c.until is not None:
        assert formula(kind, args, shape, before(c.until)) == new
        assert formula(kind, args, shape, c.until) == old


@pytest.mark.parametrize("cid", sorted(EXAMPLES))
def test_the_running_keras_is_on_the_side_the_data_says(cid):
    """Keras itself decides: its answer for the example is the answer of the side it is on."""
    import keras

    kind, args, shape, old, new = EXAMPLES[cid]
    side = new if change(cid).is_new(parse(keras.__version__)) else old
    got = keras_model_answer(kind, args, [shape]) if cid in IN_A_MODEL else keras_answer(kind, args, shape)
    assert (REFUSED if got is None else got) == side
    assert formula(kind, args, shape, keras.__version__) == side


def test_a_refusal_names_the_releases_and_keras_s_reference():
    kind, args, shape, _, _ = EXAMPLES["depthwise-separable-strides-dilation"]
    data = {"name": "t", "description": "t", "input": list(shape), "layers": [{kind: args}]}
    with pytest.raises(zoo.SpecError) as caught:
        arith.summarize(zoo.Spec.from_dict(data), keras="3.14.1")
    assert (
        "Keras < 3.15 refuses DepthwiseConv2D with strides and dilation_rate both above 1 "
        "(keras-team/keras#22598)" in str(caught.value)
    )
    kind, args, shape, _, _ = EXAMPLES["activation-sparse-sigmoid"]
    data = {"name": "t", "description": "t", "input": list(shape), "layers": [{kind: args}]}
    with pytest.raises(
        zoo.SpecError, match=r"Keras < 3\.10 has no activation 'sparse_sigmoid' \(keras-team/keras#21175\)"
    ):
        arith.summarize(zoo.Spec.from_dict(data), keras="3.9.2")


def test_output_padding_at_least_strides_is_refused_on_every_release_saying_why():
    """Keras < 3.14 builds it and fails when the layer is called (keras-team/keras#22130); 3.14 refuses
    it with '`output_padding` must be strictly less than `strides`'. zoo refuses it on both sides."""
    args = {"filters": 1, "kernel_size": 3, "strides": 2, "output_padding": 2}
    data = {"name": "t", "description": "t", "input": [5, 1], "layers": [{"Conv1DTranspose": args}]}
    with pytest.raises(zoo.SpecError, match=r"Keras < 3\.14 builds Conv1DTranspose .* fails when called"):
        arith.summarize(zoo.Spec.from_dict(data), keras="3.13.2")
    with pytest.raises(zoo.SpecError, match="output_padding must be strictly less than strides"):
        arith.summarize(zoo.Spec.from_dict(data), keras="3.14.0")


def test_a_layer_that_depends_on_a_change_carries_it_in_its_row_on_both_sides():
    kind, args, shape, _, _ = EXAMPLES["rescaling-per-channel-shape"]
    data = {"name": "t", "description": "t", "input": list(shape), "layers": [{kind: args}]}
    for release in ("3.10.0", "3.11.3", "3.15.1"):
        row = arith.summarize(zoo.Spec.from_dict(data), keras=release).rows[0]
        assert row.keras_changes == ("rescaling-per-channel-shape",)
    plain = {"name": "t", "description": "t", "input": [8, 8, 3], "layers": [{"Rescaling": {"scale": 0.5}}]}
    assert arith.summarize(zoo.Spec.from_dict(plain)).rows[0].keras_changes == ()


def test_releases_are_worded_as_a_maintainer_reads_them():
    lifted, reverted = change("depthwise-separable-strides-dilation"), change("rescaling-per-channel-shape")
    assert lifted.releases(parse("3.14.1")) == "< 3.15" and lifted.releases(parse("3.15.0")) == ">= 3.15"
    assert reverted.releases(parse("3.11.3")) == "3.11"
    assert reverted.releases(parse("3.12.0")) == "< 3.11 or >= 3.12"


def test_the_differences_of_each_release_from_the_newest():
    """What tools/matrix.py lists per release pair (docs/compatibility.md)."""
    assert [c.id for c in keras_versions.differences(parse("3.15.1"))] == []
    on_3_11 = {c.id for c in keras_versions.differences(parse("3.11.3"))}
    assert "rescaling-per-channel-shape" in on_3_11 and "conv-transpose-output-padding-zero" not in on_3_11
    on_3_8 = {c.id for c in keras_versions.differences(parse("3.8.0"))}
    assert on_3_8 == {c.id for c in keras_versions.CHANGES} - {"rescaling-per-channel-shape"}


@pytest.mark.parametrize("given", ["3.x", "three", "", "3.11.3.4"])
def test_a_version_that_is_not_one_is_refused(given):
    with pytest.raises(ValueError, match="not a Keras version"):
        parse(given)


def test_a_release_older_than_the_oldest_supported_is_refused_by_the_facade():
    with pytest.raises(zoo.SpecError, match=r"from Keras 3\.8\.0 on\. Received: keras_version='3\.7'"):
        zoo.summary("conv2d", engine="formula", keras_version="3.7")
    assert parse("3.11.3rc1") == (3, 11, 3) and parse("3.9") == (3, 9, 0)


def test_zoo_summary_follows_the_installed_keras_by_default(monkeypatch):
    """Without a version the facade reads the installed Keras's from its package metadata (it does
    not import Keras); the engine then computes as that release."""
    seen = []
    monkeypatch.setattr(keras_versions, "installed", lambda: "3.11.3")
    real = arith.summarize
    monkeypatch.setattr(arith, "summarize", lambda spec, **kw: seen.append(kw["keras"]) or real(spec, **kw))
    zoo.summary("conv2d", engine="formula")
    assert seen == ["3.11.3"]


def test_one_statistic_on_another_axis_builds_on_every_release():
    """Keras < 3.14 broadcasts the statistics right-aligned: one value fits any axis (seen on 3.8.0)."""
    args, shape = {"axis": 1, "mean": [0.5], "variance": [2.0]}, (1, 4)
    for release in ("3.8.0", "3.13.2", "3.15.1"):
        assert formula("Normalization", args, shape, release) == ((None, 1, 4), 0, 0)
    assert keras_answer("Normalization", args, shape) == ((None, 1, 4), 0, 0)


# changes to layers called on several inputs (query, value): (layer, arguments, shapes, old, new)
TWO_INPUTS: dict[str, tuple[str, dict[str, Any], list[tuple[int, ...]], Any, Any]] = {
    # MultiHeadAttention(2, 3) on (5, 4), (6, 4): 118 (tests/test_formula.py's count), and the gate
    # 2*3*(4 + 1) = 30
    "attention-use-gate": (
        "MultiHeadAttention",
        {"num_heads": 2, "key_dim": 3, "use_gate": True},
        [(5, 4), (6, 4)],
        REFUSED,
        ((None, 5, 4), 148, 148),
    ),
    # GroupQueryAttention: 4*3*5 + 2*3*5 + 2*3*5 + (4*3*4 + 4) = 172 (no weights for the mask)
    "attention-sliding-window": (
        "GroupQueryAttention",
        {"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2, "sliding_window": 2},
        [(5, 4), (6, 4)],
        REFUSED,
        ((None, 5, 4), 172, 172),
    ),
}


@pytest.mark.parametrize("cid", sorted(TWO_INPUTS))
def test_each_side_of_a_change_to_a_layer_of_several_inputs(cid):
    """The engine on each side, and the running Keras on the side the data says."""
    import keras
    from test_sequence_layers_vs_keras import formula_answer as computed
    from test_sequence_layers_vs_keras import keras_answer as called

    c = change(cid)
    kind, args, shapes, old, new = TWO_INPUTS[cid]

    def on(version: str) -> Any:
        found = computed(kind, args, shapes, keras=version)
        return REFUSED if found is None else found

    assert on(before(c.since)) == old
    assert on(c.since) == new
    side = new if c.is_new(parse(keras.__version__)) else old
    got = called(kind, args, shapes)
    assert (REFUSED if got is None else got) == side
    assert on(keras.__version__) == side
