"""The one OCR setting a user chooses: how sure a recognition must be for its value to be accepted.

`XXGK_OCR_MIN_CONFIDENCE` (0–1, default 0.90) is compared with a cell's lowest per-character
probability. It is a parse input: the parse cache key includes it, so changing it re-reads scans.
"""

from __future__ import annotations

import os

MIN_CONFIDENCE_ENV = "XXGK_OCR_MIN_CONFIDENCE"
DEFAULT_MIN_CONFIDENCE = 0.90


def min_confidence_from_env(environ: dict[str, str] | None = None) -> float:
    env = os.environ if environ is None else environ
    text = env.get(MIN_CONFIDENCE_ENV, "").strip()
    if not text:
        return DEFAULT_MIN_CONFIDENCE
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{MIN_CONFIDENCE_ENV}={text!r}: expected a number between 0 and 1") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{MIN_CONFIDENCE_ENV}={text!r}: expected a number between 0 and 1")
    return value
