bin_PROGRAMS += parvisd
parvisd_SOURCES = http/http.h http/server.c http/main.c
parvisd_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS) $(XML_CFLAGS) $(PQ_CFLAGS)
parvisd_LDADD = libcaldav.a libacl.a libdav.a libdb.a libconf.a libcore.a \
	$(ICAL_LIBS) $(MHD_LIBS) $(XML_LIBS) $(PQ_LIBS) $(UUID_LIBS) $(ARGON2_LIBS)
