"""The routes the app serves, for tests that hold the docs to them."""

from __future__ import annotations

import re

from tests.support.configs import build_config, entries


def app_routes() -> list[tuple[str, str]]:
    """(method, path) of every route, HEAD left out (aiohttp adds it beside each GET)."""
    from chain429.app import create_app

    config = build_config(
        [{"id": "p", "type": "groq", "apiKey": "key-1234567890"}],
        {"c": entries(("p", "m"))},
        dbPath="unused.db",
    )
    app = create_app(config)
    return sorted(
        {
            (route.method, route.resource.canonical)
            for route in app.router.routes()
            if route.resource is not None and route.method != "HEAD"
        }
    )


def without_names(text: str) -> str:
    """`text` with each `{name}` of a path template as `{}`, so differently named parameters
    compare equal."""
    return re.sub(r"\{[^}]*\}", "{}", text)
