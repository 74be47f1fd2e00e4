"""GET /api/v1/config and /api/v1/config/roster: what proxies poll, with ETags; changes are validated and audited."""
from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import select

from admin_api import config_store
from admin_api.db import alembic_config
from admin_api.models import AuditEntry
from admin_api.settings import REPO_ALLOWLIST
from detectors.allowlist import AllowlistError
from detectors.mis_import import MisImportError
from detectors.roster import Roster

ROSTER_CSV = (
    "Legal Surname,Legal Forename,Preferred Surname,Preferred Forename,DOB\r\n"
    "Okonkwo-Blake,Chidinma,Okonkwo-Blake,Chi,05/06/2014\r\n"
    "Ferreira,Joaquim,Ferreira,Joaquim,11/12/2013\r\n"
).encode("utf-8")


def _auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def test_config_is_seeded_and_cached_with_etag(client, proxy_token):
    r = client.get("/api/v1/config", headers=_auth(proxy_token))
    assert r.status_code == 200
    body = r.json()
    assert body == {"allowlist": REPO_ALLOWLIST.read_text(encoding="utf-8"), "policy": None, "roster_etag": None,
                    "ai_domains": None}
    etag = r.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = client.get("/api/v1/config", headers=_auth(proxy_token, **{"If-None-Match": etag}))
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get("/api/v1/config", headers=_auth(proxy_token, **{"If-None-Match": '"other"'})).status_code == 200


def test_changes_change_the_etag(app, client, proxy_token):
    etag = client.get("/api/v1/config", headers=_auth(proxy_token)).headers["etag"]
    new_allowlist = REPO_ALLOWLIST.read_text(encoding="utf-8") + "\n# edited by IT\n"
    with app.state.db.session() as s:
        config_store.set_allowlist(s, new_allowlist, "it-user")
        s.commit()
    r = client.get("/api/v1/config", headers=_auth(proxy_token, **{"If-None-Match": etag}))
    assert r.status_code == 200 and r.json()["allowlist"] == new_allowlist
    assert r.headers["etag"] != etag
    with app.state.db.session() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "allowlist.update"))
        assert entry.username == "it-user"


def test_invalid_allowlist_and_policy_are_refused(app):
    with app.state.db.session() as s:
        before = config_store.get_setting(s, config_store.ALLOWLIST)
        with pytest.raises(AllowlistError):
            config_store.set_allowlist(s, "version: 1\nprofiles: {}\n", "it-user")
        with pytest.raises(ValueError):
            config_store.set_policy(s, "version: 99\nnonsense: [", "it-user")
        s.rollback()
        assert config_store.get_setting(s, config_store.ALLOWLIST) == before


def test_roster_upload_is_hashed_and_served(app, client, proxy_token):
    assert client.get("/api/v1/config/roster", headers=_auth(proxy_token)).status_code == 404
    with app.state.db.session() as s:
        result = config_store.store_roster_upload(s, ROSTER_CSV, app.state.roster_key, "it-user")
        s.commit()
    assert result.upload.pupils == 2 and result.report.pupils == 2
    config = client.get("/api/v1/config", headers=_auth(proxy_token)).json()
    assert config["roster_etag"] == result.upload.etag

    r = client.get("/api/v1/config/roster", headers=_auth(proxy_token))
    assert r.status_code == 200 and r.headers["content-type"] == "application/octet-stream"
    for plaintext in (b"Okonkwo", b"okonkwo", b"Chidinma", b"Ferreira", b"JOAQUIM", b"2014"):
        assert plaintext not in r.content
    roster = Roster.load(r.content, app.state.roster_key)  # what a proxy does with it
    assert roster.match_full_name("Chi", "Okonkwo-Blake")
    etag = r.headers["etag"]
    assert client.get("/api/v1/config/roster",
                      headers=_auth(proxy_token, **{"If-None-Match": etag})).status_code == 304


def test_bad_roster_upload_stores_nothing(app):
    with app.state.db.session() as s:
        with pytest.raises(MisImportError):
            config_store.store_roster_upload(s, b"Name,Colour\r\nx,y\r\n", app.state.roster_key, "it-user")
        s.rollback()
        assert config_store.latest_roster(s) is None


def test_config_needs_a_proxy_token(client, users):
    assert client.get("/api/v1/config").status_code == 401
    assert client.get("/api/v1/config", headers={"Authorization": "Bearer pgp_nope"}).status_code == 401
    assert client.get("/api/v1/config/roster").status_code == 401
    assert client.get("/api/v1/config", auth=users["dpo"]).status_code == 401  # a user login is not a proxy token


def test_config_poll_updates_last_seen(app, client, proxy_token):
    client.get("/api/v1/config", headers=_auth(proxy_token, **{"User-Agent": "pupilguard-proxy/9"}))
    with app.state.db.session() as s:
        from admin_api.proxies import list_proxies

        (proxy,) = list_proxies(s)
        assert proxy.last_seen_version == "pupilguard-proxy/9" and proxy.last_seen_at is not None


def test_health_and_metrics(app, client, proxy_token, make_event):
    """Monitoring on the admin host itself (loopback) sees the detail; see tests/security/test_admin_trust.py."""
    local = TestClient(app, client=("127.0.0.1", 50000))
    r = local.get("/healthz")
    assert r.status_code == 200
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert r.json()["status"] == "ok" and r.json()["schema_revision"] == head
    client.post("/api/v1/events", json={"events": [make_event()]}, headers=_auth(proxy_token))
    client.get("/api/v1/config", headers={"Authorization": "Bearer pgp_bad"})
    metrics = local.get("/metrics").text
    assert 'pupilguard_admin_events_ingested_total{result="accepted"} 1.0' in metrics
    assert "pupilguard_admin_proxy_auth_failures_total 1.0" in metrics
    assert 'pupilguard_admin_proxy_events_received{proxy="site-main"} 1.0' in metrics
    assert 'pupilguard_admin_proxy_last_seen_timestamp_seconds{proxy="site-main"}' in metrics
    assert 'pupilguard_admin_request_seconds_count{route="/api/v1/events",status="200"} 1.0' in metrics


def test_proxies_health_api(client, proxy_token, users, make_event):
    client.post("/api/v1/events", json={"events": [make_event()]}, headers=_auth(proxy_token))
    r = client.get("/api/v1/proxies", auth=users["it"])
    assert r.status_code == 200
    (proxy,) = r.json()
    assert proxy["name"] == "site-main" and proxy["events_received"] == 1 and proxy["last_seen_at"]
    assert "token_hash" not in proxy
    assert client.get("/api/v1/proxies", auth=users["viewer"]).status_code == 403


def test_default_data_dir_is_private(tmp_path, monkeypatch):
    """Out of the box: a SQLite store, session secret and roster key in an owner-only data directory."""
    import stat

    from admin_api.app import create_app
    from admin_api.settings import Settings

    for var in ("DATABASE_URL", "PUPILGUARD_DATABASE_URL", "PUPILGUARD_SECRET_KEY", "PUPILGUARD_ROSTER_KEY"):
        monkeypatch.delenv(var, raising=False)
    data = tmp_path / "fresh"
    settings = Settings(data_dir=data)
    assert settings.database_url == f"sqlite:///{(data / 'admin.sqlite3').resolve()}"
    app = create_app(settings)
    app.state.db.dispose()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "secret_key").stat().st_mode) == 0o600
    assert stat.S_IMODE((data / "roster.key").stat().st_mode) == 0o600
    assert (data / "admin.sqlite3").exists()
    assert Settings(data_dir=data).secret_key == settings.secret_key  # sessions survive a restart


def test_it_changes_config_through_the_api(app, client, proxy_token, users):
    allowlist = REPO_ALLOWLIST.read_text(encoding="utf-8") + "\n# pushed by a script\n"
    r = client.put("/api/v1/config/allowlist", content=allowlist.encode(), auth=users["it"],
                   headers={"Content-Type": "application/yaml"})
    assert r.status_code == 204
    assert client.get("/api/v1/config", headers=_auth(proxy_token)).json()["allowlist"] == allowlist

    r = client.put("/api/v1/config/allowlist", content=b"version: 1\nprofiles: {}\n", auth=users["it"])
    assert r.status_code == 422 and "profiles" in r.json()["detail"]
    assert client.put("/api/v1/config/allowlist", content=b"\xff\xfe", auth=users["it"]).status_code == 422
    assert client.put("/api/v1/config/allowlist", content=allowlist.encode(), auth=users["viewer"]).status_code == 403
    assert client.put("/api/v1/config/allowlist", content=allowlist.encode(),
                      headers=_auth(proxy_token)).status_code == 401  # proxies read config, never write it

    # the detection policy is the DPO's (IT may not even reset it: tests/security/test_admin_trust.py)
    assert client.put("/api/v1/config/policy", content=b"version: [", auth=users["dpo"]).status_code == 422
    assert client.put("/api/v1/config/policy", content=b"", auth=users["dpo"]).status_code == 204
    assert client.get("/api/v1/config", headers=_auth(proxy_token)).json()["policy"] is None

    with app.state.db.session() as s:
        actions = [e.action for e in s.scalars(select(AuditEntry).where(AuditEntry.username.in_(
            ["it-user", "dpo-user"])))]
    assert actions == ["allowlist.update", "policy.reset"]


def test_roster_push_through_the_api(app, client, proxy_token, users):
    r = client.post("/api/v1/config/roster", content=ROSTER_CSV, auth=users["it"],
                    headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["pupils"] == 2 and body["skipped_rows"] == 0
    assert "Okonkwo" not in r.text and "Chidinma" not in r.text
    assert client.get("/api/v1/config", headers=_auth(proxy_token)).json()["roster_etag"] == body["roster_etag"]
    served = client.get("/api/v1/config/roster", headers=_auth(proxy_token)).content
    assert b"Okonkwo" not in served
    bad = client.post("/api/v1/config/roster", content=b"Colour,Shape\r\nVermilion,Rhomboid\r\n",
                      auth=users["it"])
    assert bad.status_code == 422 and "Vermilion" not in bad.text
    assert client.post("/api/v1/config/roster", content=ROSTER_CSV, auth=users["viewer"]).status_code == 403
