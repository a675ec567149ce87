"""Redis's wire protocol as the state store speaks it: what a URL names, commands in bytes,
and replies read back whole however the bytes arrive."""

from __future__ import annotations

import pytest

from chain429.state_store.resp import (
    RedisAddress,
    ReplyError,
    ReplyParser,
    ScriptCall,
    command,
)


def test_a_plain_url_names_host_port_and_database() -> None:
    assert RedisAddress.parse("redis://redis.internal:6380/2") == RedisAddress(
        "redis.internal", 6380, db=2
    )
    assert RedisAddress.parse("redis://127.0.0.1") == RedisAddress("127.0.0.1", 6379, db=0)


def test_a_url_with_credentials_and_tls() -> None:
    address = RedisAddress.parse("rediss://app:p%40ss%2Fword@cache:6379/0")
    assert address == RedisAddress("cache", 6379, True, "app", "p@ss/word", 0)
    assert RedisAddress.parse("redis://:secret@cache").password == "secret"
    assert RedisAddress.parse("redis://:secret@cache").username is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://cache:6379", "not a Redis URL"),
        ("redis://cache:6379/0?ssl_cert_reqs=none", "takes no options"),
        ("redis://cache:6379/zero", "is a number"),
    ],
)
def test_what_a_url_cannot_say_is_refused_with_a_reason(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RedisAddress.parse(url)


def test_a_connection_greets_with_auth_and_select_only_when_the_url_asks() -> None:
    assert RedisAddress.parse("redis://cache").greeting() == []
    assert RedisAddress.parse("redis://:pw@cache/3").greeting() == [
        command("AUTH", "pw"),
        command("SELECT", 3),
    ]
    assert RedisAddress.parse("redis://app:pw@cache").greeting() == [command("AUTH", "app", "pw")]


def test_a_command_is_an_array_of_bulk_strings_counted_in_bytes() -> None:
    assert command("SET", "k", 1.5, b"\x00", "é") == (
        b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n1.5\r\n$1\r\n\x00\r\n$2\r\n\xc3\xa9\r\n"
    )


@pytest.mark.parametrize(
    "args",
    [
        (1733400000.123456, "m", "0", 0, "a1b2-7", 1733400060.5, "0"),
        (),
        (17.25, "llama%2F3", "cooling down: “quota” exhausted", 3),
    ],
)
def test_a_script_call_encodes_as_the_plain_evalsha_would(args: tuple[str | float, ...]) -> None:
    keys = ("c429:{p:ab}:state", "c429:{p:ab}:leases", "c429:{p:ab}:held")
    call = ScriptCall("f" * 40, keys)
    assert call.encode(args) == command("EVALSHA", "f" * 40, 3, *keys, *args)


def test_every_kind_of_reply_is_read() -> None:
    data = (
        b"+PONG\r\n:42\r\n:-1\r\n$5\r\nhello\r\n$-1\r\n$0\r\n\r\n*-1\r\n"
        b"*3\r\n$8\r\nadmitted\r\n*2\r\n:1\r\n$1\r\nx\r\n*0\r\n"
        b"-NOSCRIPT No matching script. Please use EVAL.\r\n"
    )
    assert ReplyParser().feed(data) == [
        b"PONG",
        42,
        -1,
        b"hello",
        None,
        b"",
        None,
        [b"admitted", [1, b"x"], []],
        ReplyError("NOSCRIPT No matching script. Please use EVAL."),
    ]
    assert ReplyError("WRONGPASS invalid username-password pair").code == "WRONGPASS"


def test_replies_split_anywhere_come_out_whole_and_in_order() -> None:
    data = b"*2\r\n$18\r\ntokens_exhausted\r\n\r\n:7\r\n$4\r\nab\r\n\r\n+OK\r\n"
    expected = [[b"tokens_exhausted\r\n", 7], b"ab\r\n", b"OK"]
    for cut in range(1, len(data)):
        parser = ReplyParser()
        assert parser.feed(data[:cut]) + parser.feed(data[cut:]) == expected, cut
    parser = ReplyParser()
    assert [r for byte in data for r in parser.feed(bytes([byte]))] == expected


def test_bytes_that_are_not_resp_are_refused() -> None:
    with pytest.raises(ValueError, match="not a RESP2 reply"):
        ReplyParser().feed(b"HTTP/1.1 400 Bad Request\r\n")
