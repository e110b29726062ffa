"""The README's table of family files beside the Keras modules they mirror (tools/family_lines.py)."""

from __future__ import annotations

import importlib.util
import re

import pytest
from conftest import ROOT

spec = importlib.util.spec_from_file_location("family_lines", ROOT / "tools" / "family_lines.py")
assert spec is not None and spec.loader is not None
family_lines = importlib.util.module_from_spec(spec)
spec.loader.exec_module(family_lines)


def test_code_lines_leave_out_blank_lines_comments_docstrings_and_long_strings():
    text = '''"""Module docstring,
over two lines."""
import os  # a comment

DOC = """documentation
of several lines"""


def f(x):
    """One line."""
    # only a comment
    return (x +
            1)
'''
    # import os; the DOC assignment's line holds code (DOC =); def f; return over two lines
    assert family_lines.python_code_lines(text) == 5


def test_every_family_file_is_in_the_table_and_mirrors_a_keras_module():
    families = {p.stem for p in (ROOT / "specs").glob("*.yaml") if re.search(r"(?m)^family:", p.read_text())}
    assert set(family_lines.MIRRORS) == families - {"vit"}  # vit.yaml is zoo's own: Keras has none


def test_the_readme_s_table_is_up_to_date():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split(family_lines.BEGIN)[1].split(family_lines.END)[0].strip()
    version, _ = family_lines.keras_release()
    if f"Keras {version} source" not in table:
        pytest.skip(f"the table counts another Keras release's source than {version}")
    assert table == "\n".join(family_lines.table()), "run: python tools/family_lines.py --readme"
