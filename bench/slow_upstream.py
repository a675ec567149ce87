"""The upstream of the time-to-first-token benchmark: an SSE stream that arrives slowly.

A threaded `http.server` (blocking sockets, `time.sleep` between writes: sub-millisecond
pacing, where an event loop's timers round to whole milliseconds) that answers every POST with
the stream of bench/payloads.py: the headers at once, then, `--first-ms` after the request, the
role chunk and the first word (two writes), then one word every `--interval-ms`, then the
finish chunk, the usage chunk and `[DONE]` together. Chunked, keep-alive, TCP_NODELAY.
`GET /ready` answers 204. It serves any path, so nginx's layout (`/sse/v1/chat/completions`)
works and the relay and the proxy can be pointed at it as they are at nginx. Run as
`python bench/slow_upstream.py --port N --first-ms 50 --interval-ms 20`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from payloads import sse_events
from spawn import answers, child, free_port, pinned, wait_until

SCRIPT = Path(__file__).resolve()


@dataclass(frozen=True, slots=True)
class Pace:
    first_s: float  # from the request to the role chunk and the first word
    interval_s: float  # between words after the first


@dataclass(frozen=True, slots=True)
class SlowUpstream:
    """Where the slow upstream listens; the same URL layout as `nginx.Nginx`."""

    port: int
    pid: int

    def base_url(self, kind: str) -> str:
        return f"http://127.0.0.1:{self.port}/{kind}/v1"

    def chat_url(self, kind: str) -> str:
        return f"{self.base_url(kind)}/chat/completions"


def paced_writes(pace: Pace) -> list[tuple[float, bytes]]:
    """(seconds to wait before, event bytes) for each write of one stream."""
    events = [e.encode() for e in sse_events()]
    role, first, *words = events[:-3]
    tail = b"".join(events[-3:])  # finish, usage, [DONE]
    writes = [(pace.first_s, role), (0.0, first)]
    writes += [(pace.interval_s, word) for word in words]
    writes.append((pace.interval_s, tail))
    return writes


def _handler(pace: Pace) -> type[BaseHTTPRequestHandler]:
    writes = paced_writes(pace)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self.send_response(204)
            self.end_headers()

        def do_POST(self) -> None:
            started = time.perf_counter()
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            due = started
            for wait_s, data in writes:
                due += wait_s
                if (left := due - time.perf_counter()) > 0:
                    time.sleep(left)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.write(b"0\r\n\r\n")

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def run_slow_upstream(root: Path, cpu: int | None, pace: Pace) -> Iterator[SlowUpstream]:
    """Start the slow upstream (output to `root`/upstream.log), pinned to `cpu`."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = root / "upstream.log"
    command = [
        sys.executable,
        str(SCRIPT),
        "--port",
        str(port),
        "--first-ms",
        str(pace.first_s * 1000),
        "--interval-ms",
        str(pace.interval_s * 1000),
    ]
    with child(pinned(command, cpu), log) as process:
        wait_until(lambda: answers(port, "/ready"), what="slow upstream", process=process, log=log)
        yield SlowUpstream(port=port, pid=process.pid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--first-ms", type=float, default=50.0)
    parser.add_argument("--interval-ms", type=float, default=20.0)
    args = parser.parse_args()
    pace = Pace(args.first_ms / 1000, args.interval_ms / 1000)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), _handler(pace))
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
