"""The Lua scripts that keep the shared limit state in Redis, each one atomic step.

Every script touches the three keys of one provider key slot, all under one hash tag (see
`names`), so each runs on one Redis Cluster slot:

  KEYS[1] state    hash: per model `M|<model>|...` (cooldown, requests and tokens in flight,
                   windows), per key slot `K|...` (cooldowns, in flight, key-wide windows)
  KEYS[2] leases   sorted set: lease id -> expiry (epoch seconds)
  KEYS[3] held     hash: lease id -> "<model> <tokens> <free 0|1> <settled 0|1>"

A window named `<scope>/<kind>/<window>` keeps `lim`, `rem` (remaining), `rst` (reset,
epoch seconds), `per` (its length, for a refill), `asm` (remaining assumed after a refill)
and `src`. In flight is counted per model and per key slot, not per window, so a window
first reported while requests are out counts them at once: `remaining - in flight` is the
headroom, where requests in flight are those the provider has not counted yet (no answer's
headers so far: `settled` 0) and tokens those of every live lease.

A request refused for an exhausted window that may wait for it (queue mode) leaves a mark,
`M|<model>|wait` (a window of the model) or `K|wait` (of the key); the next release or report
that frees capacity there clears the marks and publishes `<hash tag> <model> <key-wide 0|1>`
on `WAKE_CHANNEL`, so every replica wakes the requests queued for that entry (`wakes`). A
slot nobody waits on publishes nothing.

Every time comes from the caller as wall-clock epoch seconds (`ARGV[1]`), so a test's fake
clock drives leases and resets like a real one. Floats leave a script as strings (Redis would
cut a Lua number to an integer).
"""

from __future__ import annotations

from typing import Final

from chain429.limits.probe import SLOW_START
from chain429.state_store.names import WAKE_CHANNEL

#: How long the state of a key slot outlives its last admission or cooldown (a month):
#: what it holds is then long stale, and any header tells it again.
STATE_TTL_S: Final = 30 * 86_400

_COMMON: Final = """
local state, leases, held = KEYS[1], KEYS[2], KEYS[3]
local now = tonumber(ARGV[1])

local function num(field, default)
  local value = redis.call('HGET', state, field)
  if value then return tonumber(value) end
  return default
end

local function add(field, amount)
  if amount ~= 0 then
    if redis.call('HINCRBY', state, field, amount) < 0 then
      redis.call('HSET', state, field, 0)
    end
  end
end

local function opt(value)
  if value == '' then return nil end
  return tonumber(value)
end

local function owner(scope, model)
  if scope == 'model' then return 'M|' .. model .. '|' end
  return 'K|'
end

local function parts(name)
  return string.match(name, '^([^/]+)/([^/]+)/([^/]+)$')
end

local function remember(list, name)
  local names = redis.call('HGET', state, list) or ''
  for known in string.gmatch(names, '%S+') do
    if known == name then return end
  end
  redis.call('HSET', state, list, names .. ' ' .. name)
end

local function refresh(p)
  local reset = num(p .. 'rst', nil)
  if reset and now >= reset then
    local limit = redis.call('HGET', state, p .. 'lim')
    if limit then
      redis.call('HSET', state, p .. 'rem', limit)
    else
      redis.call('HDEL', state, p .. 'rem')
    end
    redis.call('HSET', state, p .. 'rst', now + num(p .. 'per', 60), p .. 'asm', 1)
  end
end

local function settle(model, free)
  add('M|' .. model .. '|req', -1)
  add('K|req', -1)
  if free == '1' then add('K|freq', -1) end
end

local function drop(id)
  redis.call('ZREM', leases, id)
  local record = redis.call('HGET', held, id)
  if not record then return end
  redis.call('HDEL', held, id)
  local model, tokens, free, settled = string.match(record, '^(%S+) (%d+) (%d) (%d)$')
  tokens = tonumber(tokens)
  if settled == '0' then settle(model, free) end
  add('M|' .. model .. '|tok', -tokens)
  add('K|tok', -tokens)
  if free == '1' then add('K|ftok', -tokens) end
end

local function sweep()
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', leases, '-inf', now)) do drop(id) end
end
"""

#: Marks left by waiting requests, and the wake-up that answers them (see the docstring).
_WAITERS: Final = """
local function wanted(model, name)
  local scope = parts(name)
  redis.call('HSET', state, scope == 'model' and ('M|' .. model .. '|wait') or 'K|wait', 1)
end

local function wake(model)
  local mark = 'M|' .. model .. '|wait'
  local marks = redis.call('HMGET', state, mark, 'K|wait')
  if not marks[1] and not marks[2] then return end
  redis.call('HDEL', state, mark, 'K|wait')
  local wide = marks[2] and '1' or '0'
  redis.call('PUBLISH', '%(channel)s', string.match(state, '{(.*)}') .. ' ' .. model .. ' ' .. wide)
end
""".replace("%(channel)s", WAKE_CHANNEL)

ADMIT: Final = (
    _COMMON
    + _WAITERS
    + """
-- ARGV: now, model, free, tokens, lease id, lease expiry, force (1; 0 not forced; q not
-- forced, and the request waits when refused; the gate's form may end in q too), then per
-- local window (a seed, taken where the shared state lacks the window or its reset has
-- passed):
-- name, limit, remaining, reset, period, source
local model, free, tokens = ARGV[2], ARGV[3], tonumber(ARGV[4])
local id, expiry, force = ARGV[5], tonumber(ARGV[6]), ARGV[7] == '1'
local queued = string.sub(ARGV[7], -1) == 'q'
sweep()
for i = 8, #ARGV, 6 do
  local name = ARGV[i]
  local scope = parts(name)
  local p = owner(scope, model) .. 'w|' .. name .. '|'
  local reset = num(p .. 'rst', nil)
  local known = redis.call('HEXISTS', state, p .. 'src') == 1
  if not known or (reset and now >= reset and opt(ARGV[i + 3]) and opt(ARGV[i + 3]) > now) then
    redis.call('HDEL', state, p .. 'lim', p .. 'rem', p .. 'rst')
    for j, field in ipairs({'lim', 'rem', 'rst'}) do
      if ARGV[i + j] ~= '' then redis.call('HSET', state, p .. field, ARGV[i + j]) end
    end
    redis.call('HSET', state, p .. 'per', ARGV[i + 4], p .. 'src', ARGV[i + 5], p .. 'asm', 0)
    remember(scope == 'model' and ('M|' .. model .. '|wins') or 'K|wins', name)
  end
end

local function in_flight(scope, kind)
  local suffix = kind == 'requests' and 'req' or 'tok'
  if scope == 'model' then return num('M|' .. model .. '|' .. suffix, 0) end
  if scope == 'account' then return num('K|' .. suffix, 0) end
  return num('K|f' .. suffix, 0)
end

local function refuses(name)
  local scope, kind = parts(name)
  if scope == 'free-models' and free ~= '1' then return nil end
  local p = owner(scope, model) .. 'w|' .. name .. '|'
  refresh(p)
  local remaining = num(p .. 'rem', nil)
  if not remaining then return nil end
  local headroom = remaining - in_flight(scope, kind)
  local reset = tostring(num(p .. 'rst', now + 60))
  if kind == 'requests' then
    if headroom <= 0 then return {'requests_exhausted', reset, name} end
  elseif headroom <= 0 or tokens > headroom then
    return {'tokens_exhausted', reset, name}
  end
  return nil
end

if not force then
  local cool = math.max(num('K|cool', 0), free == '1' and num('K|fcool', 0) or 0)
  if cool > now then
    return {'cooling_down', tostring(cool), redis.call('HGET', state, 'K|reason') or ''}
  end
  local m = 'M|' .. model .. '|'
  cool = num(m .. 'cool', 0)
  if cool > now then
    local why = redis.call('HGET', state, m .. 'pen') == '1' and 'failing' or 'cooling_down'
    return {why, tostring(cool), redis.call('HGET', state, m .. 'reason') or ''}
  end
  for _, list in ipairs({m .. 'wins', 'K|wins'}) do
    for name in string.gmatch(redis.call('HGET', state, list) or '', '%S+') do
      local refused = refuses(name)
      if refused then
        if queued then wanted(model, name) end
        return refused
      end
    end
  end
end

add('M|' .. model .. '|req', 1)
add('M|' .. model .. '|tok', tokens)
add('K|req', 1)
add('K|tok', tokens)
if free == '1' then
  add('K|freq', 1)
  add('K|ftok', tokens)
end
redis.call('ZADD', leases, expiry, id)
redis.call('HSET', held, id, model .. ' ' .. tokens .. ' ' .. free .. ' 0')
for _, key in ipairs(KEYS) do redis.call('EXPIRE', key, %(ttl)d) end
return {'admitted'}
"""
).replace("%(ttl)d", str(STATE_TTL_S))

OBSERVE: Final = (
    _COMMON
    + _WAITERS
    + """
-- ARGV: now, model, lease id, then per metric reported: name, limit, remaining, reset,
-- period, source (a window's reset within 2 s of the one held is the same window)
local model, id = ARGV[2], ARGV[3]
local requests, raised = false, false
for i = 4, #ARGV, 6 do
  local name = ARGV[i]
  local scope, kind = parts(name)
  if kind == 'requests' then requests = true end
  local p = owner(scope, model) .. 'w|' .. name .. '|'
  remember(scope == 'model' and ('M|' .. model .. '|wins') or 'K|wins', name)
  refresh(p)
  local limit, remaining, reset = opt(ARGV[i + 1]), opt(ARGV[i + 2]), opt(ARGV[i + 3])
  local held_reset = num(p .. 'rst', nil)
  local new = num(p .. 'asm', 0) == 1 or not held_reset or not reset
    or reset > held_reset + 2 or redis.call('HGET', state, p .. 'src') ~= 'header'
  if limit then redis.call('HSET', state, p .. 'lim', limit) end
  if remaining then
    local current = num(p .. 'rem', nil)
    if new or not current then
      raised = raised or not current or remaining > current
      redis.call('HSET', state, p .. 'rem', remaining)
    elseif remaining < current then
      redis.call('HSET', state, p .. 'rem', remaining)
    end
    redis.call('HSET', state, p .. 'asm', 0)
  end
  if not reset then
    local left = num(p .. 'rem', nil)
    if left and left <= 0 then reset = now + 60 end
  end
  if reset then redis.call('HSET', state, p .. 'rst', reset) end
  redis.call('HSET', state, p .. 'src', ARGV[i + 5], p .. 'per', ARGV[i + 4])
end
if requests then
  local record = redis.call('HGET', held, id)
  if record then
    local lease_model, tokens, free, settled = string.match(record, '^(%S+) (%d+) (%d) (%d)$')
    if settled == '0' then
      settle(lease_model, free)
      redis.call('HSET', held, id, lease_model .. ' ' .. tokens .. ' ' .. free .. ' 1')
    end
  end
end
if raised then wake(model) end
return 1
"""
)

RELEASE: Final = (
    _COMMON
    + _WAITERS
    + """
-- ARGV: now, model, lease id, then per window the lease held that no answer reported:
-- name, what to spend of it
local model, id = ARGV[2], ARGV[3]
for i = 4, #ARGV, 2 do
  local name = ARGV[i]
  local scope = parts(name)
  local p = owner(scope, model) .. 'w|' .. name .. '|'
  local remaining = num(p .. 'rem', nil)
  if remaining then
    redis.call('HSET', state, p .. 'rem', math.max(0, remaining - tonumber(ARGV[i + 1])))
  end
end
drop(id)
wake(model)
return 1
"""
)

COOL: Final = (
    _COMMON
    + """
-- ARGV: now, model, what cools down (model, account or free-models), until, reason,
-- penalised (1: a failure penalty rather than a rate limit)
local model, target, cool_until = ARGV[2], ARGV[3], tonumber(ARGV[4])
local reason, penalised = ARGV[5], ARGV[6]
if target == 'model' then
  local m = 'M|' .. model .. '|'
  if cool_until > num(m .. 'cool', 0) then
    redis.call('HSET', state, m .. 'cool', cool_until, m .. 'pen', penalised, m .. 'reason', reason)
  elseif redis.call('HGET', state, m .. 'pen') == penalised then
    redis.call('HSET', state, m .. 'reason', reason)
  end
else
  local field = target == 'account' and 'K|cool' or 'K|fcool'
  if cool_until > num(field, 0) then redis.call('HSET', state, field, cool_until) end
  redis.call('HSET', state, 'K|reason', reason)
end
redis.call('EXPIRE', state, %(ttl)d)
return 1
"""
).replace("%(ttl)d", str(STATE_TTL_S))

RENEW: Final = """
-- ARGV: new expiry, then the lease ids to keep (those already swept stay gone)
for i = 2, #ARGV do redis.call('ZADD', KEYS[2], 'XX', ARGV[1], ARGV[i]) end
return 1
"""

# Probing across replicas (issue 13's probes and learned limits, for the whole fleet). Per model,
# the state hash also keeps `ans` (the entry's last answer as probing sees it: served, refused
# or failed; none while absent) and `run` (answers served in a row, fleet-wide), which the gate
# reads with the model's requests in flight (`req`) to admit no more probes from the whole
# fleet than one process would admit alone (see `limits.probe`). Answers and learned limits
# are told on `names.PROBE_CHANNEL` as `<state key> <model> <answer> <run> <known 0|1>`, so waiting
# requests on every replica wake at once.


_FLEET: Final = """
local function known(model, free)
  if string.find(redis.call('HGET', state, 'M|' .. model .. '|wins') or '', '%S') then
    return true
  end
  for name in string.gmatch(redis.call('HGET', state, 'K|wins') or '', '%S+') do
    local scope = parts(name)
    if scope == 'account' or (scope == 'free-models' and free == '1') then return true end
  end
  return false
end

local function tell(model, free, channel)
  local m = 'M|' .. model .. '|'
  local answer = redis.call('HGET', state, m .. 'ans') or 'none'
  local told = state .. ' ' .. model .. ' ' .. answer .. ' ' .. num(m .. 'run', 0)
  redis.call('PUBLISH', channel, told .. ' ' .. (known(model, free) and '1' or '0'))
end
"""

_GATE: Final = """
-- The fleet's probe gate, before the admission proper (ADMIT, unchanged, follows). ARGV[7],
-- ADMIT's force flag (anything but '1' is not forced), carries it: 'g<probes>/<waited 0|1>',
-- followed by 'q' when the request waits in a queue when refused (see ADMIT).
-- A cooldown running is left to ADMIT to refuse; a gate that holds answers 'probing' with
-- why: unknown (no answer yet), slow (served, limits unknown: slow start) or failed.
do
  local model, free = ARGV[2], ARGV[3]
  local probes, waited = string.match(ARGV[7], '^g(%d+)/(%d)q?$')
  probes = tonumber(probes)
  local m = 'M|' .. model .. '|'
  local cool = math.max(num('K|cool', 0), num(m .. 'cool', 0))
  if free == '1' then cool = math.max(cool, num('K|fcool', 0)) end
  if cool <= now then
    sweep()
    local answer = redis.call('HGET', state, m .. 'ans') or 'none'
    local flying = num(m .. 'req', 0)
    local why = nil
    if answer == 'failed' then
      if flying >= probes then why = 'failed' end
    elseif not known(model, free) then
      if answer ~= 'served' then
        if flying >= probes then why = 'unknown' end
      elseif waited ~= '1' and flying >= math.max(probes, %(slow)d * num(m .. 'run', 0)) then
        why = 'slow'
      end
    end
    if why then return {'probing', tostring(now), why} end
  end
end
"""


def _without_common(script: str) -> str:
    """`script`'s own part, after the `_COMMON` it starts with (checked: a script built another
    way would be cut in the wrong place)."""
    if not script.startswith(_COMMON):
        raise AssertionError("the script does not start with _COMMON")
    return script[len(_COMMON) :]


GATED_ADMIT: Final = (
    _COMMON + _FLEET + _GATE.replace("%(slow)d", str(SLOW_START)) + _without_common(ADMIT)
)
"""ADMIT behind the fleet's probe gate: for a request at an entry whose limits the replica does
not know, or whose last answer was a failure."""

ANSWER: Final = (
    _COMMON
    + _FLEET
    + """
-- ARGV: now, model, free, the answer ('' keeps it), the run ('+' one more served, '0' none),
-- channel
local model, free, answer, run = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local m = 'M|' .. model .. '|'
if answer ~= '' then redis.call('HSET', state, m .. 'ans', answer) end
if run == '+' then
  redis.call('HINCRBY', state, m .. 'run', 1)
elseif run == '0' then
  redis.call('HSET', state, m .. 'run', 0)
end
redis.call('EXPIRE', state, %(ttl)d)
tell(model, free, ARGV[6])
return 1
"""
).replace("%(ttl)d", str(STATE_TTL_S))

LEARN: Final = (
    _COMMON
    + _FLEET
    + """
-- ARGV: now, model, free, window name, limit ('' forgets the window), remaining ('': moved by
-- as much as the limit moved), reset ('' keeps it), period, channel. Remaining, as for every
-- window here, leaves out what is in flight (ADMIT takes that off).
local model, free, name = ARGV[2], ARGV[3], ARGV[4]
local p = 'M|' .. model .. '|w|' .. name .. '|'
local list = 'M|' .. model .. '|wins'
if ARGV[5] == '' then
  redis.call('HDEL', state, p .. 'lim', p .. 'rem', p .. 'rst', p .. 'per', p .. 'src', p .. 'asm')
  local kept = {}
  for other in string.gmatch(redis.call('HGET', state, list) or '', '%S+') do
    if other ~= name then table.insert(kept, other) end
  end
  redis.call('HSET', state, list, table.concat(kept, ' '))
else
  local limit = tonumber(ARGV[5])
  local remaining = opt(ARGV[6])
  if not remaining then remaining = num(p .. 'rem', limit) + limit - num(p .. 'lim', limit) end
  redis.call('HSET', state, p .. 'lim', limit, p .. 'rem', math.max(0, remaining),
    p .. 'per', ARGV[8], p .. 'src', 'learned', p .. 'asm', 0)
  if ARGV[7] ~= '' then redis.call('HSET', state, p .. 'rst', ARGV[7]) end
  remember(list, name)
end
redis.call('EXPIRE', state, %(ttl)d)
tell(model, free, ARGV[9])
return 1
"""
).replace("%(ttl)d", str(STATE_TTL_S))

#: The places a provider's concurrency limits grant, across all its keys (keys of
#: `names.concurrency_keys`): KEYS[1] per model how many are out, KEYS[2] lease id -> expiry,
#: KEYS[3] lease id -> model. A lease is taken with the admission's and ends with it. A request
#: refused that may wait (queue mode) leaves a mark in KEYS[1], `|wait` (the provider's limit)
#: or `<model>|wait` (the entry's; no model has a `|`, see `names`), and the release of a place
#: there clears it and publishes `<hash tag> <model> <provider-wide 0|1>` on `WAKE_CHANNEL`.
_PLACES: Final = """
local counts, leases, held = KEYS[1], KEYS[2], KEYS[3]
local now = tonumber(ARGV[1])

local function drop(id)
  redis.call('ZREM', leases, id)
  local model = redis.call('HGET', held, id)
  if not model then return nil end
  redis.call('HDEL', held, id)
  if redis.call('HINCRBY', counts, model, -1) <= 0 then redis.call('HDEL', counts, model) end
  return model
end

for _, id in ipairs(redis.call('ZRANGEBYSCORE', leases, '-inf', now)) do drop(id) end
"""

TAKE_PLACE: Final = (
    _PLACES
    + """
-- ARGV: now, model, lease id, lease expiry, the provider's limit, the entry's limit ('' for
-- none), force (1: taken whatever the limits say; 0 not forced; q not forced, and the
-- request waits when refused)
local model, id, expiry = ARGV[2], ARGV[3], tonumber(ARGV[4])
local provider_limit, entry_limit = tonumber(ARGV[5]), tonumber(ARGV[6])
local queued = ARGV[7] == 'q'
if ARGV[7] ~= '1' then
  if provider_limit and redis.call('ZCARD', leases) >= provider_limit then
    if queued then redis.call('HSET', counts, '|wait', 1) end
    return {'provider'}
  end
  if entry_limit and tonumber(redis.call('HGET', counts, model) or '0') >= entry_limit then
    if queued then redis.call('HSET', counts, model .. '|wait', 1) end
    return {'entry'}
  end
end
redis.call('ZADD', leases, expiry, id)
redis.call('HSET', held, id, model)
redis.call('HINCRBY', counts, model, 1)
for _, key in ipairs(KEYS) do redis.call('EXPIRE', key, %(ttl)d) end
return {'taken'}
"""
).replace("%(ttl)d", str(STATE_TTL_S))

FREE_PLACE: Final = (
    _PLACES
    + """
-- ARGV: now, lease id
local model = drop(ARGV[2])
if not model then return 1 end
local marks = redis.call('HMGET', counts, '|wait', model .. '|wait')
if marks[1] or marks[2] then
  redis.call('HDEL', counts, '|wait', model .. '|wait')
  local wide = marks[1] and '1' or '0'
  local tag = string.match(counts, '{(.*)}')
  redis.call('PUBLISH', '%(channel)s', tag .. ' ' .. model .. ' ' .. wide)
end
return 1
"""
).replace("%(channel)s", WAKE_CHANNEL)
