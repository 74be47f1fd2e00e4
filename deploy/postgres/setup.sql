-- PostgreSQL for the pupilguard admin service (run as the postgres superuser):
--   sudo -u postgres psql -f deploy/postgres/setup.sql
-- then set DATABASE_URL=postgresql+psycopg://pupilguard:<password>@127.0.0.1:5432/pupilguard
-- and run `pupilguard admin migrate` (the systemd unit does this before each start).
CREATE ROLE pupilguard LOGIN PASSWORD 'change-me';
CREATE DATABASE pupilguard OWNER pupilguard ENCODING 'UTF8' TEMPLATE template0;
\connect pupilguard
-- The service creates its own tables through Alembic migrations; it needs no other privileges.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT ALL ON SCHEMA public TO pupilguard;
