"""The incremental SSE parser: every framing, and any split of the bytes into reads."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chain429.errors import UpstreamProtocolError
from chain429.router.sse import DONE, SSEParser, events_in


def parse(*pieces: bytes) -> list[bytes]:
    parser = SSEParser()
    events: list[bytes] = []
    for piece in pieces:
        events += parser.feed(piece)
    return events + parser.close()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"data: a\n\ndata: b\n\n", [b"a", b"b"]),
        (b"data: a\r\n\r\ndata: b\r\n\r\n", [b"a", b"b"]),
        (b"data: a\r\rdata: b\r\r", [b"a", b"b"]),
        (b"data:a\n\ndata:b\n\n", [b"a", b"b"]),
        (b"data:  two spaces\n\n", [b" two spaces"]),
        (b": keep-alive\n\ndata: a\n: ping\n\n", [b"a"]),
        (b":\n\n", []),
        (b"data: line1\ndata: line2\n\n", [b"line1\nline2"]),
        (b"data: a\n\ndata: [DONE]", [b"a", DONE]),
        (b"data: a\n\ndata: b\n", [b"a", b"b"]),
        (b"data: a\n\ndata: b\r", [b"a", b"b"]),
        (b"event: message\nid: 3\nretry: 100\ndata: a\n\n", [b"a"]),
        (b"data\n\n", [b""]),
        (b"data:\n\n", [b""]),
        (b"\n\n\n", []),
        (b"", []),
        (b"datum: x\n\n", []),
        (b'data: {"a":\n data: 1}\n\n', [b'{"a":']),
        (b'data: {"k": "v: w"}\n\n', [b'{"k": "v: w"}']),
    ],
)
def test_framings(raw, expected):
    assert parse(raw) == expected


def test_events_are_returned_as_soon_as_they_are_complete():
    parser = SSEParser()
    assert parser.feed(b"data: first\n") == []
    assert parser.feed(b"\ndata: sec") == [b"first"]
    assert parser.feed(b"ond\n\n") == [b"second"]
    assert parser.close() == []


def test_a_crlf_split_between_cr_and_lf_is_one_line_ending():
    parser = SSEParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\n\r") == []
    assert parser.feed(b"\ndata: b\r\n\r\n") == [b"a", b"b"]


LINE = st.text(
    alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=12
)
PAYLOAD = st.lists(LINE, min_size=1, max_size=3)


@st.composite
def streams(draw):
    newline = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    space = draw(st.booleans())
    payloads = draw(st.lists(PAYLOAD, max_size=6))
    if not space:
        payloads = [[line.lstrip(" ") for line in payload] for payload in payloads]
    raw = b""
    for payload in payloads:
        if draw(st.booleans()):
            raw += b": comment" + newline
        for line in payload:
            raw += (b"data: " if space else b"data:") + line.encode() + newline
        raw += newline
    if payloads and draw(st.booleans()):
        raw = raw[: -len(newline)]  # the last event has no blank line after it
    expected = [b"\n".join(line.encode() for line in payload) for payload in payloads]
    return raw, expected


@given(streams(), st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
def test_any_split_of_the_bytes_gives_the_same_events(stream, cuts):
    raw, expected = stream
    points = sorted({c % (len(raw) + 1) for c in cuts})
    pieces = [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]
    assert parse(*pieces) == expected
    assert parse(raw) == expected


@given(streams(), st.integers(min_value=1, max_value=7))
def test_fixed_size_reads_give_the_same_events(stream, size):
    raw, expected = stream
    assert parse(*(raw[i : i + size] for i in range(0, len(raw), size))) == expected


def test_whole_gives_completed_events_as_they_came_and_keeps_the_rest():
    parser = SSEParser()
    assert parser.whole(b"data: a\n\nevent: x\ndata: b\n\ndata: c") == (
        b"data: a\n\nevent: x\ndata: b\n\n"
    )
    assert parser.whole(b"\r\n\r") == b""  # a CR may be the start of a CRLF
    assert parser.whole(b"\n: ping") == b"data: c\n\n"
    assert parser.rest() == b": ping\n\n"
    assert parser.rest() == b""


@given(streams(), st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
def test_whole_events_of_any_split_parse_to_the_same_events(stream, cuts):
    raw, expected = stream
    points = sorted({c % (len(raw) + 1) for c in cuts})
    parser = SSEParser()
    pieces = [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]
    blocks = [parser.whole(piece) for piece in pieces]
    blocks.append(parser.rest())
    assert all(b"\r" not in block and block[-2:] in (b"", b"\n\n") for block in blocks)
    assert [data for block in blocks for data, _ in events_in(block)] == expected


def test_an_event_longer_than_the_limit_is_a_broken_stream_not_a_growing_buffer():
    parser = SSEParser(limit=1000)
    assert parser.whole(b"data: " + b"x" * 600) == b""
    with pytest.raises(UpstreamProtocolError, match="longer than 1000 bytes"):
        parser.whole(b"x" * 600)


def test_a_line_that_never_ends_in_one_read_is_refused_at_once():
    with pytest.raises(UpstreamProtocolError):
        SSEParser(limit=1000).whole(b"data: " + b"x" * 2000)


def test_an_event_of_many_reads_up_to_the_limit_comes_whole():
    parser = SSEParser(limit=10_000)
    pieces = [b"data: "] + [b"x" * 99 + b"\r" for _ in range(90)] + [b"\n\r\n"]
    blocks = [parser.whole(piece) for piece in pieces]
    assert blocks[:-1] == [b""] * 91
    assert blocks[-1] == b"data: " + (b"x" * 99 + b"\n") * 89 + b"x" * 99 + b"\n\n"
