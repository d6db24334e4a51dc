# Unit tests (cmocka, TAP output); no services needed.
if HAVE_CMOCKA
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(XML_CFLAGS)
UNIT_LIBS = $(CMOCKA_LIBS) $(XML_LIBS) $(UUID_LIBS)
LOG_DRIVER = env CMOCKA_MESSAGE_OUTPUT=TAP AM_TAP_AWK='$(AWK)' $(SHELL) \
	$(top_srcdir)/build-aux/tap-driver.sh

check_PROGRAMS += tests/unit/test_core
tests_unit_test_core_SOURCES = tests/unit/core/test_core.c
tests_unit_test_core_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_core_LDADD = libcore.a $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test_dav_parse
tests_unit_test_dav_parse_SOURCES = tests/unit/dav/test_parse.c
tests_unit_test_dav_parse_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_dav_parse_LDADD = libdav.a libcore.a $(UNIT_LIBS)

check_PROGRAMS += tests/unit/test_conf
tests_unit_test_conf_SOURCES = tests/unit/conf/test_conf.c
tests_unit_test_conf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_conf_LDADD = libconf.a libcore.a $(UNIT_LIBS)

TESTS += $(check_PROGRAMS)
endif
