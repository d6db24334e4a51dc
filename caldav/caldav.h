/*
 * caldav/caldav.h -- CalDAV (RFC 4791) as an extension of the DAV core:
 * calendar collections, calendar object validation and indexing, the
 * calendar-query, calendar-multiget and free-busy-query reports,
 * MKCALENDAR and extended MKCOL (RFC 5689).
 */
#ifndef PARVIS_CALDAV_H
#define PARVIS_CALDAV_H

#include "dav/dav.h"

#define CALDAV_NS "urn:ietf:params:xml:ns:caldav"

/* Defaults of the CalDAV limits of struct dav_server (a field left 0),
 * the same as conf/'s. */
#define CALDAV_DEFAULT_RESOURCE_SIZE (1024 * 1024)
#define CALDAV_DEFAULT_INSTANCES 10000
#define CALDAV_DEFAULT_ATTENDEES 1000

struct caldav_store_ops;

/* Register CalDAV's methods, properties, reports and hooks, with its
 * store.  Call once at start-up after dav_register(). */
void caldav_register(struct dav_registry *r,
                     const struct caldav_store_ops *store);

#endif
