"""Import: a Keras model as a zoo spec, the inverse of :mod:`zoo.keras.builder`.

:func:`from_keras` reads a built model (a Sequential chain, or a functional graph with one input
and one output) layer by layer: each layer's class names its catalogue entry and its ``get_config()``
gives the arguments, those Keras would use anyway left out. A nested Sequential becomes a nested
group; a keras.applications model inside becomes a base layer (``- ResNet50: {...}``), recognised by
its layers, not by its name. The spec is then built again and compared with the model
(:func:`same_model`: the layers, ``to_json()``, the weights loaded by order, the outputs on one
input); an import that does not rebuild the same model is a :class:`SpecError` naming the layer and
the difference, never a spec.

:func:`load` opens a model file (``.keras``, a legacy ``.h5`` model, or a ``model.to_json()`` file)
in Keras's safe mode: a ``Lambda`` layer (arbitrary code) is refused.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from zoo import arith
from zoo.arith.summary import differences
from zoo.keras import builder, compare, introspect, recognition
from zoo.specification import catalog
from zoo.specification.errors import Source, SpecError, did_you_mean
from zoo.specification.files import MODEL_FILES
from zoo.specification.model import Spec, base_spec

# Keys of get_config() that are not arguments a spec writes (set apart, or the same for every layer)
_NOT_ARGUMENTS = {"name", "trainable", "dtype", "inputs"}
FILE_TYPES = MODEL_FILES


def load(path: str | Path) -> Any:
    """The Keras model in a ``.keras`` file, a legacy ``.h5`` model file, or a ``to_json()`` file."""
    keras = builder.import_keras()
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"{path}: no such file (zoo import reads {', '.join(FILE_TYPES)} model files)")
    suffix = path.suffix.lower()
    if suffix not in FILE_TYPES:
        raise SpecError(
            f"{path}: not a Keras model file zoo reads. Received: {suffix or 'no suffix'}; "
            f"valid: {', '.join(FILE_TYPES)}"
        )
    try:
        if suffix == ".json":
            text = path.read_text(encoding="utf-8")
            _refuse_lambda(text, path)
            return keras.models.model_from_json(text)
        if suffix in (".h5", ".hdf5"):
            _refuse_lambda_h5(path)
            return keras.saving.load_model(path, compile=False)
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except SpecError:
        raise
    except Exception as exc:  # Keras's own words: an unknown class, a damaged file, Lambda code
        raise SpecError(f"{path}: Keras could not load this model: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) < 400 else text[:400] + " ..."


_LAMBDA = "zoo refuses Lambda layers, as Keras's safe mode does: their code runs when the model loads"


def _refuse_lambda(text: str, path: Path) -> None:
    if re.search(r'"class_name":\s*"Lambda"', text):
        raise SpecError(f"{path}: the model has a Lambda layer (arbitrary Python code); {_LAMBDA}")


def _refuse_lambda_h5(path: Path) -> None:
    import h5py

    with h5py.File(path, "r") as f:
        config = f.attrs.get("model_config")
    if config is not None:
        _refuse_lambda(config.decode("utf-8") if isinstance(config, bytes) else str(config), path)


def _classes(keras: Any) -> dict[Any, str]:
    """Keras class -> catalogue kind, for every kind a spec can name (aliases share a class)."""
    out: dict[Any, str] = {}
    for kind in catalog.LAYERS.values():
        if kind.rule == "application":
            continue
        try:
            cls = builder.layer_class(keras, kind)
        except (AttributeError, ImportError):  # a kind this Keras does not have
            continue
        out.setdefault(cls, kind.name)
    return out


def _spec_name(name: str) -> str:
    cleaned = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
    return cleaned if cleaned and cleaned[0].isalpha() else f"model_{cleaned}".rstrip("_")


CHECKS = ("full", "layers")


def from_keras(
    model: Any,
    *,
    name: str | None = None,
    description: str | None = None,
    opaque: bool = False,
    check: str = "full",
    blocks: bool = False,
) -> Spec:
    """The spec that builds ``model``, checked before it is returned.
    ``opaque``: a keras.layers class the catalogue does not know becomes an ``Opaque`` layer (its
    configuration, and the output shape and parameters Keras gives it here, unchecked by the formula
    engine) instead of an error.
    ``check``: ``"full"`` builds the spec's model and compares it with ``model`` (:func:`same_model`:
    layers, ``to_json``, weights by order, outputs on one input; as long again as Keras's loading);
    ``"layers"`` compares, without building a model, every layer's Keras configuration and the
    formula engine's rows with ``model``'s own (:func:`same_layers`: classes, names, what each takes,
    shapes, parameters), which is what a summary of the file needs.
    ``blocks``: written with its repeated blocks (:mod:`zoo.keras.recognition`), checked by
    building it again (:func:`same_model`) whatever ``check`` says."""
    keras = builder.import_keras()
    if not isinstance(model, keras.Model):
        raise SpecError(f"zoo.from_keras takes a keras.Model. Received: {type(model).__name__}")
    if check not in CHECKS:
        raise SpecError(f"check: {check!r} is not one of {', '.join(map(repr, CHECKS))}")
    data = spec_data(model, name=name, description=description, opaque=opaque)
    spec = Spec.from_dict(data, label=f"<import of {model.name}>")
    problems = same_model(spec, model) if check == "full" else same_layers(spec, model)
    if problems:
        raise SpecError(
            f"the spec imported from {model.name!r} does not rebuild the same model:\n  "
            + "\n  ".join(problems)
        )
    if blocks:
        return recognition.with_blocks(spec, data, model, same_model)
    return spec


def spec_data(
    model: Any,
    *,
    name: str | None = None,
    description: str | None = None,
    opaque: bool = False,
    every_name: bool = False,
) -> dict[str, Any]:
    """The plain data of the spec that builds ``model`` (not yet checked by building it)."""
    keras = builder.import_keras()
    inputs, outputs = list(model.inputs or ()), list(model.outputs or ())
    if not inputs or not outputs:
        raise SpecError(f"model {model.name!r} is not built: it has no inputs or outputs yet")
    classes = _classes(keras)
    input_layers = [t._keras_history[0] for t in inputs]
    several = len(inputs) > 1
    # one input is called `input` in the spec's inputs: lists; several are called by their names
    refer = {layer.name: (layer.name if several else catalog.MODEL_INPUT) for layer in input_layers}
    layers = [op for op in _operations(model) if op not in input_layers]
    data_format = _data_format(layers)
    functional = not isinstance(model, keras.Sequential)
    # each tensor of the graph by the name a spec's inputs: lists give it
    produced = {id(t): refer[layer.name] for layer, t in zip(input_layers, inputs)}
    entries, named = [], []
    for op, node, call in (
        _calls_in_order(model, layers, produced) if functional else ((op, None, 1) for op in layers)
    ):
        taken = [produced[id(t)] for t in node.input_tensors] if node is not None else None
        if call == 1:
            entries.append(_entry(keras, classes, model, op, taken, data_format, opaque, node))
            named.append(op.name)
        else:  # the same layer again, its weights shared: a Call
            entries.append(
                {catalog.CALL: {"name": f"{op.name}_call{call}", "layer": op.name, "inputs": taken}}
            )
            named.append(f"{op.name}_call{call}")
        if node is not None:  # a layer's k-th output is name:k (an LSTM's states with return_state)
            for k, t in enumerate(node.output_tensors):
                produced[id(t)] = catalog.ref_of(named[-1], k)
    out: dict[str, Any] = {
        "name": _spec_name(name or model.name),
        "description": description or f"Imported from the Keras model {model.name!r}.",
    }
    if several:
        out["inputs"] = {layer.name: _shape(t) for layer, t in zip(input_layers, inputs)}
    else:
        out["input"] = _shape(inputs[0])
        if not re.fullmatch(r"input_layer(_\d+)?", input_layers[0].name):  # a name Keras did not generate
            out["input_name"] = input_layers[0].name
        if inputs[0].dtype != "float32":  # token ids
            out["input_dtype"] = str(inputs[0].dtype)
    ends = [produced.get(id(t), t._keras_history[0].name) for t in outputs]
    if len(ends) > 1 or ends[0] != named[-1]:
        out["outputs"] = ends
    out["model"] = "sequential" if isinstance(model, keras.Sequential) else "functional"
    if data_format != "channels_last":
        out["data_format"] = data_format
    auto, previous = catalog.AutoNames(), refer[input_layers[0].name]
    for entry, own in zip(entries, named):
        [(kind, args)] = entry.items()
        if args.get("inputs") == [previous] and kind not in catalog.MERGES | catalog.OPS:
            del args["inputs"]  # the layer before: a spec's default
        previous = own
        if "name" in args and not every_name and auto.implied(kind, args["name"]):  # a fresh session's
            del args["name"]
    out["layers"] = entries
    return out


def _calls_in_order(model: Any, layers: list[Any], produced: Mapping[int, str]) -> list[tuple[Any, Any, int]]:
    """(layer, node, which call) for every call of every layer in the model's graph, in an order where
    each call's inputs come before it: the layers in Keras's order, a layer's later calls as soon as
    their inputs are there."""
    graph = [n for level in model._nodes_by_depth.values() for n in level]
    ids = {id(n) for n in graph}
    waiting = []
    for op in layers:
        nodes = [n for n in op._inbound_nodes if id(n) in ids]
        waiting += [(op, n, k) for k, n in enumerate(nodes, start=1)]
    have = set(produced)
    out: list[tuple[Any, Any, int]] = []
    while waiting:
        ready = next(
            (
                i
                for i, (op, node, k) in enumerate(waiting)
                if all(id(t) in have for t in node.input_tensors)
                and (k == 1 or any(o is op for o, _, _ in out))
            ),
            None,
        )
        if ready is None:
            raise SpecError(f"model {model.name!r}: its graph has calls whose inputs no layer makes")
        op, node, k = waiting.pop(ready)
        out.append((op, node, k))
        have.update(id(t) for t in node.output_tensors)
    return out


def _shape(tensor: Any) -> list[int | None]:
    return [None if d is None else int(d) for d in tensor.shape[1:]]


def _operations(model: Any) -> list[Any]:
    """The model's layers and operations (``x + y``), in Keras's order."""
    return list(getattr(model, "operations", None) or model.layers)


def _data_format(layers: list[Any]) -> str:
    for layer in layers:
        config = layer.get_config() if hasattr(layer, "get_config") else {}
        if config.get("data_format") in catalog.DATA_FORMATS:
            return str(config["data_format"])
    return "channels_last"


def _entry(
    keras: Any,
    classes: Mapping[Any, str],
    model: Any,
    op: Any,
    taken: list[str] | None,
    data_format: str,
    opaque: bool = False,
    node: Any = None,
) -> dict[str, Any]:
    """One layer of the spec: ``{Kind: {arguments}}``; ``taken``: what its (first) call takes."""
    where = f"layer {op.name!r} of model {model.name!r}"
    if isinstance(op, keras.Sequential):
        inner = [_inner(keras, classes, layer, where, data_format) for layer in op.layers]
        entry: dict[str, Any] = {"Sequential": {"name": op.name, "layers": inner}}
    elif isinstance(op, keras.Model):
        entry = _nested_model(op, where, data_format, opaque)
    elif opaque and type(op) not in classes and _is_keras_layer(keras, op):
        entry = {catalog.OPAQUE: _opaque(keras, op)}
    else:
        kind = _kind(classes, op, where)
        entry = {kind: _arguments(keras, classes, op, kind, data_format)}
        entry[next(iter(entry))]["name"] = op.name
        if next(iter(entry)) in catalog.OPS and node is not None:  # x + 3.0: the number is the operand
            numbers = [
                a for a in node.arguments.args if isinstance(a, (int, float)) and not isinstance(a, bool)
            ]
            if numbers:
                entry[next(iter(entry))]["operand"] = numbers[0]
    [(kind, args)] = entry.items()
    if not getattr(op, "trainable", True):
        args["trainable"] = False
    if taken is not None:
        args["inputs"] = taken
    return entry


def _is_keras_layer(keras: Any, op: Any) -> bool:
    """Whether ``op`` is an instance of a class keras.layers exports (a user's class is not)."""
    return getattr(keras.layers, type(op).__name__, None) is type(op) and type(op).__name__ != "Lambda"


def _opaque(keras: Any, op: Any) -> dict[str, Any]:
    """An unknown keras.layers layer as it stands: its config, its output shape and parameters."""
    import json

    config = json.loads(json.dumps(keras.saving.serialize_keras_object(op)["config"]))
    config.pop("name", None)
    # what Keras would use anyway is left out, as for catalogued layers
    config = _fewest(config, list(config), lambda given: type(op).from_config({**given, "name": "probe"}))
    non_trainable = sum(int(np.prod(w.shape)) for w in op.non_trainable_weights)
    shape = [None if d is None else int(d) for d in op.output.shape[1:]]
    out: dict[str, Any] = {"name": op.name, "class_name": type(op).__name__}
    if config:
        out["config"] = config
    out["output_shape"] = shape
    out["params"] = int(op.count_params())
    if non_trainable:
        out["non_trainable_params"] = non_trainable
    return out


def _kind(classes: Mapping[Any, str], op: Any, where: str) -> str:
    kind = classes.get(type(op))
    if kind is not None:
        return kind
    cls = type(op).__name__
    if cls == "Lambda":
        raise SpecError(f"{where} is a Lambda layer (arbitrary Python code); {_LAMBDA}")
    if cls in catalog.REFUSED:  # a keras.layers class whose results do not follow from its configuration
        raise SpecError(f"{where} is a {cls} layer, which zoo refuses: {catalog.REFUSED[cls]}")
    raise SpecError(
        f"{where}: zoo's catalogue has no layer class {cls}{did_you_mean(cls, catalog.LAYERS)}. "
        "Two ways forward: `zoo import --opaque` (zoo.from_keras(model, opaque=True)) keeps a keras.layers "
        "class with the output shape and parameters Keras gives it, marked unchecked in every summary, "
        "golden and diagram; or a catalogue entry with its arithmetic (see docs/extending.md)"
    )


def _inner(
    keras: Any, classes: Mapping[Any, str], layer: Any, where: str, data_format: str
) -> dict[str, Any]:
    """A layer of a nested Sequential (named always, as zoo's nested groups are)."""
    if isinstance(layer, keras.Model):
        raise SpecError(f"{where}: a nested Sequential holds plain layers; {layer.name!r} is a model")
    kind = _kind(classes, layer, where)
    args = {"name": layer.name, **_arguments(keras, classes, layer, kind, data_format)}
    if not layer.trainable:
        args["trainable"] = False
    return {kind: args}


def _arguments(
    keras: Any, classes: Mapping[Any, str], layer: Any, kind_name: str, data_format: str
) -> dict[str, Any]:
    """The catalogue arguments of ``layer`` that differ from what Keras would use anyway."""
    kind = catalog.LAYERS[kind_name]
    if kind.rule == "op":
        return {}
    config = layer.get_config()
    if kind_name == "MultiHeadAttention":
        config = _attention_axes(layer, config)
    defaults = catalog.resolve(kind, {"data_format": data_format} if "data_format" in kind.args else {})
    out: dict[str, Any] = {}
    held_key = catalog.WRAPPED[kind_name][0] if kind_name in catalog.WRAPPED else None
    if held_key is not None:  # the layer (or cells) it holds, each as a spec's layer
        out[held_key] = _held(keras, classes, layer, kind_name, held_key, data_format)
    if kind_name == "Bidirectional" and not _default_backward(layer):
        name = layer.backward_layer.name
        out["backward_layer"] = _held_entry(keras, classes, layer.backward_layer, name, layer, data_format)
    for key in kind.args:
        if key in _NOT_ARGUMENTS or key not in config or key in catalog.held_keys(kind_name):
            continue
        value = _spec_value(keras, config[key])
        ctx = catalog.Ctx(Source(), (key,), kind.rank)
        try:
            meant = kind.args[key].check(value, ctx)
        except SpecError:
            if not (isinstance(value, list) and len(value) == 1):
                out[key] = value  # the spec's validation names it, with the layer's place
                continue
            value = value[0]  # Keras keeps some one-value arguments as a tuple (Normalization's axis)
            try:
                meant = kind.args[key].check(value, ctx)
            except SpecError:
                out[key] = [value]
                continue
        if meant != defaults.get(key, catalog.REQUIRED):
            out[key] = value
    return _without_keras_defaults(keras, kind, out)


def _attention_axes(layer: Any, config: dict[str, Any]) -> dict[str, Any]:
    """A built MultiHeadAttention's config names the axes Keras chose (every axis between the batch
    and the features, where none were given; from 3.12 a negative axis counted from the batch): the
    default is left out, as a spec writes it. The query's rank is its projection's equation's."""
    axes, query = config.get("attention_axes"), getattr(layer, "_query_dense", None)
    if axes is None or query is None:
        return config
    rank = len(query.equation.split(",")[0])  # the query's, with the batch
    if tuple(axes) == tuple(range(1, rank - 1)):
        return {**config, "attention_axes": None}
    return config


def _held(
    keras: Any, classes: Mapping[Any, str], wrapper: Any, kind_name: str, key: str, data_format: str
) -> Any:
    """What a wrapper holds, as a spec writes it: ``{LSTM: {units: 8}}`` (a list for StackedRNNCells'
    cells). Keras keeps a Bidirectional's layer as its forward copy, ``forward_`` before its name."""
    if kind_name == "Bidirectional":
        held, name = wrapper.forward_layer, wrapper.forward_layer.name.removeprefix("forward_")
    else:
        held = getattr(wrapper, key)
        name = None
    if isinstance(held, (list, tuple)):
        return [_held_entry(keras, classes, x, None, wrapper, data_format) for x in held]
    return _held_entry(keras, classes, held, name, wrapper, data_format)


def _held_entry(
    keras: Any, classes: Mapping[Any, str], obj: Any, name: str | None, wrapper: Any, data_format: str
) -> dict[str, Any]:
    """One held layer as a spec writes it, its name left out where validation gives it anyway."""
    kind = _kind(classes, obj, f"the layer {wrapper.name!r} holds")
    args = _arguments(keras, classes, obj, kind, data_format)
    name = name or obj.name
    if name != catalog.default_name(kind):  # the name a spec's held layer gets without one
        args = {"name": name, **args}
    return {kind: args}


def _default_backward(wrapper: Any) -> bool:
    """Whether a Bidirectional's backward layer is the copy Keras makes of its layer (no
    backward_layer given): the forward layer's config, going backwards, named backward_..."""
    forward, backward = wrapper.forward_layer, wrapper.backward_layer
    made = {
        **forward.get_config(),
        "go_backwards": not forward.go_backwards,
        "name": "backward_" + forward.name.removeprefix("forward_"),
    }
    return type(forward) is type(backward) and backward.get_config() == made


def _without_keras_defaults(keras: Any, kind: catalog.LayerKind, args: dict[str, Any]) -> dict[str, Any]:
    """Leave out an argument whose value is what Keras uses without it (``activation: linear``,
    where the catalogue's default is None): the layer's config is the same either way."""
    key = (kind.name, json.dumps(args, sort_keys=True, default=repr))
    if key not in _FEWEST:  # a model repeats its configurations: NASNetLarge's 1,040 layers have 89
        cls = builder.layer_class(keras, kind)
        optional = [k for k in args if kind.args[k].default is not catalog.REQUIRED]
        _FEWEST[key] = list(_fewest(args, optional, lambda given: cls(name="probe", **_keras_values(given))))
    return {k: v for k, v in args.items() if k in _FEWEST[key]}


# (kind, arguments) -> the argument names a spec must say; the same for every model of one Keras
_FEWEST: dict[tuple[str, str], list[str]] = {}


def _fewest(args: dict[str, Any], keys: list[str], make: Any) -> dict[str, Any]:
    """``args`` without each of ``keys`` whose absence leaves the layer ``make(args)`` gives with the
    same configuration (its name aside): what a spec need not say."""

    def config(given: dict[str, Any]) -> dict[str, Any] | None:
        try:
            made = make(given)
        except (TypeError, ValueError, KeyError):
            return None
        return {k: v for k, v in made.get_config().items() if k != "name"}

    whole = config(args)
    if whole is None:
        return args
    for key in keys:
        fewer = {k: v for k, v in args.items() if k != key}
        if config(fewer) == whole:
            args = fewer
    return args


def _keras_values(args: Mapping[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in args.items()}


def _spec_value(keras: Any, value: Any) -> Any:
    """A get_config() value as a spec writes it: tuples as lists, initializers by name."""
    if isinstance(value, dict) and "class_name" in value and "config" in value:
        return _initializer(keras, value)
    if isinstance(value, (list, tuple)):
        return [_spec_value(keras, v) for v in value]
    return value


def _initializer(keras: Any, value: Mapping[str, Any]) -> Any:
    """``glorot_uniform`` where the configuration is that name's; ``{class_name, config}`` otherwise."""
    class_name, config = value["class_name"], dict(value.get("config") or {})
    for name in catalog.INITIALIZERS:
        try:
            plain = keras.initializers.get(name)
        except ValueError:
            continue
        if type(plain).__name__ == class_name and plain.get_config() == config:
            return name
    return {"class_name": class_name, "config": config}


def _nested_model(model: Any, where: str, data_format: str, opaque: bool) -> dict[str, Any]:
    """A functional model used as a layer: a keras.applications base where its layers are one's
    (:func:`recognise_application`), else a ``Functional`` group of its own layers, each named."""
    found = recognise_application(model, data_format)
    if found is not None:
        return _application(model, where, data_format, found)
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise SpecError(
            f"{where} is a nested functional model with {len(model.inputs)} inputs and "
            f"{len(model.outputs)} outputs; zoo nests models of one input and one output"
        )
    inner = spec_data(model, opaque=opaque, every_name=True)
    args: dict[str, Any] = {"name": model.name}
    if "input_name" in inner:
        args["input_name"] = inner["input_name"]
    args["layers"] = inner["layers"]
    if "outputs" in inner:
        args["output"] = inner["outputs"][0]
    for entry in inner["layers"]:
        [(kind, _)] = entry.items()
        if kind in (catalog.CALL, catalog.OPAQUE, *catalog.GROUPS, *catalog.APPLICATIONS):
            raise SpecError(
                f"{where}: a nested functional model holds plain layers and merges in zoo; "
                f"it has a {kind} inside"
            )
    return {"Functional": args}


def _application(model: Any, where: str, data_format: str, found: tuple[str, str | None]) -> dict[str, Any]:
    """A keras.applications model used as a layer: its base layer, recognised by its layers."""
    kind, pooling = found
    # its weights are the imported model's own (zoo import writes them beside the spec), not ImageNet's
    args: dict[str, Any] = {"name": model.name, "weights": None}
    if pooling is not None:
        args["pooling"] = pooling
    trains = {layer.name for layer in model.layers[1:] if layer.trainable}
    if model.trainable and trains and len(trains) < len(model.layers) - 1:  # fine-tuned: part trains
        shape = tuple(None if d is None else int(d) for d in model.inputs[0].shape[1:])
        base = base_spec(kind, shape, pooling, None, data_format)
        start = next((x.name for x in base.layers if x.name in trains), None)
        if start is None or base.fine_tuned(start) != trains:
            raise SpecError(
                f"{where}: some of its layers train and some do not, but not as zoo's fine-tuning "
                "(trainable_from: a layer, every later one but BatchNormalization trains) would make them"
            )
        args["trainable_from"] = start
    return {kind: args}


def recognise_application(model: Any, data_format: str = "channels_last") -> tuple[str, str | None] | None:
    """(the catalogue's application kind, its pooling) of a model that is a keras.applications
    architecture without its top, judged by its layers' classes, names and shapes against zoo's
    family file at the model's input shape; None when none matches."""
    shape = tuple(None if d is None else int(d) for d in model.inputs[0].shape[1:])
    classes = [type(layer).__name__ for layer in model.layers[1:]]
    last = classes[-1] if classes else ""
    pooling = {"GlobalAveragePooling2D": "avg", "GlobalMaxPooling2D": "max"}.get(last)

    def named(pairs: list[tuple[str, str]]) -> tuple[collections.Counter[str], dict[str, str]]:
        """The classes, and the layers whose names Keras did not generate (InceptionV3's conv2d_7
        depends on what the session built before): Keras lists a graph's layers in an order of
        its own, so they are compared as sets."""
        kept = {n: c for n, c in pairs if not re.fullmatch(re.escape(catalog.snake_case(c)) + r"(_\d+)?", n)}
        return collections.Counter(c for _, c in pairs), kept

    theirs = named([(layer.name, type(layer).__name__) for layer in model.layers[1:]])
    for kind in catalog.APPLICATIONS:
        try:
            spec = base_spec(kind, shape, pooling, None, data_format)
        except SpecError:
            continue
        if (
            len(spec.layers) == len(classes)
            and named([(x.name, x.class_name) for x in spec.layers]) == theirs
        ):
            return kind, pooling
    return None


def same_layers(spec: Spec, model: Any) -> list[str]:
    """Where the spec's layers differ from ``model``'s, without building a model: each top-level
    layer's Keras configuration (the layer the builder makes from the spec, unbuilt: one per distinct
    configuration, names aside) against the model's, then the formula engine's rows against Keras's
    (name, class, output shape, parameters trainable and not, the layers each takes). A nested base or
    group is compared by its row. Empty: the same layers, in the same graph."""
    keras = builder.import_keras()
    theirs = {op.name: op for op in _operations(model)}
    out = []
    for layer in spec.layers:
        if layer.kind == catalog.CALL or layer.catalog.rule in ("application", "group"):
            continue
        op = theirs.get(layer.name)
        if op is None:
            out.append(f"{layer.name}: the model has no such layer")
            continue
        ours = _config_of(keras, layer)
        if ours != _without_name(op):
            out.append(f"{layer.name}: configuration {compare.config_difference(ours, _without_name(op))}")
        if len(out) > 5:
            return out
    keras_s = introspect.summary_of(model, order=[layer.name for layer in spec.layers])
    if not spec.named_inputs:  # the input Keras named `input_layer` is the spec's input_name
        given = model.inputs[0]._keras_history[0].name
        keras_s = dataclasses.replace(
            keras_s,
            rows=tuple(
                dataclasses.replace(
                    row, connected_to=tuple(spec.input_name if n == given else n for n in row.connected_to)
                )
                for row in keras_s.rows
            ),
        )
    return out + differences({"formula": arith.summarize(spec), "keras": keras_s})


def _without_name(layer: Any) -> dict[str, Any]:
    """A layer's configuration, its name aside, and what its being built adds (a held layer's
    ``build_config``: an unbuilt layer has none)."""
    config = layer.get_config() if hasattr(layer, "get_config") else {}

    def unbuilt(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: unbuilt(v) for k, v in value.items() if k != "build_config"}
        if isinstance(value, list):
            return [unbuilt(v) for v in value]
        return value

    return {k: v for k, v in unbuilt(json.loads(json.dumps(config, default=repr))).items() if k != "name"}


def _config_of(keras: Any, layer: Any) -> dict[str, Any]:
    """The Keras configuration (its name aside) of the layer the builder makes from a spec layer."""
    key = (
        layer.kind,
        json.dumps(
            {
                **layer.keras_args,
                "trainable": layer.args.get("trainable", True),
                "data_format": layer.data_format,
            },
            sort_keys=True,
            default=repr,
        ),
    )
    if key not in _CONFIGS:
        _CONFIGS[key] = _without_name(builder.make_layer(keras, layer, ()))
    return _CONFIGS[key]


# (kind, spec arguments) -> the configuration the builder's layer has, its name aside
_CONFIGS: dict[tuple[str, str], dict[str, Any]] = {}


def same_model(spec: Spec, model: Any) -> list[str]:
    """Where the spec's model differs from ``model``: layers and ``to_json()`` (names included, a
    base's automatic inner names aside), then the weights loaded by order and the outputs on one
    input. Empty: the same model."""
    keras = builder.import_keras()
    rebuilt = builder.build(spec, compile=False, load=False)
    nested = any(isinstance(layer, keras.Model) for layer in model.layers)
    named = bool(spec.named_inputs) or spec.input_name != catalog.MODEL_INPUT  # names the model gave
    # a model library's backbone is a subclass of keras.Model with arguments of its own, and its
    # to_json() holds those instead of its graph: the graph, a plain functional model, is compared
    graph = model
    if type(model).__name__ not in ("Functional", "Sequential", "Model"):
        graph = keras.Model(model.inputs, model.outputs, name=model.name)
    problems = compare.differences(rebuilt, graph, input_names=named, generated=nested)
    if problems:
        return problems
    theirs = model.get_weights()
    try:
        rebuilt.set_weights(theirs)
    except ValueError as exc:
        return [f"the model's weights do not load into the spec's model by order: {_one_line(exc)}"]
    rng = np.random.default_rng(0)
    x = [
        rng.standard_normal((2, *(d if d is not None else 32 for d in t.shape[1:]))).astype("float32")
        for t in model.inputs
    ]
    ours, theirs = (m(x if len(x) > 1 else x[0], training=False) for m in (rebuilt, model))
    for i, (a, b) in enumerate(zip(_as_list(ours), _as_list(theirs), strict=True)):
        a, b = keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
        if a.shape != b.shape or not np.array_equal(a, b, equal_nan=True):
            worst = float(np.max(np.abs(a - b))) if a.shape == b.shape else float("nan")
            return [f"output {i} differs on the same input and weights (largest difference {worst:.3g})"]
    return []


def _as_list(outputs: Any) -> list[Any]:
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
