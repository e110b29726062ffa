"""Benchmarks, reported as ratios measured side by side in one run (never asserted in tests).

    python tools/bench.py summary [--repeat 5]

``summary``: a cold Python process computing the summary of ``vgg16_transfer``
with the formula engine vs with Keras (import, build, read), start-up included.
Runs alternate between the two so that machine noise hits both alike; the
medians and their ratio are printed. Target: formula at least 20x faster and
under 0.2 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SUMMARY_CODE = {
    "formula": "import zoo; zoo.summary('vgg16_transfer', engine='formula')",
    "keras": "import zoo; zoo.summary('vgg16_transfer', engine='keras')",
}


def cold(code: str) -> float:
    """Wall time of a fresh interpreter running ``code`` from the repository root."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - start


def bench_summary(repeat: int) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in SUMMARY_CODE}
    cold("pass")  # warm the file cache so the first measured run is not penalised
    for _ in range(repeat):
        for name, code in SUMMARY_CODE.items():
            times[name].append(cold(code))
    return {k: statistics.median(v) for k, v in times.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="bench", required=True)
    s = sub.add_parser("summary", help="cold formula vs Keras summary of vgg16_transfer")
    s.add_argument("--repeat", type=int, default=5)
    args = p.parse_args(argv)

    if args.bench == "summary":
        m = bench_summary(args.repeat)
        python_only = statistics.median(cold("pass") for _ in range(args.repeat))
        print(
            f"cold summary of vgg16_transfer, median of {args.repeat} runs each (Python start-up included):"
        )
        print(f"  python -c pass : {python_only:8.3f} s")
        print(f"  formula engine : {m['formula']:8.3f} s")
        print(f"  keras          : {m['keras']:8.3f} s")
        print(
            f"  ratio keras/formula: {m['keras'] / m['formula']:.1f}x (target >= 20x; formula target < 0.2 s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
