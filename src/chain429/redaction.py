"""Keep secrets out of everything 429chain writes: logs, the usage database, error messages.

Text from outside is made safe once, where it enters: an upstream's words when an attempt
reads them (`router.attempt`), an error event relayed mid-stream (`router.relay`), the model a
client asked for when its record is begun (`router.walk`). Every log line passes through a
`Redactor` as well, as its last step (`logs`), whatever logger or traceback carried it.

A `Redactor` knows the configured secrets (provider keys, client keys) and replaces with
`[redacted]` every stretch of `FRAGMENT_LENGTH` or more characters copied from one (the same
rule everywhere: a whole key, a prefix, a last-8 echo, a key cut by a truncated
message). Secrets shorter than that are removed where they appear whole. It also removes bearer
tokens and strings shaped like well-known provider keys, configured or not. Key labels (the
last 4 characters, see issue 3) are shorter than a fragment and stay readable.

It is fast enough to run on every log line: a stretch of 8 characters always contains a 4-gram
starting at a multiple of 4, so only those 4-grams are looked up in a set, and the 8-grams
around a hit are checked only then.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final

REDACTED: Final = "[redacted]"
FRAGMENT_LENGTH: Final = 8
MIN_SECRET_LENGTH: Final = 4
MEMO_TEXT_LENGTH: Final = 200
MEMO_SIZE: Final = 4096
SENSITIVE_KEYS: Final = frozenset(
    {"authorization", "api_key", "apikey", "api_keys", "apikeys", "x-api-key", "password"}
)

_STEP: Final = FRAGMENT_LENGTH // 2
_KEY_PREFIXES: Final = (
    "sk-",
    "gsk_",
    "csk-",
    "nvapi-",
    "ghp_",
    "gho_",
    "github_pat_",
    "xai-",
    "AIza",
)
_TOKENS: Final = re.compile(
    r"[Bb][Ee][Aa][Rr][Ee][Rr]\s+(?P<bearer>[^\s\"',;]+)"
    r"|(?:" + "|".join(_KEY_PREFIXES) + r")[A-Za-z0-9_\-]{12,}"
)

Span = tuple[int, int]


class _Secrets:
    """The lookup tables for one list of secrets."""

    def __init__(self, secrets: Iterable[str]) -> None:
        unique = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}
        long = [s for s in unique if len(s) >= FRAGMENT_LENGTH]
        self.short = tuple(sorted((s for s in unique if len(s) < FRAGMENT_LENGTH), key=len))
        self.fragments = frozenset(
            s[i : i + FRAGMENT_LENGTH] for s in long for i in range(len(s) - FRAGMENT_LENGTH + 1)
        )
        self.grams = frozenset(s[i : i + _STEP] for s in long for i in range(len(s) - _STEP + 1))
        self.memo: dict[str, str] = {}

    def spans(self, text: str) -> list[Span]:
        found: list[Span] = []
        if self.fragments:
            found.extend(self._fragment_spans(text))
        for secret in self.short:
            start = text.find(secret)
            while start != -1:
                found.append((start, start + len(secret)))
                start = text.find(secret, start + 1)
        if _may_hold_token(text):
            for match in _TOKENS.finditer(text):
                found.append(match.span("bearer") if match.group("bearer") else match.span())
        return found

    def _fragment_spans(self, text: str) -> Iterable[Span]:
        grams, fragments = self.grams, self.fragments
        last_start = len(text) - FRAGMENT_LENGTH
        for i in range(0, len(text) - _STEP + 1, _STEP):
            if text[i : i + _STEP] in grams:
                for start in range(max(0, i - _STEP), min(i, last_start) + 1):
                    if text[start : start + FRAGMENT_LENGTH] in fragments:
                        yield (start, start + FRAGMENT_LENGTH)

    def redact(self, text: str) -> str:
        spans = self.spans(text)
        if not spans:
            return text
        pieces: list[str] = []
        done = 0
        for start, end in _merged(spans):
            pieces.append(text[done:start])
            pieces.append(REDACTED)
            done = end
        pieces.append(text[done:])
        return "".join(pieces)


def _may_hold_token(text: str) -> bool:
    if "earer" in text or "EARER" in text:
        return True
    for prefix in _KEY_PREFIXES:
        if prefix in text:
            return True
    return False


def _merged(spans: list[Span]) -> list[Span]:
    spans.sort()
    merged = [spans[0]]
    for start, end in spans[1:]:
        last_start, last_end = merged[-1]
        if start <= last_end:
            merged[-1] = (last_start, max(last_end, end))
        else:
            merged.append((start, end))
    return merged


class Redactor:
    """Replaces secrets, their fragments and token-shaped strings with `[redacted]`.

    Short texts (attempt reasons, which repeat) are memoised. Safe to share between threads.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = _Secrets(secrets)

    def redact(self, text: str) -> str:
        secrets = self._secrets
        if len(text) > MEMO_TEXT_LENGTH:
            return secrets.redact(text)
        known = secrets.memo.get(text)
        if known is None:
            if len(secrets.memo) >= MEMO_SIZE:
                secrets.memo.clear()
            known = secrets.memo[text] = secrets.redact(text)
        return known

    def redact_value(self, value: object) -> object:
        """Redact strings anywhere inside dicts, lists and tuples; blank sensitive keys."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, Mapping):
            return {
                k: REDACTED
                if isinstance(k, str) and k.lower() in SENSITIVE_KEYS
                else self.redact_value(v)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.redact_value(v) for v in value]
        return value
