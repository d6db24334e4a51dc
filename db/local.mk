noinst_LIBRARIES += libdb.a
DB_MIGRATIONS = db/migrations/0001_initial.sql \
	db/migrations/0002_locks_quota.sql db/migrations/0003_access.sql \
	db/migrations/0004_calendars_sync.sql \
	db/migrations/0005_history_approval_audit.sql \
	db/migrations/0006_audit_append_only.sql \
	db/migrations/0007_revision_refs.sql \
	db/migrations/0008_audit_seal.sql \
	db/migrations/0009_acl_reach.sql \
	db/migrations/0010_current_revision.sql \
	db/migrations/0011_current_revision_guard.sql \
	db/migrations/0012_change_log_plans.sql \
	db/migrations/0013_calendar_exact.sql \
	db/migrations/0014_sync_marks.sql \
	db/migrations/0015_trash_aces.sql \
	db/migrations/0016_floating_not_exact.sql \
	db/migrations/0017_audit_text_fields.sql \
	db/migrations/0018_audit_seal_by_batch.sql \
	db/migrations/0019_dates_not_exact.sql \
	db/migrations/0020_calendar_range_per_calendar.sql \
	db/migrations/0021_changes_guarded.sql \
	db/migrations/0022_day_durations_not_exact.sql \
	db/migrations/0023_renamed_away.sql \
	db/migrations/0024_tree_by_id.sql
libdb_a_SOURCES = db/db.h db/db_int.h db/pg_store.c db/pg_caldav.c db/admin.c \
	db/chunk_cache.h db/chunk_cache.c db/disk_cache.h db/disk_cache.c \
	db/sealer.c
nodist_libdb_a_SOURCES = db/migrations_gen.c
libdb_a_CFLAGS = $(AM_CFLAGS) $(PQ_CFLAGS)
BUILT_SOURCES += db/migrations_gen.c
CLEANFILES += db/migrations_gen.c
EXTRA_DIST += db/embed.sh $(DB_MIGRATIONS)
db/migrations_gen.c: $(DB_MIGRATIONS:%=$(srcdir)/%) $(srcdir)/db/embed.sh
	@mkdir -p db
	$(AM_V_GEN)sh $(srcdir)/db/embed.sh $(DB_MIGRATIONS:%=$(srcdir)/%) > $@
