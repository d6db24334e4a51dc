noinst_LIBRARIES += libdav.a
libdav_a_SOURCES = dav/dav.h dav/dav_store.h dav/dav_int.h dav/core.c \
	dav/parse.c dav/xml.c dav/props.c dav/methods.c dav/lock.c dav/sync.c dav/views.c \
	dav/lookup.c
libdav_a_CFLAGS = $(AM_CFLAGS) $(XML_CFLAGS)
