"""One checked request before the load: the answer must arrive whole, directly and via the proxy.

wrk only counts statuses, so a proxy that answered 200 with the wrong body would go unnoticed;
this request reads the body and compares the assistant text with the one nginx serves.
"""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

from payloads import CLIENT_KEY, answer_text, client_request
from spawn import BenchError


def _post(url: str, body: str) -> tuple[int, dict[str, str], str]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {CLIENT_KEY}"}
        connection.request("POST", parts.path, body=body.encode(), headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", errors="replace")
        return response.status, {k.lower(): v for k, v in response.getheaders()}, text
    finally:
        connection.close()


def _streamed_text(body: str) -> str:
    data = [line[5:].strip() for line in body.splitlines() if line.startswith("data:")]
    if not data or data[-1] != "[DONE]":
        raise ValueError("the stream does not end with data: [DONE]")
    chunks = [json.loads(d) for d in data[:-1]]
    return "".join(
        choice["delta"].get("content") or "" for chunk in chunks for choice in chunk["choices"]
    )


def _answer(kind: str, body: str) -> str:
    if kind == "sse":
        return _streamed_text(body)
    return str(json.loads(body)["choices"][0]["message"]["content"])


def check_answer(url: str, kind: str) -> dict[str, str]:
    """POST the benchmark request for `kind` to `url`; return the response headers if correct."""
    status, headers, body = _post(url, client_request(kind, stream=kind == "sse"))
    try:
        if status != 200:
            raise ValueError(f"status {status}")
        if (text := _answer(kind, body)) != answer_text():
            raise ValueError(f"assistant text {text!r}, expected {answer_text()!r}")
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise BenchError(f"{kind} answer from {url} is wrong ({exc}):\n{body[:2000]}") from exc
    return headers
