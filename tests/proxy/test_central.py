"""proxy/central.py against the real admin service (admin_api.app.create_app on SQLite, served on a loopback port):
what IT sets centrally is validated, stored atomically for restarts and handed over to be applied; anything the
proxy cannot use is refused and the current configuration kept. The second half runs a real `pupilguard proxy`
(tests/support/proxy.py's start_proxy) against the same kind of admin app: changes reach it without a restart,
and it restarts into the last known good configuration while the admin service is down."""
from __future__ import annotations

import logging
import socket
import stat
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import text

from detectors.roster import Roster, RosterKey, RosterKeySource
from proxy.central import ALLOWLIST, POLICY, ROSTER, CentralConfig

pytestmark = pytest.mark.e2e

pytest.importorskip("admin_api.app")

# The admin's allowlist as first seeded: clients on 127.0.0.1 are staff, for whom the OpenAI API is approved.
STAFF_ALLOWLIST = """\
version: 1
policy_url: https://school.example/ai-policy
profiles:
  staff: {subnets: [127.0.0.0/8]}
  pupil: {subnets: [10.1.0.0/16]}
default_profile: pupil
default_status: blocked
tools:
  openai-api:    {staff: approved, pupil: blocked, restore_placeholders: false}
  anthropic-api: {staff: approved, pupil: blocked}
"""

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

        directory.mkdir(parents=True, exist_ok=True)
        seed = directory / "seed-allowlist.yaml"
        seed.write_text(allowlist)
        self.settings = Settings(data_dir=directory, database_url=f"sqlite:///{directory / 'admin.sqlite3'}",
                                 cookie_secure=False, secret_key="s" * 40, allowlist_file=seed)
        self.app = create_app(self.settings)
        with self.db.session() as session:
            _, self.token = proxies.create_token(session, "proxy-under-test")
            session.commit()
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.url = "http://127.0.0.1:%d" % self._socket.getsockname()[1]
        self.start()

    def start(self) -> None:
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning"))
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self._socket]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline and self._thread.is_alive(), "admin app did not start"
            time.sleep(0.02)

    @property
    def db(self):
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
        """The admin service goes down (its port stays reserved for this test, closed)."""
        self.server.should_exit = True
        self._thread.join(10)

    def close(self) -> None:
        self.stop()
        self._socket.close()


@pytest.fixture
def admin(tmp_path: Path):
    service = AdminService(tmp_path / "admin")
    yield service
    service.close()


def _central(admin: AdminService, data_dir: Path, **kwargs) -> CentralConfig:
    from prometheus_client import CollectorRegistry

    kwargs.setdefault("registry", CollectorRegistry())
    return CentralConfig(admin.url, admin.token, data_dir, interval_s=1.0, roster_key=RosterKeySource(file=admin.key_file), **kwargs)


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
    assert (central.dir / POLICY).read_text() == POLICY_TEXT
    roster_file = central.path(ROSTER)
    assert roster_file is not None and stat.S_IMODE(roster_file.stat().st_mode) == 0o600
    roster = Roster.load(roster_file, RosterKey.load_or_create(admin.key_file))
    assert roster.match_full_name("Tobiah", "Quenneville")

    admin.set_policy(None)  # IT goes back to the default: the local --policy applies again
    assert central.poll() == {POLICY} and central.path(POLICY) is None
    assert central.last_success is not None and central.failures == 0

    # after a restart the roster (large for a trust) is not downloaded again while its ETag is unchanged
    restarted = _central(admin, tmp_path / "proxy", on_change=applied.append)
    fetched: list[str] = []
    restarted._client.event_hooks["request"].append(lambda request: fetched.append(request.url.path))
    assert restarted.poll() == set() and fetched == ["/api/v1/config"]


def test_roster_made_with_another_key_is_refused(admin: AdminService, tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()
    central = _central(admin, tmp_path / "proxy", registry=registry)
    admin.upload_roster(ROSTER_CSV)
    assert central.poll() == {ALLOWLIST, ROSTER}
    good = (central.dir / ROSTER).read_bytes()
    confirmed = central.last_success

    admin.upload_roster(ROSTER_CSV, key=RosterKey.generate())
    with caplog.at_level(logging.ERROR, logger="proxy.central"):
        assert central.poll() == set()
    assert (central.dir / ROSTER).read_bytes() == good
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.file == ROSTER and "another key" in record.error
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
    assert (central.dir / ALLOWLIST).read_text() == STAFF_ALLOWLIST
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    line = 1 + STAFF_ALLOWLIST.splitlines().index(next(x for x in STAFF_ALLOWLIST.splitlines() if "openai" in x))
    assert record.file == ALLOWLIST and f"line {line}" in record.error

    fixed = STAFF_ALLOWLIST.replace("openai-api:    {staff: approved", "openai-api:    {staff: blocked")
    admin.set_allowlist(fixed)
    assert central.poll() == {ALLOWLIST} and (central.dir / ALLOWLIST).read_text() == fixed


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
    assert central.poll() == {POLICY} and (central.dir / POLICY).read_text() == POLICY_TEXT
    assert central.failures == 0 and central.delay() == 1.0


def test_admin_unreachable_keeps_config_and_backs_off(admin: AdminService, tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    from prometheus_client import CollectorRegistry

    data_dir = tmp_path / "proxy"
    assert _central(admin, data_dir).poll() == {ALLOWLIST}
    before = (data_dir / "central" / ALLOWLIST).read_bytes()

    registry = CollectorRegistry()
    admin.stop()
    down = CentralConfig(admin.url, admin.token, data_dir, interval_s=100.0,
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
    assert record.reason == "unreachable" and record.error == "ConnectError"
    assert admin.token not in caplog.text


# ---------------------------------------------------------------------------------------------------------------
# A real `pupilguard proxy` (tests/support/proxy.py's start_proxy) against the same real admin app: one admin and
# one proxy for the tests below, which run in this order (each sets up the state it checks).

OPENAI = "https://api.openai.com/v1/chat/completions"
ANTHROPIC = "https://api.anthropic.com/v1/messages"
PUPIL_PROMPT = "Write a short report comment for Tobiah Quenneville, who has worked hard in maths this term."
UPN_PROMPT = "Write a report comment for the pupil with UPN T801200115100, who has worked hard."
# IT's central policy: UPNs in staff prompts are blocked rather than redacted.
UPN_BLOCK_POLICY = "version: 1\nprofiles:\n  staff:\n    entities: {UK_UPN: block}\n"
# IT blocks the OpenAI API for staff centrally; the proxy's local allowlist (conftest's) still approves it.
OPENAI_BLOCKED = STAFF_ALLOWLIST.replace("openai-api:    {staff: approved", "openai-api:    {staff: blocked")


@pytest.fixture(scope="module")
def central_admin(tmp_path_factory: pytest.TempPathFactory):
    service = AdminService(tmp_path_factory.mktemp("central-admin"))
    yield service
    service.close()


@pytest.fixture(scope="module")
def central_proxy(central_admin: AdminService, start_proxy):
    proxy = start_proxy(extra_args=["--admin-url", central_admin.url, "--admin-token", central_admin.token,
                                    "--config-poll-s", "1", "--key-file", str(central_admin.key_file)], workers=1)
    yield proxy
    proxy.stop()


def _ask(proxy, url: str = OPENAI, prompt: str = PUPIL_PROMPT):
    if url == ANTHROPIC:
        body = {"model": "m", "max_tokens": 50, "messages": [{"role": "user", "content": prompt}]}
    else:
        body = {"model": "m", "messages": [{"role": "user", "content": prompt}]}
    with proxy.client() as client:
        return client.post(url, json=body)


def _until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {what}"
        time.sleep(0.5)


def _log_lines(proxy, message: str) -> list[dict]:
    import json

    lines = []
    for line in proxy.logs().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("message", "").startswith(message):
            lines.append(record)
    return lines


def _sent_upstream(upstream, path: str = "/v1/chat/completions") -> str:
    return upstream.requests_to(path)[-1].text


def test_roster_and_policy_from_admin_replace_the_proxys_own(central_admin: AdminService, central_proxy,
                                                             upstream) -> None:
    assert _ask(central_proxy).status_code == 200
    assert "[PUPIL_" not in _sent_upstream(upstream)  # not a pupil of this school yet
    assert _ask(central_proxy, prompt=UPN_PROMPT).status_code == 200  # the default policy redacts a UPN
    assert "[UPN_1]" in _sent_upstream(upstream)

    # IT uploads the MIS export and sets a policy; the proxy recycles its detection workers with both
    central_admin.upload_roster(ROSTER_CSV)
    central_admin.set_policy(UPN_BLOCK_POLICY)

    def redacted_as_pupil() -> bool:
        assert _ask(central_proxy).status_code == 200
        return "[PUPIL_1]" in _sent_upstream(upstream)

    _until(redacted_as_pupil, 180, "the uploaded roster in use")
    assert "Quenneville" not in _sent_upstream(upstream)
    _until(lambda: _ask(central_proxy, prompt=UPN_PROMPT).status_code == 403, 180, "the central policy in use")
    roster_file = central_proxy.data_dir / "central" / ROSTER
    assert stat.S_IMODE(roster_file.stat().st_mode) == 0o600
    good = roster_file.read_bytes()

    # a roster hashed with another key (another school's, or a re-keyed admin) is refused; the old one stays
    central_admin.upload_roster(ROSTER_CSV.replace("Tobiah", "Ottoline"), key=RosterKey.generate())
    [refused] = _until(lambda: _log_lines(central_proxy, "central config refused"), 30, "the refusal logged")
    assert refused["file"] == ROSTER and "another key" in refused["error"] and refused["level"] == "error"
    assert roster_file.read_bytes() == good
    assert _ask(central_proxy).status_code == 200 and "[PUPIL_1]" in _sent_upstream(upstream)
    assert central_proxy.metric("pupilguard_central_config_errors_total", reason="invalid_roster") == 1
    assert "Tobiah" not in central_proxy.logs() and "Ottoline" not in central_proxy.logs()


def test_allowlist_set_by_it_reaches_the_running_proxy(central_admin: AdminService, central_proxy,
                                                       upstream) -> None:
    central_admin.set_allowlist(STAFF_ALLOWLIST)
    _until(lambda: _ask(central_proxy).status_code == 200, 30, "the OpenAI API approved for staff")

    central_admin.set_allowlist(OPENAI_BLOCKED)
    blocked = _until(lambda: (r := _ask(central_proxy)).status_code == 403 and r, 30, "the change picked up")
    assert "not approved" in blocked.json()["error"]["message"]
    central = central_proxy.data_dir / "central" / ALLOWLIST
    assert central.read_text() == OPENAI_BLOCKED

    # a broken allowlist in the admin database is refused by the proxy, which keeps the last good one
    refusals = len(_log_lines(central_proxy, "central config refused"))
    central_admin.write_raw_allowlist(STAFF_ALLOWLIST.replace("default_status: blocked", "default_status: maybe"))
    _until(lambda: len(_log_lines(central_proxy, "central config refused")) > refusals, 30, "the refusal logged")
    assert _log_lines(central_proxy, "central config refused")[-1]["file"] == ALLOWLIST
    assert central.read_text() == OPENAI_BLOCKED
    assert _ask(central_proxy).status_code == 403
    assert central_proxy.metric("pupilguard_central_config_errors_total", reason="invalid_allowlist") >= 1
    central_admin.set_allowlist(OPENAI_BLOCKED)


def test_restart_while_admin_is_down_uses_the_last_known_config(central_admin: AdminService, central_proxy,
                                                                upstream) -> None:
    central_admin.set_allowlist(OPENAI_BLOCKED)
    _until(lambda: _ask(central_proxy).status_code == 403, 30, "the OpenAI API blocked centrally")
    if not (central_proxy.data_dir / "central" / POLICY).exists():  # run on its own
        central_admin.upload_roster(ROSTER_CSV)
        central_admin.set_policy(UPN_BLOCK_POLICY)
        _until(lambda: _ask(central_proxy, ANTHROPIC, UPN_PROMPT).status_code == 403, 180, "roster and policy in use")
    assert central_proxy.metric("pupilguard_central_config_age_seconds") >= 0

    central_proxy.stop()
    central_admin.stop()
    central_proxy.start()  # same data dir and arguments; the admin API refuses connections

    # the central allowlist still wins over the local one (which approves the OpenAI API for staff) ...
    assert _ask(central_proxy).status_code == 403
    # ... and the central roster is still the one in use
    assert _ask(central_proxy, ANTHROPIC).status_code == 200
    sent = _sent_upstream(upstream, "/v1/messages")
    assert "[PUPIL_1]" in sent and "Quenneville" not in sent
    # ... and so is the central policy
    assert _ask(central_proxy, ANTHROPIC, prompt=UPN_PROMPT).status_code == 403
    [down, *_] = _log_lines(central_proxy, "central config not updated")
    assert down["reason"] == "unreachable" and down["level"] == "warning" and central_admin.token not in str(down)
    assert central_proxy.metric("pupilguard_central_config_errors_total", reason="unreachable") >= 1
    assert central_proxy.metric("pupilguard_central_config_age_seconds") > 0


def test_the_admins_ai_domain_list_follows_and_a_bad_one_is_refused(admin: AdminService, tmp_path: Path) -> None:
    from admin_api import ai_tools

    from proxy.central import AI_DOMAINS

    central = _central(admin, tmp_path / "proxy")
    central.poll()
    assert central.path(AI_DOMAINS) is None  # nothing set centrally: the shipped list alone
    with admin.db.session() as session:
        ai_tools.set_ai_domains(session, "ai.example.com\n!tome.app\n", "it-test")
        session.commit()
    assert central.poll() == {AI_DOMAINS}
    assert (central.dir / AI_DOMAINS).read_text() == "ai.example.com\n!tome.app\n"
    with admin.db.session() as session:  # written past the admin's validation: the proxy checks again
        session.execute(text("UPDATE settings SET value = 'https://not/a/domain' WHERE key = 'ai_domains_txt'"))
        session.commit()
    assert central.poll() == set() and (central.dir / AI_DOMAINS).read_text() == "ai.example.com\n!tome.app\n"
    with admin.db.session() as session:
        session.execute(text("DELETE FROM settings WHERE key = 'ai_domains_txt'"))
        session.commit()
    assert central.poll() == {AI_DOMAINS} and central.path(AI_DOMAINS) is None
