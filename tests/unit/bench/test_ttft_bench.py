"""The time-to-first-token benchmark's pure parts: the answer parser, the pacing, the table."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

BENCH_DIR = Path(__file__).resolve().parents[3] / "bench"


def bench_module(monkeypatch: pytest.MonkeyPatch, name: str) -> ModuleType:
    """A bench/ module, imported the way the scripts import it (flat, from bench/)."""
    monkeypatch.syspath_prepend(str(BENCH_DIR))
    return importlib.import_module(name)


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return bench_module(monkeypatch, "ttft_client")


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return bench_module(monkeypatch, "ttft_table")


HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
ROLE = b'data: {"choices":[{"delta":{"role":"assistant","content":""}}]}\n\n'
WORD = b'data: {"choices":[{"delta":{"content":"Foxes "}}]}\n\n'
DONE = b"data: [DONE]\n\n"


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def test_the_watch_notes_headers_first_token_and_end_when_each_arrives(client: ModuleType) -> None:
    watch = client.StreamWatch()
    watch.feed(HEAD, 0.001)
    watch.feed(chunk(ROLE), 0.050)  # the role chunk's empty content is not a token
    assert (watch.headers_s, watch.token_s, watch.complete) == (0.001, None, False)
    watch.feed(chunk(WORD), 0.051)
    watch.feed(chunk(DONE) + b"0\r\n\r\n", 0.070)
    assert watch.timing() == client.Timing(0.001, 0.051, 0.070)
    assert watch.body == ROLE + WORD + DONE


def test_the_watch_reads_an_answer_split_anywhere(client: ModuleType) -> None:
    raw = HEAD + chunk(ROLE) + chunk(WORD) + chunk(DONE) + b"0\r\n\r\n"
    watch = client.StreamWatch()
    for index, byte in enumerate(raw):
        watch.feed(bytes([byte]), index)
    assert watch.body == ROLE + WORD + DONE
    assert watch.token_s == raw.index(b"Foxes")  # the first byte of the first word
    assert watch.total_s == len(raw) - 1


def test_the_watch_waits_for_the_last_crlf_before_the_answer_is_complete(
    client: ModuleType,
) -> None:
    watch = client.StreamWatch()
    watch.feed(HEAD + chunk(WORD) + b"0\r\n", 0.1)
    assert not watch.complete
    watch.feed(b"\r\n", 0.2)
    assert watch.total_s == 0.2


def test_the_watch_reads_an_answer_with_a_content_length(client: ModuleType) -> None:
    body = ROLE + WORD + DONE
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
    watch = client.StreamWatch()
    watch.feed(head + body[:10], 0.1)
    watch.feed(body[10:], 0.2)
    assert watch.timing() == client.Timing(0.1, 0.2, 0.2)


def test_the_watch_refuses_an_error_answer(client: ModuleType) -> None:
    with pytest.raises(client.StreamError, match="429"):
        client.StreamWatch().feed(b"HTTP/1.1 429 Too Many\r\nContent-Length: 2\r\n\r\n{}", 0.1)


def test_an_answer_without_a_token_has_no_timing(client: ModuleType) -> None:
    watch = client.StreamWatch()
    watch.feed(HEAD + chunk(ROLE) + chunk(DONE) + b"0\r\n\r\n", 0.1)
    with pytest.raises(client.StreamError, match="without a content token"):
        watch.timing()


def test_the_request_is_a_keep_alive_post_with_the_client_key(client: ModuleType) -> None:
    raw = client.request_bytes("http://127.0.0.1:8080/v1/chat/completions", '{"a":1}')
    assert raw.startswith(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n")
    assert b"Authorization: Bearer bench-client-key-0001\r\n" in raw
    assert raw.endswith(b'Content-Length: 7\r\n\r\n{"a":1}')


def test_the_slow_upstream_paces_the_first_token_then_every_word(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upstream = bench_module(monkeypatch, "slow_upstream")
    payloads = bench_module(monkeypatch, "payloads")
    writes = upstream.paced_writes(upstream.Pace(first_s=0.05, interval_s=0.02))
    waits = [wait for wait, _ in writes]
    assert waits == [0.05, 0.0] + [0.02] * 10  # role, first word, 9 words, the tail
    assert b"".join(data for _, data in writes).decode() == payloads.completion_sse()
    assert b'"role"' in writes[0][1] and b"Foxes" in writes[1][1]
    assert writes[-1][1].endswith(b"data: [DONE]\n\n")


def timing(client: ModuleType, first_token_ms: float) -> object:
    return client.Timing(0.001, first_token_ms / 1000, 0.25)


def test_percentiles_are_nearest_rank(table: ModuleType) -> None:
    values = list(range(1, 101))
    assert table.percentile(values, 50) == 50
    assert table.percentile(values, 99) == 99
    assert table.percentile([3.0], 99) == 3.0
    with pytest.raises(ValueError):
        table.percentile([], 50)


def test_the_table_gives_each_target_against_direct_in_the_same_round(
    table: ModuleType, client: ModuleType
) -> None:
    def round_of(direct: float, relay: float, proxy: float) -> object:
        return table.TtftRound(
            {
                "direct": [timing(client, direct)] * 3,
                "relay": [timing(client, relay)] * 3,
                "429chain": [timing(client, proxy)] * 3,
            }
        )

    rounds = [round_of(50.0, 50.3, 50.5), round_of(52.0, 52.1, 52.9), round_of(51.0, 51.2, 51.4)]
    assert rounds[1].added_ms("429chain") == pytest.approx(0.9)
    assert rounds[1].added_ms("429chain", "relay") == pytest.approx(0.8)
    lines = table.ttft_table(rounds).splitlines()
    assert lines[0].startswith("| target | requests | TTFT p50 min / med / max |")
    direct, relay, proxy = lines[2:]
    assert direct.startswith("| direct | 9 | 50.00 / 51.00 / 52.00 | 51.00 | 52.00 |")
    assert direct.endswith("|  |  |  |")
    assert "| 0.10 / 0.20 / 0.30 |" in relay and relay.endswith("|  |")
    assert "| 0.40 / 0.50 / 0.90 |" in proxy
    assert proxy.endswith("| 0.90 | 0.20 |")  # p99 pooled vs direct; median vs the relay
