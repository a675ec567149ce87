"""Key labels: how a key is named wherever a person can see it (answers, logs, the dashboard).

It lives in `config` because both sides need it: the limits name their keys by it, and a config
edit that carries a label instead of a key means "keep that key". A provider header that carries
a credential (Azure's `api-key`, a custom auth header: `is_secret_header`) has its value
labelled the same way.
"""

from __future__ import annotations

import re
from typing import Final

#: A value this long shows its last four characters in its label; a shorter one shows none.
LABEL_MIN_LENGTH: Final = 8
_LABEL: Final = re.compile(r"…(?:.{4})?|key#[1-9][0-9]*", re.DOTALL)


def key_label(api_key: str, index: int) -> str:
    """How a key is named anywhere a person can see it: its last four characters, or for a
    key too short to spare four (under 8), its position among its provider's keys."""
    return "…" + api_key[-4:] if len(api_key) >= LABEL_MIN_LENGTH else f"key#{index + 1}"


#: Header names whose values are credentials (`api-key`, `X-Auth-Token`, `Cookie`, ...): shown
#: only as labels and removed from every log line, like keys. Other headers (`HTTP-Referer`,
#: `X-Title`) are plain settings: redacting a URL there would blank `https://` everywhere.
_SECRET_HEADER: Final = re.compile(
    r"auth|key|token|secret|passw|cookie|signature|credential|session", re.IGNORECASE
)


def is_secret_header(name: str) -> bool:
    """Whether header `name` carries a credential (see `_SECRET_HEADER`)."""
    return _SECRET_HEADER.search(name) is not None


def header_label(value: str) -> str:
    """How a header's value is named anywhere a person can see it: like a key, its last four
    characters, or for a value under 8 characters, nothing of it (`…`)."""
    return "…" + value[-4:] if len(value) >= LABEL_MIN_LENGTH else "…"


def is_label(text: str) -> bool:
    """Whether `text` has the shape of a key's or a header value's label (what no key looks
    like)."""
    return _LABEL.fullmatch(text) is not None
