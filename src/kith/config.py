"""Settings, read from ``KITH_*`` environment variables (and an optional TOML file).

There is no module-level instance: whoever starts Kith builds a :class:`Settings` and hands
it to :func:`kith.app.build_app`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_SECRET_KEY = "change-me-kith-default-secret"  # noqa: S105 - the sentinel we refuse


class SettingsError(Exception):
    """The settings cannot be used to start Kith; the message says which and why."""


class Settings(BaseSettings):
    """Every setting Kith reads. Each one is documented in ``docs/configuration.md``."""

    model_config = SettingsConfigDict(env_prefix="KITH_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///kith.db",
        description="SQLAlchemy URL of the database: sqlite:///path or postgresql://...",
    )
    host: str = Field(default="127.0.0.1", description="Address `kith serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `kith serve` listens on.")
    secret_key: str = Field(
        default=DEFAULT_SECRET_KEY,
        description="Secret for signing; must be changed outside demo mode.",
    )
    demo: bool = Field(default=False, description="Demo mode: allows the default secret key.")
    hub_backend: Literal["memory", "redis"] = Field(
        default="memory",
        description="How processes tell each other of new events: memory (one process) or redis.",
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0", description="Redis server for hub_backend=redis."
    )
    stream_queue_size: int = Field(
        default=1000,
        ge=10,
        le=100_000,
        description="Events a stream may hold before it is closed as lagging.",
    )
    stream_poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="How often each process looks at the event log for missed news."
    )
    stream_heartbeat_seconds: float = Field(
        default=15.0, gt=0, le=300, description="Seconds between heartbeats on an idle stream."
    )
    stream_recheck_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="How often an open stream checks that its token is still valid.",
    )
    stream_compression: bool = Field(
        default=False,
        description="Offer permessage-deflate on WebSocket streams (less bandwidth, more CPU and memory).",
    )
    presence_flush_seconds: float = Field(
        default=1.0, gt=0, le=60, description="Presence changes are gathered and published this often."
    )
    presence_idle_seconds: int = Field(
        default=300, ge=10, le=86_400, description="Seconds without activity after which a person is idle."
    )
    presence_ttl_seconds: int = Field(
        default=90,
        ge=10,
        le=3600,
        description="A process that has not renewed its connections for this long is taken as gone.",
    )
    token_ttl_days: int = Field(default=30, ge=1, le=3650, description="Days a bearer token stays valid.")
    token_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description="How long a process trusts a bearer token it has checked (0: check on every request).",
    )
    login_max_failures: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins allowed per e-mail address within the login window.",
    )
    login_window_seconds: int = Field(
        default=900, ge=1, description="Window over which failed sign-ins are counted."
    )
    sqlite_busy_timeout_ms: int = Field(
        default=5000, ge=0, description="How long SQLite waits for a lock before failing."
    )
    db_pool_size: int = Field(
        default=10, ge=1, description="Connections kept open to PostgreSQL per process."
    )
    workers: int = Field(default=1, ge=1, le=64, description="Processes `kith serve` runs.")
    threads: int = Field(
        default=0,
        ge=0,
        le=1000,
        description="Threads per process for synchronous routes; 0: 4 on SQLite, 40 otherwise.",
    )
    org_domains: str = Field(
        default="",
        max_length=2000,
        description="The organisation's own e-mail domains, comma-separated; empty: those of the directory.",
    )
    import_max_bytes: int = Field(
        default=2 * 1024**3,
        ge=1024,
        description="Largest file `POST /api/v1/imports` accepts, in bytes.",
    )
    min_group_size: int = Field(
        default=5, ge=2, le=1000, description="Aggregates about fewer people than this are suppressed."
    )
    person_level_analysis: bool = Field(
        default=False,
        description="Whether analysts and admins may see person-level analysis results (always logged).",
    )
    analysis_window_days: int = Field(
        default=180, ge=1, le=3650, description="Days of interactions an analysis looks at by default."
    )
    analysis_half_life_days: float = Field(
        default=60.0, gt=0, le=3650, description="Half-life of a tie's strength, in days."
    )
    analysis_min_strength: float = Field(
        default=1.0, ge=0, le=1000, description="Ties weaker than this are left out of the network."
    )
    page_size_max: int = Field(default=200, ge=1, description="Largest page a list endpoint returns.")
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        max_length=500,
        description="The address people reach Kith at, for links in feeds and e-mail.",
    )
    scheduler: bool = Field(
        default=True, description="Whether each server process runs the periodic jobs (digests...)."
    )
    smtp_host: str = Field(default="", max_length=255, description="SMTP server for digests; empty: off.")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_username: str = Field(default="", max_length=255, description="SMTP user name; empty: no login.")
    smtp_password: str = Field(default="", max_length=1000, description="SMTP password.")
    smtp_from: str = Field(
        default="Kith <kith@localhost>", max_length=320, description="The From address of digests."
    )
    smtp_starttls: bool = Field(default=False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_ssl: bool = Field(default=False, description="Connect to the SMTP server over TLS (port 465).")
    smtp_timeout_seconds: float = Field(
        default=30.0, gt=0, le=600, description="How long to wait for the SMTP server."
    )
    routing_widen_minutes: int = Field(
        default=60,
        ge=1,
        le=10_080,
        description="Minutes a routed question waits unanswered before more people are told.",
    )
    routing_batch: int = Field(
        default=3, ge=1, le=50, description="People told of a routed question at each stage."
    )
    routing_max_stage: int = Field(
        default=3, ge=1, le=20, description="The last stage to which a routed question's circle widens."
    )
    scheduled_max_days: int = Field(
        default=30, ge=1, le=366, description="How far ahead a post may be scheduled, in days."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Server log level."
    )
    config_file: Path | None = Field(
        default=None, description="Optional TOML file read for settings not set in the environment."
    )

    @field_validator("database_url")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError("database_url must start with sqlite:/// or postgresql://")
        return value

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        scheme, _, rest = value.partition("://")
        if scheme not in ("http", "https") or not rest.strip("/"):
            raise ValueError("public_url must be an http:// or https:// address")
        return value.rstrip("/")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_path = os.environ.get("KITH_CONFIG_FILE")
        if toml_path:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    def check_for_serving(self) -> None:
        """Refuse settings that are unsafe for a real deployment."""
        if not self.demo and self.secret_key == DEFAULT_SECRET_KEY:
            raise SettingsError(
                "KITH_SECRET_KEY is still the default; set it to a long random value "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        if not self.demo and len(self.secret_key) < 16:
            raise SettingsError("KITH_SECRET_KEY must be at least 16 characters long")

    def redacted(self) -> dict[str, Any]:
        """The settings as a dict with secrets hidden, for logs and `kith config`."""
        values = self.model_dump()
        values["secret_key"] = "***"  # noqa: S105 - the mask
        if self.smtp_password:
            values["smtp_password"] = "***"  # noqa: S105 - the mask
        values["database_url"] = _hide_password(self.database_url)
        return values


def _hide_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url
