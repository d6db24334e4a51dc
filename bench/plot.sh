#!/usr/bin/env bash
# bench/plot.sh [SCALING.tsv] — draws docs/img/propfind-scaling.png (PROPFIND
# Depth:1 p50 latency against the number of members, one line per server)
# and docs/img/tree-scaling.png (COPY, MOVE and DELETE of those collections)
# from the TSV of `bench/run.sh --scaling`; by default the newest
# bench/results/*-scaling*.tsv that is not a --quick run.
# bench/plot.sh --calendars [CALENDAR-SCALING.tsv] — draws
# docs/img/calendar-query-scaling.png from `bench/run.sh --calendars --scaling`
# (by default the newest *-calendar-scaling*.tsv that is not a --quick run):
# the query's p50 against calendar size with a line proportional to the hit
# count, and the cost per hit.
# Needs gnuplot (Debian package gnuplot-nox).
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"

say() { printf 'bench/plot.sh: %s\n' "$*" >&2; }

if ! command -v gnuplot >/dev/null; then
	say "gnuplot not found: apt-get install --no-install-recommends gnuplot-nox"
	exit 1
fi

calendars=0
if [ "${1:-}" = --calendars ]; then
	calendars=1
	shift
fi
if [ "$calendars" = 1 ]; then
	OUT="${PLOT_OUT:-$ROOT/docs/img/calendar-query-scaling.png}"
	run="bench/run.sh --calendars --scaling"
else
	OUT="${PLOT_OUT:-$ROOT/docs/img/propfind-scaling.png}"
	run="bench/run.sh --scaling"
fi

tsv="${1:-}"
if [ -z "$tsv" ]; then
	# Globs expand sorted: the last match is the newest date.
	any=""
	for f in "$BENCH"/results/*-scaling*.tsv; do
		[ -f "$f" ] || continue
		case "$calendars:$f" in
		0:*-calendar-scaling*) continue ;;  # --scaling: not the calendar runs
		1:*-calendar-scaling*) ;;
		1:*) continue ;;
		esac
		any="$f"
		case "$f" in *-quick*) ;; *) tsv="$f" ;; esac
	done
	[ -n "$tsv" ] || tsv="$any"
fi
if [ -z "$tsv" ] || [ ! -f "$tsv" ]; then
	say "no scaling TSV (run $run first)"
	exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
machine="$(sed -n 's/^# machine: \([^,]*\), \([^,]*\),.*/\1, \2/p' "$tsv" | head -n 1)"
when="$(sed -n 's/^# Parvis benchmark ([a-z ,]*) \([0-9-]*\).*/\1/p' "$tsv" | head -n 1)"
mkdir -p "$(dirname "$OUT")"

if [ "$calendars" = 1 ]; then
	# Columns: 1 events, 2 server, 3 hits, 4 queries, 5 p50_ms, 6 min, 7 max,
	# 8 first_ms, 9 cpu_ms_per_query, 10 p50_ms_per_hit, 11 cpu_ms_per_hit,
	# ..., 16 status. Right answers only: a FAIL or a timeout is not drawn.
	awk -F'\t' '!/^#/ && $1 ~ /^[0-9]+$/ && $5 != "" && $16 == "ok"' "$tsv" >"$tmp/data.tsv"
	[ -s "$tmp/data.tsv" ] || { say "$tsv holds no measurement"; exit 1; }
	servers="$(awk -F'\t' '!seen[$2]++ { printf "%s ", $2 }' "$tmp/data.tsv")"
	awk -F'\t' -v d="$tmp" '{ print > (d "/" $2 ".dat") }' "$tmp/data.tsv"
	# The answer size: hits per calendar size, and a line proportional to
	# them through Parvis' smallest size (else the first server's).
	awk -F'\t' '!seen[$1]++ { print $1 "\t" $3 }' "$tmp/data.tsv" | sort -n >"$tmp/hits.dat"
	ref="$(awk -F'\t' '$2 == "Parvis"' "$tmp/data.tsv" | sort -n | head -n 1)"
	[ -n "$ref" ] || ref="$(sort -n "$tmp/data.tsv" | head -n 1)"
	k="$(printf '%s\n' "$ref" | awk -F'\t' '{ printf "%.9g", $5 / $3 }')"
	refname="$(printf '%s\n' "$ref" | awk -F'\t' '{ print $2 }')"
	# Tic labels "10,000\n491 hits"
	xtics="$(awk -F'\t' '
	function th(n,  s) {
		s = ""
		while (n >= 1000) { s = sprintf(",%03d", n % 1000) s; n = int(n / 1000) }
		return n s
	}
	{ printf "%s\"%s\\n%s hits\" %d", (NR > 1 ? ", " : ""), th($1), th($2), $1 }' "$tmp/hits.dat")"
	# What is not drawn, e.g. "Xandikos: FAIL at 1,000, 10,000"
	missing="$(awk -F'\t' '!/^#/ && $1 ~ /^[0-9]+$/ && $16 != "ok" {
		n = $1; s = ""
		while (n >= 1000) { s = sprintf(",%03d", n % 1000) s; n = int(n / 1000) }
		why = ($16 ~ /^FAIL/ ? "FAIL" : $16 ~ /^timeout/ ? "timeout" : "not run")
		key = $2 ": " why
		if (!(key in at)) { order[++k] = key; at[key] = n s } else at[key] = at[key] ", " n s
	} END { for (i = 1; i <= k; i++) printf "%s%s at %s", (i > 1 ? "; " : ""), order[i], at[order[i]] }' "$tsv")"
	[ -z "$missing" ] || missing="not drawn: $missing"
	xmin="$(awk 'NR == 1 { print $1 / 1.6 }' "$tmp/hits.dat")"
	xmax="$(awk 'END { print $1 * 1.6 }' "$tmp/hits.dat")"
	gnuplot <<EOF
set terminal pngcairo size 1280,620 font "DejaVu Sans,11"
set output "$OUT"
set datafile separator "\t"
set multiplot layout 1,2 title "calendar-query (one week, VEVENT time-range, getetag) against calendar size\n{/*0.8 one connection, sequential queries, every answer checked (a wrong answer is FAIL); $when; $machine}\n{/*0.8 $missing}"
set logscale xy
set xrange [$xmin:$xmax]
set xtics ($xtics)
set format y "%g"
set grid xtics ytics mytics
set key top left box opaque
set xlabel "events in the calendar (hits of the query)" offset 0,-1
set bmargin 6
servers = "$servers"
set title "p50 latency (bars: min-max)"
set ylabel "ms per query"
plot for [i=1:words(servers)] "$tmp/".word(servers,i).".dat" using 1:5:6:7 with yerrorlines lw 2 pt 7 lc i title word(servers,i), \
     "$tmp/hits.dat" using 1:(\$2*$k) with lines dt 2 lw 2 lc rgb "#777777" title "proportional to the hits (through $refname)"
set title "cost per hit (flat: the cost grows as the answer does)"
set ylabel "ms per hit"
plot for [i=1:words(servers)] "$tmp/".word(servers,i).".dat" using 1:11 with linespoints lw 2 pt 7 lc i title word(servers,i)." server CPU", \
     for [i=1:words(servers)] "$tmp/".word(servers,i).".dat" using 1:10 with linespoints lw 1 dt 2 pt 6 lc i title word(servers,i)." p50"
unset multiplot
EOF
	say "wrote $OUT from $tsv"
	exit 0
fi

# Data rows only (no comments, no column header, no failed rows).
awk -F'\t' '!/^#/ && $1 ~ /^[0-9]+$/ && $3 != "" && $11 == "ok"' "$tsv" >"$tmp/data.tsv"
[ -s "$tmp/data.tsv" ] || { say "$tsv holds no measurement"; exit 1; }
servers="$(awk -F'\t' '!seen[$2]++ { printf "%s ", $2 }' "$tmp/data.tsv")"
# One file per server, so that gnuplot joins its points.
awk -F'\t' -v d="$tmp" '{ print > (d "/" $2 ".dat") }' "$tmp/data.tsv"

# Axes of both pictures: members on a log scale, 100 to 10,000.
axes='set datafile separator "\t"
set logscale xy
set xrange [70:14000]
set xtics ("100" 100, "1,000" 1000, "10,000" 10000)
set format y "%g"
set grid xtics ytics mytics
set key top left box opaque
set xlabel "members in the collection"'

gnuplot <<EOF
set terminal pngcairo size 960,600 font "DejaVu Sans,11"
set output "$OUT"
$axes
set ylabel "p50 latency (ms), one connection"
set title "PROPFIND Depth:1 allprop: latency against collection size\n{/*0.8 median of the rounds, bars min-max; $when; $machine}"
servers = "$servers"
plot for [s in servers] "$tmp/".s.".dat" using 1:3:4:5 with yerrorlines lw 2 pt 7 title s
EOF
say "wrote $OUT from $tsv"

# COPY, MOVE and DELETE of the same collections (columns 12-14), when the
# run measured them.
if awk -F'\t' '$14 != "" { found = 1 } END { exit !found }' "$tmp/data.tsv"; then
	TREE_OUT="${PLOT_TREE_OUT:-$(dirname "$OUT")/tree-scaling.png}"
	gnuplot <<EOF
set terminal pngcairo size 1200,500 font "DejaVu Sans,11"
set output "$TREE_OUT"
$axes
set multiplot layout 1,3 title "COPY (Depth: infinity), MOVE and DELETE of a collection against its size\n{/*0.8 median of the rounds, one connection; $when; $machine}"
servers = "$servers"
set ylabel "seconds"
set title "COPY"
plot for [s in servers] "$tmp/".s.".dat" using 1:12 with linespoints lw 2 pt 7 title s
set title "MOVE"
plot for [s in servers] "$tmp/".s.".dat" using 1:13 with linespoints lw 2 pt 7 title s
set title "DELETE"
plot for [s in servers] "$tmp/".s.".dat" using 1:14 with linespoints lw 2 pt 7 title s
unset multiplot
EOF
	say "wrote $TREE_OUT from $tsv"
fi
