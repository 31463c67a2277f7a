"""The files in deploy/ agree with the code and config.toml: the systemd unit runs a command
main.py takes, nginx reaches the port and host config.toml names and passes every registered
channel's webhook with the forwarding headers Kanal reads, and the PostgreSQL script makes a
database `db upgrade` can fill."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import subprocess
import tomllib
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import psycopg
import pytest

import main
from channels.registry import CHANNELS
from channels.spec import ChannelContext
from conftest import PG_ADMIN_URL
from store import migrate
from store.db import Database

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
UNIT = DEPLOY / "systemd" / "kanal@.service"
SITE = DEPLOY / "nginx" / "kanal.conf"
SETUP = DEPLOY / "postgresql" / "setup.sh"
CONFIG_TOML = REPO / "config.toml"
# Config keys that turn on a channel's webhook, with values its model accepts.
WEBHOOK_ON = {"app_secret": "a" * 32, "verify_token": "v" * 16, "secret_token": "s" * 16}


def config() -> dict:
    return tomllib.loads(CONFIG_TOML.read_text(encoding="utf-8"))


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are cased
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def nginx_blocks(text: str) -> dict[str, str]:
    """Each `upstream`/`location` block's body by its header, comments removed."""
    bare = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    blocks = {}
    for match in re.finditer(r"^\s*((?:upstream|location)[^{]*)\{([^{}]*)\}", bare, re.M):
        blocks[" ".join(match.group(1).split())] = match.group(2)
    return blocks


def directives(body: str, name: str) -> list[str]:
    return [" ".join(m.split()) for m in re.findall(rf"^\s*{name}\s+([^;]+);", body, re.M)]


async def webhook_paths() -> dict[str, set[str]]:
    """Every registered channel's webhook routes, each channel built with its webhook on."""
    found: dict[str, set[str]] = {}
    async with aiohttp.ClientSession() as http:
        for name, spec in CHANNELS.items():
            fields = spec.config.model_fields
            values = {k: v for k, v in WEBHOOK_ON.items() if k in fields}
            if "mode" in fields:
                values["mode"] = "webhook"
            context = ChannelContext(
                spec.config.model_validate(values), REPO, http, lambda: datetime.now(UTC)
            )
            found[name] = {route.path for route in spec.build(context).routes()}
    return found


def test_the_unit_runs_serve_as_main_py_parses_it() -> None:
    service = unit()["Service"]
    command = shlex.split(service["ExecStart"])
    assert command[:2] == ["/srv/kanal/.venv/bin/python", "main.py"]
    assert (REPO / command[1]).is_file()
    assert service["WorkingDirectory"] == "/srv/kanal"
    args = main._parser().parse_args([a.replace("%i", "8081") for a in command[2:]])
    assert (args.command, args.port, args.config) == ("serve", 8081, Path("/etc/kanal/config.toml"))
    assert service["Restart"] == "always"
    assert "kanal.env" in service["EnvironmentFile"]
    # The data folder: the only writable path, and where README tells data_dir to point.
    assert service["StateDirectory"] == "kanal" and service["ReadWritePaths"] == "/var/lib/kanal"
    assert service["ProtectSystem"] == "strict"
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert 'data_dir = "/var/lib/kanal"' in readme
    assert isinstance(config()["data_dir"], str)  # the key the README names exists


def test_no_timer_units_the_scheduler_runs_inside() -> None:
    assert not list(DEPLOY.rglob("*.timer"))
    assert [p.name for p in DEPLOY.rglob("*.service")] == ["kanal@.service"]


def test_nginx_reaches_the_host_and_port_of_config_toml() -> None:
    server = config()["server"]
    blocks = nginx_blocks(SITE.read_text(encoding="utf-8"))
    upstream = blocks["upstream kanal"]
    assert directives(upstream, "server") == [f"{server['host']}:{server['port']}"]
    # The proxy reaches Kanal from that loopback address: config.toml's note names it.
    note = re.search(r"^# trusted_proxies = (\[.*\])$", CONFIG_TOML.read_text(), re.M)
    assert note is not None
    assert server["host"] in tomllib.loads(f"v = {note.group(1)}")["v"]


def test_nginx_terminates_tls_and_sets_the_headers_kanal_reads() -> None:
    text = SITE.read_text(encoding="utf-8")
    assert re.search(r"^\s*listen 443 ssl", text, re.M)
    assert re.search(r"^\s*ssl_certificate\s+\S+;", text, re.M)
    assert re.search(r"return 301 https://\$host\$request_uri;", text)
    headers = dict(d.split(" ", 1) for d in directives(text, "proxy_set_header"))
    assert headers["X-Forwarded-Proto"] == "$scheme"
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert headers["Forwarded"] == '""'
    assert headers["X-Request-ID"] == "$request_id"
    blocks = nginx_blocks(text)
    assert "return 404" in blocks["location = /metrics"]  # not on the public name


async def test_nginx_passes_every_registered_webhook_to_kanal() -> None:
    paths = await webhook_paths()
    for name, spec in CHANNELS.items():
        assert bool(paths[name]) == spec.webhooks, name  # the build above turned them on
    blocks = nginx_blocks(SITE.read_text(encoding="utf-8"))
    proxied = {
        header.removeprefix("location ").strip()
        for header, body in blocks.items()
        if header.startswith("location ") and "proxy_pass http://kanal" in body
    }
    prefixes = {p for p in proxied if not p.startswith(("=", "~")) and p != "/"}
    for name, routes in paths.items():
        for path in routes:
            assert any(path.startswith(prefix) for prefix in prefixes), (name, path, prefixes)


def test_the_env_example_names_only_variables_config_toml_reads() -> None:
    text = CONFIG_TOML.read_text(encoding="utf-8")
    read = set(re.findall(r'"env:([A-Z0-9_]+)"', text))
    example = (DEPLOY / "kanal.env.example").read_text(encoding="utf-8")
    given = set(re.findall(r"^([A-Z0-9_]+)=", example, re.M))
    assert given and given <= read, given - read


@pytest.mark.skipif(not os.path.exists("/usr/bin/psql"), reason="psql is not installed")
def test_the_postgresql_script_makes_a_database_the_migrations_fill(tmp_path: Path) -> None:
    name = f"kanal_deploy_{uuid.uuid4().hex[:8]}"
    admin = PG_ADMIN_URL.split("://", 1)[1]
    user, rest = admin.split("@", 1)
    host, port = rest.split("/", 1)[0].partition(":")[::2]
    env = os.environ | {
        "PSQL": f"psql -h {host} -p {port or 5432} -U {user}",
        "KANAL_DB_HOST": host,
    }
    try:
        done = subprocess.run(
            ["sh", str(SETUP), name, name], env=env, capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0 and "could not connect" in done.stderr:
            if os.environ.get("CI"):
                pytest.fail(done.stderr)
            pytest.skip(f"PostgreSQL not reachable: {done.stderr.strip()}")
        assert done.returncode == 0, done.stderr
        [line] = done.stdout.splitlines()
        url = line.removeprefix("KANAL_DATABASE_URL=")
        assert url.startswith(f"postgresql+psycopg://{name}:") and url.endswith(f"/{name}")
        migrate.upgrade(url)  # as the new role: it owns what it creates
        db = Database(url)
        assert db.ping()
        db.dispose()
        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            owner = conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'tickets'")
            assert owner.fetchone() == (name,)
        refused = subprocess.run(["sh", str(SETUP), "Kanal-Prod"], capture_output=True, text=True)
        assert refused.returncode == 2 and "lowercase" in refused.stderr
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{name}"')
