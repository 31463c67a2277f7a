"""The schema of config.toml: read, resolve `env:` values, validate, and explain mistakes."""

from __future__ import annotations

import os
import tomllib
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from channels.registry import CHANNELS
from durations import Duration
from networks import AddressList
from notifier.config import NotifierConfig
from observability.config import LoggingConfig, MetricsConfig
from redaction import MASK, mask_url
from triage.canned import CannedReply
from triage.config import (
    CategoryConfig,
    JurisdictionConfig,
    OpdConfig,
    TriageConfig,
    config_problems,
)
from triage.gazetteer import Gazetteer

ENV_PREFIX = "env:"


class ConfigError(Exception):
    """The config file cannot be used; `problems` holds one line per mistake."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__("\n".join(f"{path}: {problem}" for problem in problems))
        self.path = path
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # How often a process checks its singleton locks (pollers, scheduler) and a follower tries
    # to take them: a dead leader's work resumes elsewhere within about this time.
    leader_check: Duration = timedelta(seconds=2)
    # The reverse proxies (addresses or CIDRs) whose X-Forwarded-For/-Proto and Forwarded
    # headers say who the client is and whether it used HTTPS; nobody else's are believed.
    trusted_proxies: AddressList = []
    # How reporters reach Kanal: the start of the links to files sent on channels that take
    # none (X, SMS). Empty: http://host:port.
    public_url: str = Field(default="", pattern=r"^(https?://\S+)?$")
    # Signs those links; empty: a key made once and kept in the data directory.
    secret: SecretStr = SecretStr("")

    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


class DatabaseConfig(_Strict):
    url: str = "sqlite:///data/kanal.db"

    @field_validator("url")
    @classmethod
    def _known_backend(cls, url: str) -> str:
        if not (url.startswith("sqlite:///") or url.startswith("postgresql")):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        return url


class RetentionConfig(_Strict):
    """How long what is kept only for a while stays (store/retention.py); tickets, messages
    and the audit trail are kept for good."""

    raw_events: Duration = timedelta(days=90)  # payloads of deliveries stored without error
    notifications: Duration = timedelta(days=180)  # digests and alerts sent or given up
    job_runs: Duration = timedelta(days=30)
    escalation_alerts: Duration = timedelta(days=180)  # which escalations were alerted
    interval: Duration = timedelta(hours=1)
    batch: int = Field(default=500, ge=1, le=10_000)  # rows per short write transaction


class RegionConfig(_Strict):
    """The kabupaten/kota Kanal serves, chosen in the national gazetteer by its Kemendagri
    `code` ("33.18") or its exact `name` ("Kabupaten Pati"); with a code the name follows."""

    code: str | None = None
    name: str = "Kabupaten Pati"
    timezone: str = "Asia/Jakarta"
    ticket_prefix: str = Field(default="LBP", pattern=r"^[A-Z][A-Z0-9]{0,9}$")

    @field_validator("code")
    @classmethod
    def _known_code(cls, code: str | None) -> str | None:
        return None if code is None else Gazetteer.national().region(code=code).code

    @field_validator("name")
    @classmethod
    def _known_name(cls, name: str, info: ValidationInfo) -> str:
        # A wrong code is not in info.data: its own message is enough.
        return Gazetteer.national().region(code=info.data.get("code"), name=name).name

    @model_validator(mode="after")
    def _name_of_code(self) -> RegionConfig:
        # A code alone names the region; the name, when given, was checked against it.
        if self.code is not None and "name" not in self.model_fields_set:
            self.name = Gazetteer.national().region(code=self.code).name
        elif self.code is None:
            self.code = Gazetteer.national().region(name=self.name).code
        return self

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {zone!r}") from exc
        return zone

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# One `[channels.NAME]` table per registered channel, each validated by the channel's own model.
ChannelsConfig = create_model(
    "ChannelsConfig",
    __base__=_Strict,
    **{name: (spec.config, spec.config()) for name, spec in CHANNELS.items()},
)


class Settings(_Strict):
    data_dir: Path = Path("./data")
    server: ServerConfig = ServerConfig()
    database: DatabaseConfig = DatabaseConfig()
    retention: RetentionConfig = RetentionConfig()
    region: RegionConfig = Field(default_factory=RegionConfig)
    channels: ChannelsConfig = ChannelsConfig()
    triage: TriageConfig = TriageConfig()
    opd: list[OpdConfig] = []
    category: list[CategoryConfig] = []
    canned_reply: list[CannedReply] = []
    jurisdiction: JurisdictionConfig = JurisdictionConfig()
    notifier: NotifierConfig = NotifierConfig()
    metrics: MetricsConfig = MetricsConfig()
    logging: LoggingConfig = LoggingConfig()

    @model_validator(mode="after")
    def _tables_agree(self) -> Settings:
        # One "key: message" line per problem; parse_settings splits them back into lines.
        problems = config_problems(self.opd, self.category)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def database_url(self, base: Path) -> str:
        """The database URL with a relative SQLite path read from the config file's folder."""
        url = self.database.url
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            return "sqlite:///" + str((base / url.removeprefix("sqlite:///")).resolve())
        return url

    def data_path(self, base: Path) -> Path:
        return self.data_dir if self.data_dir.is_absolute() else (base / self.data_dir).resolve()


def _resolve_env(value: Any, key: str, problems: list[str]) -> Any:
    """Replace every `"env:NAME"` string with the environment variable NAME."""
    if isinstance(value, dict):
        return {k: _resolve_env(v, f"{key}.{k}" if key else k, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_env(v, f"{key}[{i}]", problems) for i, v in enumerate(value)]
    if isinstance(value, str) and value.startswith(ENV_PREFIX):
        name = value.removeprefix(ENV_PREFIX)
        if name not in os.environ:
            problems.append(f"{key}: environment variable {name} is not set")
            return ""
        return os.environ[name]
    return value


def _key_of(location: tuple[int | str, ...]) -> str:
    key = ""
    for part in location:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key


def _needed(problem: str, document: dict[str, Any]) -> bool:
    """A secret missing from the environment matters only if its channel is enabled."""
    parts = problem.split(":", 1)[0].split(".")
    if len(parts) >= 3 and parts[0] == "channels":
        table = document.get("channels", {}).get(parts[1], {})
        return bool(isinstance(table, dict) and table.get("enabled"))
    return True


def _without_unusable_channels(document: dict[str, Any]) -> dict[str, Any]:
    """The document with every enabled channel that lacks a secret (or another value it needs
    when enabled) switched off: a command that starts no channel must not need their secrets.
    The tables' shape (unknown keys, types) is still checked."""
    tables = document.get("channels")
    if not isinstance(tables, dict):
        return document
    kept = dict(tables)
    for name, table in tables.items():
        if not (isinstance(table, dict) and table.get("enabled") and name in CHANNELS):
            continue
        env_problems: list[str] = []
        resolved = _resolve_env(table, f"channels.{name}", env_problems)
        try:
            CHANNELS[name].config.model_validate(resolved)
        except ValidationError:
            env_problems.append("invalid")
        if env_problems:
            kept[name] = {**table, "enabled": False}
    return {**document, "channels": kept}


def parse_settings(
    document: dict[str, Any], path: Path, *, start_channels: bool = True
) -> Settings:
    """Validate a config document. With `start_channels=False` (every command but `serve` and
    `check-config`), a channel missing its secrets counts as off instead of an error."""
    if not start_channels:
        document = _without_unusable_channels(document)
    env_problems: list[str] = []
    resolved = _resolve_env(document, "", env_problems)
    problems = [problem for problem in env_problems if _needed(problem, document)]
    try:
        settings = Settings.model_validate(resolved)
    except ValidationError as exc:
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown key"
            if not error["loc"]:  # a whole-file check whose lines already name their keys
                problems.extend(message.splitlines())
                continue
            problems.append(f"{_key_of(error['loc'])}: {message}")
        settings = None
    if problems or settings is None:
        raise ConfigError(path, problems)
    return settings


def load_settings(path: Path, *, start_channels: bool = True) -> Settings:
    """Read and validate config.toml, raising ConfigError with every mistake found (see
    parse_settings for `start_channels`)."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(path, ["file not found"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [f"not valid TOML: {exc}"]) from exc
    return parse_settings(document, path, start_channels=start_channels)


def masked_dump(settings: Settings) -> dict[str, Any]:
    """The effective config as plain data with every secret shown as ********, passwords in
    URLs (the database's above all) included."""

    def walk(value: Any) -> Any:
        if isinstance(value, SecretStr):
            return MASK if value.get_secret_value() else ""
        if isinstance(value, str):
            return mask_url(value)
        if isinstance(value, BaseModel):
            return {name: walk(getattr(value, name)) for name in type(value).model_fields}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, timedelta):
            return f"{value.total_seconds():g}s"
        if isinstance(value, date | time):
            return value.isoformat()
        return value

    return walk(settings)
