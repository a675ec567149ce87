"""`429chain health`: one GET of a local proxy's `/health`, for a container's health check.
Standard library only, so the check costs little more than the interpreter's start."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Final

#: No proxy: an `HTTP_PROXY` in the container's environment must not carry a loopback check.
_OPENER: Final = urllib.request.build_opener(urllib.request.ProxyHandler({}))

#: Addresses that mean "every interface": the check goes to the loopback of the same family.
_ANY: Final = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}


def health_url(host: str, port: int) -> str:
    address = _ANY.get(host, host)
    if ":" in address:
        address = f"[{address}]"
    return f"http://{address}:{port}/health"


def check_health(host: str, port: int, timeout_s: float) -> str | None:
    """None when the proxy at `host:port` says it is ok; otherwise what went wrong."""
    url = health_url(host, port)
    try:
        with _OPENER.open(url, timeout=timeout_s) as answer:
            body = answer.read(4096)
    except urllib.error.HTTPError as exc:
        return f"{url} answered HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"{url}: {reason}"
    try:
        status = json.loads(body).get("status")
    except (ValueError, AttributeError):
        return f"{url} answered something other than a health report"
    return None if status == "ok" else f"{url} says its status is {status!r}"
