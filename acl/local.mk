noinst_LIBRARIES += libacl.a
libacl_a_SOURCES = acl/acl.h acl/acl_int.h acl/auth.c acl/access.c
libacl_a_CFLAGS = $(AM_CFLAGS) $(ARGON2_CFLAGS)
