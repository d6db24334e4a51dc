/*
 * caldav/ical.c -- iCalendar with libical: parsing, the checks of RFC 4791
 * §4.1 and §5.3.2, time zone resolution, recurrence expansion (RRULE,
 * RDATE, EXDATE, overridden instances) and the time-range rules of
 * RFC 4791 §9.9.
 *
 * Times become UTC seconds.  A TZID is looked up in the object's
 * VTIMEZONEs, then among libical's zones, then as a Windows zone name
 * (as Outlook sends them).  Floating date-times (RFC 4791 §9.9, §7.3) are
 * read in the zone a report sets for the thread while it evaluates
 * (caldav_floating_zone_set: the query's timezone, else the calendar's
 * calendar-timezone), else as UTC, and so are dates (a day begins at
 * midnight in that zone); an object with floating times or dates is
 * therefore never indexed as exact.  Zones are shared through a process-wide
 * cache keyed by their text.  Expansion stops at the configured
 * max_instances (caldav_max_instances) instances per object.
 */
#include "caldav/caldav_int.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

static void
ical_free_cb(void *c)
{
    icalcomponent_free(c);
}

icalcomponent *
caldav_ical_parse(struct arena *a, const char *data, size_t len)
{
    char *text = arena_strndup(a, data, len);
    icalcomponent *c = icalparser_parse_string(text);
    if (c == NULL)
        return NULL;
    arena_defer(a, ical_free_cb, c);
    if (icalcomponent_isa(c) != ICAL_VCALENDAR_COMPONENT)
        return NULL;
    return c;
}

/*
 * The zone cache: one icaltimezone per distinct VTIMEZONE text, kept for
 * the life of the process.  Every parsed object brings its own copy of its
 * zones, and libical expands a zone's rules (slowly: through ICU) the first
 * time a time is converted in it, so without the cache a calendar-query
 * would expand Europe/Paris once per candidate object.  Two VTIMEZONEs with
 * the same text define the same zone, so the cached one gives the same
 * answers as the object's own.  Only zones of at most ZONE_TEXT_MAX bytes
 * are kept, so the cache stays within a few MiB.  libical (3.0) guards a zone's expanded
 * changes with its own lock, so threads may share the entries; ours guards
 * the table.  Bounded: past ZONE_CACHE_MAX distinct zones, the object's own
 * zone is used as before.
 */
#define ZONE_CACHE_MAX 256
#define ZONE_TEXT_MAX (16 * 1024) /* real zones: 1-4 KiB */

struct zone_entry {
    uint64_t hash;
    char *text;              /* the VTIMEZONE as iCalendar text */
    icaltimezone *tz;        /* built from a clone of it */
};

static struct {
    pthread_mutex_t lock;
    size_t n;
    struct zone_entry e[ZONE_CACHE_MAX];
} zone_cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

uint64_t
caldav_fnv1a(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The shared zone equal to 'own' (an object's zone), or 'own' itself. */
static icaltimezone *
zone_cached(icaltimezone *own)
{
    icalcomponent *vtz = icaltimezone_get_component(own);
    if (vtz == NULL)
        return own;
    char *text = icalcomponent_as_ical_string_r(vtz);
    if (text == NULL)
        return own;
    if (strlen(text) > ZONE_TEXT_MAX) {
        /* Not a zone as clients send them: not worth keeping for good. */
        icalmemory_free_buffer(text);
        return own;
    }
    uint64_t h = caldav_fnv1a(text);
    icaltimezone *found = NULL;
    pthread_mutex_lock(&zone_cache.lock);
    for (size_t i = 0; i < zone_cache.n && found == NULL; i++)
        if (zone_cache.e[i].hash == h && strcmp(zone_cache.e[i].text, text) == 0)
            found = zone_cache.e[i].tz;
    if (found == NULL && zone_cache.n < ZONE_CACHE_MAX) {
        icaltimezone *tz = icaltimezone_new();
        icalcomponent *clone = tz != NULL ? icalcomponent_new_clone(vtz)
                                          : NULL;
        if (clone != NULL && icaltimezone_set_component(tz, clone)) {
            zone_cache.e[zone_cache.n++] =
                (struct zone_entry){ .hash = h, .text = text, .tz = tz };
            text = NULL; /* owned by the cache now */
            found = tz;
        } else {
            if (clone != NULL)
                icalcomponent_free(clone);
            if (tz != NULL)
                icaltimezone_free(tz, 1);
        }
    }
    pthread_mutex_unlock(&zone_cache.lock);
    icalmemory_free_buffer(text);
    return found != NULL ? found : own;
}

static icaltimezone *
resolve_zone(icalcomponent *vcal, const char *tzid)
{
    icaltimezone *tz = icalcomponent_get_timezone(vcal, tzid);
    if (tz != NULL)
        return zone_cached(tz);
    tz = icaltimezone_get_builtin_timezone(tzid);
    if (tz == NULL)
        tz = icaltimezone_get_builtin_timezone_from_tzid(tzid);
    if (tz == NULL) {
        const char *iana = caldav_windows_zone(tzid);
        if (iana != NULL)
            tz = icaltimezone_get_builtin_timezone(iana);
    }
    return tz;
}

/* Seconds since the epoch of the fields of tt read as UTC (a date: its
 * midnight).  libical's own conversion (3.0) answers -1 for any time
 * before 1902, which would put them all at one instant. */
static int64_t
fields_to_unix(struct icaltimetype tt)
{
    /* Days from 1970-01-01 of a proleptic Gregorian date (the
     * days_from_civil algorithm of H. Hinnant). */
    int64_t y = tt.year - (tt.month <= 2 ? 1 : 0);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (tt.month + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + tt.day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    int64_t secs = tt.is_date ? 0
                              : (int64_t)tt.hour * 3600 + tt.minute * 60 +
                                    tt.second;
    return days * 86400 + secs;
}

/* The zone floating date-times are read in, while a report of this
 * thread evaluates objects (NULL: UTC); thread-local as the evaluation
 * runs in the connection's thread, also for pages streamed later. */
static _Thread_local icaltimezone *floating_zone;

void
caldav_floating_zone_set(icaltimezone *tz)
{
    floating_zone = tz;
}

icaltimezone *
caldav_zone_parse(struct arena *a, const char *text)
{
    icalcomponent *vcal = text != NULL
                              ? caldav_ical_parse(a, text, strlen(text))
                              : NULL;
    icalcomponent *vtz = vcal != NULL
                             ? icalcomponent_get_first_component(
                                   vcal, ICAL_VTIMEZONE_COMPONENT)
                             : NULL;
    icalproperty *id = vtz != NULL
                           ? icalcomponent_get_first_property(
                                 vtz, ICAL_TZID_PROPERTY)
                           : NULL;
    if (id == NULL)
        return NULL;
    icaltimezone *tz = icalcomponent_get_timezone(vcal,
                                                  icalproperty_get_tzid(id));
    return tz != NULL ? zone_cached(tz) : NULL;
}

/* The zone the value tt of prop is read in (NULL: UTC): its TZID's, else
 * for a floating date-time or a date (RFC 4791 §9.9) the report's. */
static icaltimezone *
read_zone(icalcomponent *vcal, icalproperty *prop, struct icaltimetype tt)
{
    if (tt.is_date)
        return floating_zone;
    if (icaltime_is_utc(tt))
        return NULL;
    icalparameter *p = prop != NULL
                           ? icalproperty_get_first_parameter(
                                 prop, ICAL_TZID_PARAMETER)
                           : NULL;
    icaltimezone *tz = p != NULL
                           ? resolve_zone(vcal, icalparameter_get_tzid(p))
                           : NULL;
    return tz != NULL ? tz : floating_zone;
}

static int64_t
tt_to_unix(icalcomponent *vcal, icalproperty *prop, struct icaltimetype tt)
{
    icaltimezone *z = read_zone(vcal, prop, tt);
    if (z == NULL)
        return fields_to_unix(tt);
    /* A date begins at midnight in its zone. */
    tt.is_date = 0;
    tt.zone = NULL;
    icaltimezone_convert_time(&tt, z, icaltimezone_get_utc_timezone());
    return fields_to_unix(tt);
}

/*
 * RFC 5545 §3.3.6: 'start' plus 'days' nominal days (the same local time
 * that many days later in 'zone', NULL: UTC) and 'secs' exact seconds;
 * never before 'start'.  Cannot fail.
 */
static int64_t
shift_nominal(icaltimezone *zone, int64_t start, int days, int64_t secs)
{
    int64_t end = start;
    if (days != 0) {
        icaltimezone *utc = icaltimezone_get_utc_timezone();
        struct icaltimetype t = icaltime_from_timet_with_zone((time_t)start,
                                                              0, utc);
        t.zone = NULL;
        if (zone != NULL)
            icaltimezone_convert_time(&t, utc, zone);
        icaltime_adjust(&t, days, 0, 0, 0);
        if (zone != NULL)
            icaltimezone_convert_time(&t, zone, utc);
        end = fields_to_unix(t);
    }
    return end + secs;
}

static int64_t
add_duration(icaltimezone *zone, int64_t start, int days, int64_t secs)
{
    int64_t end = shift_nominal(zone, start, days, secs);
    return end > start ? end : start;
}

/* Ten thousand years: past any date a calendar keeps (max-date-time),
 * and few enough that icaltime_adjust, which walks month by month, stays
 * cheap. */
#define DURATION_DAYS_MAX 3660000

/* The days and exact seconds of a DURATION value (negative with its
 * sign); days beyond DURATION_DAYS_MAX count as that many. */
static void
duration_parts(struct icaldurationtype d, int *days, int64_t *secs)
{
    int sign = d.is_neg ? -1 : 1;
    int64_t n = (int64_t)d.days + 7 * (int64_t)d.weeks;
    *days = sign * (int)(n < DURATION_DAYS_MAX ? n : DURATION_DAYS_MAX);
    *secs = sign * ((int64_t)d.hours * 3600 + (int64_t)d.minutes * 60 +
                    d.seconds);
}

int64_t
caldav_day_after(int64_t t)
{
    return add_duration(floating_zone, t, 1, 0);
}

int64_t
caldav_prop_time(icalcomponent *vcal, icalproperty *prop, bool *is_date)
{
    icalvalue *v = icalproperty_get_value(prop);
    struct icaltimetype tt = icalvalue_get_datetime(v);
    if (is_date != NULL)
        *is_date = tt.is_date;
    return tt_to_unix(vcal, prop, tt);
}

void
caldav_freebusy_period(icalcomponent *vcal, icalproperty *prop,
                       int64_t *start, int64_t *end)
{
    struct icalperiodtype per = icalproperty_get_freebusy(prop);
    *start = tt_to_unix(vcal, prop, per.start);
    *end = !icaltime_is_null_time(per.end)
               ? tt_to_unix(vcal, prop, per.end)
               : *start + icaldurationtype_as_int(per.duration);
}

bool
caldav_parse_utc(const char *s, int64_t *out)
{
    struct icaltimetype tt = icaltime_from_string(s);
    if (icaltime_is_null_time(tt) || !icaltime_is_valid_time(tt))
        return false;
    *out = fields_to_unix(tt);
    return true;
}

/* Start of a component and its length, per its kind.  An instance ends
 * 'days' nominal days (RFC 5545 §3.3.6) after its start in 'zone', the
 * zone DTSTART is read in, plus 'length' seconds (span_end). */
struct span {
    bool has_start;
    int64_t start;           /* DTSTART; a to-do without it: its DUE */
    icaltimezone *zone;      /* of DTSTART (NULL: UTC) */
    int days;
    int64_t length;          /* seconds, 0 for a point */
    bool always;             /* no time at all: matches any range */
    int64_t lo, hi;          /* VTODO without DTSTART: [lo, hi] */
    bool use_lohi;
};

static int64_t
prop_unix(icalcomponent *vcal, icalcomponent *c, icalproperty_kind k,
          bool *found, bool *is_date)
{
    icalproperty *p = icalcomponent_get_first_property(c, k);
    *found = p != NULL;
    if (p == NULL)
        return 0;
    return caldav_prop_time(vcal, p, is_date);
}

/* The end of the instance of s starting at 'start'.  Cannot fail. */
static int64_t
span_end(const struct span *s, int64_t start)
{
    return add_duration(s->zone, start, s->days, s->length);
}

/* The most an instance of s may last: a nominal day is 25 hours at
 * most. */
static int64_t
span_max(const struct span *s)
{
    return s->length + (s->days > 0 ? (int64_t)s->days * 90000 : 0);
}

/* The whole days from date 'a' to date 'b'. */
static int
date_days(struct icaltimetype a, struct icaltimetype b)
{
    a.is_date = b.is_date = 1;
    return (int)((fields_to_unix(b) - fields_to_unix(a)) / 86400);
}

/* The length from DTSTART sp to the end property ep, into s. */
static void
span_between(icalcomponent *vcal, icalproperty *sp, icalproperty *ep,
             struct span *s)
{
    struct icaltimetype st = icalvalue_get_datetime(
        icalproperty_get_value(sp));
    struct icaltimetype et = icalvalue_get_datetime(
        icalproperty_get_value(ep));
    if (st.is_date && et.is_date)
        s->days = date_days(st, et);
    else
        s->length = caldav_prop_time(vcal, ep, NULL) - s->start;
}

/* The end of c from its DURATION, or from DTEND (DUE for a to-do,
 * 'endk'), into s: a duration's days and a date's days are nominal, a
 * date-time's difference exact (RFC 5545 §3.3.6, §3.8.5.3). */
static void
span_length(icalcomponent *vcal, icalcomponent *c, icalproperty_kind endk,
            bool duration_first, struct span *s)
{
    icalproperty *dur = icalcomponent_get_first_property(
        c, ICAL_DURATION_PROPERTY);
    icalproperty *sp = icalcomponent_get_first_property(
        c, ICAL_DTSTART_PROPERTY);
    icalproperty *ep = icalcomponent_get_first_property(c, endk);
    if (dur != NULL && (duration_first || ep == NULL))
        duration_parts(icalproperty_get_duration(dur), &s->days, &s->length);
    else if (ep != NULL)
        span_between(vcal, sp, ep, s);
    /* An end before the start (RFC 5545 §3.8.2.2 forbids it, but stored
     * objects may have one): a point in time, as an instance of no
     * length is, rather than an interval running backwards. */
    if (s->days < 0 || s->length < 0) {
        s->days = 0;
        s->length = 0;
    }
}

static struct span
component_span(icalcomponent *vcal, icalcomponent *c)
{
    struct span s;
    memset(&s, 0, sizeof(s));
    bool found, is_date = false, dummy;
    s.start = prop_unix(vcal, c, ICAL_DTSTART_PROPERTY, &found, &is_date);
    s.has_start = found;
    if (found) {
        icalproperty *sp = icalcomponent_get_first_property(
            c, ICAL_DTSTART_PROPERTY);
        s.zone = read_zone(vcal, sp,
                           icalvalue_get_datetime(icalproperty_get_value(sp)));
    }
    icalcomponent_kind kind = icalcomponent_isa(c);
    icalproperty *dur = icalcomponent_get_first_property(c,
                                                         ICAL_DURATION_PROPERTY);
    if (kind == ICAL_VEVENT_COMPONENT || kind == ICAL_VFREEBUSY_COMPONENT ||
        kind == ICAL_VJOURNAL_COMPONENT) {
        if (!s.has_start) {
            s.always = kind != ICAL_VEVENT_COMPONENT;
            return s;
        }
        bool has_end = icalcomponent_get_first_property(
                           c, ICAL_DTEND_PROPERTY) != NULL;
        if (kind == ICAL_VFREEBUSY_COMPONENT && !has_end) {
            /* Its FREEBUSY periods decide (freebusy_matches): they may
             * lie anywhere. */
            s.always = true;
            return s;
        }
        if (has_end || dur != NULL)
            span_length(vcal, c, ICAL_DTEND_PROPERTY, false, &s);
        else if (is_date)
            s.days = 1; /* RFC 5545 §3.6.1: an all-day event */
        return s;
    }
    if (kind == ICAL_VTODO_COMPONENT) {
        bool has_due, has_completed, has_created;
        int64_t due = prop_unix(vcal, c, ICAL_DUE_PROPERTY, &has_due, &dummy);
        if (s.has_start) {
            span_length(vcal, c, ICAL_DUE_PROPERTY, true, &s);
            return s;
        }
        if (has_due) {
            s.use_lohi = true;
            s.start = s.lo = s.hi = due;
            return s;
        }
        int64_t completed = prop_unix(vcal, c, ICAL_COMPLETED_PROPERTY,
                                      &has_completed, &dummy);
        int64_t created = prop_unix(vcal, c, ICAL_CREATED_PROPERTY,
                                    &has_created, &dummy);
        if (has_completed || has_created) {
            /* RFC 4791 §9.9: between CREATED and COMPLETED. */
            s.use_lohi = true;
            s.lo = has_created ? created : CALDAV_TIME_MIN;
            s.hi = has_completed ? completed : CALDAV_TIME_MAX;
            return s;
        }
        s.always = true;
        return s;
    }
    s.always = true;
    return s;
}

static bool
in_list(const int64_t *v, size_t n, int64_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

/* Collected times of a property kind (EXDATE, RDATE, RECURRENCE-ID).
 * For RDATEs, 'lengths' (if not NULL) gets each instance's length: that
 * of its PERIOD (RFC 5545 §3.8.5.2), or that the component's span 's'
 * gives from its start. */
static size_t
collect_times(icalcomponent *vcal, icalcomponent *c, icalproperty_kind k,
              int64_t *out, int64_t *lengths, const struct span *s,
              size_t max)
{
    size_t n = 0;
    for (icalproperty *p = icalcomponent_get_first_property(c, k);
         p != NULL && n < max; p = icalcomponent_get_next_property(c, k)) {
        if (k == ICAL_RDATE_PROPERTY) {
            struct icaldatetimeperiodtype dp = icalproperty_get_rdate(p);
            bool period = icaltime_is_null_time(dp.time);
            struct icaltimetype tt = period ? dp.period.start : dp.time;
            out[n] = tt_to_unix(vcal, p, tt);
            int64_t len = s != NULL ? span_end(s, out[n]) - out[n] : 0;
            if (period && !icaltime_is_null_time(dp.period.end)) {
                len = tt_to_unix(vcal, p, dp.period.end) - out[n];
            } else if (period) {
                int days;
                int64_t secs;
                duration_parts(dp.period.duration, &days, &secs);
                len = add_duration(read_zone(vcal, p, tt), out[n], days,
                                   secs) - out[n];
            }
            if (lengths != NULL)
                lengths[n] = len >= 0 ? len : 0;
            n++;
        } else {
            out[n++] = caldav_prop_time(vcal, p, NULL);
        }
    }
    return n;
}

#define MAX_EXCEPTIONS 512
/* Observances, or RDATEs, of one VTIMEZONE: real zones have a few, a
 * full history a few hundred. */
#define ZONE_MAX_OBSERVANCES 1000
/* Days an observance's rule may name in a year: month x weekday x
 * month days ("the Sunday of 8 to 14 March" is 7). */
#define ZONE_MAX_PER_YEAR 31

static size_t
by_count(const short *list, size_t size)
{
    size_t n = 0;
    while (n < size && list[n] != ICAL_RECURRENCE_ARRAY_MAX)
        n++;
    return n;
}

/*
 * false when a BYSETPOS rule of a DAILY, WEEKLY or MONTHLY series asks only
 * for positions beyond what one period can ever hold (RFC 5545 §3.3.10:
 * BYSETPOS picks among the occurrences of each period): such a rule has no
 * instance but DTSTART, and libical would search centuries for one before
 * giving up (seconds of CPU for one PUT).
 */
static bool
rule_can_recur(const struct icalrecurrencetype *rr)
{
    size_t npos = by_count(rr->by_set_pos, ICAL_BY_SETPOS_SIZE);
    if (npos == 0)
        return true;
    size_t days;
    size_t nday = by_count(rr->by_day, ICAL_BY_DAY_SIZE);
    size_t nmday = by_count(rr->by_month_day, ICAL_BY_MONTHDAY_SIZE);
    switch (rr->freq) {
    case ICAL_DAILY_RECURRENCE:
        days = 1;
        break;
    case ICAL_WEEKLY_RECURRENCE:
        days = nday > 0 ? nday : 1;
        break;
    case ICAL_MONTHLY_RECURRENCE:
        if (nmday > 0) {
            days = nmday;
        } else if (nday > 0) {
            days = 0; /* a weekday comes 5 times a month at most */
            for (size_t i = 0; i < nday; i++)
                days += icalrecurrencetype_day_position(rr->by_day[i]) != 0
                            ? 1 : 5;
        } else {
            days = 1;
        }
        break;
    default:
        return true; /* YEARLY (up to 366 days) and finer: not bounded here */
    }
    size_t nh = by_count(rr->by_hour, ICAL_BY_HOUR_SIZE);
    size_t nm = by_count(rr->by_minute, ICAL_BY_MINUTE_SIZE);
    size_t ns = by_count(rr->by_second, ICAL_BY_SECOND_SIZE);
    size_t most = days * (nh > 0 ? nh : 1) * (nm > 0 ? nm : 1) *
                  (ns > 0 ? ns : 1);
    for (size_t i = 0; i < npos; i++) {
        int pos = rr->by_set_pos[i];
        if (pos != 0 && (size_t)(pos < 0 ? -pos : pos) <= most)
            return true;
    }
    return false;
}

static int
month_days(int month)
{
    static const int days[12] = { 31, 29, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31 };
    return month >= 1 && month <= 12 ? days[month - 1] : 0;
}

/*
 * Why a rule would cost without bound to expand, or NULL.  libical finds
 * the next instance by stepping through every period of the frequency
 * and filtering: a rule whose BYMONTH and BYMONTHDAY meet on no date is
 * searched until the year 2582 (minutes of CPU for MINUTELY, hours for
 * SECONDLY), and second steps over days, or minute steps over months,
 * cost as much between two instances.
 */
static bool
in_by_list(const short *list, size_t n, int v, int len)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == v || (list[i] < 0 && len + 1 + list[i] == v))
            return true;
    return false;
}

/*
 * Whether the date parts of a rule (BYMONTH, BYMONTHDAY, BYYEARDAY,
 * BYWEEKNO and the weekdays of BYDAY, ordinals left aside) meet on some
 * date of some year: every kind of year is tried (leap or not, each
 * weekday of 1 January).  Weeks are ISO weeks; a day of a week that
 * belongs to the year before or after is taken for either.
 */
static bool
date_parts_meet(const struct icalrecurrencetype *rr)
{
    size_t nmon = by_count(rr->by_month, ICAL_BY_MONTH_SIZE);
    size_t nmday = by_count(rr->by_month_day, ICAL_BY_MONTHDAY_SIZE);
    size_t nyday = by_count(rr->by_year_day, ICAL_BY_YEARDAY_SIZE);
    size_t nweek = by_count(rr->by_week_no, ICAL_BY_WEEKNO_SIZE);
    size_t nday = by_count(rr->by_day, ICAL_BY_DAY_SIZE);
    if (nmon + nmday + nyday + nweek == 0)
        return true; /* weekdays alone: every week has them */
    for (int leap = 0; leap < 2; leap++) {
        for (int jan1 = 0; jan1 < 7; jan1++) { /* 0: Monday */
            int len = 365 + leap;
            int weeks = jan1 == 3 || (leap && jan1 == 2) ? 53 : 52;
            int doy = 0;
            for (int m = 1; m <= 12; m++) {
                int mdays = m == 2 ? 28 + leap : month_days(m);
                for (int d = 1; d <= mdays; d++) {
                    doy++;
                    int wd = (jan1 + doy - 1) % 7;
                    if (nmon > 0 && !in_by_list(rr->by_month, nmon, m, 12))
                        continue;
                    if (nmday > 0 &&
                        !in_by_list(rr->by_month_day, nmday, d, mdays))
                        continue;
                    if (nyday > 0 &&
                        !in_by_list(rr->by_year_day, nyday, doy, len))
                        continue;
                    if (nday > 0) {
                        bool some = false;
                        for (size_t i = 0; i < nday && !some; i++) {
                            int w = icalrecurrencetype_day_day_of_week(
                                rr->by_day[i]); /* 1: Sunday */
                            some = (w + 5) % 7 == wd;
                        }
                        if (!some)
                            continue;
                    }
                    if (nweek > 0) {
                        int wk = (doy - (wd + 1) + 10) / 7;
                        bool some =
                            wk >= 1 && wk <= weeks &&
                            in_by_list(rr->by_week_no, nweek, wk, weeks);
                        if (wk < 1 || wk > weeks) /* another year's week */
                            for (int w = 1; w <= 53 && !some; w++)
                                some = (w <= 1 || w >= 52) &&
                                       in_by_list(rr->by_week_no, nweek, w,
                                                  w >= 52 ? w : weeks);
                        if (!some)
                            continue;
                    }
                    return true;
                }
            }
        }
    }
    return false;
}

/*
 * Why a rule would cost without bound to expand, or NULL.  libical finds
 * the next instance by stepping through every period of the frequency
 * and filtering: a rule whose date parts meet on no date is searched
 * until the year 2582 (minutes of CPU for MINUTELY, hours for
 * SECONDLY), and second steps over days, or minute steps over months,
 * cost as much between two instances.
 */
static const char *
rule_too_costly(const struct icalrecurrencetype *rr)
{
    size_t nmon = by_count(rr->by_month, ICAL_BY_MONTH_SIZE);
    size_t nmday = by_count(rr->by_month_day, ICAL_BY_MONTHDAY_SIZE);
    if (!date_parts_meet(rr))
        return "the rule's date parts meet on no date";
    bool days = nmon > 0 || nmday > 0 ||
                by_count(rr->by_year_day, ICAL_BY_YEARDAY_SIZE) > 0 ||
                by_count(rr->by_week_no, ICAL_BY_WEEKNO_SIZE) > 0;
    if (rr->freq == ICAL_SECONDLY_RECURRENCE &&
        (days || by_count(rr->by_day, ICAL_BY_DAY_SIZE) > 0 ||
         by_count(rr->by_hour, ICAL_BY_HOUR_SIZE) > 0 ||
         by_count(rr->by_set_pos, ICAL_BY_SETPOS_SIZE) > 0))
        return "FREQ=SECONDLY filtered by hours or days";
    if (rr->freq == ICAL_MINUTELY_RECURRENCE && days)
        return "FREQ=MINUTELY filtered by months or days of the year";
    return NULL;
}

/*
 * Why a VTIMEZONE would cost without bound to expand, or NULL: libical
 * computes every transition of a zone up to 2037 and keeps them (the
 * zone cache keeps the zone), so an observance recurring more often than
 * yearly, or thousands of observances, take seconds and megabytes.
 */
static const char *
zone_too_costly(icalcomponent *vtz)
{
    int observances = 0, dates = 0;
    for (icalcomponent *o =
             icalcomponent_get_first_component(vtz, ICAL_ANY_COMPONENT);
         o != NULL;
         o = icalcomponent_get_next_component(vtz, ICAL_ANY_COMPONENT)) {
        if (++observances > ZONE_MAX_OBSERVANCES)
            return "too many observances in a VTIMEZONE";
        dates += icalcomponent_count_properties(o, ICAL_RDATE_PROPERTY);
        if (dates > ZONE_MAX_OBSERVANCES)
            return "too many RDATEs in a VTIMEZONE";
        for (icalproperty *rp =
                 icalcomponent_get_first_property(o, ICAL_RRULE_PROPERTY);
             rp != NULL;
             rp = icalcomponent_get_next_property(o, ICAL_RRULE_PROPERTY)) {
            struct icalrecurrencetype rr = icalproperty_get_rrule(rp);
            if (rr.freq != ICAL_YEARLY_RECURRENCE)
                return "a VTIMEZONE observance recurring more than yearly";
            /* A change of offset comes once or twice a year, on a day
             * named by month, weekday and a week of month days. */
            size_t nmon = by_count(rr.by_month, ICAL_BY_MONTH_SIZE);
            size_t nday = by_count(rr.by_day, ICAL_BY_DAY_SIZE);
            size_t nmday = by_count(rr.by_month_day, ICAL_BY_MONTHDAY_SIZE);
            /* Days a month: the month days named, else up to five per
             * weekday named without a position, one with. */
            size_t per_month = nmday;
            if (per_month == 0) {
                per_month = nday > 0 ? 0 : 1;
                for (size_t i = 0; i < nday; i++)
                    per_month += icalrecurrencetype_day_position(
                                     rr.by_day[i]) != 0 ? 1 : 5;
            }
            if (by_count(rr.by_year_day, ICAL_BY_YEARDAY_SIZE) > 0 ||
                by_count(rr.by_week_no, ICAL_BY_WEEKNO_SIZE) > 0 ||
                by_count(rr.by_hour, ICAL_BY_HOUR_SIZE) > 0 ||
                by_count(rr.by_minute, ICAL_BY_MINUTE_SIZE) > 0 ||
                by_count(rr.by_second, ICAL_BY_SECOND_SIZE) > 0 ||
                (nmon > 0 ? nmon : 12) * per_month > ZONE_MAX_PER_YEAR)
                return "a VTIMEZONE observance changing more than a few "
                       "times a year";
        }
    }
    return NULL;
}

bool
caldav_instances(icalcomponent *vcal, icalcomponent_kind kind, int64_t from,
                 int64_t until, size_t max, caldav_instance_fn fn, void *ctx)
{
    int64_t overridden[MAX_EXCEPTIONS];
    size_t noverridden = 0;
    size_t count = 0;
    /* Overrides first: they replace instances of their master. */
    for (icalcomponent *c = icalcomponent_get_first_component(vcal, kind);
         c != NULL; c = icalcomponent_get_next_component(vcal, kind)) {
        icalproperty *rid = icalcomponent_get_first_property(
            c, ICAL_RECURRENCEID_PROPERTY);
        if (rid == NULL || noverridden == MAX_EXCEPTIONS)
            continue;
        int64_t r = caldav_prop_time(vcal, rid, NULL);
        overridden[noverridden++] = r;
        struct span s = component_span(vcal, c);
        int64_t st = s.has_start ? s.start : r;
        if (!fn(ctx, c, st, span_end(&s, st), r))
            return true;
        count++;
    }
    for (icalcomponent *c = icalcomponent_get_first_component(vcal, kind);
         c != NULL; c = icalcomponent_get_next_component(vcal, kind)) {
        if (icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY))
            continue;
        struct span s = component_span(vcal, c);
        icalproperty *rrule = icalcomponent_get_first_property(
            c, ICAL_RRULE_PROPERTY);
        int64_t rdates[MAX_EXCEPTIONS], rlengths[MAX_EXCEPTIONS];
        int64_t exdates[MAX_EXCEPTIONS];
        size_t nr = collect_times(vcal, c, ICAL_RDATE_PROPERTY, rdates,
                                  rlengths, &s, MAX_EXCEPTIONS);
        size_t nx = collect_times(vcal, c, ICAL_EXDATE_PROPERTY, exdates,
                                  NULL, NULL, MAX_EXCEPTIONS);
        if (!s.has_start || (rrule == NULL && nr == 0)) {
            /* One instance; a to-do without DTSTART is anchored at its
             * DUE (RFC 4791 §9.9), or at 0 without either. */
            int64_t st = s.start;
            if (s.has_start && in_list(overridden, noverridden, st))
                continue;
            if (!fn(ctx, c, st, span_end(&s, st), 0))
                return true;
            continue;
        }
        /* The first instance is DTSTART itself (RFC 5545 §3.8.5.3). */
        if (!in_list(exdates, nx, s.start) &&
            !in_list(overridden, noverridden, s.start)) {
            if (!fn(ctx, c, s.start, span_end(&s, s.start), s.start))
                return true;
            count++;
        }
        for (size_t i = 0; i < nr; i++) {
            if (rdates[i] == s.start || in_list(exdates, nx, rdates[i]) ||
                in_list(overridden, noverridden, rdates[i]))
                continue;
            if (!fn(ctx, c, rdates[i], rdates[i] + rlengths[i], rdates[i]))
                return true;
            count++;
        }
        if (rrule == NULL)
            continue;
        icalproperty *dtp = icalcomponent_get_first_property(
            c, ICAL_DTSTART_PROPERTY);
        struct icaltimetype dtstart = icalproperty_get_dtstart(dtp);
        /* The iterator needs the zone to read a UTC UNTIL right. */
        icalparameter *tzp = icalproperty_get_first_parameter(
            dtp, ICAL_TZID_PARAMETER);
        icaltimezone *tz = tzp != NULL
                               ? resolve_zone(vcal, icalparameter_get_tzid(tzp))
                               : NULL;
        if (tz != NULL && !dtstart.is_date)
            dtstart.zone = tz;
        struct icalrecurrencetype rr = icalproperty_get_rrule(rrule);
        if (tz != NULL && !icaltime_is_null_time(rr.until) &&
            icaltime_is_utc(rr.until) && !dtstart.is_date) {
            /* RFC 5545 §3.3.10: a UTC UNTIL bounds a zoned DTSTART. */
            rr.until = icaltime_convert_to_zone(rr.until, tz);
            rr.until.zone = tz;
        }
        if (!rule_can_recur(&rr))
            continue; /* its only instance is DTSTART, given above */
        icalrecur_iterator *it = icalrecur_iterator_new(rr, dtstart);
        if (it == NULL)
            continue;
        /* Long series: start near the window instead of counting every
         * instance since DTSTART (not with COUNT, which must count). */
        if (from != CALDAV_TIME_MIN && rr.count == 0 &&
            from - span_max(&s) > s.start) {
            /* A floating DTSTART (a date too) counts in the report's
             * zone. */
            icaltimezone *jz = tz;
            if (jz == NULL && !icaltime_is_utc(dtstart))
                jz = floating_zone;
            struct icaltimetype jump = icaltime_from_timet_with_zone(
                (time_t)(from - span_max(&s)), 0,
                jz != NULL ? jz : icaltimezone_get_utc_timezone());
            jump.is_date = dtstart.is_date;
            /* The conversion leaves the zone marked UTC: the iterator would
             * read the local wall time as UTC and skip instances of that
             * day. */
            jump.zone = tz != NULL ? tz : dtstart.zone;
            icalrecur_iterator_set_start(it, jump);
        }
        for (struct icaltimetype next = icalrecur_iterator_next(it);
             !icaltime_is_null_time(next);
             next = icalrecur_iterator_next(it)) {
            int64_t st = tt_to_unix(vcal, dtp, next);
            if (st >= until)
                break;
            if (st == s.start)
                continue; /* DTSTART, given and counted above */
            /* RFC 5545 §3.8.5.3: each instance lasts its own nominal
             * days from its start. */
            int64_t en = span_end(&s, st);
            if (en >= from && ++count > max) {
                icalrecur_iterator_free(it);
                return false;
            }
            if (in_list(exdates, nx, st) ||
                in_list(overridden, noverridden, st))
                continue;
            if (!fn(ctx, c, st, en, st)) {
                icalrecur_iterator_free(it);
                return true;
            }
        }
        icalrecur_iterator_free(it);
    }
    return true;
}

struct overlap_ctx {
    icalcomponent *vcal;
    int64_t qs, qe;
    bool hit;
};

/* RFC 4791 §9.9, VFREEBUSY: with DTSTART and DTEND, [DTSTART, DTEND]
 * (DTEND included); otherwise one of its FREEBUSY periods; without
 * either, no match. */
static bool
freebusy_matches(icalcomponent *vcal, icalcomponent *fb, int64_t qs,
                 int64_t qe)
{
    bool has_start, has_end;
    int64_t start = prop_unix(vcal, fb, ICAL_DTSTART_PROPERTY, &has_start,
                              NULL);
    int64_t end = prop_unix(vcal, fb, ICAL_DTEND_PROPERTY, &has_end, NULL);
    if (has_start && has_end)
        return qs <= end && qe > start;
    for (icalproperty *p = icalcomponent_get_first_property(
             fb, ICAL_FREEBUSY_PROPERTY);
         p != NULL;
         p = icalcomponent_get_next_property(fb, ICAL_FREEBUSY_PROPERTY)) {
        int64_t ps, pe;
        caldav_freebusy_period(vcal, p, &ps, &pe);
        if (qs < pe && qe > ps)
            return true;
    }
    return false;
}

bool
caldav_instance_matches(icalcomponent *vcal, icalcomponent *comp,
                        int64_t st, int64_t en, int64_t qs, int64_t qe)
{
    struct span s = component_span(vcal, comp);
    icalcomponent_kind kind = icalcomponent_isa(comp);
    bool found, is_date = false;
    if (kind == ICAL_VFREEBUSY_COMPONENT)
        return freebusy_matches(vcal, comp, qs, qe);
    if (kind == ICAL_VEVENT_COMPONENT) {
        if (en > st)
            return qs < en && qe > st;
        return qs <= st && qe > st;
    }
    if (kind == ICAL_VJOURNAL_COMPONENT) {
        if (!s.has_start)
            return false;
        prop_unix(vcal, comp, ICAL_DTSTART_PROPERTY, &found, &is_date);
        if (is_date)
            return qs < en && qe > st; /* en: a day later (span_end) */
        return qs <= st && qe > st;
    }
    if (kind != ICAL_VTODO_COMPONENT)
        return true;
    bool has_due, has_completed, has_created;
    bool has_dur = icalcomponent_get_first_property(
                       comp, ICAL_DURATION_PROPERTY) != NULL;
    int64_t due = prop_unix(vcal, comp, ICAL_DUE_PROPERTY, &has_due, &is_date);
    int64_t completed = prop_unix(vcal, comp, ICAL_COMPLETED_PROPERTY,
                                  &has_completed, &is_date);
    int64_t created = prop_unix(vcal, comp, ICAL_CREATED_PROPERTY,
                                &has_created, &is_date);
    if (s.has_start) {
        /* en: the instance's own end (an RDATE PERIOD's, RFC 5545
         * §3.8.5.2), else its start plus DURATION or DTSTART-to-DUE. */
        if (has_dur)
            return qs <= en && (qe > st || qe >= en);
        if (has_due)
            return (qs < en || qs <= st) && (qe > st || qe >= en);
        return qs <= st && qe > st;
    }
    if (has_due)
        return qs < due && qe >= due;
    if (has_completed && has_created)
        return (qs <= created || qs <= completed) &&
               (qe >= created || qe >= completed);
    if (has_completed)
        return qs <= completed && qe >= completed;
    if (has_created)
        return qe > created;
    return true;
}

static bool
overlap_cb(void *ctx, icalcomponent *comp, int64_t start, int64_t end,
           int64_t rid)
{
    struct overlap_ctx *o = ctx;
    (void)rid;
    if (caldav_instance_matches(o->vcal, comp, start, end, o->qs, o->qe)) {
        o->hit = true;
        return false;
    }
    return true;
}

bool
caldav_overlaps(icalcomponent *vcal, icalcomponent_kind kind, int64_t start,
                int64_t end, size_t max)
{
    struct overlap_ctx o = { vcal, start, end, false };
    /* A VTODO's DUE or COMPLETED may lie past its start: look a little
     * further than the window. */
    caldav_instances(vcal, kind, start,
                     end == CALDAV_TIME_MAX ? end : end + 86400, max,
                     overlap_cb, &o);
    return o.hit;
}

/* a + b, held within [CALDAV_TIME_MIN, CALDAV_TIME_MAX]. */
static int64_t
sat_add(int64_t a, int64_t b)
{
    if (b > 0 && a > CALDAV_TIME_MAX - b)
        return CALDAV_TIME_MAX;
    if (b < 0 && a < CALDAV_TIME_MIN - b)
        return CALDAV_TIME_MIN;
    return a + b;
}

/* An alarm's triggers: 'first', then 'repeat' more 'every' seconds apart
 * (RFC 5545 §3.8.6.2, §3.6.6).  Does one fall in [qs, qe)? */
struct alarm_ctx {
    icalcomponent *parent;
    int64_t offset;          /* TRIGGER's duration, days as 86,400 s */
    int days;                /* its nominal days (RFC 5545 §3.3.6) */
    int64_t secs;            /* and its exact seconds */
    icaltimezone *zone;      /* the zone its days are counted in */
    bool related_end;        /* RELATED=END */
    int64_t every;
    int64_t repeat;
    int64_t qs, qe;
    bool hit;
};

static bool
triggers_hit(const struct alarm_ctx *a, int64_t first)
{
    if (first >= a->qe)
        return false;
    if (first >= a->qs)
        return true;
    if (a->repeat == 0 || a->every <= 0)
        return false;
    /* The first repetition at or after qs. */
    int64_t k = (a->qs - first + a->every - 1) / a->every;
    if (k > a->repeat)
        return false;
    return sat_add(first, k * a->every) < a->qe;
}

static bool
alarm_cb(void *ctx, icalcomponent *comp, int64_t start, int64_t end,
         int64_t rid)
{
    struct alarm_ctx *a = ctx;
    (void)rid;
    if (comp != a->parent)
        return true;
    int64_t base = a->related_end ? end : start;
    int64_t first = a->days != 0
                        ? shift_nominal(a->zone, base, a->days, a->secs)
                        : sat_add(base, a->secs);
    if (triggers_hit(a, first)) {
        a->hit = true;
        return false;
    }
    return true;
}

bool
caldav_alarm_matches(icalcomponent *vcal, icalcomponent *parent,
                     icalcomponent *alarm, int64_t qs, int64_t qe,
                     size_t max)
{
    icalproperty *tp = icalcomponent_get_first_property(
        alarm, ICAL_TRIGGER_PROPERTY);
    if (tp == NULL)
        return false;
    struct alarm_ctx a;
    memset(&a, 0, sizeof(a));
    a.parent = parent;
    a.qs = qs;
    a.qe = qe;
    icalproperty *rp = icalcomponent_get_first_property(
        alarm, ICAL_REPEAT_PROPERTY);
    icalproperty *dp = icalcomponent_get_first_property(
        alarm, ICAL_DURATION_PROPERTY);
    if (rp != NULL && dp != NULL && icalproperty_get_repeat(rp) > 0) {
        a.repeat = icalproperty_get_repeat(rp);
        a.every = icaldurationtype_as_int(icalproperty_get_duration(dp));
        if (a.every <= 0)
            a.repeat = 0;
    }
    struct icaltriggertype trig = icalproperty_get_trigger(tp);
    if (!icaltime_is_null_time(trig.time)) {
        /* RFC 5545 §3.8.6.3: an absolute trigger is a UTC date-time, the
         * same for every instance. */
        return triggers_hit(&a, tt_to_unix(vcal, tp, trig.time));
    }
    a.offset = icaldurationtype_as_int(trig.duration);
    duration_parts(trig.duration, &a.days, &a.secs);
    icalparameter *rel = icalproperty_get_first_parameter(
        tp, ICAL_RELATED_PARAMETER);
    a.related_end = rel != NULL &&
                    icalparameter_get_related(rel) == ICAL_RELATED_END;
    icalcomponent_kind kind = icalcomponent_isa(parent);
    struct span s = component_span(vcal, parent);
    a.zone = s.zone;
    if (!s.has_start) {
        /* A VTODO with DUE only: an alarm can be related to its end. */
        return a.related_end && s.use_lohi && s.lo == s.hi &&
               triggers_hit(&a, sat_add(s.lo, a.offset));
    }
    /* Triggers in [qs, qe) come from instances whose start (or end) lies
     * in [qs - offset - repetitions, qe - offset): those caldav_instances
     * gives for that window, a second wider each way, and two hours more
     * for an offset of nominal days across a change of UTC offset. */
    int64_t span = a.every > 0 ? a.repeat * a.every : 0;
    int64_t slack = a.days != 0 ? 7201 : 1;
    int64_t from = sat_add(sat_add(sat_add(qs, -a.offset), -span), -slack);
    int64_t until = sat_add(sat_add(qe, -a.offset), slack);
    caldav_instances(vcal, kind, from, until, max, alarm_cb, &a);
    return a.hit;
}

struct impact_ctx {
    icalcomponent *vcal;
    int64_t qs, qe;
    int64_t from_rid;
    bool hit;
};

static bool
impact_cb(void *ctx, icalcomponent *comp, int64_t start, int64_t end,
          int64_t rid)
{
    struct impact_ctx *x = ctx;
    if (rid >= x->from_rid &&
        caldav_instance_matches(x->vcal, comp, start, end, x->qs, x->qe)) {
        x->hit = true;
        return false;
    }
    return true;
}

bool
caldav_override_impacts(icalcomponent *vcal, icalcomponent *c, int64_t qs,
                        int64_t qe, size_t max)
{
    icalproperty *rp = icalcomponent_get_first_property(
        c, ICAL_RECURRENCEID_PROPERTY);
    if (rp == NULL)
        return true;
    int64_t rid = caldav_prop_time(vcal, rp, NULL);
    struct span s = component_span(vcal, c);
    int64_t st = s.has_start ? s.start : rid;
    /* Its own times, then those of the instance it replaces (taken with
     * the override's length). */
    if (caldav_instance_matches(vcal, c, st, span_end(&s, st), qs, qe) ||
        caldav_instance_matches(vcal, c, rid, span_end(&s, rid), qs, qe))
        return true;
    icalparameter *range = icalproperty_get_first_parameter(
        rp, ICAL_RANGE_PARAMETER);
    if (range == NULL ||
        icalparameter_get_range(range) != ICAL_RANGE_THISANDFUTURE)
        return false;
    /* RANGE=THISANDFUTURE changes every later instance: does one of them
     * overlap? */
    struct impact_ctx x = { vcal, qs, qe, rid, false };
    caldav_instances(vcal, icalcomponent_isa(c), qs, qe, max, impact_cb, &x);
    return x.hit;
}

/* ---- validation and index --------------------------------------------- */

struct range_ctx {
    icalcomponent *vcal;
    int64_t lo, hi;
};

static bool
range_cb(void *ctx, icalcomponent *comp, int64_t start, int64_t end,
         int64_t rid)
{
    struct range_ctx *r = ctx;
    (void)rid;
    struct span s = component_span(r->vcal, comp);
    int64_t lo = start, hi = end > start ? end : start + 1;
    if (s.always) {
        lo = CALDAV_TIME_MIN;
        hi = CALDAV_TIME_MAX;
    } else if (s.use_lohi) {
        lo = s.lo;
        hi = s.hi == CALDAV_TIME_MAX ? s.hi : s.hi + 1;
    }
    if (lo < r->lo)
        r->lo = lo;
    if (hi > r->hi)
        r->hi = hi;
    return true;
}

/* Is the time of this property fixed by the object alone: UTC, or in a
 * zone the object defines?  (A zone taken from the system's database may
 * change with it.)  Not a floating date-time nor a date: RFC 4791 §9.9
 * reads them in the zone of the calendar or of the query, which only a
 * query knows. */
static bool
time_self_contained(icalcomponent *vcal, icalproperty *p)
{
    if (p == NULL)
        return true;
    icalparameter *tzid = icalproperty_get_first_parameter(
        p, ICAL_TZID_PARAMETER);
    if (tzid == NULL) {
        struct icaltimetype tt = icalvalue_get_datetime(
            icalproperty_get_value(p));
        return !tt.is_date && icaltime_is_utc(tt);
    }
    return icalcomponent_get_timezone(vcal, icalparameter_get_tzid(tzid)) !=
           NULL;
}

/* One VEVENT, one instance, at times the object fixes: the range of
 * that instance ([start, end), end > start) overlaps a query's range
 * exactly when the event does (RFC 4791 §9.9; caldav_overlaps). */
static bool
single_instance(icalcomponent *vcal, icalcomponent_kind kind, int count,
                bool recurring)
{
    if (kind != ICAL_VEVENT_COMPONENT || count != 1 || recurring)
        return false;
    icalcomponent *c = icalcomponent_get_first_component(vcal, kind);
    icalproperty *start = icalcomponent_get_first_property(
        c, ICAL_DTSTART_PROPERTY);
    return start != NULL &&
           icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY) ==
               NULL &&
           time_self_contained(vcal, start) &&
           time_self_contained(vcal, icalcomponent_get_first_property(
                                         c, ICAL_DTEND_PROPERTY));
}

static struct dav_err *
invalid_object(struct dav_req *req, const char *why)
{
    return dav_err_cond(req, 403, CALDAV_NS, "valid-calendar-object-resource",
                        "%s", why);
}

static struct dav_err *
invalid_data(struct dav_req *req, const char *why)
{
    return dav_err_cond(req, 403, CALDAV_NS, "valid-calendar-data", "%s",
                        why);
}

/* The X-LIC-ERROR properties in c and its components that say a value
 * could not be parsed (libical puts one in place of the property it
 * drops). */
static size_t
value_errors(icalcomponent *c)
{
    size_t n = 0;
    for (icalproperty *p = icalcomponent_get_first_property(
             c, ICAL_XLICERROR_PROPERTY);
         p != NULL;
         p = icalcomponent_get_next_property(c, ICAL_XLICERROR_PROPERTY)) {
        icalparameter *t = icalproperty_get_first_parameter(
            p, ICAL_XLICERRORTYPE_PARAMETER);
        if (t != NULL && icalparameter_get_xlicerrortype(t) ==
                             ICAL_XLICERRORTYPE_VALUEPARSEERROR)
            n++;
    }
    for (icalcomponent *s = icalcomponent_get_first_component(
             c, ICAL_ANY_COMPONENT);
         s != NULL;
         s = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT))
        n += value_errors(s);
    return n;
}

struct dav_err *
caldav_ical_check_values(struct dav_req *req, icalcomponent *vcal,
                         const char *text, size_t len)
{
    /* X-LIC-ERROR lines the text carries itself (a client that parsed
     * with libical may keep them) are no errors of this parse. */
    size_t literal = 0;
    for (size_t i = 0; i + 11 <= len; i++)
        if ((i == 0 || text[i - 1] == '\n') &&
            strncasecmp(text + i, "X-LIC-ERROR", 11) == 0 &&
            i + 11 < len && (text[i + 11] == ';' || text[i + 11] == ':'))
            literal++;
    /* RFC 4791 §5.3.2.1: a value libical could not read would be lost
     * (it drops the property). */
    if (value_errors(vcal) > literal)
        return invalid_data(req, "a property value cannot be parsed");
    return NULL;
}

/* RFC 5545 §3.6.1: what a VEVENT of an object without METHOD needs. */
static struct dav_err *
check_event(struct dav_req *req, icalcomponent *c)
{
    icalproperty *start = icalcomponent_get_first_property(
        c, ICAL_DTSTART_PROPERTY);
    icalproperty *end = icalcomponent_get_first_property(
        c, ICAL_DTEND_PROPERTY);
    if (start == NULL)
        return invalid_data(req, "VEVENT without DTSTART");
    if (end != NULL &&
        icalcomponent_get_first_property(c, ICAL_DURATION_PROPERTY) != NULL)
        return invalid_data(req, "VEVENT with both DTEND and DURATION");
    /* RFC 5545 §3.8.2.2: DTEND of DTSTART's value type. */
    if (end != NULL &&
        icalvalue_get_datetime(icalproperty_get_value(start)).is_date !=
            icalvalue_get_datetime(icalproperty_get_value(end)).is_date)
        return invalid_data(req, "DTEND and DTSTART of different types");
    return NULL;
}

static bool
component_allowed(const char *components, const char *name)
{
    if (components == NULL || components[0] == '\0')
        return true;
    size_t n = strlen(name);
    for (const char *p = components; *p != '\0';) {
        const char *comma = strchr(p, ',');
        size_t l = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (l == n && strncmp(p, name, n) == 0)
            return true;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return false;
}

struct dav_err *
caldav_ical_validate(struct dav_req *req, icalcomponent *vcal,
                     const char *components, struct caldav_index *ix)
{
    memset(ix, 0, sizeof(*ix));
    /* RFC 4791 §4.1: no METHOD in stored objects. */
    if (icalcomponent_get_first_property(vcal, ICAL_METHOD_PROPERTY))
        return invalid_object(req, "METHOD is not allowed");
    icalcomponent_kind kind = ICAL_NO_COMPONENT;
    const char *uid = NULL;
    bool recurring = false;
    int count = 0, masters = 0;
    unsigned max_attendees = caldav_max_attendees(req);
    unsigned max_instances = caldav_max_instances(req);
    for (icalcomponent *c =
             icalcomponent_get_first_component(vcal, ICAL_ANY_COMPONENT);
         c != NULL;
         c = icalcomponent_get_next_component(vcal, ICAL_ANY_COMPONENT)) {
        icalcomponent_kind k = icalcomponent_isa(c);
        if (k == ICAL_VTIMEZONE_COMPONENT) {
            const char *why = zone_too_costly(c);
            if (why != NULL)
                return invalid_object(req, why);
            continue;
        }
        if (k != ICAL_VEVENT_COMPONENT && k != ICAL_VTODO_COMPONENT &&
            k != ICAL_VJOURNAL_COMPONENT && k != ICAL_VFREEBUSY_COMPONENT)
            return invalid_object(req, "unsupported component");
        if (kind != ICAL_NO_COMPONENT && k != kind)
            return invalid_object(req, "more than one component type");
        kind = k;
        count++;
        if (k == ICAL_VEVENT_COMPONENT) {
            struct dav_err *err = check_event(req, c);
            if (err != NULL)
                return err;
        }
        const char *u = icalcomponent_get_uid(c);
        if (u == NULL || u[0] == '\0')
            return invalid_object(req, "component without UID");
        if (uid != NULL && strcmp(uid, u) != 0)
            return invalid_object(req, "more than one UID");
        uid = u;
        if (icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY) ||
            icalcomponent_get_first_property(c, ICAL_RDATE_PROPERTY))
            recurring = true;
        /* RFC 5545 §3.8.4.4: one master; the others override its
         * instances (each master would be expanded on its own). */
        if (icalcomponent_get_first_property(c,
                                             ICAL_RECURRENCEID_PROPERTY) ==
            NULL && ++masters > 1)
            return invalid_object(req, "more than one component without "
                                       "RECURRENCE-ID");
        for (icalproperty *rp =
                 icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY);
             rp != NULL;
             rp = icalcomponent_get_next_property(c, ICAL_RRULE_PROPERTY)) {
            struct icalrecurrencetype rr = icalproperty_get_rrule(rp);
            const char *why = rule_too_costly(&rr);
            if (why != NULL)
                return invalid_object(req, why);
        }
        /* RFC 4791 §5.3.2.1: CALDAV:max-attendees-per-instance. */
        int attendees = icalcomponent_count_properties(
            c, ICAL_ATTENDEE_PROPERTY);
        if (attendees > 0 && (unsigned)attendees > max_attendees)
            return dav_err_cond(req, 403, CALDAV_NS,
                                "max-attendees-per-instance",
                                "%d attendees, over max-attendees-per-"
                                "instance (%u)",
                                attendees, max_attendees);
    }
    if (kind == ICAL_NO_COMPONENT)
        return invalid_object(req, "no calendar component");
    const char *name = icalcomponent_kind_to_string(kind);
    if (!component_allowed(components, name))
        return dav_err_cond(req, 403, CALDAV_NS, "supported-calendar-component",
                            "%s not accepted by this calendar", name);
    ix->uid = arena_strdup(req->arena, uid);
    ix->component = name;
    ix->recurring = recurring;

    /* An unbounded rule runs forever: only its first instances matter
     * for the start of the range. */
    bool unbounded = false;
    for (icalcomponent *c = icalcomponent_get_first_component(vcal, kind);
         c != NULL; c = icalcomponent_get_next_component(vcal, kind)) {
        icalproperty *rp = icalcomponent_get_first_property(
            c, ICAL_RRULE_PROPERTY);
        if (rp == NULL)
            continue;
        struct icalrecurrencetype rr = icalproperty_get_rrule(rp);
        if (rr.count == 0 && icaltime_is_null_time(rr.until))
            unbounded = true;
        /* A COUNT rule is walked from its start by every query: more
         * instances than announced would cost each query that much.
         * RFC 4791 §5.3.2.1: CALDAV:max-instances, told here before any
         * walk (an UNTIL rule is counted by the walk below). */
        if (rr.count > 0 && (unsigned)rr.count > max_instances)
            return dav_err_cond(req, 403, CALDAV_NS, "max-instances",
                                "COUNT=%d exceeds max-instances (%u)",
                                rr.count, max_instances);
    }
    struct range_ctx r = { vcal, CALDAV_TIME_MAX, CALDAV_TIME_MIN };
    bool complete = caldav_instances(vcal, kind, CALDAV_TIME_MIN,
                                     unbounded ? CALDAV_TIME_MIN
                                               : CALDAV_TIME_MAX,
                                     max_instances, range_cb, &r);
    /* RFC 4791 §5.3.2.1: CALDAV:max-instances, for a series bounded by
     * UNTIL as by COUNT (an endless one was walked to its start only). */
    if (!complete)
        return dav_err_cond(req, 403, CALDAV_NS, "max-instances",
                            "more instances than max-instances (%u)",
                            max_instances);
    if (r.lo > r.hi) {
        r.lo = CALDAV_TIME_MIN;
        r.hi = CALDAV_TIME_MAX;
    }
    if (unbounded)
        r.hi = CALDAV_TIME_MAX;
    /* RFC 4791 §5.3.2.1: CALDAV:min-date-time and max-date-time, the
     * bounds the calendar announces (§5.2.6, §5.2.7), on the first
     * instance's start and a bounded last instance's end. */
    int64_t min_date, max_date;
    if (caldav_parse_utc(CALDAV_MIN_DATE, &min_date) &&
        r.lo != CALDAV_TIME_MIN && r.lo < min_date)
        return dav_err_cond(req, 403, CALDAV_NS, "min-date-time",
                            "an instance before %s", CALDAV_MIN_DATE);
    if (caldav_parse_utc(CALDAV_MAX_DATE, &max_date) &&
        r.hi != CALDAV_TIME_MAX && r.hi > max_date)
        return dav_err_cond(req, 403, CALDAV_NS, "max-date-time",
                            "an instance after %s", CALDAV_MAX_DATE);
    ix->exact = single_instance(vcal, kind, count, recurring);
    if (ix->exact) {
        ix->start = r.lo;
        ix->end = r.hi;
        return NULL;
    }
    /* Otherwise the index only selects candidates: a day of margin on
     * each side covers the inclusive bounds of RFC 4791 §9.9, and the
     * floating times read as UTC here but in a zone up to 14 hours away
     * by a query. */
    ix->start = r.lo == CALDAV_TIME_MIN ? r.lo : r.lo - 86400;
    ix->end = r.hi == CALDAV_TIME_MAX ? r.hi : r.hi + 86400;
    return NULL;
}
