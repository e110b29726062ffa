"""The extension point: a package adds a layer kind through an entry point (group ``zoo.layers``),
and every witness computes it as it computes zoo's own.

``tests/extension_example`` is such a package, in two modules as a real one would be: its
arithmetic in plain Python (``zoo_channel_scale``) and its Keras class (``channel_scale_layers``).
The entry point is made as ``importlib.metadata`` makes those of installed packages.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import zoo
from zoo.specification import catalog, extensions

EXAMPLE = Path(__file__).parent / "extension_example"
SPEC = """\
name: scaled
description: A convolution whose channels an extension's layer scales.
input: [8, 8, 3]
layers:
  - Conv2D: {filters: 4, kernel_size: 3}
  - ChannelScale: {}
  - GlobalAveragePooling2D: {}
"""


def entry_point(value: str, name: str = "example") -> importlib.metadata.EntryPoint:
    return importlib.metadata.EntryPoint(name=name, value=value, group=extensions.GROUP)


@pytest.fixture
def channel_scale(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE))
    names = extensions.load([entry_point("zoo_channel_scale:layers")])
    assert names == ["ChannelScale"]
    yield
    for name in names:
        extensions.unregister(name)


def test_a_spec_names_the_extension_s_kind_and_both_witnesses_agree(channel_scale):
    spec = zoo.Spec.from_yaml(SPEC)
    formula, keras_side = zoo.summary(spec, engine="formula"), zoo.summary(spec, engine="keras")
    assert formula.rows == keras_side.rows
    row = formula.rows[1]
    assert (row.name, row.type, row.output_shape, row.params) == (
        "channel_scale",
        "ChannelScale",
        (None, 6, 6, 4),
        4,
    )
    assert "channel_scale: out = in; params = channels = 4" in zoo.explain(spec)
    assert (
        catalog.LAYERS["ChannelScale"].source
        == "entry point example = zoo_channel_scale:layers (group zoo.layers)"
    )


def test_a_keras_model_holding_the_extension_s_class_imports(channel_scale):
    import keras
    from channel_scale_layers import ChannelScale

    inputs = keras.Input((8, 8, 3))
    x = ChannelScale(name="scale")(keras.layers.Conv2D(4, 3)(inputs))
    model = keras.Model(inputs, x)
    spec = zoo.from_keras(model, name="imported")  # built again and compared before it returns
    assert [layer.kind for layer in spec.layers] == ["Conv2D", "ChannelScale"]
    ours = zoo.build(spec, compile=False)
    ours.set_weights([np.full(w.shape, 0.5, "float32") for w in model.get_weights()])
    model.set_weights(ours.get_weights())
    x = np.ones((1, 8, 8, 3), "float32")
    assert np.array_equal(np.asarray(ours(x)), np.asarray(model(x)))


def test_without_the_extension_the_kind_is_unknown():
    with pytest.raises(zoo.SpecError, match="unknown layer class"):
        zoo.Spec.from_yaml(SPEC)


def test_a_broken_extension_is_left_out_with_a_warning_naming_it(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE))
    with pytest.warns(UserWarning, match="entry point broken = no_such_module:layers .* was not loaded"):
        assert extensions.load([entry_point("no_such_module:layers", "broken")]) == []
    taken = extensions.Extension("Conv2D", lambda shape, a, rank: None, module="x")
    monkeypatch.setitem(sys.modules, "clash_module", type(sys)("clash_module"))
    sys.modules["clash_module"].layers = lambda: [taken]
    with pytest.warns(UserWarning, match="the catalogue has Conv2D already"):
        assert extensions.load([entry_point("clash_module:layers", "clash")]) == []
    assert catalog.LAYERS["Conv2D"].source == "zoo"


@pytest.mark.slow  # a fresh process
def test_an_installed_package_s_entry_point_is_found(tmp_path):
    """The whole path, as pip installs a package: its dist-info's entry_points.txt on sys.path."""
    dist = tmp_path / "zoo_channel_scale-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: zoo-channel-scale\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[zoo.layers]\nexample = zoo_channel_scale:layers\n")
    code = (
        "import sys; import zoo; from zoo.specification import catalog; "
        "print(catalog.LAYERS['ChannelScale'].source); print('keras' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": f"{tmp_path}:{EXAMPLE}", "PATH": "/usr/bin:/bin"},
        check=True,
    ).stdout.splitlines()
    assert out == ["entry point example = zoo_channel_scale:layers (group zoo.layers)", "False"]
