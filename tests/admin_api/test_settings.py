"""The admin service's settings: the proxy's precedence (flag > environment > env file > default), the names
deployments already use, and `pupilguard admin` flags that are the settings' own declarations."""
from __future__ import annotations

import argparse

import pytest

from admin_api import cli
from admin_api.settings import Settings
from detectors.service_settings import flag_name


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pupilguard")
    cli.register_admin(parser.add_subparsers(dest="command", required=True))
    return parser


def _subcommand(parser: argparse.ArgumentParser, *path: str) -> argparse.ArgumentParser:
    for name in path:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


def _load(tmp_path, flags=None, env=None) -> Settings:
    base = {"PUPILGUARD_DATA_DIR": str(tmp_path / "data"), "PUPILGUARD_SECRET_KEY": "s" * 40}
    return Settings.load(flags or {}, environ={**base, **(env or {})})


def test_flag_beats_environment_beats_env_file_beats_default(tmp_path):
    env_file = tmp_path / "admin.env"
    env_file.write_text("PUPILGUARD_ADMIN_LISTEN=127.0.0.1:9003\nPUPILGUARD_PUBLIC_URL=https://file.example\n"
                        "PUPILGUARD_RETENTION_DAYS=30\n")
    settings = _load(tmp_path, {"env_file": str(env_file), "listen": "127.0.0.1:9001"},
                     {"PUPILGUARD_ADMIN_LISTEN": "127.0.0.1:9002", "PUPILGUARD_PUBLIC_URL": "https://env.example"})
    assert settings.listen == "127.0.0.1:9001"  # flag
    assert settings.public_url == "https://env.example"  # environment over the env file
    assert settings.retention_days == 30  # env file over the default
    assert settings.smtp_port == 587  # default
    named_by_env = _load(tmp_path, env={"PUPILGUARD_ADMIN_ENV_FILE": str(env_file)})
    assert named_by_env.listen == "127.0.0.1:9003"


def test_the_proxys_env_file_is_not_the_admins(tmp_path):
    proxy_env = tmp_path / "proxy.env"
    proxy_env.write_text("PUPILGUARD_RETENTION_DAYS=30\n")
    assert _load(tmp_path, env={"PUPILGUARD_ENV_FILE": str(proxy_env)}).retention_days == 365
    with pytest.raises(FileNotFoundError, match="--env-file"):
        _load(tmp_path, {"env_file": str(tmp_path / "missing.env")})


def test_names_in_deployments_keep_working(tmp_path):
    """What deploy/install.sh writes into admin.env and compose.yaml sets."""
    settings = _load(tmp_path, env={"PUPILGUARD_ADMIN_LISTEN": "127.0.0.1:8701",
                                    "PUPILGUARD_ROSTER_KEY_FILE": "/etc/pupilguard/roster.key",
                                    "PUPILGUARD_ALLOWLIST_FILE": "/etc/pupilguard/allowlist.yaml",
                                    "DATABASE_URL": "postgresql+psycopg://pupilguard@db/pupilguard",
                                    "PUPILGUARD_COOKIE_SECURE": "1"})
    assert settings.listen == "127.0.0.1:8701" and str(settings.data_dir) == str(tmp_path / "data")
    assert str(settings.roster_key_file) == "/etc/pupilguard/roster.key"
    assert str(settings.allowlist_file) == "/etc/pupilguard/allowlist.yaml"
    assert settings.database_url == "postgresql+psycopg://pupilguard@db/pupilguard" and settings.cookie_secure
    assert "s" * 40 not in repr(settings)  # secrets stay out of logs and tracebacks


def test_derived_paths_are_filled_in_and_the_settings_frozen(tmp_path):
    settings = _load(tmp_path)
    assert settings.database_url == f"sqlite:///{(tmp_path / 'data' / 'admin.sqlite3').resolve()}"
    assert settings.roster_key_file == tmp_path / "data" / "roster.key"
    with pytest.raises(ValueError):
        settings.listen = "0.0.0.0:80"


def test_every_admin_flag_is_a_settings_flag(tmp_path, monkeypatch):
    """serve and migrate declare no flag of their own: each is a setting's, with its default from the model."""
    parser = _parser()
    flagged = {flag_name(Settings, name): name for name in Settings.model_fields if flag_name(Settings, name)}
    for command, expected in ((("admin", "serve"), cli.COMMON_SETTINGS + cli.SERVE_SETTINGS),
                              (("admin", "migrate"), cli.COMMON_SETTINGS)):
        options = {o for a in _subcommand(parser, *command)._actions for o in a.option_strings} - {"-h", "--help"}
        assert {flagged[o] for o in options} == set(expected)
    taken = set(cli.COMMON_SETTINGS + cli.SERVE_SETTINGS)
    assert set(flagged.values()) == taken  # no setting has a flag that no command takes

    monkeypatch.setenv("PUPILGUARD_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("PUPILGUARD_ADMIN_LISTEN", "127.0.0.1:8702")
    monkeypatch.setenv("PUPILGUARD_DATA_DIR", str(tmp_path / "from-env"))
    args = parser.parse_args(["admin", "serve", "--data-dir", str(tmp_path / "from-flag")])
    settings = cli._settings(args)
    assert settings.listen == "127.0.0.1:8702" and settings.data_dir == tmp_path / "from-flag"


def test_contacts_arguments_are_not_read_as_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("PUPILGUARD_SECRET_KEY", "s" * 40)
    monkeypatch.delenv("PUPILGUARD_DSL_EMAIL", raising=False)
    args = _parser().parse_args(["admin", "contacts", "--data-dir", str(tmp_path), "--dsl-email", "dsl@school.example"])
    assert cli._settings(args).dsl_email is None


def test_a_bad_setting_is_one_line_naming_its_variable(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PUPILGUARD_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("PUPILGUARD_SMTP_PORT", "0")
    with pytest.raises(SystemExit):
        cli._settings(_parser().parse_args(["admin", "migrate", "--data-dir", str(tmp_path)]))
    err = capsys.readouterr().err
    assert err.startswith("pupilguard admin: bad settings: PUPILGUARD_SMTP_PORT: ") and err.count("\n") == 1
