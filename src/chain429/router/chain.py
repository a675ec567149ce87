"""Which chain serves a request, from the `model` the client asked for."""

from __future__ import annotations

from dataclasses import dataclass

from chain429.config.schema import Chain, ChainEntry, Config


@dataclass(frozen=True, slots=True)
class Route:
    """The chain to walk, and the name it goes by in records."""

    chain: Chain
    name: str


class ChainResolver:
    """Chain name -> that chain; `provider/model` -> that one entry; else the default chain."""

    def __init__(self, config: Config) -> None:
        self._chains = {c.name: Route(c, c.name) for c in config.chains}
        self._providers = frozenset(p.id for p in config.providers)
        self._default = self._chains[config.settings.default_chain]
        self._strict = config.settings.strict_models
        self._direct: dict[str, Route] = {}

    def resolve(self, model: str | None) -> Route | None:
        """The route for `model`, or None when strict models are on and nothing matches."""
        if model is None:
            return self._default
        route = self._chains.get(model) or self._direct.get(model)
        if route is not None:
            return route
        provider, slash, upstream_model = model.partition("/")
        if slash and upstream_model and provider in self._providers:
            entry = ChainEntry(provider=provider, model=upstream_model)
            route = Route(Chain(name=model, entries=(entry,)), model)
            if len(self._direct) < 4096:
                self._direct[model] = route
            return route
        return None if self._strict else self._default
