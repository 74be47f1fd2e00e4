"""Admin service settings, from the CLI or the environment (PUPILGUARD_*), with safe defaults for one school.

One precedence for every setting, as for the proxy (both are detectors.service_settings models): flag >
environment > env file (--env-file) > default. The database is a SQLite file in the data dir unless DATABASE_URL
(or PUPILGUARD_DATABASE_URL) names another, e.g. postgresql+psycopg://pupilguard@db/pupilguard for a trust. The
`pupilguard admin` flags and the README's settings table are made from the declarations below.
"""
from __future__ import annotations

import base64
import os
import secrets
from functools import partial
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, IPvAnyNetwork, SecretStr, model_validator

from detectors import service_settings
from detectors.service_settings import ServiceSettings

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


# An admin setting is a flag only where a command takes it (admin_api/cli.py); the rest are set in the environment
# or the env file.
setting = partial(service_settings.setting, flag=None)


class Settings(ServiceSettings):
    """Everything the admin service can be told; the `pupilguard admin` flags and the README's settings table are
    made from these declarations."""

    listen: str = setting("127.0.0.1:8700", "address `pupilguard admin serve` listens on", flag="--listen",
                          metavar="ADDR:PORT", env="PUPILGUARD_ADMIN_LISTEN")
    data_dir: Path = setting(Path("pupilguard-data"), "the admin service's state: its SQLite database, "
                             "cookie-signing secret and roster key unless given elsewhere", flag="--data-dir",
                             metavar="DIR")
    # not PUPILGUARD_ENV_FILE: that one is the proxy's, and the two services read different files
    env_file: Path | None = setting(None, "read settings from this file of NAME=VALUE lines (PUPILGUARD_…); the "
                                    "environment and flags override it", flag="--env-file", metavar="FILE",
                                    env="PUPILGUARD_ADMIN_ENV_FILE")
    database_url: str | None = setting(
        None, "SQLAlchemy URL of the event store, e.g. postgresql+psycopg://pupilguard@db/pupilguard",
        flag="--database-url", metavar="URL", shown_default="SQLite in the data dir",
        env=AliasChoices("PUPILGUARD_DATABASE_URL", "DATABASE_URL", "database_url"))
    database_url_file: Path | None = setting(
        None, "a file holding the database URL (a container secret), read when no URL is given",
        env=AliasChoices("PUPILGUARD_DATABASE_URL_FILE", "DATABASE_URL_FILE", "database_url_file"))
    roster_key: SecretStr | None = setting(None, "the roster key itself, hex or base64 (else the key file)",
                                           secret=True)
    roster_key_file: Path | None = setting(None, "the roster HMAC key's file, shared with the proxies (created if "
                                           "missing)", shown_default="DATA_DIR/roster.key")
    secret_key_file: Path | None = setting(None, "file holding the cookie-signing secret (created if missing)",
                                           shown_default="DATA_DIR/secret_key")
    secret_key: str = setting("", "the cookie-signing secret itself, at least 32 characters (else the file)",
                              secret=True)

    # Seeds for centrally managed config on first start (afterwards the database copy is authoritative).
    allowlist_file: Path = setting(REPO_ALLOWLIST, "allowlist the central copy starts from (first start only)",
                                   shown_default="the repository's allowlist.yaml")
    policy_file: Path | None = setting(None, "detection policy the central copy starts from (first start only)",
                                       shown_default="the built-in policy")

    retention_days: int = setting(365, "events older than this are deleted", ge=1, le=36500)
    second_approver: bool = setting(False, "a change that weakens protection made by one DPO waits for another "
                                    "DPO's approval")
    metrics_token: str | None = setting(None, "bearer token for /metrics and the detail of /healthz from other "
                                        "than loopback clients", secret=True, min_length=16)
    trusted_proxies: list[IPvAnyNetwork] = setting(
        default_factory=list, help="reverse proxies (addresses or networks, a JSON list) whose X-Forwarded-For "
        "names the client, e.g. [\"127.0.0.1\"] behind a local nginx; from any other peer the header is ignored")
    purge_interval_seconds: float = setting(3600.0, "how often old events are purged", gt=0)
    migrate_on_start: bool = setting(True, "bring the database schema up to date on start")

    # Web sessions (admin_api.web_session reads these).
    cookie_secure: bool = setting(True, "session cookies only over https (behind nginx's TLS)")
    session_max_age: int = setting(8 * 3600, "seconds a sign-in lasts")
    oidc_provider: Literal["entra", "google"] | None = setting(None, "sign in with Entra ID or Google Workspace: "
                                                               "entra or google")
    oidc_issuer: str | None = setting(None, "the identity provider's issuer URL")
    oidc_client_id: str | None = setting(None, "the app registration's client ID")
    oidc_client_secret: str | None = setting(None, "the app registration's secret", secret=True)
    oidc_allowed_domain: str | None = setting(None, "only accounts of this domain may sign in")

    # Alerts (admin_api.alerts). The DSL's and DPO's contacts seed the service on first start; afterwards they
    # are managed with `pupilguard admin contacts` or the Alerts page, and each confirms a test message.
    public_url: str = setting("http://127.0.0.1:8700", "the admin service as staff reach it, for links in e-mails")
    dsl_name: str | None = setting(None, "the DSL's name (first start)")
    dsl_email: str | None = setting(None, "the DSL's e-mail address (first start)")
    dpo_name: str | None = setting(None, "the DPO's name (first start)")
    dpo_email: str | None = setting(None, "the DPO's e-mail address (first start)")
    smtp_host: str | None = setting(None, "mail server for alerts; without it they wait in the outbox")
    smtp_port: int = setting(587, "mail server port", ge=1, le=65535)
    smtp_starttls: bool = setting(True, "STARTTLS to the mail server")
    smtp_username: str | None = setting(None, "mail server login")
    smtp_password: SecretStr | None = setting(None, "mail server password", secret=True)
    smtp_from: str = setting("pupilguard@localhost", "the alerts' From address")
    smtp_ca_file: Path | None = setting(None, "a private CA for the mail server's certificate",
                                        shown_default="the system's CAs")
    alert_webhook_url: str | None = setting(None, "Teams / Slack incoming webhook for alerts")
    alert_syslog: str | None = setting(None, "host:514: alerts as CEF over UDP to the trust's SIEM")
    alert_interval_seconds: float = setting(30.0, "how often the outbox is delivered (0: not in the background)",
                                            ge=0)
    alert_timeout_seconds: float = setting(10.0, "time allowed per alert delivery", gt=0)

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        # worked out once, as the settings are read; frozen afterwards like every other setting
        derived: dict[str, Any] = {}
        database_url = self.database_url
        if database_url is None and self.database_url_file is not None:
            database_url = self.database_url_file.read_text(encoding="utf-8").strip()
        if database_url is None:
            database_url = f"sqlite:///{(self.data_dir / 'admin.sqlite3').resolve()}"
        derived["database_url"] = database_url
        derived["roster_key_file"] = self.roster_key_file or self.data_dir / "roster.key"
        derived["secret_key_file"] = self.secret_key_file or self.data_dir / "secret_key"
        if not self.secret_key:
            derived["secret_key"] = _read_or_create_secret(derived["secret_key_file"])
        elif len(self.secret_key) < 32:
            raise ValueError("PUPILGUARD_SECRET_KEY must be at least 32 characters")
        for name, value in derived.items():
            object.__setattr__(self, name, value)  # a frozen model's own validator may still fill it in
        return self
