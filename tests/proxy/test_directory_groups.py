"""Profiles by directory group: with `--proxyauth ldap:...`, the groups a user belongs to in the school's directory
pick their allowlist profile. Against a real OpenLDAP server (slapd) started for these tests on 127.0.0.1."""
from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.support.net import free_port
from proxy.directory import GroupDirectory

pytestmark = pytest.mark.e2e

SUFFIX = "dc=school,dc=example"
ADMIN = f"cn=admin,{SUFFIX}"
PEOPLE = f"ou=people,{SUFFIX}"
CHAT = "https://api.openai.com/v1/chat/completions"
PROMPT = "Suggest a starter activity about the water cycle."

# Staff are in the directory group "Staff"; group names in the allowlist match without case, as in AD.
# 127.0.0.1 is in no profile's subnet: the group alone makes someone staff.
ALLOWLIST = """\
version: 1
profiles:
  staff: {groups: [staff]}
  pupil: {subnets: [10.1.0.0/16], groups: [pupils]}
default_profile: pupil
default_status: blocked
tools:
  openai-api: {staff: approved, pupil: blocked}
"""


def _entries() -> str:
    people = {"jsmith": "Staff", "akhan": "Staff", "pupil21": "Pupils", "visitor": None}
    ldif = [f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: school\no: Example School\n",
            f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n",
            f"dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n"]
    for user in people:  # every password is "pw", as ProxyProcess.client sends
        ldif.append(f"dn: cn={user},{PEOPLE}\nobjectClass: inetOrgPerson\ncn: {user}\nsn: {user}\nuserPassword: pw\n")
    for group in ("Staff", "Pupils"):
        members = "".join(f"member: cn={u},{PEOPLE}\n" for u, g in people.items() if g == group)
        ldif.append(f"dn: cn={group},ou=groups,{SUFFIX}\nobjectClass: groupOfNames\ncn: {group}\n{members}")
    return "\n".join(ldif)


class Slapd:
    def __init__(self, root: Path) -> None:
        binary = shutil.which("slapd", path=f"/usr/sbin:/usr/bin:{os.environ.get('PATH', '')}")
        if binary is None:
            pytest.fail("slapd is not installed (`make test` installs it via .ci/system-deps.sh)")
        self.root, self.port = root, free_port()
        (root / "db").mkdir()
        self.conf = root / "slapd.conf"
        self.conf.write_text(
            "include /etc/ldap/schema/core.schema\ninclude /etc/ldap/schema/cosine.schema\n"
            "include /etc/ldap/schema/inetorgperson.schema\nmodulepath /usr/lib/ldap\nmoduleload back_mdb\n"
            f"pidfile {root}/slapd.pid\ndatabase mdb\nsuffix \"{SUFFIX}\"\nrootdn \"{ADMIN}\"\nrootpw secret\n"
            f"directory {root}/db\n")
        (root / "data.ldif").write_text(_entries())
        subprocess.run([str(Path(binary).with_name("slapadd")), "-f", str(self.conf), "-l", str(root / "data.ldif")],
                       check=True, capture_output=True)
        self.binary, self.process = binary, None

    def start(self) -> Slapd:
        log = open(self.root / "slapd.log", "ab")
        self.process = subprocess.Popen([self.binary, "-f", str(self.conf), "-h", f"ldap://127.0.0.1:{self.port}/",
                                         "-d", "0"], stdout=log, stderr=log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("slapd did not start: " + (self.root / "slapd.log").read_text(errors="replace"))

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)

    @property
    def proxyauth(self) -> str:
        return f"ldap:127.0.0.1:{self.port}:{ADMIN}:secret:{PEOPLE}"


@pytest.fixture(scope="module")
def slapd(tmp_path_factory):
    server = Slapd(tmp_path_factory.mktemp("slapd")).start()
    yield server
    server.stop()


def test_the_directory_names_each_users_groups(slapd):
    directory = GroupDirectory(slapd.proxyauth)
    assert directory.lookup("jsmith") == ("Staff",)
    assert directory.lookup("pupil21") == ("Pupils",)
    assert directory.lookup("visitor") == ()
    assert directory.lookup("nobody") == ()
    assert directory.lookup("*") == ()  # a user name is a value, never a search pattern


def test_groups_are_remembered_and_a_directory_outage_gives_no_groups_for_a_minute(tmp_path):
    server = Slapd(tmp_path).start()
    now = [0.0]
    directory = GroupDirectory(server.proxyauth, clock=lambda: now[0])
    assert asyncio.run(directory.groups("jsmith")) == ("Staff",)
    server.stop()
    assert asyncio.run(directory.groups("jsmith")) == ("Staff",)  # remembered: the directory is not asked
    now[0] = 601
    assert asyncio.run(directory.groups("jsmith")) == ()  # down: no groups, and the log says why
    server.start()
    now[0] = 630
    assert asyncio.run(directory.groups("jsmith")) == ()  # a failure stands for a minute...
    now[0] = 662
    assert asyncio.run(directory.groups("jsmith")) == ("Staff",)  # ...then the directory is asked again
    server.stop()


@pytest.fixture(scope="module")
def ldap_proxy(start_proxy, slapd):
    return start_proxy(allowlist=ALLOWLIST, extra_args=["--proxyauth", slapd.proxyauth], workers=1)


def chat(proxy, user: str) -> httpx.Response:
    with proxy.client(user=user) as client:
        return client.post(CHAT, json={"model": "m", "messages": [{"role": "user", "content": PROMPT}]})


def test_directory_group_picks_the_profile_on_the_wire(ldap_proxy, upstream):
    assert chat(ldap_proxy, "jsmith").status_code == 200  # group Staff -> staff: approved
    assert chat(ldap_proxy, "akhan").status_code == 200
    refused = chat(ldap_proxy, "pupil21")  # group Pupils -> pupil: blocked
    assert refused.status_code == 403 and "not approved" in refused.json()["error"]["message"]
    assert chat(ldap_proxy, "visitor").status_code == 403  # no group, no subnet: the default profile (pupil)
    assert len(upstream.requests_to("/v1/chat/completions")) == 2
    assert "jsmith" not in ldap_proxy.logs() and "pupil21" not in ldap_proxy.logs()
