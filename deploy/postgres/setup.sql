-- PostgreSQL for the pupilguard admin service, run as the postgres superuser (deploy/README.md shows how):
--   sudo -u postgres psql -v ON_ERROR_STOP=1 -v name=pupilguard -v password="$PGPASS" -f deploy/postgres/setup.sql
-- creates a login role and a database, both called :name, that only that role may use. The service creates its
-- own tables through Alembic migrations (deploy/install.sh and the systemd unit run them); it needs no more.
\if :{?password}
\else
  \echo 'setup.sql: pass the new role''s password with -v password=…'
  \quit
\endif
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name" ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
\connect :"name"
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT ALL ON SCHEMA public TO :"name";
