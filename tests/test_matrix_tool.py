"""tools/matrix.py's own parts, without a release pair: what it reads from `zoo check --json` (a real
run, in-process), from pytest's summary, what it measures of a process, and the table it writes."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

from zoo.cli import main
from zoo.specification import keras_versions

ROOT = Path(__file__).resolve().parent.parent


def _load_tool():
    spec = importlib.util.spec_from_file_location("zoo_matrix_tool", ROOT / "tools" / "matrix.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["zoo_matrix_tool"] = module
    spec.loader.exec_module(module)
    return module


matrix = _load_tool()


def zoo_check_json(capsys, monkeypatch, *args: str) -> tuple[int, str]:
    """`zoo check --json ARGS` in this process, from the source tree (its tests/goldens)."""
    monkeypatch.chdir(ROOT)
    code = main(["check", "--json", *args])
    return code, capsys.readouterr().out


def test_parse_check_reads_a_passing_zoo_check(capsys, monkeypatch):
    code, out = zoo_check_json(capsys, monkeypatch, "conv2d")
    assert code == 0
    got = matrix.parse_check(out)
    assert got["counts"] == {"ok": 1, "differ": 0, "error": 0, "crash": 0}
    assert got["total"] == 1 and got["statuses"] == {"conv2d": "ok"} and got["problems"] == {}
    assert got["frameworks"].startswith("tensorflow ") or got["frameworks"].startswith("jax ")
    worst = got["worst_fingerprint"]
    assert worst["spec"] == "conv2d" and worst["layer"] in {"conv2d", "max_pooling2d", "flatten", "dense"}
    assert 0 <= worst["deviation"] < worst["tolerance"] == 3e-4
    assert got["fingerprinted"] == 1 and got["imagenet"] == {}


def test_parse_check_names_the_layer_of_each_difference(capsys, monkeypatch, tmp_path):
    """Goldens said to be made on Keras 3.8.0 that differ at `dense` (summary) and `flatten` (fingerprint):
    every line of the real check is read with the layer it names, the totals as the model's."""
    for suffix in (".yml", ".fingerprint.yml"):
        shutil.copy(ROOT / "tests" / "goldens" / f"conv2d{suffix}", tmp_path)
    summary = tmp_path / "conv2d.yml"
    text = summary.read_text().replace("made_with: 'tensorflow 2.21.0, keras 3.15.1'", "made_with: 'old'")
    summary.write_text(text.replace("307530, 307530", "307531, 307531").replace("308426", "308427"))
    fp = tmp_path / "conv2d.fingerprint.yml"
    fp.write_text(fp.read_text().replace("[flatten, [2, 30752], 4.906095,", "[flatten, [2, 30752], 5.5,"))
    code, out = zoo_check_json(capsys, monkeypatch, "conv2d", "--goldens", str(tmp_path))
    assert code == 1
    got = matrix.parse_check(out)
    assert got["counts"]["differ"] == 1 and got["statuses"] == {"conv2d": "differ"}
    lines = got["problems"]["conv2d"]["lines"]
    layers = [x["layer"] for x in lines]
    assert layers[0] == "dense" and "golden (made with old) says params 307531" in lines[0]["line"]
    assert "(total_params)" in layers and "flatten" in layers
    assert [x["line"] for x in lines] == json.loads(out)["specs"][0]["lines"]


def test_parse_check_sums_up_the_imagenet_configurations():
    """The document's shape as zoo check writes it (the configurations take minutes to build)."""
    doc = {
        "frameworks": "tensorflow 2.20.0, keras 3.11.3",
        "goldens": "tests/goldens",
        "counts": {"ok": 1, "differ": 1, "error": 0, "crash": 0},
        "specs": [
            {"name": "conv1d", "status": "ok", "lines": []},
            {
                "name": "efficientnet_b0@imagenet",
                "status": "differ",
                "lines": [
                    "row 2 rescaling_1: formula and keras (y) say output_shape (None, 224, 224, 1); golden "
                    "(made with x) says output_shape (None, 224, 224, 3)",
                    "row 3 stem_conv_pad: ...",
                    "row 4 stem_conv: ...",
                    "total_params: formula and keras (y) say 5,329,995; golden (made with x) says 5,330,571",
                ],
            },
        ],
    }
    got = matrix.parse_check(json.dumps(doc))
    layers = ["rescaling_1", "stem_conv_pad", "stem_conv", "(total_params)"]  # in the lines' order
    assert got["imagenet"] == {"efficientnet_b0@imagenet": {"status": "differ", "layers": layers}}
    assert (
        matrix.cell_imagenet(got, "3.11.3")
        == "1 of 1 DIFFER at `rescaling_1`, `stem_conv_pad`, `stem_conv` and the totals"
    )
    assert got["worst_fingerprint"] is None and got["fingerprinted"] == 0


@pytest.mark.parametrize(
    ("line", "layer"),
    [
        (
            "row 12 block1a_se_reduce: formula and keras (b) say params 2; golden (made with a) says 1",
            "block1a_se_reduce",
        ),
        (
            "fingerprint: golden (made with a) vs b: first divergence at layer 4 'stem_conv': mean 1",
            "stem_conv",
        ),
        ("total_params: golden (made with a) 1; formula, keras (b) 2", "(total_params)"),
        ("expect: total_params is 1, Keras says 2", "(model)"),
    ],
)
def test_layer_of(line, layer):
    assert matrix.layer_of(line) == layer


def test_parse_pytest_counts_and_failures():
    text = "\n".join(
        [
            "..F.s",
            "=========================== short test summary info ============================",
            "FAILED tests/test_run.py::test_fast_path[a-b] - UserWarning: Exception encountered",
            "ERROR tests/test_x.py::test_y",
            "1 failed, 157 passed, 3 skipped, 1200 deselected, 1 error in 100.23s (0:01:40)",
        ]
    )
    got = matrix.parse_pytest(text)
    assert got["counts"] == {"failed": 1, "passed": 157, "skipped": 3, "deselected": 1200, "error": 1}
    assert got["failures"] == [
        {
            "test": "tests/test_run.py::test_fast_path[a-b]",
            "kind": "FAILED",
            "reason": "UserWarning: Exception encountered",
        },
        {"test": "tests/test_x.py::test_y", "kind": "ERROR", "reason": ""},
    ]
    assert matrix.parse_pytest("==== 12 passed in 3.10s ====")["counts"] == {"passed": 12}
    assert matrix.parse_pytest("collected 0 items\nInterrupted: 1 error during collection")["counts"] == {}


CRASH_LOG = """\
....Fatal Python error: Illegal instruction

Thread 0x00007f468bfff6c0 (most recent call first):
  File "/v/execnet/gateway_base.py", line 534 in read

Current thread 0x00007f468d3e4b80 (most recent call first):
  File "/v/tensorflow/python/eager/execute.py", line 53 in quick_execute
  File "/v/tensorflow/python/ops/gen_nn_ops.py", line 2798 in conv3d_backprop_input_v2_eager_fallback
  File "/v/tensorflow/python/ops/gen_nn_ops.py", line 2732 in conv3d_backprop_input_v2
  File "/v/tensorflow/python/ops/nn_ops.py", line 3410 in conv3d_transpose_v2
[gw1] node down: Not properly terminated
FAILED tests/test_a.py::test_b - AssertionError: boom
FAILED tests/test_f.py::test_t - worker 'gw1' crashed while running 'tests/test_f.py::test_t'
2 failed, 264 passed in 288.70s (0:04:48)
"""


def test_parse_pytest_names_a_crashed_workers_fatal_error():
    failures = matrix.parse_pytest(CRASH_LOG)["failures"]
    assert failures[0]["reason"] == "AssertionError: boom"
    assert failures[1]["reason"] == (
        "worker 'gw1' crashed while running 'tests/test_f.py::test_t' (Fatal Python error: Illegal "
        "instruction in quick_execute < conv3d_backprop_input_v2_eager_fallback < conv3d_backprop_input_v2)"
    )


def test_differences_per_pair_are_keras_versions_own():
    """The tool keeps no copy: each pair's differences are keras_versions.differences of its Keras."""
    for pair in matrix.PAIRS:
        ids = [c.id for c in matrix.differences_for(pair["keras"])]
        assert ids == [c.id for c in keras_versions.differences(keras_versions.parse(pair["keras"]))]
    assert matrix.differences_for("3.15.1") == []
    assert "rescaling-per-channel-shape" in [c.id for c in matrix.differences_for("3.11.3")]
    assert "rescaling-per-channel-shape" not in [c.id for c in matrix.differences_for("3.12.4")]
    old = [c.id for c in matrix.differences_for("3.8.0")]
    assert {"depthwise-separable-strides-dilation", "activation-sparse-sigmoid"} <= set(old)
    assert (matrix.PAIRS[0]["keras"], matrix.PAIRS[0]["tensorflow"]) == keras_versions.OLDEST
    assert (matrix.PAIRS[-1]["keras"], matrix.PAIRS[-1]["tensorflow"]) == keras_versions.NEWEST


def test_links_to_keras():
    assert matrix.link("keras-team/keras#22598 (restriction removed)") == (
        "[keras-team/keras#22598](https://github.com/keras-team/keras/pull/22598) (restriction removed)"
    )
    assert matrix.link("TF op fixed; issue #22515") == (
        "TF op fixed; [issue #22515](https://github.com/keras-team/keras/issues/22515)"
    )
    assert "(https://github.com/keras-team/keras/commit/d94e91f831)" in matrix.link("commit d94e91f831 'Fix'")


@pytest.mark.slow  # seconds: the inner loop's budget
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_run_measures_the_peak_and_names_the_spec_running_then(tmp_path):
    script = (
        "import sys, time\n"
        "print('zoo: small (1/2)', file=sys.stderr, flush=True); time.sleep(1.2)\n"
        "print('zoo: big (2/2)', file=sys.stderr, flush=True)\n"
        "x = bytearray(300 * 2**20); time.sleep(1.2); print('done')\n"
    )
    out = tmp_path / "out.txt"
    step = matrix.run(
        [sys.executable, "-c", script], cwd=tmp_path, env={}, log=tmp_path / "log", timeout=60, stdout=out
    )
    assert step["exit"] == 0 and out.read_text() == "done\n"
    assert step["peak_rss_mib"] >= 300 and step["peak_during"] == "big"
    assert step["rss_by_spec_mib"]["big"] >= 300 > step["rss_by_spec_mib"]["small"]
    assert "zoo: big (2/2)" in (tmp_path / "log").read_text()


def _saved(check: dict, keras: str = "3.8.0", tf: str = "2.18.1", **more) -> dict:
    pair = {"keras": keras, "tensorflow": tf}
    result = {"pair": pair, "name": matrix.pair_name(pair), "machine": "Linux x86_64, 2 CPUs"}
    result.update(versions={"tensorflow": tf, "numpy": "2.0.2", "jax": "0.5"}, check=check, **more)
    return json.loads(json.dumps(result))  # as saved and read back


def _check(**more) -> dict:
    fingerprint = {"largest_deviation": 1.5e-6, "at_layer": "dense", "tolerance": 3e-4, "margin": 200}
    doc = {
        "frameworks": "tensorflow 2.18.1, keras 3.8.0",
        "counts": {"ok": 2, "differ": 0, "error": 0, "crash": 0},
        "specs": [
            {"name": "conv2d", "status": "ok", "lines": [], "fingerprint": fingerprint},
            {"name": "efficientnet_b0@imagenet", "status": "ok", "lines": []},
        ],
    }
    step = {"exit": 0, "seconds": 222.0, "peak_rss_mib": 1500, "peak_during": "conv2d", "rss_by_spec_mib": {}}
    return {**step, **matrix.parse_check(json.dumps(doc)), **more}


def test_render_the_table_from_saved_results():
    backend = {
        "exit": 1,
        "seconds": 99.0,
        "log": "x",
        **matrix.parse_pytest(
            "FAILED tests/test_a.py::test_b - AssertionError: boom\n1 failed, 150 passed in 99.0s"
        ),
    }
    by_spec = {"conv1d": 650, "convnext_xlarge": 4700, "conv2d": 2300}
    over = _check(peak_rss_mib=4700, peak_during="convnext_xlarge", rss_by_spec_mib=by_spec)
    text = matrix.render([_saved(_check(), backend=backend), _saved(over, "3.15.1", "2.21.0")])
    row = next(x for x in text.splitlines() if x.startswith("| 3.8.0 |"))
    assert "2 ok, 0 differ of 2 (exit 0; 222 s)" in row and "1.46 GiB, during conv2d" in row
    assert "1 ok" in row and "150 passed, 1 failed (99 s)" in row
    assert "1.5e-06 (0.5% of 0.0003; conv2d)" in row
    assert "[`depthwise-separable-strides-dilation`](#depthwise-separable-strides-dilation)" in row
    newest = next(x for x in text.splitlines() if x.startswith("| 3.15.1 |"))
    assert (
        "**4.59 GiB: over the 2 GiB bound**, during convnext_xlarge" in newest
        and "none (the newest)" in newest
    )
    for keras in ("3.9.2", "3.10.0", "3.11.3", "3.12.4", "3.13.2", "3.14.1"):
        assert next(x for x in text.splitlines() if x.startswith(f"| {keras} |")).count("not run") == 5
    assert "- backend tier: `tests/test_a.py::test_b`: AssertionError: boom" in text
    assert (
        "- `zoo check` peaked at 4.59 GiB, over the 2 GiB bound, while running convnext_xlarge; over the "
        "bound from convnext_xlarge on (2 of 3 specs; never below 2.25 GiB after it: memory is not given "
        "back between specs); the most while running: convnext_xlarge 4.59 GiB, conv2d 2.25 GiB, conv1d "
        "0.63 GiB" in text
    )
    assert "### Keras 3.9.2, TensorFlow 2.19.1\n\nNot run." in text
    assert '<a id="rescaling-per-channel-shape"></a>' in text
    assert "(https://github.com/keras-team/keras/pull/21529)" in text
    assert "- **After** (supported releases: 3.11.3):" in text  # the 3.11 change's new side
    assert "## Drift across an upgrade\n\n" in text and text.count("Not run.") == 7
    assert "| not slow |" not in text  # no pair ran it: no column
    with_not_slow = matrix.render([_saved(_check(), not_slow={**backend, "seconds": 300.0})])
    assert "| backend tier | not slow | known differences |" in with_not_slow
    assert "| not run | 150 passed, 1 failed (300 s) | [`depthwise" in with_not_slow


def test_render_says_whether_the_imagenet_configurations_do_as_keras_versions_says():
    differ = {"name": "efficientnet_b0@imagenet", "status": "differ", "lines": ["row 2 rescaling_1: a; b"]}
    doc = {"counts": {"ok": 0, "differ": 1, "error": 0, "crash": 0}, "specs": [differ]}
    check = {**_check(), **matrix.parse_check(json.dumps(doc))}
    assert matrix.cell_imagenet(check, "3.11.3") == "1 of 1 DIFFER at `rescaling_1`"
    assert "**not** what keras_versions says" in matrix.cell_imagenet(check, "3.12.4")
    assert matrix.cell_imagenet(_check(), "3.12.4") == "1 ok"
    assert "**not** what keras_versions says" in matrix.cell_imagenet(_check(), "3.11.3")


def test_render_the_drift_across_an_upgrade():
    pair = {"keras": "3.8.0", "tensorflow": "2.18.1"}
    newest = {"keras": "3.15.1", "tensorflow": "2.21.0"}
    regen = {"exit": 0, "seconds": 200.0, "written": 128}
    same = {"old": pair, "new": newest, "regen": regen, "check": _check()}
    text = matrix.render([], [same])
    assert "### Keras 3.8.0 (TensorFlow 2.18.1) to Keras 3.15.1 (TensorFlow 2.21.0)" in text
    assert "**No difference**" in text and "in `conv2d` at `dense`" in text and "128 goldens written" in text
    line = (
        "row 3 dense: golden (made with tensorflow 2.18.1, keras 3.8.0) params 1; formula, keras (x) params 2"
    )
    doc = {
        "counts": {"ok": 0, "differ": 1, "error": 0, "crash": 0},
        "specs": [{"name": "conv2d", "status": "differ", "lines": [line]}],
    }
    drift = {**same, "check": {**_check(), **matrix.parse_check(json.dumps(doc))}}
    assert f"| `conv2d` | differ | `dense` | {line} |" in matrix.render([], [drift])


def test_report_only_writes_the_table_from_the_work_folder(tmp_path):
    """From the saved results, their logs read again by the parsers as they are now."""
    (tmp_path / "results").mkdir()
    (tmp_path / "pytest.log").write_text(CRASH_LOG)
    backend = {"exit": 1, "seconds": 288.7, "log": str(tmp_path / "pytest.log"), "failures": []}
    (tmp_path / "results" / "k3.8.0-tf2.18.json").write_text(json.dumps(_saved(_check(), backend=backend)))
    out = tmp_path / "compatibility.md"
    assert matrix.main(["--work", str(tmp_path), "--report-only", "--out", str(out)]) == 0
    text = out.read_text()
    assert (
        text.startswith("# Compatibility")
        and f"python tools/matrix.py --work {tmp_path} --report-only" in text
    )
    assert "| 3.8.0 | 2.18.1 | 2 ok, 0 differ of 2" in text
    assert "264 passed, 2 failed (289 s)" in text and "(Fatal Python error: Illegal instruction in" in text
