"""The Dockerfile and docker-compose.yml, read as files (no container engine runs on these
machines): a multi-stage build whose runtime holds only the wheel, a user without privileges,
the database on a volume, the config read from its mount, a health check that follows the
port, SIGTERM, and a compose file whose host port can change without touching the container's.
tests/integration/test_dist_install.py runs the image's command from an installed wheel."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML

from tests.support.dockerfile import (
    environment,
    final_stage,
    healthcheck_command,
    image_command,
    one,
    read_dockerfile,
)

ROOT = Path(__file__).parents[2]
INSTRUCTIONS = read_dockerfile(ROOT / "Dockerfile")
IMAGE = final_stage(INSTRUCTIONS)


def test_node_builds_and_a_slim_python_runs() -> None:
    bases = [ins.arguments.split()[0] for ins in INSTRUCTIONS if ins.keyword == "FROM"]
    assert len(bases) == 2
    assert bases[0].startswith("node:")
    assert bases[1].startswith("python:") and "slim" in bases[1]
    build_stage = next(ins for ins in INSTRUCTIONS if ins.keyword == "FROM").stage
    [wheel_copy] = [ins for ins in IMAGE if ins.keyword == "COPY" and "--from=" in ins.arguments]
    assert f"--from={build_stage}" in wheel_copy.arguments


def test_the_runtime_installs_only_the_wheel_with_the_locked_versions() -> None:
    runs = " ".join(ins.arguments for ins in IMAGE if ins.keyword == "RUN")
    assert "-r /tmp/runtime.lock" in runs and "--no-deps /tmp/dist/*.whl" in runs
    assert "npm" not in runs and "node" not in runs
    copied = [word for ins in IMAGE if ins.keyword == "COPY" for word in ins.words()[:-1]]
    assert copied == ["requirements/runtime.lock", "--from=build", "/dist/"], "no sources"
    assert (ROOT / "requirements/runtime.lock").is_file()


def test_it_runs_as_a_user_without_privileges() -> None:
    user = one(IMAGE, "USER").arguments
    assert user not in ("root", "0")
    created = " ".join(ins.arguments for ins in IMAGE if ins.keyword == "RUN")
    assert "useradd --system --uid 10001 --user-group --home-dir /data" in created
    assert created.split("useradd", 1)[1].split("&&")[0].split()[-1] == user


def test_the_database_lives_on_the_volume_and_the_config_on_its_mount() -> None:
    env = environment(IMAGE)
    assert one(IMAGE, "VOLUME").words() == ["/data"]
    assert env["CHAIN429_DB_PATH"].startswith("/data/")
    assert env["CHAIN429_CONFIG"] == "/config/config.yaml"
    assert env["CHAIN429_HOST"] == "0.0.0.0"


def test_the_port_the_health_check_and_the_stop_signal() -> None:
    assert one(IMAGE, "EXPOSE").arguments == "3429"
    healthcheck = one(IMAGE, "HEALTHCHECK").arguments
    assert "--interval=" in healthcheck and "--timeout=" in healthcheck
    assert healthcheck_command(INSTRUCTIONS) == ["429chain", "health"]
    assert one(IMAGE, "STOPSIGNAL").arguments == "SIGTERM"
    assert image_command(INSTRUCTIONS) == ["429chain", "serve"]


def test_the_build_context_leaves_out_local_private_and_built_files() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for name in (".git", ".venv", "**/node_modules", "src/chain429/web", ".env", "data", "*.db"):
        assert name in ignored


def _compose() -> dict:
    return YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_runs_the_image_with_a_volume_the_config_and_the_keys() -> None:
    compose = _compose()
    [service] = compose["services"].values()
    assert service["build"] == "."
    assert "data:/data" in service["volumes"]
    assert "./config:/config:ro" in service["volumes"]
    assert service["env_file"] == ".env"
    assert service["restart"] == "unless-stopped"
    assert "data" in compose["volumes"]
    grace_s = int(service["stop_grace_period"].removesuffix("s"))
    assert grace_s > 10, "longer than settings.shutdownGraceMs' default of 10 s"


def test_compose_changes_the_host_port_without_touching_the_container_port() -> None:
    [service] = _compose()["services"].values()
    [mapping] = service["ports"]
    host, container = mapping.rsplit(":", 1)
    assert host == "${CHAIN429_HOST_PORT:-3429}"
    assert container == one(IMAGE, "EXPOSE").arguments
    assert "CHAIN429_PORT" not in str(service.get("environment", ""))


def test_the_env_example_names_what_the_example_config_reads() -> None:
    from chain429.config.example import EXAMPLE_TEMPLATE

    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    names = {line.split("=", 1)[0] for line in example.splitlines() if "=" in line[:40]}
    for name in ("CHAIN429_API_KEY", "GROQ_API_KEY", "CEREBRAS_API_KEY", "OPENROUTER_API_KEY"):
        assert "${" + name + "}" in EXAMPLE_TEMPLATE
        assert name in names
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()
