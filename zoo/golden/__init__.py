"""Goldens: summaries and numeric fingerprints written down, checked against both witnesses.

One protocol (:mod:`zoo.golden.protocol`) for both kinds: :mod:`zoo.golden.summaries` and
:mod:`zoo.golden.fingerprints`; :mod:`zoo.golden.check` verifies and regenerates them.
"""
