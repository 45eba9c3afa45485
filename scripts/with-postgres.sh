#!/usr/bin/env bash
# Run CMD with a throwaway PostgreSQL server that lives only as long as CMD.
#
#   bash scripts/with-postgres.sh CMD [ARGS...]
#
# - a fresh cluster in a temp dir under /tmp (initdb, trust auth, fsync off);
# - listens on a unix socket in that dir and on 127.0.0.1 at a free port;
# - creates the database pledgeflow_test and exports
#     PLEDGEFLOW_TEST_PG_URL=postgresql+psycopg://USER@127.0.0.1:PORT/pledgeflow_test
#   where USER is the OS user that ran initdb (`postgres` when this script runs as root,
#   since the server refuses to run as root; otherwise the current user);
# - stops the server and removes the temp dir when CMD ends (or the script is interrupted);
# - exits with CMD's exit code.
#
# The server binaries are taken from PATH, else from /usr/lib/postgresql/<version>/bin
# (15 preferred); PG_BINDIR=/path/to/bin overrides both. If none is found the script
# fails: it never runs CMD without PostgreSQL.
set -euo pipefail

die() { echo "with-postgres.sh: $*" >&2; exit 1; }

[ "$#" -gt 0 ] || die "usage: with-postgres.sh CMD [ARGS...]"

# --- locate the server binaries -------------------------------------------------------
find_bindir() {
    if [ -n "${PG_BINDIR:-}" ]; then
        echo "$PG_BINDIR"; return 0
    fi
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"; return 0
    fi
    local d
    for d in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            echo "$d"; return 0
        fi
    done
    return 1
}

if ! PG_BIN=$(find_bindir) || [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
    die "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH, in /usr/lib/postgresql/*/bin" \
        "or in PG_BINDIR. Install PostgreSQL 15 (Debian: apt-get install postgresql-15) and retry."
fi
INITDB="$PG_BIN/initdb"
PG_CTL="$PG_BIN/pg_ctl"
PG_VERSION=$("$INITDB" --version)
PG_VERSION=${PG_VERSION/#initdb (PostgreSQL)/PostgreSQL}
case "$PG_VERSION" in
    *" 15."*) ;;
    *) echo "with-postgres.sh: warning: expected PostgreSQL 15, found: $PG_VERSION" >&2 ;;
esac

# --- who runs the server ----------------------------------------------------------------
# The server refuses to run as root; as root we run it as an unprivileged system user.
AS_USER=()
if [ "$(id -u)" -eq 0 ]; then
    PG_OS_USER=${PG_OS_USER:-postgres}
    id -u "$PG_OS_USER" >/dev/null 2>&1 \
        || die "running as root needs an unprivileged OS user for the server; '$PG_OS_USER' does not exist" \
               "(create it with 'useradd --system postgres' or set PG_OS_USER)"
    RUNUSER=$(command -v runuser || true)
    for c in /usr/sbin/runuser /sbin/runuser; do
        [ -n "$RUNUSER" ] || { [ -x "$c" ] && RUNUSER=$c; }
    done
    [ -n "$RUNUSER" ] || die "running as root needs 'runuser' (util-linux)"
    AS_USER=("$RUNUSER" -u "$PG_OS_USER" --)
else
    PG_OS_USER=$(id -un)
fi
as_pg() { "${AS_USER[@]}" "$@"; }

# --- temp dir, cleanup ------------------------------------------------------------------
# Always under /tmp (world-traversable), whatever TMPDIR says.
PG_TMP=$(mktemp -d /tmp/pledgeflow-pg.XXXXXX)
PG_DATA="$PG_TMP/data"
PG_LOG="$PG_TMP/postgres.log"
if [ "$(id -u)" -eq 0 ]; then
    chown "$PG_OS_USER": "$PG_TMP"
fi
chmod 700 "$PG_TMP"

cleanup() {
    local rc=$?
    set +e
    if [ -f "$PG_DATA/postmaster.pid" ]; then
        (cd "$PG_TMP" && as_pg "$PG_CTL" -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null 2>&1)
        if [ -f "$PG_DATA/postmaster.pid" ]; then
            local pid
            pid=$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null)
            if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
                (cd "$PG_TMP" && as_pg "$PG_CTL" -D "$PG_DATA" -m immediate -w -t 30 stop >/dev/null 2>&1)
            fi
        fi
    fi
    rm -rf "$PG_TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

show_log() {
    echo "---- $PG_LOG (last 40 lines) ----" >&2
    tail -n 40 "$PG_LOG" >&2 2>/dev/null || true
    echo "----" >&2
}

# --- initdb -----------------------------------------------------------------------------
# (cd into the temp dir: the server user may not be able to read the caller's cwd)
if ! (cd "$PG_TMP" && as_pg "$INITDB" -D "$PG_DATA" -U "$PG_OS_USER" --auth=trust \
        --encoding=UTF8 --locale=C --no-sync >"$PG_TMP/initdb.log" 2>&1); then
    cat "$PG_TMP/initdb.log" >&2
    die "initdb failed"
fi

cat >>"$PG_DATA/postgresql.conf" <<EOF

# --- throwaway test server (scripts/with-postgres.sh) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_TMP'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF

# --- start on a free port (retry if another process grabs it first) ---------------------
free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

PG_PORT=
for _attempt in 1 2 3 4 5; do
    port=$(free_port)
    if (cd "$PG_TMP" && as_pg "$PG_CTL" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 -o "-p $port" start >/dev/null 2>&1); then
        PG_PORT=$port
        break
    fi
    if ! grep -qi "could not bind\|address already in use" "$PG_LOG" 2>/dev/null; then
        show_log
        die "could not start PostgreSQL ($PG_VERSION)"
    fi
    : >"$PG_LOG"
done
[ -n "$PG_PORT" ] || { show_log; die "could not find a free port for PostgreSQL"; }

# --- database -----------------------------------------------------------------------------
CREATEDB="$PG_BIN/createdb"
[ -x "$CREATEDB" ] || CREATEDB=$(command -v createdb || true)
[ -n "$CREATEDB" ] || die "createdb not found next to initdb nor on PATH"
"$CREATEDB" --no-password -h 127.0.0.1 -p "$PG_PORT" -U "$PG_OS_USER" pledgeflow_test \
    || { show_log; die "createdb pledgeflow_test failed"; }

export PLEDGEFLOW_TEST_PG_URL="postgresql+psycopg://${PG_OS_USER}@127.0.0.1:${PG_PORT}/pledgeflow_test"
# `$PLEDGEFLOW_TEST_PG_CTL stop|start`: the fault test stops this server and starts it again (same port).
PG_CTL_SCRIPT="$PG_TMP/pg_ctl.sh"
cat >"$PG_CTL_SCRIPT" <<EOF
#!/usr/bin/env bash
set -euo pipefail
cd "$PG_TMP"
case "\$1" in
    stop) ${AS_USER[*]} "$PG_CTL" -D "$PG_DATA" -m fast -w -t 30 stop ;;
    start) ${AS_USER[*]} "$PG_CTL" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 -o "-p $PG_PORT" start ;;
    *) echo "usage: \$0 stop|start" >&2; exit 2 ;;
esac
EOF
chmod 755 "$PG_CTL_SCRIPT"
export PLEDGEFLOW_TEST_PG_CTL="$PG_CTL_SCRIPT"
echo "with-postgres.sh: $PG_VERSION on 127.0.0.1:$PG_PORT (socket dir $PG_TMP);" \
     "PLEDGEFLOW_TEST_PG_URL=$PLEDGEFLOW_TEST_PG_URL" >&2

# --- run CMD --------------------------------------------------------------------------------
set +e
"$@"
rc=$?
set -e
exit "$rc"
