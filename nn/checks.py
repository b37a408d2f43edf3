"""Argument checks that layers, losses and optimizers share: one test and one wording of the error each."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["is_int", "positive_int"]


def is_int(n: Any) -> bool:
    """Whether n is a Python or numpy integer (a bool is not: True as a size is a mistake)."""
    return isinstance(n, (int, np.integer)) and not isinstance(n, bool)


def positive_int(n: Any, what: str, who: str) -> int:
    """n as an int >= 1, or a ValueError naming who, what and the value."""
    if not is_int(n) or n < 1:
        raise ValueError(f"{who}: {what} must be a positive int, got {n!r}")
    return int(n)
