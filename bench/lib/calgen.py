"""Deterministic calendar data for the CalDAV workloads C1-C5 (BENCH.md).

generate(n) returns n Event objects (the same for every server and every
run): one VEVENT per resource, each in its own VCALENDAR with the VTIMEZONE
it uses. The data rules of BENCH.md:

- 10 % weekly or biweekly series, ended by COUNT, by UNTIL or open-ended;
  30 % of the series carry an EXDATE outside the query week, and one in twenty
  of the series that have an instance in the query week carry an EXDATE
  cancelling exactly that instance (a server that ignores EXDATE counts it);
- time zones Europe/Berlin, America/New_York, Asia/Tokyo and UTC, each with
  its VTIMEZONE, plus times in UTC ("Z") without one;
- DURATION instead of DTEND on 10 %, attendees on 30 %, alarms on 40 %,
  UTF-8 text (Latin accents, Greek, Japanese, an emoji) folded at 75 octets,
  TEXT escapes (\\, \\; \\n);
- every timed instance Monday-Friday between 01:00 and 23:00 UTC (also
  after a DST shift of a series), all-day events Tuesday-Friday, so that no
  reading of a time zone moves an event across the boundary of the query
  week and the expected hit count is unambiguous.

The expected answer of the query (expected_hits) is computed here from the
generator's own model, with zoneinfo, independently of any server; crosscheck()
recomputes it from the iCalendar text with python3-icalendar and dateutil's
rrule, so that the text says what the model says.
"""

import datetime as dt
import random
import zoneinfo

SEED = "parvis-bench-calendar-v1"
QUERY_START = dt.datetime(2026, 6, 15, tzinfo=dt.timezone.utc)  # a Monday
QUERY_END = QUERY_START + dt.timedelta(days=7)
FIRST_MONDAY = dt.date(2026, 1, 5)
WEEKS = 51  # singles and series start within 2026-01-05 .. 2026-12-25
SERIES_HORIZON = 120  # instances of an open-ended series considered (> 2 years)
UTC = dt.timezone.utc

TZ_WEIGHTS = [("Europe/Berlin", 30), ("America/New_York", 25), ("Asia/Tokyo", 15),
              ("UTC", 15), ("Z", 15)]

VTIMEZONES = {
    "Europe/Berlin": [
        "BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0200", "TZNAME:CEST", "DTSTART:19700329T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "END:DAYLIGHT", "BEGIN:STANDARD",
        "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET", "DTSTART:19701025T030000",
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "END:STANDARD", "END:VTIMEZONE"],
    "America/New_York": [
        "BEGIN:VTIMEZONE", "TZID:America/New_York", "BEGIN:DAYLIGHT", "TZOFFSETFROM:-0500",
        "TZOFFSETTO:-0400", "TZNAME:EDT", "DTSTART:20070311T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU", "END:DAYLIGHT", "BEGIN:STANDARD",
        "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500", "TZNAME:EST", "DTSTART:20071104T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU", "END:STANDARD", "END:VTIMEZONE"],
    "Asia/Tokyo": [
        "BEGIN:VTIMEZONE", "TZID:Asia/Tokyo", "BEGIN:STANDARD", "TZOFFSETFROM:+0900",
        "TZOFFSETTO:+0900", "TZNAME:JST", "DTSTART:19700101T000000", "END:STANDARD",
        "END:VTIMEZONE"],
    "UTC": [
        "BEGIN:VTIMEZONE", "TZID:UTC", "BEGIN:STANDARD", "TZOFFSETFROM:+0000",
        "TZOFFSETTO:+0000", "TZNAME:UTC", "DTSTART:19700101T000000", "END:STANDARD",
        "END:VTIMEZONE"],
}

WORDS = ["Réunion", "d'équipe", "Überprüfung", "Budget", "Café", "Projet", "Planung",
         "会議", "打ち合わせ", "Σύσκεψη", "revue", "Jahresabschluss", "Kick-off", "Atelier",
         "Fête", "Straße", "naïve", "coöperation", "Zürich", "Kraków", "São Paulo", "Ελλάδα",
         "東京", "☕", "🎉", "Ærø", "façade", "Smørrebrød", "crème brûlée", "Ångström"]
SENTENCES = [
    "Ordre du jour : point budgétaire, état des dossiers, questions diverses.",
    "Bitte die Unterlagen vorher lesen; Rückfragen an das Sekretariat.",
    "資料は事前に共有します。よろしくお願いします。",
    "Παρακαλούμε επιβεβαιώστε τη συμμετοχή σας.",
    "Apportez vos idées, vos questions, et du café ☕ — merci !",
    "Salle 3, 2e étage, bâtiment B; accès par la cour.",
    "Notes, décisions et actions seront envoyées après la réunion 🎉.",
]
LOCATIONS = ["Salle 3, bâtiment B", "Konferenzraum Süd", "会議室A", "Visio; lien dans l'invitation",
             "Café de la Gare", "Αίθουσα 2"]
PEOPLE = ["Élodie Müller", "Jürgen Groß", "山田太郎", "Zoë Ørsted", "François Lefèvre",
          "Ana Sofía Peña", "Νίκος Παπαδόπουλος", "Björn Åkesson"]


def esc(s):
    return (s.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))


def fold(line):
    """RFC 5545 3.1: lines of at most 75 octets, continuation lines start
    with a space; never splits a UTF-8 sequence."""
    b = line.encode("utf-8")
    if len(b) <= 75:
        return line
    out, cur, limit = [], "", 75
    for ch in line:
        n = len(ch.encode("utf-8"))
        if len(cur.encode("utf-8")) + n > limit:
            out.append(cur)
            cur, limit = " ", 75
        cur += ch
    out.append(cur)
    return "\r\n".join(out)


def fmt_local(d):
    return d.strftime("%Y%m%dT%H%M%S")


def fmt_utc(d):
    return d.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fmt_date(d):
    return d.strftime("%Y%m%d")


def fmt_duration(td):
    s = int(td.total_seconds())
    days, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m = s // 60
    if days and not (h or m):
        return f"P{days}D"
    out = "P" + (f"{days}D" if days else "") + "T"
    if h:
        out += f"{h}H"
    if m:
        out += f"{m}M"
    return out


class Event:
    """One VEVENT resource. Times of a timed event are local wall times in
    zone `tz` ("Z": UTC written with a Z); an all-day event has dates."""

    def __init__(self, idx, name, uid, allday, tz, start, duration, use_duration,
                 freq_weeks=None, count=None, until_index=None, exdates=(), rnd=None):
        self.idx = idx
        self.name = name
        self.uid = uid
        self.allday = allday
        self.tz = tz
        self.start = start            # naive local datetime, or date
        self.duration = duration      # timedelta
        self.use_duration = use_duration
        self.freq_weeks = freq_weeks  # None: single; 1 weekly, 2 biweekly
        self.count = count
        self.until_index = until_index  # UNTIL just after this instance
        self.exdates = list(exdates)  # instance indexes
        self.seq = 0
        self.summary_extra = ""
        r = rnd or random.Random(uid)
        self.summary = " ".join(r.sample(WORDS, 3)) + f" #{idx}"
        self.description = " ".join(r.sample(SENTENCES, r.randint(2, 4))) + f" Réf. {uid}"
        self.location = r.choice(LOCATIONS) if r.random() < 0.5 else None
        self.attendees = r.sample(PEOPLE, r.randint(2, 4)) if r.random() < 0.30 else []
        self.alarm = r.random() < 0.40
        self.categories = r.choice([None, "Travail", "Büro,Équipe", "会議"])

    # ---- model
    def zone(self):
        return UTC if self.tz in ("Z", "UTC") else zoneinfo.ZoneInfo(self.tz)

    def instance_local(self, k):
        if self.freq_weeks is None:
            assert k == 0
        return self.start + dt.timedelta(days=7 * (self.freq_weeks or 0) * k)

    def instance_utc(self, k):
        """(start, end) of instance K as aware UTC datetimes (all-day: floating
        dates read as UTC)."""
        loc = self.instance_local(k)
        if self.allday:
            s = dt.datetime(loc.year, loc.month, loc.day, tzinfo=UTC)
            return s, s + self.duration
        s = loc.replace(tzinfo=self.zone()).astimezone(UTC)
        # the end is the start plus the duration in wall time (DTEND in the same
        # zone); within one day no DST change happens on a weekday, so equal
        e = (loc + self.duration).replace(tzinfo=self.zone()).astimezone(UTC)
        return s, e

    def until_value(self):
        """UNTIL: just after instance until_index (timed: +1 h in UTC; all-day:
        that date, inclusive)."""
        loc = self.instance_local(self.until_index)
        if self.allday:
            return loc
        return self.instance_utc(self.until_index)[0] + dt.timedelta(hours=1)

    def n_instances(self):
        if self.freq_weeks is None:
            return 1
        if self.count is not None:
            return self.count
        if self.until_index is not None:
            return self.until_index + 1
        return SERIES_HORIZON

    def instances(self):
        """Instance indexes that exist (EXDATEs removed)."""
        ex = set(self.exdates)
        return [k for k in range(self.n_instances()) if k not in ex]

    def hits(self, qs=QUERY_START, qe=QUERY_END):
        """True if some instance overlaps [qs, qe) (RFC 4791 9.9)."""
        for k in self.instances():
            s, e = self.instance_utc(k)
            if s < qe and e > qs:
                return True
            if s >= qe:
                break
        return False

    def query_week_instance(self):
        for k in range(self.n_instances()):
            s, e = self.instance_utc(k)
            if s < QUERY_END and e > QUERY_START:
                return k
            if s >= QUERY_END:
                return None
        return None

    # ---- text
    def _dt(self, prop, d):
        if self.allday:
            return f"{prop};VALUE=DATE:{fmt_date(d)}"
        if self.tz == "Z":
            return f"{prop}:{fmt_utc(d.replace(tzinfo=UTC))}"
        return f"{prop};TZID={self.tz}:{fmt_local(d)}"

    def ics(self):
        lines = ["BEGIN:VCALENDAR", "VERSION:2.0",
                 "PRODID:-//Parvis bench//calgen 1//FR", "CALSCALE:GREGORIAN"]
        if not self.allday and self.tz in VTIMEZONES:
            lines += VTIMEZONES[self.tz]
        lines += ["BEGIN:VEVENT", f"UID:{self.uid}", "DTSTAMP:20260101T120000Z",
                  "CREATED:20260101T120000Z", f"SEQUENCE:{self.seq}",
                  self._dt("DTSTART", self.start)]
        if self.use_duration:
            lines.append(f"DURATION:{fmt_duration(self.duration)}")
        else:
            lines.append(self._dt("DTEND", self.start + self.duration))
        if self.freq_weeks:
            rule = "RRULE:FREQ=WEEKLY" + (f";INTERVAL={self.freq_weeks}"
                                          if self.freq_weeks > 1 else "")
            if self.count is not None:
                rule += f";COUNT={self.count}"
            elif self.until_index is not None:
                u = self.until_value()
                rule += f";UNTIL={fmt_date(u) if self.allday else fmt_utc(u)}"
            lines.append(rule)
            for k in sorted(self.exdates):
                lines.append(self._dt("EXDATE", self.instance_local(k)))
        lines.append(fold("SUMMARY:" + esc(self.summary + self.summary_extra)))
        lines.append(fold("DESCRIPTION:" + esc(self.description)))
        if self.location:
            lines.append(fold("LOCATION:" + esc(self.location)))
        if self.categories:
            lines.append(fold("CATEGORIES:" + ",".join(esc(c) for c in
                                                       self.categories.split(","))))
        if self.attendees:
            lines.append(fold('ORGANIZER;CN="Secrétariat Général":mailto:secretariat@example.org'))
            for i, p in enumerate(self.attendees):
                lines.append(fold(f'ATTENDEE;CN="{p}";ROLE=REQ-PARTICIPANT;PARTSTAT='
                                  f'{"ACCEPTED" if i % 2 else "NEEDS-ACTION"};RSVP=TRUE:'
                                  f'mailto:person{i}.{self.idx}@example.org'))
        lines.append("TRANSP:" + ("TRANSPARENT" if self.allday else "OPAQUE"))
        if self.alarm:
            lines += ["BEGIN:VALARM", "ACTION:DISPLAY",
                      fold("DESCRIPTION:" + esc("Rappel : " + self.summary)),
                      "TRIGGER:-PT15M", "END:VALARM"]
        lines += ["END:VEVENT", "END:VCALENDAR"]
        return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _weighted(r, pairs):
    total = sum(w for _, w in pairs)
    x = r.uniform(0, total)
    for v, w in pairs:
        x -= w
        if x <= 0:
            return v
    return pairs[-1][0]


def _timed_start(r, week, weekday, tz):
    """Local wall time of a timed instance on WEEK/WEEKDAY whose UTC start is
    02:00-18:45, so that a DST shift of 1 h and a duration of at most 3 h
    keep every instance of a series within 01:00-23:00 UTC, same UTC day."""
    day = FIRST_MONDAY + dt.timedelta(days=7 * week + weekday)
    utc = dt.datetime(day.year, day.month, day.day, r.randint(2, 18), r.choice((0, 15, 30, 45)),
                      tzinfo=UTC)
    if tz in ("Z", "UTC"):
        return utc.replace(tzinfo=None)
    return utc.astimezone(zoneinfo.ZoneInfo(tz)).replace(tzinfo=None)


def generate(n, prefix="ev"):
    """N events, deterministic for a given N (and PREFIX)."""
    r = random.Random(f"{SEED}-{n}-{prefix}")
    width = max(5, len(str(n)))
    events = []
    n_series = n // 10
    series_idx = set(r.sample(range(n), n_series))
    dur_idx = set(r.sample(range(n), n // 10))
    for i in range(n):
        name = f"{prefix}-{i:0{width}d}.ics"
        uid = f"{prefix}-{i:0{width}d}-{n}@bench.parvis.example"
        er = random.Random(f"{SEED}-{uid}")
        is_series = i in series_idx
        allday = er.random() < (0.15 if is_series else 0.12)
        use_duration = i in dur_idx
        if allday:
            tz = None
            ndays = er.choice((1, 1, 1, 2))
            weekday = er.randint(1, 5 - ndays)  # Tue..Fri, ending by Saturday 00:00
        else:
            tz = _weighted(er, TZ_WEIGHTS)
            weekday = er.randint(0, 4)
        if is_series:
            week = er.randint(0, 45)
        else:
            week = er.randint(0, WEEKS - 1)
        if allday:
            start = FIRST_MONDAY + dt.timedelta(days=7 * week + weekday)
            duration = dt.timedelta(days=ndays)
        else:
            start = _timed_start(er, week, weekday, tz)
            duration = dt.timedelta(minutes=er.choice((30, 45, 60, 60, 90, 120, 180)))
        kw = {}
        if is_series:
            kw["freq_weeks"] = er.choice((1, 2))
            end = er.choice(("count", "until", "open"))
            if end == "count":
                kw["count"] = er.randint(2, 40)
            elif end == "until":
                kw["until_index"] = er.randint(1, 40)
        ev = Event(i, name, uid, allday, tz, start, duration, use_duration, rnd=er, **kw)
        if is_series and er.random() < 0.30:
            q = ev.query_week_instance()
            cands = [k for k in range(min(ev.n_instances(), 40)) if k != q]
            if cands:
                ev.exdates = sorted(er.sample(cands, min(len(cands), er.randint(1, 2))))
        events.append(ev)
    # One in twenty of the series with an instance in the query week loses
    # exactly that instance to an EXDATE (the first such series, the 21st, ...).
    seen = 0
    for ev in events:
        if ev.freq_weeks is None:
            continue
        q = ev.query_week_instance()
        if q is None or q in ev.exdates:
            continue
        if seen % 20 == 0:
            ev.exdates = sorted(set(ev.exdates) | {q})
        seen += 1
    return events


def new_event(idx, name, uid, rnd_seed):
    """A single timed event for C4's 'new' changes (deterministic)."""
    er = random.Random(f"{SEED}-{rnd_seed}")
    tz = _weighted(er, TZ_WEIGHTS)
    start = _timed_start(er, er.randint(0, WEEKS - 1), er.randint(0, 4), tz)
    return Event(idx, name, uid, False, tz, start, dt.timedelta(hours=1), False, rnd=er)


def expected_hits(events):
    return sorted(ev.name for ev in events if ev.hits())


def stats(events):
    s = [e for e in events if e.freq_weeks]
    return {
        "events": len(events), "series": len(s),
        "count": sum(1 for e in s if e.count is not None),
        "until": sum(1 for e in s if e.until_index is not None),
        "open": sum(1 for e in s if e.count is None and e.until_index is None),
        "with_exdate": sum(1 for e in s if e.exdates),
        "exdate_in_query_week": sum(1 for e in s if e.query_week_instance() is not None
                                    and e.query_week_instance() in e.exdates),
        "allday": sum(1 for e in events if e.allday),
        "duration": sum(1 for e in events if e.use_duration),
        "attendees": sum(1 for e in events if e.attendees),
        "alarms": sum(1 for e in events if e.alarm),
        "hits": len(expected_hits(events)),
        "bytes": sum(len(e.ics()) for e in events),
    }


def crosscheck(events):
    """Recomputes the query-week hits from the iCalendar text (icalendar +
    dateutil.rrule) and compares with the model; returns a list of problems.
    Also checks every instance is Mon-Fri 01:00-23:00 UTC (all-day: Tue-Fri)."""
    import icalendar
    from dateutil import rrule

    problems = []
    for ev in events:
        cal = icalendar.Calendar.from_ical(ev.ics())
        ve = next(c for c in cal.walk("VEVENT"))
        s = ve.decoded("DTSTART")
        if "DURATION" in ve:
            d = ve.decoded("DURATION")
        else:
            d = ve.decoded("DTEND") - s
        allday = not isinstance(s, dt.datetime)
        if allday:
            s = dt.datetime(s.year, s.month, s.day)
        tz = s.tzinfo
        if tz is not None and str(tz) == "UTC" or isinstance(tz, dt.timezone):
            tz = UTC
        if tz is not None and not isinstance(tz, dt.timezone):
            tz = zoneinfo.ZoneInfo(ev.tz)  # name from the TZID; the VTIMEZONE agrees
        naive = s.replace(tzinfo=None)

        def to_utc(x):
            return (x.replace(tzinfo=UTC) if allday or tz is None
                    else x.replace(tzinfo=tz).astimezone(UTC))

        if "RRULE" in ve:
            text = ve["RRULE"].to_ical().decode()
            until = None
            if "UNTIL=" in text:
                parts = dict(p.split("=", 1) for p in text.split(";"))
                u = parts.pop("UNTIL")
                until = (dt.datetime.strptime(u, "%Y%m%d") if len(u) == 8 else
                         dt.datetime.strptime(u, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC))
                text = ";".join(f"{k}={v}" for k, v in parts.items())
            rule = rrule.rrulestr(text, dtstart=naive)
            starts = []
            for x in rule:
                if until is not None:
                    if allday and x > until:
                        break
                    if not allday and to_utc(x) > until:
                        break
                if len(starts) >= SERIES_HORIZON:
                    break
                starts.append(x)
            ex = set()
            exd = ve.get("EXDATE")
            if exd is not None:
                for e in (exd if isinstance(exd, list) else [exd]):
                    for v in e.dts:
                        x = v.dt
                        if isinstance(x, dt.datetime):
                            x = (x.astimezone(tz).replace(tzinfo=None) if x.tzinfo and
                                 tz not in (None, UTC) else x.replace(tzinfo=None))
                        else:
                            x = dt.datetime(x.year, x.month, x.day)
                        ex.add(x)
            starts = [x for x in starts if x not in ex]
            if len(ex) != len(ev.exdates):
                problems.append(f"{ev.name}: {len(ex)} EXDATEs parsed, model has "
                                f"{len(ev.exdates)}")
        else:
            starts = [naive]
        hit = False
        for x in starts:
            a, b = to_utc(x), to_utc(x + d)
            if allday:
                if a.weekday() not in (1, 2, 3, 4) or (b - dt.timedelta(days=1)).weekday() \
                        not in (1, 2, 3, 4):
                    problems.append(f"{ev.name}: all-day instance {a:%a %F} outside Tue-Fri")
            else:
                if (a.weekday() > 4 or a.date() != b.date() or a.hour < 1
                        or (b.hour, b.minute) > (23, 0)):
                    problems.append(f"{ev.name}: instance {a:%a %F %H:%M}-{b:%H:%M} UTC "
                                    "outside Mon-Fri 01:00-23:00")
            if a < QUERY_END and b > QUERY_START:
                hit = True
        if hit != ev.hits():
            problems.append(f"{ev.name}: text says hit={hit}, model says {ev.hits()}")
    return problems


if __name__ == "__main__":
    import sys
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    evs = generate(n)
    print(stats(evs))
    if "--check" in sys.argv:
        p = crosscheck(evs)
        print(f"crosscheck: {len(p)} problems")
        for x in p[:20]:
            print("  " + x)
    if "--show" in sys.argv:
        for e in evs[:3] + [e for e in evs if e.freq_weeks and e.exdates][:2]:
            sys.stdout.write(e.ics().decode())
