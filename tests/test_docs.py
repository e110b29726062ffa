"""The README and the documentation site (docs/), executed: their examples show what zoo prints.

- ```` ```python ```` blocks with ``>>>`` lines are doctests (one namespace per page, ELLIPSIS on);
  the other Python blocks must at least compile.
- ```` ```console ```` blocks are sessions: each ``$ zoo ...`` line runs through ``zoo.cli.main``
  (in-process, from the repository root, so that ``./tests/goldens`` is found; its standard
  error only where it fails, as progress lines are a terminal's bar) and each
  ``$ python -m pytest ...`` line in a fresh folder holding the page's blocks that carry a
  ``title="FILE"``; the lines below a command, up to the next ``$``, are what it must print
  (stdout, then stderr), ``...`` matching anything, as in doctests. Only durations are normalised.
- The README's two commands are the ones ``.ci/run`` runs, byte for byte; the generated pages
  (``docs/generated/``) are what ``tools/docs.py`` writes today.
"""

from __future__ import annotations

import contextlib
import doctest
import importlib.util
import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# Written by tools: docs/generated/ (tools/docs.py, compared below), docs/compatibility.md
# (tools/matrix.py, from runs on every release pair).
PAGES = [
    "README.md",
    *sorted(str(p.relative_to(ROOT)) for p in DOCS.glob("*.md") if p.name != "compatibility.md"),
]
# Pages whose examples build Keras models or run pytest: seconds each.
SLOW = {"README.md", "docs/pytest-plugin.md"}

FENCE = re.compile(r"^```(?P<lang>\w+)(?P<info>[^\n]*)\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
TITLE = re.compile(r'title="([^"]+)"')
DURATION = re.compile(r"(\bin |\()\d+(\.\d+)? ?s\b")


def fences(text: str) -> list[tuple[str, str, str, int]]:
    """(language, info, body, line of the body's first line) of each top-level fenced block."""
    return [
        (m["lang"], m["info"], m["body"], text.count("\n", 0, m.start("body")) + 1)
        for m in FENCE.finditer(text)
    ]


def normalised(text: str) -> str:
    return DURATION.sub(r"\1<duration>", text)


def run_zoo(argv: list[str]) -> str:
    from zoo.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exc:  # argparse's own exits (--help, usage errors)
            status = exc.code if isinstance(exc.code, int) else 1
    # what a terminal shows: the answer; the progress lines on stderr only where something failed
    return out.getvalue() + (err.getvalue() if status else "")


def run_pytest(argv: list[str], folder: Path) -> str:
    env = {**os.environ, "COLUMNS": "80", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *argv],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.stdout + done.stderr


def sessions(body: str) -> list[tuple[str, str]]:
    """A console block's (command, shown output) pairs."""
    found: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            found.append((line[2:], []))
        elif found:
            found[-1][1].append(line)
        else:
            raise AssertionError(f"a console block must start with a `$ ` command line: {line!r}")
    return [(command, "\n".join(lines).rstrip("\n") + "\n") for command, lines in found]


def failures_of(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Run every example of ``page``: a report of each one whose output differs from the page's."""
    text = (ROOT / page).read_text(encoding="utf-8")
    blocks = fences(text)
    for _lang, info, body, _line in blocks:
        title = TITLE.search(info)
        if title:
            path = tmp_path / title.group(1)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body, encoding="utf-8")
    monkeypatch.chdir(ROOT)
    checker = doctest.OutputChecker()
    globs: dict[str, object] = {"__name__": "__docs__"}
    failures: list[str] = []
    for lang, _info, body, line in blocks:
        where = f"{page}:{line}"
        if lang == "python" and ">>>" in body:
            test = doctest.DocTestParser().get_doctest(body, globs, where, str(ROOT / page), line - 1)
            runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
            report: list[str] = []
            runner.run(test, out=report.append, clear_globs=False)
            globs.update(test.globs)  # the page's next blocks see what this one defined
            if runner.failures:
                failures.append("".join(report))
        elif lang == "python":
            compile(body, where, "exec")  # an illustration: it must at least be Python
        elif lang == "console":
            for command, shown in sessions(body):
                argv = shlex.split(command)
                if argv[0] == "zoo":
                    got = run_zoo(argv[1:])
                elif argv[:3] == ["python", "-m", "pytest"]:
                    got = run_pytest(argv[3:], tmp_path)
                else:
                    raise AssertionError(
                        f"{where}: only `$ zoo ...` and `$ python -m pytest ...` run: {command}"
                    )
                if not checker.check_output(normalised(shown), normalised(got), doctest.ELLIPSIS):
                    failures.append(f"{where}: `$ {command}` printed:\n{got}\nThe page shows:\n{shown}")
    return failures


@pytest.mark.parametrize(
    "page",
    [
        pytest.param(
            p,
            marks=[
                *([pytest.mark.slow] if p in SLOW else []),
                # the examples of Keras's release rules run on the oldest supported pair too
                *([pytest.mark.releases] if p == "docs/keras-releases.md" else []),
            ],
        )
        for p in PAGES
    ],
)
def test_the_page_s_examples_print_what_it_shows(page, tmp_path, monkeypatch):
    failures = failures_of(page, tmp_path, monkeypatch)
    assert not failures, "\n\n".join(failures)


def test_the_keras_releases_page_has_its_examples():
    """The doctests that moved from the README's "Keras releases" section are still there."""
    text = (DOCS / "keras-releases.md").read_text(encoding="utf-8")
    blocks = [body for lang, _, body, _ in fences(text) if lang == "python" and ">>>" in body]
    assert sum(body.count(">>> ") for body in blocks) >= 8


def test_a_changed_output_fails(tmp_path, monkeypatch):
    """The comparison can fail: a page whose shown output is one digit off."""
    page = tmp_path / "page.md"
    page.write_text(
        "```console\n$ zoo explain worked_example\n"
        "conv2d: out = floor((32 - 3 + 2) / 1) + 1 = 32; params = (3*3*3 + 1) * 2 = 57\n```\n"
        "```python\n>>> 1 + 1\n3\n```\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    console, python = failures_of("page.md", tmp_path, monkeypatch)
    assert "`$ zoo explain worked_example` printed" in console and "* 2 = 56\n" in console
    assert "Expected:\n    3\nGot:\n    2" in python


def test_sessions_read_commands_and_their_output():
    assert sessions("$ zoo list x\nx  a model\n$ zoo show x\nname: x\n") == [
        ("zoo list x", "x  a model\n"),
        ("zoo show x", "name: x\n"),
    ]
    assert normalised("1 passed in 3.21s\n(0.4 s)\n, in 12 s") == (
        "1 passed in <duration>\n(<duration>)\n, in <duration>"
    )


def _ci_lines() -> list[str]:
    return (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def test_the_readme_s_two_commands_are_what_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Two commands") :]
    section = section[: section.index("\n## ", 1)]
    commands = [body.strip() for lang, _, body, _ in fences(section) if lang == "sh"]
    assert len(commands) == 2
    main_job, tests = commands
    assert main_job == "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/zoo tour"
    ci = _ci_lines()
    assert tests in ci  # verbatim, a line of its own
    assert any(line.startswith(main_job + " ") or line == main_job for line in ci)


def _docs_tool():
    spec = importlib.util.spec_from_file_location("zoo_docs_tool", ROOT / "tools" / "docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # seconds: the inner loop's budget
def test_the_generated_pages_are_up_to_date():
    """docs/generated/ is what `python tools/docs.py` writes today (pages compared byte for byte,
    pictures present): a change to the parser, the catalogue or a model makes it stale."""
    stale = _docs_tool().stale()
    assert not stale, f"stale generated pages (run `python tools/docs.py`): {stale}"


@pytest.mark.slow  # generates every page twice: seconds
def test_a_stale_generated_page_is_noticed(tmp_path):
    tool = _docs_tool()
    tool.write(tmp_path, draw=False)  # the pages, without their pictures
    page = tmp_path / "models" / "conv2d.md"
    page.write_text(page.read_text(encoding="utf-8").replace("308,426", "308,427"), encoding="utf-8")
    (tmp_path / "models" / "gone.md").write_text("old\n", encoding="utf-8")
    stale = set(tool.stale(tmp_path))
    assert {"models/conv2d.md", "models/gone.md"} <= stale  # a changed page, one no longer made
    missing = stale - {"models/conv2d.md", "models/gone.md"}  # and the pictures never drawn
    assert missing and all(p.startswith("models/diagrams/") and p.endswith(".svg") for p in missing)


def _without_comment(line: str) -> str:
    """A YAML line without its trailing comment (none of the excerpt's strings holds ``#``)."""
    return re.sub(r"\s+#.*$", "", line).rstrip()


def test_the_block_language_s_excerpt_is_the_shipped_file():
    """docs/blocks.md shows specs/resnet.yaml in an excerpt: every line but `...` is the file's."""
    text = (DOCS / "blocks.md").read_text(encoding="utf-8")
    excerpt = next(body for lang, _, body, _ in fences(text) if lang == "yaml" and "family: resnet" in body)
    shipped = {_without_comment(line) for line in (ROOT / "specs" / "resnet.yaml").read_text().splitlines()}
    lines = [_without_comment(line) for line in excerpt.splitlines() if line.strip() != "..."]
    assert len(lines) > 30
    assert [line for line in lines if line not in shipped] == []
