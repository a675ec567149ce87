"""The limit state of the whole fleet, as the status views show it: this replica's own view of
an entry (`limits.status.EntryView`) with what Redis holds for its provider key slot laid
over it.

Redis is read with one script per slot (`READ`), which changes nothing: it answers the state
hash (see `scripts`) and the records of the leases still live, so what is in flight counts
what every replica has out now, as the admission script would after its sweep. The local
view keeps what only this replica knows (manual windows, learned limits, a key set aside, a
key's credit) and takes, per window, what is left, when it resets and what the fleet has in
flight; the shared cooldowns of the slot count too. Pure: the reading is done elsewhere
(`fleet_limits`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from chain429.limits.metric import MetricKind, Scope
from chain429.limits.state import is_free_model
from chain429.limits.status import EntryView, WindowView
from chain429.limits.tracker import key_window_applies
from chain429.state_store.names import model_name

#: KEYS: state, leases, held (one slot). ARGV: now (epoch seconds). Reads only: the state
#: hash as it is, and the held records of the leases not yet run out.
READ: Final = """
local live = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf')) do
  local record = redis.call('HGET', KEYS[3], id)
  if record then table.insert(live, record) end
end
return {redis.call('HGETALL', KEYS[1]), live}
"""

_REQUESTS: Final = MetricKind.REQUESTS.value


@dataclass(frozen=True, slots=True)
class Flight:
    """One live lease: the model it is for (as named in Redis), its tokens, whether the model
    is a free one, and whether an answer's headers counted it already (`settled`)."""

    model: str
    tokens: int
    free: bool
    settled: bool


@dataclass(frozen=True, slots=True)
class SlotReading:
    """What `READ` answered for one provider key slot."""

    fields: Mapping[str, str]
    flights: tuple[Flight, ...]

    @classmethod
    def parse(cls, answer: Sequence[Any]) -> SlotReading:
        flat, live = answer
        texts = [_text(item) for item in flat]
        fields = dict(zip(texts[::2], texts[1::2], strict=True))
        flights = []
        for record in live:
            parts = _text(record).split(" ")
            if len(parts) == 4:
                model, tokens, free, settled = parts
                flights.append(Flight(model, int(tokens), free == "1", settled == "1"))
        return cls(fields, tuple(flights))

    def in_flight(self, scope: str, kind: str, model: str) -> int:
        """What the fleet has in flight against a window of `scope` and `kind` for `model`
        (named as in Redis), as the admission script counts it: requests no answer counted
        yet, tokens of every live lease."""
        total = 0
        for flight in self.flights:
            if scope == Scope.MODEL.value and flight.model != model:
                continue
            if scope == Scope.FREE_MODELS.value and not flight.free:
                continue
            if kind == _REQUESTS:
                total += 0 if flight.settled else 1
            else:
                total += flight.tokens
        return total

    def leases(self, model: str) -> int:
        return sum(1 for flight in self.flights if flight.model == model)


def fleet_entry(view: EntryView, reading: SlotReading, now: float, offset: float) -> EntryView:
    """`view` (this replica's, at `now` on its steady timeline) with `reading` laid over it;
    `offset`: how far the wall clock, Redis' time, is ahead of the steady timeline."""
    model = model_name(view.model)
    fields = reading.fields
    shared = {
        name: window
        for prefix, names in _window_lists(fields, model, view.model)
        for name in names
        if (window := _shared_window(reading, prefix, name, model, now, offset)) is not None
    }
    windows: list[WindowView] = []
    for local in view.windows:
        name = f"{local.scope}/{local.kind}/{local.window}"
        found = shared.pop(name, None)
        fleet = reading.in_flight(local.scope, local.kind, model)
        windows.append(_merged(local, found, fleet))
    windows += shared.values()
    return _with_status(view, tuple(windows), reading, model, now, offset)


def _window_lists(
    fields: Mapping[str, str], model: str, raw_model: str
) -> list[tuple[str, list[str]]]:
    """(field prefix, window names) of the model's windows and the key-wide ones that apply."""
    own = f"M|{model}|"
    key_wide = [
        name
        for name in fields.get("K|wins", "").split()
        if key_window_applies(Scope(name.split("/")[0]), raw_model)
    ]
    return [(own, fields.get(own + "wins", "").split()), ("K|", key_wide)]


def _shared_window(
    reading: SlotReading, prefix: str, name: str, model: str, now: float, offset: float
) -> WindowView | None:
    parts = name.split("/")
    if len(parts) != 3:
        return None
    scope, kind, window = parts
    fields, p = reading.fields, f"{prefix}w|{name}|"
    limit, remaining = _int(fields.get(p + "lim")), _int(fields.get(p + "rem"))
    reset = _float(fields.get(p + "rst"))
    if reset is not None and now + offset >= reset:  # shown refilled, as the local view does
        remaining, reset = limit, None
    return WindowView(
        kind=kind,
        window=window,
        scope=scope,
        limit=limit,
        remaining=remaining,
        in_flight=reading.in_flight(scope, kind, model),
        reset_at=None if reset is None else reset - offset,
        source=fields.get(p + "src", ""),
        updated_at=now,
        raw=(),
    )


def _merged(local: WindowView, shared: WindowView | None, fleet_in_flight: int) -> WindowView:
    in_flight = max(local.in_flight, fleet_in_flight)
    if shared is None:
        return replace(local, in_flight=in_flight)
    return replace(
        local,
        limit=local.limit if shared.limit is None else shared.limit,
        remaining=local.remaining if shared.remaining is None else shared.remaining,
        reset_at=shared.reset_at if shared.remaining is not None else local.reset_at,
        source=shared.source or local.source,
        in_flight=in_flight,
    )


def _with_status(
    view: EntryView,
    windows: tuple[WindowView, ...],
    reading: SlotReading,
    model: str,
    now: float,
    offset: float,
) -> EntryView:
    """`view` with `windows` and the status, cooldown and reason they and the slot's shared
    cooldowns give, as `limits.status` decides them for one replica."""
    fields = reading.fields
    penalised = fields.get(f"M|{model}|pen") == "1"
    model_cool = _steady(fields.get(f"M|{model}|cool"), offset)
    key_cools = [_steady(fields.get("K|cool"), offset)]
    if is_free_model(view.model):
        key_cools.append(_steady(fields.get("K|fcool"), offset))
    hard = max(*key_cools, 0.0 if penalised else model_cool)
    soft = model_cool if penalised else 0.0
    # Set aside, or cooling down here: what only this replica knows still holds.
    locally_limited = view.status == "exhausted" and (view.disabled or view.cooldown_until)
    exhausted = any(
        w.remaining is not None and w.remaining - w.in_flight <= 0
        for w in windows
        if w.kind == _REQUESTS
    )
    if locally_limited or hard > now or exhausted:
        status = "exhausted"
    elif view.status == "failing" or soft > now:
        status = "failing"
    else:
        status = "tracking" if windows else "available"
    cooling = max(view.cooldown_until or 0.0, hard, soft)
    if locally_limited or (view.status == "failing" and max(hard, soft) <= now):
        reason = view.reason
    elif max(hard, soft) > now:
        model_reason = fields.get(f"M|{model}|reason") if model_cool > now else None
        reason = model_reason or fields.get("K|reason") or view.reason
    else:
        reason = "quota exhausted" if exhausted else None
    return replace(
        view,
        status=status,
        cooldown_until=cooling if cooling > now else None,
        reason=reason,
        in_flight=max(view.in_flight, reading.leases(model)),
        windows=windows,
    )


def _steady(value: str | None, offset: float) -> float:
    """An epoch time Redis holds, on the steady timeline; 0 when absent."""
    instant = _float(value)
    return 0.0 if instant is None else instant - offset


def _float(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    number = _float(value)
    return None if number is None else int(number)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
