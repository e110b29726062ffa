"""Two of the three witnesses for every model with goldens, without Keras: the formula engine's
table is the golden's, row by row (the keras.applications families and the NAME@imagenet
configurations included). Not backend-sensitive: the formula engine imports no framework."""

from __future__ import annotations

import pytest
from conftest import GOLDENS

import zoo
from zoo.arith.summary import differences
from zoo.golden import check, summaries

NAMES = check.pinned()


@pytest.mark.parametrize("name", NAMES)
def test_the_formula_engine_equals_every_golden(name):
    """Keras's table is compared in tests/test_goldens.py (for the keras.applications-sized models
    in the `large` tier)."""
    golden = summaries.KIND.read(GOLDENS, name)
    assert golden is not None, f"no summary golden for {name}: run `zoo golden regen {name}`"
    formula = zoo.summary(name, engine="formula")
    made = f"golden (made with {golden.made_with})"
    assert formula == golden, "\n".join(differences({"formula": formula, made: golden}))
