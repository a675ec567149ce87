"""Which chain serves a request, from the `model` the client asked for."""

from __future__ import annotations

from chain429.config.schema import Chain, ChainEntry, Config
from chain429.redaction import Redactor

#: At most this many `provider/model` chains are kept, each built on its first request.
MAX_DIRECT_CHAINS = 4096


class ChainResolver:
    """Chain name -> that chain; `provider/model` -> that one entry; else the default chain.

    A `provider/model` whose model holds a key (`redactor` would change it) addresses nothing:
    the chain's name goes on the record, in the log line and in `X-429chain-Provider`, where a
    key must never be."""

    def __init__(self, config: Config, redactor: Redactor | None = None) -> None:
        self._redactor = redactor
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
        if slash and upstream_model and provider in self._providers and self._safe(model):
            entry = ChainEntry(provider=provider, model=upstream_model)
            chain = Chain(name=model, entries=(entry,))
            if len(self._direct) < MAX_DIRECT_CHAINS:
                self._direct[model] = chain
            return chain
        return None if self._strict else self._default

    def _safe(self, model: str) -> bool:
        return self._redactor is None or self._redactor.redact(model) == model
