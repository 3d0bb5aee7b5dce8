"""Checking a name against a fixed list, with the nearest one suggested (no heavy imports)."""
from __future__ import annotations

import difflib
from typing import Sequence


def check_choice(value: str, choices: Sequence[str], what: str) -> str:
    """Return `value` if it is one of `choices`, else raise ValueError naming the nearest one."""
    if value in choices:
        return value
    near = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.5)
    hint = f"; did you mean {near[0]!r}?" if near else f"; expected one of {', '.join(choices)}"
    raise ValueError(f"unknown {what} {value!r}{hint}")
