"""Which chain serves a request, from the `model` the client asked for."""

from __future__ import annotations

from chain429.config.schema import Chain, ChainEntry, Config


class ChainResolver:
    """Chain name -> that chain; `provider/model` -> that one entry; else the default chain."""

    def __init__(self, config: Config) -> None:
        self._chains = {c.name: c for c in config.chains}
        self._providers = frozenset(p.id for p in config.providers)
        self._default = self._chains[config.settings.default_chain]
        self._strict = config.settings.strict_models
        self._direct: dict[str, Chain] = {}

    def is_direct(self, chain: Chain) -> bool:
        """Whether `chain` is a one-entry chain made for a `provider/model` address."""
        return self._chains.get(chain.name) is not chain

    def resolve(self, model: str | None) -> Chain | None:
        """The chain for `model` (a one-entry chain named `provider/model` for a direct address),
        or None when strict models are on and nothing matches."""
        if model is None:
            return self._default
        chain = self._chains.get(model) or self._direct.get(model)
        if chain is not None:
            return chain
        provider, slash, upstream_model = model.partition("/")
        if slash and upstream_model and provider in self._providers:
            entry = ChainEntry(provider=provider, model=upstream_model)
            chain = Chain(name=model, entries=(entry,))
            if len(self._direct) < 4096:
                self._direct[model] = chain
            return chain
        return None if self._strict else self._default
