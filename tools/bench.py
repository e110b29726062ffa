"""Benchmarks, reported as ratios measured side by side in one run (never asserted in tests).

    python tools/bench.py summary [--repeat 5]
    python tools/bench.py fit [--samples 100] [--size 224] [--epochs 10]
    python tools/bench.py fit --spec resnet50_transfer [--samples 100] [--epochs 10]
    python tools/bench.py build [--spec resnet50] [--repeat 5]
    python tools/bench.py everything [--repeat 5]
    python tools/bench.py tour [--repeat 3]

``summary``: a cold Python process computing the summary of ``vgg16_transfer``
with the formula engine vs with Keras (import, build, read), start-up included.
Runs alternate between the two so that machine noise hits both alike; the
medians and their ratio are printed. Target (issue 22): formula at least 30x faster and
under 0.2 s.

``fit``: the tutorial's VGG16 cell exactly as written (100 images of 224x224x3,
10 epochs, batch 32, but weights=None since nothing is downloaded here) against
``zoo.run("vgg16_transfer", weights=None)``, which trains the head on the frozen
base's outputs computed once. The tutorial's time is its ``fit`` call; zoo's fit
time is the base's outputs plus the head's training (``RunResult.seconds["fit"]``);
the whole ``zoo.run`` (build and predictions too) is printed beside it. Target:
at least 8x; the limit is about one forward pass of the base over the images.
Takes minutes on a laptop-class CPU.

``fit --spec NAME``: ``zoo.run(NAME, weights=None)`` with its fast path against the same model
fitted plainly, in one run on the tutorial's data size, and the floor: one fresh ``predict`` of
the frozen part over the data. Goals (issue 13): the fast fit within 1.5x of the floor, and 8x
over plain fitting for resnet50_transfer, 2x for resnet50_finetune.

``build``: ``zoo.build(NAME, weights=None, compile=False)`` (expansion, validation, the
formula engine's geometry check, then Keras) against ``keras.applications.X(weights=None)``
in the same process, alternating, after one warm-up of each; medians and their ratio.
Target: zoo at most 1.1x Keras.

``tour``: the main job, ``zoo tour`` (the tutorial's examples with three witnesses, then the zoo
from the formula engine), cold, against ``zoo summary --all`` (every model built by Keras, the
previous main job), alternating, each a fresh process from the repository root. Target (issue
27): the tour under 30 s on the project's 2-core machine.

``import``: a model of NASNetLarge's size (about 1,000 layers; ``--application`` picks another)
saved as a ``.keras`` file, then, in one process, alternating after a warm-up: Keras's own
``keras.saving.load_model`` of the file, against the same load followed by ``zoo.from_keras`` and
the formula summary of the spec, as ``zoo summary FILE`` does; the import's parts are timed too
(reading the graph, validating the spec, the layer-by-layer check; ``--full``: the rebuild check
``zoo import`` adds before it writes a file). Target (issue 23): at most one second beyond Keras's
loading.

``everything``: a cold Python process computing the formula summary of every model in
the zoo (all the keras.applications families: about 15,000 rows), start-up included,
against ``python -c pass``. Target: under 2 s.
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
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def bench_summary(repeat: int) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in SUMMARY_CODE}
    cold("pass")  # warm the file cache so the first measured run is not penalised
    for _ in range(repeat):
        for name, code in SUMMARY_CODE.items():
            times[name].append(cold(code))
    return {k: statistics.median(v) for k, v in times.items()}


def tutorial_cell(samples: int, size: int, epochs: int) -> float:
    """The tutorial's transfer-learning cell, as written; returns the seconds its fit takes."""
    import numpy as np
    from tensorflow.keras import layers, models
    from tensorflow.keras.applications import VGG16

    base_model = VGG16(weights=None, include_top=False, input_shape=(size, size, 3))
    for layer in base_model.layers:
        layer.trainable = False
    X_train = np.random.random((samples, size, size, 3))
    y_train = np.random.randint(10, size=(samples, 1))
    model = models.Sequential(
        [
            base_model,
            layers.GlobalAveragePooling2D(),
            layers.Dense(256, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(X_train, y_train, epochs=epochs, batch_size=32, verbose=0)
    return time.perf_counter() - start


def zoo_run(samples: int, size: int, epochs: int) -> tuple[float, float]:
    sys.path.insert(0, str(ROOT))
    import zoo

    spec = zoo.spec("vgg16_transfer")
    if size != 224:
        text = spec.path.read_text().replace("input: [224, 224, 3]", f"input: [{size}, {size}, 3]")
        spec = zoo.Spec.from_yaml(text)
    start = time.perf_counter()
    result = zoo.run(spec, weights=None, samples=samples, epochs=epochs, verbose=0)
    elapsed = time.perf_counter() - start
    if not result.fast_path:
        raise SystemExit(f"zoo.run did not take the fast path: {result.notes}")
    return result.seconds["fit"], elapsed


def bench_fit_spec(name: str, samples: int, epochs: int) -> dict[str, float]:
    """zoo.run's fit with the fast path and without it, and the floor: one fresh pass of the frozen
    prefix over the data, all in this process."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, str(ROOT))
    import keras

    import zoo
    from zoo.keras import introspect, training

    spec = zoo.spec(name, weights=None) if zoo.default_registry().is_family(name) else zoo.spec(name)
    chosen = training.plan(spec.with_weights(None))
    if not chosen.fast:
        raise SystemExit(f"{name} takes no fast path: {chosen.reason}")
    fast = zoo.run(name, weights=None, samples=samples, epochs=epochs, verbose=0)
    plain = zoo.run(name, weights=None, samples=samples, epochs=epochs, verbose=0, fast_path=False)
    model = zoo.build(name, weights=None, compile=False)
    if chosen.cut is not None and chosen.base is not None:  # a fine-tuned base, cut inside
        base = model.get_layer(chosen.base.name)
        prefix = keras.Model(base.inputs, base.get_layer(chosen.cut).output)
    else:
        prefix = keras.Model(model.inputs, introspect.outer_output(model.get_layer(chosen.prefix[-1].name)))
    x, _ = training.dummy_data(spec, samples, seed=0)
    start = time.perf_counter()
    prefix.predict(x, batch_size=32, verbose=0)
    return {"fast": fast.seconds["fit"], "plain": plain.seconds["fit"], "floor": time.perf_counter() - start}


def bench_build(name: str, repeat: int) -> tuple[float, float]:
    """Median seconds to build ``name`` with zoo and with keras.applications, alternating."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    import zoo
    from zoo.specification.catalog import APPLICATIONS

    make = getattr(keras.applications, {v: k for k, v in APPLICATIONS.items()}[name])
    times: dict[str, list[float]] = {"zoo": [], "keras": []}
    for i in range(repeat + 1):
        for who in ("zoo", "keras"):
            keras.utils.clear_session()
            start = time.perf_counter()
            if who == "zoo":
                zoo.default_registry()._cache.clear()  # expansion and validation counted, not cached
                zoo.build(name, weights=None, compile=False)
            else:
                make(weights=None)
            if i:  # the first round warms up imports and caches
                times[who].append(time.perf_counter() - start)
    return statistics.median(times["zoo"]), statistics.median(times["keras"])


def bench_import(application: str, repeat: int, full: bool) -> dict[str, float]:
    """Median seconds of Keras's load_model of a saved ``application`` and of zoo's import after it."""
    import tempfile

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    from zoo.arith import summarize
    from zoo.keras import importer
    from zoo.specification.model import Spec

    keys = ("load", "read", "validate", "layers check", "summary", "full check")
    times: dict[str, list[float]] = {k: [] for k in keys}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{application}.keras"
        getattr(keras.applications, application)(weights=None).save(path)
        keras.utils.clear_session()
        for i in range(repeat + 1):
            keras.utils.clear_session()
            start = time.perf_counter()
            model = keras.saving.load_model(path)
            loaded = time.perf_counter()
            data = importer.spec_data(model)
            read = time.perf_counter()
            spec = Spec.from_dict(data, label=str(path))
            valid = time.perf_counter()
            problems = importer.same_layers(spec, model)
            checked = time.perf_counter()
            summarize(spec)
            done = time.perf_counter()
            problems += importer.same_model(spec, model) if full else []
            rebuilt = time.perf_counter()
            if problems:
                raise SystemExit(f"{application}: the import is not the same model: {problems}")
            if i:  # the first round warms up imports and caches
                took = (loaded - start, read - loaded, valid - read, checked - valid, done - checked)
                for key, seconds in zip(keys, (*took, rebuilt - done)):
                    times[key].append(seconds)
            del model
    return {k: statistics.median(v) for k, v in times.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="bench", required=True)
    s = sub.add_parser("summary", help="cold formula vs Keras summary of vgg16_transfer")
    s.add_argument("--repeat", type=int, default=5)
    f = sub.add_parser("fit", help="the tutorial's VGG16 cell vs zoo.run's frozen-base fast path")
    f.add_argument("--samples", type=int, default=100)
    f.add_argument("--size", type=int, default=224)
    f.add_argument("--epochs", type=int, default=10)
    f.add_argument(
        "--spec", default=None, help="a transfer spec: its fast path against plain fitting and the floor"
    )
    e = sub.add_parser("everything", help="cold formula summaries of every model in the zoo")
    e.add_argument("--repeat", type=int, default=5)
    t = sub.add_parser("tour", help="cold `zoo tour` (the main job) vs `zoo summary --all`")
    t.add_argument("--repeat", type=int, default=3)
    b = sub.add_parser("build", help="zoo.build of a family spec vs keras.applications, same process")
    b.add_argument("--spec", default="resnet50")
    b.add_argument("--repeat", type=int, default=5)
    m = sub.add_parser("import", help="Keras's load_model of a saved NASNetLarge vs zoo's import after it")
    m.add_argument("--application", default="NASNetLarge", help="a keras.applications constructor")
    m.add_argument("--repeat", type=int, default=3)
    m.add_argument("--full", action="store_true", help="time the full rebuild check too (zoo import's)")
    args = p.parse_args(argv)

    if args.bench == "import":
        t = bench_import(args.application, args.repeat, args.full)
        beyond = sum(v for k, v in t.items() if k not in ("load", "full check"))
        print(f"import {args.application} from a .keras file, median of {args.repeat} runs in one process:")
        for key, took in t.items():
            print(f"  {key:<14}: {took:8.3f} s")
        print(
            f"  zoo summary FILE beyond Keras's load: {beyond:.2f} s, {beyond / t['load']:.2f}x the load "
            "(target <= 1 s); `zoo import` adds the full check"
        )
        return 0

    if args.bench == "everything":
        code = "import zoo; [zoo.summary(n, engine='formula') for n in zoo.names()]"
        runs = [(cold("pass"), cold(code)) for _ in range(args.repeat)]
        import zoo

        print(f"formula summaries of all {len(zoo.names())} models, cold, median of {args.repeat} runs:")
        print(f"  python -c pass : {statistics.median(r[0] for r in runs):8.3f} s")
        print(
            f"  every summary  : {statistics.median(r[1] for r in runs):8.3f} s "
            "(target < 2 s, start-up included)"
        )
        return 0

    if args.bench == "tour":
        tour, everything = [], []
        command = "from zoo.cli import main; import sys; sys.exit(main({}))"
        cold("pass")
        for _ in range(args.repeat):
            tour.append(cold(command.format(["tour"])))
            everything.append(cold(command.format(["summary", "--all"])))
        t, e = statistics.median(tour), statistics.median(everything)
        print(f"the main job, cold, median of {args.repeat} alternating runs ({os.cpu_count()} CPUs):")
        print(f"  zoo tour          : {t:8.1f} s (target < 30 s)")
        print(f"  zoo summary --all : {e:8.1f} s (every model built by Keras)")
        print(f"  ratio: the tour takes {t / e:.2f}x the time of summary --all")
        return 0

    if args.bench == "build":
        zoo_s, keras_s = bench_build(args.spec, args.repeat)
        print(f"build {args.spec}, median of {args.repeat} alternating runs in one process:")
        print(f"  zoo.build          : {zoo_s:8.3f} s")
        print(f"  keras.applications : {keras_s:8.3f} s")
        print(f"  ratio zoo/keras: {zoo_s / keras_s:.2f}x (target <= 1.1x)")
        return 0

    if args.bench == "fit" and args.spec:
        m = bench_fit_spec(args.spec, args.samples, args.epochs)
        print(f"{args.spec}: {args.samples} samples, {args.epochs} epochs, batch 32, in one process:")
        print(f"  plain fit (base every epoch)     : {m['plain']:8.1f} s")
        print(f"  fast path fit (base once + head) : {m['fast']:8.1f} s")
        print(f"  floor (one fresh pass of the base): {m['floor']:8.1f} s")
        print(f"  plain/fast {m['plain'] / m['fast']:.1f}x; fast/floor {m['fast'] / m['floor']:.2f}x")
        return 0

    if args.bench == "fit":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        shape = f"{args.samples} images of {args.size}x{args.size}x3, {args.epochs} epochs, batch 32"
        print(f"VGG16 transfer cell, {shape}:", flush=True)
        zoo_fit, zoo_all = zoo_run(args.samples, args.size, args.epochs)
        print(f"  zoo.run fit (base outputs once + head): {zoo_fit:8.1f} s", flush=True)
        print(f"  zoo.run whole (build, fit, predict)   : {zoo_all:8.1f} s", flush=True)
        tut_s = tutorial_cell(args.samples, args.size, args.epochs)
        print(f"  tutorial cell, its fit call           : {tut_s:8.1f} s")
        print(
            f"  fit ratio tutorial/zoo: {tut_s / zoo_fit:.1f}x (target >= 8x); "
            f"whole zoo.run counted: {tut_s / zoo_all:.1f}x"
        )
        return 0

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
