#!/usr/bin/env bash
# bench/run.sh — Parvis against Apache httpd (mod_dav_fs), nginx (dav + dav-ext)
# and lighttpd (mod_webdav), and against Radicale, Xandikos and DAViCal for CalDAV, all
# private on 127.0.0.1; see bench/README.md.
#
#   bench/run.sh [--quick] [--only F3,F4] [--rounds N] [--servers parvis,nginx]
#   bench/run.sh --scaling [--quick] [--rounds N]
#   bench/run.sh --calendars [--events N] [--events-large N] [--rounds N]
#   bench/run.sh --calendars --scaling [--sizes 1000,10000,100000] [--queries N]
#   bench/run.sh --auth [--rounds N]
#   bench/run.sh --soak [MINUTES] [--connections N]   (default 30 min, 64 connections)
#   bench/run.sh --help     all options
#
# Installs nothing: checks the Debian packages it needs and says which are
# missing. Must run as root (peers drop to www-data, PostgreSQL runs as
# postgres). Writes bench/results/YYYY-MM-DD[-…].txt and .tsv.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
PYTHON=/usr/bin/python3 # Debian's python3, standard library only

say() { printf 'bench/run.sh: %s\n' "$*" >&2; }

# Packages per server; the ones every run needs come first.
COMMON_PKGS=(python3 wrk curl)
declare -A SERVER_PKGS=(
	[parvis]="postgresql"
	[apache]="apache2 apache2-utils"
	[nginx]="nginx libnginx-mod-http-dav-ext"
	[lighttpd]="lighttpd lighttpd-mod-webdav"
	[radicale]="radicale"
	[xandikos]="xandikos"
	[davical]="davical libapache2-mod-php apache2 postgresql"
)
# --calendars cross-checks its generated data with these
CAL_PKGS=(python3-icalendar python3-dateutil)

servers="parvis,apache,nginx,lighttpd"
calendars=0
scaling=0
for a in "$@"; do
	case "$a" in
	--calendars) servers="parvis,radicale,xandikos,davical" calendars=1 ;;
	--scaling) scaling=1 ;;
	--auth | --soak | --soak=*) servers="parvis" ;;
	esac
done
# As bench.py: DAViCal joins --calendars --scaling only when named.
[ "$calendars$scaling" = 11 ] && servers="parvis,radicale,xandikos"
build="${PARVIS_BUILD_DIR:-$ROOT/build}"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
	case "${args[i]}" in
	-h | --help) exec "$PYTHON" "$BENCH/lib/bench.py" --help ;;
	--servers) servers="${args[i + 1]:-}" ;;
	--servers=*) servers="${args[i]#--servers=}" ;;
	--build) build="${args[i + 1]:-}" ;;
	--build=*) build="${args[i]#--build=}" ;;
	esac
done

pkg_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

need=("${COMMON_PKGS[@]}")
[ "$calendars" = 1 ] && need+=("${CAL_PKGS[@]}")
IFS=, read -r -a wanted <<<"$servers"
for s in "${wanted[@]}"; do
	[ -n "${SERVER_PKGS[$s]:-}" ] || { say "unknown server: $s (known: ${!SERVER_PKGS[*]})"; exit 2; }
	# shellcheck disable=SC2206
	need+=(${SERVER_PKGS[$s]})
done
missing=()
for p in "${need[@]}"; do
	pkg_installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "missing Debian packages: ${missing[*]}"
	say "install them (as root) with:"
	printf '  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends %s\n' \
		"${missing[*]}" >&2
	exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
	say "run as root: the peers drop to www-data, PostgreSQL runs as user postgres"
	exit 1
fi

case ",$servers," in
*,parvis,*)
	if [ ! -x "$build/parvisd" ] || [ ! -x "$build/parvisctl" ]; then
		say "no parvisd/parvisctl in $build: build first (./dev.sh build, or cd build && make -j2)"
		exit 1
	fi
	;;
esac

# Servers and PostgreSQL must not see proxies or a developer's Parvis settings.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY PARVIS_DSN PARVIS_LISTEN PARVIS_LOG_LEVEL
export LC_ALL=C.UTF-8
exec "$PYTHON" "$BENCH/lib/bench.py" "$@"
