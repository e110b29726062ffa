"""Every class of keras.layers is catalogued (with its formula rule), an alias of one, or refused with
its reason (issue 25): a class a future Keras release adds fails here, naming it, until zoo
catalogues or refuses it."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import zoo
from zoo.specification import catalog, keras_versions


def keras_layer_classes(layers: Any) -> list[str]:
    return sorted(n for n in dir(layers) if not n.startswith("_") and inspect.isclass(getattr(layers, n)))


def unaccounted(layers: Any) -> list[str]:
    """The classes of ``layers`` (keras.layers) that zoo neither catalogues nor refuses."""
    return [n for n in keras_layer_classes(layers) if n not in catalog.LAYERS and n not in catalog.REFUSED]


def test_every_keras_layers_class_is_catalogued_or_refused():
    import keras

    missing = unaccounted(keras.layers)
    assert not missing, (
        f"keras {keras.__version__} has layer classes zoo neither catalogues nor refuses: "
        f"{', '.join(missing)}; "
        "add each to zoo/specification/catalog.py: LAYERS with its rule in zoo/arith/rules.py and property "
        "tests, or REFUSED with the reason (and the README's table)"
    )


def test_a_class_a_new_keras_adds_fails_naming_it(monkeypatch):
    import keras

    class FutureLayer(keras.layers.Layer):
        pass

    monkeypatch.setattr(keras.layers, "FutureLayer", FutureLayer, raising=False)
    assert unaccounted(keras.layers) == ["FutureLayer"]


def test_refused_classes_are_keras_layers_classes_and_not_catalogued():
    import keras

    classes = keras_layer_classes(keras.layers)
    for name, reason in catalog.REFUSED.items():
        assert name not in catalog.LAYERS
        assert reason and reason[0].islower() and not reason.endswith(".")
        assert name in classes, f"{name} is refused but keras {keras.__version__} has no such class"


def test_every_refused_class_is_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("### Layers zoo refuses", 1)[1].split("\n## ", 1)[0]
    for name in catalog.REFUSED:
        assert f"`{name}`" in section, name


@pytest.mark.parametrize("name", sorted(catalog.REFUSED))
def test_a_spec_naming_a_refused_class_is_told_why(name):
    with pytest.raises(zoo.SpecError, match=f"zoo refuses {name}: ") as error:
        zoo.Spec.from_dict({"name": "m", "description": "m", "input": [4], "layers": [{name: {}}]})
    assert "layers[0]" in str(error.value)
    with pytest.raises(zoo.SpecError, match=f"zoo refuses {name}: "):
        zoo.Spec.from_dict(
            {
                "name": "m",
                "description": "m",
                "input": [4],
                "layers": [{"Opaque": {"class_name": name, "output_shape": [4]}}],
            }
        )


def test_the_catalogue_s_layers_newer_than_keras_are_recorded():
    """A catalogued class the running Keras lacks is one the version data says is newer."""
    import keras

    on = keras_versions.parse(keras.__version__)
    for kind, entry in catalog.LAYERS.items():
        if entry.module != "keras.layers" or kind in (catalog.OPAQUE, catalog.CALL):
            continue
        if not hasattr(keras.layers, kind):
            introduced = keras_versions.introduced(kind)
            assert introduced is not None and not introduced.is_new(on), kind
