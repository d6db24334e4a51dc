#!/usr/bin/env bash
# bench/plot.sh [SCALING.tsv] — draws docs/img/propfind-scaling.png (PROPFIND
# Depth:1 p50 latency against the number of members, one line per server)
# from the TSV of `bench/run.sh --scaling`; by default the newest
# bench/results/*-scaling*.tsv that is not a --quick run.
# Needs gnuplot (Debian package gnuplot-nox).
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
OUT="${PLOT_OUT:-$ROOT/docs/img/propfind-scaling.png}"

say() { printf 'bench/plot.sh: %s\n' "$*" >&2; }

if ! command -v gnuplot >/dev/null; then
	say "gnuplot not found: apt-get install --no-install-recommends gnuplot-nox"
	exit 1
fi

tsv="${1:-}"
if [ -z "$tsv" ]; then
	# Globs expand sorted: the last match is the newest date.
	any=""
	for f in "$BENCH"/results/*-scaling*.tsv; do
		[ -f "$f" ] || continue
		any="$f"
		case "$f" in *-quick*) ;; *) tsv="$f" ;; esac
	done
	[ -n "$tsv" ] || tsv="$any"
fi
if [ -z "$tsv" ] || [ ! -f "$tsv" ]; then
	say "no scaling TSV (run bench/run.sh --scaling first)"
	exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Data rows only (no comments, no column header, no failed rows).
awk -F'\t' '!/^#/ && $1 ~ /^[0-9]+$/ && $3 != "" && $11 == "ok"' "$tsv" >"$tmp/data.tsv"
[ -s "$tmp/data.tsv" ] || { say "$tsv holds no measurement"; exit 1; }
servers="$(awk -F'\t' '!seen[$2]++ { printf "%s ", $2 }' "$tmp/data.tsv")"
# One file per server, so that gnuplot joins its points.
awk -F'\t' -v d="$tmp" '{ print > (d "/" $2 ".dat") }' "$tmp/data.tsv"
machine="$(sed -n 's/^# machine: \([^,]*\), \([^,]*\),.*/\1, \2/p' "$tsv" | head -n 1)"
when="$(sed -n 's/^# Parvis benchmark ([a-z]*) \([0-9-]*\).*/\1/p' "$tsv" | head -n 1)"

mkdir -p "$(dirname "$OUT")"
gnuplot <<EOF
set terminal pngcairo size 960,600 font "DejaVu Sans,11"
set output "$OUT"
set datafile separator "\t"
set logscale xy
set xrange [70:14000]
set xtics ("100" 100, "1,000" 1000, "10,000" 10000)
set format y "%g"
set grid xtics ytics mytics
set key top left box opaque
set xlabel "members in the collection"
set ylabel "p50 latency (ms), one connection"
set title "PROPFIND Depth:1 allprop: latency against collection size\n{/*0.8 median of the rounds, bars min-max; $when; $machine}"
servers = "$servers"
plot for [s in servers] "$tmp/".s.".dat" using 1:3:4:5 with yerrorlines lw 2 pt 7 title s
EOF
say "wrote $OUT from $tsv"
