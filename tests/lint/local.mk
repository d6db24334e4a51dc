# Lints: layering of #include lines, banned calls, headers compiling alone.
TESTS += tests/lint/check-includes.sh tests/lint/check-banned.sh tests/lint/check-headers.sh
EXTRA_DIST += tests/lint/check-includes.sh tests/lint/check-banned.sh tests/lint/check-headers.sh
TESTS_ENVIRONMENT = top_srcdir=$(top_srcdir) CC="$(CC)" \
	HDR_CFLAGS="$(XML_CFLAGS) $(PQ_CFLAGS) $(MHD_CFLAGS)"
TEST_EXTENSIONS = .sh
SH_LOG_DRIVER = $(SHELL) $(top_srcdir)/build-aux/test-driver
SH_LOG_COMPILER = $(SHELL)
