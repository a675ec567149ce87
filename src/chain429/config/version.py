"""The version of a running configuration, as the management API's `ETag`.

Two configurations that validate to the same values have the same version, whatever their
file's comments or formatting; any change of value, a key's included, gives another. The tag is
a hash prefix, so it says nothing of the keys it covers.
"""

from __future__ import annotations

import hashlib

import orjson

from chain429.config.schema import Config


def config_version(config: Config) -> str:
    """The quoted entity tag of `config` (`"` + 16 hex digits + `"`), as HTTP writes one."""
    data = config.model_dump(mode="json", by_alias=True)
    digest = hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f'"{digest[:16]}"'
