"""Shared fixtures for the admin service tests, run against SQLite and PostgreSQL alike.

- `database_url`: parametrised over a fresh SQLite file and a fresh PostgreSQL schema (tests marked `postgres`);
  the PostgreSQL schemas live in one throw-away database per test session, dropped at the end. The SQLite file
  (`sqlite_url`) is a copy of one migrated once per session.
- `make_settings(**overrides)`: Settings for a test app (tmp data dir, the database above, insecure cookies).
- `app` / `client`: the real app (migrations run, lifespan started) and a TestClient.
- `proxy_token`, `users` (HTTP Basic credentials per role: users["dpo"] -> (username, password)).
- `make_event(**fields)`: a valid detectors.events.Event as a JSON dict.
- `csrf_of(html)`, `login(client, username)`: the login form as a browser fills it in.
- `people` (an account per role, and a second DSL, all with PASSWORD) and `as_role(role)`: a TestClient signed
  in through the login form as that role's account (the module's `app` must have the account).
"""
from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from admin_api import accounts, proxies
from admin_api.models import ROLES

# The app itself (and with it the detectors and Presidio, seconds of imports) loads when a test first asks for it,
# not in every pytest process that loads this harness: a run of detectors or proxy tests, or pytest-xdist's
# coordinating process, never needs it.
if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from admin_api.settings import Settings

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/pupilguard_test"
PASSWORD = "correct horse battery staple"
_CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_CHEAP_DUMMY_HASH = _CHEAP_HASHER.hash("the dummy never matches a typed password")


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every HTTP Basic request verifies an argon2 hash; at production cost that is most of these tests' run time
    on a busy CI machine. The tests check who may do what, not the hash's strength (test_auth.py does).
    An unknown username is checked against the dummy hash, whose own (production) cost would otherwise apply."""
    monkeypatch.setattr(accounts, "_hasher", _CHEAP_HASHER)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", _CHEAP_DUMMY_HASH)


def _pg_admin_engine():  # type: ignore[no-untyped-def]
    url = make_url(PG_URL).set(database="postgres")
    return create_engine(url, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A uniquely named PostgreSQL database for this test session, dropped afterwards."""
    admin = _pg_admin_engine()
    name = f"pupilguard_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any connection failure means no server
        admin.dispose()
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 unavailable: {type(exc).__name__}")
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_schema_url(pg_database: str) -> Iterator[str]:
    """A fresh schema in the session's database; the URL sets it as the search path."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(pg_database).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to head once per session. Migrating took most of an admin test's set-up; a copy
    of this file is the same schema (the app still runs its migrations at start, and finds nothing to do)."""
    from admin_api.db import Database, migrate

    path = tmp_path_factory.mktemp("sqlite-template") / "admin.sqlite3"
    db = Database(f"sqlite:///{path}")
    migrate(db.engine)
    db.dispose()  # the last connection closing checkpoints the WAL into the file, so the file alone is complete
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh, migrated SQLite database of this test's own."""
    path = tmp_path / "admin.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_schema_url")


@pytest.fixture
def make_settings(tmp_path, database_url: str) -> Callable[..., Settings]:  # type: ignore[no-untyped-def]
    from admin_api.settings import Settings

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "database_url": database_url,
            "cookie_secure": False,
            "secret_key": "s" * 40,
            # fixed-date test events must not age out under the app's purge timer as the calendar moves on
            "retention_days": 36500,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def app(make_settings: Callable[..., Settings]):  # type: ignore[no-untyped-def]
    from admin_api.app import create_app

    return create_app(make_settings())


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


@pytest.fixture
def proxy_token(app) -> str:  # type: ignore[no-untyped-def]
    with app.state.db.session() as session:
        _, token = proxies.create_token(session, "site-main")
        session.commit()
    return token


@pytest.fixture
def users(app) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    """One account per role, for HTTP Basic: users["dpo"] == ("dpo-user", PASSWORD)."""
    out = {}
    with app.state.db.session() as session:
        for role in ROLES:
            accounts.create_user(session, f"{role}-user", PASSWORD, role)
            out[role] = (f"{role}-user", PASSWORD)
        session.commit()
    return out


@pytest.fixture
def make_event() -> Callable[..., dict[str, Any]]:
    def make(**fields: Any) -> dict[str, Any]:
        event: dict[str, Any] = {
            "event_id": str(uuid.uuid4()),
            "time": datetime.now(UTC).isoformat(),
            "proxy_id": "site-main",
            "client_addr": "10.0.0.5",
            "user": "t.jones",
            "profile": "staff",
            "department": "Science",
            "tool": "chatgpt",
            "host": "chatgpt.com",
            "path": "/backend-api/conversation",
            "action": "redact",
            "reasons": ["identifier_redacted"],
            "entities": {"PUPIL": 2, "UK_UPN": 1},
            "excerpt": "Write a report for [PUPIL_1] ([UPN_1]) about [PUPIL_2]",
            "pupil_refs": ["P-AAAA1111", "P-BBBB2222"],
            "analysis_ms": 12.5,
        }
        event.update(fields)
        return event

    return make


@pytest.fixture
def people(app) -> None:  # type: ignore[no-untyped-def]
    with app.state.db.session() as session:
        for role in ("dpo", "dsl", "it", "viewer"):
            accounts.create_user(session, role, PASSWORD, role)
        accounts.create_user(session, "dsl2", PASSWORD, "dsl")
        session.commit()


@pytest.fixture
def as_role(app) -> Iterator[Callable[[str], TestClient]]:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    clients = []

    def make(role: str) -> TestClient:
        client = TestClient(app)
        clients.append(client)
        assert login(client, role).status_code == 303
        return client

    yield make
    for client in clients:
        client.close()


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD, next_url: str = "/"):
    """Sign in through the login form, as a browser does (GET for the CSRF token, then POST)."""
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                       "next": next_url}, follow_redirects=False)
