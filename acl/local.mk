noinst_LIBRARIES += libacl.a
libacl_a_SOURCES = acl/acl.h acl/acl.c
libacl_a_CFLAGS = $(AM_CFLAGS) $(ARGON2_CFLAGS)
