#!/bin/sh
# Enforce the layering of STYLE.md §1 on #include lines.
#   http -> dav caldav acl conf core db(main.c only);  caldav -> dav acl core
#   acl -> dav core;  dav -> core;  db -> dav/dav_store.h caldav/caldav_store.h core
#   conf -> core;  cli -> db acl conf core dav
# Third-party headers: microhttpd.h only in http/, libpq-fe.h only in db/,
# libical only in caldav/, libxml2 only in dav/ caldav/ (and http/main.c,
# which installs the entity loader at start-up).
top=${1:-${top_srcdir:-.}}
cd "$top" || exit 2
fail=0
bad() { echo "include rule: $*"; fail=1; }

allowed() { # folder -> allowed project folders
    case "$1" in
    http) echo "http dav caldav acl conf core db" ;;
    caldav) echo "caldav dav acl core" ;;
    acl) echo "acl dav core" ;;
    dav) echo "dav core" ;;
    db) echo "db core dav/dav_store.h caldav/caldav_store.h dav/dav.h" ;;
    conf) echo "conf core" ;;
    core) echo "core" ;;
    cli) echo "cli db acl conf core dav" ;;
    esac
}

for dir in http caldav acl dav db conf core cli; do
    [ -d "$dir" ] || continue
    for f in "$dir"/*.c "$dir"/*.h; do
        [ -f "$f" ] || continue
        grep -n '^#include' "$f" | grep -v -E '<(sys|arpa|netinet|uuid|linux)/' | while IFS= read -r line; do
            inc=$(echo "$line" | sed -n 's/.*#include *[<"]\([^>"]*\)[>"].*/\1/p')
            case "$inc" in
            microhttpd.h) [ "$dir" = http ] || echo "include rule: $f: $inc" ;;
            libpq-fe.h) [ "$dir" = db ] || echo "include rule: $f: $inc" ;;
            libical/*|ical.h) [ "$dir" = caldav ] || echo "include rule: $f: $inc" ;;
            libxml/*)
                case "$dir:$f" in
                dav:*|caldav:*|http:http/main.c) ;;
                *) echo "include rule: $f: $inc" ;;
                esac ;;
            */*)
                ok=0
                for a in $(allowed "$dir"); do
                    case "$inc" in "$a"/*|"$a") ok=1 ;; esac
                done
                if [ "$dir" = db ] && [ "${inc%%/*}" = dav ]; then
                    case "$inc" in dav/dav_store.h|dav/dav.h) ok=1 ;; *) ok=0 ;; esac
                fi
                if [ "${inc%%/*}" = db ] && [ "$dir" = http ] && [ "$f" != http/main.c ]; then
                    ok=0
                fi
                [ $ok = 1 ] || echo "include rule: $f: $inc"
                ;;
            esac
        done
    done
done > lint-includes.out
if [ -s lint-includes.out ]; then
    cat lint-includes.out
    rm -f lint-includes.out
    exit 1
fi
rm -f lint-includes.out
exit $fail
