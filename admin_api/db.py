"""Database engine and sessions: SQLite (embedded default) or PostgreSQL (psycopg 3), one code path for both."""
from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Path as PathParam, Request
from sqlalchemy import JSON, Engine, Table, any_, bindparam, create_engine, event, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    # hide_parameters: a database error's message must not carry event content (excerpts, usernames) into logs.
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            # the event store holds personal data (redacted excerpts, staff usernames): owner-only directory
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True)
        _configure_postgresql(engine)
        return engine
    raise ValueError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql+psycopg")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Take transaction control away from the sqlite3 module so the "begin" hook below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        # IMMEDIATE takes the write lock up front (waiting up to busy_timeout). A deferred transaction that reads
        # and then writes fails at once with SQLITE_BUSY if another connection (e.g. a proxy's ingest) committed
        # in between; serialising transactions is the price of never losing a request on the embedded database.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Day buckets in statistics are UTC days on both databases.
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
        dbapi_connection.commit()


class Database:
    """The engine and session factory of one admin service instance (app.state.db)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return self.sessions()

    def dispose(self) -> None:
        self.engine.dispose()


def bulk_insert(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    conflict: Sequence[str] | None = None,
    add_on_conflict: str | None = None,
    returning: str | tuple[str, ...] | None = None,
) -> list[Any]:
    """Insert many rows in one statement: `ON CONFLICT (conflict) DO NOTHING`, or add `add_on_conflict` to the
    existing row's value (an upsert counter); returns the `returning` column of the rows actually inserted.

    On PostgreSQL the rows travel as one array per column through `unnest()`: a single short statement whatever
    the batch size, which is several times faster than a multi-row VALUES list (psycopg parses that in Python).
    A tuple of `returning` columns returns rows of those columns.
    """
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _pg_bulk_insert(session, table, rows, conflict, add_on_conflict, returning)
    stmt = sqlite.insert(table)
    if add_on_conflict:
        stmt = stmt.on_conflict_do_update(index_elements=list(conflict or ()),
                                          set_={add_on_conflict: table.c[add_on_conflict]
                                                + stmt.excluded[add_on_conflict]})
    elif conflict:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
    if isinstance(returning, tuple):
        return [tuple(r) for r in session.execute(stmt.returning(*(table.c[c] for c in returning)), list(rows))]
    if returning:
        return list(session.execute(stmt.returning(table.c[returning]), list(rows)).scalars())
    session.execute(stmt, list(rows))
    return []


def _pg_bulk_insert(session, table, rows, conflict, add_on_conflict, returning):  # type: ignore[no-untyped-def]
    dialect = postgresql.dialect()
    quote = dialect.identifier_preparer.quote
    columns = list(rows[0])
    casts, params = [], {}
    for i, name in enumerate(columns):
        column = table.c[name]
        values = [row[name] for row in rows]
        if isinstance(column.type, JSON):
            values = [None if v is None else json.dumps(v) for v in values]
        casts.append(f"CAST(:p{i} AS {column.type.compile(dialect=dialect)}[])")
        params[f"p{i}"] = values
    sql = (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({', '.join(map(quote, columns))}) "
           f"SELECT * FROM unnest({', '.join(casts)})")
    if conflict:
        keys = ", ".join(map(quote, conflict))
        if add_on_conflict:
            target = quote(add_on_conflict)
            sql += f" ON CONFLICT ({keys}) DO UPDATE SET {target} = {table.name}.{target} + EXCLUDED.{target}"
        else:
            sql += f" ON CONFLICT ({keys}) DO NOTHING"
    if isinstance(returning, tuple):
        sql += f" RETURNING {', '.join(map(quote, returning))}"
        return [tuple(row) for row in session.execute(text(sql), params)]
    if returning:
        sql += f" RETURNING {quote(returning)}"
        return list(session.execute(text(sql), params).scalars())
    session.execute(text(sql), params)
    return []


def existing_keys(session: Session, column: Any, values: Sequence[Any]) -> list[Any]:
    """The values of `column` that are already stored among `values` (one array parameter on PostgreSQL rather
    than hundreds of IN parameters)."""
    if not values:
        return []
    if session.get_bind().dialect.name == "postgresql":
        array = bindparam("keys", list(values), type_=postgresql.ARRAY(column.type))
        return list(session.scalars(select(column).where(column == any_(array))))
    return list(session.scalars(select(column).where(column.in_(list(values)))))


def bulk_update(session: Session, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> None:
    """`UPDATE table SET col = … WHERE key = row[key]` for many rows (each a dict of the key and the same columns)
    in one statement: on PostgreSQL the values travel as one array per column through `unnest()`, as in
    bulk_insert (an executemany would be a round trip per row)."""
    if not rows:
        return
    columns = [c for c in rows[0] if c != key]
    if session.get_bind().dialect.name != "postgresql":
        stmt = table.update().where(table.c[key] == bindparam(f"_{key}")).values(
            {c: bindparam(f"_{c}") for c in columns})
        session.execute(stmt, [{f"_{c}": v for c, v in row.items()} for row in rows])
        return
    dialect = postgresql.dialect()
    quote = dialect.identifier_preparer.quote
    names = [key, *columns]
    arrays = ", ".join(f"CAST(:p{i} AS {table.c[n].type.compile(dialect=dialect)}[])" for i, n in enumerate(names))
    assignments = ", ".join(f"{quote(c)} = v.{quote(c)}" for c in columns)
    session.execute(text(
        f"UPDATE {dialect.identifier_preparer.format_table(table)} SET {assignments} "
        f"FROM unnest({arrays}) AS v({', '.join(map(quote, names))}) "
        f"WHERE {quote(table.name)}.{quote(key)} = v.{quote(key)}"),
        {f"p{i}": [row[n] for row in rows] for i, n in enumerate(names)})


def get_session(request: Request) -> Iterator[Session]:
    """FastAPI dependency: a session per request. Handlers commit explicitly; anything uncommitted is rolled back."""
    with request.app.state.db.session() as session:
        yield session


# Route parameters say `db: SessionDep` (one definition of how a request gets its session)
SessionDep = Annotated[Session, Depends(get_session)]
# A row id in a path: the range of the integer primary keys, so a huge number is a 422, not a database overflow
RowId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]


ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"


def alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config(str(ALEMBIC_INI))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to `revision` (the app does this at start; `pupilguard admin migrate` too)."""
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # several workers or nodes starting at once: one migrates, the others wait and find nothing to do
            connection.execute(text("SELECT pg_advisory_xact_lock(7401772)"))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
