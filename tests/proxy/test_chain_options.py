"""`--upstream-proxy` and `--upstream-proxy-auth-file` are turned into mitmproxy upstream-mode options, or refused
with a message naming the flag and never the password."""
from __future__ import annotations

import pytest

from proxy.chain import ChainError, describe, upstream_options


def test_credentials_in_the_url_become_basic_auth_and_leave_the_mode():
    options = upstream_options("http://school%5Cproxy:p%40ss:word@filter.school.internal:8080")
    assert options == {"mode": ["upstream:http://filter.school.internal:8080"],
                       "upstream_auth": "school\\proxy:p@ss:word"}


def test_credentials_from_a_file(tmp_path):
    f = tmp_path / "auth"
    f.write_text("fortinet:secret\n")
    assert upstream_options("https://[fd00::1]:3128", str(f)) == {
        "mode": ["upstream:https://[fd00::1]:3128"], "upstream_auth": "fortinet:secret"}


def test_no_credentials_no_auth():
    assert upstream_options("http://10.0.0.5:8080") == {"mode": ["upstream:http://10.0.0.5:8080"]}


@pytest.mark.parametrize("url", ["filter:8080", "socks5://filter:1080", "http://filter", "http://filter:8080/x",
                                 "http://filter:99999"])
def test_a_bad_url_is_refused(url):
    with pytest.raises(ChainError, match="--upstream-proxy"):
        upstream_options(url)


def test_a_bad_or_doubled_auth_file_is_refused_without_showing_the_password(tmp_path):
    f = tmp_path / "auth"
    f.write_text("no-colon-here")
    with pytest.raises(ChainError, match="USER:PASSWORD") as exc:
        upstream_options("http://filter:8080", str(f))
    assert "no-colon-here" not in str(exc.value)
    with pytest.raises(ChainError, match="one or the other"):
        upstream_options("http://u:p@filter:8080", str(f))
    with pytest.raises(ChainError, match="cannot be read"):
        upstream_options("http://filter:8080", str(tmp_path / "missing"))


def test_transparent_mode_is_refused():
    with pytest.raises(ChainError, match="--mode regular"):
        upstream_options("http://filter:8080", mode="transparent")


def test_the_log_shows_the_address_not_the_password():
    assert describe("http://u:topsecret@filter:8080") == "http://filter:8080"
