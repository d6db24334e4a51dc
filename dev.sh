#!/usr/bin/env bash
# dev.sh — developer entry point for Parvis: dependencies, build, a local
# dev server on a private PostgreSQL cluster, and the test suites.
#
# Everything is relative to this script's directory; nothing outside it is
# written except Debian packages (deps) and, when run as root, the execute
# bit on parent directories so that the postgres user can reach ./var.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

BUILD_PKGS=(build-essential autoconf automake libtool pkg-config
	libmicrohttpd-dev libxml2-dev libpq-dev uuid-dev libargon2-dev
	libcmocka-dev libical-dev libunistring-dev)
TEST_PKGS=(postgresql litmus cadaver rclone curl openssl
	python3-pytest python3-requests python3-lxml
	davfs2 fuse3 gvfs-backends gvfs-fuse libglib2.0-bin dbus
	libreoffice-writer-nogui python3-uno python3-caldav vdirsyncer tzdata)

# libFuzzer targets of tests/fuzz/ (fuzz_<name>.c)
FUZZ_TARGETS=(path headers xml ical filter)

VAR="$ROOT/var"
PGDATA_DIR="$VAR/pg"
PGSOCK_DIR="$VAR/run"
PGLOG_DIR="$VAR/log"
DEV_PGPORT="${PARVIS_DEV_PGPORT:-5432}"
DEV_DSN="host=$PGSOCK_DIR dbname=parvis user=parvis"
[ "$DEV_PGPORT" = 5432 ] || DEV_DSN="host=$PGSOCK_DIR port=$DEV_PGPORT dbname=parvis user=parvis"
PYTHON=/usr/bin/python3

say() { printf 'dev.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

usage() {
	cat <<EOF
usage: ./dev.sh COMMAND [ARGS...]

commands:
  deps [--test]           check the Debian build packages (with --test also the
                          runtime/test ones); install the missing ones as root,
                          else print the apt-get command and exit 1
  build [--sanitize]      autoreconf if needed, configure and make in build/
                          (build-asan/ with --enable-sanitizers for --sanitize)
  run                     build, start the dev PostgreSQL cluster (./var), set up
                          user/space "demo" and run build/parvisd in the foreground
                          (Ctrl-C stops parvisd, then PostgreSQL); large chunks
                          are cached in ./var/chunk-cache
  test [--sanitize] [PYTEST ARGS...]
                          make check (unit tests), then the protocol tests
                          (pytest tests/protocol; a tests/... argument replaces
                          that path); --sanitize uses build-asan/ and deselects
                          the "heavy" tests
  ctl ARGS...             run build/parvisctl ARGS on the dev cluster (started
                          for the command and stopped again if it was not running)
  fuzz [TARGET] [SECONDS] [LIBFUZZER ARGS...]
                          configure build-fuzz/ (CC=clang --enable-fuzzers), build
                          the libFuzzer target tests/fuzz/fuzz_TARGET and run it
                          for SECONDS (default 60) on a copy of its corpus, in
                          build-fuzz/fuzz-work/TARGET/ (crashes: artifacts/);
                          without TARGET, each of: ${FUZZ_TARGETS[*]}
  --help                  this text

environment:
  PARVIS_LISTEN           run: address parvisd listens on (default 127.0.0.1:8080)
  PARVIS_DEMO_PASSWORD    run: password of user "demo" (default: a random one)
  PARVIS_DEV_PGPORT       port number of the dev cluster's socket (default 5432)
  JOBS                    make parallelism (default 2)
  FUZZ_KNOWN              fuzz: ids of open bugs the targets overlook, comma-
                          separated (tests/fuzz/crashes/README)

dev DSN: $DEV_DSN
EOF
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# ---------------------------------------------------------------- deps

pkg_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

cmd_deps() {
	local with_test=0
	while [ $# -gt 0 ]; do
		case "$1" in
		--test) with_test=1 ;;
		*) die "deps: unknown argument: $1" ;;
		esac
		shift
	done
	local pkgs=("${BUILD_PKGS[@]}") missing=() p
	[ "$with_test" -eq 1 ] && pkgs+=("${TEST_PKGS[@]}")
	for p in "${pkgs[@]}"; do
		pkg_installed "$p" || missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		return 0
	fi
	local install=(apt-get install -y --no-install-recommends "${missing[@]}")
	if ! is_root; then
		say "missing Debian packages: ${missing[*]}"
		say "install them as root with:"
		printf '  apt-get update && DEBIAN_FRONTEND=noninteractive %s\n' "${install[*]}" >&2
		exit 1
	fi
	say "installing: ${missing[*]}"
	apt-get update
	DEBIAN_FRONTEND=noninteractive "${install[@]}" </dev/null
}

# ---------------------------------------------------------------- build

cmd_build() {
	local sanitize=0
	while [ $# -gt 0 ]; do
		case "$1" in
		--sanitize) sanitize=1 ;;
		*) die "build: unknown argument: $1" ;;
		esac
		shift
	done
	local dir=build conf_args=(--enable-werror)
	if [ "$sanitize" -eq 1 ]; then
		dir=build-asan
		conf_args+=(--enable-sanitizers)
	fi
	if [ ! -x configure ] || [ configure.ac -nt configure ]; then
		say "autoreconf -fi"
		autoreconf -fi
	fi
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ]; then
		say "configuring $dir: ${conf_args[*]}"
		(cd "$dir" && ../configure "${conf_args[@]}")
	fi
	make -C "$dir" -j"${JOBS:-2}"
}

# ---------------------------------------------------------------- dev cluster

PGBIN=""
find_pgbin() {
	[ -n "$PGBIN" ] && return 0
	# Highest version; an unmatched glob stays literal and fails the test below.
	PGBIN="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
	if [ ! -x "$PGBIN/initdb" ]; then
		die "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (./dev.sh deps --test)"
	fi
}

# Runs a PostgreSQL server binary, as user postgres when we are root
# (initdb and postgres refuse to run as root).
pg_as_owner() {
	if is_root; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# Superuser psql on the dev cluster (a client: may run as root).
dev_psql() {
	"$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$PGSOCK_DIR" -p "$DEV_PGPORT" \
		-U postgres "$@" </dev/null
}

# As root, the postgres user must be able to traverse every directory down
# to ./var; add the search (x) bit for "other" where it is missing.
ensure_traversable() {
	runuser -u postgres -- test -x "$VAR" 2>/dev/null && return 0
	local d="" part
	local -a parts
	IFS=/ read -r -a parts <<<"${VAR#/}"
	for part in "${parts[@]}"; do
		d="$d/$part"
		if ! runuser -u postgres -- test -x "$d" 2>/dev/null; then
			say "chmod o+x $d (so that user postgres can reach $VAR)"
			chmod o+x "$d"
		fi
	done
}

dev_cluster_init() {
	find_pgbin
	mkdir -p "$VAR" "$PGSOCK_DIR" "$PGLOG_DIR"
	if is_root; then
		getent passwd postgres >/dev/null || die "no user postgres (./dev.sh deps --test)"
		chown postgres: "$PGSOCK_DIR" "$PGLOG_DIR"
		[ -d "$PGDATA_DIR" ] && chown -R postgres: "$PGDATA_DIR"
		ensure_traversable
	fi
	if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
		say "initdb $PGDATA_DIR"
		mkdir -p "$PGDATA_DIR"
		chmod 700 "$PGDATA_DIR"
		is_root && chown postgres: "$PGDATA_DIR"
		pg_as_owner "$PGBIN/initdb" -D "$PGDATA_DIR" -A trust -U postgres \
			--encoding=UTF8 --locale=C.UTF-8 >"$PGLOG_DIR/initdb.log" 2>&1 </dev/null ||
			{ cat "$PGLOG_DIR/initdb.log" >&2; die "initdb failed"; }
		cat >>"$PGDATA_DIR/postgresql.conf" <<EOF

# --- added by dev.sh: unix socket only, in ./var/run
listen_addresses = ''
unix_socket_directories = '$PGSOCK_DIR'
port = $DEV_PGPORT
EOF
	fi
	# The PostgreSQL settings Parvis recommends (docs/admin.md), copied
	# afresh at every start and included once.
	install -m 0644 "$ROOT/conf/postgresql.parvis.conf" "$PGDATA_DIR/postgresql.parvis.conf"
	if is_root; then
		chown postgres: "$PGDATA_DIR/postgresql.parvis.conf"
	fi
	grep -q "^include_if_exists = 'postgresql.parvis.conf'" "$PGDATA_DIR/postgresql.conf" ||
		printf "include_if_exists = 'postgresql.parvis.conf'\n" >>"$PGDATA_DIR/postgresql.conf"
}

dev_cluster_running() {
	find_pgbin
	[ -f "$PGDATA_DIR/PG_VERSION" ] &&
		pg_as_owner "$PGBIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1 </dev/null
}

# Starts the dev cluster if needed. Sets DEV_PG_STARTED=1 if this call
# started it.
DEV_PG_STARTED=0
dev_cluster_start() {
	dev_cluster_init
	if ! dev_cluster_running; then
		say "starting PostgreSQL (log: var/log/postgresql.log)"
		pg_as_owner "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGLOG_DIR/postgresql.log" \
			-w -t 60 start >/dev/null </dev/null ||
			{ tail -n 30 "$PGLOG_DIR/postgresql.log" >&2; die "PostgreSQL did not start"; }
		DEV_PG_STARTED=1
	fi
	if [ "$(dev_psql -d postgres -c "SELECT 1 FROM pg_roles WHERE rolname = 'parvis'")" != 1 ]; then
		say "creating role parvis"
		dev_psql -d postgres -c "CREATE ROLE parvis LOGIN"
	fi
	if [ "$(dev_psql -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'parvis'")" != 1 ]; then
		say "creating database parvis"
		dev_psql -d postgres -c "CREATE DATABASE parvis OWNER parvis"
	fi
}

dev_cluster_stop() {
	if dev_cluster_running; then
		say "stopping PostgreSQL"
		pg_as_owner "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -w -t 60 -m fast stop >/dev/null </dev/null ||
			say "pg_ctl stop failed (see var/log/postgresql.log)"
	fi
}

# ---------------------------------------------------------------- ctl

parvisctl() {
	PARVIS_DSN="$DEV_DSN" "$ROOT/build/parvisctl" "$@"
}

cmd_ctl() {
	if [ ! -x build/parvisctl ]; then
		cmd_deps
		cmd_build >&2
	fi
	# Stop the cluster again on any exit (also Ctrl-C) if we started it.
	trap '[ "$DEV_PG_STARTED" -eq 0 ] || dev_cluster_stop' EXIT
	dev_cluster_start >&2
	local rc=0
	parvisctl "$@" || rc=$?
	exit "$rc"
}

# ---------------------------------------------------------------- run

PARVISD_PID=""
RUN_CLEANED=0
run_cleanup() {
	[ "$RUN_CLEANED" -eq 1 ] && return 0
	RUN_CLEANED=1
	if [ -n "$PARVISD_PID" ] && kill -0 "$PARVISD_PID" 2>/dev/null; then
		say "stopping parvisd"
		kill -TERM "$PARVISD_PID" 2>/dev/null || true
		wait "$PARVISD_PID" 2>/dev/null || true
	fi
	PARVISD_PID=""
	if [ "$DEV_PG_STARTED" -eq 1 ]; then
		dev_cluster_stop
	else
		say "PostgreSQL was already running before ./dev.sh run; leaving it running"
	fi
}

cmd_run() {
	[ $# -eq 0 ] || die "run takes no arguments"
	cmd_deps --test
	cmd_build
	trap run_cleanup EXIT
	trap 'run_cleanup; exit 130' INT
	trap 'run_cleanup; exit 143' TERM
	trap 'run_cleanup; exit 129' HUP
	dev_cluster_start

	parvisctl migrate

	local password="${PARVIS_DEMO_PASSWORD:-}"
	if [ -z "$password" ]; then
		password="$(head -c 12 /dev/urandom | base64 | tr '+/' '-_')"
	fi
	local exists
	exists="$(dev_psql -d parvis -c "SELECT 1 FROM users WHERE name = 'demo'")"
	if [ "$exists" = 1 ]; then
		printf '%s\n' "$password" | parvisctl user passwd demo --password-stdin
	else
		printf '%s\n' "$password" | parvisctl user add demo --password-stdin \
			--display-name "Demo user"
	fi
	exists="$(dev_psql -d parvis -c "SELECT 1 FROM spaces WHERE slug = 'demo'")"
	if [ "$exists" != 1 ]; then
		parvisctl space create demo --title "Demo space"
	fi
	exists="$(dev_psql -d parvis -c "SELECT 1 FROM members m
		JOIN spaces s ON s.id = m.space_id JOIN users u ON u.id = m.user_id
		WHERE s.slug = 'demo' AND u.name = 'demo'")"
	if [ "$exists" != 1 ]; then
		parvisctl member add demo demo --role editor
	fi

	local listen="${PARVIS_LISTEN:-127.0.0.1:8080}"
	cat <<EOF

  Parvis dev server
    mount URL:  http://$listen/dav/spaces/demo/
    user:       demo
    password:   $password
    DSN:        $DEV_DSN
  Ctrl-C stops parvisd and PostgreSQL (data is kept in ./var).

EOF
	# In the background so that our traps run while we wait for it.
	# Large chunks are cached in var/chunk-cache (emptied at each start).
	PARVIS_LISTEN="$listen" PARVIS_DSN="$DEV_DSN" \
		PARVIS_CHUNK_CACHE_DIR="$ROOT/var/chunk-cache" \
		"$ROOT/build/parvisd" </dev/null &
	PARVISD_PID=$!
	local rc=0
	wait "$PARVISD_PID" || rc=$?
	PARVISD_PID=""
	say "parvisd exited with status $rc"
	exit "$rc"
}

# ---------------------------------------------------------------- test

cmd_test() {
	local sanitize=0
	if [ "${1:-}" = --sanitize ]; then
		sanitize=1
		shift
	fi
	cmd_deps --test
	local dir=build
	if [ "$sanitize" -eq 1 ]; then
		dir=build-asan
		cmd_build --sanitize
	else
		cmd_build
	fi

	local failed=()
	say "unit tests: make -C $dir check"
	if ! make -C "$dir" -j"${JOBS:-2}" check; then
		failed+=("unit tests (make check)")
		if [ -f "$dir/test-suite.log" ]; then
			say "---- $dir/test-suite.log ----"
			cat "$dir/test-suite.log" >&2
			say "---- end of $dir/test-suite.log ----"
		fi
	fi

	local pytest_args=(-v -rs)
	if [ "$sanitize" -eq 1 ]; then
		export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=0:print_stacktrace=1"
		export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
		say "sanitizer build: tests marked \"heavy\" are deselected (-m \"not heavy\")"
		pytest_args+=(-m "not heavy")
	fi
	# Test paths among the arguments replace the default tests/protocol.
	local targets=(tests/protocol) a
	for a in "$@"; do
		case "$a" in
		tests/* | ./tests/*) targets=() ;;
		esac
	done
	say "protocol tests: pytest ${targets[*]:-} ($dir)"
	local rc=0
	PARVIS_BUILD_DIR="$dir" "$PYTHON" -m pytest "${targets[@]}" "${pytest_args[@]}" "$@" </dev/null || rc=$?
	if [ "$rc" -eq 5 ]; then
		failed+=("protocol tests (pytest collected no tests)")
	elif [ "$rc" -ne 0 ]; then
		failed+=("protocol tests (pytest exit $rc)")
	fi

	if [ ${#failed[@]} -gt 0 ]; then
		say "FAILED: ${failed[*]}"
		exit 1
	fi
	say "all tests passed ($dir)"
}

# ---------------------------------------------------------------- fuzz

# Runs one libFuzzer target; returns its exit status (non-zero: a crash,
# whose input libFuzzer wrote to artifacts/).
fuzz_one() {
	local target="$1" seconds="$2"
	shift 2
	make -C build-fuzz -j"${JOBS:-2}" "tests/fuzz/fuzz_$target" >&2 ||
		die "fuzz: cannot build tests/fuzz/fuzz_$target"
	local work="$ROOT/build-fuzz/fuzz-work/$target"
	rm -rf "$work/corpus"
	mkdir -p "$work/corpus" "$work/artifacts"
	cp "tests/fuzz/corpus/fuzz_$target"/* "$work/corpus/"
	say "fuzz_$target: ${seconds}s on a copy of tests/fuzz/corpus/fuzz_$target ($work)"
	local rc=0
	(cd "$work" &&
		ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:print_stacktrace=1}" \
		UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" \
		"$ROOT/build-fuzz/tests/fuzz/fuzz_$target" -max_total_time="$seconds" \
			-dict="$ROOT/tests/fuzz/fuzz_$target.dict" -timeout=10 \
			-artifact_prefix=artifacts/ -print_final_stats=1 "$@" corpus) || rc=$?
	if [ "$rc" -ne 0 ]; then
		say "fuzz_$target: crash (exit $rc); inputs in $work/artifacts/"
		say "keep each in tests/fuzz/crashes/fuzz_$target/ until fixed, then in tests/fuzz/corpus/fuzz_$target/ (tests/fuzz/README)"
	fi
	return "$rc"
}

cmd_fuzz() {
	local targets=() seconds=60
	if [ $# -gt 0 ] && [[ "$1" != -* ]] && ! [[ "$1" =~ ^[0-9]+$ ]]; then
		local t="${1#fuzz_}"
		case " ${FUZZ_TARGETS[*]} " in
		*" $t "*) targets=("$t") ;;
		*) die "fuzz: unknown target: $1 (targets: ${FUZZ_TARGETS[*]})" ;;
		esac
		shift
	else
		targets=("${FUZZ_TARGETS[@]}")
	fi
	if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then
		seconds="$1"
		shift
	fi
	command -v clang >/dev/null || die "fuzz: clang is needed (Debian: clang)"
	if [ ! -x configure ] || [ configure.ac -nt configure ]; then
		say "autoreconf -fi"
		autoreconf -fi
	fi
	mkdir -p build-fuzz
	if [ ! -f build-fuzz/Makefile ]; then
		say "configuring build-fuzz: CC=clang --enable-fuzzers"
		(cd build-fuzz && ../configure CC=clang --enable-fuzzers)
	fi
	local t failed=()
	for t in "${targets[@]}"; do
		fuzz_one "$t" "$seconds" "$@" || failed+=("fuzz_$t")
	done
	if [ ${#failed[@]} -gt 0 ]; then
		say "crashes in: ${failed[*]}"
		exit 1
	fi
}

# ---------------------------------------------------------------- main

[ $# -gt 0 ] || { usage >&2; exit 2; }
cmd="$1"
shift
case "$cmd" in
deps) cmd_deps "$@" ;;
build) cmd_build "$@" ;;
run) cmd_run "$@" ;;
test) cmd_test "$@" ;;
ctl) cmd_ctl "$@" ;;
fuzz) cmd_fuzz "$@" ;;
-h | --help | help) usage ;;
*) say "unknown command: $cmd"; usage >&2; exit 2 ;;
esac
