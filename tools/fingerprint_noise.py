"""How far this backend's fingerprints are from the goldens: the measurement behind the tolerance.

    KERAS_BACKEND=jax python tools/fingerprint_noise.py            # every spec
    KERAS_BACKEND=jax python tools/fingerprint_noise.py resnet50   # some

For every spec: the largest |got - golden| / scale over all layers and numbers, and the layer
where it is largest. zoo.fingerprint.TOLERANCE is chosen well above what this prints between
TensorFlow (where the goldens were recorded) and JAX on the CPU, and well below what a real
change in a layer's arithmetic moves.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(ROOT))


def deviation(golden, got) -> tuple[float, str]:
    worst, where = 0.0, ""
    for g, m in zip(golden.layers, got.layers, strict=True):
        if g.shape != m.shape:
            return float("inf"), g.name
        scale = g.scale if g.scale > 0 else 1.0
        for a, b in zip(g.numbers(), m.numbers(), strict=True):
            d = abs(a - b) / scale
            if d > worst:
                worst, where = d, g.name
    return worst, where


def main(argv: list[str]) -> int:
    import zoo
    from zoo.golden import fingerprints
    from zoo.keras import fingerprint

    goldens = ROOT / "tests" / "goldens"
    names = argv or zoo.names()
    print(f"backend: {fingerprint.backend_label()}; goldens: {goldens}")
    overall = 0.0
    for name in names:
        start = time.perf_counter()
        golden = fingerprints.loads(fingerprints.KIND.path(goldens, name).read_text(encoding="utf-8"))
        got = fingerprint.take(zoo.spec(name))
        d, where = deviation(golden, got)
        overall = max(overall, d)
        print(
            f"{name:28s} {len(got.layers):5d} layers  max deviation {d:9.2e} at {where:30s} "
            f"({golden.recorded_on}; {time.perf_counter() - start:.1f} s)",
            flush=True,
        )
    print(f"largest over all specs: {overall:.2e} of a layer's scale (tolerance {fingerprints.TOLERANCE:g})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
