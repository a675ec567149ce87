"""`RouteError`: why a management API request cannot be served, as the handler answers it."""

from __future__ import annotations

from aiohttp import web

from chain429.errors import Chain429Error
from chain429.openai_errors import ErrorType
from chain429.responses import error_response, json_response


class RouteError(Chain429Error):
    """A refused or failed `/api` request: the status, a message for a person, and OpenAI's
    `type`, `code` and `param` (the field at fault)."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str,
        error_type: ErrorType = ErrorType.INVALID_REQUEST,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.error_type = error_type
        self.param = param

    def answer(self) -> web.Response:
        """The error in OpenAI's shape (`{"error": {message, type, param, code}}`)."""
        return error_response(self.status, self.message, self.error_type, self.code, self.param)

    def original_answer(self) -> web.Response:
        """The error in the original 429chain's shape (`{"error": "<message>"}`)."""
        return json_response({"error": self.message}, self.status)
