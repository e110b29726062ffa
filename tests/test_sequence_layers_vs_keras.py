"""Property-based: recurrent, attention, embedding, lookup and audio layers, and the wrappers, against
Keras (issue 25).

Keras's answer is built here from keras.layers directly (a held layer made from its own arguments,
not through zoo's builder) and called on keras.Input in a functional model, which runs its InputSpec,
build and compute_output_spec; the formula engine's comes through zoo's validation. Where Keras
refuses, zoo must refuse with a SpecError; where it accepts, output shape, parameters and trainable
parameters must agree. A model per example costs more than compute_output_shape: half the profile's
examples, as tests/test_formula_vs_keras.py's layers judged in a model.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zoo
from zoo import arith
from zoo.specification import catalog, keras_versions

pytestmark = pytest.mark.releases

in_models = settings(max_examples=max(20, settings().max_examples // 4))


def running_keras() -> keras_versions.Version:
    import keras

    return keras_versions.parse(keras.__version__)


def keras_object(kind: str, args: dict[str, Any]) -> Any:
    """The Keras layer for ``{kind: args}``, held layers made the same way (test code, not zoo's)."""
    import keras

    made = dict(args)
    for key in ("layer", "cell", "backward_layer"):
        if key in made:
            [(inner, inner_args)] = made[key].items()
            made[key] = keras_object(inner, inner_args)
    if kind == "StackedRNNCells":
        made["cells"] = [keras_object(*next(iter(c.items()))) for c in made["cells"]]
    made = {
        k: tuple(v) if isinstance(v, list) and k in ("kernel_size", "strides", "dilation_rate") else v
        for k, v in made.items()
    }
    return getattr(keras.layers, kind)(**made)


def keras_answer(kind: str, args: dict[str, Any], shapes: list[tuple[Any, ...]]):
    """(output shape, params, trainable params) in a functional model, or None where Keras refuses."""
    import keras

    try:
        layer = keras_object(kind, args)
        inputs = [keras.Input(s) for s in shapes]
        if kind in catalog.POSITIONAL:
            out = layer(*inputs)
        else:
            out = layer(inputs if len(inputs) > 1 or kind in catalog.MERGES else inputs[0])
        keras.Model(inputs, out)
    except Exception:  # noqa: BLE001 - any refusal by Keras counts as a refusal
        return None
    # several outputs (a recurrent layer's states, a Bidirectional's two directions): each one's shape
    flat = keras.tree.flatten(out)  # a stacked cell's states are nested lists: the graph flattens them
    shape = tuple(tuple(t.shape) for t in flat) if len(flat) > 1 else tuple(flat[0].shape)
    trainable = sum(math.prod(w.shape) for w in layer.trainable_weights)
    return shape, layer.count_params(), trainable


def formula_answer(kind: str, args: dict[str, Any], shapes: list[tuple[Any, ...]], keras: str | None = None):
    """The same triple from zoo's validation and formula engine (as the running Keras, or release
    ``keras``, computes), or None on a SpecError."""
    names = [f"in{i}" for i in range(len(shapes))]
    layer_args = {**args, "inputs": names} if len(shapes) > 1 or kind in catalog.MERGES else args
    data: dict[str, Any] = {"name": "prop", "description": "property test", "layers": [{kind: layer_args}]}
    if len(shapes) > 1 or kind in catalog.MERGES:
        data["inputs"] = {n: list(s) for n, s in zip(names, shapes)}
    else:
        data["input"] = list(shapes[0])
    try:
        spec = zoo.Spec.from_dict(data)
        row = arith.summarize(spec, keras=keras or running_keras()).rows[0]
    except zoo.SpecError:
        return None
    return row.output_shape, row.params, row.trainable_params


def check(kind: str, args: dict[str, Any], *shapes: tuple[Any, ...]) -> None:
    want = keras_answer(kind, args, list(shapes))
    got = formula_answer(kind, args, list(shapes))
    strided = keras_versions.change("conv-lstm-strides-dilation")
    if (
        want is not None
        and got is None
        and kind in strided.layers
        and not strided.is_new(running_keras())
        and max(_axes(args.get("strides", 1))) > 1
        and max(_axes(args.get("dilation_rate", 1))) > 1
    ):
        # Keras before 3.14 builds it from keras.Input, and the layer fails when called: zoo refuses it
        assert fails_when_called(kind, args, shapes[0]), f"{kind}({args}) on {shapes}: Keras runs it"
        return
    if want is not None and any(0 in s for s in (want[0] if isinstance(want[0][0], tuple) else [want[0]])):
        # Deliberately stricter than Keras before 3.15 (the convolutions' empty outputs, as in
        # tests/test_formula_vs_keras.py): zoo refuses every output size below 1.
        assert got is None, f"{kind}({args}) on {shapes}: Keras gives an empty axis {want[0]}, zoo {got}"
        return
    assert got == want, f"{kind}({args}) on {shapes}: formula {got} != keras {want}"


def _axes(v: Any) -> list[int]:
    return list(v) if isinstance(v, list) else [v]


def fails_when_called(kind: str, args: dict[str, Any], shape: tuple[int, ...]) -> bool:
    import numpy as np

    try:
        keras_object(kind, args)(np.zeros((1, *shape), "float32"))
    except Exception:  # noqa: BLE001 - any failure counts
        return True
    return False


# ---------------------------------------------------------------- strategies

sequences = st.tuples(st.integers(1, 6), st.integers(1, 5))
some_shapes = st.one_of(sequences, sequences, st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple))


@st.composite
def recurrent_args(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    args: dict[str, Any] = {"units": draw(st.integers(1, 6))}
    for key in (
        "use_bias",
        "return_sequences",
        "return_state",
        "go_backwards",
        "reset_after",
        "unit_forget_bias",
    ):
        if key in catalog.LAYERS[kind].args and draw(st.booleans()):
            args[key] = draw(st.booleans())
    if draw(st.integers(0, 5)) == 0:
        args["activation"] = draw(st.sampled_from(["relu", "sigmoid", None]))
    return args


recurrent_kinds = st.sampled_from(["SimpleRNN", "LSTM", "GRU"])


@in_models
@given(recurrent_kinds, st.data(), some_shapes)
def test_recurrent(kind, data, shape):
    """SimpleRNN, LSTM and GRU (both reset_after), with and without return_sequences, on any rank."""
    check(kind, data.draw(recurrent_args(kind)), shape)


def test_lstm_s_worked_arithmetic_is_the_issue_s():
    spec = zoo.Spec.from_dict(
        {"name": "m", "description": "m", "input": [10, 3], "layers": [{"LSTM": {"units": 8}}]}
    )
    assert "params = 4 * ((input + units) * units + units) = 4 * ((3 + 8) * 8 + 8) = 384" in arith.explain(
        spec
    )


def test_gru_reset_after_both_ways_against_keras_s_count():
    for reset_after, want in ((True, 3 * ((3 + 4) * 4 + 2 * 4)), (False, 3 * ((3 + 4) * 4 + 4))):
        assert formula_answer("GRU", {"units": 4, "reset_after": reset_after}, [(5, 3)])[1] == want
        check("GRU", {"units": 4, "reset_after": reset_after}, (5, 3))


def test_return_state_gives_the_states_after_the_output():
    """Keras's LSTM with return_state: [output, h, c] (keras/src/layers/rnn/lstm_test.py's shapes)."""
    args = {"units": 2, "return_state": True, "return_sequences": True}
    want = ((None, 4, 2), (None, 2), (None, 2))
    assert keras_answer("LSTM", args, [(4, 3)])[0] == want
    assert formula_answer("LSTM", args, [(4, 3)])[0] == want


def initial_state_answers(kind: str, units: int, state_units: list[int], shape: tuple[int, int]):
    """(Keras's, zoo's) answer for ``kind`` given initial states of ``state_units`` widths: Keras's
    from ``layer(x, initial_state=[...])`` in a functional model, or None where it refuses."""
    import keras

    try:
        x = keras.Input(shape)
        states = [keras.Input((u,)) for u in state_units]
        made = getattr(keras.layers, kind)(units)
        out = made(x, initial_state=states)
        keras.Model([x, *states], out)
        want = (tuple(out.shape), made.count_params())
    except Exception:  # noqa: BLE001 - any refusal by Keras counts as a refusal
        want = None
    names = ["seq", *(f"s{j}" for j in range(len(state_units)))]
    data = {
        "name": "prop",
        "description": "initial states",
        "inputs": {"seq": list(shape), **{f"s{j}": [u] for j, u in enumerate(state_units)}},
        "layers": [{kind: {"units": units, "inputs": names}}],
    }
    try:
        row = arith.summarize(zoo.Spec.from_dict(data)).rows[0]
        got = (row.output_shape, row.params)
    except zoo.SpecError:
        got = None
    return want, got


@pytest.mark.parametrize(
    "kind, units, state_units",
    [
        ("LSTM", 3, [3, 3]),
        ("GRU", 3, [3]),
        ("SimpleRNN", 2, [2]),
        ("LSTM", 3, [3, 2]),  # a state of the wrong width
        ("GRU", 3, [4]),
    ],
)
def test_initial_states_against_keras(kind, units, state_units):
    want, got = initial_state_answers(kind, units, state_units, (5, 4))
    if any(u != units for u in state_units):
        # Deliberately stricter than Keras, which builds the graph and fails when it runs (its cell
        # multiplies the state by a (units, ...) kernel): zoo refuses the shapes up front.
        import keras
        import numpy as np

        assert got is None
        x, states = keras.Input((5, 4)), [keras.Input((u,)) for u in state_units]
        model = keras.Model([x, *states], getattr(keras.layers, kind)(units)(x, initial_state=states))
        with pytest.raises(Exception):  # noqa: B017,PT011 - any failure of Keras's run counts
            model([np.zeros((1, 5, 4), "float32"), *(np.zeros((1, u), "float32") for u in state_units)])
        return
    assert got == want


@st.composite
def cells(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["SimpleRNNCell", "LSTMCell", "GRUCell"]))
    args: dict[str, Any] = {"units": draw(st.integers(1, 5))}
    for key in ("use_bias", "reset_after"):
        if key in catalog.LAYERS[kind].args and draw(st.booleans()):
            args[key] = draw(st.booleans())
    return {kind: args}


@in_models
@given(st.data(), some_shapes)
def test_rnn_over_cells(data, shape):
    cell = data.draw(
        st.one_of(
            cells(),
            st.lists(cells(), min_size=1, max_size=3).map(lambda c: {"StackedRNNCells": {"cells": c}}),
        )
    )
    args = {
        "cell": cell,
        "return_sequences": data.draw(st.booleans()),
        "return_state": data.draw(st.booleans()),
    }
    if len(shape) != 2:
        # Deliberately stricter than Keras, whose RNN has no input spec: on (batch, time, 1, 1) a cell's
        # step runs on (batch, 1, 1) and Keras gives (None, units). zoo's RNN takes (time, features).
        assert formula_answer("RNN", args, [shape]) is None
        return
    check("RNN", args, shape)


@pytest.mark.parametrize("kind", ["SimpleRNNCell", "LSTMCell", "GRUCell"])
def test_a_cell_alone_is_refused_as_keras_refuses_it(kind):
    assert keras_answer(kind, {"units": 2}, [(4, 3)]) is None
    assert formula_answer(kind, {"units": 2}, [(4, 3)]) is None


@in_models
@given(st.integers(1, 3), st.data())
def test_conv_lstm(rank, data):
    kind = f"ConvLSTM{rank}D"
    high = {1: 9, 2: 7, 3: 5}[rank]
    grid = data.draw(st.tuples(st.integers(1, 4), *[st.integers(1, high)] * rank, st.integers(1, 3)))
    per_axis = st.one_of(st.integers(1, 3), st.lists(st.integers(1, 3), min_size=rank, max_size=rank))
    args: dict[str, Any] = {"filters": data.draw(st.integers(1, 4)), "kernel_size": data.draw(per_axis)}
    if data.draw(st.booleans()):
        args["strides"] = data.draw(per_axis)
    if data.draw(st.booleans()):
        args["dilation_rate"] = data.draw(per_axis)
    for key in ("padding", "return_sequences", "return_state", "use_bias"):
        if data.draw(st.booleans()):
            args[key] = data.draw(st.sampled_from(["valid", "same"]) if key == "padding" else st.booleans())
    if data.draw(st.booleans()):
        args["data_format"] = "channels_first"
        grid = (grid[0], grid[-1], *grid[1:-1])
    check(kind, args, grid)


def test_conv_lstm_with_strides_and_dilation_is_refused_on_every_release():
    data = {
        "name": "t",
        "description": "t",
        "input": [1, 4, 1],
        "layers": [{"ConvLSTM1D": {"filters": 1, "kernel_size": 1, "strides": 2, "dilation_rate": 2}}],
    }
    for release, words in (
        (
            "3.8.0",
            "Keras < 3.14 builds ConvLSTM1D with strides and dilation_rate both above 1, but the layer "
            "fails when called; zoo refuses it on every release, as Keras >= 3.14 does "
            "(keras-team/keras#22477)",
        ),
        ("3.13.2", "(keras-team/keras#22477)"),
        ("3.14.0", "strides > 1 together with dilation_rate > 1 is not supported by Keras"),
        ("3.15.1", "strides > 1 together with dilation_rate > 1 is not supported by Keras"),
    ):
        with pytest.raises(zoo.SpecError) as error:
            arith.summarize(zoo.Spec.from_dict(data), keras=release)
        assert words in str(error.value), release
    assert fails_when_called("ConvLSTM1D", data["layers"][0]["ConvLSTM1D"], (1, 4, 1))


@in_models
@given(st.data(), some_shapes, st.sampled_from(["concat", "sum", "mul", "ave", None]))
def test_bidirectional(data, shape, merge_mode):
    kind = data.draw(recurrent_kinds)
    forward = data.draw(recurrent_args(kind))
    args: dict[str, Any] = {"layer": {kind: forward}, "merge_mode": merge_mode}
    if data.draw(st.booleans()):  # a backward layer given: any recurrent kind of the same width
        other = data.draw(recurrent_kinds)
        backward = {**data.draw(recurrent_args(other)), "units": forward["units"], "go_backwards": True}
        for key in ("return_sequences", "return_state"):  # as Keras requires; a misfit is tested below
            backward[key] = forward.get(key, False)
        args["backward_layer"] = {other: backward}
    check("Bidirectional", args, shape)


@pytest.mark.parametrize(
    "backward, says",
    [
        ({"go_backwards": False}, "should have different `go_backwards` value"),
        ({"return_sequences": True}, 'the same value for attribute "return_sequences"'),
        ({"return_state": True}, 'the same value for attribute "return_state"'),
    ],
)
def test_a_backward_layer_keras_refuses_is_refused_in_its_words(backward, says):

    args = {
        "layer": {"LSTM": {"units": 3}},
        "backward_layer": {"LSTM": {"units": 3, "go_backwards": True, **backward}},
    }
    with pytest.raises(ValueError, match=says.replace('"', ".").replace("`", ".")):
        keras_object("Bidirectional", args)
    with pytest.raises(zoo.SpecError, match=says.replace('"', ".").replace("`", ".")):
        zoo.Spec.from_dict(
            {"name": "m", "description": "m", "input": [4, 2], "layers": [{"Bidirectional": args}]}
        )


def test_a_backward_layer_of_another_width_is_refused_where_keras_s_shape_is_not_its_run_s():
    """Keras computes a Bidirectional's shape from its forward layer alone: with a backward layer of
    another width its model says (None, 6) and its run gives (1, 7). zoo refuses the layer."""
    import keras
    import numpy as np

    args = {"layer": {"LSTM": {"units": 3}}, "backward_layer": {"GRU": {"units": 4, "go_backwards": True}}}
    x = keras.Input((4, 2))
    out = keras_object("Bidirectional", args)(x)
    assert tuple(out.shape) == (None, 6)
    assert keras.Model(x, out)(np.zeros((1, 4, 2), "float32")).shape == (1, 7)
    assert formula_answer("Bidirectional", args, [(4, 2)]) is None


def test_a_backward_layer_keeping_other_states_is_refused_with_return_state():
    """An LSTM forward and a GRU backward, states returned: Keras's model lists 2 + 2 states (the
    forward's twice) and its run gives 2 + 1. zoo refuses the layer."""
    import keras
    import numpy as np

    args = {
        "layer": {"LSTM": {"units": 3, "return_state": True}},
        "backward_layer": {"GRU": {"units": 3, "go_backwards": True, "return_state": True}},
    }
    x = keras.Input((4, 2))
    assert len(keras_object("Bidirectional", args)(x)) == 5
    assert len(keras_object("Bidirectional", args)(np.zeros((1, 4, 2), "float32"))) == 4
    assert formula_answer("Bidirectional", args, [(4, 2)]) is None


def test_bidirectional_over_conv_lstm():
    check("Bidirectional", {"layer": {"ConvLSTM2D": {"filters": 2, "kernel_size": 3}}}, (3, 6, 6, 2))


_TIME_DISTRIBUTED = st.one_of(
    st.builds(lambda u, b: {"Dense": {"units": u, "use_bias": b}}, st.integers(1, 5), st.booleans()),
    st.builds(
        lambda f, k: {"Conv1D": {"filters": f, "kernel_size": k}}, st.integers(1, 4), st.integers(1, 3)
    ),
    st.builds(
        lambda f, k: {"Conv2D": {"filters": f, "kernel_size": k}}, st.integers(1, 4), st.integers(1, 3)
    ),
    st.just({"MaxPooling2D": {}}),
    st.just({"Flatten": {}}),
    st.builds(lambda u: {"LSTM": {"units": u}}, st.integers(1, 3)),
)


@in_models
@given(_TIME_DISTRIBUTED, st.lists(st.integers(1, 6), min_size=1, max_size=4).map(tuple))
def test_time_distributed(inner, shape):
    [(kind, _)] = inner.items()
    rank = catalog.LAYERS[kind].rank
    needs = 3 if kind == "LSTM" else rank + 2 if rank else None  # time, then the held layer's input
    if needs is not None and len(shape) != needs:
        # Deliberately stricter than Keras, whose TimeDistributed gives MaxPooling2D on steps of rank 2
        # the shape (None, 1, 1, 1, 1), and an LSTM on steps of rank 4 (None, 1, 1): zoo's held layer
        # takes what it takes alone, at every step.
        assert formula_answer("TimeDistributed", {"layer": inner}, [shape]) is None
        return
    check("TimeDistributed", {"layer": inner}, shape)


@in_models
@given(st.data())
def test_spectral_normalization(data):
    inner, rank = data.draw(
        st.one_of(
            st.tuples(st.builds(lambda u: {"Dense": {"units": u}}, st.integers(1, 5)), st.integers(1, 3)),
            st.tuples(
                st.builds(lambda f: {"Conv1D": {"filters": f, "kernel_size": 1}}, st.integers(1, 4)),
                st.just(2),
            ),
            st.tuples(
                st.builds(lambda f: {"Conv2D": {"filters": f, "kernel_size": 1}}, st.integers(1, 4)),
                st.just(3),
            ),
            st.tuples(
                st.builds(lambda f: {"Conv2DTranspose": {"filters": f, "kernel_size": 2}}, st.integers(1, 4)),
                st.just(3),
            ),
            st.tuples(
                st.builds(
                    lambda v, d: {"Embedding": {"input_dim": v, "output_dim": d}},
                    st.integers(1, 9),
                    st.integers(1, 4),
                ),
                st.integers(1, 2),
            ),
        )
    )
    shape = data.draw(st.lists(st.integers(1, 6), min_size=rank, max_size=rank).map(tuple))
    args = {"layer": inner, "power_iterations": data.draw(st.integers(1, 3))}
    check("SpectralNormalization", args, shape)


def test_spectral_normalization_is_stricter_than_keras_about_its_layer_s_input():
    """Deliberately stricter than Keras: SpectralNormalization builds a Conv2DTranspose's kernel on a rank-2
    input, and Keras's model gives (None, 1); zoo refuses what the held layer alone would refuse."""
    args = {"layer": {"Conv2DTranspose": {"filters": 1, "kernel_size": 2}}}
    assert keras_answer("SpectralNormalization", args, [(1,)]) is not None
    assert formula_answer("SpectralNormalization", args, [(1,)]) is None


@in_models
@given(
    st.sampled_from(["Embedding", "ReversibleEmbedding"]),
    st.integers(1, 50),
    st.integers(1, 8),
    st.booleans(),
    st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple),
)
def test_embeddings(kind, input_dim, output_dim, tie, shape):
    args: dict[str, Any] = {"input_dim": input_dim, "output_dim": output_dim}
    if kind == "ReversibleEmbedding":
        args["tie_weights"] = tie
        introduced = keras_versions.introduced(kind)
        if introduced is not None and not introduced.is_new(running_keras()):
            assert keras_answer(kind, args, [shape]) is None and formula_answer(kind, args, [shape]) is None
            return
    check(kind, args, shape)


@in_models
@given(st.floats(-2, 2), st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple))
def test_masking(mask_value, shape):
    check("Masking", {"mask_value": mask_value}, shape)


@st.composite
def einsums(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[int, ...]]:
    """An equation in one of Keras's three forms, with an output_shape that fits most of the time."""
    form = draw(st.sampled_from(["plain", "plain", "left", "right"]))
    n_in = draw(st.integers(1, 3))  # input letters besides the batch
    letters = list("bcdefgh")
    ins = letters[:n_in]
    contracted = draw(st.lists(st.sampled_from(ins), unique=True, max_size=n_in))
    new = letters[n_in : n_in + draw(st.integers(0 if contracted else 1, 2))]
    kept = [x for x in ins if x not in contracted]
    weight = draw(st.permutations(contracted + new))
    out = draw(st.permutations(kept + new))
    sizes = {x: draw(st.integers(1, 5)) for x in letters}
    elided = draw(st.integers(1, 2))
    if form == "plain":
        equation = f"a{''.join(ins)},{''.join(weight)}->a{''.join(out)}"
        shape = tuple(sizes[x] for x in ins)
    elif form == "left":
        equation = f"...{''.join(ins)},{''.join(weight)}->...{''.join(out)}"
        shape = (*[draw(st.integers(1, 4)) for _ in range(elided - 1)], *(sizes[x] for x in ins))
    else:
        equation = f"a{''.join(ins)}...,{''.join(weight)}->a{''.join(out)}..."
        shape = (*(sizes[x] for x in ins), *[draw(st.integers(1, 4)) for _ in range(elided)])
    output_shape: list[Any] = [sizes[x] if x in new else draw(st.sampled_from([sizes[x], None])) for x in out]
    if draw(st.integers(0, 5)) == 0:  # often a size that does not fit
        output_shape = [draw(st.integers(1, 5)) for _ in range(draw(st.integers(1, 3)))]
    args: dict[str, Any] = {"equation": equation, "output_shape": output_shape or 1}
    if out and draw(st.booleans()):
        args["bias_axes"] = "".join(
            draw(st.lists(st.sampled_from(out), min_size=1, max_size=len(out), unique=True))
        )
    return args, shape


@in_models
@given(einsums())
def test_einsum_dense(case):
    args, shape = case
    out_spec = args["equation"].split("->")[1].replace("...", "")
    given = args["output_shape"] if isinstance(args["output_shape"], list) else [args["output_shape"]]
    if len(given) != len(out_spec) - (0 if args["equation"].startswith("...") else 1):
        # Deliberately stricter than Keras: an output_shape with more or fewer sizes than the equation's
        # output has letters gives Keras's model a shape its einsum does not compute; zoo refuses it.
        assert formula_answer("EinsumDense", args, [shape]) is None
        return
    check("EinsumDense", args, shape)


@pytest.mark.parametrize(
    ("args", "shape", "want"),
    [  # keras/src/layers/core/einsum_dense_test.py at v3.15.1: (equation, input, output, kernel, bias)
        ({"equation": "ab,bc->ac", "output_shape": 64, "bias_axes": None}, (32,), ((None, 64), 32 * 64)),
        ({"equation": "ab,bc->ac", "output_shape": 64, "bias_axes": "c"}, (32,), ((None, 64), 32 * 64 + 64)),
        (
            {"equation": "abc,cd->abd", "output_shape": [1, 64], "bias_axes": "d"},
            (1, 32),
            ((None, 1, 64), 32 * 64 + 64),
        ),
        (
            {"equation": "abc,cde->abde", "output_shape": [1, 4, 64], "bias_axes": "de"},
            (1, 2),
            ((None, 1, 4, 64), 2 * 4 * 64 + 4 * 64),
        ),
        (
            {"equation": "...b,bc->...c", "output_shape": 64, "bias_axes": "c"},
            (32,),
            ((None, 64), 32 * 64 + 64),
        ),
    ],
)
def test_einsum_dense_keras_s_own_cases(args, shape, want):
    got = formula_answer("EinsumDense", {k: v for k, v in args.items() if v is not None}, [shape])
    assert got[:2] == want


@st.composite
def qkv(draw: st.DrawFn, rank: st.SearchStrategy[int] | None = None) -> list[tuple[int, ...]]:
    n = 2 if rank is None else draw(rank)
    query = tuple(draw(st.integers(1, 5)) for _ in range(n))
    value = tuple(draw(st.integers(1, 5)) for _ in range(n))
    if draw(st.booleans()):
        value = (*value[:-1], query[-1])
    shapes = [query, value]
    if draw(st.booleans()):
        key_last = draw(st.sampled_from([query[-1], value[-1], draw(st.integers(1, 5))]))
        key = (
            (*value[:-1], key_last)
            if draw(st.integers(0, 4))
            else tuple(draw(st.integers(1, 5)) for _ in range(n))
        )
        shapes.append(key)
    return shapes


@in_models
@given(st.data(), qkv(st.integers(2, 3)))
def test_multi_head_attention(data, shapes):
    args: dict[str, Any] = {
        "num_heads": data.draw(st.integers(1, 3)),
        "key_dim": data.draw(st.integers(1, 4)),
    }
    if data.draw(st.booleans()):
        args["value_dim"] = data.draw(st.integers(1, 4))
    if data.draw(st.booleans()):
        args["use_bias"] = data.draw(st.booleans())
    if data.draw(st.booleans()):
        args["output_shape"] = data.draw(
            st.one_of(st.integers(1, 6), st.lists(st.integers(1, 4), min_size=1, max_size=2))
        )
    args.update(data.draw(newer_attention_args()))
    if "sliding_window" in args and len(shapes[0]) != 2:
        # Keras's model takes it and the run fails: zoo refuses (test_sliding_window_needs_sequences)
        assert formula_answer("MultiHeadAttention", args, shapes) is None
        return
    check("MultiHeadAttention", args, *shapes)


@st.composite
def newer_attention_args(draw: st.DrawFn) -> dict[str, Any]:
    """use_gate (Keras >= 3.14: parameters) and sliding_window (>= 3.15: none), which an older release
    refuses; flash_attention False or None (the TensorFlow backend refuses True when the layer is
    called; with dropout every backend refuses it, in the constructor)."""
    args: dict[str, Any] = {}
    if draw(st.booleans()):  # given only where true: Keras < 3.14 refuses the argument at all
        args["use_gate"] = True
    if draw(st.integers(0, 3)) == 0:
        args["sliding_window"] = draw(st.integers(1, 4))
    if draw(st.integers(0, 3)) == 0:
        args["flash_attention"] = draw(st.sampled_from([None, False]))
    return args


@in_models
@given(st.data(), qkv())
def test_group_query_attention(data, shapes):
    args = {
        "head_dim": data.draw(st.integers(1, 4)),
        "num_query_heads": data.draw(st.sampled_from([1, 2, 4, 6])),
        "num_key_value_heads": data.draw(st.sampled_from([1, 2, 3])),
        "use_bias": data.draw(st.booleans()),
        **data.draw(newer_attention_args()),
    }
    check("GroupQueryAttention", args, *shapes)


def run_answer(kind: str, args: dict[str, Any], shapes: list[tuple[int, ...]]) -> Any:
    """Keras's model for the layer, and the layer run on ones (batch 2): (output shape, params,
    trainable params) where both succeed, else None. Keras's model takes any attention_axes (its
    output shape is the query's) and the run fails where the axes cannot pair query and value."""
    import warnings

    import numpy as np

    try:
        layer = keras_object(kind, args)
        with warnings.catch_warnings():  # a softmax over one key step: Keras warns, and runs
            warnings.simplefilter("ignore", UserWarning)
            out = layer(*[np.ones((2, *s), "float32") for s in shapes])
    except Exception:  # noqa: BLE001 - any refusal by Keras counts
        return None
    want = ((None, *out.shape[1:]), layer.count_params(), layer.count_params())
    assert keras_answer(kind, args, shapes) == want
    return want


@settings(max_examples=max(8, settings().max_examples // 16))  # a model and a run per example
@given(st.data(), st.lists(st.integers(1, 4), min_size=3, max_size=3).map(tuple))
def test_multi_head_attention_over_given_axes(data, query):
    axes = data.draw(st.lists(st.integers(1, 2), min_size=1, max_size=2, unique=True))
    # the value: the query's sizes or others on each axis, its own features
    value = tuple(data.draw(st.sampled_from([q, q % 4 + 1])) for q in query[:-1]) + (
        data.draw(st.integers(1, 4)),
    )
    args = {
        "num_heads": data.draw(st.integers(1, 2)),
        "key_dim": data.draw(st.integers(1, 3)),
        "attention_axes": axes,
    }
    shapes = [query, value]
    want = run_answer("MultiHeadAttention", args, shapes)
    assert formula_answer("MultiHeadAttention", args, shapes) == want, f"{args} on {shapes}"


def test_attention_axes_count_each_query_position_against_its_own_slice_of_the_value():
    """Query (2, 3, 4), value (2, 5, 6), attention over axis 2 (counted from the batch): each of the
    2*3 query positions scores the 5 value positions of its own row, not all 2*5. Two heads of
    key_dim 3 (value_dim 3): projections 6*4*6 + 10*6*6 + 10*6*6 + 6*6*4 = 1,008; scores and the
    weighted sum 6*5*2*(3 + 3) = 360; over every axis (the default), 6*10*2*(3 + 3) = 720."""

    def macs(**more: Any) -> int:
        layer = {"num_heads": 2, "key_dim": 3, "inputs": ["q", "v"], **more}
        data = {"name": "t", "description": "t", "inputs": {"q": [2, 3, 4], "v": [2, 5, 6]}}
        return (
            arith.summarize(zoo.Spec.from_dict({**data, "layers": [{"MultiHeadAttention": layer}]}))
            .rows[0]
            .macs
        )

    assert macs(attention_axes=2) == 1_008 + 360
    assert macs() == macs(attention_axes=[1, 2]) == 1_008 + 720


@pytest.mark.parametrize("axes", [0, [3], [-1], [1, 1]])
def test_attention_axes_are_between_the_batch_and_the_features(axes):
    """Deliberately stricter than Keras, whose model takes any axes and whose run takes the batch's
    and the features' (attention over them means nothing) and gives a negative axis another meaning
    from 3.12 (keras-team/keras#21721)."""
    args = {"num_heads": 1, "key_dim": 2, "attention_axes": axes}
    assert formula_answer("MultiHeadAttention", args, [(2, 3, 4), (2, 3, 4)]) is None


def test_sliding_window_needs_sequences():
    """Keras's model takes a sliding_window over (2, 3, 4) inputs, and the layer fails when it runs
    (its mask is (1, T_q, T_v)); zoo refuses it."""
    if not keras_versions.change("attention-sliding-window").is_new(running_keras()):
        pytest.skip("Keras < 3.15 has no sliding_window (tests/test_keras_versions.py)")
    args = {"num_heads": 1, "key_dim": 2, "sliding_window": 2}
    assert keras_answer("MultiHeadAttention", args, [(2, 3, 4), (2, 3, 4)]) is not None
    assert run_answer("MultiHeadAttention", {**args}, [(2, 3, 4), (2, 3, 4)]) is None
    assert formula_answer("MultiHeadAttention", args, [(2, 3, 4), (2, 3, 4)]) is None
    assert formula_answer("MultiHeadAttention", args, [(3, 4), (5, 4)]) == run_answer(
        "MultiHeadAttention", args, [(3, 4), (5, 4)]
    )


def test_flash_attention_passes_through_and_refuses_dropout_as_keras_does():
    args = {"num_heads": 2, "key_dim": 3}
    plain = formula_answer("MultiHeadAttention", args, [(5, 4), (6, 4)])
    assert formula_answer("MultiHeadAttention", {**args, "flash_attention": True}, [(5, 4), (6, 4)]) == plain
    assert (
        keras_answer("MultiHeadAttention", {**args, "flash_attention": True, "dropout": 0.1}, [(5, 4)])
        is None
    )
    for kind, more in (
        ("MultiHeadAttention", args),
        ("GroupQueryAttention", {"head_dim": 3, "num_query_heads": 2, "num_key_value_heads": 1}),
    ):
        assert (
            formula_answer(kind, {**more, "flash_attention": True, "dropout": 0.1}, [(5, 4), (6, 4)]) is None
        )


@in_models
@given(st.sampled_from(["Attention", "AdditiveAttention"]), st.booleans(), st.data(), qkv())
def test_attention(kind, use_scale, data, shapes):
    """Keras's model takes any shapes here (compute_output_spec checks only that there are 2 or 3 inputs)
    and fails when it runs: Keras's answer is the layer run on ones (batch 2), whose shape the model
    also gives where the run succeeds."""
    import warnings

    import numpy as np

    args: dict[str, Any] = {"use_scale": use_scale}
    if kind == "Attention":
        args["score_mode"] = data.draw(st.sampled_from(["dot", "concat"]))
    try:
        layer = keras_object(kind, args)
        with warnings.catch_warnings():  # a softmax over one key step: Keras warns, and runs
            warnings.simplefilter("ignore", UserWarning)
            out = layer([np.ones((2, *s), "float32") for s in shapes])
        want = ((None, *out.shape[1:]), layer.count_params(), layer.count_params())
        assert keras_answer(kind, args, shapes) == want
    except Exception:  # noqa: BLE001 - any refusal by Keras counts
        want = None
    assert formula_answer(kind, args, shapes) == want, f"{kind}({args}) on {shapes}"


@in_models
@given(
    st.integers(1, 9),
    st.sampled_from(["one_hot", "multi_hot", "count"]),
    st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
)
def test_category_encoding(num_tokens, output_mode, shape):
    check("CategoryEncoding", {"num_tokens": num_tokens, "output_mode": output_mode}, shape)


@in_models
@given(st.data(), st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple))
def test_lookups(data, shape):
    kind = data.draw(st.sampled_from(["Discretization", "Hashing", "IntegerLookup"]))
    if kind == "Discretization":
        args: dict[str, Any] = {
            "bin_boundaries": sorted(
                data.draw(st.lists(st.floats(-5, 5), min_size=1, max_size=6, unique=True))
            )
        }
    elif kind == "Hashing":
        args = {"num_bins": data.draw(st.integers(1, 20))}
        if data.draw(st.booleans()):
            args["salt"] = data.draw(st.integers(0, 1000))
        if data.draw(st.booleans()):
            args["mask_value"] = data.draw(st.integers(-3, 3))
    else:
        # -1 is the OOV token: Keras drops a leading run of special tokens and refuses them elsewhere
        vocabulary = data.draw(st.lists(st.integers(-1, 2000), min_size=1, max_size=8, unique=True))
        if data.draw(st.booleans()):
            vocabulary = [-1, *(t for t in vocabulary if t != -1)]
        args = {"vocabulary": vocabulary}
        if data.draw(st.booleans()):
            args["num_oov_indices"] = data.draw(st.integers(0, 3))
        if data.draw(st.booleans()):
            args["invert"] = data.draw(st.booleans())
        if data.draw(st.booleans()):
            args["mask_token"] = data.draw(st.sampled_from([0, 7, 2001]))
            if data.draw(st.booleans()):
                args["vocabulary"] = [args["mask_token"], *args["vocabulary"]]
    args["output_mode"] = data.draw(st.sampled_from(["int", "one_hot", "multi_hot", "count"]))
    check(kind, args, shape)


@in_models
@given(st.integers(1, 5), st.data())
def test_hashed_crossing(num_bins, data):
    first = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=2).map(tuple))
    second = data.draw(
        st.one_of(st.just(first), st.lists(st.integers(1, 4), min_size=1, max_size=2).map(tuple))
    )
    mode = data.draw(st.sampled_from(["int", "one_hot", "multi_hot"]))  # multi_hot: Keras refuses it
    check("HashedCrossing", {"num_bins": num_bins, "output_mode": mode}, first, second)


@pytest.mark.parametrize("kind", ["Attention", "AdditiveAttention", "GroupQueryAttention"])
def test_attention_takes_sequences_only(kind):
    """Deliberately stricter than Keras, which runs these on (batch, features) or (batch, a, time,
    features) where the sizes happen to broadcast: zoo takes (batch, time, features)."""
    args = (
        {"head_dim": 1, "num_query_heads": 1, "num_key_value_heads": 1}
        if kind == "GroupQueryAttention"
        else {}
    )
    for shape in ((2,), (1, 1, 2)):
        assert formula_answer(kind, args, [shape, shape]) is None
    assert formula_answer(kind, args, [(1, 2), (1, 2)]) is not None


@pytest.mark.parametrize(
    "kind",
    [
        "StringLookup",
        "TextVectorization",
        "Lambda",
        "TFSMLayer",
        "JaxLayer",
        "FlaxLayer",
        "TorchModuleWrapper",
    ],
)
def test_a_refused_layer_is_refused_with_its_reason(kind):
    with pytest.raises(zoo.SpecError, match=f"zoo refuses {kind}: "):
        zoo.Spec.from_dict({"name": "m", "description": "m", "input": [4], "layers": [{kind: {}}]})


@in_models
@given(st.integers(8, 600), st.integers(1, 3), st.data())
def test_spectrograms(samples, channels, data):
    mel: dict[str, Any] = {
        "fft_length": data.draw(st.sampled_from([64, 128, 256])),
        "sequence_stride": data.draw(st.integers(1, 100)),
        "num_mel_bins": data.draw(st.integers(1, 40)),
    }
    check("MelSpectrogram", mel, (samples,))
    stft: dict[str, Any] = {
        "frame_length": data.draw(st.integers(4, 64)),
        "mode": data.draw(st.sampled_from(["log", "magnitude", "psd", "real", "imag", "angle", "stft"])),
        "padding": data.draw(st.sampled_from(["valid", "same"])),
        "expand_dims": data.draw(st.booleans()),
    }
    if data.draw(st.booleans()):
        stft["frame_step"] = data.draw(st.integers(1, 64))
    if data.draw(st.booleans()):
        stft["fft_length"] = data.draw(st.sampled_from([32, 64, 128]))
    shape: tuple[int, ...] = (samples, channels)
    if data.draw(st.booleans()):
        stft["data_format"] = "channels_first"
        shape = (channels, samples)
    check("STFTSpectrogram", stft, shape)


# ---------------------------------------------------------------- seeded weights and inputs


@pytest.mark.backend
def test_seeding_tells_a_bidirectional_s_directions_and_attention_s_projections_apart():
    import keras
    import numpy as np

    from zoo.keras import builder, seeding

    spec = zoo.Spec.from_dict(
        {
            "name": "seeds",
            "description": "seeds",
            "input": [5, 4],
            "model": "functional",
            "layers": [
                {"Bidirectional": {"layer": {"LSTM": {"units": 4, "return_sequences": True}}}},
                {
                    "MultiHeadAttention": {
                        "num_heads": 2,
                        "key_dim": 4,
                        "inputs": ["bidirectional", "bidirectional"],
                    }
                },
            ],
        }
    )
    model = builder.build(spec, compile=False, seeded=True)
    both = model.get_layer("bidirectional")
    forward, backward = (
        keras.ops.convert_to_numpy(x.cell.kernel) for x in (both.forward_layer, both.backward_layer)
    )
    assert forward.shape == backward.shape and not np.allclose(forward, backward)
    attention = model.get_layer("multi_head_attention")
    kernels = [keras.ops.convert_to_numpy(w) for w in attention.weights if w.path.endswith("kernel")]
    assert len(kernels) == 4 and not np.allclose(kernels[0], kernels[1])
    # a weight right under its layer keeps its bare name, so no existing fingerprint changes
    names = [seeding._weight_name(w, "multi_head_attention") for w in attention.weights]
    assert names[:2] == ["query/kernel", "query/bias"]


@pytest.mark.backend
def test_an_embedding_s_fingerprint_input_is_token_ids():
    import numpy as np

    from zoo.keras import builder, fingerprint

    model = builder.architecture(zoo.spec("text_cnn"))
    x = fingerprint.inputs_for(model, "text_cnn", (40,))
    assert x.shape == (2, 40) and x.min() >= 0 and x.max() < 500 and np.array_equal(x, np.round(x))
    plain = builder.architecture(zoo.spec("conv1d_lstm"))
    assert fingerprint.inputs_for(plain, "conv1d_lstm", (64, 3)).min() < 0  # standard normal, as ever


def test_mel_spectrogram_follows_keras_s_shape_rule_which_its_run_does_not_always():
    """Keras's compute_output_shape gives (n + s + 1) // s frames, its run 1 + n // s: 11 and 10 for 99
    samples every 10. zoo follows the model's (and summary's) shape; a Keras that fixes its rule fails
    here, and the difference becomes a KerasChange."""
    import numpy as np

    args = {"fft_length": 64, "sequence_stride": 10, "num_mel_bins": 8}
    assert formula_answer("MelSpectrogram", args, [(99,)])[0] == (None, 8, 11)
    assert keras_answer("MelSpectrogram", args, [(99,)])[0] == (None, 8, 11)
    assert keras_object("MelSpectrogram", args)(np.zeros((1, 99), "float32")).shape == (1, 8, 10)
