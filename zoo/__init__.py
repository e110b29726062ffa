"""zoo: the CNN tutorial's examples as YAML specs, built by name, with their arithmetic worked out.

    >>> import zoo
    >>> zoo.names("conv2d*")
    ['conv2d', 'conv2d_same', 'conv2d_stride2', 'conv2d_transpose']
    >>> zoo.summary("conv2d_stride2", engine="formula").total_params
    82826

Importing zoo, listing, validating, explaining and formula summaries never import
TensorFlow or Keras; ``build`` and ``summary(engine="keras")`` do, when called.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from zoo import arith
from zoo.arith.summary import Row, Summary
from zoo.specification import extensions, keras_versions, registry
from zoo.specification.errors import SpecError, WeightsError
from zoo.specification.model import Layer, Spec
from zoo.specification.registry import Registry

if TYPE_CHECKING:
    from zoo.keras.training import RunResult

__all__ = [
    "Layer",
    "Registry",
    "Row",
    "Spec",
    "SpecError",
    "Summary",
    "WeightsError",
    "RunResult",
    "add_spec_dir",
    "build",
    "decode_predictions",
    "default_registry",
    "explain",
    "from_keras",
    "names",
    "preprocess_input",
    "run",
    "spec",
    "summary",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """``zoo.RunResult`` without importing the training module (and what it imports) with zoo."""
    if name == "RunResult":
        from zoo.keras.training import RunResult

        return RunResult
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


ENGINES = ("keras", "formula")
_DEFAULT = registry.DEFAULT
SPEC_WEIGHTS: Any = object()  # weights=: "whatever the spec says" (the default)


def default_registry() -> Registry:
    """The default registry: packaged specs, ``ZOO_SPEC_PATH``, then :func:`add_spec_dir` folders."""
    return _DEFAULT


def add_spec_dir(path: str | os.PathLike[str]) -> None:
    """Make the specs in ``path`` available by name."""
    _DEFAULT.add_dir(path)


def names(pattern: str | None = None) -> list[str]:
    """Sorted spec names, optionally filtered by an fnmatch pattern (``"conv2d*"``)."""
    return _DEFAULT.names(pattern)


def spec(name: str, **overrides: Any) -> Spec:
    """The validated spec called ``name``.

    ``overrides`` are keras.applications' keyword arguments for a family's models
    (``include_top=False, pooling="avg", classes=10, alpha=0.5``) and, for any spec,
    ``input_shape=(32, 32, 3)``; the formula engine re-checks the geometry.
    """
    return _DEFAULT.spec(name, **overrides)


def _as_spec(name_or_spec: str | Spec, overrides: dict[str, Any] | None = None) -> Spec:
    if isinstance(name_or_spec, Spec):
        if overrides:
            raise SpecError(
                f"keyword overrides ({', '.join(overrides)}) apply to specs given by name; "
                "for a Spec object use zoo.Spec.from_file(path, **overrides)"
            )
        return name_or_spec
    if isinstance(name_or_spec, str):
        return spec(name_or_spec, **(overrides or {}))
    raise SpecError(f"expected a spec name or a zoo.Spec. Received: {type(name_or_spec).__name__}")


def build(
    name_or_spec: str | Spec,
    *,
    weights: str | os.PathLike[str] | None = SPEC_WEIGHTS,
    compile: bool = True,
    strategy: Any = None,
    input_tensor: Any = None,
    **overrides: Any,
) -> Any:
    """Build the Keras model of a spec (compiled per its ``compile:`` unless ``compile=False``).

    Args:
        weights: a family's model, or a spec's pretrained bases: ``"imagenet"`` (Keras's cache),
            a file path, or ``None`` for the architecture only; by default the spec's own value.
            ``"seeded"``: every weight of the model drawn from numpy with a seed derived from
            the spec's, the layer's and the weight's names (zoo.fingerprint), the same values
            in every process, on every backend and Keras version.
        strategy: a ``tf.distribute.Strategy`` to build and compile under.
        input_tensor: as keras.applications takes it: a Keras tensor (``keras.Input(...)`` or a
            layer's output) the model's graph starts from; the model's inputs are the inputs that
            tensor comes from. A family's ``input_tensor`` parameter gets its shape.
        overrides: keras.applications' keyword arguments (``include_top=False``,
            ``input_shape=(96, 96, 3)``, ``pooling="avg"``, ``classes``, ...); see :func:`spec`.
            A family's model follows ``keras.config.image_data_format()``, as keras.applications'
            do, unless ``data_format=`` says otherwise.
    """
    from zoo.keras import builder

    seeded = _is_seeded(weights)
    the_spec = _keras_spec(name_or_spec, None if seeded else weights, overrides, input_tensor)
    if strategy is None:
        return builder.build(the_spec, compile=compile, seeded=seeded, input_tensor=input_tensor)
    with strategy.scope():
        return builder.build(the_spec, compile=compile, seeded=seeded, input_tensor=input_tensor)


def _keras_spec(
    name_or_spec: str | Spec, weights: Any, overrides: dict[str, Any], input_tensor: Any = None
) -> Spec:
    """The spec Keras builds for a call: ``input_tensor``'s shape given to the family, and a family's
    data format from Keras's configuration unless the caller gave one (keras.applications' rule)."""
    from zoo.keras import builder

    overrides = dict(overrides)
    if input_tensor is not None:
        shape = builder.tensor_shape(input_tensor)
        if isinstance(name_or_spec, Spec):
            if tuple(name_or_spec.input) != shape:
                raise SpecError(
                    f"input_tensor's shape {(None, *shape)} is not the spec's input "
                    f"{(None, *name_or_spec.input)}",
                    file=name_or_spec.origin.label,
                )
        else:
            overrides["input_tensor"] = list(shape)
    if (
        isinstance(name_or_spec, str)
        and "data_format" not in overrides
        and "data_format" in _DEFAULT.parameters(name_or_spec)
    ):
        overrides["data_format"] = builder.import_keras().config.image_data_format()
    return _resolve(name_or_spec, weights, overrides)


def run(
    name_or_spec: str | Spec,
    *,
    seed: int = 0,
    epochs: int | None = None,
    samples: int | None = None,
    batch_size: int | None = None,
    weights: str | os.PathLike[str] | None = SPEC_WEIGHTS,
    verbose: Any = "auto",
    strategy: Any = None,
    fast_path: bool = True,
) -> RunResult:
    """Run the spec's tutorial cell: build, compile, fit on its dummy data, predict.

    ``epochs``, ``samples`` and ``batch_size`` default to the spec's ``fit:`` and
    ``data:``. With a frozen base the head trains on the base's outputs computed
    once (``fast_path=False`` forces plain end-to-end fitting); ``result.notes`` says
    which was done and why. The same ``seed`` gives the same result in any process.
    ``weights="seeded"`` starts from zoo's seeded weights (see :func:`build`).
    """
    from zoo.keras import training

    seeded = _is_seeded(weights)
    return training.run(
        _keras_spec(name_or_spec, None if seeded else weights, {}),
        seed=seed,
        epochs=epochs,
        samples=samples,
        batch_size=batch_size,
        verbose=verbose,
        strategy=strategy,
        fast_path=fast_path,
        seeded=seeded,
    )


def _is_seeded(weights: Any) -> bool:
    return isinstance(weights, str) and weights == "seeded"


def _resolve(name_or_spec: str | Spec, weights: Any, overrides: dict[str, Any]) -> Spec:
    """The spec to build: its weights are an override like the others, so a family's rules see them
    (ImageNet weights with the top need 1000 classes), whatever the family's variants are called."""
    if weights is SPEC_WEIGHTS:
        return _as_spec(name_or_spec, overrides)
    if isinstance(name_or_spec, str):
        return _as_spec(name_or_spec, {**overrides, "weights": weights})
    return _as_spec(name_or_spec, overrides).with_weights(weights)


def summary(
    name_or_spec: str | Spec, engine: str = "keras", *, keras_version: str | None = None, **overrides: Any
) -> Summary:
    """The summary table of a spec, from Keras (``"keras"``) or from the arithmetic (``"formula"``).

    The Keras engine builds the architecture only (no pretrained weights are
    needed to count them). The formula engine computes as Keras release ``keras_version`` does
    (``"3.11.3"``; by default the release installed, else the newest zoo supports), applying
    Keras's own changes between releases (:mod:`zoo.specification.keras_versions`).
    """
    if engine == "formula":
        return arith.summarize(_as_spec(name_or_spec, overrides), keras=_keras_version(keras_version))
    if engine == "keras":
        from zoo.keras import builder, introspect

        the_spec = _keras_spec(name_or_spec, SPEC_WEIGHTS, overrides)
        arith.steps(the_spec, keras_versions.installed())  # the spec must be valid, weights included
        # the architecture its weights give a family's model (EfficientNet's ImageNet rescaling),
        # without reading them; a spec's pretrained bases are built without theirs; no weight values
        model = builder.architecture(the_spec if the_spec.family is not None else the_spec.with_weights(None))
        return introspect.summary_of(model, order=[layer.name for layer in the_spec.layers])
    raise SpecError(f"unknown engine. Received: engine={engine!r}. Valid: {', '.join(ENGINES)}")


def preprocess_input(name_or_spec: str | Spec, x: Any, data_format: str | None = None) -> Any:
    """What ``keras.applications.<module>.preprocess_input(x)`` gives for this model's family, on a
    numpy array (a copy: ``x`` is left as it is). ``data_format``: default Keras's configured one
    where Keras is in use, else channels_last. No framework is imported."""
    from zoo.keras import preprocessing

    the_spec = _as_spec(name_or_spec)
    if the_spec.preprocess is None:
        raise SpecError(
            f"{the_spec.name!r} names no preprocessing (only keras.applications' families do: "
            "their preprocess: key)",
            file=the_spec.origin.label,
        )
    return preprocessing.preprocess(x, the_spec.preprocess, data_format)


def decode_predictions(preds: Any, top: int = 5) -> list[list[tuple[Any, ...]]]:
    """``keras.applications.imagenet_utils.decode_predictions``: each row's ``top`` ImageNet classes
    as ``(class_name, description, score)``, from the class index in Keras's cache (it says which
    file to put where when it is missing and cannot be downloaded)."""
    from zoo.keras import preprocessing

    return preprocessing.decode(preds, preprocessing.class_index(), top)


def from_keras(
    model: Any,
    *,
    name: str | None = None,
    description: str | None = None,
    opaque: bool = False,
    check: str = "full",
    blocks: bool = False,
) -> Spec:
    """The spec of a Keras model: ``zoo.build(zoo.from_keras(model))`` is the same model (its layers
    by class, arguments, order and names, its ``to_json()``, the weights of ``model`` loaded by order,
    the outputs on one input), checked here before the spec is returned; a model zoo cannot write
    as a spec is a :class:`SpecError` saying which layer and why. ``spec.to_yaml()`` is its file.
    ``opaque``: a keras.layers class the catalogue lacks is kept with the output shape and parameters
    Keras gives it, marked unchecked wherever the spec's rows are shown, instead of an error.
    ``check="layers"`` checks without building the model again (each layer's Keras configuration,
    then the formula engine's rows against the model's): a 1,000-layer model in well under a second,
    where the full check costs as long again as Keras's loading. `zoo summary FILE` uses it.
    ``blocks``: the spec with its repeated blocks recognised (``blocks:``, ``repeat:``, name
    templates; docs/recognition.md), built and compared with ``model`` the same way; its
    ``to_yaml()`` is that family file.

        >>> import keras
        >>> model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3)], name="tiny")
        >>> print(zoo.from_keras(model).to_yaml())  # doctest: +ELLIPSIS
        # yaml-language-server: ...
        name: tiny
        ...
          - Conv2D: {filters: 8, kernel_size: 3}
        <BLANKLINE>
    """
    from zoo.keras import importer

    return importer.from_keras(
        model, name=name, description=description, opaque=opaque, check=check, blocks=blocks
    )


def explain(name_or_spec: str | Spec, *, keras_version: str | None = None, **overrides: Any) -> str:
    """Every layer's output size and parameter count, worked out with the numbers filled in (as
    Keras release ``keras_version`` computes them; see :func:`summary`)."""
    return arith.explain(_as_spec(name_or_spec, overrides), keras=_keras_version(keras_version))


def _keras_version(given: str | None) -> str | None:
    """The release the formula engine computes as: the caller's, else the installed Keras's (read
    from the package's metadata: Keras is not imported), else None (the newest supported)."""
    if given is None:
        return keras_versions.installed()
    try:
        keras_versions.supported(given)
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    return given


# Layer kinds that installed packages add (entry points in the group zoo.layers): loaded once,
# after zoo itself, so that their arithmetic may use zoo.arith (docs/extending.md).
extensions.load()
