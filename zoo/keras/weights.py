"""Pretrained weights: where Keras caches them, checking their hash, installing a copy.

``imagenet`` resolves exactly where Keras itself looks (``$KERAS_HOME/models/``,
default ``~/.keras/models/``) and is checked against Keras's published hash.
A file that is missing and cannot be downloaded, or whose hash is wrong, is an
error that says what to do; zoo never falls back to random weights on its own.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.specification.catalog import APPLICATIONS
from zoo.specification.errors import WeightsError, did_you_mean
from zoo.specification.files import copy_atomic
from zoo.specification.model import builtin_model


@dataclass(frozen=True)
class WeightsFile:
    model: str
    filename: str
    file_hash: str | None  # Keras's published hash: md5 (32 hex digits) or sha256 (64); None: none published
    origin: str

    @property
    def algorithm(self) -> str:
        return "sha256" if self.file_hash is not None and len(self.file_hash) == 64 else "md5"

    @classmethod
    def of_spec(cls, spec: Any) -> WeightsFile:
        """The ImageNet file of a family spec, from its ``weights:`` section."""
        known = spec.weights_file
        if not known:
            raise WeightsError(
                f"no ImageNet weights are known for {spec.name!r} (its spec has no weights: "
                "section); pass weights=None or a path to a .h5 file",
                file=spec.origin.label,
            )
        # origin: a folder ending in '/' (the file's name is appended), or the file's whole URL where
        # Keras downloads it under another name (NASNet: NASNet-mobile.h5 cached as nasnet_mobile.h5)
        origin = known["origin"]
        return cls(
            spec.name,
            known["file"],
            known.get("hash"),
            origin + known["file"] if origin.endswith("/") else origin,
        )


def imagenet_file(model: str, include_top: bool = False) -> WeightsFile:
    """The ImageNet file keras.applications uses for ``model`` (a zoo name: vgg16, resnet50, ...),
    with or without its top, read from the model's family file (its file name and Keras's hash)."""
    if model not in APPLICATIONS.values():
        raise WeightsError(
            f"no ImageNet weights are known for {model!r}: it is not a keras.applications "
            f"model{did_you_mean(model, APPLICATIONS.values())}. "
            f"Valid: {', '.join(APPLICATIONS.values())}"
        )
    return WeightsFile.of_spec(builtin_model(model, include_top=include_top, weights="imagenet"))


def keras_home() -> Path:
    """Keras's cache folder, by Keras's own rule (``keras.src.utils.file_utils.get_file``)."""
    home = Path(os.path.expanduser(os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")))
    if home.exists() and not os.access(home, os.W_OK):
        home = Path(tempfile.gettempdir()) / ".keras"
    return home


def cache_path(model: str | WeightsFile = "vgg16", include_top: bool = False) -> Path:
    """Where Keras keeps (and zoo looks for) a model's ImageNet file."""
    wf = model if isinstance(model, WeightsFile) else imagenet_file(model, include_top)
    return keras_home() / "models" / wf.filename


def md5sum(path: Path) -> str:
    return file_digest(path, "md5")


def file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm, usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_hash(path: Path, wf: WeightsFile) -> None:
    if wf.file_hash is None:  # Keras publishes none for this file (MobileNet): nothing to check against
        return
    actual = file_digest(path, wf.algorithm)
    if actual != wf.file_hash:
        raise WeightsError(
            f"{wf.filename} does not match Keras's published {wf.algorithm} {wf.file_hash} "
            f"(it is {actual}); it may be truncated or a different file, and it was not loaded. "
            f"Replace it with a good copy (`zoo weights install {wf.model} FILE`), "
            "or pass weights=None for the architecture only",
            file=str(path),
        )


DOWNLOAD_TIMEOUT_S = 60  # per socket operation: a silent firewall must not hang a build


def download(wf: WeightsFile) -> Path:
    """Keras's own download into its cache (the real path, where a network exists).

    ``ZOO_OFFLINE=1`` skips the attempt, for machines known to have no network.
    """
    if os.environ.get("ZOO_OFFLINE", "") not in ("", "0"):
        raise OSError("ZOO_OFFLINE is set")
    import socket

    from keras.utils import get_file

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        return Path(get_file(wf.filename, wf.origin, cache_subdir="models", file_hash=wf.file_hash))
    finally:
        socket.setdefaulttimeout(previous)


def resolve(weights: str | os.PathLike[str] | None, model: str | WeightsFile | None = "vgg16") -> str | None:
    """The file to load for ``weights`` (``None`` stays ``None``: random initial weights).

    ``model`` names a known file (``vgg16``) or is a family spec's :class:`WeightsFile`; only
    ``"imagenet"`` needs it.
    """
    if weights is None:
        return None
    if weights != "imagenet":
        path = Path(weights)
        if not path.is_file():
            raise WeightsError(
                f"weights file not found. Received: weights={os.fspath(weights)!r}", file=str(path)
            )
        return str(path)
    if model is None:
        raise WeightsError("no ImageNet weights are known for this model; pass weights=None or a file path")
    wf = model if isinstance(model, WeightsFile) else imagenet_file(model)
    path = cache_path(wf)
    model = wf.model
    if not path.is_file():
        try:
            path = download(wf)
        except Exception as exc:  # no network, proxy, disk: all end the same way for the user
            is_model = " " not in model  # a model's weights, or another ImageNet file (the class index)
            raise WeightsError(
                f"{'ImageNet weights for ' if is_model else 'The '}{model} "
                f"{'are' if is_model else 'is'} not in Keras's cache and could not be "
                f"downloaded ({type(exc).__name__}). Put the file {wf.filename} in the folder "
                f"{path.parent}/ (Keras's cache, $KERAS_HOME/models/; original: {wf.origin})"
                + (
                    f", for example with `zoo weights install {model} FILE`; "
                    "or pass weights=None to build the architecture only, with random weights"
                    if is_model
                    else ""
                ),
                file=str(path),
            ) from None
    _check_hash(path, wf)
    return str(path)


def install(model: str, source: str | os.PathLike[str], include_top: bool = False) -> Path:
    """Copy a weights file obtained elsewhere into Keras's cache, after checking its hash."""
    wf, src = imagenet_file(model, include_top), Path(source)
    if not src.is_file():
        raise WeightsError("weights file not found", file=str(src))
    _check_hash(src, wf)
    target = cache_path(wf)
    copy_atomic(src, target)
    return target
