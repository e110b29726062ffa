"""mkdocs hooks (mkdocs.yml, ``hooks:``).

``docs/compatibility.md``, the table of supported Keras/TensorFlow release pairs, is written by
``python tools/matrix.py``; where it exists it joins the nav after "Keras releases", and where it
does not (a branch without it) the site builds without it rather than fail on a missing page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

COMPATIBILITY = "compatibility.md"


def on_config(config: Any) -> Any:
    if not (Path(config["docs_dir"]) / COMPATIBILITY).is_file():
        return config
    for section in config["nav"]:
        for pages in section.values():
            if isinstance(pages, list) and {"Keras releases": "keras-releases.md"} in pages:
                at = pages.index({"Keras releases": "keras-releases.md"}) + 1
                pages.insert(at, {"Compatibility table": COMPATIBILITY})
                return config
    return config
