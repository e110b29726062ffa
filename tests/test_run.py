"""zoo.run: the tutorial's cells from their specs, deterministic, with the frozen-base fast path."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

import zoo
from zoo.keras import training

pytestmark = pytest.mark.backend

SMALL_VGG = (ROOT / "specs" / "vgg16_transfer.yaml").read_text().replace("[224, 224, 3]", "[32, 32, 3]")


def variant(text, old, new):
    assert old in text
    return zoo.Spec.from_yaml(text.replace(old, new))


# ---------------------------------------------------------------- planning (no Keras)


def test_plan_takes_the_fast_path_for_the_frozen_vgg16_base():
    chosen = training.plan(zoo.spec("vgg16_transfer"))
    assert chosen.fast
    # the parameter-free pooling after the base is cached too: 512 numbers per image, not 7*7*512
    assert [layer.name for layer in chosen.prefix] == ["vgg16", "global_average_pooling2d"]


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (
            "  - VGG16:",
            "  - Conv2D: {filters: 3, kernel_size: 1, padding: same}\n  - VGG16:",
            "no frozen layer with parameters comes before conv2d",
        ),
        (
            "  - VGG16:",
            "  - Dropout: {rate: 0.1}\n  - VGG16:",
            "no frozen layer with parameters comes before dropout",
        ),
        ("trainable: false}", "trainable: true}", "no frozen layer with parameters comes before vgg16"),
        # a trainable BatchNormalization normalises with batch statistics while training
        (
            "  - VGG16:",
            "  - BatchNormalization: {}\n  - VGG16:",
            "no frozen layer with parameters comes before batch_normalization",
        ),
    ],
)
def test_plan_falls_back_where_the_shortcut_would_change_the_result(old, new, reason):
    chosen = training.plan(variant(SMALL_VGG, old, new))
    assert not chosen.fast
    assert chosen.reason == reason


def test_plan_for_a_model_without_a_frozen_base():
    chosen = training.plan(zoo.spec("conv2d"))
    assert (chosen.fast, chosen.reason) == (False, "no frozen layer with parameters comes before conv2d")


def test_dummy_data_is_the_tutorials():
    x, y = training.dummy_data(zoo.spec("conv2d"), 50, seed=3)
    assert x.shape == (50, 64, 64, 3) and x.dtype == np.float32
    assert 0 <= x.min() and x.max() < 1
    assert y.shape == (50, 1) and set(np.unique(y)) <= set(range(10)) and len(np.unique(y)) > 5


def test_a_spec_without_training_sections_cannot_run():
    with pytest.raises(zoo.SpecError, match="spec 'worked_example' has no compile: section"):
        zoo.run("worked_example")


# ---------------------------------------------------------------- running


@pytest.mark.slow  # seconds: the inner loop's budget
def test_run_fits_and_predicts_per_the_spec():
    result = zoo.run("conv1d", samples=12, epochs=2, verbose=0)
    assert result.predictions.shape == (12, 1)
    assert set(result.history) == {"loss", "accuracy"}
    assert len(result.history["loss"]) == 2
    assert not result.fast_path and result.notes[0].startswith("plain fit:")
    assert result.model.name == "conv1d"


@pytest.mark.slow  # fits twice
def test_fast_path_trains_the_same_head_as_plain_fitting():
    """The equivalence the fast path rests on, on a small input: same seed, same head weights."""
    spec = zoo.Spec.from_yaml(SMALL_VGG)
    kwargs = dict(weights=None, samples=24, epochs=3, batch_size=8, verbose=0, seed=5)
    fast = zoo.run(spec, **kwargs)
    plain = zoo.run(spec, fast_path=False, **kwargs)
    assert fast.fast_path and not plain.fast_path
    assert "frozen-base fast path" in fast.notes[0]
    for name in ("dense", "dense_1"):
        for a, b in zip(fast.model.get_layer(name).get_weights(), plain.model.get_layer(name).get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fast.history["loss"], plain.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(fast.predictions, plain.predictions, rtol=1e-5, atol=1e-6)
    # the returned model is the whole model, base included, and it predicts what the head did
    assert [layer.name for layer in fast.model.layers][
        0
    ] == "vgg16"  # a Sequential, as the tutorial builds it
    x, _ = training.dummy_data(spec, 24, seed=5)
    np.testing.assert_allclose(fast.model.predict(x, verbose=0), fast.predictions, rtol=1e-5, atol=1e-6)


@pytest.mark.slow  # seconds: the inner loop's budget
def test_run_falls_back_and_says_why():
    spec = variant(SMALL_VGG, "  - VGG16:", "  - Dropout: {rate: 0.1}\n  - VGG16:")
    result = zoo.run(spec, weights=None, samples=8, epochs=1, verbose=0)
    assert not result.fast_path
    assert result.notes == ["plain fit: no frozen layer with parameters comes before dropout"]


DETERMINISM = """
import json, sys, numpy as np, zoo
out = {}
for seed in (0, 1):
    r = zoo.run("conv2d_stride2", seed=seed, samples=16, epochs=2, verbose=0)
    out[seed] = {"weights": [w.tolist() for w in r.model.get_weights()[-2:]],
                 "history": r.history, "predictions": r.predictions.tolist()}
print(json.dumps(out))
"""


@pytest.mark.slow
def test_same_seed_same_result_in_two_processes_different_seed_different():
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", DETERMINISM],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(2)
    ]  # two processes side by side
    outs = [p.communicate()[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    first, second = (json.loads(out.strip().splitlines()[-1]) for out in outs)
    assert first["0"] == second["0"]  # exact: weights, history and predictions
    assert first["1"] == second["1"]
    assert first["0"]["weights"] != first["1"]["weights"]
    assert first["0"]["predictions"] != first["1"]["predictions"]


STRATEGY = """
import json
import numpy as np
from zoo.keras import training
training.split_cpu_for_jax(2)   # JAX reads it when it starts; TensorFlow splits its CPU below
import keras, zoo
strategy = training.data_parallel(2)
zoo.build("conv2d_stride2", strategy=strategy)
r = zoo.run("conv2d_stride2", samples=16, epochs=1, batch_size=8, verbose=0, strategy=strategy)
kernel = r.model.get_layer("dense").kernel
if keras.backend.backend() == "tensorflow":   # a MirroredStrategy: one copy per replica
    copies = [v.numpy() for v in kernel.value.values]
    devices = sorted(v.device.split("/")[-1] for v in kernel.value.values)
else:   # keras.distribution.DataParallel: the variable replicated over the mesh
    copies = [np.asarray(s.data) for s in kernel.value.addressable_shards]
    devices = sorted(str(s.device) for s in kernel.value.addressable_shards)
print(json.dumps({
    "strategy": type(strategy).__name__,
    "devices": devices,
    "same": all(bool((c == copies[0]).all()) for c in copies),
    "loss": r.history["loss"],
}))
from zoo.cli import main   # the command line asks for the same: --devices 2
assert main(["run", "conv2d_stride2", "--devices", "2", "--epochs", "1", "--samples", "8", "--quiet"]) == 0
"""


@pytest.mark.slow
def test_run_data_parallel_over_two_logical_cpus():
    """TensorFlow's MirroredStrategy, or Keras's DataParallel under JAX, per KERAS_BACKEND."""
    done = subprocess.run([sys.executable, "-c", STRATEGY], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(next(line for line in done.stdout.splitlines() if line.startswith('{"strategy"')))
    assert "predictions: shape (8, 10); first rows:" in done.stdout  # zoo run --devices 2
    import keras

    if keras.backend.backend() == "tensorflow":
        assert out["strategy"] == "MirroredStrategy"
        assert out["devices"] == ["device:CPU:0", "device:CPU:1"]
    else:
        assert out["strategy"] == "DataParallel"
        assert len(set(out["devices"])) == 2
    assert out["same"]  # every device holds the same trained weights
    assert len(out["loss"]) == 1 and np.isfinite(out["loss"][0])


@pytest.mark.slow  # seconds: the inner loop's budget
def test_cli_run_prints_summary_progress_and_predictions(capsys):
    from zoo.cli import main

    assert main(["run", "global_average_pooling2d", "--epochs", "1", "--samples", "6", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert 'Model: "global_average_pooling2d"' in out
    assert "predictions: shape (6, 10); first rows:" in out


def test_cli_weights_path_and_install(tmp_path, monkeypatch, capsys):
    import dataclasses

    from zoo.cli import main
    from zoo.keras import weights

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    assert main(["weights", "path", "vgg16"]) == 0
    expected = tmp_path / "home" / "models" / weights.imagenet_file("vgg16").filename
    assert capsys.readouterr().out.strip() == str(expected)
    made = tmp_path / "made.h5"
    made.write_bytes(b"pretend weights")
    assert main(["weights", "install", "vgg16", str(made)]) == 2  # wrong hash: refused
    assert "does not match" in capsys.readouterr().err and not expected.exists()
    trusted = dataclasses.replace(weights.imagenet_file("vgg16"), file_hash=weights.md5sum(made))
    monkeypatch.setattr(weights, "imagenet_file", lambda model, include_top=False: trusted)
    assert main(["weights", "install", "vgg16", str(made)]) == 0
    assert expected.read_bytes() == b"pretend weights"


def test_a_frozen_batch_normalization_may_sit_before_the_base():
    """Keras 3 runs a frozen BatchNormalization in inference mode: deterministic, so part of the prefix."""
    chosen = training.plan(
        variant(SMALL_VGG, "  - VGG16:", "  - BatchNormalization: {trainable: false}\n  - VGG16:")
    )
    assert [layer.name for layer in chosen.prefix] == [
        "batch_normalization",
        "vgg16",
        "global_average_pooling2d",
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "classes: 10}",
            "classes: 12}",
            "data.classes: sparse_categorical_crossentropy needs one output unit per class, but the model's "
            "output (None, 10) has 10. Received: classes=12. Valid: 10",
        ),
        (
            "loss: sparse_categorical_crossentropy",
            "loss: binary_crossentropy",
            "data.classes: binary_crossentropy takes labels 0 and 1. Received: classes=10. Valid: 2",
        ),
    ],
)
def test_labels_the_loss_cannot_take_are_a_spec_error_before_fitting(old, new, message):
    text = (ROOT / "specs" / "conv2d_stride2.yaml").read_text()
    assert old in text
    with pytest.raises(zoo.SpecError, match=re.escape(message)):
        zoo.run(zoo.Spec.from_yaml(text.replace(old, new)), samples=4, epochs=1, verbose=0)


@pytest.mark.slow  # seconds: the inner loop's budget
def test_categorical_crossentropy_gets_one_hot_labels():
    text = (ROOT / "specs" / "conv2d_stride2.yaml").read_text()
    spec = zoo.Spec.from_yaml(text.replace("sparse_categorical_crossentropy", "categorical_crossentropy"))
    _, y = training.dummy_data(spec, 6, seed=0)
    assert y.shape == (6, 10) and (y.sum(axis=1) == 1).all()
    assert zoo.run(spec, samples=6, epochs=1, verbose=0).predictions.shape == (6, 10)


@pytest.mark.parametrize("name", [n for n in zoo.names() if zoo.spec(n).data is not None])
def test_every_runnable_spec_has_labels_its_loss_can_take(name):
    spec = zoo.spec(name)
    x, y = training.dummy_data(spec, 2, seed=0)
    assert x.shape == (2, *spec.input)
    assert y.shape[0] == 2
