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
from typing import Any

from zoo import formula
from zoo.errors import SpecError
from zoo.registry import Registry
from zoo.spec_format import Layer, Spec
from zoo.summaries import Row, Summary
from zoo.training import RunResult
from zoo.weights import WeightsError

__all__ = [
    "Layer", "Registry", "Row", "Spec", "SpecError", "Summary", "WeightsError",
    "RunResult", "add_spec_dir", "build", "default_registry", "explain", "names", "run", "spec",
    "summary",
]  # fmt: skip
__version__ = "0.1.0"


ENGINES = ("keras", "formula")
_DEFAULT = Registry()
_SPEC_WEIGHTS: Any = object()  # "whatever the spec says"


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
            raise SpecError(f"keyword overrides ({', '.join(overrides)}) apply to specs given by name; "
                            "for a Spec object use zoo.Spec.from_file(path, **overrides)")  # fmt: skip
        return name_or_spec
    if isinstance(name_or_spec, str):
        return spec(name_or_spec, **(overrides or {}))
    raise SpecError(f"expected a spec name or a zoo.Spec. Received: {type(name_or_spec).__name__}")


def build(
    name_or_spec: str | Spec,
    *,
    weights: str | os.PathLike[str] | None = _SPEC_WEIGHTS,
    compile: bool = True,
    strategy: Any = None,
    **overrides: Any,
) -> Any:
    """Build the Keras model of a spec (compiled per its ``compile:`` unless ``compile=False``).

    Args:
        weights: for a pretrained base: ``"imagenet"`` (Keras's cache), a file path,
            or ``None`` for the architecture only; by default the spec's own value.
            ``"seeded"``: every weight of the model drawn from numpy with a seed derived from
            the spec's, the layer's and the weight's names (zoo.fingerprint), the same values
            in every process, on every backend and Keras version.
        strategy: a ``tf.distribute.Strategy`` to build and compile under.
        overrides: keras.applications' keyword arguments (``include_top=False``,
            ``input_shape=(96, 96, 3)``, ``pooling="avg"``, ``classes``, ...); see :func:`spec`.
    """
    from zoo import keras_build

    seeded = _is_seeded(weights)
    the_spec = _resolve(name_or_spec, None if seeded else weights, overrides)
    if strategy is None:
        return keras_build.build(the_spec, compile=compile, seeded=seeded)
    with strategy.scope():
        return keras_build.build(the_spec, compile=compile, seeded=seeded)


def run(
    name_or_spec: str | Spec,
    *,
    seed: int = 0,
    epochs: int | None = None,
    samples: int | None = None,
    batch_size: int | None = None,
    weights: str | os.PathLike[str] | None = _SPEC_WEIGHTS,
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
    from zoo import training

    seeded = _is_seeded(weights)
    return training.run(
        _resolve(name_or_spec, None if seeded else weights, {}),
        seed=seed, epochs=epochs, samples=samples, batch_size=batch_size,
        verbose=verbose, strategy=strategy, fast_path=fast_path, seeded=seeded,
    )  # fmt: skip


def _is_seeded(weights: Any) -> bool:
    return isinstance(weights, str) and weights == "seeded"


def _with_weights(the_spec: Spec, weights: Any) -> Spec:
    return the_spec if weights is _SPEC_WEIGHTS else the_spec.with_weights(weights)


def _resolve(name_or_spec: str | Spec, weights: Any, overrides: dict[str, Any]) -> Spec:
    """The spec to build: a family's weights take part in its rules (ImageNet needs 224x224)."""
    if isinstance(name_or_spec, str) and weights is not _SPEC_WEIGHTS and _DEFAULT.is_family(name_or_spec):
        value = None if weights is None else os.fspath(weights)
        return _as_spec(name_or_spec, {**overrides, "weights": value})
    return _with_weights(_as_spec(name_or_spec, overrides), weights)


def summary(name_or_spec: str | Spec, engine: str = "keras", **overrides: Any) -> Summary:
    """The summary table of a spec, from Keras (``"keras"``) or from the arithmetic (``"formula"``).

    The Keras engine builds the architecture only (no pretrained weights are
    needed to count them).
    """
    the_spec = _as_spec(name_or_spec, overrides)
    if engine == "formula":
        return formula.summarize(the_spec)
    if engine == "keras":
        from zoo import summaries

        formula.steps(the_spec)  # the spec as written must be valid, weights included
        model = build(the_spec, weights=None, compile=False)
        return summaries.from_keras(model, order=[layer.name for layer in the_spec.layers])
    raise SpecError(f"unknown engine. Received: engine={engine!r}. Valid: {', '.join(ENGINES)}")


def explain(name_or_spec: str | Spec, **overrides: Any) -> str:
    """Every layer's output size and parameter count, worked out with the numbers filled in."""
    return formula.explain(_as_spec(name_or_spec, overrides))
