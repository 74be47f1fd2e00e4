"""Admin service settings, from the CLI or the environment (PUPILGUARD_*), with safe defaults for one school.

One precedence for every setting: flag > environment > default. The database is a SQLite file in the data dir
unless DATABASE_URL (or PUPILGUARD_DATABASE_URL) names another, e.g. postgresql+psycopg://pupilguard@db/pupilguard
for a trust. The README's settings table is made from the declarations below.
"""
from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, IPvAnyNetwork, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ALLOWLIST = Path(__file__).resolve().parent.parent / "allowlist.yaml"


def _read_or_create_secret(path: Path) -> str:
    """The cookie-signing secret lives in a 0600 file so sessions survive restarts without being in the config."""
    if path.exists():
        value = path.read_text(encoding="ascii").strip()
        if len(value) >= 32:
            return value
        raise ValueError(f"secret key file {path} holds fewer than 32 characters")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(value + "\n")
    return value


def secret_value(value: Any) -> str | None:
    """A secret setting as text, whether given as SecretStr, bytes or str (None when unset)."""
    if value is None:
        return None
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    if isinstance(value, bytes):
        value = base64.urlsafe_b64encode(value).decode()
    return str(value)


def _flag(flag: str) -> dict[str, Any]:
    """A setting that `pupilguard admin` commands also take as a flag (flag > environment > default)."""
    return {"json_schema_extra": {"flag": flag}}


def _shown(default: str) -> dict[str, Any]:
    """How the README shows a default that is worked out at start-up."""
    return {"json_schema_extra": {"shown_default": default}}


class Settings(BaseSettings):
    """Everything the admin service can be told; the README's settings table is made from these declarations."""

    model_config = SettingsConfigDict(env_prefix="PUPILGUARD_", extra="ignore")

    listen: str = Field(default="127.0.0.1:8700", validation_alias="PUPILGUARD_ADMIN_LISTEN",
                        description="address `pupilguard admin serve` listens on", **_flag("--listen"))
    data_dir: Path = Field(default=Path("pupilguard-data"), description="the admin service's state: its SQLite "
                           "database, cookie-signing secret and roster key unless given elsewhere",
                           **_flag("--data-dir"))
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("PUPILGUARD_DATABASE_URL", "DATABASE_URL", "database_url"),
        description="SQLAlchemy URL of the event store, e.g. postgresql+psycopg://pupilguard@db/pupilguard",
        json_schema_extra={"flag": "--database-url", "shown_default": "SQLite in the data dir"},
    )
    database_url_file: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("PUPILGUARD_DATABASE_URL_FILE", "DATABASE_URL_FILE", "database_url_file"),
        description="a file holding the database URL (a container secret), read when no URL is given",
    )
    roster_key: SecretStr | None = Field(default=None, repr=False,
                                         description="the roster key itself, hex or base64 (else the key file)")
    roster_key_file: Path | None = Field(
        default=None, description="the roster HMAC key's file, shared with the proxies (created if missing)",
        **_shown("DATA_DIR/roster.key"))
    secret_key_file: Path | None = Field(default=None, description="file holding the cookie-signing secret "
                                         "(created if missing)", **_shown("DATA_DIR/secret_key"))
    secret_key: str = Field(default="", repr=False, min_length=0,
                            description="the cookie-signing secret itself, at least 32 characters (else the file)")

    # Seeds for centrally managed config on first start (afterwards the database copy is authoritative).
    allowlist_file: Path = Field(default=REPO_ALLOWLIST, description="allowlist the central copy starts from "
                                 "(first start only)", **_shown("the repository's allowlist.yaml"))
    policy_file: Path | None = Field(default=None, description="detection policy the central copy starts from "
                                     "(first start only)", **_shown("the built-in policy"))

    retention_days: int = Field(default=365, ge=1, le=36500, description="events older than this are deleted")
    second_approver: bool = Field(default=False, description="a change that weakens protection made by one DPO "
                                  "waits for another DPO's approval")
    metrics_token: str | None = Field(default=None, repr=False, min_length=16,
                                      description="bearer token for /metrics and the detail of /healthz from other "
                                                  "than loopback clients")
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=list, description="reverse proxies (addresses or networks, a JSON list) whose "
        "X-Forwarded-For names the client, e.g. [\"127.0.0.1\"] behind a local nginx; from any other peer the "
        "header is ignored")
    purge_interval_seconds: float = Field(default=3600.0, gt=0, description="how often old events are purged")
    migrate_on_start: bool = Field(default=True, description="bring the database schema up to date on start")

    # Web sessions (admin_api.web_session reads these).
    cookie_secure: bool = Field(default=True, description="session cookies only over https (behind nginx's TLS)")
    session_max_age: int = Field(default=8 * 3600, description="seconds a sign-in lasts")
    oidc_provider: Literal["entra", "google"] | None = Field(default=None, description="sign in with Entra ID "
                                                             "or Google Workspace: entra or google")
    oidc_issuer: str | None = Field(default=None, description="the identity provider's issuer URL")
    oidc_client_id: str | None = Field(default=None, description="the app registration's client ID")
    oidc_client_secret: str | None = Field(default=None, repr=False, description="the app registration's secret")
    oidc_allowed_domain: str | None = Field(default=None, description="only accounts of this domain may sign in")

    # Alerts (admin_api.alerts). The DSL's and DPO's contacts seed the service on first start; afterwards they
    # are managed with `pupilguard admin contacts` or the Alerts page, and each confirms a test message.
    public_url: str = Field(default="http://127.0.0.1:8700",
                            description="the admin service as staff reach it, for links in e-mails")
    dsl_name: str | None = Field(default=None, description="the DSL's name (first start)")
    dsl_email: str | None = Field(default=None, description="the DSL's e-mail address (first start)")
    dpo_name: str | None = Field(default=None, description="the DPO's name (first start)")
    dpo_email: str | None = Field(default=None, description="the DPO's e-mail address (first start)")
    smtp_host: str | None = Field(default=None, description="mail server for alerts; without it they wait in "
                                  "the outbox")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="mail server port")
    smtp_starttls: bool = Field(default=True, description="STARTTLS to the mail server")
    smtp_username: str | None = Field(default=None, description="mail server login")
    smtp_password: SecretStr | None = Field(default=None, repr=False, description="mail server password")
    smtp_from: str = Field(default="pupilguard@localhost", description="the alerts' From address")
    smtp_ca_file: Path | None = Field(default=None, description="a private CA for the mail server's certificate",
                                      **_shown("the system's CAs"))
    alert_webhook_url: str | None = Field(default=None, description="Teams / Slack incoming webhook for alerts")
    alert_syslog: str | None = Field(default=None, description="host:514: alerts as CEF over UDP to the trust's "
                                                               "SIEM")
    alert_interval_seconds: float = Field(default=30.0, ge=0, description="how often the outbox is delivered "
                                          "(0: not in the background)")
    alert_timeout_seconds: float = Field(default=10.0, gt=0, description="time allowed per alert delivery")

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        if self.database_url is None and self.database_url_file is not None:
            self.database_url = self.database_url_file.read_text(encoding="utf-8").strip()
        if self.database_url is None:
            self.database_url = f"sqlite:///{(self.data_dir / 'admin.sqlite3').resolve()}"
        if self.roster_key_file is None:
            self.roster_key_file = self.data_dir / "roster.key"
        if self.secret_key_file is None:
            self.secret_key_file = self.data_dir / "secret_key"
        if not self.secret_key:
            self.secret_key = _read_or_create_secret(self.secret_key_file)
        elif len(self.secret_key) < 32:
            raise ValueError("PUPILGUARD_SECRET_KEY must be at least 32 characters")
        return self
