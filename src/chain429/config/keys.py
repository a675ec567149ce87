"""Key labels: how a key is named wherever a person can see it (answers, logs, the dashboard).

It lives in `config` because both sides need it: the limits name their keys by it, and a config
edit that carries a label instead of a key means "keep that key".
"""

from __future__ import annotations

import re
from typing import Final

_LABEL: Final = re.compile(r"….{4}|key#[1-9][0-9]*", re.DOTALL)


def key_label(api_key: str, index: int) -> str:
    """How a key is named anywhere a person can see it: its last four characters, or for a
    key too short to spare four (under 8), its position among its provider's keys."""
    return "…" + api_key[-4:] if len(api_key) >= 8 else f"key#{index + 1}"


def is_label(text: str) -> bool:
    """Whether `text` has the shape of a key's label (what no key looks like)."""
    return _LABEL.fullmatch(text) is not None
