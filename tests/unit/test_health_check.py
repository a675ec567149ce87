"""`429chain health`'s check: the loopback URL for an any-address bind, and each answer a
real local server can give (ok, an error status, not a report, nothing listening)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chain429.health_check import check_health, health_url


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:3429/health"),
        ("127.0.0.1", "http://127.0.0.1:3429/health"),
        ("::", "http://[::1]:3429/health"),
        ("10.1.2.3", "http://10.1.2.3:3429/health"),
    ],
)
def test_an_any_address_bind_is_checked_on_the_loopback(host: str, url: str) -> None:
    assert health_url(host, 3429) == url


class _Answers(BaseHTTPRequestHandler):
    replies: dict[int, tuple[int, bytes]] = {}

    def do_GET(self) -> None:
        status, body = self.replies[self.server.server_address[1]]  # type: ignore[index]
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _answering(server: ThreadingHTTPServer, status: int, body: bytes) -> int:
    port = server.server_address[1]
    _Answers.replies[port] = (status, body)
    return port


def test_an_ok_report_is_healthy(server: ThreadingHTTPServer) -> None:
    port = _answering(server, 200, b'{"status": "ok", "version": "0.1.0"}')
    assert check_health("0.0.0.0", port, 3) is None


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (503, b"{}", "answered HTTP 503"),
        (200, b"<html>", "something other than a health report"),
        (200, b'{"status": "starting"}', "its status is 'starting'"),
    ],
)
def test_anything_else_is_unhealthy_and_says_why(
    server: ThreadingHTTPServer, status: int, body: bytes, problem: str
) -> None:
    port = _answering(server, status, body)
    found = check_health("127.0.0.1", port, 3)
    assert found is not None and problem in found and f":{port}/health" in found


def test_nothing_listening_is_unhealthy() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    found = check_health("127.0.0.1", port, 3)
    assert found is not None and "refused" in found.lower()
