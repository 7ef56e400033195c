"""The deployment files describe the stack docs/operations.md promises, and agree with settings.

No database: docker-compose.yml is read with PyYAML (merge keys resolved) and interpolated the
way Compose does it, the Dockerfile is read line by line, config/settings.py is read as source.
"""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from config.settings import env_bool  # the parser settings.py uses for DEBUG, not a setting

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("web", "worker", "beat")
HOST_ENV = {
    "SECRET_KEY": "s3cret-from-the-host",
    "BASE_DOMAIN": "shops.example",
    "POSTGRES_PASSWORD": "pg-password",
}


# ---------------------------------------------------------------------------------------------
# Readers
# ---------------------------------------------------------------------------------------------
class MissingVariable(Exception):
    pass


_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's substitution: ${X}, ${X:-default}, ${X-default}, ${X:?err}, ${X?err}, $$."""

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group(1), match.group(2), match.group(3)
        present = name in env
        value = env.get(name, "")
        if op in (":?", "?"):
            if not present or (op == ":?" and value == ""):
                raise MissingVariable(f"{name}: {arg}")
            return value
        if op == ":-":
            return value if value else arg
        if op == "-":
            return value if present else arg
        return value

    return _VAR.sub(replace, value)


def interpolate_tree(node, env: dict[str, str]):
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [interpolate_tree(item, env) for item in node]
    if isinstance(node, dict):
        return {key: interpolate_tree(value, env) for key, value in node.items()}
    return node


def raw_compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def compose(env: dict[str, str] | None = None) -> dict:
    return interpolate_tree(raw_compose(), HOST_ENV if env is None else env)


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # ["NAME=value", ...] form
        env = dict(item.split("=", 1) for item in env)
    return {name: "" if value is None else str(value) for name, value in env.items()}


def command(service: dict) -> list[str]:
    cmd = service.get("command") or []
    return shlex.split(cmd) if isinstance(cmd, str) else [str(part) for part in cmd]


def depends_on(service: dict) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions, pending = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    return instructions


ENV_READERS = {"env_bool", "env_int", "env_list"}


def settings_env_names() -> set[str]:
    """Names config/settings.py reads: os.environ.get("X"...), os.environ["X"], env_*("X"...)."""
    tree = ast.parse((ROOT / "config" / "settings.py").read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            reads_environ = (
                isinstance(func, ast.Attribute)
                and func.attr in {"get", "getenv"}
                and ast.unparse(func.value) in {"os.environ", "os"}
            )
            if reads_environ or (isinstance(func, ast.Name) and func.id in ENV_READERS):
                key = node.args[0]
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.add(key.value)
    return names


# ---------------------------------------------------------------------------------------------
# docker-compose.yml
# ---------------------------------------------------------------------------------------------
def test_compose_has_the_production_like_services():
    services = compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")


def test_app_services_share_one_image_and_one_environment():
    services = compose()["services"]
    builds = {repr(services[name].get("build")) for name in APP_SERVICES}
    images = {services[name].get("image") for name in APP_SERVICES}
    envs = [environment(services[name]) for name in APP_SERVICES]
    assert builds == {"'.'"} or builds == {repr({"context": "."})}
    assert len(images) == 1
    assert envs[0], "the app services set no environment"
    assert envs[0] == envs[1] == envs[2]


def test_database_and_broker_urls_point_at_the_compose_services():
    env = environment(compose()["services"]["web"])
    database = urlsplit(env["DATABASE_URL"])
    broker = urlsplit(env["CELERY_BROKER_URL"])
    cache = urlsplit(env["CACHE_URL"])
    assert database.scheme in {"postgres", "postgresql"}
    assert database.hostname == "postgres"
    assert database.password == HOST_ENV["POSTGRES_PASSWORD"]
    assert (broker.scheme, broker.hostname) == ("redis", "redis")
    assert (cache.scheme, cache.hostname) == ("redis", "redis")
    assert broker.path != cache.path, "broker and cache must not share a Redis database"


def test_web_waits_for_healthy_postgres_and_redis_and_for_migrations():
    services = compose()["services"]
    web_deps = depends_on(services["web"])
    assert web_deps["postgres"] == "service_healthy"
    assert web_deps["redis"] == "service_healthy"
    assert "healthcheck" in services["postgres"] and "healthcheck" in services["redis"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])

    migrators = [
        name for name, service in services.items()
        if "migrate_schemas" in command(service)
    ]
    assert migrators, "no service runs migrate_schemas"
    if "web" not in migrators:
        for name in APP_SERVICES:
            assert depends_on(services[name])[migrators[0]] == "service_completed_successfully"
    migrate_cmd = command(services[migrators[0]])
    assert "--executor=multiprocessing" in migrate_cmd


def test_postgres_raises_max_locks_per_transaction():
    postgres = compose()["services"]["postgres"]
    match = re.search(r"max_locks_per_transaction=(\d+)", " ".join(command(postgres)))
    assert match and int(match.group(1)) >= 1024


def test_each_process_runs_the_right_program():
    services = compose()["services"]
    assert command(services["web"])[:2] == ["gunicorn", "config.wsgi:application"]
    assert command(services["worker"])[:4] == ["celery", "-A", "config", "worker"]
    assert command(services["beat"])[:4] == ["celery", "-A", "config", "beat"]


@pytest.mark.parametrize("name", ["SECRET_KEY", "BASE_DOMAIN", "POSTGRES_PASSWORD"])
def test_secrets_are_required_from_the_host_environment(name):
    without = {key: value for key, value in HOST_ENV.items() if key != name}
    with pytest.raises(MissingVariable, match=name):
        compose(without)
    # And the value that reaches the app is the host's, not a literal written in the file.
    services = compose()["services"]
    if name in environment(services["web"]):
        assert environment(services["web"])[name] == HOST_ENV[name]
        raw = raw_compose()["services"]["web"]["environment"][name]
        assert re.fullmatch(r"\$\{" + name + r":?\?[^}]*\}", raw)


def test_debug_is_off(monkeypatch):
    env = environment(compose()["services"]["web"])
    assert "DEBUG" in env
    monkeypatch.setenv("DEBUG", env["DEBUG"])
    assert env_bool("DEBUG") is False  # read exactly as config/settings.py reads it


def test_every_app_variable_is_one_settings_reads():
    read = settings_env_names()
    assert {"DATABASE_URL", "SECRET_KEY", "CELERY_BROKER_URL", "DEBUG"} <= read  # reader works
    services = compose()["services"]
    app_services = [name for name, s in services.items() if s.get("build") or name in APP_SERVICES]
    for name in app_services:
        unknown = set(environment(services[name])) - read
        assert not unknown, f"{name} sets variables config/settings.py never reads: {unknown}"


# ---------------------------------------------------------------------------------------------
# Dockerfile and .dockerignore
# ---------------------------------------------------------------------------------------------
def test_image_is_python_311():
    froms = [args for keyword, args in dockerfile_instructions() if keyword == "FROM"]
    assert froms and re.match(r"python:3\.11(\b|-)", froms[-1].split()[0])


def test_image_does_not_run_as_root():
    instructions = dockerfile_instructions()
    users = [(i, args.split()[0]) for i, (kw, args) in enumerate(instructions) if kw == "USER"]
    assert users, "no USER: the container would run as root"
    position, user = users[-1]
    assert user.split(":")[0] not in {"root", "0"}
    cmd_position = max(i for i, (kw, _args) in enumerate(instructions) if kw == "CMD")
    assert position < cmd_position


def test_every_app_volume_is_a_directory_the_image_gives_its_user():
    # A new named volume takes the ownership of the image's directory; on a path the image
    # lacks, Docker makes it root's, and the app (not root) could not write there: issued
    # invoices' PDFs on /data/private failed so.
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]
    given = next(run for run in runs if "chown -R app:app /data" in run)
    created = set(re.findall(r"mkdir -p ((?:/\S+\s*)+)", given)[0].split())
    targets = {volume.split(":")[1] for name in APP_SERVICES
               for volume in compose()["services"][name].get("volumes", [])}
    assert targets and all(target.startswith("/data/") for target in targets)
    assert targets <= created, f"volumes on directories the image does not create: {targets - created}"


def test_image_collects_static_without_baking_secrets_in():
    instructions = dockerfile_instructions()
    runs = [args for keyword, args in instructions if keyword == "RUN"]
    collect = [run for run in runs if "collectstatic" in run]
    assert collect and "DATABASE_URL=" in collect[0] and "SECRET_KEY=" in collect[0]
    persisted = " ".join(args for keyword, args in instructions if keyword in {"ENV", "ARG"})
    assert "SECRET_KEY" not in persisted and "DATABASE_URL" not in persisted
    cmd = " ".join(args for keyword, args in instructions if keyword == "CMD")
    assert "gunicorn" in cmd and "config.wsgi:application" in cmd


def test_dockerignore_keeps_local_state_and_secrets_out():
    ignored = {
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", ".data", ".git", ".env", "test-artifacts"} <= ignored
