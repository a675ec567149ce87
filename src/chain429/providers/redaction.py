"""Removing provider keys from text before it reaches a log, a record or a client."""

from __future__ import annotations

from collections.abc import Iterable

REDACTED = "[redacted]"
FRAGMENT_LENGTH = 8
"""Any run of this many characters copied from a key counts as the key (a last-8 echo, a
prefix, a key cut by a truncated message)."""
_MIN_SECRET_LENGTH = 4


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret, and every stretch of 8 or more characters taken from one,
    replaced by `[redacted]`. Secrets shorter than 8 characters are removed where they appear
    whole; shorter than 4 they are ignored (no real key is that short, and removing them would
    shred the text)."""
    for secret in secrets:
        if len(secret) >= FRAGMENT_LENGTH:
            text = _redact_fragments(text, secret)
        elif len(secret) >= _MIN_SECRET_LENGTH:
            text = text.replace(secret, REDACTED)
    return text


def _redact_fragments(text: str, secret: str) -> str:
    fragments = {secret[i : i + FRAGMENT_LENGTH] for i in range(len(secret) - FRAGMENT_LENGTH + 1)}
    covered = bytearray(len(text))
    for start in range(len(text) - FRAGMENT_LENGTH + 1):
        if text[start : start + FRAGMENT_LENGTH] in fragments:
            covered[start : start + FRAGMENT_LENGTH] = b"\x01" * FRAGMENT_LENGTH
    if not any(covered):
        return text
    pieces: list[str] = []
    index = 0
    while index < len(text):
        if covered[index]:
            while index < len(text) and covered[index]:
                index += 1
            pieces.append(REDACTED)
        else:
            end = covered.find(b"\x01", index)
            end = len(text) if end == -1 else end
            pieces.append(text[index:end])
            index = end
    return "".join(pieces)
