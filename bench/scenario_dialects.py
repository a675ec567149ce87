"""Each header dialect in turn as the first entry with a small window, over an unlimited
fallback: after its first headers the entry must never be sent a call it will refuse, and it
must still be used whenever it has room.

Cerebras states its request limit per day only, so its small window is the token window
(`x-ratelimit-*-tokens-minute`, whose reset counts seconds whatever the window's name).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chain429.sim.replies import Endpoint, count_prompt_tokens
from scenario_checks import (
    MAX_EVIDENCE,
    check_all_served,
    check_no_wasted,
    collect,
    describe_call,
    remaining,
)
from scenario_defs import FREE_MODEL, REPLY_WORDS, sim, unlimited
from scenario_load import MAX_TOKENS, is_streamed, steady
from scenario_report import ScenarioResult
from scenario_rig import Entry, Rig, UpstreamCall

WINDOW_S = 5.0
REQUESTS = 5
TOKENS = 150
RATE = 8.0
"""Requests per second: several in flight at once, most of them over the entry's limit (and
four sent before the first response, with its headers, is back)."""
BOUNDARY_S = 0.5
"""Calls this soon after the entry's window truly ended are not counted as missed: the
proxy learns the reset from a header that took time to arrive."""
IN_TRANSIT_S = 0.1
"""Calls to the entry that reach it this soon after a fallback call were already admitted."""


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    sim_fields: Mapping[str, Any]
    model: str = "sim-small"

    @property
    def metric(self) -> str:
        """The simulator window that limits the entry: `requests` or `tokens`."""
        return "tokens" if "tokens_per_window" in self.sim_fields else "requests"

    @property
    def limit(self) -> int:
        fields = self.sim_fields
        return int(
            fields["tokens_per_window" if self.metric == "tokens" else "requests_per_window"]
        )


SMALL_REQUESTS = {"requests_per_window": REQUESTS, "window_seconds": WINDOW_S}
DIALECTS = {
    "groq": Dialect("groq", SMALL_REQUESTS),
    "cerebras": Dialect(
        "cerebras",
        {"requests_per_day": 14_400, "tokens_per_window": TOKENS, "token_window_seconds": WINDOW_S},
    ),
    "openrouter": Dialect("openrouter", SMALL_REQUESTS, FREE_MODEL),
    "openai": Dialect("openai", SMALL_REQUESTS),
}


async def dialect_first(name: str, *, quick: bool) -> ScenarioResult:
    dialect = DIALECTS[name]
    result = ScenarioResult(f"dialect-{name}")
    first = Entry(sim(f"x-{name}", name, **dialect.sim_fields), name, model=dialect.model)
    fallback = unlimited()
    async with Rig([first, fallback]) as rig:
        result.samples = await steady(
            rig.client, f"d-{name}", rate=RATE, duration_s=8.0 if quick else 15.0
        )
        collect(rig, result)
        check_all_served(result, result.samples)
        check_no_wasted(rig, result, [first.name])
        check_capacity_used(rig, result, dialect, first.name, fallback.name)
    return result


def check_capacity_used(
    rig: Rig, result: ScenarioResult, dialect: Dialect, name: str, fallback: str
) -> None:
    """No fallback call while the entry truly had room for the request (beyond the slack for
    the time a header takes to arrive); and how much of each window the entry served."""
    done = {s.tag: s.done_at for s in result.samples}
    answered = [c for c in rig.calls(name) if c.action == "answer"]
    windows = _windows(answered, dialect)
    missed = [
        c
        for c in rig.calls(fallback)
        if _room(c, answered, done, dialect, name) >= _need(c, dialect)
        and not _just_reset(c.at, windows)
    ]
    result.check(
        f"{name} used whenever it had room",
        not missed,
        f"{len(missed)} of {len(rig.calls(fallback))} fallback calls made while it had room",
    )
    for call in missed[:MAX_EVIDENCE]:
        result.note(f"missed capacity: {describe_call(rig, call, about=name)}")
        result.note("  unfinished at the entry then: " + _unfinished(call, answered, result))
    used = ", ".join(str(u) for _, u in windows)
    unit = dialect.metric
    result.note(
        f"{name} served {len(answered)} requests in {len(windows)} windows of "
        f"{dialect.limit} {unit}; {unit} used per window: {used or 'none'}"
    )


def _cost(call: UpstreamCall, dialect: Dialect) -> int:
    """What one answered call consumed in the simulator's limiting window."""
    if dialect.metric == "requests":
        return 1
    body = {"messages": [{"role": "user", "content": call.tag or ""}]}
    return count_prompt_tokens(Endpoint.CHAT, body) + min(REPLY_WORDS, MAX_TOKENS)


def _need(call: UpstreamCall, dialect: Dialect) -> int:
    """What the proxy must see free to admit the request: 1, or its token estimate (raw body
    size / 4 + 1, plus max_tokens, which Cerebras reserves), bounded from above."""
    if dialect.metric == "requests":
        return 1
    index = int((call.tag or "0").rsplit("-", 1)[-1])
    body: dict[str, object] = {
        "messages": [{"role": "user", "content": call.tag}],
        "model": "bench",
        "max_tokens": MAX_TOKENS,
    }
    if is_streamed(index):
        body["stream"] = True
    return len(json.dumps(body)) // 4 + 1 + MAX_TOKENS


def _windows(answered: list[UpstreamCall], dialect: Dialect) -> list[tuple[float, int]]:
    """(end, amount used) of each window the simulator opened: at the first use after the
    previous one closed, as `chain429.sim.windows.FixedWindow` does."""
    windows: list[tuple[float, int]] = []
    for call in answered:
        if not windows or call.at >= windows[-1][0]:
            windows.append((call.at + WINDOW_S, 0))
        end, used = windows[-1]
        windows[-1] = (end, used + _cost(call, dialect))
    return windows


def _room(
    call: UpstreamCall,
    answered: list[UpstreamCall],
    done: Mapping[str, float],
    dialect: Dialect,
    name: str,
) -> int:
    """What the entry truly had left when `call` went to the fallback, less what was already
    on its way to it, less what the proxy may hold back for requests still unfinished there
    (their estimates beyond their true cost: it cannot know the cost before the end)."""
    left = remaining(call.truth[name], dialect.metric)
    if left is None:
        return 0
    coming = [c for c in answered if call.at < c.at <= call.at + IN_TRANSIT_S]
    unfinished = [c for c in answered if c.at <= call.at < done.get(c.tag or "", 0.0)]
    held = sum(_need(c, dialect) - _cost(c, dialect) for c in unfinished)
    return left - sum(_cost(c, dialect) for c in coming) - held


def _unfinished(call: UpstreamCall, answered: list[UpstreamCall], result: ScenarioResult) -> str:
    """The entry's requests still open when `call` went to the fallback, and for each whether
    the client already had a token (so the proxy had already applied its response headers)."""
    samples = {s.tag: s for s in result.samples}
    parts = []
    for other in answered:
        sample = samples.get(other.tag or "")
        if sample is None or not other.at <= call.at < sample.done_at:
            continue
        text = f"{other.tag} ({'stream' if other.stream else 'json'}, reached it "
        text += f"{call.at - other.at:.3f}s before"
        if sample.ttft_ms is not None and sample.sent_at + sample.ttft_ms / 1000 <= call.at:
            text += ", headers already applied: first token was at the client"
        parts.append(text + ")")
    return "; ".join(parts) or "none"


def _just_reset(at: float, windows: list[tuple[float, int]]) -> bool:
    ended = [end for end, _ in windows if end <= at]
    return bool(ended) and at - max(ended) < BOUNDARY_S
