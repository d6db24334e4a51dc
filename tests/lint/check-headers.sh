#!/bin/sh
# Every header compiles on its own (STYLE.md §4).
top=${1:-${top_srcdir:-.}}
cc=${CC:-cc}
cflags="${2:-$HDR_CFLAGS}"
status=0
tmp=$(mktemp -d)
for h in "$top"/core/*.h "$top"/conf/*.h "$top"/dav/*.h "$top"/acl/*.h "$top"/db/*.h "$top"/http/*.h "$top"/caldav/*.h; do
    [ -f "$h" ] || continue
    rel=${h#"$top"/}
    printf '#include "%s"\n' "$rel" > "$tmp/t.c"
    if ! $cc -std=c11 -D_GNU_SOURCE -fsyntax-only -Wall -Wextra -Werror -I"$top" $cflags "$tmp/t.c" 2> "$tmp/err"; then
        echo "header does not compile alone: $rel"
        cat "$tmp/err"
        status=1
    fi
done
rm -rf "$tmp"
exit $status
