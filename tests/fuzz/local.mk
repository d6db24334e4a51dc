# Fuzz targets (STYLE.md §5, h2o's layout): tests/fuzz/fuzz_<name>.c each
# define LLVMFuzzerTestOneInput.  Every build links each target with
# replay.c into tests/fuzz/replay_<name>, which `make check` runs over the
# committed corpus tests/fuzz/corpus/fuzz_<name>/ (no clang needed).
# With ./configure --enable-fuzzers (CC=clang) the targets also link with
# libFuzzer into tests/fuzz/fuzz_<name>: ./dev.sh fuzz <name> [SECONDS].
#
# The replays are EXTRA_PROGRAMS, built as prerequisites of their test
# logs, so that they run whether or not cmocka's unit tests (whose
# local.mk adds $(check_PROGRAMS) to TESTS) are built.
FUZZ_CFLAGS = $(AM_CFLAGS) $(XML_CFLAGS) $(ICAL_CFLAGS)
FUZZ_CORPUS_DIR = $(abs_top_srcdir)/tests/fuzz/corpus

# Shared by the targets: helpers, and the server of the dispatcher-driven
# targets over the fake stores (tests/fuzz/harness.h).
check_LIBRARIES = tests/fuzz/libfuzzharness.a
tests_fuzz_libfuzzharness_a_SOURCES = tests/fuzz/fuzz.h tests/fuzz/fuzz_util.c \
	tests/fuzz/harness.h tests/fuzz/harness.c \
	tests/fuzz/fake_caldav.h tests/fuzz/fake_caldav.c \
	tests/unit/fakes/fake_store.h tests/unit/fakes/fake_store.c
tests_fuzz_libfuzzharness_a_CFLAGS = $(FUZZ_CFLAGS)
FUZZ_HARNESS = tests/fuzz/libfuzzharness.a
FUZZ_SERVER_LIBS = $(FUZZ_HARNESS) libcaldav.a libacl.a libdav.a libconf.a \
	libcore.a $(ICAL_LIBS) $(XML_LIBS) $(UUID_LIBS) $(ARGON2_LIBS)
FUZZ_PATH_LIBS = $(FUZZ_HARNESS) libdav.a libcore.a $(XML_LIBS) $(UUID_LIBS)
FUZZ_ICAL_LIBS = $(FUZZ_HARNESS) libcaldav.a libdav.a libcore.a \
	$(ICAL_LIBS) $(XML_LIBS) $(UUID_LIBS)

FUZZ_REPLAYS = tests/fuzz/replay_path tests/fuzz/replay_headers \
	tests/fuzz/replay_xml tests/fuzz/replay_ical tests/fuzz/replay_filter
EXTRA_PROGRAMS = $(FUZZ_REPLAYS)
TESTS += $(FUZZ_REPLAYS)
CLEANFILES += $(FUZZ_REPLAYS)

# Inputs of open bugs (tests/fuzz/crashes/) must keep failing until fixed.
TESTS += tests/fuzz/check-crashes.sh
tests/fuzz/check-crashes.log: $(FUZZ_REPLAYS)

tests_fuzz_replay_path_SOURCES = tests/fuzz/fuzz_path.c tests/fuzz/replay.c
tests_fuzz_replay_path_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_replay_path_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS='"$(FUZZ_CORPUS_DIR)/fuzz_path"'
tests_fuzz_replay_path_LDADD = $(FUZZ_PATH_LIBS)

tests_fuzz_replay_headers_SOURCES = tests/fuzz/fuzz_headers.c tests/fuzz/replay.c
tests_fuzz_replay_headers_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_replay_headers_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS='"$(FUZZ_CORPUS_DIR)/fuzz_headers"'
tests_fuzz_replay_headers_LDADD = $(FUZZ_SERVER_LIBS)

tests_fuzz_replay_xml_SOURCES = tests/fuzz/fuzz_xml.c tests/fuzz/replay.c
tests_fuzz_replay_xml_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_replay_xml_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS='"$(FUZZ_CORPUS_DIR)/fuzz_xml"'
tests_fuzz_replay_xml_LDADD = $(FUZZ_SERVER_LIBS)

tests_fuzz_replay_ical_SOURCES = tests/fuzz/fuzz_ical.c tests/fuzz/replay.c
tests_fuzz_replay_ical_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_replay_ical_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS='"$(FUZZ_CORPUS_DIR)/fuzz_ical"'
tests_fuzz_replay_ical_LDADD = $(FUZZ_ICAL_LIBS)

tests_fuzz_replay_filter_SOURCES = tests/fuzz/fuzz_filter.c tests/fuzz/replay.c
tests_fuzz_replay_filter_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_replay_filter_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_CORPUS='"$(FUZZ_CORPUS_DIR)/fuzz_filter"'
tests_fuzz_replay_filter_LDADD = $(FUZZ_SERVER_LIBS)

if ENABLE_FUZZERS
# libFuzzer binaries: never in TESTS (libFuzzer given a directory fuzzes
# until stopped); `make fuzzers` builds them all.
FUZZERS = tests/fuzz/fuzz_path tests/fuzz/fuzz_headers tests/fuzz/fuzz_xml \
	tests/fuzz/fuzz_ical tests/fuzz/fuzz_filter
EXTRA_PROGRAMS += $(FUZZERS)
CLEANFILES += $(FUZZERS)
fuzzers: $(FUZZERS)
.PHONY: fuzzers

tests_fuzz_fuzz_path_SOURCES = tests/fuzz/fuzz_path.c
tests_fuzz_fuzz_path_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_path_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_path_LDADD = $(FUZZ_PATH_LIBS)

tests_fuzz_fuzz_headers_SOURCES = tests/fuzz/fuzz_headers.c
tests_fuzz_fuzz_headers_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_headers_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_headers_LDADD = $(FUZZ_SERVER_LIBS)

tests_fuzz_fuzz_xml_SOURCES = tests/fuzz/fuzz_xml.c
tests_fuzz_fuzz_xml_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_xml_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_xml_LDADD = $(FUZZ_SERVER_LIBS)

tests_fuzz_fuzz_ical_SOURCES = tests/fuzz/fuzz_ical.c
tests_fuzz_fuzz_ical_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_ical_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ical_LDADD = $(FUZZ_ICAL_LIBS)

tests_fuzz_fuzz_filter_SOURCES = tests/fuzz/fuzz_filter.c
tests_fuzz_fuzz_filter_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_filter_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_filter_LDADD = $(FUZZ_SERVER_LIBS)
endif

EXTRA_DIST += tests/fuzz/corpus tests/fuzz/crashes tests/fuzz/check-crashes.sh \
	tests/fuzz/harvest.py \
	tests/fuzz/harvest_plugin.py tests/fuzz/fuzz_path.dict \
	tests/fuzz/fuzz_headers.dict tests/fuzz/fuzz_xml.dict \
	tests/fuzz/fuzz_ical.dict tests/fuzz/fuzz_filter.dict
