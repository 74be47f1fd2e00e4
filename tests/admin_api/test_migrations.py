"""Alembic migrations produce exactly the schema of the ORM models, on SQLite and PostgreSQL, and round-trip."""
from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from admin_api.db import alembic_config, make_engine, migrate
from admin_api.models import Base


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """An empty SQLite file, not the shared migrated copy: these tests run the migrations from nothing."""
    return f"sqlite:///{tmp_path / 'admin.sqlite3'}"


def _diff(engine):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(context, Base.metadata)


def test_upgrade_head_matches_the_models(database_url):
    engine = make_engine(database_url)
    try:
        migrate(engine)
        assert _diff(engine) == []
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head
        migrate(engine)  # running again (every start-up does) is a no-op
        assert _diff(engine) == []
    finally:
        engine.dispose()


def test_downgrade_to_base_and_up_again(database_url):
    engine = make_engine(database_url)
    try:
        migrate(engine)
        config = alembic_config(database_url)
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate(engine)
        assert _diff(engine) == []
    finally:
        engine.dispose()


def test_single_head():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
