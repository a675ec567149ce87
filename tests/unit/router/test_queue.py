"""Queue mode's lines on the fake clock: which queues a release wakes, turns in order, the
front for a request whose turn came from the line, deadlines, and a full queue."""

from __future__ import annotations

import asyncio

from chain429.config.schema import Chain, ChainEntry
from chain429.router.queue import Line, Queues, Turn, Waiter, WaitQueue
from tests.support.clock import FakeClock
from tests.support.polling import eventually


def chain(name: str, *entries: tuple[str, str]) -> Chain:
    return Chain(name=name, entries=tuple(ChainEntry(provider=p, model=m) for p, m in entries))


A = chain("a", ("groq", "llama"), ("mistral", "small"))
B = chain("b", ("cerebras", "qwen"), ("groq", "gemma"))


def queued_head(queue: WaitQueue) -> Waiter:
    waiter = Waiter()
    queue.join(waiter)
    return waiter


def test_a_release_wakes_only_the_chains_that_list_the_released_entry() -> None:
    queues = Queues(10, [A, B])
    in_a, in_b = queued_head(queues.open(A)), queued_head(queues.open(B))

    queues.wake("cerebras", "qwen")
    assert (in_a.woken.is_set(), in_b.woken.is_set()) == (False, True)
    in_b.woken.clear()

    queues.wake("groq", "gemma")  # same provider as an entry of `a`, another model
    assert (in_a.woken.is_set(), in_b.woken.is_set()) == (False, True)
    in_b.woken.clear()

    queues.wake("mistral", "small")
    assert (in_a.woken.is_set(), in_b.woken.is_set()) == (True, False)


def test_capacity_shared_by_a_provider_wakes_every_chain_of_that_provider() -> None:
    queues = Queues(10, [A, B], provider_wide=["groq"])
    in_a, in_b = queued_head(queues.open(A)), queued_head(queues.open(B))
    queues.wake("groq", "gemma")
    assert (in_a.woken.is_set(), in_b.woken.is_set()) == (True, True)

    other = Queues(10, [A, B])
    in_a, in_b = queued_head(other.open(A)), queued_head(other.open(B))
    other.wake("cerebras", "qwen", provider_wide=True)  # key-wide windows were held
    assert (in_a.woken.is_set(), in_b.woken.is_set()) == (False, True)
    other.wake("groq", "gemma", provider_wide=True)
    assert in_a.woken.is_set()


def test_a_chain_outside_the_config_has_a_queue_only_while_it_is_used() -> None:
    queues = Queues(10, [A])
    direct = chain("groq/anything", ("groq", "anything"))
    first, second = queues.open(direct), queues.open(direct)
    assert first is second and set(queues.depths()) == {"a", "groq/anything"}
    waiter = queued_head(first)
    queues.wake("groq", "anything")
    assert waiter.woken.is_set()

    queues.close(first)
    assert "groq/anything" in queues.depths()
    queues.close(second)
    assert set(queues.depths()) == {"a"}
    queues.wake("groq", "anything")  # nothing left to wake, nothing fails

    configured = queues.open(A)
    queues.close(configured)
    assert set(queues.depths()) == {"a"}


def test_the_head_leaving_wakes_the_next_in_line() -> None:
    queue = Queues(10, [A]).open(A)
    head, following = queued_head(queue), queued_head(queue)
    queue.leave(following)  # not the head: nobody is woken
    assert not head.woken.is_set()
    queue.join(following)
    queue.leave(head)
    assert following.woken.is_set() and queue.is_head(following)


class Waits:
    """Seconds each request was told it spent in line."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


async def test_a_request_that_finds_nobody_waiting_walks_at_once_without_joining() -> None:
    clock, queues, waits = FakeClock(0.0), Queues(10, [A]), Waits()
    with Line(queues, A, clock, deadline=100.0) as line:
        assert await line.take_turn(None, waits) is Turn.GO
        assert queues.depths() == {"a": 0}
    assert waits.seconds == [] and clock.pending == 0


async def wait_in_line(line: Line, wake_at: float | None, turns: list[Line]) -> Turn:
    """`line.take_turn`, noting in `turns` when it got one."""
    turn = await line.take_turn(wake_at, Waits())
    if turn is Turn.GO:
        turns.append(line)
    return turn


def depth(queues: Queues) -> int:
    return sum(queues.depths().values())


async def in_line(queues: Queues, line: Line, wake_at: float | None, turns: list[Line]):
    """Put `line` in line (it waits for its turn) and return its task."""
    before = depth(queues)
    task = asyncio.ensure_future(wait_in_line(line, wake_at, turns))
    await eventually(lambda: depth(queues) == before + 1, what="joined the line")
    return task


async def test_turns_come_in_line_order_and_each_head_stepping_out_lets_the_next_go() -> None:
    clock, queues, turns = FakeClock(0.0), Queues(10, [A]), []
    first, second, third = (Line(queues, A, clock, deadline=100.0) for _ in range(3))
    assert await first.take_turn(None, Waits()) is Turn.GO  # nobody waited: a walk at once

    # first's walk found nothing free until t=30: it waits in line, two more arrive behind it
    waiting = [
        await in_line(queues, first, 30.0, turns),
        await in_line(queues, second, None, turns),
        await in_line(queues, third, None, turns),
    ]
    assert turns == [] and depth(queues) == 3

    clock.advance(30)  # capacity due back for the head; each head leaving wakes the next
    assert await asyncio.wait_for(asyncio.gather(*waiting), 5) == [Turn.GO] * 3
    assert turns == [first, second, third]
    assert depth(queues) == 0 and clock.pending == 0


async def test_a_request_whose_turn_came_from_the_line_goes_back_to_its_front() -> None:
    clock, queues, turns = FakeClock(0.0), Queues(10, [A]), []
    veteran, newcomer = Line(queues, A, clock, 100.0), Line(queues, A, clock, 100.0)
    assert await veteran.take_turn(None, Waits()) is Turn.GO
    waiting = await in_line(queues, veteran, 10.0, turns)
    clock.advance(10)
    assert await asyncio.wait_for(waiting, 5) is Turn.GO  # the veteran's turn, from the line

    assert await newcomer.take_turn(None, Waits()) is Turn.GO  # nobody in line: at once
    newcomer_waits = await in_line(queues, newcomer, 50.0, turns)  # its walk found nothing
    veteran_waits = await in_line(queues, veteran, 50.0, turns)  # neither did the veteran's
    clock.advance(40)
    assert await asyncio.wait_for(asyncio.gather(veteran_waits, newcomer_waits), 5)
    assert turns == [veteran, veteran, newcomer]


async def test_one_behind_the_head_gives_up_at_its_deadline_and_the_head_looks_once_more() -> None:
    clock, queues, turns = FakeClock(0.0), Queues(10, [A]), []
    head, behind = Line(queues, A, clock, 100.0), Line(queues, A, clock, 50.0)
    assert await head.take_turn(None, Waits()) is Turn.GO
    head_waits = await in_line(queues, head, None, turns)
    behind_waits = Waits()
    behind_turn = asyncio.ensure_future(behind.take_turn(None, behind_waits))
    await eventually(lambda: depth(queues) == 2, what="both in line")

    clock.advance(50)
    assert await asyncio.wait_for(behind_turn, 5) is Turn.TIME_UP
    assert behind_waits.seconds == [50.0]
    assert not head_waits.done()
    clock.advance(50)  # the head's own deadline: it still gets one last look
    assert await asyncio.wait_for(head_waits, 5) is Turn.GO
    assert clock.pending == 0


async def test_a_full_queue_refuses_at_once() -> None:
    clock, queues, turns = FakeClock(0.0), Queues(1, [A]), []
    waiting, late = Line(queues, A, clock, 100.0), Line(queues, A, clock, 100.0)
    assert await waiting.take_turn(None, Waits()) is Turn.GO
    await in_line(queues, waiting, None, turns)
    late_waits = Waits()
    assert await late.take_turn(None, late_waits) is Turn.FULL
    assert late_waits.seconds == []

    nobody_waits = Queues(0, [A])  # queueMaxSize 0: a walk on arrival, then no waiting
    only = Line(nobody_waits, A, clock, 100.0)
    assert await only.take_turn(None, Waits()) is Turn.GO
    assert await only.take_turn(None, Waits()) is Turn.FULL


async def test_a_request_that_leaves_the_line_lets_the_next_one_go_and_its_queue_go() -> None:
    clock, turns = FakeClock(0.0), []
    direct = chain("groq/anything", ("groq", "anything"))
    queues = Queues(10, [A])
    with Line(queues, direct, clock, 100.0) as leaving:
        assert await leaving.take_turn(None, Waits()) is Turn.GO
        staying = Line(queues, direct, clock, 100.0)
        leaving_waits = await in_line(queues, leaving, None, turns)
        staying_waits = await in_line(queues, staying, None, turns)
        leaving_waits.cancel()
        await asyncio.gather(leaving_waits, return_exceptions=True)
    assert await asyncio.wait_for(staying_waits, 5) is Turn.GO  # no clock move needed
    assert turns == [staying]
    staying.__exit__(None, None, None)
    assert set(queues.depths()) == {"a"}  # the direct chain's queue went with its last user


def test_a_chain_still_configured_keeps_its_line_and_is_woken_by_its_new_entries() -> None:
    queues = Queues(10, [A, B])
    queue = queues.open(A)
    waiter = queued_head(queue)
    reordered = chain("a", ("cerebras", "qwen"), ("groq", "llama"))

    queues.reconfigure(3, [reordered, B])

    assert queues.open(reordered) is queue and queue.chain is reordered and len(queue) == 1
    assert queue.max_size == 3 and not queue.closed
    queues.wake("mistral", "small")  # no longer an entry of `a`
    assert not waiter.woken.is_set()
    queues.wake("cerebras", "qwen")
    assert waiter.woken.is_set()


async def test_the_waiters_of_a_removed_chain_get_one_last_walk_then_their_verdict() -> None:
    clock, queues, turns = FakeClock(0.0), Queues(10, [A, B]), []
    first, second = Line(queues, B, clock, 100.0), Line(queues, B, clock, 100.0)
    assert await first.take_turn(None, Waits()) is Turn.GO
    waiting = [
        await in_line(queues, first, 50.0, turns),
        await in_line(queues, second, None, turns),
    ]

    queues.reconfigure(10, [A])

    assert await asyncio.wait_for(asyncio.gather(*waiting), 5) == [Turn.GO, Turn.GO]
    assert set(queues.depths()) == {"a"} and clock.pending == 0
    assert await first.take_turn(50.0, Waits()) is Turn.TIME_UP, "no more waiting"
    renewed = chain("b", ("groq", "llama"))
    queues.reconfigure(10, [A, renewed])
    first.__exit__(None, None, None)
    second.__exit__(None, None, None)
    assert queues.depths() == {"a": 0, "b": 0}, "leaving the closed queue spares the new one"
    assert not queues.open(renewed).closed


async def test_turning_queue_mode_off_gives_every_waiter_its_last_walk() -> None:
    clock, queues, turns = FakeClock(0.0), Queues(10, [A, B]), []
    in_a, in_b = Line(queues, A, clock, 100.0), Line(queues, B, clock, 100.0)
    for line in (in_a, in_b):
        assert await line.take_turn(None, Waits()) is Turn.GO
    waiting = [
        await in_line(queues, in_a, None, turns),
        await in_line(queues, in_b, None, turns),
    ]

    queues.close_all()

    assert await asyncio.wait_for(asyncio.gather(*waiting), 5) == [Turn.GO, Turn.GO]
    assert queues.depths() == {}
    queues.wake("groq", "llama")  # nothing left to wake, nothing fails
