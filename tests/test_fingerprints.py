"""Numeric fingerprints: every spec's layer outputs, with seeded weights, pinned within tolerance.

The goldens (tests/goldens/NAME.fingerprint.yml) were recorded on TensorFlow; the suite
runs these tests on JAX too (README), so each golden is also the cross-backend check.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import GOLDENS, ROOT, model_params

import zoo
from zoo.golden import fingerprints
from zoo.keras import fingerprint, seeding
from zoo.keras.fingerprint import Fingerprint, LayerPrint
from zoo.specification import catalog

pytestmark = pytest.mark.backend

NAMES = zoo.names()


@pytest.mark.parametrize("name", model_params(NAMES))
def test_fingerprint_matches_its_golden(name):
    path = fingerprints.KIND.path(GOLDENS, name)
    assert path.is_file(), f"no fingerprint golden for {name}: run `zoo golden regen {name}`"
    drift = fingerprints.compare(
        fingerprints.loads(path.read_text(encoding="utf-8")), fingerprint.take(zoo.spec(name))
    )
    assert drift is None, f"{name} on {fingerprint.backend_label()}: {drift}"


@pytest.mark.slow  # reads every golden
def test_every_fingerprint_golden_belongs_to_a_spec_and_records_its_input():
    for path in GOLDENS.glob("*.fingerprint.yml"):
        fp = fingerprints.loads(path.read_text(encoding="utf-8"))
        assert fp.spec == path.name.removesuffix(".fingerprint.yml") and fp.spec in NAMES
        assert fp.input_shape[0] == seeding.BATCH


# --- seeded weights ------------------------------------------------------------------------------


def test_seeded_values_have_the_documented_distribution():
    kernel = seeding.seeded_values("s", "conv", "Conv2D", "kernel", (3, 3, 64, 128))
    assert kernel.dtype == np.float32
    assert abs(kernel.std() * math.sqrt(3 * 3 * 64) - 1) < 0.02  # variance 1/fan-in
    assert abs(kernel.mean()) < 0.01
    variance = seeding.seeded_values("s", "bn", "BatchNormalization", "moving_variance", (1000,))
    assert variance.min() >= 0.5 and variance.max() <= 1.5  # positive, as BatchNormalization needs
    gamma = seeding.seeded_values("s", "bn", "BatchNormalization", "gamma", (1000,))
    assert gamma.min() >= 0.25 and gamma.max() <= 0.75
    bias = seeding.seeded_values("s", "conv", "Conv2D", "bias", (1000,))
    assert 0.08 < bias.std() < 0.12


@pytest.mark.parametrize(
    ("layer_class", "weight", "shape", "fan_in"),
    [
        ("Conv2D", "kernel", (3, 3, 16, 32), 3 * 3 * 16),
        ("Dense", "kernel", (512, 10), 512),
        ("DepthwiseConv2D", "kernel", (3, 3, 32, 1), 9),  # one input channel per output
        ("SeparableConv2D", "depthwise_kernel", (3, 3, 32, 1), 9),
        ("SeparableConv2D", "pointwise_kernel", (1, 1, 32, 64), 32),
        ("Conv2DTranspose", "kernel", (3, 3, 8, 16), 3 * 3 * 16),  # Keras: (*kernel, out, in)
        ("Conv1D", "kernel", (5, 4, 8), 20),
    ],
)
def test_fan_in_follows_keras_kernel_layouts(layer_class, weight, shape, fan_in):
    assert seeding.fan_in(layer_class, weight, shape) == fan_in


def test_seeds_depend_on_spec_layer_and_weight_names_only():
    a = seeding.seeded_values("spec", "block1/conv", "Conv2D", "kernel", (3, 3, 3, 4))
    assert np.array_equal(a, seeding.seeded_values("spec", "block1/conv", "Conv2D", "kernel", (3, 3, 3, 4)))
    for other in (
        ("spec2", "block1/conv", "kernel"),
        ("spec", "block2/conv", "kernel"),
        ("spec", "block1/conv", "bias"),
    ):
        b = seeding.seeded_values(other[0], other[1], "Conv2D", other[2], (3, 3, 3, 4))
        assert not np.array_equal(a, b), other


def test_seeded_build_sets_every_weight_and_ignores_what_was_built_before():
    first = zoo.build("unet_small", weights="seeded", compile=False)
    zoo.build("conv2d", weights=None, compile=False)  # moves Keras's own name counters and seeds
    second = zoo.build("unet_small", weights="seeded", compile=False)
    assert len(first.weights) == len(second.weights) > 0
    for a, b in zip(first.weights, second.weights, strict=True):
        assert np.array_equal(np.asarray(a), np.asarray(b)), a.path
    plain = zoo.build("unet_small", weights=None, compile=False)
    kernel = next(w for w in first.weights if w.path.endswith("kernel"))
    plain_kernel = next(w for w in plain.weights if w.path == kernel.path)
    assert not np.array_equal(np.asarray(kernel), np.asarray(plain_kernel)), (
        "seeded is not Keras's initialiser"
    )


@pytest.mark.slow  # seconds: the inner loop's budget
def test_unnamed_weights_are_seeded_by_position_not_by_keras_s_session_counter():
    """ConvNeXt's LayerScale gamma has no name: Keras calls it variable, variable_1, ... per process."""
    import keras

    from zoo.keras import builder

    def gamma_after(builds: int):
        for _ in range(builds):
            keras.Variable(np.zeros(2))  # moves the counter
        model = keras.Sequential(
            [
                keras.Input((4,)),
                builder.layer_class(keras, catalog.LAYERS["LayerScale"])(
                    init_values=1e-6, projection_dim=4, name="scale"
                ),
            ]
        )
        seeding.seed_model(model, "t")
        return np.asarray(model.weights[0])

    assert np.array_equal(gamma_after(0), gamma_after(3))
    assert np.array_equal(gamma_after(0), seeding.seeded_values("t", "scale", "LayerScale", "weight_0", (4,)))


def test_seeded_deep_models_keep_activations_of_order_one():
    """The reason gamma is about 0.5: with 1, ResNet152's activations reached 1.9e3."""
    golden = fingerprints.loads(fingerprints.KIND.path(GOLDENS, "resnet152").read_text(encoding="utf-8"))
    assert max(lp.scale for lp in golden.layers) < 20


def test_seeded_weights_reach_inside_a_nested_base():
    model = zoo.build("vgg16_transfer", weights="seeded", compile=False, input_shape=(32, 32, 3))
    conv = model.get_layer("vgg16").get_layer("block1_conv1")
    expected = seeding.seeded_values(
        "vgg16_transfer", "vgg16/block1_conv1", "Conv2D", "kernel", conv.kernel.shape
    )
    assert np.array_equal(np.asarray(conv.kernel), expected)


def test_the_layer_by_layer_fingerprint_never_makes_the_model_s_weights():
    """What keeps zoo check within its memory: the architecture's variables stay deferred while each
    layer runs on its own seeded values (a stateless scope left the default way initialises every
    deferred variable of the model: ConvNeXtXLarge's 1.4 GB)."""
    from zoo.keras import builder

    model = builder.architecture(zoo.spec("vgg16_transfer", input_shape=(32, 32, 3)).with_weights(None))
    fingerprint.streamed(model, "vgg16_transfer", (32, 32, 3))
    made = [v.path for v in model.weights if v._value is not None]
    assert made == []


@pytest.mark.parametrize(
    "name",
    [
        "unet_small",  # a functional graph with skip connections
        "vgg16_transfer",  # a nested base: its layers' weights by their path inside it
        # Normalization's finalize_state; unnamed weights and operations (x + y): models Keras builds
        # slowly on JAX, so in the large tier
        pytest.param("efficientnet_b0", marks=[pytest.mark.slow, pytest.mark.large]),
        pytest.param("convnext_tiny", marks=[pytest.mark.slow, pytest.mark.large]),
    ],
)
def test_the_layer_by_layer_fingerprint_is_the_seeded_model_s_bit_for_bit(name):
    """zoo check and the goldens run each layer with its weights made as it runs (the memory of one
    layer); the pytest plugin's seeded model holds all its weights and runs as Keras runs it. Both
    must give the very same numbers."""
    from zoo.keras import builder

    spec = zoo.spec(name).with_weights(None)
    shape = fingerprint.input_shape_for(spec)
    sized = spec if shape == tuple(spec.input) else spec.remade(input_shape=shape)
    whole = fingerprint.of_model(builder.build(sized, compile=False, seeded=True), name, shape)
    streamed = fingerprint.streamed(builder.architecture(sized), name, shape)
    assert [lp.name for lp in streamed.layers] == [lp.name for lp in whole.layers]
    for a, b in zip(whole.layers, streamed.layers, strict=True):
        assert a == b, a.name


_CHILD = """
import json, sys
import zoo
from zoo.keras import fingerprint
fp = fingerprint.take(zoo.spec(sys.argv[1]))
print(json.dumps([[lp.name, list(lp.numbers())] for lp in fp.layers]))
"""


@pytest.mark.slow  # two fresh processes
def test_the_same_fingerprint_in_two_processes():
    """Bit for bit: the seeded weights and the fixed input are numpy's, the arithmetic is the same."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    runs = [
        subprocess.run(
            [sys.executable, "-c", _CHILD, "residual_block"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        for _ in range(2)
    ]
    first, second = (json.loads(r.stdout.strip().splitlines()[-1]) for r in runs)
    assert first == second
    here = fingerprint.take(zoo.spec("residual_block"))
    assert [[lp.name, list(lp.numbers())] for lp in here.layers] == first


# --- comparison ---------------------------------------------------------------------------------


def _fp(*layers: LayerPrint) -> Fingerprint:
    return Fingerprint("t", (2, 4), tuple(layers))


def _lp(name: str, scale: float, values: tuple[float, ...] = (0.0, 0.5)) -> LayerPrint:
    return LayerPrint(name, (2, 4), scale, 0.0, scale / 2, (0, 1), values)


def test_compare_is_relative_to_the_layer_scale_not_element_wise():
    golden = _fp(_lp("a", 100.0, (1e-7, 50.0)))
    # 1e-7 -> 2e-7 doubles a near-zero value, but is 1e-9 of the layer's scale: agreement
    assert fingerprints.compare(golden, _fp(_lp("a", 100.0, (2e-7, 50.0)))) is None
    drift = fingerprints.compare(golden, _fp(_lp("a", 100.0, (1e-7, 50.1))))
    assert drift is not None and drift.what == "value at 1" and drift.deviation == pytest.approx(1e-3)


def test_compare_names_the_first_diverging_layer_and_the_worst():
    golden = _fp(_lp("a", 1.0), _lp("b", 1.0), _lp("c", 1.0))
    got = _fp(_lp("a", 1.0), _lp("b", 1.0, (0.0, 0.51)), _lp("c", 1.0, (0.3, 0.5)))
    drift = fingerprints.compare(golden, got)
    assert (drift.layer, drift.index) == ("b", 1)
    assert drift.worst == ("c", pytest.approx(0.3))
    assert "'b'" in str(drift) and "'c'" in str(drift)


def test_compare_reports_shapes_layers_and_nan():
    golden = _fp(_lp("a", 1.0))
    wrong_shape = _fp(dataclasses.replace(_lp("a", 1.0), shape=(2, 5)))
    assert fingerprints.compare(golden, wrong_shape).what == "shape"
    assert fingerprints.compare(golden, _fp(_lp("z", 1.0))).what == "layer"
    assert fingerprints.compare(golden, _fp(_lp("a", 1.0), _lp("extra", 1.0))).what == "layer"
    assert fingerprints.compare(golden, _fp(_lp("a", 1.0, (float("nan"), 0.5)))).deviation == math.inf


def test_golden_text_round_trips_and_rejects_another_scheme():
    fp = fingerprint.take(zoo.spec("conv2d_same"))
    text = fingerprints.dumps(fp)
    back = fingerprints.loads(text)
    assert fingerprints.compare(back, fp, tol=1e-7) is None
    with pytest.raises(ValueError, match="scheme"):
        fingerprints.loads(text.replace(seeding.SCHEME, "other-v0"))


# --- a simulated framework change is caught, at its layer ---------------------------------------


def test_a_changed_upsampling_interpolation_is_caught_at_that_layer(monkeypatch):
    """As if a Keras upgrade changed UpSampling2D's default from nearest to bilinear."""
    import keras

    original = keras.layers.UpSampling2D.__init__

    def bilinear(self, *args, **kwargs):
        kwargs["interpolation"] = "bilinear"
        original(self, *args, **kwargs)

    monkeypatch.setattr(keras.layers.UpSampling2D, "__init__", bilinear)
    golden = fingerprints.loads(fingerprints.KIND.path(GOLDENS, "unet_small").read_text(encoding="utf-8"))
    drift = fingerprints.compare(golden, fingerprint.take(zoo.spec("unet_small")))
    first_up = next(layer.name for layer in zoo.spec("unet_small").layers if layer.kind == "UpSampling2D")
    assert drift is not None and drift.layer == first_up, drift
    assert drift.deviation > 100 * fingerprints.TOLERANCE  # far outside the noise, not at its edge
    # the summary golden cannot see it: shapes and parameters are the same
    assert zoo.summary("unet_small", engine="keras") == zoo.summary("unet_small", engine="formula")


def test_a_changed_batchnorm_epsilon_is_caught_at_the_first_batchnorm(monkeypatch):
    import keras

    original = keras.layers.BatchNormalization.__init__

    def eps(self, *args, **kwargs):
        kwargs["epsilon"] = 0.1
        original(self, *args, **kwargs)

    monkeypatch.setattr(keras.layers.BatchNormalization, "__init__", eps)
    golden = fingerprints.loads(
        fingerprints.KIND.path(GOLDENS, "mobilenet_block").read_text(encoding="utf-8")
    )
    drift = fingerprints.compare(golden, fingerprint.take(zoo.spec("mobilenet_block")))
    spec = zoo.spec("mobilenet_block")
    first_bn = next(layer.name for layer in spec.layers if layer.kind == "BatchNormalization")
    assert drift is not None and drift.layer == first_bn, drift


# --- the command line: check and regen ----------------------------------------------------------


def _copy_goldens(tmp_path, name):
    for path in (GOLDENS / f"{name}.yml", fingerprints.KIND.path(GOLDENS, name)):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return fingerprints.KIND.path(tmp_path, name)


@pytest.mark.slow  # seconds: the inner loop's budget
def test_zoo_check_names_the_layer_whose_numbers_drifted(tmp_path, capsys):
    from zoo.cli import main

    path = _copy_goldens(tmp_path, "maxpooling2d")
    assert main(["check", "maxpooling2d", "--goldens", str(tmp_path)]) == 0
    golden = fingerprints.loads(path.read_text(encoding="utf-8"))
    third = golden.layers[2]
    moved = dataclasses.replace(third, values=(third.values[0] + 0.01 * third.scale, *third.values[1:]))
    layers = (*golden.layers[:2], moved, *golden.layers[3:])
    path.write_text(fingerprints.dumps(dataclasses.replace(golden, layers=layers)), encoding="utf-8")
    capsys.readouterr()
    assert main(["check", "maxpooling2d", "--goldens", str(tmp_path)]) != 0
    out = capsys.readouterr().out
    assert f"first divergence at layer 2 {third.name!r}: value at {third.at[0]}" in out
    assert "off by 0.01 of the layer's scale" in out


@pytest.mark.slow  # seconds: the inner loop's budget
def test_regen_writes_fingerprints_and_refuses_non_finite_ones(tmp_path, monkeypatch, capsys):
    from zoo.cli import main

    assert main(["golden", "regen", "conv2d_same", "--goldens", str(tmp_path)]) == 0
    written = fingerprints.loads(fingerprints.KIND.path(tmp_path, "conv2d_same").read_text(encoding="utf-8"))
    pinned = fingerprints.loads(fingerprints.KIND.path(GOLDENS, "conv2d_same").read_text(encoding="utf-8"))
    assert fingerprints.compare(pinned, written) is None

    real_streamed = fingerprint.streamed

    def nan_streamed(*args):
        fp = real_streamed(*args)
        bad = dataclasses.replace(fp.layers[0], mean=float("nan"))
        return dataclasses.replace(fp, layers=(bad, *fp.layers[1:]))

    monkeypatch.setattr(fingerprint, "streamed", nan_streamed)
    empty = tmp_path / "empty"
    empty.mkdir()
    capsys.readouterr()
    assert main(["golden", "regen", "conv2d_same", "--goldens", str(empty)]) != 0
    assert "fingerprint: non-finite outputs (nan or inf) at conv2d" in capsys.readouterr().err
    assert list(empty.iterdir()) == []  # nothing written, the summary golden included


@pytest.mark.slow  # seconds: the inner loop's budget
def test_run_starts_from_the_seeded_weights_whatever_its_seed():
    """epochs=0: the model zoo.run returns holds the weights it started from."""
    kwargs = dict(samples=8, epochs=0, verbose=0)
    a, b = (zoo.run("global_average_pooling2d", weights="seeded", seed=s, **kwargs) for s in (0, 1))
    c, d = (zoo.run("global_average_pooling2d", weights=None, seed=s, **kwargs) for s in (0, 1))
    for x, y in zip(a.model.get_weights(), b.model.get_weights(), strict=True):
        assert np.array_equal(x, y)  # the run's seed shuffles and draws data; the start is the spec's
    assert not np.array_equal(c.model.get_weights()[0], d.model.get_weights()[0])  # Keras's initialisers
    assert not np.array_equal(a.model.get_weights()[0], c.model.get_weights()[0])
    from zoo.cli import main

    assert (
        main(
            [
                "run",
                "global_average_pooling2d",
                "--weights",
                "seeded",
                "--epochs",
                "1",
                "--samples",
                "4",
                "--quiet",
            ]
        )
        == 0
    )


def test_the_plugin_s_zoo_model_builds_seeded_models(zoo_model):
    """Other projects' suites get the same numbers: zoo_model passes weights="seeded" through."""
    model = zoo_model("conv2d_same", weights="seeded", compile=False)
    golden = fingerprints.loads(fingerprints.KIND.path(GOLDENS, "conv2d_same").read_text(encoding="utf-8"))
    assert (
        fingerprints.compare(
            golden, fingerprint.of_model(model, "conv2d_same", zoo.spec("conv2d_same").input)
        )
        is None
    )
