from chain429.config.version import config_version
from tests.support.configs import build_config, entries

PROVIDERS = [{"id": "g", "type": "groq", "apiKey": "gsk_first_key_0001"}]


def test_the_same_values_give_the_same_version() -> None:
    a = build_config(PROVIDERS, {"fast": entries(("g", "m"))})
    b = build_config(PROVIDERS, {"fast": entries(("g", "m"))})
    assert config_version(a) == config_version(b)


def test_any_change_of_value_gives_another_version() -> None:
    base = build_config(PROVIDERS, {"fast": entries(("g", "m"))})
    reordered = build_config(PROVIDERS, {"fast": entries(("g", "m"), ("g", "n"))})
    new_key = build_config(
        [{**PROVIDERS[0], "apiKey": "gsk_other_key_0002"}], {"fast": entries(("g", "m"))}
    )
    versions = {config_version(c) for c in (base, reordered, new_key)}
    assert len(versions) == 3


def test_the_version_is_a_quoted_tag_that_shows_no_key() -> None:
    version = config_version(build_config(PROVIDERS, {"fast": entries(("g", "m"))}))
    assert version.startswith('"') and version.endswith('"') and len(version) == 18
    assert "0001" not in version
