"""Loads the shared harness (tests/support) for every test folder, and marks the end-to-end tests.

Markers (pyproject.toml): `e2e` runs pupilguard as its own processes (a proxy, the scan or OCR worker pool, the
admin service, a command), `browser` drives Chromium, `postgres` needs the PostgreSQL server, `slow` takes more
than a few seconds even among those. The inner loop, `make test-fast`, is
`pytest -m "not e2e and not browser and not postgres and not slow"`.
"""
import gc
import os

# One BLAS thread, as the proxy's detection workers run (proxy/workers.py); set before anything loads numpy, which
# reads it once. The tests run the engine in this process, and OpenBLAS's own threads, spinning for matrices this
# small on a busy 2-core machine, doubled the detectors tests' time.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest  # noqa: E402 - after the BLAS setting above

pytest_plugins = ["tests.support.proxy", "tests.support.admin", "tests.support.detectors", "tests.support.mail"]

# A test that asks for one of these fixtures talks to a real `pupilguard proxy` process.
_PROXY_FIXTURES = {"proxy", "start_proxy"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _PROXY_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


def pytest_configure(config: pytest.Config) -> None:
    """The garbage collector runs less often in tests (every 100,000 new objects rather than 700). Each admin test
    builds an app, and each detectors engine its lexicons: at the default, full collections walked those again and
    again and took about a seventh of the inner loop's CPU. Objects without cycles are still freed at once, and the
    pupilguard processes the e2e tests start keep Python's defaults."""
    gc.set_threshold(100_000, 50, 100)


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection made (every test module and its tables, the modules under test) lives for the whole session:
    the garbage collector need not walk it again."""
    gc.collect()
    gc.freeze()
