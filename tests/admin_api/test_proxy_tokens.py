"""Proxy tokens: shown once, stored only as a hash, revocable; the CLI manages them."""
from __future__ import annotations

import argparse
import hashlib
import io
import sys

import pytest
from sqlalchemy import select

from admin_api import proxies
from admin_api.cli import register_admin
from admin_api.models import Proxy


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """An empty SQLite file, not the shared migrated copy: the CLI commands here must migrate it themselves."""
    return f"sqlite:///{tmp_path / 'admin.sqlite3'}"


def test_token_is_stored_only_as_a_hash(app):
    with app.state.db.session() as s:
        proxy, token = proxies.create_token(s, "site-a")
        s.commit()
        stored = s.scalar(select(Proxy).where(Proxy.name == "site-a"))
        assert token.startswith("pgp_") and len(token) > 40
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in repr(stored.__dict__)
        assert proxies.authenticate(s, token).name == "site-a"
        assert proxies.authenticate(s, token + "x") is None
        assert proxies.authenticate(s, "") is None


def test_names_are_validated_and_unique(app):
    with app.state.db.session() as s:
        proxies.create_token(s, "site-a")
        with pytest.raises(proxies.ProxyTokenError, match="already has an active token"):
            proxies.create_token(s, "site-a")
        for bad in ("", "has space", "x" * 129, "<script>", "../etc"):
            with pytest.raises(proxies.ProxyTokenError, match="invalid proxy name"):
                proxies.create_token(s, bad)
        with pytest.raises(proxies.ProxyTokenError, match="no proxy named"):
            proxies.revoke_token(s, "nope")


def test_revoke_then_reissue(app):
    with app.state.db.session() as s:
        _, old = proxies.create_token(s, "site-a")
        proxies.revoke_token(s, "site-a")
        assert proxies.authenticate(s, old) is None
        _, new = proxies.create_token(s, "site-a")  # a revoked name can be given a fresh token
        s.commit()
        assert proxies.authenticate(s, new).name == "site-a"
        assert proxies.authenticate(s, old) is None


def _cli(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="pupilguard")
    register_admin(parser.add_subparsers(dest="command", required=True))
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdout, sys.stderr, sys.stdin
    sys.stdout, sys.stderr, sys.stdin = out, err, io.StringIO(stdin)
    try:
        args = parser.parse_args(list(argv))
        code = int(args.handler(args) or 0)
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.stdout, sys.stderr, sys.stdin = old
    return code, out.getvalue(), err.getvalue()


def test_cli_manages_tokens_and_users(tmp_path, database_url, make_settings, monkeypatch):
    monkeypatch.setenv("PUPILGUARD_SECRET_KEY", "k" * 40)
    common = ("--data-dir", str(tmp_path / "data"), "--database-url", database_url)
    code, out, err = _cli("admin", "migrate", *common)
    assert code == 0 and "up to date" in out
    code, token, err = _cli("admin", "proxy-token", "create", "site-a", *common)
    assert code == 0 and token.strip().startswith("pgp_") and "shown only this once" in err
    code, _, err = _cli("admin", "proxy-token", "create", "site-a", *common)
    assert code == 1 and "already has an active token" in err and "Traceback" not in err
    code, out, _ = _cli("admin", "proxy-token", "list", *common)
    assert code == 0 and "site-a" in out and "active" in out and token.strip() not in out
    assert _cli("admin", "proxy-token", "revoke", "site-a", *common)[0] == 0
    assert "revoked" in _cli("admin", "proxy-token", "list", *common)[1]
    assert _cli("admin", "proxy-token", "revoke", "nope", *common)[0] == 1

    code, out, err = _cli("admin", "create-user", "jo.dpo", "--role", "dpo", "--password-stdin", *common,
                          stdin="a long enough passphrase\n")
    assert code == 0, err
    code, _, err = _cli("admin", "create-user", "jo.dpo", "--role", "dpo", "--password-stdin", *common,
                        stdin="a long enough passphrase\n")
    assert code == 1 and "already exists" in err

    from admin_api.db import Database
    from admin_api.models import AuditEntry, User

    db = Database(database_url)
    with db.session() as s:
        assert s.scalar(select(User.role).where(User.username == "jo.dpo")) == "dpo"
        actions = [a for (a,) in s.execute(select(AuditEntry.action).order_by(AuditEntry.id))]
        assert actions == ["proxy.token_create", "proxy.token_revoke", "user.create"]
    db.dispose()


def test_cli_bad_database_is_a_clear_error(tmp_path):
    code, _, err = _cli("admin", "migrate", "--data-dir", str(tmp_path), "--database-url", "mysql://x/y")
    assert code == 1 and "pupilguard admin:" in err and "Traceback" not in err


def test_cli_roster_import(tmp_path, database_url, monkeypatch):
    monkeypatch.setenv("PUPILGUARD_SECRET_KEY", "k" * 40)
    monkeypatch.delenv("PUPILGUARD_ROSTER_KEY", raising=False)
    common = ("--data-dir", str(tmp_path / "data"), "--database-url", database_url)
    export = tmp_path / "sims.csv"
    export.write_bytes(
        "Legal Surname,Legal Forename,Preferred Surname,Preferred Forename,DOB\r\n"
        "Kowalczyk,Zuzanna,Kowalczyk,Zuzia,02/03/2015\r\n"
        ",,,,\r\n".encode("utf-8")
    )
    code, out, err = _cli("admin", "roster", "import", str(export), *common)
    assert code == 0, err
    assert "imported 1 pupils" in out and "1 rows skipped" in out
    assert "Kowalczyk" not in out + err and "Zuzanna" not in out + err

    from admin_api import config_store
    from admin_api.db import Database
    from detectors.roster import RosterKey

    db = Database(database_url)
    with db.session() as s:
        upload = config_store.latest_roster(s)
        assert upload.uploaded_by == "cli" and upload.pupils == 1
        key = RosterKey.load_or_create(tmp_path / "data" / "roster.key")
        assert config_store.find_pupil_refs(s, key, "zuzanna kowalczyk")
    db.dispose()

    assert _cli("admin", "roster", "import", str(tmp_path / "missing.csv"), *common)[0] == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("Colour,Shape\r\nred,round\r\n")
    code, _, err = _cli("admin", "roster", "import", str(bad), *common)
    assert code == 1 and "Traceback" not in err
