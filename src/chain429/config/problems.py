"""pydantic's validation errors as one line per problem, each naming the field path as the file
spells it (`providers[2].apiKey: ...`).

Each mistake is reported once: a misspelt key says which key was meant, and the same key then
missing is not reported again; a list is not said to be too short because one of its items
failed.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any, get_args

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

Location = tuple[int | str, ...]


def describe_validation_error(
    exc: ValidationError, root: type[BaseModel] | None = None
) -> list[str]:
    """One line per problem of `exc`; `root` (the validated model) lets misspelt keys be named."""
    errors = exc.errors(include_url=False)
    meant = {e["loc"]: _meant(root, e["loc"]) for e in errors if e["type"] == "extra_forbidden"}
    problems: list[str] = []
    for error in errors:
        if _repeats_another(error, errors, meant):
            continue
        path = format_path(error["loc"])
        for line in _message(error, meant.get(error["loc"])).splitlines():
            problems.append(line if not path else f"{path}: {line}")
    return problems


def format_path(loc: Location) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _repeats_another(
    error: ErrorDetails, errors: Sequence[ErrorDetails], meant: dict[Location, str | None]
) -> bool:
    loc = error["loc"]
    if error["type"] == "missing":
        return any(
            other["type"] == "extra_forbidden"
            and other["loc"][:-1] == loc[:-1]
            and meant.get(other["loc"]) == loc[-1]
            for other in errors
        )
    if error["type"] == "too_short":
        return any(len(o["loc"]) > len(loc) and o["loc"][: len(loc)] == loc for o in errors)
    return False


def _meant(root: type[BaseModel] | None, loc: Location) -> str | None:
    """The known key closest to an unknown key at `loc`, if one is close."""
    model = _model_at(root, loc[:-1]) if root is not None else None
    if model is None or not isinstance(loc[-1], str):
        return None
    close = difflib.get_close_matches(loc[-1], _keys(model), n=1, cutoff=0.6)
    return close[0] if close else None


def _keys(model: type[BaseModel]) -> list[str]:
    """The keys a file may use for `model`'s fields (their aliases)."""
    return [
        field.validation_alias if isinstance(field.validation_alias, str) else name
        for name, field in model.model_fields.items()
    ]


def _model_at(model: type[BaseModel] | None, loc: Location) -> type[BaseModel] | None:
    for part in loc:
        if model is None:
            return None
        if isinstance(part, str):
            field = next(
                (f for n, f in model.model_fields.items() if part in (n, f.validation_alias)),
                None,
            )
            model = _model_in(field.annotation) if field is not None else None
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model inside a field's type: `Settings`, `tuple[Chain, ...]`, `RateLimits | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _message(error: ErrorDetails, meant: str | None) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        if meant is not None:
            return f"unknown key; did you mean '{meant}'?"
        return "unknown key (not a config field; check the spelling)"
    if kind == "missing":
        return "required field is missing"
    if kind == "bool_type":
        return "must be true or false (a YAML boolean, unquoted)"
    if kind == "literal_error" and error["loc"] == ("version",):
        return "unsupported config version; expected 1"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")
