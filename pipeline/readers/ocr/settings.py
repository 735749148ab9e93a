"""The one OCR setting a user chooses: how sure a recognition must be for its value to be accepted.

`XXGK_OCR_MIN_CONFIDENCE` (0–1, default 0.90) is compared with a cell's lowest per-character
probability. It is a parse input: the parse cache key includes it, so changing it re-reads scans.
"""

from __future__ import annotations

from collections.abc import Mapping

from pipeline.env import number_from_env

MIN_CONFIDENCE_ENV = "XXGK_OCR_MIN_CONFIDENCE"
DEFAULT_MIN_CONFIDENCE = 0.90


def min_confidence_from_env(environ: Mapping[str, str] | None = None) -> float:
    return number_from_env(MIN_CONFIDENCE_ENV, DEFAULT_MIN_CONFIDENCE, maximum=1.0, environ=environ)
