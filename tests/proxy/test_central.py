"""proxy/central.py against the real admin service (admin_api.app.create_app on SQLite, served on a loopback port):
what IT sets centrally is validated, stored atomically for restarts and handed over to be applied; anything the
proxy cannot use is refused and the current configuration kept.

`AdminService` is also used by test_central_e2e.py (a real `pupilguard proxy` against the same app)."""
from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from detectors.roster import Roster, RosterKey
from proxy.central import ALLOWLIST, POLICY, ROSTER, CentralConfig
from tests.proxy.conftest import STAFF_ALLOWLIST, ThreadedServer, free_port

pytest.importorskip("admin_api.app")

POLICY_TEXT = "version: 1\nprofiles:\n  staff:\n    entities: {PUPIL: block}\n"
ROSTER_CSV = """Forename,LegalForename,MiddleName,Surname,LegalSurname,UPN,ULN,DateOfBirth,Year
Tobiah,Tobiah,,Quenneville,Quenneville,H801200001001,9276308686,14/02/2013,8
Zoë,Zoë,,O'Brien,O'Brien,T938123424001,4521873617,03/09/2012,9
"""


class AdminService:
    """The real admin app with a temp SQLite database, served by uvicorn on 127.0.0.1; IT's changes go through
    admin_api's own validated store functions, as the web pages and CLI make them."""

    def __init__(self, directory: Path, allowlist: str = STAFF_ALLOWLIST) -> None:
        from admin_api import proxies
        from admin_api.app import create_app
        from admin_api.settings import Settings

        seed = directory / "seed-allowlist.yaml"
        seed.write_text(allowlist)
        self.settings = Settings(data_dir=directory, database_url=f"sqlite:///{directory / 'admin.sqlite3'}",
                                 cookie_secure=False, secret_key="s" * 40, allowlist_file=seed)
        self.app = create_app(self.settings)
        with self.db.session() as session:
            _, self.token = proxies.create_token(session, "proxy-under-test")
            session.commit()
        self.server = ThreadedServer(self.app).start()
        self.url = f"http://127.0.0.1:{self.server.port}"

    @property
    def db(self):  # type: ignore[no-untyped-def]
        return self.app.state.db

    @property
    def key_file(self) -> Path:
        """The admin's roster key file; IT copies it to each proxy (--key-file)."""
        return Path(self.settings.roster_key_file)

    def set_allowlist(self, yaml_text: str) -> None:
        from admin_api import config_store

        with self.db.session() as session:
            config_store.set_allowlist(session, yaml_text, "it-test")
            session.commit()

    def set_policy(self, yaml_text: str | None) -> None:
        from admin_api import config_store

        with self.db.session() as session:
            config_store.set_policy(session, yaml_text, "it-test")
            session.commit()

    def upload_roster(self, csv_text: str, key: RosterKey | None = None) -> None:
        from admin_api import config_store

        with self.db.session() as session:
            config_store.store_roster_upload(session, csv_text.encode(), key or self.app.state.roster_key, "it-test")
            session.commit()

    def write_raw_allowlist(self, yaml_text: str) -> None:
        """A hand-edited database (or an admin on a newer allowlist format): bypasses the admin's validation."""
        with self.db.session() as session:
            session.execute(text("UPDATE settings SET value = :v WHERE key = 'allowlist_yaml'"), {"v": yaml_text})
            session.commit()

    def stop(self) -> None:
        self.server.stop()
        self.db.dispose()


@pytest.fixture
def admin(tmp_path: Path):  # type: ignore[no-untyped-def]
    service = AdminService(tmp_path / "admin")
    yield service
    service.stop()


def _central(admin: AdminService, data_dir: Path, **kwargs) -> CentralConfig:  # type: ignore[no-untyped-def]
    from prometheus_client import CollectorRegistry

    kwargs.setdefault("registry", CollectorRegistry())
    return CentralConfig(admin.url, admin.token, data_dir, interval_s=1.0, key_file=str(admin.key_file), **kwargs)


def _metric(central: CentralConfig, name: str, **labels: str) -> float | None:
    return central.m_errors._registry_for_tests.get_sample_value(name, labels)  # type: ignore[attr-defined]


def test_central_files_follow_the_admin(admin: AdminService, tmp_path: Path) -> None:
    applied: list[set[str]] = []
    central = _central(admin, tmp_path / "proxy", on_change=applied.append)

    assert central.poll() == {ALLOWLIST}
    allowlist = central.path(ALLOWLIST)
    assert allowlist is not None and allowlist.read_text() == STAFF_ALLOWLIST
    assert stat.S_IMODE(allowlist.stat().st_mode) == 0o600
    assert stat.S_IMODE(central.dir.stat().st_mode) == 0o700
    assert central.path(POLICY) is None and central.path(ROSTER) is None
    assert central.poll() == set() and applied == [{ALLOWLIST}]  # unchanged: a 304, nothing re-applied

    admin.set_policy(POLICY_TEXT)
    admin.upload_roster(ROSTER_CSV)
    assert central.poll() == {POLICY, ROSTER}
    assert applied[-1] == {POLICY, ROSTER}  # one recycle of the workers for both
    assert central.path(POLICY).read_text() == POLICY_TEXT  # type: ignore[union-attr]
    roster_file = central.path(ROSTER)
    assert roster_file is not None and stat.S_IMODE(roster_file.stat().st_mode) == 0o600
    roster = Roster.load(roster_file, RosterKey.load_or_create(admin.key_file))
    assert roster.match_full_name("Tobiah", "Quenneville")

    admin.set_policy(None)  # IT goes back to the default: the local --policy applies again
    assert central.poll() == {POLICY} and central.path(POLICY) is None
    assert central.last_success is not None and central.failures == 0


def test_roster_made_with_another_key_is_refused(admin: AdminService, tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()
    central = _central(admin, tmp_path / "proxy", registry=registry)
    admin.upload_roster(ROSTER_CSV)
    assert central.poll() == {ALLOWLIST, ROSTER}
    good = central.path(ROSTER).read_bytes()  # type: ignore[union-attr]
    confirmed = central.last_success

    admin.upload_roster(ROSTER_CSV, key=RosterKey.generate())
    with caplog.at_level(logging.ERROR, logger="proxy.central"):
        assert central.poll() == set()
    assert central.path(ROSTER).read_bytes() == good  # type: ignore[union-attr]
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.file == ROSTER and "another key" in record.error  # type: ignore[attr-defined]
    assert "Tobiah" not in caplog.text and "Quenneville" not in caplog.text
    assert registry.get_sample_value("pupilguard_central_config_errors_total", {"reason": "invalid_roster"}) == 1
    # the config in use is not what the admin holds: no "last success" until it is
    assert central.last_success == confirmed
    assert central.poll() == set()  # not downloaded and refused again on every poll
    assert registry.get_sample_value("pupilguard_central_config_errors_total", {"reason": "invalid_roster"}) == 1


def test_invalid_allowlist_is_refused_and_the_last_good_one_kept(admin: AdminService, tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    central = _central(admin, tmp_path / "proxy")
    assert central.poll() == {ALLOWLIST}

    admin.write_raw_allowlist(STAFF_ALLOWLIST.replace("openai-api:    {staff: approved",
                                                      "openai-api:    {staff: maybe"))
    with caplog.at_level(logging.ERROR, logger="proxy.central"):
        assert central.poll() == set()
    assert central.path(ALLOWLIST).read_text() == STAFF_ALLOWLIST  # type: ignore[union-attr]
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.file == ALLOWLIST and "line 10" in record.error  # type: ignore[attr-defined]

    fixed = STAFF_ALLOWLIST.replace("openai-api:    {staff: approved", "openai-api:    {staff: blocked")
    admin.set_allowlist(fixed)
    assert central.poll() == {ALLOWLIST} and central.path(ALLOWLIST).read_text() == fixed  # type: ignore[union-attr]


def test_change_that_cannot_be_applied_is_rolled_back_and_retried(admin: AdminService, tmp_path: Path) -> None:
    attempts: list[set[str]] = []

    def apply(changed: set[str]) -> None:
        attempts.append(set(changed))
        if POLICY in changed and len(attempts) == 2:
            raise RuntimeError("detection workers did not start")

    central = _central(admin, tmp_path / "proxy", on_change=apply)
    assert central.poll() == {ALLOWLIST}
    admin.set_policy(POLICY_TEXT)
    assert central.poll() == set()
    assert central.path(POLICY) is None  # rolled back: a restart does not start from it either
    assert central.failures == 1 and central.delay() >= 1.6  # backing off
    assert central.poll() == {POLICY} and central.path(POLICY).read_text() == POLICY_TEXT  # type: ignore[union-attr]
    assert central.failures == 0 and central.delay() == 1.0


def test_admin_unreachable_keeps_config_and_backs_off(admin: AdminService, tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    from prometheus_client import CollectorRegistry

    data_dir = tmp_path / "proxy"
    assert _central(admin, data_dir).poll() == {ALLOWLIST}
    before = (data_dir / "central" / ALLOWLIST).read_bytes()

    registry = CollectorRegistry()
    down = CentralConfig(f"http://127.0.0.1:{free_port()}", admin.token, data_dir, interval_s=100.0,
                         registry=registry)
    assert down.last_success is not None  # remembered across the restart
    assert registry.get_sample_value("pupilguard_central_config_age_seconds") >= 0
    with caplog.at_level(logging.WARNING, logger="proxy.central"):
        delays = []
        for _ in range(4):
            assert down.poll() == set()
            delays.append(down.delay())
    assert (data_dir / "central" / ALLOWLIST).read_bytes() == before
    assert 160 <= delays[0] <= 200 and all(d <= 300 for d in delays) and delays[-1] >= 240
    assert registry.get_sample_value("pupilguard_central_config_errors_total", {"reason": "unreachable"}) == 4
    record = caplog.records[0]
    assert record.reason == "unreachable" and record.error == "ConnectError"  # type: ignore[attr-defined]
    assert admin.token not in caplog.text
