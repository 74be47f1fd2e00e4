"""The README's settings tables are the settings models themselves, so the two cannot drift apart.

`python -m tests.test_readme_settings` rewrites the tables after a setting is added, renamed or documented anew.
"""
import re
from pathlib import Path

from admin_api.settings import Settings as AdminSettings
from detectors.service_settings import markdown_table
from proxy.settings import ProxySettings

README = Path(__file__).resolve().parents[1] / "README.md"
TABLES = {"proxy": ProxySettings, "admin": AdminSettings}


def _block(service: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- {service} settings: made from the settings model -->\n)(.*?)(<!-- end -->)", re.S)


def _rewritten(text: str) -> str:
    for service, model in TABLES.items():
        text = _block(service).sub(lambda m, model=model: m[1] + markdown_table(model) + m[3], text)
    return text


def test_readme_lists_every_setting_as_the_models_declare_it():
    text = README.read_text(encoding="utf-8")
    for service in TABLES:
        assert _block(service).search(text), f"README.md has no {service} settings table"
    assert text == _rewritten(text), "README.md's settings tables are out of date: python -m tests.test_readme_settings"


def test_every_setting_says_what_it_does():
    for model in TABLES.values():
        assert all(info.description for info in model.model_fields.values())


if __name__ == "__main__":
    README.write_text(_rewritten(README.read_text(encoding="utf-8")), encoding="utf-8")
