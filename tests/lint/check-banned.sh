#!/bin/sh
# Banned calls (STYLE.md §4) and raw malloc/free outside core/ and start-up.
top=${1:-${top_srcdir:-.}}
cd "$top" || exit 2
status=0
files=$(ls http/*.c core/*.c dav/*.c acl/*.c db/*.c conf/*.c cli/*.c caldav/*.c 2>/dev/null)
pat='\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets|localtime|gmtime)[[:space:]]*\('
if grep -nE "$pat" $files; then
    echo "banned call(s) above"
    status=1
fi
# Request-time layers allocate from the arena only.
for f in $(ls dav/*.c acl/*.c caldav/*.c 2>/dev/null); do
    case "$f" in
    dav/core.c) continue ;;   # registry: built once at start-up
    esac
    if grep -nE '\b(malloc|calloc|realloc|free)[[:space:]]*\(' "$f"; then
        echo "$f: raw allocation in a request-time layer"
        status=1
    fi
done
exit $status
