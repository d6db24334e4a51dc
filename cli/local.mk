bin_PROGRAMS += parvisctl
parvisctl_SOURCES = cli/parvisctl.c
parvisctl_LDADD = libacl.a libdb.a libdav.a libconf.a libcore.a \
	$(PQ_LIBS) $(UUID_LIBS) $(ARGON2_LIBS) $(XML_LIBS) $(LIBS)
