# Unit tests (cmocka, TAP output); no services needed.  Each program links
# one layer's library plus core and, for dav/, the fakes of tests/unit/fakes/.
if HAVE_CMOCKA
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(XML_CFLAGS)
UNIT_LIBS = $(CMOCKA_LIBS) $(XML_LIBS) $(UUID_LIBS)
UNIT_HDRS = tests/unit/unit.h
FAKE_STORE = tests/unit/fakes/fake_store.h tests/unit/fakes/fake_store.c
LOG_DRIVER = env CMOCKA_MESSAGE_OUTPUT=TAP AM_TAP_AWK='$(AWK)' $(SHELL) \
	$(top_srcdir)/build-aux/tap-driver.sh

check_PROGRAMS += tests/unit/test_core
tests_unit_test_core_SOURCES = tests/unit/core/test_core.c $(UNIT_HDRS)
tests_unit_test_core_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_core_LDADD = libcore.a $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test_dav_parse
tests_unit_test_dav_parse_SOURCES = tests/unit/dav/test_parse.c $(UNIT_HDRS)
tests_unit_test_dav_parse_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_dav_parse_LDADD = libdav.a libcore.a $(UNIT_LIBS)

# The DAV methods through the dispatcher, over the in-memory store.  conf/
# only provides the struct conf that the server is configured from.
check_PROGRAMS += tests/unit/test_dav_methods
tests_unit_test_dav_methods_SOURCES = tests/unit/dav/test_methods.c \
	$(FAKE_STORE) $(UNIT_HDRS)
tests_unit_test_dav_methods_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_dav_methods_LDADD = libdav.a libconf.a libcore.a $(UNIT_LIBS)

# The fake store's own contract: snapshots, rollback, failure injection.
check_PROGRAMS += tests/unit/test_fake_store
tests_unit_test_fake_store_SOURCES = tests/unit/fakes/test_fake_store.c \
	$(FAKE_STORE) $(UNIT_HDRS)
tests_unit_test_fake_store_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_fake_store_LDADD = libcore.a $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test_conf
tests_unit_test_conf_SOURCES = tests/unit/conf/test_conf.c $(UNIT_HDRS)
tests_unit_test_conf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_conf_CPPFLAGS = $(AM_CPPFLAGS) \
	-DPARVIS_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_test_conf_LDADD = libconf.a libcore.a $(UNIT_LIBS)

# db/'s chunk cache (no database needed).
check_PROGRAMS += tests/unit/test_chunk_cache
tests_unit_test_chunk_cache_SOURCES = tests/unit/db/test_chunk_cache.c \
	$(UNIT_HDRS)
tests_unit_test_chunk_cache_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_chunk_cache_LDADD = libdb.a libcore.a $(UNIT_LIBS) -lpthread

# db/'s disk cache of large chunks (in a temporary directory).
check_PROGRAMS += tests/unit/test_disk_cache
tests_unit_test_disk_cache_SOURCES = tests/unit/db/test_disk_cache.c \
	$(UNIT_HDRS)
tests_unit_test_disk_cache_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_disk_cache_LDADD = libdb.a libcore.a $(UNIT_LIBS) -lpthread

# core/'s cache of listings: stamps, held entries, the budget.
check_PROGRAMS += tests/unit/test_lcache
tests_unit_test_lcache_SOURCES = tests/unit/core/test_lcache.c $(UNIT_HDRS)
tests_unit_test_lcache_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_lcache_LDADD = libcore.a $(UNIT_LIBS) -lpthread

TESTS += $(check_PROGRAMS)
endif
