"""Each family file's size beside the Keras source file it mirrors, as a table in the README.

    python tools/family_lines.py            # print the table
    python tools/family_lines.py --readme   # rewrite it between the README's markers

Both sides are counted the same way: lines that hold code, not blank, not only a comment, and for
Keras's Python neither a docstring nor a string of several lines (``BASE_DOCSTRING``): those are
its documentation, which a family file keeps in its ``description``, ``source`` and comments. A
family file's count is :func:`zoo.specification.recognise.size`'s (the measure of
``zoo import --blocks``). The Keras side is the installed release's ``keras/src/applications``
(its version is in the table's heading); a family file describes every variant, their argument
rules and weights files, as Keras's module does.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import importlib.util
import io
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from import_sizes import write_readme_section  # noqa: E402 - after the paths it is found on

BEGIN, END = "<!-- family-lines -->", "<!-- /family-lines -->"

# family file -> the keras/src/applications modules whose code it mirrors; ResNetV2's blocks live in
# resnet.py (residual_block_v2, stack_residual_blocks_v2), which resnet_v2.py imports
MIRRORS: dict[str, tuple[str, ...]] = {
    "vgg": ("vgg16.py", "vgg19.py"),
    "resnet": ("resnet.py",),
    "resnet_v2": ("resnet_v2.py", "resnet.py"),
    "mobilenet": ("mobilenet.py",),
    "mobilenet_v2": ("mobilenet_v2.py",),
    "mobilenet_v3": ("mobilenet_v3.py",),
    "densenet": ("densenet.py",),
    "inception_v3": ("inception_v3.py",),
    "inception_resnet_v2": ("inception_resnet_v2.py",),
    "xception": ("xception.py",),
    "efficientnet": ("efficientnet.py",),
    "efficientnet_v2": ("efficientnet_v2.py",),
    "convnext": ("convnext.py",),
    "nasnet": ("nasnet.py",),
}


def python_code_lines(text: str) -> int:
    """Lines of Python that hold code: not blank, not only a comment, not inside a docstring."""
    docstrings: set[int] = set()
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    docstrings.update(range(body[0].lineno, (body[0].end_lineno or body[0].lineno) + 1))
    code: set[int] = set()
    skip = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type in skip or token.type == tokenize.ENDMARKER:
            continue
        if token.type == tokenize.STRING and token.end[0] > token.start[0]:
            continue  # a string of several lines is documentation (BASE_DOCSTRING), not code
        code.update(range(token.start[0], token.end[0] + 1))
    return len(code - docstrings)


def keras_release() -> tuple[str, Path]:
    """The installed Keras's version and its keras/src/applications folder, without importing it
    (importing Keras starts its backend, TensorFlow: seconds, for reading files)."""
    found = importlib.util.find_spec("keras")
    if found is None or not found.submodule_search_locations:
        raise SystemExit("keras is not installed")
    folder = Path(next(iter(found.submodule_search_locations)))
    return importlib.metadata.version("keras"), folder / "src" / "applications"


def table() -> list[str]:
    from zoo.specification import recognise

    version, source = keras_release()
    rows = [
        f"| family file | lines | Keras {version} source | lines of code | file / Keras |",
        "|---|---:|---|---:|---:|",
    ]
    for family, modules in MIRRORS.items():
        ours = recognise.size((ROOT / "specs" / f"{family}.yaml").read_text(encoding="utf-8"))[0]
        theirs = sum(python_code_lines((source / m).read_text(encoding="utf-8")) for m in modules)
        names = " + ".join(f"`{m}`" for m in modules)
        rows.append(f"| `{family}.yaml` | {ours} | {names} | {theirs} | {ours / theirs:.2f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--readme", action="store_true", help="rewrite the README's table")
    args = parser.parse_args()
    text = "\n".join(table())
    print(text)
    if args.readme:
        write_readme_section(BEGIN, END, text)


if __name__ == "__main__":
    main()
