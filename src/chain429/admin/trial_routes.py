"""The test routes: `POST /api/test` (one prompt through the waterfall, answered whole or
streamed), `POST /api/test/chain/{name}` (every entry of a chain probed one by one), and the
original 429chain's `POST /v1/test/chain/:name` in its own shapes, on the same probes.

The handlers only read the request and shape the answer: `trial` and `probe` do the work.
"""

from __future__ import annotations

from typing import Final

import orjson
from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from chain429.admin.api_body import read_body
from chain429.admin.api_route import ApiRoute
from chain429.admin.probe import ChainProber
from chain429.admin.route_error import RouteError
from chain429.admin.trial import DEFAULT_PROMPT, resolve_target, run_trial
from chain429.admin.trial_schema import (
    ChainProbeAnswer,
    ChainProbeBody,
    OriginalProbeAnswer,
    PromptTestAnswer,
    PromptTestBody,
    PromptTestFailure,
    chain_probe_answer,
    original_probe_answer,
    prompt_test_answer,
)
from chain429.admin.trial_stream import PASSED_HEADERS, TrialStream
from chain429.config.schema import Chain, Config
from chain429.openai_errors import ErrorType
from chain429.responses import JSON, json_response
from chain429.state import STATE

TAG: Final = "test"


def trial_routes() -> list[ApiRoute]:
    return [
        ApiRoute(
            method="POST",
            path="/api/test",
            handler=prompt_test,
            summary="Send one prompt through a chain or one entry",
            tag=TAG,
            body=PromptTestBody,
            answer=PromptTestAnswer,
            failure=PromptTestFailure,
            may_stream=True,
            errors=(400, 404, 422, 429, 500, 502, 503),
            description=(
                "Goes through the real waterfall (admission, fall-through, usage record; the "
                "request id starts with `test_`). When no entry serves, the answer is the "
                "waterfall's own error (status, `Retry-After`) with the attempts. With "
                "`stream: true` the answer is `text/event-stream`: `delta` events "
                "(`{text, reasoning}`), an `error` event if the stream breaks, and a final "
                "`result` event holding this answer."
            ),
        ),
        ApiRoute(
            method="POST",
            path="/api/test/chain/{name}",
            handler=probe_chain,
            summary="Probe every entry of a chain, one by one",
            tag=TAG,
            body=ChainProbeBody,
            answer=ChainProbeAnswer,
            errors=(400, 404, 422),
            description=(
                "Each entry gets the prompt (not streamed, `maxTokens` 50 unless given) if "
                "admission lets it: an entry cooling down or out of quota is `skipped`, with "
                "when it frees up, unless `force` is true."
            ),
        ),
    ]


def original_trial_routes() -> list[ApiRoute]:
    """The original 429chain's route, answering errors as `{"error": "<message>"}`."""
    return [
        ApiRoute(
            method="POST",
            path="/v1/test/chain/{name}",
            handler=original_probe_chain,
            summary="Probe every entry of a chain (the original 429chain's route and shape)",
            tag=TAG,
            answer=OriginalProbeAnswer,
            errors=(400, 404),
            description=(
                "Every entry is called whatever its limits, as the original did; optional "
                '`{"prompt"}`; errors as `{"error": "<message>"}`.'
            ),
        )
    ]


async def prompt_test(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    try:
        body = await read_body(request, PromptTestBody, optional=True)
        target = resolve_target(state.config, *body.target())
    except RouteError as exc:
        return exc.answer()
    stream = TrialStream(request) if body.stream else None
    result = await run_trial(
        state,
        target,
        body.chat_messages(),
        max_tokens=body.max_tokens,
        temperature=body.temperature,
        listener=stream,
    )
    answer = prompt_test_answer(result)
    if stream is not None and stream.response is not None:
        return await stream.finish(answer)
    headers = {k: v for k, v in result.channel.headers.items() if k.lower() in PASSED_HEADERS}
    return web.Response(
        status=answer.status, body=_dump(answer), content_type=JSON, headers=headers
    )


async def probe_chain(request: web.Request) -> web.Response:
    state = request.app[STATE]
    try:
        body = await read_body(request, ChainProbeBody, optional=True)
        chain = _chain(state.config, request.match_info["name"])
    except RouteError as exc:
        return exc.answer()
    probes = await ChainProber(state).probe(
        chain, body.prompt, max_tokens=body.max_tokens, force=body.force
    )
    answer = chain_probe_answer(chain.name, probes, state.clock.now())
    return web.Response(body=_dump(answer), content_type=JSON)


class _OriginalBody(BaseModel):
    """The original's body: an optional `prompt`; anything else is ignored, as it did."""

    model_config = ConfigDict(extra="ignore")

    prompt: str = DEFAULT_PROMPT


async def original_probe_chain(request: web.Request) -> web.Response:
    """Probes every entry whatever its limits, as the original did (it ignored them): `force`,
    so that each answer is `ok` or `error`."""
    state = request.app[STATE]
    name = request.match_info["name"]
    chain = state.config.chain(name)
    if chain is None:
        return json_response({"error": f'Chain "{name}" not found'}, 404)
    raw = await request.read()
    try:
        body = _OriginalBody.model_validate_json(raw) if raw.strip() else _OriginalBody()
    except ValidationError as exc:
        message = exc.errors(include_url=False)[0]["msg"]
        return json_response({"error": f"Invalid request body: {message}"}, 400)
    probes = await ChainProber(state).probe(chain, body.prompt, force=True)
    return json_response(original_probe_answer(chain.name, probes))


def _chain(config: Config, name: str) -> Chain:
    chain = config.chain(name)
    if chain is None:
        raise RouteError(404, f"Chain '{name}' not found.", "chain_not_found", ErrorType.NOT_FOUND)
    return chain


def _dump(answer: BaseModel) -> bytes:
    return orjson.dumps(answer.model_dump(mode="json", by_alias=True))
