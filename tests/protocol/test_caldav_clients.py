"""Real CalDAV clients against parvisd: the python3-caldav library (Debian
package python3-caldav) and vdirsyncer (two local folders kept in step
through one Parvis calendar).

Expected instants are written by hand: Europe/Paris is UTC+1 in winter and
UTC+2 from 31 March 2024.
"""

import datetime as dt
import os
import shutil
import subprocess
import uuid

import pytest

from caldav_helpers import (VTZ_PARIS, calendar_query, comp_filter,
                            event_ics, new_calendar, parse_ical, put_ok,
                            todo_ics, vcalendar, vevent)
from dav_helpers import dav, url_path

try:
    import caldav
    from caldav.lib import error as caldav_error
except ImportError:  # pragma: no cover - reported by each test
    caldav = None

UTC = dt.timezone.utc


def need_caldav():
    if caldav is None:
        pytest.fail("python3-caldav is not installed (Debian package python3-caldav)")


def utc(*a):
    return dt.datetime(*a, tzinfo=UTC)


def uid(prefix="cl"):
    return "%s-%s" % (prefix, uuid.uuid4().hex)


@pytest.fixture
def alice(seed, session_for):
    return session_for("alice")


@pytest.fixture
def client(server, seed):
    need_caldav()
    c = caldav.DAVClient(url=server.url + "/", username="alice", password="alice-pw")
    yield c
    try:
        c.session.close()
    except Exception:
        pass


@pytest.fixture
def principal(client):
    return client.principal()


@pytest.fixture
def ccal(principal):
    """A calendar of s1 made by the client (MKCALENDAR with a displayname)."""
    return principal.make_calendar(name="Client %s" % uuid.uuid4().hex[:6],
                                   cal_id="s1.cl%s" % uuid.uuid4().hex[:10])


def dtstart_utc(obj):
    """DTSTART of the (first) VEVENT/VTODO of a client object, in UTC."""
    comp = obj.icalendar_component
    v = comp.get("DTSTART").dt
    return v.astimezone(UTC) if isinstance(v, dt.datetime) else v


def server_text(sess, url):
    r = dav(sess, "GET", str(url))
    assert r.status_code == 200, (url, r.status_code)
    return r.text


# ====================================================== python3-caldav: discovery


def test_client_discovers_principal_from_server_root(principal):
    assert url_path(str(principal.url)) == "/dav/principals/users/alice/"


def test_client_finds_calendar_home(principal):
    home = principal.calendar_home_set
    assert url_path(str(home.url)) == "/dav/calendars/alice/"


def test_client_lists_calendars_of_two_spaces(server, ctl, seed):
    need_caldav()
    name = "cl2" + uuid.uuid4().hex[:8]
    ctl("user", "add", name, "--password-stdin", input=name + "-pw\n")
    ctl("member", "add", "s1", name, "--role", "editor")
    ctl("member", "add", "s2", name, "--role", "editor")
    c = caldav.DAVClient(url=server.url + "/", username=name, password=name + "-pw")
    cals = {url_path(str(x.url)): x.name for x in c.principal().calendars()}
    home = "/dav/calendars/%s/" % name
    assert cals[home + "s1.agenda/"] == "Agenda"
    assert cals[home + "s1.actions/"] == "Fiches action"
    assert cals[home + "s2.agenda/"] == "Agenda"
    assert cals[home + "s2.actions/"] == "Fiches action"


def test_client_sees_components_of_seeded_calendars(principal):
    by = {url_path(str(x.url)): x for x in principal.calendars()}
    assert by["/dav/calendars/alice/s1.agenda/"].get_supported_components() == ["VEVENT"]
    assert by["/dav/calendars/alice/s1.actions/"].get_supported_components() == ["VTODO"]


def test_client_makes_calendar_in_space(server, principal, alice):
    c = principal.make_calendar(name="Chantiers", cal_id="s1.ch%s" % uuid.uuid4().hex[:8])
    assert url_path(str(c.url)).startswith("/dav/calendars/alice/s1.ch")
    assert c.get_display_name() == "Chantiers"
    listed = [str(x.url) for x in principal.calendars()]
    assert str(c.url) in listed


# ==================================================== python3-caldav: events


def test_client_creates_event_and_fetches_it_by_uid(ccal, alice):
    u = uid()
    ccal.save_event(event_ics(u, "DTSTART:20240110T100000Z",
                              "DTEND:20240110T110000Z", "SUMMARY:Conseil"))
    ev = ccal.event_by_uid(u)
    assert str(ev.icalendar_component.get("SUMMARY")) == "Conseil"
    assert "SUMMARY:Conseil" in server_text(alice, ev.url)


def test_client_date_search_finds_events_in_range(ccal):
    for day, name in (("20240110", "a"), ("20240120", "b"), ("20240205", "c")):
        ccal.save_event(event_ics(uid(name), "DTSTART:%sT100000Z" % day,
                                  "DTEND:%sT110000Z" % day, "SUMMARY:" + name))
    found = ccal.date_search(start=utc(2024, 1, 15), end=utc(2024, 2, 1))
    assert sorted(str(x.icalendar_component.get("SUMMARY")) for x in found) == ["b"]


def test_client_search_by_range_finds_events(ccal):
    for day, name in (("20240110", "a"), ("20240120", "b"), ("20240205", "c")):
        ccal.save_event(event_ics(uid(name), "DTSTART:%sT100000Z" % day,
                                  "DTEND:%sT110000Z" % day, "SUMMARY:" + name))
    found = ccal.search(start=utc(2024, 1, 1), end=utc(2024, 2, 1), event=True)
    assert sorted(str(x.icalendar_component.get("SUMMARY")) for x in found) == ["a", "b"]


def _weekly_with_exception(u):
    # Mondays 10:00 Paris from 8 Jan 2024, 5 times; 22 Jan excluded; 15 Jan
    # moved to Wednesday 17 Jan 14:00.
    return vcalendar(
        vevent(u, "DTSTART;TZID=Europe/Paris:20240108T100000",
               "DTEND;TZID=Europe/Paris:20240108T110000",
               "RRULE:FREQ=WEEKLY;COUNT=5",
               "EXDATE;TZID=Europe/Paris:20240122T100000", "SUMMARY:Point hebdo"),
        vevent(u, "RECURRENCE-ID;TZID=Europe/Paris:20240115T100000",
               "DTSTART;TZID=Europe/Paris:20240117T140000",
               "DTEND;TZID=Europe/Paris:20240117T150000",
               "SUMMARY:Point hebdo (déplacé)"),
        extra=VTZ_PARIS)


def test_client_search_expands_weekly_event_with_exception_and_exdate(ccal):
    ccal.save_event(_weekly_with_exception(uid("weekly")))
    found = ccal.search(start=utc(2024, 1, 1), end=utc(2024, 3, 1), event=True,
                        expand=True)
    got = sorted((dtstart_utc(x), str(x.icalendar_component.get("SUMMARY")))
                 for x in found)
    assert got == [
        (utc(2024, 1, 8, 9), "Point hebdo"),
        (utc(2024, 1, 17, 13), "Point hebdo (déplacé)"),
        (utc(2024, 1, 29, 9), "Point hebdo"),
        (utc(2024, 2, 5, 9), "Point hebdo"),
    ]


def test_client_date_search_misses_moved_and_excluded_days(ccal):
    ccal.save_event(_weekly_with_exception(uid("weekly")))
    assert ccal.date_search(start=utc(2024, 1, 15), end=utc(2024, 1, 16)) == []
    assert ccal.date_search(start=utc(2024, 1, 22), end=utc(2024, 1, 23)) == []
    assert len(ccal.date_search(start=utc(2024, 1, 17), end=utc(2024, 1, 18))) == 1


def test_client_search_expands_across_dst_change(ccal):
    # 10:00 Paris each Monday from 18 March 2024: 09:00Z, then 08:00Z from
    # 1 April (summer time began on 31 March).
    ccal.save_event(event_ics(
        uid("dst"), "DTSTART;TZID=Europe/Paris:20240318T100000",
        "DTEND;TZID=Europe/Paris:20240318T103000", "RRULE:FREQ=WEEKLY;COUNT=4",
        "SUMMARY:Permanence", extra=VTZ_PARIS))
    found = ccal.search(start=utc(2024, 3, 1), end=utc(2024, 5, 1), event=True,
                        expand=True)
    assert sorted(dtstart_utc(x) for x in found) == [
        utc(2024, 3, 18, 9), utc(2024, 3, 25, 9), utc(2024, 4, 1, 8), utc(2024, 4, 8, 8)]


def test_client_updates_event(ccal, alice):
    u = uid()
    ev = ccal.save_event(event_ics(u, "DTSTART:20240110T100000Z",
                                   "DTEND:20240110T110000Z", "SUMMARY:Avant"))
    etag = dav(alice, "GET", str(ev.url)).headers["ETag"]
    ev = ccal.event_by_uid(u)
    ev.vobject_instance.vevent.summary.value = "Après"
    ev.save()
    r = dav(alice, "GET", str(ev.url))
    assert "SUMMARY:Après" in r.text
    assert r.headers["ETag"] != etag
    assert str(ccal.event_by_uid(u).icalendar_component.get("SUMMARY")) == "Après"


def test_client_updates_recurring_event_with_exception(ccal, alice):
    ev = ccal.save_event(_weekly_with_exception(uid("weekly")))
    ev = ccal.event_by_url(ev.url)
    ev.load()
    ev.vobject_instance.vevent.summary.value = "Point hebdo (salle B)"
    ev.save()
    found = ccal.search(start=utc(2024, 1, 1), end=utc(2024, 3, 1), event=True,
                        expand=True)
    got = sorted((dtstart_utc(x), str(x.icalendar_component.get("SUMMARY")))
                 for x in found)
    assert got == [
        (utc(2024, 1, 8, 9), "Point hebdo (salle B)"),
        (utc(2024, 1, 17, 13), "Point hebdo (déplacé)"),
        (utc(2024, 1, 29, 9), "Point hebdo (salle B)"),
        (utc(2024, 2, 5, 9), "Point hebdo (salle B)"),
    ]


def test_client_deletes_event(ccal, alice):
    u = uid()
    ev = ccal.save_event(event_ics(u, "DTSTART:20240110T100000Z"))
    url = str(ev.url)
    ev.delete()
    assert dav(alice, "GET", url).status_code == 404
    assert ccal.events() == []


def test_client_event_into_actions_is_refused(principal):
    actions = [c for c in principal.calendars()
               if url_path(str(c.url)) == "/dav/calendars/alice/s1.actions/"][0]
    with pytest.raises(caldav_error.DAVError):
        actions.save_event(event_ics(uid(), "DTSTART:20240110T100000Z"))


# ===================================================== python3-caldav: to-dos


@pytest.fixture
def actions(principal):
    return [c for c in principal.calendars()
            if url_path(str(c.url)) == "/dav/calendars/alice/s1.actions/"][0]


def _action_sheet(u, summary, due="20240301T120000Z", *more):
    return todo_ics(u, "SUMMARY:" + summary, "DUE:" + due, "STATUS:NEEDS-ACTION",
                    "ORGANIZER;CN=Alice:mailto:alice@example.org",
                    "CATEGORIES:habitat", "X-PARVIS-COST;CURRENCY=EUR:12500.00", *more)


def test_client_creates_todo_in_actions(actions, alice):
    u = uid("todo")
    t = actions.save_todo(_action_sheet(u, "Réfection du préau"))
    assert u in [str(x.icalendar_component.get("UID")) for x in actions.todos()]
    text = server_text(alice, t.url)
    assert "X-PARVIS-COST;CURRENCY=EUR:12500.00" in text


def test_client_completes_todo(actions, alice):
    u = uid("todo")
    t = actions.save_todo(_action_sheet(u, "Plan de mobilité"))
    t.complete()
    assert u not in [str(x.icalendar_component.get("UID")) for x in actions.todos()]
    assert u in [str(x.icalendar_component.get("UID"))
                 for x in actions.todos(include_completed=True)]
    vtodo = parse_ical(server_text(alice, t.url)).walk("VTODO")[0]
    assert vtodo.value("STATUS") == "COMPLETED"
    assert vtodo.value("COMPLETED")
    # What the client does not know survives its round trip.
    assert vtodo.value("X-PARVIS-COST") == "12500.00"
    assert vtodo.param("X-PARVIS-COST", "CURRENCY") == "EUR"


def test_client_updates_todo_progress(actions, alice):
    u = uid("todo")
    actions.save_todo(_action_sheet(u, "Équipements publics"))
    t = actions.todo_by_uid(u)
    t.vobject_instance.vtodo.add("percent-complete").value = "40"
    t.vobject_instance.vtodo.status.value = "IN-PROCESS"
    t.save()
    vtodo = parse_ical(server_text(alice, t.url)).walk("VTODO")[0]
    assert vtodo.value("PERCENT-COMPLETE") == "40"
    assert vtodo.value("STATUS") == "IN-PROCESS"


def test_client_searches_todos_by_due_date(actions):
    a, b = uid("todo"), uid("todo")
    actions.save_todo(_action_sheet(a, "Avant", "20310110T120000Z"))
    actions.save_todo(_action_sheet(b, "Après", "20310310T120000Z"))
    found = actions.search(todo=True, start=utc(2031, 1, 1), end=utc(2031, 2, 1))
    uids = [str(x.icalendar_component.get("UID")) for x in found]
    assert a in uids and b not in uids


def test_client_deletes_todo(actions, alice):
    u = uid("todo")
    t = actions.save_todo(_action_sheet(u, "À supprimer"))
    url = str(t.url)
    t.delete()
    assert dav(alice, "GET", url).status_code == 404


# ================================================ python3-caldav: sync tokens


def test_client_sync_token_round_trip(ccal):
    a = ccal.save_event(event_ics(uid("a"), "DTSTART:20240110T100000Z", "SUMMARY:a"))
    b = ccal.save_event(event_ics(uid("b"), "DTSTART:20240111T100000Z", "SUMMARY:b"))
    first = ccal.objects_by_sync_token(load_objects=False)
    assert sorted(str(x.url) for x in first) == sorted([str(a.url), str(b.url)])
    a.vobject_instance.vevent.summary.value = "a2"
    a.save()
    b.delete()
    c = ccal.save_event(event_ics(uid("c"), "DTSTART:20240112T100000Z", "SUMMARY:c"))
    later = ccal.objects_by_sync_token(sync_token=first.sync_token, load_objects=False)
    assert sorted(str(x.url) for x in later) == sorted(
        [str(a.url), str(b.url), str(c.url)])
    assert later.sync_token != first.sync_token


# ================================================================= vdirsyncer


def _need_vdirsyncer():
    if shutil.which("vdirsyncer") is None:
        pytest.fail("vdirsyncer is not installed (Debian package vdirsyncer)")


class Vdir:
    """Two local folders a/ and b/, each paired with the same calendar."""

    def __init__(self, root, cal_url):
        self.root = root
        self.cal = cal_url
        self.a = root / "a"
        self.b = root / "b"
        for d in (self.a, self.b, root / "status"):
            d.mkdir()
        self.config = root / "config"
        storages = []
        for side in ("a", "b"):
            storages.append(
                '[pair p%(s)s]\na = "local_%(s)s"\nb = "remote_%(s)s"\n'
                'collections = null\nconflict_resolution = "b wins"\n\n'
                '[storage local_%(s)s]\ntype = "filesystem"\npath = "%(path)s/"\n'
                'fileext = ".ics"\n\n'
                '[storage remote_%(s)s]\ntype = "caldav"\nurl = "%(url)s"\n'
                'username = "alice"\npassword = "alice-pw"\n\n'
                % {"s": side, "path": root / side, "url": cal_url})
        self.config.write_text('[general]\nstatus_path = "%s/"\n\n' % (root / "status")
                               + "".join(storages))

    def run(self, *args):
        env = dict(os.environ, VDIRSYNCER_CONFIG=str(self.config), HOME=str(self.root))
        p = subprocess.run(["vdirsyncer"] + list(args), env=env, cwd=self.root,
                           input="", capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, "vdirsyncer %s -> %d\n%s\n%s" % (
            " ".join(args), p.returncode, p.stdout, p.stderr)
        return p.stdout + p.stderr

    def sync(self, *pairs):
        return self.run("sync", *pairs)

    def files(self, side):
        d = self.a if side == "a" else self.b
        return {p.name: p.read_text() for p in sorted(d.glob("*.ics"))}

    def uids(self, side):
        return sorted(parse_ical(t).walk("VEVENT")[0].value("UID")
                      for t in self.files(side).values())


def server_uids(sess, cal_url):
    out = []
    from caldav_helpers import calendar_data
    for resp in calendar_query(sess, cal_url, comp_filter(name="VEVENT"),
                               "<C:calendar-data/>"):
        out.append(parse_ical(calendar_data(resp)).walk("VEVENT")[0].value("UID"))
    return sorted(out)


def summary_of(text):
    return parse_ical(text).walk("VEVENT")[0].value("SUMMARY")


@pytest.fixture
def vdir(server, alice, tmp_path):
    _need_vdirsyncer()
    cal = new_calendar(server, alice)
    v = Vdir(tmp_path, cal)
    v.run("discover")
    v.sync()
    return v


def _write_event(folder, u, summary, day="20240110"):
    (folder / (u + ".ics")).write_text(event_ics(
        u, "DTSTART:%sT100000Z" % day, "DTEND:%sT110000Z" % day,
        "SUMMARY:" + summary).replace("\r\n", "\n"))


def test_vdirsyncer_discover_finds_the_calendar(server, alice, tmp_path):
    _need_vdirsyncer()
    cal = new_calendar(server, alice)
    out = Vdir(tmp_path, cal).run("discover")
    assert cal.rstrip("/").rsplit("/", 1)[1] in out, out


def test_vdirsyncer_event_created_in_a_reaches_server_and_b(vdir, alice):
    u = uid("va")
    _write_event(vdir.a, u, "Créé dans A")
    vdir.sync("pa")
    assert server_uids(alice, vdir.cal) == [u]
    vdir.sync("pb")
    assert vdir.uids("b") == [u]
    assert [summary_of(t) for t in vdir.files("b").values()] == ["Créé dans A"]


def test_vdirsyncer_event_created_in_b_reaches_server_and_a(vdir, alice):
    u = uid("vb")
    _write_event(vdir.b, u, "Créé dans B")
    vdir.sync("pb")
    vdir.sync("pa")
    assert server_uids(alice, vdir.cal) == [u]
    assert vdir.uids("a") == [u]


def test_vdirsyncer_event_created_on_server_reaches_both(vdir, alice):
    u = uid("vs")
    put_ok(alice, vdir.cal + u + ".ics", event_ics(u, "DTSTART:20240110T100000Z",
                                                   "SUMMARY:Créé sur le serveur"))
    vdir.sync()
    assert vdir.uids("a") == vdir.uids("b") == [u]


def test_vdirsyncer_edit_in_b_reaches_server_and_a(vdir, alice):
    u = uid("ve")
    _write_event(vdir.a, u, "Version 1")
    vdir.sync("pa")
    vdir.sync("pb")
    (name,) = vdir.files("b")
    path = vdir.b / name
    path.write_text(path.read_text().replace("SUMMARY:Version 1", "SUMMARY:Version 2"))
    vdir.sync("pb")
    vdir.sync("pa")
    assert [summary_of(t) for t in vdir.files("a").values()] == ["Version 2"]
    (resp,) = calendar_query(alice, vdir.cal, comp_filter(name="VEVENT"),
                             "<C:calendar-data/>")
    from caldav_helpers import calendar_data
    assert summary_of(calendar_data(resp)) == "Version 2"


def test_vdirsyncer_edits_on_both_sides_of_different_events_converge(vdir, alice):
    ua, ub = uid("x"), uid("y")
    _write_event(vdir.a, ua, "A v1")
    _write_event(vdir.a, ub, "B v1", day="20240111")
    vdir.sync("pa")
    vdir.sync("pb")
    for folder, u, new in ((vdir.a, ua, "A v2"), (vdir.b, ub, "B v2")):
        for p in folder.glob("*.ics"):
            t = p.read_text()
            if "UID:" + u in t:
                p.write_text(t.replace("v1", "v2"))
    vdir.sync("pa")
    vdir.sync("pb")
    vdir.sync("pa")
    for side in ("a", "b"):
        got = sorted(summary_of(t) for t in vdir.files(side).values())
        assert got == ["A v2", "B v2"], (side, got)


def test_vdirsyncer_delete_in_a_reaches_server_and_b(vdir, alice):
    keep, gone = uid("keep"), uid("gone")
    _write_event(vdir.a, keep, "Reste")
    _write_event(vdir.a, gone, "Supprimé", day="20240111")
    vdir.sync("pa")
    vdir.sync("pb")
    assert vdir.uids("b") == sorted([keep, gone])
    for p in vdir.a.glob("*.ics"):
        if "UID:" + gone in p.read_text():
            p.unlink()
    vdir.sync("pa")
    vdir.sync("pb")
    assert server_uids(alice, vdir.cal) == [keep]
    assert vdir.uids("a") == vdir.uids("b") == [keep]


def test_vdirsyncer_delete_in_b_reaches_server_and_a(vdir, alice):
    # (vdirsyncer refuses to empty a side completely without --force-delete:
    # one event stays.)
    keep, gone = uid("keep"), uid("del")
    _write_event(vdir.a, keep, "Reste")
    _write_event(vdir.a, gone, "Éphémère", day="20240111")
    vdir.sync("pa")
    vdir.sync("pb")
    for p in vdir.b.glob("*.ics"):
        if "UID:" + gone in p.read_text():
            p.unlink()
    vdir.sync("pb")
    vdir.sync("pa")
    assert server_uids(alice, vdir.cal) == [keep]
    assert vdir.uids("a") == vdir.uids("b") == [keep]


def test_vdirsyncer_second_sync_changes_nothing(vdir, alice):
    _write_event(vdir.a, uid("idem"), "Stable")
    vdir.sync()
    vdir.sync()
    out = vdir.sync()
    assert "Copying" not in out and "Deleting" not in out, out
