"""The upstream of bench/stream_instructions.py: the bench stream one event per read, in lock step.

Pacing by time cannot promise one event per read under callgrind on a loaded machine (a
stalled reader finds two or three events waiting). This upstream sends an event only when the
reader asks for it: every POST gets the headers and the role chunk at once, then each further
event (chunked, its own write, TCP_NODELAY) after one byte arrives on the step connection (a
second port, one connection, accepted at the first POST), `[DONE]` together with the end of
the body. The reader sends a byte just before each read of the stream after the commit point,
so each read finds exactly one event. `GET /ready` answers 204. It serves any path (nginx's
layout works). Run as `python bench/stepped_upstream.py --port N --step-port M`.
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from payloads import sse_events
from spawn import answers, child, free_port, pinned, wait_until

SCRIPT = Path(__file__).resolve()
_END_OF_BODY = b"0\r\n\r\n"


def stepped_writes() -> list[bytes]:
    """Each write of one answer's body, chunk-framed: the role chunk first (sent at once),
    then one per step, the last one `[DONE]` with the end of the body."""
    writes = [b"%x\r\n%s\r\n" % (len(e), e) for e in (e.encode() for e in sse_events())]
    writes[-1] += _END_OF_BODY
    return writes


def _handler(listener: socket.socket) -> type[BaseHTTPRequestHandler]:
    writes = stepped_writes()
    steps: list[socket.socket] = []  # the one step connection, accepted at the first POST

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self.send_response(204)
            self.end_headers()

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not steps:
                steps.append(listener.accept()[0])
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            first, *rest = writes
            self.wfile.write(first)
            for data in rest:
                if not steps[0].recv(1):
                    return  # the reader has gone
                self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@dataclass(frozen=True, slots=True)
class SteppedUpstream:
    """Where it listens (the URL layout of `nginx.Nginx`), and the port to step it on."""

    port: int
    step_port: int

    def base_url(self, kind: str) -> str:
        return f"http://127.0.0.1:{self.port}/{kind}/v1"


@contextmanager
def run_stepped_upstream(root: Path, cpu: int | None) -> Iterator[SteppedUpstream]:
    """Start the upstream (output to `root`/upstream.log), pinned to `cpu`."""
    root.mkdir(parents=True, exist_ok=True)
    port, step_port = free_port(), free_port()
    log = root / "upstream.log"
    command = [sys.executable, str(SCRIPT), "--port", str(port), "--step-port", str(step_port)]
    with child(pinned(command, cpu), log) as process:
        wait_until(
            lambda: answers(port, "/ready"), what="stepped upstream", process=process, log=log
        )
        yield SteppedUpstream(port, step_port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--step-port", type=int, required=True)
    args = parser.parse_args()
    listener = socket.create_server(("127.0.0.1", args.step_port))
    server = ThreadingHTTPServer(("127.0.0.1", args.port), _handler(listener))
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
