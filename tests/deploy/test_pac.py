"""The PAC file sends exactly the catalogued AI hosts to pupilguard and everything else elsewhere."""
import json
import re
import shutil
import subprocess

import pytest

from detectors.cli import main
from proxy.catalogue import default_catalogue
from proxy.commands.pac import pac_file


def _arrays(pac: str) -> tuple[list[str], list[str]]:
    hosts = json.loads(re.search(r"var AI_HOSTS = (\[.*?\]);", pac, re.S).group(1))
    suffixes = json.loads(re.search(r"var AI_SUFFIXES = (\[.*?\]);", pac, re.S).group(1))
    return hosts, suffixes


def test_pac_lists_every_catalogued_host(capsys):
    assert main(["pac", "--proxy", "10.0.0.5:3128"]) == 0
    pac = capsys.readouterr().out
    hosts, suffixes = _arrays(pac)
    catalogued = {h for s in default_catalogue().services for h in s.hosts}
    assert set(hosts) | {"*" + s for s in suffixes} == catalogued
    assert 'var PUPILGUARD = "PROXY 10.0.0.5:3128";' in pac


def test_shipped_example_is_current(capsys):
    """deploy/pac/proxy.pac.example is what `pupilguard pac` prints today (regenerate it if this fails)."""
    from pathlib import Path

    main(["pac"])
    example = Path(__file__).resolve().parents[2] / "deploy" / "pac" / "proxy.pac.example"
    assert example.read_text() == capsys.readouterr().out


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to evaluate the PAC JavaScript")
def test_pac_routes_ai_hosts_only_when_evaluated(tmp_path):
    pac = pac_file("pg.school:3128", ["chatgpt.com", "*.openai.azure.com"], fallback="PROXY filter:8080")
    script = tmp_path / "eval.js"
    script.write_text(pac + """
function dnsDomainIs(host, domain) { return host.length >= domain.length && host.endsWith(domain); }
const cases = ["chatgpt.com", "CHATGPT.COM", "school.openai.azure.com", "openai.azure.com.evil.example",
               "bbc.co.uk", "notchatgpt.com"];
console.log(JSON.stringify(cases.map(h => FindProxyForURL("https://" + h + "/", h))));
""")
    out = json.loads(subprocess.run(["node", str(script)], capture_output=True, text=True, check=True).stdout)
    assert out == ["PROXY pg.school:3128", "PROXY pg.school:3128", "PROXY pg.school:3128",
                   "PROXY filter:8080", "PROXY filter:8080", "PROXY filter:8080"]
