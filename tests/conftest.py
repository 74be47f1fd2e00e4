"""Loads the shared harness (tests/support) for every test folder, and marks the end-to-end tests.

Markers: `e2e` starts a real proxy (or other service processes), `browser` drives Chromium, `postgres` needs the
PostgreSQL server, `slow` takes more than a few seconds. The inner loop is
`pytest -m "not e2e and not browser and not postgres"`.
"""
import pytest

pytest_plugins = ["tests.support.proxy", "tests.support.admin", "tests.support.detectors", "tests.support.mail"]

# A test that asks for one of these fixtures talks to a real `pupilguard proxy` process.
_PROXY_FIXTURES = {"proxy", "start_proxy"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _PROXY_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)
