/*
 * caldav/caldav_int.h -- declarations private to caldav/.
 */
#ifndef PARVIS_CALDAV_INT_H
#define PARVIS_CALDAV_INT_H

#include <libical/ical.h>

#include "caldav/caldav.h"
#include "caldav/caldav_store.h"

/* Date limits (RFC 4791 §5.2.6, §5.2.7). */
#define CALDAV_MIN_DATE "19000101T000000Z"
#define CALDAV_MAX_DATE "21001231T235959Z"

/* The configured limits of req->srv (RFC 4791 §5.2.5, §5.2.8, §5.2.9),
 * or their defaults.  Cannot fail. */
size_t caldav_max_resource_size(const struct dav_req *req);
unsigned caldav_max_instances(const struct dav_req *req);
unsigned caldav_max_attendees(const struct dav_req *req);

extern const struct caldav_store_ops *caldav_store;

/* ---- ical.c ---- */

/* Parse iCalendar text; NULL if unparsable.  Freed with arena 'a'. */
icalcomponent *caldav_ical_parse(struct arena *a, const char *data,
                                 size_t len);
/*
 * RFC 4791 §5.3.2.1: CALDAV:valid-calendar-data (403) if libical could
 * not parse a value of vcal, the parse of 'text' (X-LIC-ERROR lines of
 * the text itself aside).  Allocates the error in req->arena.
 */
struct dav_err *caldav_ical_check_values(struct dav_req *req,
                                         icalcomponent *vcal,
                                         const char *text, size_t len);
/*
 * RFC 4791 §4.1, §5.3.2: one VCALENDAR, one component type with one UID
 * (overrides sharing it), no METHOD, a type the calendar supports, within
 * the limits; a VEVENT with DTSTART, not both DTEND and DURATION, DTEND
 * of DTSTART's value type (RFC 5545 §3.6.1; else valid-calendar-data).
 * Fills the index entry.
 */
struct dav_err *caldav_ical_validate(struct dav_req *req, icalcomponent *vcal,
                                     const char *components,
                                     struct caldav_index *ix);

/* Called for each instance [start, end) of a component set; a to-do
 * without DTSTART has one, [DUE, DUE], or [0, 0] without DUE. */
typedef bool (*caldav_instance_fn)(void *ctx, icalcomponent *comp,
                                   int64_t start, int64_t end,
                                   int64_t recurrence_id);
/*
 * The instances of the components of type 'kind' in vcal (master with its
 * recurrence, minus exceptions, plus overrides) that begin before 'until',
 * in time order per component; long series are entered near 'from'.
 * Stops when fn returns false or after 'max' recurrence instances ending
 * after 'from'.  Returns false when that limit was hit.
 */
bool caldav_instances(icalcomponent *vcal, icalcomponent_kind kind,
                      int64_t from, int64_t until, size_t max,
                      caldav_instance_fn fn, void *ctx);
/* RFC 4791 §9.9: does one instance of comp (a component of vcal),
 * starting at 'start' and ending at 'end' as caldav_instances gives it,
 * overlap [qs, qe)?  A to-do without DTSTART is decided by its DUE,
 * CREATED and COMPLETED.  Cannot fail. */
bool caldav_instance_matches(icalcomponent *vcal, icalcomponent *comp,
                             int64_t start, int64_t end, int64_t qs,
                             int64_t qe);
/* Does any instance of 'kind' overlap [start, end)? (RFC 4791 §9.9)
 * Looks at no more than 'max' instances. */
bool caldav_overlaps(icalcomponent *vcal, icalcomponent_kind kind,
                     int64_t start, int64_t end, size_t max);
/*
 * RFC 4791 §9.9, VALARM: does a trigger of 'alarm', a VALARM of
 * 'parent' (a component of vcal), fall in [start, end)?  A relative
 * TRIGGER is taken from the start (or, RELATED=END, the end) of each
 * instance of 'parent', an absolute one once; each with its REPEAT
 * repetitions DURATION apart.  Looks at no more than 'max' instances.
 */
bool caldav_alarm_matches(icalcomponent *vcal, icalcomponent *parent,
                          icalcomponent *alarm, int64_t start, int64_t end,
                          size_t max);
/*
 * RFC 4791 §9.6.6: does the overridden component c of vcal (one with a
 * RECURRENCE-ID) impact [start, end): its new times or those of the
 * instance it replaces overlap it, or, with RANGE=THISANDFUTURE, one of
 * the later instances (no more than 'max') does?  true for a component
 * without RECURRENCE-ID.
 */
bool caldav_override_impacts(icalcomponent *vcal, icalcomponent *c,
                             int64_t start, int64_t end, size_t max);
/* UTC seconds of a property's date or date-time value, resolving TZID in
 * the VCALENDAR, libical's zones, then Windows zone names. */
int64_t caldav_prop_time(icalcomponent *vcal, icalproperty *prop,
                         bool *is_date);
/* RFC 5545 §3.3.6: t plus one nominal day, in the zone of floating
 * times (caldav_floating_zone_set): the end of a day that begins at t.
 * Cannot fail. */
int64_t caldav_day_after(int64_t t);
/* The period of a FREEBUSY property as UTC seconds [*start, *end) (its
 * end, or its start plus its duration).  Cannot fail. */
void caldav_freebusy_period(icalcomponent *vcal, icalproperty *prop,
                            int64_t *start, int64_t *end);
/* RFC 4791 §9.9, §7.3: read floating date-times of this thread's
 * evaluations in tz (NULL: UTC) until set again.  Cannot fail. */
void caldav_floating_zone_set(icaltimezone *tz);
/* The zone of the VTIMEZONE in iCalendar 'text' (a calendar-timezone or
 * a query's timezone), valid while 'a' lives; NULL if it holds none. */
icaltimezone *caldav_zone_parse(struct arena *a, const char *text);
/* Parse "20061104T140000Z" (UTC) into seconds. */
bool caldav_parse_utc(const char *s, int64_t *out);
/* The 64-bit FNV-1a hash of NUL-terminated s.  Cannot fail. */
uint64_t caldav_fnv1a(const char *s);
/* The IANA name of a Windows time zone name, or NULL (tz.c). */
const char *caldav_windows_zone(const char *name);

/* ---- reports.c ---- */

void caldav_reports_register(struct dav_registry *r);

#endif
