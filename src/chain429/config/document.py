"""The config file as its author wrote it, edited a provider, a chain or a setting at a time.

Edits take camelCase plain data, as the file spells it (a field that is None is not set), and
change only what differs: comments, key order and quoting of everything else are kept (see
`merge` and `comments`). Two rules keep keys out of harm's way:

- A key the file gives as a `${VAR}` reference stays a reference when the value written is what
  it expands to (anywhere in the file: a reference is never replaced by its value).
- Answers show keys as labels (`…abcd`, `config.keys.key_label`); a label written back where a
  key belongs means that key, so a client that reads a provider and writes it back never
  replaces a key with its label. An edit that leaves a provider's `apiKey` or `apiKeys` out keeps
  them.
- A provider's header values may be keys too, and are written back the same way: a header whose
  value is its label (`config.keys.header_label`) keeps the value the file has for that header
  (name matched regardless of case). `headers` is one mapping: a header left out is removed.

`wrote_secret` tells whether an edit wrote a key or a header value as literal text into the
document, which the file's mode must then protect (see `save`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from chain429.config.comments import remove_key, replace_items
from chain429.config.environment import environment_settings, variable_of
from chain429.config.interpolation import expand_environment
from chain429.config.keys import header_label, is_label, is_secret_header, key_label
from chain429.config.merge import merged, node, plain, put
from chain429.config.round_trip import RoundTrip
from chain429.errors import Chain429Error, ConfigError

#: The key fields of a provider, and the settings that hold keys (lists).
PROVIDER_KEYS: Final = ("apiKey", "apiKeys")
SETTINGS_KEYS: Final = ("apiKeys", "adminKeys")


class NotFound(Chain429Error):
    """No provider or chain of that name in the config."""


class Conflict(Chain429Error):
    """The edit would leave the config inconsistent: a chain would lose its provider, or the
    proxy its default chain."""


class ProviderInUse(Conflict):
    """The provider cannot go: `chains` (their names) use it."""

    def __init__(self, message: str, chains: Sequence[str]) -> None:
        super().__init__(message)
        self.chains = tuple(chains)


class ConfigDocument:
    """A config file as round-trip YAML data, with edits that keep its author's writing."""

    def __init__(self, root: CommentedMap, style: RoundTrip, environ: Mapping[str, str]) -> None:
        self._root = root
        self._style = style
        self._environ = environ
        self.wrote_secret = False

    @classmethod
    def parse(
        cls, text: str, source: str = "<config>", *, environ: Mapping[str, str] | None = None
    ) -> ConfigDocument:
        """The document of `text`; a ConfigError names `source` and the line of bad YAML.
        `${VAR}` references are read with `environ` (default: the process environment)."""
        style = RoundTrip(text)
        root = style.load(source)
        if not isinstance(root, CommentedMap):
            raise ConfigError([f"{source}: the top level must be a mapping"])
        return cls(root, style, os.environ if environ is None else environ)

    def text(self) -> str:
        return self._style.dump(self._root)

    def provider(self, provider_id: str) -> dict[str, Any] | None:
        """The provider `provider_id` as the file has it, or None."""
        at = self._find("providers", "id", provider_id)
        return None if at is None else plain(self._list("providers")[at])

    def chain(self, name: str) -> dict[str, Any] | None:
        """The chain `name` as the file has it, or None."""
        at = self._find("chains", "name", name)
        return None if at is None else plain(self._list("chains")[at])

    def put_provider(self, data: Mapping[str, Any]) -> bool:
        """Create or replace the provider `data["id"]`; True when created. A field left out (or
        None) is removed, except `apiKey` and `apiKeys`, which are then kept. Header values
        given as their labels keep the values they name."""
        provider_id = data.get("id")
        if not isinstance(provider_id, str) or not provider_id:
            raise ConfigError(["id: required field is missing"])
        at = self._find("providers", "id", provider_id)
        existing = None if at is None else self._list("providers")[at]
        new = self._with_keys(data, existing)
        if existing is not None:
            merged(existing, new, self._expand)
            return False
        self._append("providers", new)
        return True

    def delete_provider(self, provider_id: str) -> None:
        at = self._find("providers", "id", provider_id)
        if at is None:
            raise NotFound(f"no provider with id '{provider_id}'")
        users = [name for name, entries in self._chains() if provider_id in entries]
        if users:
            raise ProviderInUse(
                f"provider '{provider_id}' is used by chains: {', '.join(users)}", users
            )
        self._remove("providers", at)

    def put_chain(self, name: str, entries: Sequence[Mapping[str, Any]]) -> bool:
        """Create or replace the chain `name` with `entries`, in that order; True when created."""
        new = [_without_none(entry) for entry in entries]
        at = self._find("chains", "name", name)
        if at is None:
            self._append("chains", {"name": name, "entries": new})
            return True
        put(self._list("chains")[at], "entries", new, self._expand)
        return False

    def delete_chain(self, name: str) -> None:
        at = self._find("chains", "name", name)
        if at is None:
            raise NotFound(f"no chain named '{name}'")
        settings = self._root.get("settings")
        default = settings.get("defaultChain") if isinstance(settings, Mapping) else None
        if self._means(default, name):
            raise Conflict(
                f"chain '{name}' is the default chain (settings.defaultChain): "
                "make another chain the default first"
            )
        self._remove("chains", at)

    def update_settings(self, changes: Mapping[str, Any]) -> None:
        """Set each setting of `changes`; None removes it (back to its default). A setting the
        environment gives is refused: the file's value would not apply."""
        settings = self._root.get("settings")
        if settings is None:
            settings = self._root["settings"] = CommentedMap()
        if not isinstance(settings, CommentedMap):
            raise ConfigError(["settings: must be a mapping"])
        given = environment_settings(self._environ)
        for key, value in changes.items():
            if key in given:
                raise ConfigError(
                    [
                        f"settings.{key}: set by the environment variable {variable_of(key)}; "
                        "change it there (a value in the file would not apply)"
                    ]
                )
            if value is None:
                if key in settings:
                    remove_key(settings, key)
                continue
            if key in SETTINGS_KEYS:
                known = self._known_keys(settings.get(key) or [])
                value = self._resolve(value, known, f"settings.{key}")
            put(settings, key, _without_none(value), self._expand)

    def _with_keys(self, data: Mapping[str, Any], existing: CommentedMap | None) -> dict[str, Any]:
        """`data` without its None fields, its keys and header values resolved and the
        provider's keys it leaves out kept."""
        new: dict[str, Any] = _without_none(data)
        stored = self._provider_keys(existing) if existing is not None else []
        known = self._known_keys(stored)
        for field in PROVIDER_KEYS:
            if field in new:
                new[field] = self._resolve(new[field], known, field)
            elif existing is not None and field in existing:
                new[field] = existing[field]
        if isinstance(new.get("headers"), Mapping):
            new["headers"] = self._resolve_headers(new["headers"], existing)
        return new

    def _resolve_headers(
        self, headers: Mapping[str, Any], existing: CommentedMap | None
    ) -> dict[str, Any]:
        """`headers` as the file should hold them: a value that is the label or the value of
        the `existing` provider's header of that name means the file's value for it; a label
        naming nothing is refused, and a new value counts as a secret written, only for a
        header that carries a credential (`keys.is_secret_header`)."""
        stored = existing.get("headers") if existing is not None else None
        raws = {str(k).lower(): v for k, v in stored.items()} if isinstance(stored, Mapping) else {}
        references = {value: raw for raw, value in self._references()}
        resolved = {}
        for name, value in headers.items():
            raw = raws.get(str(name).lower())
            expanded = self._expand(raw) if isinstance(raw, str) else None
            mine = {} if expanded is None else {expanded: raw, header_label(expanded): raw}
            if is_secret_header(str(name)):
                resolved[name] = self._resolve(
                    value, references | mine, f"headers.{name}", "header value"
                )
            else:  # a plain setting, unless answers showed it by its label (it holds a key)
                resolved[name] = mine.get(value, value) if isinstance(value, str) else value
        return resolved

    def _known_keys(self, stored: Sequence[Any]) -> dict[str, Any]:
        """What a written key may be, to the file value it means: a label or the value of one of
        `stored` (the keys the field holds now), or the value of a reference anywhere."""
        known = {value: raw for raw, value in self._references()}
        values = [(raw, self._expand(raw)) for raw in stored if isinstance(raw, str)]
        known |= {value: raw for raw, value in values if value is not None}
        for index, (raw, value) in enumerate(values):
            if value is not None:
                known.setdefault(key_label(value, index), raw)
        return known

    def _resolve(self, value: Any, known: Mapping[str, Any], field: str, what: str = "key") -> Any:
        """A key (or list of keys) of `field` as the file should hold it; notes a key written
        literally; refuses a label that names no key of the field."""
        if isinstance(value, list | tuple):
            return [
                self._resolve(item, known, f"{field}[{i}]", what) for i, item in enumerate(value)
            ]
        if not isinstance(value, str):
            return value
        if value in known:
            return known[value]
        if is_label(value):
            named = f"is the label of a {what}, not a {what} (no {what} here has it)"
            raise ConfigError([f"{field}: '{value}' {named}"])
        if "${" not in value:
            self.wrote_secret = True
        return value

    def _references(self) -> Iterator[tuple[str, str]]:
        """(reference, value) of each key and header value the file gives as a `${VAR}`
        reference."""
        holders = [p for p in self._list("providers") if isinstance(p, Mapping)]
        raws = [raw for p in holders for raw in self._provider_keys(p)]
        raws += [raw for p in holders for raw in _values(p.get("headers"))]
        settings = self._root.get("settings")
        if isinstance(settings, Mapping):
            raws += [raw for field in SETTINGS_KEYS for raw in _as_list(settings.get(field))]
        for raw in raws:
            value = self._expand(raw) if isinstance(raw, str) and "${" in raw else None
            if value:
                yield raw, value

    def _provider_keys(self, provider: Mapping[str, Any]) -> list[Any]:
        """A provider's keys as the file writes them, in `ProviderConfig.keys` order (which
        numbers the labels): `apiKey`, then the `apiKeys` that are not the same key."""
        head = provider.get("apiKey")
        if not head:
            return _as_list(provider.get("apiKeys"))
        value = self._expand(head) if isinstance(head, str) else None
        rest = _as_list(provider.get("apiKeys"))
        return [head] + [r for r in rest if not isinstance(r, str) or self._expand(r) != value]

    def _chains(self) -> Iterator[tuple[str, set[str]]]:
        """(name, the ids of the providers its entries use) of each chain."""
        for chain in self._list("chains"):
            if isinstance(chain, Mapping):
                entries = [e for e in _as_list(chain.get("entries")) if isinstance(e, Mapping)]
                used = {self._expand(e["provider"]) for e in entries if "provider" in e}
                yield str(chain.get("name")), {p for p in used if p is not None}

    def _find(self, section: str, field: str, value: str) -> int | None:
        items = self._list(section)
        return next(
            (i for i, item in enumerate(items) if self._means(_field(item, field), value)),
            None,
        )

    def _append(self, section: str, data: Mapping[str, Any]) -> None:
        if section not in self._root:
            self._root[section] = CommentedSeq()
        items = self._list(section)
        replace_items(items, [*enumerate(items), (None, node(data))])

    def _remove(self, section: str, at: int) -> None:
        items = self._list(section)
        replace_items(items, [(i, item) for i, item in enumerate(items) if i != at])

    def _list(self, section: str) -> CommentedSeq:
        value = self._root.get(section)
        if value is None:
            return CommentedSeq()
        if not isinstance(value, CommentedSeq):
            raise ConfigError([f"{section}: must be a list"])
        return value

    def _means(self, raw: Any, value: str) -> bool:
        return isinstance(raw, str) and (raw == value or self._expand(raw) == value)

    def _expand(self, text: str) -> str | None:
        """`text` with its `${VAR}` references expanded, or None when one cannot be."""
        try:
            return str(expand_environment(text, self._environ))
        except ConfigError:
            return None


def _without_none(value: Any) -> Any:
    """`value` without the None fields of its mappings, at any depth: None means "not set"."""
    if isinstance(value, Mapping):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_without_none(item) for item in value]
    return value


def _field(item: Any, field: str) -> Any:
    return item.get(field) if isinstance(item, Mapping) else None


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _values(value: Any) -> list[Any]:
    return list(value.values()) if isinstance(value, Mapping) else []
