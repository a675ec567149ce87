"""The upstream of the overhead benchmark: nginx answering fixed JSON and SSE completions.

nginx runs as one unprivileged-config process (no master, `daemon off`) whose pid, logs and temp
directories all live in the run's temporary directory. `/json/v1/chat/completions` returns the
JSON completion, `/sse/v1/chat/completions` the SSE stream, `/ready` a 204 to poll.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from payloads import completion_json, completion_sse
from spawn import BenchError, answers, child, free_port, pinned, wait_until

NGINX_CANDIDATES = ("nginx", "/usr/sbin/nginx")
# Characters nginx would read as a quote, an escape or a variable inside a `return` string.
_UNSAFE = ("'", "\\", "$")


def nginx_binary() -> str | None:
    return next((path for c in NGINX_CANDIDATES if (path := shutil.which(c))), None)


def _quoted(body: str) -> str:
    if any(ch in body for ch in _UNSAFE):
        raise BenchError(f"payload contains one of {_UNSAFE}, which nginx would interpret")
    return "'" + body.replace("\n", "\\n") + "'"


def nginx_conf(root: Path, port: int) -> str:
    return f"""
daemon off;
master_process off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{
    worker_connections 4096;
    multi_accept on;
}}
http {{
    access_log off;
    client_body_temp_path {root}/client_body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    tcp_nodelay on;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location = /json/v1/chat/completions {{
            default_type application/json;
            return 200 {_quoted(completion_json())};
        }}
        location = /sse/v1/chat/completions {{
            default_type text/event-stream;
            return 200 {_quoted(completion_sse())};
        }}
        location = /ready {{
            return 204;
        }}
    }}
}}
"""


@dataclass(frozen=True, slots=True)
class Nginx:
    port: int
    pid: int

    def base_url(self, kind: str) -> str:
        """The OpenAI base URL (ending in /v1) that serves `kind` ("json" or "sse")."""
        return f"http://127.0.0.1:{self.port}/{kind}/v1"

    def chat_url(self, kind: str) -> str:
        return f"{self.base_url(kind)}/chat/completions"


@contextmanager
def run_nginx(root: Path, cpu: int | None) -> Iterator[Nginx]:
    """Start nginx with its files under `root`, pinned to `cpu`; stop it on exit."""
    binary = nginx_binary()
    if binary is None:
        raise BenchError("nginx not found: apt-get install -y nginx")
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = root / "nginx.conf"
    conf.write_text(nginx_conf(root, port), encoding="utf-8")
    log = root / "stdout.log"
    command = [binary, "-c", str(conf), "-p", str(root), "-e", str(root / "error.log")]
    with child(pinned(command, cpu), log) as process:
        wait_until(lambda: answers(port, "/ready"), what="nginx", process=process, log=log)
        yield Nginx(port=port, pid=process.pid)
