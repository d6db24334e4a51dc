#!/bin/sh
# The inputs of open bugs found by fuzzing, tests/fuzz/crashes/fuzz_<name>/
# (listed in tests/fuzz/crashes/README), must still fail their replay.
# One that passes means its bug was fixed: move the input into
# tests/fuzz/corpus/fuzz_<name>/, where every replay keeps testing it, and
# drop its entry from the README.  An input that runs for more than
# FUZZ_CRASH_TIMEOUT seconds (default 5) counts as failing: some bugs are
# endless loops.  Run by `make check` from the build directory, after the
# replay programs are built.
top=${1:-${top_srcdir:-.}}
limit=${FUZZ_CRASH_TIMEOUT:-5}
run=
if command -v timeout >/dev/null 2>&1; then
    run="timeout $limit"
fi
status=0
n=0
for dir in "$top"/tests/fuzz/crashes/fuzz_*; do
    [ -d "$dir" ] || continue
    t=${dir##*/fuzz_}
    prog=tests/fuzz/replay_$t
    if [ ! -x "$prog" ]; then
        echo "$prog: not built"
        exit 99
    fi
    for f in "$dir"/*; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        # In a subshell, so that the shell's "Aborted" goes too.
        if (FUZZ_KNOWN= $run "$prog" "$f"; exit $?) >/dev/null 2>&1; then
            echo "FIXED: $f passes its replay now: git mv it into" \
                "tests/fuzz/corpus/fuzz_$t/ and drop its entry from" \
                "tests/fuzz/crashes/README"
            status=1
        else
            echo "still open: $f"
        fi
    done
done
echo "$n input(s) of open bugs checked"
exit $status
