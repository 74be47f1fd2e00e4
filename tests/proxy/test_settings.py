"""The proxy's settings: one precedence for every setting (flag > environment > env file > default), the names
schools' env files already use, and mitmproxy options that are the settings themselves."""
import os
import subprocess
import sys

import pytest
from mitmproxy.test import taddons

from detectors.roster import RosterKey, RosterKeySource
from proxy.addons.connect_guard import ConnectGuard
from proxy.addons.guard import PupilGuard
from proxy.addons.routing import Router
from proxy.settings import ProxySettings

REQUIRED = {"PUPILGUARD_LISTEN": "127.0.0.1:3128", "PUPILGUARD_PROXY_DATA_DIR": "/var/lib/pupilguard/proxy"}


def _load(flags=None, env=None):
    return ProxySettings.load(flags or {}, environ={**REQUIRED, **(env or {})})


def test_flag_beats_environment_beats_env_file_beats_default(tmp_path):
    env_file = tmp_path / "proxy.env"
    env_file.write_text("PUPILGUARD_MAX_BODY=3000\nPUPILGUARD_TIME_BUDGET_MS=300\nPUPILGUARD_OCR_WORKERS=3\n")
    settings = _load({"env_file": str(env_file), "max_body": 1000},
                     {"PUPILGUARD_MAX_BODY": "2000", "PUPILGUARD_TIME_BUDGET_MS": "200"})
    assert settings.max_body == 1000  # flag
    assert settings.time_budget_ms == 200  # environment over the env file
    assert settings.ocr_workers == 3  # env file over the default
    assert settings.ocr_budget_ms == 30000  # default
    named_by_env = _load(env={"PUPILGUARD_ENV_FILE": str(env_file)})
    assert named_by_env.max_body == 3000


def test_names_in_schools_env_files_keep_working():
    settings = _load(env={"PUPILGUARD_ADMIN_URL": "https://admin.school.example",
                          "PUPILGUARD_METRICS_LISTEN": "127.0.0.1:9464", "PUPILGUARD_ADMIN_TOKEN": "t" * 32,
                          "PUPILGUARD_SPACY_MODEL": "en_core_web_sm", "PUPILGUARD_PAGE_LANGUAGES": "cy,en",
                          "PUPILGUARD_SCHOOL_NAME": "Ysgol Gymraeg",
                          "PUPILGUARD_ROUTE": '["api.openai.com=10.0.0.5:443"]'})
    assert settings.listen == "127.0.0.1:3128" and str(settings.data_dir) == "/var/lib/pupilguard/proxy"
    assert settings.admin_url == "https://admin.school.example" and settings.metrics_listen == "127.0.0.1:9464"
    assert settings.secret("admin_token") == "t" * 32 and settings.model == "en_core_web_sm"
    assert settings.page_languages == "cy,en" and settings.school_name == "Ysgol Gymraeg"
    assert settings.route == ["api.openai.com=10.0.0.5:443"]
    assert "t" * 32 not in repr(settings)  # secrets stay out of logs and tracebacks


def test_the_admin_services_data_dir_is_not_the_proxys():
    """The installed `pupilguard` wrapper puts the admin's PUPILGUARD_DATA_DIR in every command's environment."""
    with pytest.raises(ValueError, match="PUPILGUARD_PROXY_DATA_DIR"):
        ProxySettings.load({}, environ={"PUPILGUARD_LISTEN": "127.0.0.1:3128", "PUPILGUARD_DATA_DIR": "/admin"})


def test_settings_are_frozen():
    settings = _load()
    with pytest.raises(ValueError):
        settings.max_body = 1


def test_roster_key_flag_env_file_default(tmp_path):
    """The key follows the same precedence: --key-file > PUPILGUARD_ROSTER_KEY > PUPILGUARD_ROSTER_KEY_FILE (from
    the environment or the env file) > the default."""
    keys = {}
    for name, digit in (("flag", "a"), ("env-file", "b"), ("file", "e"), ("default", "c")):
        keys[name] = tmp_path / f"{name}.key"
        keys[name].write_text(digit * 64 + "\n")
        keys[name].chmod(0o600)
    env_file = tmp_path / "proxy.env"
    env_file.write_text(f"PUPILGUARD_ROSTER_KEY_FILE={keys['env-file']}\n")

    def fingerprint(settings: ProxySettings) -> str:
        source = RosterKeySource(settings.secret("roster_key"), settings.roster_key_file)
        return source.load(default=keys["default"]).fingerprint

    def expected(digit: str) -> str:
        return RosterKey(bytes.fromhex(digit * 64)).fingerprint

    in_env = {"PUPILGUARD_ROSTER_KEY": "d" * 64, "PUPILGUARD_ROSTER_KEY_FILE": str(keys["file"])}
    assert fingerprint(_load({"roster_key_file": str(keys["flag"])}, in_env)) == expected("a")
    assert fingerprint(_load({"env_file": str(env_file)}, in_env)) == expected("d")
    assert fingerprint(_load({"env_file": str(env_file)}, {"PUPILGUARD_ROSTER_KEY_FILE": str(keys["file"])})) \
        == expected("e")
    assert fingerprint(_load({"env_file": str(env_file)})) == expected("b")
    assert fingerprint(_load()) == expected("c")
    # a command (scan, roster import) finds the key by the same rule
    assert RosterKey.resolve(keys["flag"], environ=in_env).fingerprint == expected("a")
    assert RosterKey.resolve(None, environ=in_env).fingerprint == expected("d")


def test_mitmproxy_options_are_the_settings():
    """The addons declare their options from the settings, and the proxy passes the settings' values to them."""
    settings = _load({"max_body": 4096, "route": ["api.openai.com=127.0.0.1:9"], "log_allow": True},
                     {"PUPILGUARD_SCHOOL_COLOUR": "#00594f"})
    addon = PupilGuard(catalogue=None, allowlist=None, pool=None, spool=None, metrics=None)
    with taddons.context(addon, ConnectGuard(), Router()) as tctx:
        options = tctx.options
        for name, value in settings.mitmproxy_options().items():
            field = ProxySettings.model_fields[name.removeprefix("pupilguard_")]
            assert options.default(name) == field.get_default(call_default_factory=True)
        tctx.configure(addon, **settings.mitmproxy_options())
        assert options.pupilguard_max_body == 4096 and options.pupilguard_log_allow is True
        assert list(options.pupilguard_route) == ["api.openai.com=127.0.0.1:9"]
        assert options.pupilguard_school_colour == "#00594f"


@pytest.mark.e2e  # starts `pupilguard proxy` as its own process, twice
def test_a_setting_in_error_is_named_in_one_line(tmp_path):
    def run(*flags: str, **env: str) -> subprocess.CompletedProcess:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("PUPILGUARD_")}
        return subprocess.run([sys.executable, "-m", "detectors.cli", "proxy", *flags], capture_output=True,
                              text=True, timeout=120, env={**clean, **env})

    missing = run("--data-dir", str(tmp_path))
    assert missing.returncode == 2 and "--listen or PUPILGUARD_LISTEN: required" in missing.stderr
    not_json = run("--listen", "127.0.0.1:0", "--data-dir", str(tmp_path), PUPILGUARD_ROUTE="a=127.0.0.1:1")
    assert not_json.returncode == 2 and "a list in the environment is JSON" in not_json.stderr
    assert "Traceback" not in missing.stderr + not_json.stderr
