"""keras.applications' argument rules, judged by Keras itself.

For each family file and each way of breaking one of keras.applications' rules, Keras's own
constructor is called with the arguments: where Keras raises, zoo must refuse the same arguments
with Keras's words (its message, verbatim, is in zoo's); where Keras accepts them (it builds, or
would go on to download ImageNet weights), zoo must accept them too. The expectations come from
Keras, not from zoo. One family also goes through every entry point: ``zoo.spec``,
``zoo.build``, ``zoo.summary`` (both engines), the command line and the pytest plugin.

Keras's own cases of ``obtain_input_shape`` (``imagenet_utils_test.py``) run against zoo's
``keras_rules.obtain_input_shape`` and Keras's function side by side.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from typing import Any

import pytest
from keras_reference import APPLICATIONS, image_data_format, older_keras, reference

import zoo
from zoo.specification import keras_rules, keras_versions

# One model per family file (the first variant), as the README's test command runs them.
FIRSTS = [
    n
    for i, n in enumerate(APPLICATIONS)
    if zoo.spec(n).family not in {zoo.spec(m).family for m in list(APPLICATIONS)[:i]}
]

# Each breaks (at most) one of keras.applications' rules.
CASES: dict[str, dict[str, Any]] = {
    "weights_not_a_file": {"weights": "no/such/weights.h5"},
    "imagenet_top_10_classes": {"weights": "imagenet", "classes": 10},
    "smaller_than_32": {"include_top": False, "input_shape": (16, 16, 3)},
    "imagenet_top_other_size": {"weights": "imagenet", "input_shape": (96, 96, 3)},
    # two rules broken at once: Keras's order says which one speaks (its own before obtain_input_shape's)
    "imagenet_top_10_classes_other_size": {"weights": "imagenet", "classes": 10, "input_shape": (96, 96, 3)},
    "open_input_with_top": {"input_shape": (None, None, 3)},
    "imagenet_one_channel": {"weights": "imagenet", "include_top": False, "input_shape": (96, 96, 1)},
    "two_axes": {"include_top": False, "input_shape": (96, 96)},
    "channels_first": {"data_format": "channels_first", "include_top": False, "input_shape": (3, 96, 96)},
    "channels_first_too_small": {
        "data_format": "channels_first",
        "include_top": False,
        "input_shape": (3, 16, 16),
    },
    "channels_first_imagenet_four_channels": {
        "data_format": "channels_first",
        "weights": "imagenet",
        "include_top": False,
        "input_shape": (4, 96, 96),
    },
}
# Rules of one family (its own arguments).
FAMILY_CASES: dict[str, dict[str, dict[str, Any]]] = {
    "mobilenet": {
        "imagenet_depth_multiplier_2": {"weights": "imagenet", "include_top": False, "depth_multiplier": 2},
        "imagenet_alpha_0_3": {"weights": "imagenet", "include_top": False, "alpha": 0.3},
        "imagenet_top_160": {"weights": "imagenet", "input_shape": (160, 160, 3)},
        "imagenet_top_not_square": {"weights": "imagenet", "input_shape": (160, 192, 3)},
        "channels_first_imagenet_top_160": {
            "data_format": "channels_first",
            "weights": "imagenet",
            "input_shape": (3, 160, 160),
        },
        "channels_first_imagenet_top_not_square": {
            "data_format": "channels_first",
            "weights": "imagenet",
            "input_shape": (3, 160, 192),
        },
    },
    "mobilenet_v2": {
        "imagenet_alpha_0_3": {"weights": "imagenet", "include_top": False, "alpha": 0.3},
        "imagenet_top_96": {"weights": "imagenet", "input_shape": (96, 96, 3)},
        "imagenet_top_not_square": {"weights": "imagenet", "input_shape": (96, 128, 3)},
        "channels_first_imagenet_top_96": {
            "data_format": "channels_first",
            "weights": "imagenet",
            "input_shape": (3, 96, 96),
        },
        "channels_first_imagenet_top_not_square": {
            "data_format": "channels_first",
            "weights": "imagenet",
            "input_shape": (3, 96, 128),
        },
    },
    "mobilenet_v3_small": {
        "imagenet_alpha_0_5": {"weights": "imagenet", "include_top": False, "alpha": 0.5},
        "imagenet_minimalistic_0_75": {
            "weights": "imagenet",
            "include_top": False,
            "alpha": 0.75,
            "minimalistic": True,
        },
        "narrower_than_32": {"include_top": False, "input_shape": (96, 16, 3)},
        "channels_first_narrower_than_32": {
            "data_format": "channels_first",
            "include_top": False,
            "input_shape": (3, 96, 16),
        },
        "open_rows": {"include_top": False, "input_shape": (None, 96, 3)},
    },
    "mobilenet_v3_large": {
        "imagenet_alpha_0_5": {"weights": "imagenet", "include_top": False, "alpha": 0.5},
        "imagenet_minimalistic_0_75": {
            "weights": "imagenet",
            "include_top": False,
            "alpha": 0.75,
            "minimalistic": True,
        },
        "channels_first_narrower_than_32": {
            "data_format": "channels_first",
            "include_top": False,
            "input_shape": (3, 96, 16),
        },
    },
    "efficientnet_b0": {
        "channels_first_imagenet_top": {
            "data_format": "channels_first",
            "weights": "imagenet",
            "input_shape": (3, 224, 224),
        },
        "channels_first_imagenet_top_other_size": {
            "data_format": "channels_first",
            "weights": "imagenet",
            "input_shape": (3, 96, 96),
        },
    },
    "efficientnet_b1": {
        "imagenet_top_240": {"weights": "imagenet", "input_shape": (240, 240, 3)},
        "imagenet_top_224": {"weights": "imagenet", "input_shape": (224, 224, 3)},
    },
    "efficientnet_v2_b0": {
        "channels_first_imagenet_top": {
            "data_format": "channels_first",
            "weights": "imagenet",
            "input_shape": (3, 224, 224),
        },
        "channels_first_imagenet_top_other_size": {
            "data_format": "channels_first",
            "weights": "imagenet",
            "input_shape": (3, 96, 96),
        },
    },
    "efficientnet_v2_s": {
        "imagenet_top_384": {"weights": "imagenet", "input_shape": (384, 384, 3)},
        "imagenet_top_224": {"weights": "imagenet", "input_shape": (224, 224, 3)},
    },
    # validate_activation: activations.get("linear") is activations.get(None), which Keras allows
    **{
        name: {"imagenet_top_linear": {"weights": "imagenet", "classifier_activation": "linear"}}
        for name in (
            "resnet50_v2",
            "inception_v3",
            "inception_resnet_v2",
            "xception",
            "densenet121",
            "convnext_tiny",
        )
    },
    "nasnet_mobile": {
        "imagenet_top_linear": {"weights": "imagenet", "classifier_activation": "linear"},
        "imagenet_open_input": {"weights": "imagenet", "include_top": False, "input_shape": (None, None, 3)},
        "imagenet_top_open_input": {"weights": "imagenet", "input_shape": (None, None, 3)},
        "imagenet_no_top_no_input_shape": {"weights": "imagenet", "include_top": False},
    },
    "nasnet_large": {
        "imagenet_open_input": {"weights": "imagenet", "include_top": False, "input_shape": (None, None, 3)},
        "imagenet_top_open_input": {"weights": "imagenet", "input_shape": (None, None, 3)},
        "imagenet_no_top_no_input_shape": {"weights": "imagenet", "include_top": False},
        "imagenet_open_rows": {"weights": "imagenet", "include_top": False, "input_shape": (None, 96, 3)},
    },
}


class WouldDownload(Exception):
    """Keras accepted the arguments and went on to fetch the ImageNet file."""


@contextlib.contextmanager
def no_downloads() -> Any:
    from keras.src.utils import file_utils

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise WouldDownload(args[0] if args else kwargs.get("fname"))

    original = file_utils.get_file
    file_utils.get_file = refuse
    try:
        yield
    finally:
        file_utils.get_file = original


def keras_verdict(name: str, args: dict[str, Any]) -> str | None:
    """Keras's message for ``args``, or None where keras.applications accepts them."""
    args = dict(args)
    data_format = args.pop("data_format", None)
    with image_data_format(data_format), no_downloads():
        try:
            reference(name, **args)
        except WouldDownload:
            return None
        except ValueError as exc:
            return str(exc)
    return None


def in_newest_words(message: str) -> str:
    """Keras's message as the releases zoo's family files quote word it: before 3.13 an InputSpec
    error said 'Input 0 of layer "conv"' (keras_versions 'input-spec-error-words')."""
    import keras

    if keras_versions.change("input-spec-error-words").is_new(keras_versions.parse(keras.__version__)):
        return message
    return re.sub(r'Input (\d+) of layer "([^"]+)"', r"Input \1 with name 'None' of layer '\2'", message)


def zoo_verdict(name: str, args: dict[str, Any]) -> str | None:
    try:
        zoo.spec(name, **args)
    except zoo.SpecError as exc:
        return str(exc)
    return None


# The cases whose outcome depends on the Keras release (keras_versions: the InputSpec words of 3.13,
# EfficientNetV2's channels_first statistics of 3.14): CI runs them on the oldest supported pair too.
RELEASE_CASES = {
    ("mobilenet_v3_small", "two_axes"),
    ("efficientnet_v2_b0", "channels_first"),
    ("efficientnet_v2_b0", "channels_first_imagenet_top"),
}


DEFAULT_RUN = {"resnet50"}


def rule_cases() -> list[Any]:
    out = []
    for name in APPLICATIONS:
        cases = {**CASES, **FAMILY_CASES.get(name, {})}
        # they call keras.applications' constructors, which build a model where the arguments pass
        # the default run: ResNet50's cases, and those whose outcome depends on the release; every
        # other model's in the applications tier (CI's time budget)
        marks = [pytest.mark.slow] if name in DEFAULT_RUN else [pytest.mark.slow, pytest.mark.applications]
        out += [
            pytest.param(
                name,
                args,
                id=f"{name}-{case}",
                marks=[pytest.mark.slow, pytest.mark.releases] if (name, case) in RELEASE_CASES else marks,
            )
            for case, args in cases.items()
        ]
    return out


# MobileNet, MobileNetV2 and MobileNetV3 warn, and go on to load the 224 files, where ImageNet
# weights meet another input size: Keras accepts the arguments (pytest would make the warning an error)
@pytest.mark.filterwarnings("ignore:`input_shape` is undefined or non-square")
@pytest.mark.parametrize(("name", "args"), rule_cases())
def test_keras_rules_in_keras_words(name, args):
    statistics_differ = (
        name.startswith("efficientnet_v2")
        and args.get("data_format") == "channels_first"
        and older_keras("efficientnetv2-channels-first-normalization")
    )
    try:
        want = keras_verdict(name, args)
    except Exception:  # noqa: BLE001 - not one of Keras's rules: its model could not be built
        if not statistics_differ:
            raise
        want = None
    if statistics_differ and want is None:
        # Keras 3.8 cannot build it, 3.9 to 3.13 pre-broadcast the statistics; zoo's family file
        # gives them as 3.14 does, and the formula engine refuses them before 3.14, saying why
        assert zoo_verdict(name, args) is None
        with pytest.raises(zoo.SpecError, match=r"keras-team/keras#22068"):
            zoo.summary(name, engine="formula", **args)
        return
    want = None if want is None else in_newest_words(want)
    got = zoo_verdict(name, args)
    if want is None:
        assert got is None, f"keras.applications accepts {args}; zoo says: {got}"
    else:
        assert got is not None, f"keras.applications refuses {args} ({want}); zoo accepts them"
        assert want in got, f"Keras's words: {want!r}\nzoo's: {got!r}"


# Rules of keras.applications' inner constructors that its public models cannot reach (they pass a
# fixed architecture) and zoo's families can (the architecture is a parameter): Keras's own function
# judges them. Each: zoo's model and arguments, then Keras's function and its arguments.
SLOW_INNER_CASES = {
    "nasnet_mobile-imagenet_default_size_300",
    "nasnet_mobile-num_blocks_0",
    "nasnet_large-num_blocks_0_open_size",
}
INNER_CASES: dict[str, tuple[str, dict[str, Any], str, dict[str, Any]]] = {
    "nasnet_mobile-penultimate_filters_1000": (
        "nasnet_mobile",
        {"penultimate_filters": 1000},
        "nasnet.NASNet",
        {
            "penultimate_filters": 1000,
            "num_blocks": 4,
            "stem_block_filters": 32,
            "skip_reduction": False,
            "default_size": 224,
        },
    ),
    "nasnet_mobile-imagenet_default_size_300": (
        "nasnet_mobile",
        {
            "weights": "imagenet",
            "include_top": False,
            "input_shape": (96, 96, 3),
            "num_blocks": 1,
            "default_size": 300,
        },
        "nasnet.NASNet",
        {
            "weights": "imagenet",
            "include_top": False,
            "input_shape": (96, 96, 3),
            "num_blocks": 1,
            "penultimate_filters": 1056,
            "stem_block_filters": 32,
            "skip_reduction": False,
            "default_size": 300,
        },
    ),
    # NASNet() names both reduction cells reduce_0: its check of the graph's names refuses one
    "nasnet_mobile-num_blocks_0": (
        "nasnet_mobile",
        {"num_blocks": 0},
        "nasnet.NASNet",
        {"num_blocks": 0, "penultimate_filters": 1056, "stem_block_filters": 32, "skip_reduction": False},
    ),
    "nasnet_large-num_blocks_0_open_size": (
        "nasnet_large",
        {"num_blocks": 0, "include_top": False, "input_shape": (None, None, 3)},
        "nasnet.NASNet",
        {"num_blocks": 0, "include_top": False, "input_shape": (None, None, 3)},
    ),
    "densenet121-imagenet_other_blocks": (
        "densenet121",
        {"weights": "imagenet", "include_top": False, "input_shape": (64, 64, 3), "blocks": [1, 1, 1, 1]},
        "densenet.DenseNet",
        {"weights": "imagenet", "include_top": False, "input_shape": (64, 64, 3), "blocks": [1, 1, 1, 1]},
    ),
    "convnext_tiny-imagenet_other_depths": (
        "convnext_tiny",
        {"weights": "imagenet", "include_top": False, "input_shape": (64, 64, 3), "depths": [1, 1, 1, 1]},
        "convnext.ConvNeXt",
        {
            "weights": "imagenet",
            "include_top": False,
            "input_shape": (64, 64, 3),
            "depths": [1, 1, 1, 1],
            "projection_dims": [96, 192, 384, 768],
            "name": "convnext_tiny",
            "weights_name": "convnext_tiny",
        },
    ),
}


@pytest.mark.parametrize(
    ("name", "args", "function", "keras_args"),
    [
        # ConvNeXt's ImageNet architecture rule came in Keras 3.9: CI runs it on the oldest pair too
        pytest.param(
            *case,
            id=case_id,
            marks=[
                *([pytest.mark.releases] if case[0].startswith("convnext") else []),
                # Keras builds a whole NASNet before it refuses: seconds, the inner loop's budget
                *([pytest.mark.slow] if case_id in SLOW_INNER_CASES else []),
            ],
        )
        for case_id, case in INNER_CASES.items()
    ],
)
def test_inner_constructor_rules_in_keras_words(name, args, function, keras_args):
    import importlib

    import keras

    module, function_name = function.rsplit(".", 1)
    constructor = getattr(importlib.import_module(f"keras.src.applications.{module}"), function_name)
    keras.utils.clear_session()
    got = zoo_verdict(name, args)
    if name.startswith("convnext") and older_keras("convnext-imagenet-architecture-rule"):
        # before 3.9 Keras has no such rule and asks for the file; zoo states 3.9's, in its words
        with no_downloads(), pytest.raises(WouldDownload):
            constructor(**{"weights": None, **keras_args})
        assert got is not None and "Architecture configuration does not match" in got
        return
    with no_downloads(), pytest.raises(ValueError) as refused:  # each case breaks one of Keras's rules
        constructor(**{"weights": None, **keras_args})
    assert got is not None, f"Keras's {function} refuses {keras_args} ({refused.value}); zoo accepts {args}"
    want = in_newest_words(str(refused.value))
    assert want in got, f"Keras's words: {want!r}\nzoo's: {got!r}"


def test_the_judge_can_fail():
    """A rule zoo does not have (Keras's weights rule, reworded) is caught by the comparison."""
    want = keras_verdict("resnet50", CASES["weights_not_a_file"])
    assert want is not None and "should be either `None`" in want
    assert want not in want.replace("  Received", " Received")  # one space less is another message


ENTRY_ARGS = {"weights": "imagenet", "classes": 10}
ENTRY_WORDS = (
    "If using `weights='imagenet'` with `include_top=True`, `classes` should be 1000.  Received classes=10"
)


def test_keras_rule_through_every_entry_point(zoo_model, tmp_path):
    assert ENTRY_WORDS in keras_verdict("resnet50", ENTRY_ARGS)
    for call in (
        lambda: zoo.spec("resnet50", **ENTRY_ARGS),
        lambda: zoo.build("resnet50", **ENTRY_ARGS),
        lambda: zoo.summary("resnet50", engine="formula", **ENTRY_ARGS),
        lambda: zoo.summary("resnet50", engine="keras", **ENTRY_ARGS),
        lambda: zoo_model("resnet50", **ENTRY_ARGS),
    ):
        with pytest.raises(zoo.SpecError) as caught:
            call()
        assert ENTRY_WORDS in str(caught.value)
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "zoo",
            "summary",
            "resnet50",
            "--engine",
            "formula",
            "--set",
            "weights=imagenet",
            "--set",
            "classes=10",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert cli.returncode == 2 and ENTRY_WORDS in cli.stderr and "Traceback" not in cli.stderr


# ---------------------------------------------------------------- obtain_input_shape, Keras's own cases


def keras_obtain(**kwargs: Any) -> Any:
    from keras.src.applications import imagenet_utils

    try:
        return imagenet_utils.obtain_input_shape(**kwargs)
    except ValueError as exc:
        return ("ValueError", str(exc))


def zoo_obtain(**kwargs: Any) -> Any:
    try:
        shape = keras_rules.obtain_input_shape(**kwargs)
    except keras_rules.KerasRuleError as exc:
        return ("ValueError", exc.message)
    return tuple(shape)


# imagenet_utils_test.py's test_obtain_input_shape, both data formats, plus the refusals' words
OBTAIN_CASES = [
    {
        "input_shape": (224, 224, 3),
        "default_size": 299,
        "min_size": 139,
        "data_format": "channels_last",
        "require_flatten": True,
        "weights": "imagenet",
    },
    *(
        {
            "input_shape": shape,
            "default_size": None,
            "min_size": 139,
            "data_format": fmt,
            "require_flatten": False,
        }
        for fmt in ("channels_last", "channels_first")
        for shape in ((100, 100, 3), (3, 100, 100), (100, 3), (3, 100), (100, 100, 5), (5, 100, 100))
    ),
    {
        "input_shape": None,
        "default_size": None,
        "min_size": 139,
        "data_format": "channels_first",
        "require_flatten": True,
    },
    {
        "input_shape": (3, 200, 200),
        "default_size": None,
        "min_size": 139,
        "data_format": "channels_first",
        "require_flatten": True,
    },
    *(
        {
            "input_shape": None,
            "default_size": None,
            "min_size": 139,
            "data_format": fmt,
            "require_flatten": False,
        }
        for fmt in ("channels_last", "channels_first")
    ),
    {
        "input_shape": (150, 150, 3),
        "default_size": None,
        "min_size": 139,
        "data_format": "channels_last",
        "require_flatten": False,
    },
    {
        "input_shape": (3, None, None),
        "default_size": None,
        "min_size": 139,
        "data_format": "channels_first",
        "require_flatten": False,
    },
    # beyond Keras's test: the ImageNet rules' words
    {
        "input_shape": (96, 96, 1),
        "default_size": 224,
        "min_size": 32,
        "data_format": "channels_last",
        "require_flatten": False,
        "weights": "imagenet",
    },
    {
        "input_shape": (1, 96, 96),
        "default_size": 224,
        "min_size": 32,
        "data_format": "channels_first",
        "require_flatten": False,
        "weights": "imagenet",
    },
    {
        "input_shape": None,
        "default_size": 224,
        "min_size": 32,
        "data_format": "channels_first",
        "require_flatten": True,
        "weights": "imagenet",
    },
    {
        "input_shape": (None, None, 3),
        "default_size": 224,
        "min_size": 32,
        "data_format": "channels_last",
        "require_flatten": True,
    },
    {
        "input_shape": (64, 64, 4),
        "default_size": 224,
        "min_size": 32,
        "data_format": "channels_last",
        "require_flatten": True,
    },
]


@pytest.mark.filterwarnings("ignore:This model usually expects 1 or 3 input channels")
@pytest.mark.parametrize("kwargs", OBTAIN_CASES, ids=lambda kw: f"{kw['data_format']}-{kw['input_shape']}")
def test_obtain_input_shape_as_keras(kwargs):
    assert zoo_obtain(**kwargs) == keras_obtain(**kwargs)
