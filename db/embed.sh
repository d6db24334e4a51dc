#!/bin/sh
# Turn migration files into a C array: db/embed.sh FILE... > migrations_gen.c
set -e
echo '/* Generated from the db/migrations files by db/embed.sh: do not edit. */'
echo '#include "db/db_int.h"'
echo 'const struct db_migration db_migrations[] = {'
for f in "$@"; do
    base=$(basename "$f" .sql)
    num=$(echo "$base" | sed 's/_.*//; s/^0*//')
    printf '    { %s, "%s",\n' "$num" "$base"
    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/      "/' -e 's/$/\\n"/' "$f"
    echo '    },'
done
echo '};'
echo "const unsigned db_migration_count = $#;"
