"""The models a provider offers, read from its own `/models` (its adapter's base URL, its first
key's headers), within a bounded time, and kept for a few minutes.

A fetch never hangs: it is given at most `FETCH_TIMEOUT_S` (less when the provider's own
timeout is shorter). Callers asking for the same provider while a fetch is under way share it;
a caller that goes away does not cancel it for the others. A failed fetch is not kept: the
next caller tries again. An upstream error reaches the caller as a `ModelsError` whose message
is made safe as the router's are (no key, no URL, one short line).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

import orjson

from chain429.clock import Clock
from chain429.errors import Chain429Error, UpstreamError, UpstreamTimeoutError
from chain429.providers.error_body import parse_error_body
from chain429.redaction import Redactor
from chain429.router.attempt import UpstreamText
from chain429.router.plan import ProviderPlan
from chain429.router.upstream import Fetch
from chain429.tasks import create_task

MODELS_PATH: Final = "/models"
FETCH_TIMEOUT_S: Final = 5.0
CACHE_TTL_S: Final = 300.0
MAX_BODY_BYTES: Final = 8 * 1024 * 1024

_CacheKey = tuple[str, str, tuple[tuple[str, str], ...]]


class ModelsError(Chain429Error):
    """The provider's model list could not be had: `status` is the answer to give (502 for an
    upstream error or a body that is no model list, 504 for no answer in time)."""

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


@dataclass(frozen=True, slots=True)
class OfferedModel:
    id: str
    owned_by: str | None = None
    created: int | None = None


@dataclass(frozen=True, slots=True)
class ModelList:
    provider: str
    models: tuple[OfferedModel, ...]
    fetched_at: float


class ModelCatalog:
    """Model lists per provider, fetched on demand with `fetch` and kept `ttl_s` seconds by
    `clock`. Kept per provider id, URL and headers, so a changed key or base URL fetches anew."""

    def __init__(
        self,
        clock: Clock,
        fetch: Fetch,
        *,
        ttl_s: float = CACHE_TTL_S,
        timeout_s: float = FETCH_TIMEOUT_S,
    ) -> None:
        self._clock = clock
        self._fetch = fetch
        self._ttl_s = ttl_s
        self._timeout_s = timeout_s
        self._kept: dict[_CacheKey, ModelList] = {}
        self._pending: dict[_CacheKey, asyncio.Task[ModelList]] = {}

    async def models(self, plan: ProviderPlan, redactor: Redactor) -> ModelList:
        """The provider's models; `redactor` knows the secrets its error text must not hold."""
        url = plan.adapter.url(plan.provider, MODELS_PATH)
        headers = plan.headers[0]
        key = (plan.provider.id, url, tuple(sorted(headers.items())))
        kept = self._kept.get(key)
        if kept is not None and self._clock.now() - kept.fetched_at < self._ttl_s:
            return kept
        task = self._pending.get(key)
        if task is None:
            timeout_s = min(self._timeout_s, plan.timeout_s)
            fetching = self._fetched(plan.provider.id, url, headers, timeout_s, redactor)
            task = create_task(fetching, name=f"models-{plan.provider.id}")
            self._pending[key] = task
            task.add_done_callback(partial(self._settle, key))
        return await asyncio.shield(task)

    async def close(self) -> None:
        """Cancel the fetches under way (the app is stopping)."""
        tasks = list(self._pending.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, ModelsError):
                await task

    def _settle(self, key: _CacheKey, task: asyncio.Task[ModelList]) -> None:
        del self._pending[key]
        if task.cancelled() or task.exception() is not None:
            return
        now = self._clock.now()
        self._kept = {k: v for k, v in self._kept.items() if now - v.fetched_at < self._ttl_s}
        self._kept[key] = task.result()

    async def _fetched(
        self,
        provider: str,
        url: str,
        headers: Mapping[str, str],
        timeout_s: float,
        redactor: Redactor,
    ) -> ModelList:
        what = f"Provider '{provider}'"
        try:
            async with asyncio.timeout(timeout_s):
                status, body = await self._fetch(url, headers, timeout_s, MAX_BODY_BYTES)
        except (TimeoutError, UpstreamTimeoutError):
            message = f"{what} did not answer GET /models within {timeout_s:g}s."
            raise ModelsError(504, message, "upstream_timeout") from None
        except UpstreamError as exc:
            text = UpstreamText(redactor).text(str(exc))
            raise ModelsError(
                502, f"{what}: GET /models failed: {text}.", "upstream_error"
            ) from None
        if not 200 <= status < 300:
            info = parse_error_body(body, self._clock.now())
            text = UpstreamText(redactor).text(info.message)
            detail = f": {text}" if text else ""
            message = f"{what} answered GET /models with HTTP {status}{detail}"
            raise ModelsError(502, message, "upstream_error")
        models = parse_model_list(body)
        if models is None:
            message = f"{what} answered GET /models with something that is not a model list."
            raise ModelsError(502, message, "upstream_bad_response")
        return ModelList(provider, models, self._clock.now())


def parse_model_list(body: bytes) -> tuple[OfferedModel, ...] | None:
    """OpenAI's list (`{"data": [{"id": ...}, ...]}`, or the bare array some servers send);
    None when the body is neither. Entries without a string `id` are left out."""
    try:
        document: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    items = document.get("data") if isinstance(document, dict) else document
    if not isinstance(items, list):
        return None
    models = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        owner, created = item.get("owned_by"), item.get("created")
        models.append(
            OfferedModel(
                id=item["id"],
                owned_by=owner if isinstance(owner, str) else None,
                created=created
                if isinstance(created, int) and not isinstance(created, bool)
                else None,
            )
        )
    return tuple(models)
