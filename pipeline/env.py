"""Numbers set by environment variables (worker limits, the OCR threshold, the conversion time limit):
read one way, with an error that names the variable when the value is not a number in range."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping


def number_from_env(
    name: str,
    default: float,
    *,
    kind: Callable[[str], float] = float,
    minimum: float = 0.0,
    maximum: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> float:
    """The number `name` sets; `default` when it is unset or blank. A ValueError naming the variable
    when the text is no number, or the number is below `minimum` or above `maximum`."""
    env = os.environ if environ is None else environ
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"{name}={text!r}: expected a number") from None
    if value < minimum:
        raise ValueError(
            f"{name}={text!r}: must not be {'negative' if minimum == 0 else f'below {minimum:g}'}"
        )
    if maximum is not None and value > maximum:
        raise ValueError(f"{name}={text!r}: must not be above {maximum:g}")
    return value
