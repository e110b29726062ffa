#!/usr/bin/env python3
"""The compatibility matrix: zoo on every supported Keras/TensorFlow release pair, side by side.

    python tools/matrix.py --work /tmp/zoo-matrix                        # every pair in PAIRS
    python tools/matrix.py --work /tmp/zoo-matrix --pairs 3.8.0,3.15.1   # some (Keras version or name)
    python tools/matrix.py --work /tmp/zoo-matrix --quick                # zoo check only
    python tools/matrix.py --work /tmp/zoo-matrix --not-slow             # also pytest -m "not slow"
    python tools/matrix.py --work /tmp/zoo-matrix --cross 3.8.0,3.15.1   # goldens of one, checked on another
    python tools/matrix.py --work /tmp/zoo-matrix --report-only          # the table from saved results

For each release pair it makes a virtual environment under ``--work`` (``WORK/k3.8.0-tf2.18``; an
existing one with the right Keras and TensorFlow is reused unless ``--fresh``), installs zoo from
``--source`` into it (``pip install -e SOURCE[test] keras==K tensorflow==T``) and runs, with the source
folder as working directory (so ``tests/goldens``, made on the newest pair, is the golden folder):

- ``zoo check --json`` over every spec and every configuration with goldens of its own
  (``efficientnet_b0@imagenet`` ...): each spec's status and lines, its fingerprint's largest
  deviation from the golden, the exit status, the wall time, and the peak resident memory of the
  process (``os.wait4``; sampled from ``/proc`` too, to name the spec that was running at the peak);
- unless ``--quick``, the backend- and release-sensitive tier:
  ``pytest -m "(backend or releases) and not large" -n 2``;
- with ``--not-slow``, ``pytest -m "not slow"`` as well.

``--cross OLD,NEW`` measures drift across an upgrade: on the OLD pair ``zoo golden regen`` writes
every golden into a fresh folder (``WORK/goldens-kOLD``; it refuses unless the formula engine, Keras
and ``expect:`` agree), then on the NEW pair ``zoo check --goldens WORK/goldens-kOLD --json`` compares
them, and every difference is listed per spec and layer with both versions (the check's lines name
the frameworks each golden was made with), or "no difference" with the largest fingerprint deviation.

Results are saved as ``WORK/results/NAME.json`` (``cross-OLD-NEW.json``); the table in ``--out``
(default ``docs/compatibility.md``) is written from every saved result, so pairs can be run one at a
time. Keras's own changes between the releases are not kept here: they are
``zoo.specification.keras_versions`` of the source tree (loaded from its file; it imports only the
standard library), and the table lists, per pair, the ones its Keras is on the other side of from
the newest. Only the standard library is imported here: everything else runs in the pairs'
environments.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# The release pairs, oldest first: each Keras release with the TensorFlow release it is used with
# (TensorFlow 2.18 and 2.19 take keras>=3.5, 2.20 keras>=3.10, 2.21 keras>=3.12, per their wheels'
# requirements). The first is keras_versions.OLDEST, the last keras_versions.NEWEST: the goldens in
# tests/goldens were made on it.
PAIRS: list[dict[str, str]] = [
    {"keras": "3.8.0", "tensorflow": "2.18.1"},
    {"keras": "3.9.2", "tensorflow": "2.19.1"},
    {"keras": "3.10.0", "tensorflow": "2.19.1"},
    {"keras": "3.11.3", "tensorflow": "2.20.0"},
    {"keras": "3.12.4", "tensorflow": "2.20.0"},
    {"keras": "3.13.2", "tensorflow": "2.20.0"},
    {"keras": "3.14.1", "tensorflow": "2.21.0"},
    {"keras": "3.15.1", "tensorflow": "2.21.0"},
]

# zoo check over every spec must stay within this (the issue's bound, measured on this machine)
MEMORY_BOUND_MIB = 2048
BACKEND_TIER = "(backend or releases) and not large"
STEPS = ("check", "backend", "not_slow")
KERAS = "https://github.com/keras-team/keras"


def pair_name(pair: dict[str, str]) -> str:
    tf = ".".join(pair["tensorflow"].split(".")[:2])
    return f"k{pair['keras']}-tf{tf}"


# ------------------------------------------------------------------------------------------------
# Keras's changes: the source tree's own data
# ------------------------------------------------------------------------------------------------


def keras_versions(source: Path = ROOT) -> ModuleType:
    """``zoo.specification.keras_versions`` of ``source``, loaded from its file (it imports only the
    standard library; loading the file alone keeps zoo's package, and its YAML, out of this process)."""
    name = f"_zoo_keras_versions_{abs(hash(str(source)))}"
    if name in sys.modules:
        return sys.modules[name]
    path = source / "zoo" / "specification" / "keras_versions.py"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"matrix: cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def differences_for(keras_version: str, source: Path = ROOT) -> list[Any]:
    """The changes (``KerasChange``) a Keras release is on the other side of from the newest."""
    kv = keras_versions(source)
    return list(kv.differences(kv.parse(keras_version)))


def link(ref: str) -> str:
    """A Keras reference as Markdown links: ``keras-team/keras#22598`` to its pull request (GitHub
    forwards an issue's number to the issue), ``issue #22515``, ``commit d94e91f831``."""

    def one(m: re.Match[str]) -> str:
        full, issue, commit = m.group(1), m.group(2), m.group(3)
        if full:
            return f"[keras-team/keras#{full}]({KERAS}/pull/{full})"
        if issue:
            return f"[issue #{issue}]({KERAS}/issues/{issue})"
        return f"commit [{commit}]({KERAS}/commit/{commit})"

    return re.sub(r"keras-team/keras#(\d+)|\bissue #(\d+)|\bcommit ([0-9a-f]{7,40})\b", one, ref)


# ------------------------------------------------------------------------------------------------
# Parsing what the steps print
# ------------------------------------------------------------------------------------------------

PROGRESS = re.compile(r"^zoo: (\S+) \((\d+)/(\d+)\)$", re.M)


def layer_of(line: str) -> str:
    """The layer a line of ``zoo check`` is about: ``row 3 rescaling_1: ...`` and ``fingerprint: ...
    at layer 4 'stem_conv': ...`` name one; totals and ``expect:`` lines are about the whole model."""
    m = re.match(r"row \d+ (\S+):", line)
    if m:
        return m.group(1)
    m = re.search(r"at layer \d+ '([^']+)'", line)
    if m:
        return m.group(1)
    m = re.match(r"(total_params|trainable_params|non_trainable_params):", line)
    return f"({m.group(1)})" if m else "(model)"


def parse_check(text: str) -> dict[str, Any]:
    """``zoo check --json``'s document, summed up: counts, frameworks, each spec's status, the specs
    that did not pass with their lines (each with the layer it names), the largest fingerprint
    deviation, and the ImageNet configurations (``@imagenet``) with the layers their lines name."""
    doc = json.loads(text)
    specs = doc["specs"]
    problems = {
        s["name"]: {"status": s["status"], "lines": [{"layer": layer_of(x), "line": x} for x in s["lines"]]}
        for s in specs
        if s["status"] != "ok"
    }
    fingerprinted = [s for s in specs if s.get("fingerprint")]
    worst: dict[str, Any] | None = None
    for s in fingerprinted:
        dev = s["fingerprint"]["largest_deviation"]
        if dev is not None and (worst is None or dev > worst["deviation"]):
            worst = {
                "spec": s["name"],
                "layer": s["fingerprint"]["at_layer"],
                "deviation": dev,
                "tolerance": s["fingerprint"]["tolerance"],
            }
    imagenet = {
        s["name"]: {
            "status": s["status"],
            "layers": list(dict.fromkeys(layer_of(x) for x in s["lines"])),  # in the lines' order
        }
        for s in specs
        if s["name"].endswith("@imagenet")
    }
    return {
        "frameworks": doc.get("frameworks"),
        "goldens": doc.get("goldens"),
        "counts": doc["counts"],
        "total": len(specs),
        "statuses": {s["name"]: s["status"] for s in specs},
        "problems": problems,
        "fingerprinted": len(fingerprinted),
        "worst_fingerprint": worst,
        "imagenet": imagenet,
    }


def parse_pytest(text: str) -> dict[str, Any]:
    """pytest's counts from its summary line (``1 failed, 157 passed, 3 skipped in 99.1s``) and the
    ``FAILED``/``ERROR`` lines of its short summary, each with its reason."""
    counts: dict[str, int] = {}
    summary = ""
    for line in reversed(text.splitlines()):
        if re.search(r"\b(passed|failed|errors?|skipped|deselected|no tests ran)\b.* in [\d.]+s", line):
            summary = line.strip("= ").strip()
            break
    for n, what in re.findall(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)", summary):
        counts["error" if what.startswith("error") else what] = int(n)
    failures = []
    for line in text.splitlines():
        m = re.match(r"^(FAILED|ERROR) (\S+)(?: - (.*))?$", line)
        if m:
            failures.append({"test": m.group(2), "kind": m.group(1), "reason": (m.group(3) or "")[:300]})
    # a worker that died (a signal in a framework's op) leaves only "crashed" in the summary: its
    # fatal error and innermost frames are in the log, in the order the workers died
    fatal = iter(fatal_errors(text))
    for f in failures:
        if "crashed while running" in f["reason"]:
            f["reason"] += next((f" ({x})" for x in fatal), "")
    return {"counts": counts, "summary": summary, "failures": failures}


def fatal_errors(text: str) -> list[str]:
    """Python's fault handler output in a log: "Fatal Python error: Illegal instruction in
    quick_execute < conv3d_backprop_input_v2_eager_fallback < conv3d_backprop_input_v2" (the
    innermost frames of the thread that died), one per fatal error."""
    out = []
    for block in re.split(r"Fatal Python error: ", text)[1:]:
        what = block.splitlines()[0].strip()
        current = block.split("Current thread", 1)[-1]
        frames = re.findall(r'^\s+File "[^"]+", line \d+ in (\S+)', current, re.M)[:3]
        out.append(f"Fatal Python error: {what}" + (f" in {' < '.join(frames)}" if frames else ""))
    return out


# ------------------------------------------------------------------------------------------------
# Running
# ------------------------------------------------------------------------------------------------


def _proc_memory(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) of a live process in KiB, from /proc (Linux); None elsewhere or once it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    got = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", text, re.M))
    return (int(got["VmRSS"]), int(got["VmHWM"])) if len(got) == 2 else None


def run(
    cmd: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    log: Path,
    timeout: float,
    stdout: Path | None = None,
) -> dict[str, Any]:
    """Run ``cmd``, its stderr (and its stdout, unless ``stdout`` names a file for it) into ``log``.
    The exit status, the wall time, the process's peak resident memory (``os.wait4``) and, where the
    command reports progress as ``zoo: NAME (i/N)`` on stderr, the spec that was running when its
    memory last grew to its peak and the most each spec held (sampled from /proc twice a second)."""
    start = time.monotonic()
    by_spec: dict[str, int] = {}
    current, peak_during, hwm = None, None, 0
    with open(log, "w", encoding="utf-8") as err, open(stdout or os.devnull, "w", encoding="utf-8") as out:
        err.write("$ " + " ".join(cmd) + "\n")
        err.flush()
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=out if stdout else err,
            stderr=err,
            start_new_session=True,
        )
        seen = 0
        deadline = start + timeout
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                code = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > deadline:
                os.killpg(proc.pid, 9)
                _, status, rusage = os.wait4(proc.pid, 0)
                code = 124
                break
            with open(log, "rb") as f:
                f.seek(seen)
                chunk = f.read()
            if b"\n" in chunk:
                whole = chunk[: chunk.rindex(b"\n") + 1]
                seen += len(whole)
                started = PROGRESS.findall(whole.decode("utf-8", errors="replace"))
                if started:
                    current = started[-1][0]
            memory = _proc_memory(proc.pid)
            if memory is not None:
                rss, now_hwm = memory
                if now_hwm > hwm:
                    hwm, peak_during = now_hwm, current
                if current is not None:
                    by_spec[current] = max(by_spec.get(current, 0), rss // 1024)
            time.sleep(0.5)
        proc.returncode = code
    kib = rusage.ru_maxrss // (1024 if sys.platform == "darwin" else 1)
    return {
        "cmd": " ".join(cmd),
        "exit": code,
        "seconds": round(time.monotonic() - start, 1),
        "peak_rss_mib": round(kib / 1024),
        "peak_during": peak_during,
        "rss_by_spec_mib": by_spec,
        "log": str(log),
        "stdout": str(stdout) if stdout else None,
        "timed_out": code == 124,
        "last_started": current,
    }


def ensure_venv(
    pair: dict[str, str], work: Path, source: Path, python: str, fresh: bool, logs: Path
) -> tuple[Path, dict[str, Any]]:
    """The pair's environment: reused when its Keras and TensorFlow are the pair's, else made."""
    venv = work / pair_name(pair)
    py = venv / "bin" / "python"
    probe = (
        "import importlib.metadata as m; print(m.version('keras'), m.version('tensorflow'), "
        "__import__('zoo').__file__)"
    )
    if venv.exists() and not fresh and py.exists():
        got = subprocess.run([str(py), "-c", probe], capture_output=True, text=True, cwd=work)
        words = got.stdout.split()
        if got.returncode == 0 and words[:2] == [pair["keras"], pair["tensorflow"]]:
            if Path(words[2]).resolve().is_relative_to(source.resolve()):
                return venv, {"reused": True}
            # the right frameworks, another zoo: install this source's, nothing else
            step = run(
                [str(py), "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(source)],
                cwd=work,
                env=dict(os.environ),
                log=logs / "install.log",
                timeout=600,
            )
            return venv, {"reused": True, "install": step}
    if venv.exists():
        shutil.rmtree(venv)
    step = run(
        [python, "-m", "venv", str(venv)], cwd=work, env=dict(os.environ), log=logs / "venv.log", timeout=600
    )
    if step["exit"] != 0:
        return venv, {"reused": False, "install": step}
    step = run(
        [
            str(py),
            "-m",
            "pip",
            "install",
            "--quiet",
            f"keras=={pair['keras']}",
            f"tensorflow=={pair['tensorflow']}",
            "-e",
            f"{source}[test]",
        ],
        cwd=work,
        env=dict(os.environ),
        log=logs / "install.log",
        timeout=3600,
    )
    return venv, {"reused": False, "install": step}


def versions(venv: Path) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json; print(json.dumps({p: m.version(p) for p in "
        "('keras', 'tensorflow', 'jax', 'jaxlib', 'numpy', 'h5py', 'ml_dtypes')}))"
    )
    got = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True)
    try:
        return dict(json.loads(got.stdout.strip().splitlines()[-1]))
    except (IndexError, json.JSONDecodeError):
        return {}


def environment(venv: Path) -> dict[str, str]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONDONTWRITEBYTECODE": "1", "COLUMNS": "400"}
    env.pop("KERAS_BACKEND", None)  # the TensorFlow backend: the goldens' own
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def zoo_check(
    venv: Path, args: argparse.Namespace, logs: Path, goldens: Path | None = None, label: str = "zoo-check"
) -> dict[str, Any]:
    """``zoo check --json`` (with ``--goldens``), run and parsed; a run that leaves no JSON document
    (killed, or a crash outside any spec) says so with stderr's last line."""
    cmd = [str(venv / "bin" / "zoo"), "check", "--json", *(["--goldens", str(goldens)] if goldens else [])]
    step = run(
        cmd,
        cwd=args.source,
        env=environment(venv),
        log=logs / f"{label}.log",
        stdout=logs / f"{label}.json",
        timeout=args.timeout,
    )
    try:
        step.update(parse_check((logs / f"{label}.json").read_text(encoding="utf-8")))
    except (json.JSONDecodeError, KeyError) as exc:
        tail = [x for x in (logs / f"{label}.log").read_text(errors="replace").splitlines() if x.strip()]
        step["error"] = (
            f"no JSON document ({type(exc).__name__}); last spec started: {step['last_started']}; "
            f"stderr ends: {tail[-1][:300] if tail else ''}"
        )
    return step


def pytest_tier(venv: Path, args: argparse.Namespace, logs: Path, key: str, marker: str) -> dict[str, Any]:
    cmd = [
        str(venv / "bin" / "python"),
        "-m",
        "pytest",
        "-m",
        marker,
        "-q",
        "-p",
        "no:cacheprovider",
        *(["-n", str(args.workers)] if args.workers > 1 else []),
    ]
    step = run(
        cmd, cwd=args.source, env=environment(venv), log=logs / f"pytest-{key}.log", timeout=args.timeout
    )
    step.update(parse_pytest(Path(step["log"]).read_text(errors="replace")))
    step["marker"] = marker
    return step


def prepare(pair: dict[str, str], args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    """The pair's environment and the start of its result (``error`` where it cannot be made)."""
    name = pair_name(pair)
    logs = args.work / "logs" / name
    logs.mkdir(parents=True, exist_ok=True)
    print(f"[{name}] environment ...", flush=True)
    venv, setup = ensure_venv(pair, args.work, args.source, args.python, args.fresh, logs)
    result: dict[str, Any] = {
        "pair": pair,
        "name": name,
        "setup": setup,
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "run_by": "python tools/matrix.py " + " ".join(args.argv),
    }
    install = setup.get("install")
    if isinstance(install, dict) and install.get("exit") != 0:
        result["error"] = f"installation failed (exit {install.get('exit')}); see {install.get('log')}"
    else:
        result["versions"] = versions(venv)
    return venv, result


def run_pair(pair: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    name = pair_name(pair)
    logs = args.work / "logs" / name
    venv, result = prepare(pair, args)
    saved = args.work / "results" / f"{name}.json"
    if args.merge and saved.exists():  # --only: keep the steps not rerun
        result = {**json.loads(saved.read_text(encoding="utf-8")), **result}
    if result.get("error"):
        return result
    if "check" in args.steps:
        print(f"[{name}] zoo check --json ...", flush=True)
        result["check"] = zoo_check(venv, args, logs)
    tiers = {"backend": BACKEND_TIER, "not_slow": "not slow"}
    for key, marker in tiers.items():
        if key in args.steps:
            print(f"[{name}] pytest -m {marker!r} ...", flush=True)
            result[key] = pytest_tier(venv, args, logs, key, marker)
    result["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return result


def run_cross(old: dict[str, str], new: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    """Goldens made on ``old`` (a fresh folder), checked on ``new``: every difference per spec and layer."""
    folder = args.work / f"goldens-{pair_name(old)}"
    out: dict[str, Any] = {
        "old": old,
        "new": new,
        "goldens": str(folder),
        "run_by": "python tools/matrix.py " + " ".join(args.argv),
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    venv, made = prepare(old, args)
    if made.get("error"):
        out["error"] = f"Keras {old['keras']}: {made['error']}"
        return out
    out["old_versions"] = made["versions"]
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    logs = args.work / "logs" / f"cross-{pair_name(old)}-{pair_name(new)}"
    logs.mkdir(parents=True, exist_ok=True)
    print(f"[cross] zoo golden regen --goldens {folder} on Keras {old['keras']} ...", flush=True)
    regen = run(
        [str(venv / "bin" / "zoo"), "golden", "regen", "--goldens", str(folder)],
        cwd=args.source,
        env=environment(venv),
        log=logs / "golden-regen.log",
        timeout=args.timeout,
    )
    text = Path(regen["log"]).read_text(errors="replace")
    regen["written"] = len(re.findall(r"^wrote ", text, re.M))
    regen["refused"] = re.findall(r"^refused (\S+):$", text, re.M)
    out["regen"] = regen
    if regen["exit"] != 0:
        out["error"] = f"zoo golden regen on Keras {old['keras']} exited {regen['exit']} (see {regen['log']})"
        return out
    venv, checked = prepare(new, args)
    if checked.get("error"):
        out["error"] = f"Keras {new['keras']}: {checked['error']}"
        return out
    out["new_versions"] = checked["versions"]
    print(f"[cross] zoo check --goldens {folder} --json on Keras {new['keras']} ...", flush=True)
    out["check"] = zoo_check(venv, args, logs, goldens=folder, label="zoo-check")
    out["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return out


# ------------------------------------------------------------------------------------------------
# The table
# ------------------------------------------------------------------------------------------------


def _gib(mib: float) -> str:
    return f"{mib / 1024:.2f} GiB"


def _share(w: dict[str, Any]) -> str:
    """A deviation as a share of its tolerance, with two significant digits: "0.44%", "0.026%"."""
    return f"{100 * w['deviation'] / w['tolerance']:.2g}%"


def cell_check(c: Any) -> str:
    if not isinstance(c, dict):
        return "not run"
    if c.get("error"):
        return f"**no result** (exit {c['exit']}): {c['error']}"
    counts = c["counts"]
    text = ", ".join(
        f"{counts[k]} {k}"
        for k in ("ok", "differ", "error", "crash")
        if counts.get(k) or k in ("ok", "differ")
    )
    return f"{text} of {c['total']} (exit {c['exit']}; {c['seconds']:.0f} s)"


def cell_memory(c: Any) -> str:
    if not isinstance(c, dict):
        return "not run"
    peak = c["peak_rss_mib"]
    where = f", during {c['peak_during']}" if c.get("peak_during") else ""
    if peak > MEMORY_BOUND_MIB:
        return f"**{_gib(peak)}: over the 2 GiB bound**{where}"
    return f"{_gib(peak)}{where}"


def memory_profile(c: dict[str, Any]) -> str:
    """How a check's resident memory went over the bound: the peak, the spec running then, the first
    spec it was over the bound while running, and the most while running each of the three worst."""
    by_spec = c.get("rss_by_spec_mib", {})
    first = next((n for n, m in by_spec.items() if m > MEMORY_BOUND_MIB), None)
    top = sorted(by_spec.items(), key=lambda kv_: -kv_[1])[:3]
    text = f"peaked at {_gib(c['peak_rss_mib'])}, over the {MEMORY_BOUND_MIB // 1024} GiB bound"
    text += f", while running {c.get('peak_during')}" if c.get("peak_during") else ""
    if first:
        after = list(by_spec)[list(by_spec).index(first) :]
        low = min(by_spec[n] for n in after)
        text += (
            f"; over the bound from {first} on ({len(after)} of {len(by_spec)} specs; never below "
            f"{_gib(low)} after it: memory is not given back between specs)"
        )
    return text + ("; the most while running: " + ", ".join(f"{n} {_gib(m)}" for n, m in top) if top else "")


def cell_imagenet(c: Any, keras_version: str, source: Path = ROOT) -> str:
    """The ``efficientnet_b*@imagenet`` configurations: their statuses and the layers their lines
    name, and whether that is what keras_versions says this release does (rescaling-per-channel-shape)."""
    if not isinstance(c, dict) or "imagenet" not in c:
        return "not run"
    configs = c["imagenet"]
    if not configs:
        return "no configuration checked"
    differ = {n: v for n, v in configs.items() if v["status"] != "ok"}
    kv = keras_versions(source)
    expected = kv.change("rescaling-per-channel-shape").is_new(kv.parse(keras_version))
    if not differ:
        text = f"{len(configs)} ok"
    else:
        seen = dict.fromkeys(x for v in differ.values() for x in v["layers"])
        layers = [f"`{x}`" for x in seen if not x.startswith("(")]
        totals = " and the totals" if any(x.startswith("(total") for x in seen) else ""
        text = f"{len(differ)} of {len(configs)} DIFFER at {', '.join(layers)}{totals}"
    named = all("rescaling_1" in v["layers"] for v in differ.values()) and len(differ) == len(configs)
    ok = (named and bool(differ)) if expected else not differ
    return text + ("" if ok else " (**not** what keras_versions says of this release)")


def cell_pytest(step: Any) -> str:
    if not isinstance(step, dict):
        return "not run"
    counts = step.get("counts", {})
    parts = [f"{counts[k]} {k}" for k in ("passed", "failed", "error", "skipped", "xfailed") if counts.get(k)]
    text = ", ".join(parts) or "no result"
    if step.get("timed_out"):
        text += ", timed out"
    return f"{text} ({step['seconds']:.0f} s)"


def cell_fingerprint(c: Any) -> str:
    if not isinstance(c, dict) or "worst_fingerprint" not in c:
        return "not run"
    w = c["worst_fingerprint"]
    if w is None:
        return "no deviation"
    return f"{w['deviation']:.1e} ({_share(w)} of {w['tolerance']:g}; {w['spec']})"


def cell_differences(keras_version: str, source: Path = ROOT) -> str:
    found = differences_for(keras_version, source)
    if not found:
        return "none (the newest)"
    return ", ".join(f"[`{c.id}`](#{c.id})" for c in found)


def _side(change: Any, kv: ModuleType) -> tuple[list[str], list[str]]:
    """The supported Keras releases on the change's old side and on its new side."""
    old = [p["keras"] for p in PAIRS if not change.is_new(kv.parse(p["keras"]))]
    new = [p["keras"] for p in PAIRS if change.is_new(kv.parse(p["keras"]))]
    return old, new


def render(
    results: Sequence[dict[str, Any]],
    crosses: Sequence[dict[str, Any]] = (),
    source: Path = ROOT,
    command: str = "python tools/matrix.py --work WORK --report-only",
) -> str:
    """docs/compatibility.md from saved results: every pair in PAIRS (those with no result as not run),
    the failures per pair, the drift across each upgrade measured, Keras's changes with their releases."""
    kv = keras_versions(source)
    by_name = {r["name"]: r for r in results}
    machine = next((r["machine"] for r in results if r.get("machine")), "?")
    lines = [
        "# Compatibility: zoo on Keras and TensorFlow releases",
        "",
        f"Generated by `tools/matrix.py` (`{command}` rewrites it from the saved results; do not edit "
        "it by hand). Each release pair ran in its own virtual environment with zoo installed from the "
        "source tree (`pip install -e SOURCE[test] keras==K tensorflow==T`), on the TensorFlow backend, "
        f"on {machine}, one pair at a time; other work shared the cores, so compare times with care. "
        f"The goldens in `tests/goldens` were made on the newest pair, Keras {kv.NEWEST[0]} with "
        f"TensorFlow {kv.NEWEST[1]}; the oldest supported pair is Keras {kv.OLDEST[0]} with TensorFlow "
        f"{kv.OLDEST[1]}.",
        "",
        "- **zoo check**: `zoo check --json`: every spec and every configuration with goldens of its own, "
        "the formula engine (computing as the installed Keras) vs Keras vs `expect:` vs the goldens "
        "(summaries and fingerprints); counts, exit status, wall time.",
        f"- **peak memory**: the peak resident memory of that `zoo check` process (`os.wait4`), and the "
        f"spec that was running when it was reached (sampled from `/proc`); the bound is "
        f"{MEMORY_BOUND_MIB // 1024} GiB.",
        "- **EfficientNet, ImageNet**: the configurations `efficientnet_b0@imagenet` ... `b7@imagenet` "
        "within that check: on Keras 3.11 they must differ from their goldens, naming `rescaling_1` "
        "([`rescaling-per-channel-shape`](#rescaling-per-channel-shape)).",
        "- **largest fingerprint deviation**: of any spec's fingerprint from its golden, as a fraction of "
        "the layer's scale, against the tolerance.",
        f'- **backend tier**: `pytest -m "{BACKEND_TIER}" -n 2`; **not slow** (`--not-slow`, a column '
        'where some pair ran it): `pytest -m "not slow" -n 2`.',
        "- **known differences**: Keras's own changes this release is on the other side of from the "
        "newest (`keras_versions.differences`; details below).",
        "",
    ]
    # the "not slow" tier is a column where some pair ran it
    not_slow = any(isinstance(r.get("not_slow"), dict) for r in results)
    head = ["Keras", "TensorFlow", "zoo check", "peak memory", "EfficientNet, ImageNet"]
    head += ["largest fingerprint deviation", "backend tier", *(["not slow"] if not_slow else [])]
    head += ["known differences"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for pair in PAIRS:
        r = by_name.get(pair_name(pair))
        cells = [pair["keras"], (r or {}).get("versions", {}).get("tensorflow", pair["tensorflow"])]
        if r is None:
            cells += ["not run"] * (len(head) - 3)
        elif r.get("error"):
            cells += [r["error"]] + [""] * (len(head) - 4)
        else:
            c = r.get("check")
            cells += [cell_check(c), cell_memory(c), cell_imagenet(c, pair["keras"], source)]
            cells += [cell_fingerprint(c), cell_pytest(r.get("backend"))]
            cells += [cell_pytest(r.get("not_slow"))] if not_slow else []
        lines.append("| " + " | ".join([*cells, cell_differences(pair["keras"], source)]) + " |")
    lines += ["", "## Failures by release pair", ""]
    for pair in PAIRS:
        r = by_name.get(pair_name(pair))
        lines += [f"### Keras {pair['keras']}, TensorFlow {pair['tensorflow']}", ""]
        if r is None:
            lines += ["Not run.", ""]
            continue
        v = r.get("versions") or {}
        steps = [k for k in STEPS if isinstance(r.get(k), dict)]
        lines += [
            f"Ran {', '.join(steps) or 'nothing'} (`{r.get('run_by', '?')}`, {r.get('started', '?')}); "
            f"numpy {v.get('numpy', '?')}, jax {v.get('jax', '?')}.",
            "",
        ]
        items = []
        if r.get("error"):
            items.append(f"- {r['error']}")
        c = r.get("check")
        if isinstance(c, dict):
            if c.get("error"):
                items.append(f"- `zoo check`: {c['error']}")
            for spec, p in c.get("problems", {}).items():
                items.append(f"- `zoo check` {p['status'].upper()} `{spec}`:")
                items += [f"    - {x['line']}" for x in p["lines"]]
            if c.get("peak_rss_mib", 0) > MEMORY_BOUND_MIB:
                items.append(f"- `zoo check` {memory_profile(c)}")
        for key, label in (("backend", "backend tier"), ("not_slow", "not slow")):
            step = r.get(key)
            if isinstance(step, dict):
                if not step.get("counts"):
                    items.append(f"- {label}: no summary line (exit {step['exit']}; see {step['log']})")
                for f in step.get("failures", []):
                    items.append(f"- {label}: `{f['test']}`" + (f": {f['reason']}" if f["reason"] else ""))
        lines += [*(items or ["- none"]), ""]
    lines += [
        "## Drift across an upgrade",
        "",
        "Goldens made on one release pair (`zoo golden regen --goldens WORK/goldens-NAME`, into a fresh "
        "folder: it writes only where the formula engine, Keras and `expect:` agree), then checked on "
        "another (`zoo check --goldens WORK/goldens-NAME --json`): every difference, per spec and layer, "
        "with the versions on both sides; where none, the largest fingerprint deviation.",
        "",
    ]
    if not crosses:
        lines += ["Not run.", ""]
    for x in crosses:
        old, new = x["old"], x["new"]
        lines += [
            f"### Keras {old['keras']} (TensorFlow {old['tensorflow']}) to Keras {new['keras']} "
            f"(TensorFlow {new['tensorflow']})",
            "",
        ]
        if x.get("error"):
            lines += [f"No result: {x['error']}", ""]
            continue
        c, regen = x["check"], x["regen"]
        lines.append(
            f"`{x.get('run_by', '?')}` ({x.get('started', '?')}): {regen['written']} goldens written on "
            f"Keras {old['keras']} in {regen['seconds']:.0f} s; checked on Keras {new['keras']}: "
            f"{cell_check(c)}, peak memory {cell_memory(c)}."
        )
        lines.append("")
        if c.get("error"):
            lines += [f"No result: {c['error']}", ""]
            continue
        if not c["problems"]:
            w = c["worst_fingerprint"]
            worst = (
                f"{w['deviation']:.2g} of the layer's scale ({_share(w)} of the "
                f"tolerance {w['tolerance']:g}), in `{w['spec']}` at `{w['layer']}`"
                if w
                else "none"
            )
            lines += [
                f"**No difference**: every summary and every fingerprint made on Keras {old['keras']} "
                f"holds on Keras {new['keras']} ({c['total']} checked, {c['fingerprinted']} with "
                f"fingerprints). The largest fingerprint deviation: {worst}.",
                "",
            ]
            continue
        lines += ["| spec | status | layer | difference |", "|---|---|---|---|"]
        for spec, p in c["problems"].items():
            for item in p["lines"]:
                lines.append(
                    f"| `{spec}` | {p['status']} | `{item['layer']}` | {item['line'].replace('|', '/')} |"
                )
        lines.append("")
    lines += [
        "## Keras's changes between the supported releases",
        "",
        "The data in `zoo/specification/keras_versions.py` (`CHANGES`), with the supported releases on "
        "each side. The formula engine computes as the release it is given, so a spec that meets a "
        "condition is answered as that release answers it, and the message names the change.",
        "",
    ]
    for ch in kv.CHANGES:
        old, new = _side(ch, kv)
        span = f"from Keras {ch.since}" + (f" until {ch.until} (reverted)" if ch.until else "")
        lines += [
            f'<a id="{ch.id}"></a>',
            f"### `{ch.id}`: {', '.join(ch.layers)} (new {span})",
            "",
            f"- **Condition**: {ch.condition}",
            f"- **Before** (supported releases: {', '.join(old) or 'none'}): {ch.old}",
            f"- **After** (supported releases: {', '.join(new) or 'none'}): {ch.new}",
            f"- **Keras**: {'; '.join(link(r) for r in ch.refs)}",
            f"- **Verified**: {ch.verified}",
            "",
        ]
    return "\n".join(lines)


def reparse(result: dict[str, Any]) -> dict[str, Any]:
    """A saved result with what its steps printed read again, where their logs are still there (the
    measurements stay as saved): the table follows the parsers, not the version that ran."""
    for key, step in result.items():
        if not isinstance(step, dict):
            continue
        if key == "check" and step.get("stdout") and Path(step["stdout"]).exists():
            try:
                step.update(parse_check(Path(step["stdout"]).read_text(encoding="utf-8")))
            except (json.JSONDecodeError, KeyError):
                pass
        elif key in STEPS and step.get("log") and Path(step["log"]).exists():
            step.update(parse_pytest(Path(step["log"]).read_text(errors="replace")))
    return result


def load(work: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every saved pair result (PAIRS order) and cross-release result, their logs read again."""
    folder = work / "results"
    results = [
        reparse(json.loads((folder / f"{pair_name(p)}.json").read_text(encoding="utf-8")))
        for p in PAIRS
        if (folder / f"{pair_name(p)}.json").exists()
    ]
    crosses = [
        reparse(json.loads(f.read_text(encoding="utf-8"))) for f in sorted(folder.glob("cross-*.json"))
    ]
    return results, crosses


def select(spec: str | None) -> list[dict[str, str]]:
    if not spec:
        return list(PAIRS)
    chosen = []
    for item in spec.split(","):
        item = item.strip()
        found = [p for p in PAIRS if item in (p["keras"], pair_name(p))]
        if not found:
            raise SystemExit(
                f"matrix: unknown pair {item!r}; known: {', '.join(pair_name(p) for p in PAIRS)}"
            )
        chosen += found
    return chosen


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--pairs", help="comma-separated Keras versions or pair names (default: all in PAIRS)")
    p.add_argument("--work", type=Path, required=True, help="folder for the environments, logs, results")
    p.add_argument(
        "--source", type=Path, default=ROOT, help="the zoo source tree to install (default: this one)"
    )
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "compatibility.md")
    p.add_argument("--quick", action="store_true", help="only zoo check")
    p.add_argument("--not-slow", action="store_true", help='also run pytest -m "not slow"')
    p.add_argument(
        "--only", help=f"run only these steps ({', '.join(STEPS)}), keeping the pair's other results"
    )
    p.add_argument("--cross", metavar="OLD,NEW", help="goldens made on OLD, checked on NEW (Keras versions)")
    p.add_argument("--report-only", action="store_true", help="run nothing: rewrite --out from saved results")
    p.add_argument("--fresh", action="store_true", help="remake each virtual environment even if it fits")
    p.add_argument("--python", default=sys.executable, help="the Python that makes the environments")
    p.add_argument("--workers", type=int, default=2, help="pytest-xdist workers (1: none)")
    p.add_argument("--timeout", type=float, default=3600, help="seconds per step")
    args = p.parse_args(argv)
    args.argv = list(argv if argv is not None else sys.argv[1:])
    args.work = args.work.resolve()
    args.source = args.source.resolve()
    if args.only:
        args.steps = {x.strip() for x in args.only.split(",")}
        if args.steps - set(STEPS):
            raise SystemExit(f"matrix: unknown steps {sorted(args.steps - set(STEPS))}; known: {STEPS}")
    else:
        args.steps = {"check"} | (
            set() if args.quick else {"backend"} | ({"not_slow"} if args.not_slow else set())
        )
    args.merge = bool(args.only)
    (args.work / "results").mkdir(parents=True, exist_ok=True)
    status = 0
    if args.cross:
        ends = select(args.cross)
        if len(ends) != 2:
            raise SystemExit("matrix: --cross takes two pairs, OLD,NEW")
        out = run_cross(ends[0], ends[1], args)
        name = f"cross-{pair_name(ends[0])}-{pair_name(ends[1])}.json"
        (args.work / "results" / name).write_text(json.dumps(out, indent=1), encoding="utf-8")
        check = out.get("check") or {}
        print(f"[cross] {out.get('error') or cell_check(check)}", flush=True)
        status = 0 if not out.get("error") and check.get("exit") == 0 else 1
    elif not args.report_only:
        for pair in select(args.pairs):
            result = run_pair(pair, args)
            saved = args.work / "results" / f"{pair_name(pair)}.json"
            saved.write_text(json.dumps(result, indent=1), encoding="utf-8")
            c = result.get("check")
            print(
                f"[{pair_name(pair)}] {result.get('error') or cell_check(c)}; memory {cell_memory(c)}; "
                f"backend tier {cell_pytest(result.get('backend'))}",
                flush=True,
            )
            if result.get("error") or (isinstance(c, dict) and c["exit"] != 0):
                status = 1
    results, crosses = load(args.work)
    args.out.write_text(
        render(results, crosses, args.source, f"python tools/matrix.py --work {args.work} --report-only"),
        encoding="utf-8",
    )
    print(f"matrix: wrote {args.out}")
    return status


if __name__ == "__main__":
    sys.exit(main())
