"""The engine: every layer of a spec computed in order, into a :class:`~zoo.arith.summary.Summary`.

This package must never import TensorFlow or Keras, nor ask them for an answer: it is the
independent witness that makes the golden summaries trustworthy. A layer's arithmetic is its
kind's rule (:mod:`zoo.arith.rules`); the rules that compute other layers are here: a nested
Sequential (its layers in a chain) and a pretrained base (its own family file's spec, which
arrives with its layer: ``Layer.base``). Every path computes receptive fields with one
recurrence (:mod:`zoo.arith.receptive`).

Conventions: MACs are multiply-accumulates for one sample in the layers that have weights
(convolutions, dense); bias additions, pooling, normalisation and activations count 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zoo.arith import rules
from zoo.arith.receptive import Field
from zoo.arith.rules import MERGE_RULES, RULES, Rule
from zoo.arith.step import UNKNOWN, GeometryError, Shape, Step, needs_rank, shown, size_or_none
from zoo.arith.summary import Row, Summary
from zoo.specification import keras_versions
from zoo.specification.catalog import CALL, MODEL_INPUT, OPAQUE, by_ref, ref_of, split_ref
from zoo.specification.errors import SpecError
from zoo.specification.keras_versions import Version
from zoo.specification.model import Layer, Spec

NEWEST = keras_versions.parse(keras_versions.NEWEST[0])


def compute(layer: Layer, shapes: Sequence[Shape], keras: Version = NEWEST) -> Step:
    """One layer's Step from its inputs' shapes: its kind's rule on its resolved arguments, as the
    Keras release ``keras`` computes it (the changes in :mod:`zoo.specification.keras_versions`).

    A layer with ``data_format: channels_first`` holds its channels before its spatial axes; its
    rule is the channels_last one, applied to the shape with the channels moved last, and its
    output moved back (a pretrained base computes in its own family file's format instead).
    """
    kind, a = layer.catalog, layer.resolved()
    if kind.rule in MERGE_RULES:
        merge = MERGE_RULES[kind.rule]
        return released(kind.class_name, lambda _s, a, r: merge(shapes, a, r), shapes[0], a, kind.rank, keras)
    if kind.rule == "application":
        return application(layer, shapes[0], keras)
    if kind.rule == "group":
        return graph_group(shapes[0], a, keras) if layer.kind == "Functional" else group(shapes[0], a, keras)
    if kind.rule in WRAPPERS:
        return initial_states(wrapper(layer, shapes, keras), shapes)
    shape = shapes[0]
    # ConvLSTM's time axis stays first in either format: its rule reads the format itself
    first = a.get("data_format") == "channels_first" and kind.rule != "conv_lstm"
    try:
        rule = kind.compute if kind.rule == "extension" and kind.compute is not None else RULES[kind.rule]
        step = released(
            kind.class_name, rule, (*shape[1:], shape[0]) if first else shape, a, kind.rank, keras
        )
    except GeometryError as exc:  # show the input as the layer sees it
        if first and "input_shape" in exc.received:
            exc.received["input_shape"] = shown(shape)
        raise
    if (
        first and len(step.shape) == len(shape) and len(shape) > 1
    ):  # the spatial axes remain: channels first again
        step.shape = (step.shape[-1], *step.shape[:-1])
    return initial_states(step, shapes)


def initial_states(step: Step, shapes: Sequence[Shape]) -> Step:
    """A recurrent layer given initial states after its sequence (Keras's ``initial_state``): each
    must have the shape of the state it starts."""
    for j, (given, state) in enumerate(zip(shapes[1:], step.states)):
        if tuple(size_or_none(d) for d in given) != tuple(size_or_none(d) for d in state):
            raise GeometryError(
                f"initial state {j} has shape {shown(given)}, but the layer's state {j} is {shown(state)}",
                input_shape=tuple(shown(s) for s in shapes),
            )
    return step


def released(kind: str, rule: Rule, shape: Shape, a: dict[str, Any], rank: int, keras: Version) -> Step:
    """``rule`` on one layer, with the side of each of Keras's changes that release ``keras`` is on:
    a refusal named with the releases and Keras's reference, or the release's own shape rule. The
    step records every change the layer depends on, whichever side (``Step.changes``)."""
    changes = keras_versions.touching(kind, a, shape)
    for c in changes:
        if c.effect(keras) == "refuse":
            raise GeometryError(c.message(kind, keras), input_shape=shown(shape))
    step = rule(shape, a, rank)
    for c in changes:
        if c.effect(keras) == "shape" and c.shape_rule is not None:
            step.shape = c.shape_rule(a, shape)
            step.work = [
                f"out = {shown(step.shape)} (Keras {c.releases(keras)}'s own rule for this layer, "
                f"{c.refs[0]}: {c.condition})",
                *step.work[1:],
            ]
    step.changes = tuple(c.id for c in changes)
    return step


def layer_step(spec: Spec, layer: Layer, shapes: Sequence[Shape], keras: Version = NEWEST) -> Step:
    """One layer's Step from its inputs' shapes, or the SpecError Keras would have raised, worded."""
    try:
        return compute(layer, shapes, keras)
    except GeometryError as exc:
        raise spec.error(layer, exc.what, **exc.received) from None


def application(layer: Layer, shape: Shape, keras: Version) -> Step:
    """A keras.applications base as one layer, computed from zoo's own family spec of it.

    No architecture is described twice: the base's rows are those of its family file
    (``specs/resnet.yaml`` for ResNet50) expanded without the top, at this layer's input shape.
    """
    a = layer.resolved()
    needs_rank(shape, layer.catalog.rank)
    try:
        base = layer.base(shown(shape)[1:])
        trains = base.fine_tuned(a["trainable_from"])
    except SpecError as exc:
        raise GeometryError(f"{layer.kind}: {exc.reason}", input_shape=(None, *shape)) from None
    computed = steps(base, keras)
    inner = [(layer.name, step) for layer, _, step in computed]
    summary = summarize(base, computed)
    last = summary.rows[-1]
    if a["trainable_from"] is not None and not a["trainable"]:
        raise GeometryError(
            "trainable_from unfreezes part of the base, so the base cannot be trainable: false",
            trainable_from=a["trainable_from"],
        )
    non_trainable = summary.non_trainable_params
    if trains is not None:  # fine-tuning: only the layers from trainable_from on train, BN never
        non_trainable = summary.total_params - sum(
            r.trainable_params for r in summary.rows if r.name in trains
        )
    window: list[tuple[int, int]] | str = "flat"
    if last.receptive_field is not None and last.effective_stride is not None:
        window = [(int(r), int(j)) for r, j in zip(last.receptive_field, last.effective_stride)]
    return Step(
        shape=tuple(UNKNOWN if d is None else d for d in last.output_shape[1:]),
        params=summary.total_params,
        macs=UNKNOWN if summary.macs is None else summary.macs,
        non_trainable=non_trainable,
        window=window,
        inner=inner,
        work=[
            f"out = {last.output_shape[1:]} (zoo model {base.name!r}, {len(base.layers)} layers)",
            f"params = {summary.total_params:,} (the sum of its layers)"
            + (
                ""
                if trains is None
                else f"; {summary.total_params - non_trainable:,} of them train, from "
                f"{a['trainable_from']} on (BatchNormalization layers stay frozen)"
            ),
        ],
    )


def group(shape: Shape, a: dict[str, Any], keras: Version) -> Step:
    """A nested keras.Sequential: its layers in a chain, one row with their totals."""
    inner: list[tuple[str, Step]] = []
    current = shape
    for layer in a["layers"]:
        try:
            step = compute(layer, [current], keras)
        except GeometryError as exc:
            raise GeometryError(f"{layer.name}: {exc.what}", **exc.received) from None
        inner.append((layer.name, step))
        current = step.shape
    params = sum(s.params for _, s in inner)
    return Step(
        shape=current,
        params=params,
        macs=sum((s.macs for _, s in inner), start=0),
        non_trainable=sum(s.non_trainable for _, s in inner),
        inner=inner,
        sequence=True,
        work=[
            f"out = {shown(current)} after {len(inner)} layers",
            f"params = {params:,} (the sum of its layers)",
        ],
    )


def graph_group(shape: Shape, a: dict[str, Any], keras: Version) -> Step:
    """A nested functional model: its layers over its one input, each on the shapes of the layers it
    takes; one row with their totals, ending at its ``output`` (default: its last layer)."""
    shapes: dict[str, Shape] = {MODEL_INPUT: shape}
    inner: list[tuple[str, Step]] = []
    for layer in a["layers"]:
        try:
            step = compute(layer, [shapes[name] for name in layer.inputs], keras)
        except GeometryError as exc:
            raise GeometryError(f"{layer.name}: {exc.what}", **exc.received) from None
        inner.append((layer.name, step))
        shapes.update(by_ref(layer.name, step.outputs))
    output = a.get("output") or inner[-1][0]
    params = sum(s.params for _, s in inner)
    return Step(
        shape=shapes[output],
        params=params,
        macs=sum((s.macs for _, s in inner), start=0),
        non_trainable=sum(s.non_trainable for _, s in inner),
        inner=inner,
        graph={layer.name: layer.inputs for layer in a["layers"]},
        output=output,
        work=[
            f"out = {shown(shapes[output])} at {output}, after {len(inner)} layers",
            f"params = {params:,} (the sum of its layers)",
        ],
    )


WRAPPERS = ("rnn", "bidirectional", "time_distributed", "spectral_norm")


def wrapper(layer: Layer, shapes: Sequence[Shape], keras: Version) -> Step:
    """A layer that holds another (Bidirectional, TimeDistributed, SpectralNormalization) or a cell
    (RNN): the held layer computed by its own rule, on what the wrapper gives it (its first input;
    a recurrent one's others are initial states)."""
    shape = shapes[0]
    a, rule = layer.resolved(), layer.catalog.rule
    if rule == "rnn":
        held = a["cell"]
        cells = held.args["cells"] if held.kind == "StackedRNNCells" else (held,)
        return rules.rnn(shape, a, 0, [(rules.CELL_RULES[c.kind], c.resolved()) for c in cells])
    inner: Layer = a["layer"]
    try:
        if rule == "time_distributed":
            if len(shape) < 2:
                raise GeometryError(
                    f"needs input of rank >= 3 (batch, time, ...), but the layer before gives rank "
                    f"{len(shape) + 1}",
                    input_shape=shown(shape),
                )
            return rules.time_distributed(shape, compute(inner, [shape[1:]], keras))
        step = compute(inner, [shape], keras)
    except GeometryError as exc:
        raise GeometryError(f"{inner.kind} in {layer.kind}: {exc.what}", **exc.received) from None
    if rule == "bidirectional":
        if inner.resolved()["go_backwards"]:
            raise GeometryError(
                "the layer Bidirectional holds must run forward (go_backwards: false): Bidirectional "
                "makes the backward copy itself",
                go_backwards=True,
            )
        backward: Layer | None = a.get("backward_layer")
        back = None
        if backward is not None:
            try:
                back = compute(backward, [shape], keras)
            except GeometryError as exc:
                raise GeometryError(
                    f"{backward.kind} in Bidirectional's backward_layer: {exc.what}", **exc.received
                ) from None
        merged = rules.bidirectional(step, a, back)
        half = len(merged.states) // 2
        if len(shapes) > 1 and merged.states[:half] != merged.states[half:]:
            raise GeometryError(  # Keras gives each direction half of the initial states
                "initial states for a Bidirectional whose directions keep different states: Keras "
                "gives each direction half of them",
                input_shape=tuple(shown(s) for s in shapes),
            )
        return merged
    held_args = inner.resolved()
    if inner.catalog.rule == "conv_transpose":  # its kernel is (*k, filters, c_in)
        kernel_out = shape[0] if held_args["data_format"] == "channels_first" else shape[-1]
    else:
        kernel_out = held_args.get("units") or held_args.get("filters") or held_args["output_dim"]
    return rules.spectral_norm(step, kernel_out)


def release(keras: str | Sequence[int] | None) -> Version:
    """The Keras release the engine computes as: a version given by the caller, or the newest
    supported release (the one the goldens were made on)."""
    return NEWEST if keras is None else keras_versions.parse(keras)


def steps(spec: Spec, keras: str | Sequence[int] | None = None) -> list[tuple[Layer, list[Shape], Step]]:
    """Every layer with its inputs' shapes and its Step, in definition order, as Keras ``keras``
    (a version such as ``"3.11.3"``; the newest supported when ``None``) computes them."""
    version = release(keras)
    shapes: dict[str, Shape] = {
        name: tuple(UNKNOWN if d is None else d for d in shape) for name, shape in spec.inputs
    }
    out = []
    first: dict[str, tuple[Layer, Step]] = {}
    for layer in spec.layers:
        taken = [shapes[name] for name in layer.inputs]
        if layer.kind == CALL:
            step = call_step(spec, layer, first[layer.args["layer"]], taken, version)
        else:
            step = layer_step(spec, layer, taken, version)
            first[layer.name] = (layer, step)
        shapes.update(by_ref(layer.name, step.outputs))
        out.append((layer, taken, step))
    return out


def call_step(
    spec: Spec, call: Layer, called: tuple[Layer, Step], shapes: Sequence[Shape], keras: Version
) -> Step:
    """A layer called again: its rule on the new inputs, its weights those of its first call (they
    must fit: the same parameters), counted there; the work this call does is its own."""
    layer, made = called
    try:
        step = compute(layer, shapes, keras)
    except GeometryError as exc:
        raise spec.error(call, f"calling {layer.name} here: {exc.what}", **exc.received) from None
    if step.params != made.params:
        raise spec.error(
            call,
            f"{layer.name}'s weights ({made.params:,} parameters) were made for its first inputs; on these "
            f"it would need {step.params:,}",
            input_shape=tuple(shown(s) for s in shapes),
        )
    step.work = [*step.work[:1], f"params = 0 (the weights of {layer.name}, counted there)"]
    step.params, step.non_trainable = 0, 0
    return step


def summarize(
    spec: Spec,
    computed: list[tuple[Layer, list[Shape], Step]] | None = None,
    keras: str | Sequence[int] | None = None,
) -> Summary:
    """The spec's summary, computed without Keras (from ``computed``, its :func:`steps`, when given;
    as Keras release ``keras`` computes it, see :func:`steps`)."""
    computed = steps(spec, keras) if computed is None else computed
    fields = receptive_fields(spec, computed)
    rows = []
    # a layer called again: one row, as Keras lists it, taking every call's inputs and doing its work
    calls: dict[str, list[tuple[Layer, Step]]] = {}
    for layer, _, step in computed:
        if layer.kind == CALL:
            calls.setdefault(layer.args["layer"], []).append((layer, step))
    called = {c.name: name for name, made in calls.items() for c, _ in made}

    def keras_names(refs: Sequence[str]) -> list[str]:
        """Inputs as Keras names them: a call's output is its layer's, the model's input its own, a
        first output its layer's name alone."""
        named = [split_ref(ref) for ref in refs]
        return [ref_of(spec.keras_input_name(called.get(n, n)), k) for n, k in named]

    for layer, _, step in computed:
        if layer.kind == CALL:
            continue
        rf, stride = fields[layer.name].values()
        trainable = layer.resolved()["trainable"]
        again = calls.get(layer.name, [])
        each = dict.fromkeys(tuple(keras_names(x.inputs)) for x in (layer, *(c for c, _ in again)))
        taken = tuple(n for call in each for n in call)  # each call's inputs, as Keras lists them
        macs = step.macs
        for _, other in again:  # each call does the work again
            macs = macs + other.macs
        rows.append(
            Row(
                name=layer.name,
                type=layer.class_name,
                output_shape=tuple(shown(s) for s in step.outputs) if step.more else shown(step.shape),
                params=step.params,
                trainable=trainable,
                trainable_params=step.params - step.non_trainable if trainable else 0,
                connected_to=taken,
                macs=size_or_none(macs),
                receptive_field=rf,
                effective_stride=stride,
                keras_changes=step.changes,
                unchecked=layer.kind == OPAQUE,
            )
        )
    return Summary.from_rows(spec.name, rows)


def receptive_fields(spec: Spec, computed: list[tuple[Layer, list[Shape], Step]]) -> dict[str, Field]:
    """Every layer's (and every call's) receptive field and effective stride, by name."""
    fields = {name: Field.of_input(len(shape) - 1) for name, shape in spec.inputs}
    for layer, _, step in computed:
        field = Field.merge([fields[name] for name in layer.inputs]).after(step)
        fields.update(dict.fromkeys(by_ref(layer.name, step.outputs), field))
    return fields


def explain(spec: Spec, keras: str | Sequence[int] | None = None) -> str:
    """The arithmetic of every layer with the numbers filled in, as the tutorial works it."""
    lines = [f"{spec.name}: {spec.description}"]
    if spec.named_inputs:
        lines += [f"input {name}: {(None, *shape)}" for name, shape in spec.named_inputs]
    else:
        lines.append(f"input: {(None, *spec.input)}")
    computed = steps(spec, keras)
    summary = summarize(spec, computed)
    fields = receptive_fields(spec, computed)
    gridless = {layer.name for layer, _, _ in computed if fields[layer.name].values()[0] is None}
    for layer, _, step in computed:
        receptive_field, effective_stride = fields[layer.name].values()
        takes = "" if spec.is_chain else f" [from {', '.join(layer.inputs)}]"
        lines.append(f"{layer.name}{takes}: {'; '.join(step.work)}")
        pooled = [n for n in layer.inputs if n in gridless]
        if len(layer.inputs) > 1 and pooled and receptive_field is not None:
            lines.append(
                f"    ({', '.join(pooled)} was pooled over the whole grid: as in google-research's "
                "receptive-field library, that branch does not widen the receptive field)"
            )
        for name, inner in step.inner:
            took = f" [from {', '.join(step.graph[name])}]" if step.graph is not None else ""
            lines.append(f"    {name}{took}: {'; '.join(inner.work)}")
        extra = (
            f"outputs {', '.join(f'{ref_of(layer.name, k)} {shown(s)}' for k, s in enumerate(step.outputs))}"
            if step.more
            else f"output {(None, *step.shape)}"
        )
        if size_or_none(step.macs) is None:  # the input's size is open
            extra += ", MACs open (they grow with the open size)"
        elif step.macs:
            extra += f", MACs {step.macs:,}"
        if receptive_field is not None:
            rf = "x".join(map(str, receptive_field))
            stride = "x".join(map(str, effective_stride or ()))
            extra += f", receptive field {rf}, effective stride {stride}"
        lines.append(f"    -> {extra}")
    lines.append(
        f"total params = {summary.total_params:,} "
        f"(trainable {summary.trainable_params:,}, non-trainable {summary.non_trainable_params:,})"
    )
    return "\n".join(lines) + "\n"
