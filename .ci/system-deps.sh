#!/usr/bin/env bash
# Idempotently installs and starts what the test suite needs from Debian: Chromium (browser tests), Tesseract (OCR),
# PostgreSQL (the production store, on 127.0.0.1:5432 with trust auth for local tests) and OpenLDAP's slapd
# (the proxy's directory-group tests start their own server on a free loopback port).
set -euo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v certutil >/dev/null || need+=(libnss3-tools)   # the browser test trusts the proxy CA via an NSS db
command -v pg_ctlcluster >/dev/null || need+=(postgresql)
command -v curl >/dev/null || need+=(curl)                # the trial test runs the curl line `make run` prints
[ -x /usr/sbin/slapd ] || need+=(slapd)                   # OpenLDAP: the directory-group tests run their own slapd
command -v systemd-analyze >/dev/null || need+=(systemd)  # the install test verifies the units it installs
command -v openssl >/dev/null || need+=(openssl)          # the guide's PostgreSQL step makes a password with it
command -v pdftoppm >/dev/null || need+=(poppler-utils)   # the governors' report test draws the PDF's pages
# What a pupilguard host needs at run time (Tesseract for OCR, Pango for the report PDF, binutils...): the same
# list the installer reads, so the tests run with exactly what production has
while read -r pkg _; do
  [ -n "$pkg" ] && [ "${pkg:0:1}" != "#" ] || continue
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || need+=("$pkg")
done < "$(dirname "$0")/../deploy/debian-packages.txt"
if [ ${#need[@]} -gt 0 ]; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# A freshly installed cluster asks for passwords on TCP; the tests use trust for postgres on loopback only.
for hba in /etc/postgresql/*/main/pg_hba.conf; do
  [ -f "$hba" ] || continue
  if ! as_root grep -qE '^host\s+all\s+(all|postgres)\s+127\.0\.0\.1/32\s+trust' "$hba"; then
    as_root sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(basename "$(dirname "$(dirname "$hba")")")" main reload || true
  fi
done
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
# A database of our own for the tests; trust auth for user postgres on loopback, as on our machines.
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='pupilguard_test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE pupilguard_test"
