"""Loads the shared harness (tests/support) for every test folder, and marks the end-to-end tests.

Markers (pyproject.toml): `e2e` runs pupilguard as its own processes (a proxy, the scan or OCR worker pool, the
admin service, a command), `browser` drives Chromium, `postgres` needs the PostgreSQL server, `slow` takes more
than a few seconds even among those. The inner loop, `make test-fast`, is
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
