"""zoo as a fixture library, as other projects meet it: pytester runs throwaway test modules."""

from __future__ import annotations

import importlib.metadata

import pytest

pytest_plugins = ["pytester"]

FIRST = """
import sys

# Collected before any other module: by now pytest has loaded every plugin, zoo's included.
LOADED = sorted(m for m in sys.modules if m in ("tensorflow", "keras"))


def test_having_zoo_installed_does_not_import_tensorflow(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin("zoo"), "zoo's plugin was not registered"
    assert LOADED == []
"""

DOWNSTREAM = """
import keras
import pytest

import zoo.testing


@zoo.testing.parametrize_models("conv2d_s*")
def test_every_matching_spec(model_name, zoo_model):
    model = zoo_model(model_name, weights=None, compile=False)
    assert model.name == model_name


def test_models_are_fresh(zoo_model):
    first = zoo_model("conv2d_stride2")
    first.get_layer("dense").trainable = False
    first.get_layer("conv2d").kernel.assign(first.get_layer("conv2d").kernel * 0)
    second = zoo_model("conv2d_stride2")
    assert second.get_layer("dense").trainable
    assert float(abs(keras.ops.convert_to_numpy(second.get_layer("conv2d").kernel)).sum()) > 0


def my_model(units, activation=None):
    inputs = keras.Input((8,), name="x")
    hidden = keras.layers.Dense(units, activation=activation, name="hidden")(inputs)
    return keras.Model(inputs, keras.layers.Dense(2, name="out")(hidden), name="mine")


def constant(model, value):
    for w in model.weights:
        w.assign(keras.ops.full(w.shape, value))
    return model


def test_fingerprint_pinned(zoo_golden):
    zoo_golden(my_model(4, "relu"), basename="fp", fingerprint=True)


def test_fingerprint_activation_changed(zoo_golden):
    zoo_golden(my_model(4, "tanh"), basename="fp", fingerprint=True)  # the same summary


def test_own_weights_pinned(zoo_golden):
    zoo_golden(constant(my_model(4), 0.1), basename="own", fingerprint=True, weights="own")


def test_own_weights_changed(zoo_golden):
    zoo_golden(constant(my_model(4), 0.2), basename="own", fingerprint=True, weights="own")


def test_pinned(zoo_golden):
    zoo_golden(my_model(4))


def test_pinned_wrong(zoo_golden):
    zoo_golden(my_model(5))


def test_not_pinned_yet(zoo_golden):
    zoo_golden(my_model(3))
"""


@pytest.fixture
def keras_first():
    """Keras (and its backend) imported before pytester snapshots sys.modules: pytester drops the
    modules a test imported, and re-importing jaxlib in the same process aborts it."""
    import keras

    return keras


@pytest.mark.slow
def test_downstream_suite_uses_every_fixture(keras_first, pytester):
    keras = keras_first

    from zoo.testing import fingerprint_of, fingerprint_text, golden_text

    pytester.makepyfile(test_a_first=FIRST, test_downstream=DOWNSTREAM)
    data = pytester.path / "test_downstream"
    data.mkdir()

    def model(units, activation=None):
        inputs = keras.Input((8,), name="x")
        hidden = keras.layers.Dense(units, activation=activation, name="hidden")(inputs)
        return keras.Model(inputs, keras.layers.Dense(2, name="out")(hidden), name="mine")

    (data / "test_pinned.yml").write_text(golden_text(model(4)))
    (data / "test_pinned_wrong.yml").write_text(golden_text(model(4)))  # the test builds 5 units
    (data / "fp.yml").write_text(golden_text(model(4, "relu")))
    (data / "fp.fingerprint.yml").write_text(fingerprint_text(fingerprint_of(model(4, "relu"))))
    own = model(4)
    for w in own.weights:
        w.assign(keras.ops.full(w.shape, 0.1))
    (data / "own.yml").write_text(golden_text(own))
    (data / "own.fingerprint.yml").write_text(fingerprint_text(fingerprint_of(own, weights="own"), "own"))

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=7, failed=4)
    out = result.stdout.str()
    # the summary is the same; what the hidden layer computes is not: the fingerprint names it
    assert "FAILED test_downstream.py::test_fingerprint_activation_changed" in out
    assert "first divergence at layer 0 'hidden'" in out
    assert "FAILED test_downstream.py::test_own_weights_changed" in out
    # with seeded weights the fingerprint does not depend on what the model holds
    seeded = model(4, "relu")
    for w in seeded.weights:
        w.assign(keras.ops.full(w.shape, 0.5))
    assert fingerprint_of(seeded).layers == fingerprint_of(model(4, "relu")).layers
    assert "FAILED test_downstream.py::test_pinned_wrong" in out
    # a unified diff that names the row that changed, in zoo's table format
    assert "-  - [hidden, Dense, [null, 4], 36, 36, true]" in out
    assert "+  - [hidden, Dense, [null, 5], 45, 45, true]" in out
    assert "FAILED test_downstream.py::test_not_pinned_yet" in out
    assert (data / "test_not_pinned_yet.yml").is_file()  # written for review, as pytest-regressions does

    again = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--force-regen", "-k", "pinned_wrong")
    again.assert_outcomes(failed=1)  # --force-regen rewrites the golden (and says so by failing once)
    assert "- [hidden, Dense, [null, 5], 45, 45, true]" in (data / "test_pinned_wrong.yml").read_text()


def test_parametrize_models_ids_are_the_spec_names():
    import zoo.testing

    mark = zoo.testing.parametrize_models("conv2d_s*").mark
    assert mark.args == ("model_name", ["conv2d_same", "conv2d_stride2"])
    assert mark.kwargs["ids"] == ["conv2d_same", "conv2d_stride2"]
    with pytest.raises(zoo.SpecError, match="no spec matches 'nothing\\*'"):
        zoo.testing.parametrize_models("nothing*")


def test_the_plugin_is_registered_for_pytest():
    try:
        points = importlib.metadata.entry_points(group="pytest11")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        points = []
    if not any(p.name == "zoo" for p in points):
        pytest.skip("zoo is not installed in this environment (running from a bare checkout)")
    assert [p.value for p in points if p.name == "zoo"] == ["zoo.pytest_plugin"]


def test_plugin_module_imports_no_framework():
    import subprocess
    import sys

    code = (
        "import sys, zoo.pytest_plugin, zoo.testing\n"
        "print(sorted(m for m in sys.modules if m in ('tensorflow', 'keras')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
