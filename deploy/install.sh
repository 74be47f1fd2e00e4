#!/usr/bin/env bash
# Installs pupilguard on one Debian/Ubuntu host: proxy and admin service under systemd, run from this checkout.
#
#   sudo deploy/install.sh                                          # admin service on SQLite
#   sudo PUPILGUARD_DATABASE_URL=postgresql+psycopg://… deploy/install.sh   # … or on PostgreSQL
#   sudo deploy/install.sh --no-apt     # a host without apt: install deploy/debian-packages.txt's equivalents first
#
# It installs the Debian packages the services need (deploy/debian-packages.txt: Tesseract with its English and
# Welsh data, Pango for the governors' report) where they are missing.
# Safe to run again (after `git pull`, say): it never overwrites a key, token, env file or allowlist that
# exists — it only fills in what is missing, rebuilds the environment and refreshes the systemd units.
#
# Every path can be moved with an environment variable, so the test suite installs into a scratch root:
#   PUPILGUARD_ROOT      prefix for every system path below (default: none, i.e. /)
#   PUPILGUARD_VENV      the Python environment           (default: $PUPILGUARD_ROOT/opt/pupilguard/venv)
#   PUPILGUARD_USER      the service account, created if missing (default: pupilguard)
#   PUPILGUARD_DATABASE_URL     the admin service's database (default: SQLite in /var/lib/pupilguard/admin)
#   PUPILGUARD_PROXY_LISTEN     default 0.0.0.0:3128;  PUPILGUARD_ADMIN_LISTEN  default 127.0.0.1:8700
#   PUPILGUARD_METRICS_LISTEN   default 127.0.0.1:9464
#   PYTHON               the interpreter for the environment (default: the first Python >= 3.12 found)
set -euo pipefail

APT=yes
for arg in "$@"; do
  case $arg in
    --no-apt) APT=no ;;
    -h|--help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
    *) printf 'pupilguard install: unknown option %s (see --help)\n' "$arg" >&2; exit 2 ;;
  esac
done

SRC=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
ROOT=${PUPILGUARD_ROOT:-}
ETC=$ROOT/etc/pupilguard
STATE=$ROOT/var/lib/pupilguard
UNITS=$ROOT/etc/systemd/system
BIN=$ROOT/usr/local/sbin
VENV=${PUPILGUARD_VENV:-$ROOT/opt/pupilguard/venv}
SERVICE_USER=${PUPILGUARD_USER:-pupilguard}
DATABASE_URL=${PUPILGUARD_DATABASE_URL:-}
PROXY_LISTEN=${PUPILGUARD_PROXY_LISTEN:-0.0.0.0:3128}
ADMIN_LISTEN=${PUPILGUARD_ADMIN_LISTEN:-127.0.0.1:8700}
METRICS_LISTEN=${PUPILGUARD_METRICS_LISTEN:-127.0.0.1:9464}

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'pupilguard install: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }
# Ownership needs root; an unprivileged scratch install keeps its own.
own() { if is_root; then chown "$@"; fi; }
# Commands that write service state run as the service account, with the admin service's settings.
as_service() {
  local run=(env)
  if is_root && [ "$(id -un)" != "$SERVICE_USER" ]; then run=(runuser -u "$SERVICE_USER" -- env); fi
  "${run[@]}" sh -c 'umask 077; set -a; . "$0"; set +a; exec "$@"' "$ETC/admin.env" "$VENV/bin/pupilguard" "$@"
}

# --- 1. Python ------------------------------------------------------------------------------------------------
if [ -z "${PYTHON:-}" ]; then
  for candidate in python3.13 python3.12 python3 "$HOME"/.pyenv/versions/3.1[23]*/bin/python3; do
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      PYTHON=$candidate; break
    fi
  done
fi
[ -n "${PYTHON:-}" ] || die "pupilguard needs Python 3.12 or newer (see README.md: Python 3.11 notes)"
if [ -z "$ROOT" ]; then
  case $(readlink -f "$(command -v "$PYTHON")") in
    /home/*|/root/*) die "$PYTHON lives in a home directory, which the services cannot see (ProtectHome=yes):
  install Python 3.12 under /usr/local or /opt (e.g. pyenv with PYENV_ROOT=/opt/pyenv) and pass PYTHON=…" ;;
  esac
fi

# --- 2. Debian packages the services need: the missing ones only ----------------------------------------------
packages=()
while read -r package _; do
  case $package in ''|'#'*) continue ;; esac
  dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null | grep -qx installed || packages+=("$package")
done < "$SRC/deploy/debian-packages.txt"
# Debian's own Python makes environments only with its venv package (ensurepip) or pip installed.
if ! "$PYTHON" -m pip --version >/dev/null 2>&1 && ! "$PYTHON" -m ensurepip --version >/dev/null 2>&1; then
  packages+=("$(basename "$(readlink -f "$(command -v "$PYTHON")")")-venv")
fi
if [ ${#packages[@]} -gt 0 ]; then
  if [ "$APT" = no ]; then
    say "Skipping Debian packages (--no-apt); this host still needs: ${packages[*]}"
  elif ! command -v apt-get >/dev/null; then
    die "no apt-get here: install the equivalents of ${packages[*]}, then run this again with --no-apt"
  elif ! is_root; then
    die "installing ${packages[*]} needs root: run this with sudo (or install them and pass --no-apt)"
  else
    say "Debian packages: ${packages[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  fi
fi

# --- 3. Service account ----------------------------------------------------------------------------------------
if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
  say "Creating the system user $SERVICE_USER"
  useradd --system --user-group --home-dir /var/lib/pupilguard --no-create-home \
          --shell /usr/sbin/nologin "$SERVICE_USER"
fi
GROUP=$(id -gn "$SERVICE_USER")

# --- 4. Directories: configuration readable by the service, state writable only by it -------------------------
say "Directories under ${ROOT:-/}"
install -d -m 0755 "$UNITS" "$BIN" "$(dirname "$VENV")"
install -d -m 0750 "$ETC" "$STATE"
install -d -m 0700 "$STATE/proxy" "$STATE/admin"
own "root:$GROUP" "$ETC"
own "$SERVICE_USER:$GROUP" "$STATE" "$STATE/proxy" "$STATE/admin"

# --- 5. The Python environment: runtime dependencies only (no test tools), pinned by constraints.txt -----------
say "Python environment $VENV (runtime dependencies only)"
# pip is only needed while installing, so the environment has none: this Python's own pip installs into it, or,
# where this Python has none, one put in for the install and taken out after.
pip_into_venv() {
  if "$PYTHON" -m pip --python "$VENV/bin/python" --version >/dev/null 2>&1; then
    "$PYTHON" -m pip --python "$VENV/bin/python" "$@"
  else
    "$VENV/bin/python" -m ensurepip --default-pip >/dev/null
    "$VENV/bin/python" -m pip "$@"
    "$VENV/bin/python" -m pip uninstall --quiet --yes pip
  fi
}
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv --without-pip "$VENV"
# Once the environment has setuptools (spaCy needs it), pupilguard builds with it instead of a fresh copy each run.
reuse=(); "$VENV/bin/python" -c 'import setuptools' 2>/dev/null && reuse=(--no-build-isolation)
pip_into_venv install --quiet --disable-pip-version-check "${reuse[@]}" -c "$SRC/constraints.txt" "$SRC"
# What no pupilguard process ever reads comes out, which halves the environment (bench/env_size.py shows what
# is left): the symbols compiled extensions ship (libraries vendored under *.libs stay as the wheels built them),
# packages' own test suites, C/Cython sources and type stubs, and phonenumbers' geocoding, carrier and time-zone
# tables (only its geocoder, carrier and timezone modules read them; pupilguard and Presidio parse and match).
if command -v strip >/dev/null; then
  find "$VENV" -name '*.so' -type f -not -path '*.libs/*' -exec strip --strip-unneeded {} +
fi
SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
find "$SITE" -type d -name tests -prune -exec rm -rf {} +
find "$SITE" -type f \( -name '*.c' -o -name '*.cpp' -o -name '*.pyx' -o -name '*.pyi' \) -delete
rm -rf "$SITE"/phonenumbers/{geodata,carrierdata,tzdata}

# --- 6. Configuration (never overwritten) ----------------------------------------------------------------------
secret() {  # secret FILE: root writes it, the service group reads it, nobody else sees it
  chmod 0640 "$1"; own "root:$GROUP" "$1"
}
if [ ! -e "$ETC/allowlist.yaml" ]; then
  install -m 0640 "$SRC/allowlist.yaml" "$ETC/allowlist.yaml"; own "root:$GROUP" "$ETC/allowlist.yaml"
fi
if [ ! -e "$ETC/roster.key" ]; then
  say "Roster key $ETC/roster.key (hex, shared by proxy and admin service)"
  (umask 077; "$VENV/bin/python" -c 'import sys; from detectors.roster import RosterKey; RosterKey.load_or_create(sys.argv[1])' \
     "$ETC/roster.key")
  secret "$ETC/roster.key"
fi
if [ ! -e "$ETC/admin.env" ]; then
  say "Admin service settings $ETC/admin.env (${DATABASE_URL:+PostgreSQL}${DATABASE_URL:-SQLite})"
  {
    echo "# pupilguard admin service (read by pupilguard-admin.service and by \`sudo pupilguard admin …\`)"
    echo "PUPILGUARD_ADMIN_LISTEN=$ADMIN_LISTEN"
    echo "PUPILGUARD_DATA_DIR=$STATE/admin"
    echo "PUPILGUARD_ROSTER_KEY_FILE=$ETC/roster.key"
    echo "PUPILGUARD_ALLOWLIST_FILE=$ETC/allowlist.yaml"
    if [ -n "$DATABASE_URL" ]; then
      echo "DATABASE_URL=$DATABASE_URL"
    else
      echo "# SQLite in $STATE/admin/admin.sqlite3; for PostgreSQL set DATABASE_URL=postgresql+psycopg://…"
    fi
    echo "# The dashboard is reached through nginx with TLS (deploy/nginx): session cookies are Secure."
    echo "PUPILGUARD_COOKIE_SECURE=1"
  } > "$ETC/admin.env"
  secret "$ETC/admin.env"
elif [ -n "$DATABASE_URL" ] && ! grep -q '^DATABASE_URL=' "$ETC/admin.env"; then
  die "$ETC/admin.env exists and uses SQLite: add DATABASE_URL to it by hand (and move the data) to switch"
fi
if [ ! -e "$ETC/proxy.env" ]; then
  {
    echo "# pupilguard proxy (read by pupilguard-proxy.service and by \`sudo pupilguard doctor\`)"
    echo "PUPILGUARD_LISTEN=$PROXY_LISTEN"
    echo "PUPILGUARD_ADMIN_URL=http://$ADMIN_LISTEN"
    echo "PUPILGUARD_METRICS_LISTEN=$METRICS_LISTEN"
    echo "# Further \`pupilguard proxy\` flags, e.g. --allow-public-clients for devices with JANET or IPv6 addresses"
    echo "PUPILGUARD_PROXY_OPTIONS="
    echo "# The block page staff see: the school's name, logo (an https or data:image URL), colour, and languages"
    echo "# (en, cy, or both: cy,en / en,cy)."
    echo "#PUPILGUARD_SCHOOL_NAME="
    echo "#PUPILGUARD_SCHOOL_LOGO_URL="
    echo "#PUPILGUARD_SCHOOL_COLOUR=#1d4f91"
    echo "#PUPILGUARD_PAGE_LANGUAGES=en"
  } > "$ETC/proxy.env"
  secret "$ETC/proxy.env"
fi

# --- 7. systemd units and the `pupilguard` command for administrators ------------------------------------------
say "systemd units in $UNITS"
for unit in "$SRC"/deploy/systemd/*.service; do
  sed -e "s#/opt/pupilguard/venv#$VENV#g" -e "s#/etc/pupilguard#$ETC#g" -e "s#/var/lib/pupilguard#$STATE#g" \
      -e "s#^User=pupilguard#User=$SERVICE_USER#" -e "s#^Group=pupilguard#Group=$GROUP#" \
      -e "s#file:///opt/pupilguard/#file://$SRC/#" "$unit" > "$UNITS/$(basename "$unit")"
  chmod 0644 "$UNITS/$(basename "$unit")"
done
cat > "$BIN/pupilguard" <<EOF
#!/bin/sh
# pupilguard as its service account, with the admin service's settings (installed by deploy/install.sh).
if [ "\$(id -u)" = 0 ] && [ "\$(id -un)" != "$SERVICE_USER" ]; then
  exec runuser -u "$SERVICE_USER" -- "\$0" "\$@"
fi
umask 077; set -a; . "$ETC/admin.env"; set +a
export PUPILGUARD_PROXY_UNIT="$UNITS/pupilguard-proxy.service"   # what \`pupilguard doctor\` checks
exec "$VENV/bin/pupilguard" "\$@"
EOF
chmod 0755 "$BIN/pupilguard"

# --- 8. Database and the proxy's token ------------------------------------------------------------------------
say "Admin database: migrations"
as_service admin migrate
if [ ! -s "$ETC/proxy-token" ]; then
  say "Proxy token $ETC/proxy-token"
  name=$(hostname -s)
  token=$(as_service admin proxy-token create "$name" 2>/dev/null) || die "could not create a proxy token: if a \
proxy named $name exists already, run: sudo pupilguard admin proxy-token revoke $name; then run this again"
  (umask 077; printf '%s\n' "$token" > "$ETC/proxy-token")
  secret "$ETC/proxy-token"
fi

# --- 9. Start ---------------------------------------------------------------------------------------------------
if [ -z "$ROOT" ] && [ -d /run/systemd/system ]; then
  say "Starting pupilguard-admin and pupilguard-proxy"
  systemctl daemon-reload
  systemctl enable --quiet pupilguard-admin pupilguard-proxy
  systemctl restart pupilguard-admin pupilguard-proxy
  started=yes
fi

cat <<EOF

pupilguard is installed${started:+ and running}.
  Settings:    $ETC/proxy.env, $ETC/admin.env, $ETC/allowlist.yaml
  CA file:     $STATE/proxy/pupilguard-ca.pem   (created on the proxy's first start; trust it on staff devices)
Next:
  1. Check it:                  sudo pupilguard doctor
  2. A login for the DPO:       sudo pupilguard admin create-user dpo --role dpo
  3. The pupil roster:          cat sims-export.csv | sudo pupilguard admin roster import /dev/stdin
  4. Distribute the CA (deploy/guides/ca-distribution.md) and the PAC file (deploy/pac/README.md).
  5. Put nginx with TLS in front of the dashboard (deploy/README.md, step 5).
EOF
