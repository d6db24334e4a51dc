noinst_LIBRARIES += libcaldav.a
libcaldav_a_SOURCES = caldav/caldav.h caldav/caldav_int.h caldav/caldav_store.h \
	caldav/caldav.c caldav/ical.c caldav/reports.c caldav/tz.c
libcaldav_a_CFLAGS = $(AM_CFLAGS) $(ICAL_CFLAGS) $(XML_CFLAGS)
