#!/usr/bin/env bash
# Throwaway PostgreSQL 15 and S3 (moto) servers on 127.0.0.1, for CI and for developers.
#
#   scripts/dev-services.sh start <statedir>   start both; write <statedir>/env (export lines)
#   scripts/dev-services.sh stop  <statedir>   stop both; safe to repeat or after a failed start
#
# Then: `source <statedir>/env` sets DATABASE_URL, S3_* and AWS_* for `npm test` and friends.
# Needs Debian's postgresql-15 (/usr/lib/postgresql/15/bin, override with PG_BIN) and moto's
# `moto_server` (pip package moto, override with MOTO_SERVER). Ports are picked free at start.
# As root, PostgreSQL runs as the `postgres` user; otherwise as the current user.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
S3_BUCKET_NAME=tuneforge-ci

die() {
  echo "dev-services: error: $*" >&2
  exit 1
}
log() { echo "dev-services: $*" >&2; }

usage() {
  echo "usage: $0 start|stop <statedir>" >&2
  exit 2
}

[[ $# -eq 2 ]] || usage
command=$1
statedir=$2
[[ -n $statedir ]] || usage

# Runs a command as the user that owns the PostgreSQL files.
as_pg() {
  if [[ $EUID -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

find_moto() {
  if [[ -n ${MOTO_SERVER:-} ]]; then
    command -v "$MOTO_SERVER" || die "MOTO_SERVER=$MOTO_SERVER is not an executable"
    return
  fi
  local candidate
  for candidate in "$(command -v moto_server || true)" /root/.pyenv/shims/moto_server /usr/local/bin/moto_server; do
    if [[ -n $candidate && -x $candidate ]]; then
      echo "$candidate"
      return
    fi
  done
  die "moto_server not found (install the Python package moto with its server extra: pip install 'moto[server]'; or set MOTO_SERVER)"
}

# True when the pid in the given file is alive and its command line mentions $2.
pid_alive() {
  local pidfile=$1 pattern=$2 pid
  [[ -f $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$pattern"
}

start() {
  # Check everything we need before touching anything.
  local tool
  for tool in initdb pg_ctl postgres; do
    [[ -x $PG_BIN/$tool ]] || die "$PG_BIN/$tool not found (install Debian's postgresql-15: apt-get install -y postgresql-15; or set PG_BIN)"
  done
  local moto
  moto=$(find_moto)
  command -v python3 >/dev/null || die "python3 not found (used to pick free ports)"
  command -v curl >/dev/null || die "curl not found (used to wait for moto_server)"
  if [[ $EUID -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "no 'postgres' user to run PostgreSQL as (Debian's postgresql-15 package creates it)"
  fi

  mkdir -p "$statedir"
  statedir=$(cd "$statedir" && pwd)
  if [[ -e $statedir/pg/data/postmaster.pid ]] || pid_alive "$statedir/moto.pid" moto; then
    die "services already running in $statedir (run: $0 stop $statedir)"
  fi
  # From here on, a failed start stops whatever it had started.
  trap 'rc=$?; if ((rc != 0)); then log "start failed, cleaning up"; stop || true; fi' EXIT
  rm -rf "$statedir/pg" "$statedir/env"
  mkdir -p "$statedir/pg"
  chmod 755 "$statedir"
  if [[ $EUID -eq 0 ]]; then
    chown postgres:postgres "$statedir/pg"
    as_pg test -x "$statedir" || die "the postgres user cannot enter $statedir: put it under a directory every user can traverse (e.g. mktemp -d)"
  fi
  chmod 700 "$statedir/pg"

  # The Unix socket path must stay under ~107 bytes; use a short directory if the statedir is deep.
  local sockdir=$statedir/pg
  if ((${#sockdir} > 80)); then
    sockdir=$(mktemp -d /tmp/tfpg.XXXXXX)
    chmod 755 "$sockdir"
    [[ $EUID -eq 0 ]] && chown postgres:postgres "$sockdir"
    echo "$sockdir" >"$statedir/sockdir"
  fi

  local pgport motoport
  pgport=$(free_port)
  log "PostgreSQL: initdb in $statedir/pg/data"
  as_pg "$PG_BIN/initdb" -D "$statedir/pg/data" -U postgres --auth=trust -E UTF8 --no-locale \
    >"$statedir/pg/initdb.log" 2>&1 || {
    cat "$statedir/pg/initdb.log" >&2
    die "initdb failed"
  }
  log "PostgreSQL: starting on 127.0.0.1:$pgport"
  as_pg "$PG_BIN/pg_ctl" -D "$statedir/pg/data" -l "$statedir/pg/server.log" \
    -o "-p $pgport -k $sockdir -c listen_addresses=127.0.0.1" -w -t 60 start >/dev/null || {
    cat "$statedir/pg/server.log" >&2 || true
    die "PostgreSQL did not start"
  }

  motoport=$(free_port)
  log "moto: starting $moto on 127.0.0.1:$motoport"
  # Own session and process group, no stdin: survives the caller's job control, killed as a group.
  setsid "$moto" -H 127.0.0.1 -p "$motoport" </dev/null >"$statedir/moto.log" 2>&1 &
  echo $! >"$statedir/moto.pid"
  local deadline=$((SECONDS + 20)) code
  while :; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$motoport/" || true)
    [[ $code != 000 && -n $code ]] && break
    if ! kill -0 "$(<"$statedir/moto.pid")" 2>/dev/null; then
      cat "$statedir/moto.log" >&2 || true
      die "moto_server exited"
    fi
    if ((SECONDS >= deadline)); then
      cat "$statedir/moto.log" >&2 || true
      die "moto_server did not answer on 127.0.0.1:$motoport within 20 s"
    fi
    sleep 0.2
  done
  # moto keeps everything in memory: make the bucket the env file names (a real deployment has one).
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X PUT "http://127.0.0.1:$motoport/$S3_BUCKET_NAME" || true)
  [[ $code == 200 ]] || die "could not create bucket $S3_BUCKET_NAME in moto (HTTP $code)"

  cat >"$statedir/env" <<EOF
export DATABASE_URL=postgres://postgres@127.0.0.1:$pgport/postgres
export S3_BUCKET=$S3_BUCKET_NAME
export S3_ENDPOINT=http://127.0.0.1:$motoport
export S3_REGION=us-east-1
export S3_FORCE_PATH_STYLE=true
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
EOF
  log "ready: PostgreSQL 127.0.0.1:$pgport, S3 (moto) http://127.0.0.1:$motoport, env in $statedir/env"
}

stop() {
  [[ -d $statedir ]] || {
    log "nothing to stop: $statedir does not exist"
    return 0
  }
  local status=0
  if [[ -f $statedir/pg/data/postmaster.pid ]]; then
    log "PostgreSQL: stopping"
    if [[ -x $PG_BIN/pg_ctl ]] && as_pg "$PG_BIN/pg_ctl" -D "$statedir/pg/data" -m fast -w -t 30 stop >/dev/null; then
      :
    else
      # pg_ctl failed: kill the postmaster named in the pid file (first line), if it is ours.
      local pgpid
      pgpid=$(head -n 1 "$statedir/pg/data/postmaster.pid" 2>/dev/null || true)
      if [[ $pgpid =~ ^[0-9]+$ ]] && tr '\0' ' ' <"/proc/$pgpid/cmdline" 2>/dev/null | grep -q -- "$statedir/pg/data"; then
        log "PostgreSQL: pg_ctl stop failed, sending SIGQUIT to $pgpid"
        kill -QUIT "$pgpid" 2>/dev/null || true
      else
        log "PostgreSQL: not running (stale postmaster.pid)"
        rm -f "$statedir/pg/data/postmaster.pid"
      fi
    fi
  fi

  if pid_alive "$statedir/moto.pid" moto; then
    local pid
    pid=$(<"$statedir/moto.pid")
    log "moto: stopping pid $pid"
    # setsid made it a process-group leader: signal the group (the pyenv shim may have children).
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 10))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    if kill -0 "$pid" 2>/dev/null; then
      log "moto: pid $pid is still alive"
      status=1
    fi
  fi
  rm -f "$statedir/moto.pid" "$statedir/env"

  if [[ -f $statedir/sockdir ]]; then
    rm -rf -- "$(<"$statedir/sockdir")"
    rm -f "$statedir/sockdir"
  fi
  return "$status"
}

case $command in
  start)
    start
    trap - EXIT
    ;;
  stop) stop ;;
  *) usage ;;
esac
