"""Pretrained weights offline: Keras's cache, Keras's hash, and clear errors; never random by accident.

No test downloads anything: the network is replaced by a function that fails,
and the weights files are made by the tests from a seeded VGG16 base.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest

import zoo
from zoo.keras import weights
from zoo.keras.weights import WeightsError

NOTOP = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """An empty Keras cache and no network."""
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))

    def offline(wf):
        raise OSError("network is unreachable")

    monkeypatch.setattr(weights, "download", offline)
    return home


@pytest.fixture(scope="module")
def made_weights(tmp_path_factory):
    """A seeded VGG16 base's weights in Keras's legacy .h5 layout (the layout of the ImageNet file)."""
    import h5py
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    keras.utils.set_random_seed(7)
    base = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    path = tmp_path_factory.mktemp("weights") / "made_vgg16_notop.h5"
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, base)
    return path, [w.numpy() for w in base.weights]


def _trust(monkeypatch, path):
    """Make zoo expect the hash of a test-made file, as it expects Keras's for the real one."""
    trusted = dataclasses.replace(weights.imagenet_file("vgg16"), file_hash=weights.md5sum(path))
    monkeypatch.setattr(weights, "imagenet_file", lambda model, include_top=False: trusted)
    original = weights.WeightsFile.of_spec.__func__
    monkeypatch.setattr(
        weights.WeightsFile,
        "of_spec",
        classmethod(
            lambda cls, spec: (
                trusted if original(cls, spec).filename == trusted.filename else original(cls, spec)
            )
        ),
    )


def test_missing_imagenet_weights_say_where_to_put_them(keras_home):
    with pytest.raises(WeightsError) as exc:
        zoo.build("vgg16_transfer")
    message = str(exc.value)
    assert NOTOP in message
    assert f"{keras_home / 'models'}/" in message
    assert "weights=None" in message
    assert not (keras_home / "models" / NOTOP).exists()


def test_weights_none_builds_the_architecture_offline(keras_home):
    model = zoo.build("vgg16_transfer", weights=None, compile=False)
    assert model.count_params() == 14_848_586


def test_a_corrupted_cache_file_is_refused_and_left_alone(keras_home):
    target = keras_home / "models" / NOTOP
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not really an HDF5 file")
    with pytest.raises(WeightsError, match=r"does not match Keras's published md5 6d6bbae1"):
        zoo.build("vgg16_transfer")
    assert target.read_bytes() == b"not really an HDF5 file"


def test_install_refuses_a_file_with_the_wrong_hash(keras_home, made_weights):
    path, _ = made_weights
    with pytest.raises(WeightsError, match="does not match"):
        weights.install("vgg16", path)
    assert not (keras_home / "models").exists()


def test_installed_weights_load_through_the_keras_cache(keras_home, made_weights, monkeypatch):
    path, expected = made_weights
    _trust(monkeypatch, path)
    target = weights.install("vgg16", path)
    assert target == keras_home / "models" / NOTOP
    model = zoo.build("vgg16_transfer", compile=False)  # the spec says weights: imagenet
    loaded = [w.numpy() for w in model.get_layer("vgg16").weights]
    assert len(loaded) == len(expected) == 26
    for got, want in zip(loaded, expected):
        np.testing.assert_array_equal(got, want)


def test_weights_load_from_a_path(made_weights):
    path, expected = made_weights
    model = zoo.build("vgg16_transfer", weights=os.fspath(path), compile=False)
    got = model.get_layer("vgg16").weights
    np.testing.assert_array_equal(got[0].numpy(), expected[0])
    np.testing.assert_array_equal(got[-1].numpy(), expected[-1])


def test_a_missing_weights_path_is_an_error(tmp_path):
    """keras.applications' own rule, in its words, before anything is built."""
    with pytest.raises(zoo.SpecError, match="The `weights` argument should be either `None`"):
        zoo.build("vgg16_transfer", weights=tmp_path / "nope.h5")


def test_zoo_offline_skips_the_download(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    with pytest.raises(OSError, match="ZOO_OFFLINE is set"):
        weights.download(weights.imagenet_file("vgg16"))
    with pytest.raises(WeightsError, match=r"could not be downloaded \(OSError\)"):
        weights.resolve("imagenet")
