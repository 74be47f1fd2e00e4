"""Admin service settings, from the environment (PUPILGUARD_*) or the CLI, with safe defaults for one school.

The database is a SQLite file in the data dir unless DATABASE_URL (or PUPILGUARD_DATABASE_URL) names another,
e.g. postgresql+psycopg://pupilguard@db/pupilguard for a trust.
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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PUPILGUARD_", extra="ignore")

    data_dir: Path = Path("pupilguard-data")
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("PUPILGUARD_DATABASE_URL", "DATABASE_URL", "database_url")
    )
    # A file holding the URL (a container secret), read when database_url is not given.
    database_url_file: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("PUPILGUARD_DATABASE_URL_FILE", "DATABASE_URL_FILE", "database_url_file"),
    )
    # The roster HMAC key's file when PUPILGUARD_ROSTER_KEY is not set (detectors.RosterKey.resolve).
    roster_key_file: Path | None = None
    secret_key_file: Path | None = None
    secret_key: str = Field(default="", repr=False, min_length=0)

    # Seeds for centrally managed config on first start (afterwards the database copy is authoritative).
    allowlist_file: Path = REPO_ALLOWLIST
    policy_file: Path | None = None

    retention_days: int = Field(default=365, ge=1, le=36500)
    # A change that weakens protection (admin_api/protection.py) made by one DPO waits for another DPO's approval.
    second_approver: bool = False
    # /metrics and the detail of /healthz: for loopback clients, or with "Authorization: Bearer <metrics_token>".
    metrics_token: str | None = Field(default=None, repr=False, min_length=16)
    # Reverse proxies (addresses or networks) whose X-Forwarded-For names the client, e.g. ["127.0.0.1"] behind a
    # local nginx; from any other peer the header is ignored (it would let anyone pick their own address).
    trusted_proxies: list[IPvAnyNetwork] = Field(default_factory=list)
    purge_interval_seconds: float = Field(default=3600.0, gt=0)
    migrate_on_start: bool = True

    # Web sessions (admin_api.web_session reads these).
    cookie_secure: bool = True
    session_max_age: int = 8 * 3600
    oidc_provider: Literal["entra", "google"] | None = None
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = Field(default=None, repr=False)
    oidc_allowed_domain: str | None = None

    # Alerts (admin_api.alerts). The DSL's and DPO's contacts seed the service on first start; afterwards they
    # are managed with `pupilguard admin contacts` or the Alerts page, and each confirms a test message.
    public_url: str = "http://127.0.0.1:8700"  # the admin service as staff reach it, for links in e-mails
    dsl_name: str | None = None
    dsl_email: str | None = None
    dpo_name: str | None = None
    dpo_email: str | None = None
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_username: str | None = None
    smtp_password: SecretStr | None = Field(default=None, repr=False)
    smtp_from: str = "pupilguard@localhost"
    smtp_ca_file: Path | None = None  # a private CA for the mail server's certificate (default: the system's)
    alert_webhook_url: str | None = None  # Teams / Slack incoming webhook
    alert_syslog: str | None = None  # "host:514": CEF over UDP to the trust's SIEM
    alert_interval_seconds: float = Field(default=30.0, ge=0)  # 0: no background delivery (tests drive it)
    alert_timeout_seconds: float = Field(default=10.0, gt=0)

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
