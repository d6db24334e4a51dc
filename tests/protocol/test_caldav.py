"""CalDAV (RFC 4791), collection synchronization (RFC 6578), CalDAV
discovery (RFC 6764) and extended MKCOL (RFC 5689), spoken in plain HTTP.

Every expectation is worked out by hand from the data the test PUTs: the
UTC instants of local times are written out (Europe/Paris is UTC+1 in
winter and UTC+2 from the last Sunday of March to the last Sunday of
October), and the matches of each filter are listed by name.

Most tests make their own calendar in s1 (fixture `cal`); the seeded
calendars (s1.agenda, s1.actions, s2.*) are only read or written with
unique names.
"""

import datetime
import uuid

import pytest

from caldav_helpers import (A_NS, C_NS, CS_NS, SYNC_TOKEN_RE, VTZ_NEW_YORK,
                            VTZ_PARIS,
                            add_user, alice, assert_precondition, cal,
                            component,
                            error_condition,
                            cal_home, calendar_data, calendar_query,
                            comp_filter, event_ics, expand_prop,
                            expanded_instances, freebusy_body,
                            mkcalendar_body, multiget_body, names,
                            new_calendar, parse_ical, put_ics, put_ok,
                            query_body,
                            query_names, range_filter, report, sync_body,
                            sync_collection, time_range, todo_ics, vcalendar,
                            vevent, vtodo)
from dav_helpers import (XML_HEADERS, dav, parse_multistatus,
                         propfind, propfind_one, url_path)
from psql_helpers import PsqlSession, wait_sealed

_ = (alice, cal)  # fixtures, imported for pytest

DAV = "{DAV:}"
C = "{%s}" % C_NS
CS = "{%s}" % CS_NS
A = "{%s}" % A_NS


def uid():
    return uuid.uuid4().hex


def prop_of(sess, url, clark):
    """The element of one property (Depth 0 PROPFIND), asserting 200."""
    resp = propfind_one(sess, url, "prop", [clark])
    el = resp.ok_props().get(clark)
    assert el is not None, resp
    return el


def hrefs_in(el):
    return [h.text.strip() for h in el.findall(DAV + "href")]


def listing(sess, url):
    """{decoded path: MSResponse} of a Depth 1 PROPFIND."""
    r = propfind(sess, url, "1", "prop",
                 ["resourcetype", "displayname", C + "supported-calendar-component-set"])
    assert r.status_code == 207, (r.status_code, r.text[:2000])
    return {x.path: x for x in parse_multistatus(r.content)}


def is_calendar(resp):
    rt = resp.ok_props().get(DAV + "resourcetype")
    return rt is not None and rt.find(C + "calendar") is not None


def components(resp):
    el = resp.ok_props()[C + "supported-calendar-component-set"]
    return sorted(c.get("name") for c in el.findall(C + "comp"))


# =================================================================== discovery


def test_well_known_caldav_redirects_to_dav_root(server, alice):
    r = dav(alice, "GET", server.url + "/.well-known/caldav")
    assert r.status_code == 301, r.status_code
    assert url_path(r.headers["Location"]) == "/dav/"


def test_well_known_caldav_redirects_propfind_too(server, alice):
    # iOS and DAVx5 start with PROPFIND on the well-known URI (RFC 6764 §5).
    r = propfind(alice, server.url + "/.well-known/caldav", "0", "prop",
                 ["current-user-principal"])
    assert r.status_code == 301, r.status_code
    assert url_path(r.headers["Location"]) == "/dav/"


@pytest.mark.parametrize("path", ["/", "/dav/", "/dav/calendars/alice/",
                                  "/dav/calendars/alice/s1.agenda/",
                                  "/dav/principals/users/alice/"])
def test_current_user_principal_on_every_resource(path, server, alice):
    el = prop_of(alice, server.url + path, DAV + "current-user-principal")
    assert [url_path(h) for h in hrefs_in(el)] == ["/dav/principals/users/alice/"]


def test_current_user_principal_on_calendar_object(cal, alice):
    put_ok(alice, cal + "p.ics", event_ics(uid(), "DTSTART:20240110T100000Z"))
    el = prop_of(alice, cal + "p.ics", DAV + "current-user-principal")
    assert [url_path(h) for h in hrefs_in(el)] == ["/dav/principals/users/alice/"]


def test_principal_has_calendar_home_set(server, alice):
    el = prop_of(alice, server.url + "/dav/principals/users/alice/",
                 C + "calendar-home-set")
    assert [url_path(h) for h in hrefs_in(el)] == ["/dav/calendars/alice/"]


def test_principal_calendar_user_address_set_has_mailto_and_principal(
        server, ctl, session_for):
    name = add_user(ctl, "cua" + uuid.uuid4().hex[:8], [("s1", "reader")],
                    email="cua@example.org")
    sess = session_for(name)
    el = prop_of(sess, server.url + "/dav/principals/users/%s/" % name,
                 C + "calendar-user-address-set")
    got = hrefs_in(el)
    assert "mailto:cua@example.org" in got, got
    assert "/dav/principals/users/%s/" % name in [url_path(h) for h in got], got


def test_discovery_chain_from_well_known_to_calendars(server, alice):
    # RFC 6764 §6: well-known URI -> context path -> current-user-principal
    # -> calendar-home-set -> calendar collections.
    r = dav(alice, "PROPFIND", server.url + "/.well-known/caldav",
            headers={"Depth": "0"})
    assert r.status_code == 301
    context = server.url + url_path(r.headers["Location"])
    el = prop_of(alice, context, DAV + "current-user-principal")
    principal = server.url + url_path(hrefs_in(el)[0])
    el = prop_of(alice, principal, C + "calendar-home-set")
    home = server.url + url_path(hrefs_in(el)[0])
    cals = {p for p, x in listing(alice, home).items() if is_calendar(x)}
    assert {"/dav/calendars/alice/s1.agenda/",
            "/dav/calendars/alice/s1.actions/"} <= cals, cals


def test_options_on_calendar_advertises_calendar_access(server, alice):
    # RFC 4791 §5.1: "calendar-access" in the DAV header of OPTIONS on any
    # resource that supports calendar properties, reports or methods.
    r = dav(alice, "OPTIONS", server.url + "/dav/calendars/alice/s1.agenda/")
    assert r.status_code == 200
    tokens = [t.strip() for t in r.headers.get("DAV", "").split(",")]
    assert "calendar-access" in tokens, r.headers.get("DAV")


def test_options_on_calendar_home_advertises_extended_mkcol(server, alice):
    # RFC 5689 §3: a server supporting extended MKCOL lists "extended-mkcol".
    r = dav(alice, "OPTIONS", server.url + "/dav/calendars/alice/")
    assert r.status_code == 200
    tokens = [t.strip() for t in r.headers.get("DAV", "").split(",")]
    assert "extended-mkcol" in tokens, r.headers.get("DAV")


def test_options_on_calendar_allows_report(server, alice):
    # RFC 9110 §10.2.1: Allow lists the methods the resource supports;
    # REPORT works on a calendar (calendar-query, sync-collection, ...).
    r = dav(alice, "OPTIONS", server.url + "/dav/calendars/alice/s1.agenda/")
    allow = [m.strip() for m in r.headers.get("Allow", "").split(",")]
    assert "REPORT" in allow, r.headers.get("Allow")


# ============================================================== calendar home


def test_home_of_alice_lists_s1_agenda_and_actions(server, alice):
    got = listing(alice, server.url + "/dav/calendars/alice/")
    agenda = got["/dav/calendars/alice/s1.agenda/"]
    actions = got["/dav/calendars/alice/s1.actions/"]
    assert is_calendar(agenda) and is_calendar(actions)
    assert agenda.ok_props()[DAV + "displayname"].text == "Agenda"
    assert actions.ok_props()[DAV + "displayname"].text == "Fiches action"


def test_home_of_alice_has_no_s2_calendar(server, alice):
    got = listing(alice, server.url + "/dav/calendars/alice/")
    assert not [p for p in got if p.startswith("/dav/calendars/alice/s2.")], got


def test_home_of_carol_lists_s2_agenda_and_actions(server, session_for):
    carol = session_for("carol")
    got = listing(carol, server.url + "/dav/calendars/carol/")
    assert is_calendar(got["/dav/calendars/carol/s2.agenda/"])
    assert is_calendar(got["/dav/calendars/carol/s2.actions/"])
    assert not [p for p in got if p.startswith("/dav/calendars/carol/s1.")], got


def test_home_of_member_of_two_spaces_lists_both(server, ctl, session_for):
    name = add_user(ctl, "two" + uuid.uuid4().hex[:8],
                    [("s1", "editor"), ("s2", "reader")])
    got = listing(session_for(name), server.url + cal_home(name))
    for cal_name in ("s1.agenda", "s1.actions", "s2.agenda", "s2.actions"):
        assert is_calendar(got["/dav/calendars/%s/%s/" % (name, cal_name)]), got


def test_agenda_takes_events_and_actions_take_todos(server, alice):
    got = listing(alice, server.url + "/dav/calendars/alice/")
    assert components(got["/dav/calendars/alice/s1.agenda/"]) == ["VEVENT"]
    assert components(got["/dav/calendars/alice/s1.actions/"]) == ["VTODO"]


def test_home_itself_is_a_plain_collection(server, alice):
    resp = propfind_one(alice, server.url + "/dav/calendars/alice/", "prop",
                        ["resourcetype"])
    rt = resp.ok_props()[DAV + "resourcetype"]
    assert rt.find(DAV + "collection") is not None
    assert rt.find(C + "calendar") is None


def test_home_needs_authentication(server):
    import requests
    r = requests.request("PROPFIND", server.url + "/dav/calendars/alice/",
                         headers={"Depth": "0"}, timeout=30)
    assert r.status_code == 401


def test_carol_gets_404_on_alice_home(server, session_for):
    r = propfind(session_for("carol"), server.url + "/dav/calendars/alice/", "0")
    assert r.status_code == 404, r.status_code


def test_carol_gets_404_on_s1_agenda_through_alice_home(server, session_for):
    r = propfind(session_for("carol"),
                 server.url + "/dav/calendars/alice/s1.agenda/", "0")
    assert r.status_code == 404, r.status_code


def test_carol_gets_404_on_s1_agenda_through_her_home(server, session_for):
    r = propfind(session_for("carol"),
                 server.url + "/dav/calendars/carol/s1.agenda/", "0")
    assert r.status_code == 404, r.status_code


def test_carol_gets_404_on_object_of_s1(server, alice, session_for):
    url = server.url + "/dav/calendars/alice/s1.agenda/%s.ics" % uid()
    put_ok(alice, url, event_ics(uid(), "DTSTART:20240110T100000Z"))
    carol = session_for("carol")
    assert dav(carol, "GET", url).status_code == 404
    mine = url.replace("/calendars/alice/", "/calendars/carol/")
    assert dav(carol, "GET", mine).status_code == 404


def test_carol_cannot_query_s1_agenda(server, session_for):
    r = report(session_for("carol"), server.url + "/dav/calendars/carol/s1.agenda/",
               '<C:calendar-query xmlns:D="DAV:" xmlns:C="%s"><D:prop><D:getetag/>'
               '</D:prop><C:filter><C:comp-filter name="VCALENDAR"/></C:filter>'
               '</C:calendar-query>' % C_NS)
    assert r.status_code == 404, r.status_code


def test_bob_reader_gets_403_on_put(server, session_for):
    url = server.url + "/dav/calendars/bob/s1.agenda/%s.ics" % uid()
    r = put_ics(session_for("bob"), url, event_ics(uid(), "DTSTART:20240110T100000Z"))
    assert r.status_code == 403, r.status_code
    assert dav(session_for("bob"), "GET", url).status_code == 404


def test_bob_reader_reads_event_alice_put(server, alice, session_for):
    name = uid() + ".ics"
    body = event_ics(uid(), "DTSTART:20240110T100000Z", "SUMMARY:lecture")
    put_ok(alice, server.url + "/dav/calendars/alice/s1.agenda/" + name, body)
    r = dav(session_for("bob"), "GET",
            server.url + "/dav/calendars/bob/s1.agenda/" + name)
    assert r.status_code == 200
    assert r.content == body.encode()


def test_bob_reader_gets_403_on_delete(server, alice, session_for):
    name = uid() + ".ics"
    put_ok(alice, server.url + "/dav/calendars/alice/s1.agenda/" + name,
           event_ics(uid(), "DTSTART:20240110T100000Z"))
    r = dav(session_for("bob"), "DELETE",
            server.url + "/dav/calendars/bob/s1.agenda/" + name)
    assert r.status_code == 403, r.status_code


def test_bob_reader_privilege_set_lacks_write(server, session_for):
    el = prop_of(session_for("bob"), server.url + "/dav/calendars/bob/s1.agenda/",
                 DAV + "current-user-privilege-set")
    privs = {p[0].tag for p in el.findall(DAV + "privilege")}
    assert DAV + "read" in privs
    assert not privs & {DAV + "write", DAV + "write-content", DAV + "bind",
                        DAV + "all"}, privs


def test_alice_editor_privilege_set_has_write(server, alice):
    el = prop_of(alice, server.url + "/dav/calendars/alice/s1.agenda/",
                 DAV + "current-user-privilege-set")
    privs = {p[0].tag for p in el.findall(DAV + "privilege")}
    assert {DAV + "read", DAV + "write"} <= privs or DAV + "all" in privs, privs


# ================================================ MKCALENDAR, extended MKCOL


def test_mkcalendar_in_space_makes_a_calendar(server, alice):
    url = new_calendar(server, alice)
    resp = propfind_one(alice, url, "prop", ["resourcetype"])
    assert is_calendar(resp)
    assert url_path(url) in listing(alice, server.url + "/dav/calendars/alice/")


def test_mkcalendar_in_space_is_seen_by_other_members(server, alice, session_for):
    url = new_calendar(server, alice)
    mine = url.replace("/calendars/alice/", "/calendars/mgr/")
    assert is_calendar(propfind_one(session_for("mgr"), mine, "prop", ["resourcetype"]))


def test_mkcalendar_sets_displayname_description_and_color(server, alice):
    url = new_calendar(server, alice, body=mkcalendar_body(
        "<D:displayname>Réunions de quartier</D:displayname>"
        "<C:calendar-description>Les réunions publiques</C:calendar-description>"
        "<A:calendar-color>#FF8000FF</A:calendar-color>"))
    resp = propfind_one(alice, url, "prop", ["displayname", C + "calendar-description",
                                             A + "calendar-color"])
    ok = resp.ok_props()
    assert ok[DAV + "displayname"].text == "Réunions de quartier"
    assert ok[C + "calendar-description"].text == "Les réunions publiques"
    assert ok[A + "calendar-color"].text == "#FF8000FF"


def test_mkcalendar_sets_supported_component_set(server, alice):
    # RFC 4791 §5.2.3: supported-calendar-component-set is protected but
    # MAY be given in the MKCALENDAR request body.
    url = server.url + "/dav/calendars/alice/s1.todo%s/" % uid()[:8]
    r = dav(alice, "MKCALENDAR", url, headers=XML_HEADERS, data=mkcalendar_body(
        '<C:supported-calendar-component-set><C:comp name="VTODO"/>'
        '</C:supported-calendar-component-set>'))
    assert r.status_code == 201, (r.status_code, r.text)
    resp = propfind_one(alice, url, "prop", [C + "supported-calendar-component-set"])
    assert components(resp) == ["VTODO"]


def test_mkcalendar_of_todos_refuses_an_event(server, alice):
    url = server.url + "/dav/calendars/alice/s1.todo%s/" % uid()[:8]
    r = dav(alice, "MKCALENDAR", url, headers=XML_HEADERS, data=mkcalendar_body(
        '<C:supported-calendar-component-set><C:comp name="VTODO"/>'
        '</C:supported-calendar-component-set>'))
    assert r.status_code == 201, (r.status_code, r.text)
    r = put_ics(alice, url + "e.ics", event_ics(uid(), "DTSTART:20240110T100000Z"))
    assert_precondition(r, 403, C_NS, "supported-calendar-component")


def test_mkcalendar_personal_calendar_in_home(server, alice, session_for):
    url = new_calendar(server, alice, slug=None)
    assert url_path(url) in listing(alice, server.url + "/dav/calendars/alice/")
    put_ok(alice, url + "x.ics", event_ics(uid(), "DTSTART:20240110T100000Z"))


def test_personal_calendar_is_not_listed_for_others(server, alice, session_for):
    url = new_calendar(server, alice, slug=None)
    seg = url_path(url).rstrip("/").rsplit("/", 1)[1]
    got = listing(session_for("mgr"), server.url + "/dav/calendars/mgr/")
    assert "/dav/calendars/mgr/%s/" % seg not in got


def test_mkcalendar_on_existing_calendar_is_405(server, alice):
    url = new_calendar(server, alice)
    r = dav(alice, "MKCALENDAR", url)
    assert r.status_code == 405, r.status_code
    # RFC 9110 §15.5.6: Allow lists what the calendar supports.
    allow = {m.strip() for m in r.headers.get("Allow", "").split(",")}
    assert "MKCALENDAR" not in allow and "MKCOL" not in allow, allow
    assert {"REPORT", "PROPFIND", "DELETE"} <= allow, allow


def test_options_allow_offers_mkcalendar_only_where_one_can_be_made(
        server, alice):
    home = server.url + cal_home("alice")
    allow = dav(alice, "OPTIONS", home + "s1.new%s/" % uid()[:8]) \
        .headers.get("Allow", "")
    assert "MKCALENDAR" in allow, allow
    allow = dav(alice, "OPTIONS", home + "s1.agenda/").headers.get("Allow", "")
    assert "MKCALENDAR" not in allow, allow


def test_mkcalendar_if_match_star_on_unmapped_url_is_412(server, alice):
    """RFC 9110 §13.1.1: no current representation, so If-Match: * is
    false and no calendar is made."""
    url = server.url + cal_home("alice") + "s1.guard%s/" % uid()[:8]
    r = dav(alice, "MKCALENDAR", url, headers={"If-Match": "*"})
    assert r.status_code == 412, r.status_code
    assert dav(alice, "PROPFIND", url, headers={"Depth": "0"}).status_code \
        == 404
    r = dav(alice, "MKCALENDAR", url, headers={"If-None-Match": "*"})
    assert r.status_code == 201, r.status_code


def test_mkcalendar_by_reader_is_403(server, session_for):
    r = dav(session_for("bob"), "MKCALENDAR",
            server.url + "/dav/calendars/bob/s1.bob%s/" % uid()[:8])
    assert r.status_code == 403, r.status_code


def test_mkcalendar_in_space_of_another_user_fails(server, session_for):
    r = dav(session_for("carol"), "MKCALENDAR",
            server.url + "/dav/calendars/carol/s1.c%s/" % uid()[:8])
    # 409 when other tests left carol an entry somewhere in s1: a folder
    # she cannot read answers like a missing one.
    assert r.status_code in (403, 404, 409), r.status_code


def test_mkcalendar_outside_calendar_home_is_refused(server, alice):
    r = dav(alice, "MKCALENDAR", server.url + "/dav/spaces/s1/cal%s/" % uid()[:8])
    assert_precondition(r, 403, C_NS, "calendar-collection-location-ok")


def test_mkcalendar_inside_a_calendar_is_refused(cal, alice):
    r = dav(alice, "MKCALENDAR", cal + "inner/")
    assert_precondition(r, 403, C_NS, "calendar-collection-location-ok")


def test_mkcol_inside_a_calendar_is_refused(cal, alice):
    # RFC 4791 §4.2: no collection inside a calendar collection.
    r = dav(alice, "MKCOL", cal + "sub/")
    assert r.status_code == 403, r.status_code


def _in_week(uid_):
    return event_ics(uid_, "DTSTART:20260601T100000Z",
                     "DTEND:20260601T110000Z")


def _week(sess, url):
    return query_names(sess, url, range_filter("20260601T000000Z",
                                               "20260608T000000Z"))


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_no_folder_is_copied_or_moved_into_a_calendar(server, alice, cal,
                                                      method):
    """RFC 4791 §4.2 and §5.3.2.1, as MKCOL there: a folder copied or
    moved into a calendar would hold files that no calendar check saw."""
    folder = server.url + "/dav/spaces/s1/f%s/" % uid()[:8]
    assert dav(alice, "MKCOL", folder).status_code == 201
    r = dav(alice, method, folder, headers={"Destination": cal + "sub/"})
    assert_precondition(r, 403, C_NS, "calendar-collection-location-ok")
    assert dav(alice, "PROPFIND", folder, headers={"Depth": "0"}
               ).status_code == 207
    assert dav(alice, "PROPFIND", cal + "sub/", headers={"Depth": "0"}
               ).status_code == 404


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_no_folder_is_copied_or_moved_into_a_calendar_home(server, alice,
                                                           method):
    folder = server.url + "/dav/spaces/s1/f%s/" % uid()[:8]
    assert dav(alice, "MKCOL", folder).status_code == 201
    dest = server.url + cal_home("alice") + "s1.f%s/" % uid()[:8]
    r = dav(alice, method, folder, headers={"Destination": dest})
    assert_precondition(r, 403, C_NS, "calendar-collection-location-ok")


def test_a_calendar_is_not_moved_into_another_calendar(server, alice):
    outer, inner = new_calendar(server, alice), new_calendar(server, alice)
    put_ok(alice, inner + "e.ics", _in_week("e"))
    r = dav(alice, "MOVE", inner, headers={"Destination": outer + "nested/"})
    assert_precondition(r, 403, C_NS, "calendar-collection-location-ok")
    assert _week(alice, inner) == ["e.ics"]
    assert _week(alice, outer) == []


@pytest.mark.parametrize("dest", ["/dav/spaces/s1/out%s/",
                                  "/dav/calendars/{user}/s2.c%s/",
                                  "/dav/calendars/{user}/s1.c%s/"])
def test_a_calendar_is_not_copied_nor_moved_out_of_its_home(
        server, ctl, session_for, dest):
    """A copy, or a move into another space's home (a copy there), or
    out of the home would leave a plain folder, not a calendar, missing
    from every member's calendar home."""
    user = add_user(ctl, "cm" + uid()[:8], [("s1", "editor"),
                                           ("s2", "editor")])
    sess = session_for(user)
    url = new_calendar(server, sess, user=user)
    put_ok(sess, url + "e.ics", _in_week("e"))
    methods = ("COPY",) if "s1.c" in dest else ("MOVE", "COPY")
    for method in methods:
        r = dav(sess, method, url, headers={
            "Destination": server.url + dest.format(user=user) % uid()[:8]})
        assert_precondition(r, 403, C_NS, "calendar-collection-location-ok")
    assert _week(sess, url) == ["e.ics"]


def test_a_calendar_is_renamed_in_its_calendar_home(server, alice):
    url = new_calendar(server, alice)
    put_ok(alice, url + "e.ics", _in_week("e"))
    dest = server.url + cal_home("alice") + "s1.renamed%s/" % uid()[:8]
    r = dav(alice, "MOVE", url, headers={"Destination": dest})
    assert r.status_code == 201, (r.status_code, r.text)
    assert _week(alice, dest) == ["e.ics"]
    assert dav(alice, "PROPFIND", url, headers={"Depth": "0"}
               ).status_code == 404


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_no_file_is_copied_or_moved_over_a_calendar(server, alice, method):
    """RFC 4791 §5.3.2.1: a calendar home holds calendars; a file sent to
    a calendar's URL is refused with calendar-collection-location-ok and
    the calendar stays, events and all."""
    cal = new_calendar(server, alice)
    put_ok(alice, cal + "e.ics", _in_week("e"))
    src = server.space_url("s1") + "note-%s.txt" % uid()[:8]
    assert dav(alice, "PUT", src, data=b"not a calendar").status_code == 201
    for dest in (cal.rstrip("/"), cal,
                 server.url + cal_home("alice") + "s1.new%s" % uid()[:8]):
        r = dav(alice, method, src, headers={"Destination": dest,
                                             "Overwrite": "T"})
        assert r.status_code == 403, (dest, r.status_code)
        assert b"calendar-collection-location-ok" in r.content, r.text
    assert _week(alice, cal) == ["e.ics"]
    assert dav(alice, "GET", src).content == b"not a calendar"


def test_no_file_or_folder_is_made_at_a_calendars_place(server, alice):
    """Only a calendar is made in a calendar home: a PUT or a plain MKCOL
    there is refused, and nothing appears."""
    home = server.url + cal_home("alice")
    url = home + "s1.plain%s" % uid()[:8]
    r = dav(alice, "PUT", url, data=b"a file")
    assert r.status_code == 405, r.status_code
    assert "MKCALENDAR" in r.headers["Allow"].split(", ")
    assert "PUT" not in r.headers["Allow"].split(", ")
    r = dav(alice, "LOCK", url, data=(
        b'<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope>'
        b'<D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>'
        b'</D:lockinfo>'), headers=XML_HEADERS)
    assert r.status_code == 405, r.status_code
    r = dav(alice, "MKCOL", url + "/")
    assert r.status_code == 403, r.status_code
    assert b"calendar-collection-location-ok" in r.content, r.text
    assert dav(alice, "PROPFIND", url,
               headers={"Depth": "0"}).status_code == 404


@pytest.mark.parametrize("end", ["DURATION:-PT1H", "DTEND:20260501T090000Z"])
def test_an_end_before_the_start_is_a_point_in_time(cal, alice, end):
    """RFC 5545 §3.8.2.2 wants DTEND after DTSTART; an object that ends
    before it starts is found by its start, as an instance of no length
    (RFC 4791 §9.9), in every instance of a series."""
    r = put_ics(alice, cal + "backwards.ics", event_ics(
        uid(), "DTSTART:20260501T100000Z", end, "RRULE:FREQ=DAILY;COUNT=60"))
    assert r.status_code == 201, (r.status_code, r.text)
    around = range_filter("20260601T093000Z", "20260601T103000Z")
    assert query_names(alice, cal, around) == ["backwards.ics"]
    before = range_filter("20260601T083000Z", "20260601T093000Z")
    assert query_names(alice, cal, before) == []


def test_extended_mkcol_makes_a_calendar(server, alice):
    url = new_calendar(server, alice, method="MKCOL", body=(
        '<D:mkcol xmlns:D="DAV:" xmlns:C="%s"><D:set><D:prop>'
        '<D:resourcetype><D:collection/><C:calendar/></D:resourcetype>'
        '<D:displayname>Par MKCOL</D:displayname>'
        '</D:prop></D:set></D:mkcol>' % C_NS).encode())
    resp = propfind_one(alice, url, "prop", ["resourcetype", "displayname"])
    assert is_calendar(resp)
    assert resp.ok_props()[DAV + "displayname"].text == "Par MKCOL"


def test_extended_mkcol_sets_supported_component_set(server, alice):
    url = server.url + "/dav/calendars/alice/s1.mk%s/" % uid()[:8]
    r = dav(alice, "MKCOL", url, headers=XML_HEADERS, data=(
        '<D:mkcol xmlns:D="DAV:" xmlns:C="%s"><D:set><D:prop>'
        '<D:resourcetype><D:collection/><C:calendar/></D:resourcetype>'
        '<C:supported-calendar-component-set><C:comp name="VTODO"/>'
        '</C:supported-calendar-component-set>'
        '</D:prop></D:set></D:mkcol>' % C_NS).encode())
    assert r.status_code == 201, (r.status_code, r.text)
    resp = propfind_one(alice, url, "prop", [C + "supported-calendar-component-set"])
    assert components(resp) == ["VTODO"]


# ================================================================ properties


def test_calendar_resourcetype_is_collection_and_calendar(cal, alice):
    rt = prop_of(alice, cal, DAV + "resourcetype")
    assert rt.find(DAV + "collection") is not None
    assert rt.find(C + "calendar") is not None


def test_new_calendar_takes_events_and_todos(cal, alice):
    resp = propfind_one(alice, cal, "prop", [C + "supported-calendar-component-set"])
    assert components(resp) == ["VEVENT", "VTODO"]


def test_supported_calendar_data_is_icalendar_2(cal, alice):
    el = prop_of(alice, cal, C + "supported-calendar-data")
    cd = el.findall(C + "calendar-data")
    assert [(x.get("content-type"), x.get("version")) for x in cd] == \
        [("text/calendar", "2.0")]


@pytest.mark.parametrize("name,value", [
    ("max-resource-size", "1048576"),
    ("min-date-time", "19000101T000000Z"),
    ("max-date-time", "21001231T235959Z"),
    ("max-instances", "10000"),
    ("max-attendees-per-instance", "1000"),
])
def test_calendar_limit_property(name, value, cal, alice):
    assert prop_of(alice, cal, C + name).text == value


@pytest.mark.parametrize("name", ["max-resource-size", "supported-calendar-data",
                                  "supported-calendar-component-set"])
def test_protected_calendar_property_cannot_be_patched(name, cal, alice):
    body = ('<D:propertyupdate xmlns:D="DAV:" xmlns:C="%s"><D:set><D:prop>'
            '<C:%s>5</C:%s></D:prop></D:set></D:propertyupdate>' % (C_NS, name, name))
    r = dav(alice, "PROPPATCH", cal, data=body.encode(), headers=XML_HEADERS)
    assert r.status_code == 207
    resp = parse_multistatus(r.content)[0]
    assert resp.props[C + name][0] == 403


def _proppatch_one(sess, url, prop_xml):
    body = ('<D:propertyupdate xmlns:D="DAV:" xmlns:C="%s" xmlns:A="%s">'
            '<D:set><D:prop>%s</D:prop></D:set></D:propertyupdate>'
            % (C_NS, A_NS, prop_xml))
    r = dav(sess, "PROPPATCH", url, data=body.encode(), headers=XML_HEADERS)
    assert r.status_code == 207, (r.status_code, r.text)
    for resp in parse_multistatus(r.content):
        for name, (st, _el) in resp.props.items():
            assert st == 200, (name, r.text)


def test_calendar_description_is_writable(cal, alice):
    _proppatch_one(alice, cal, "<C:calendar-description>Chantiers 2024"
                               "</C:calendar-description>")
    assert prop_of(alice, cal, C + "calendar-description").text == "Chantiers 2024"


def test_calendar_timezone_is_writable(cal, alice):
    tz = vcalendar(extra=VTZ_PARIS)
    _proppatch_one(alice, cal, "<C:calendar-timezone>%s</C:calendar-timezone>"
                   % tz.replace("\r\n", "\n"))
    got = prop_of(alice, cal, C + "calendar-timezone").text
    assert "TZID:Europe/Paris" in got


BAD_TIMEZONES = {
    "text": "not a calendar",
    "no-zone": vcalendar(),
    "two-zones": vcalendar(extra=VTZ_PARIS + VTZ_NEW_YORK),
    "zone-and-event": vcalendar(vevent(uid(), "DTSTART:20240110T100000Z"),
                                extra=VTZ_PARIS),
    "bare-zone": VTZ_PARIS,
}


@pytest.mark.parametrize("tz", sorted(BAD_TIMEZONES))
def test_mkcalendar_with_invalid_timezone_is_valid_calendar_data_403(
        tz, server, alice):
    # RFC 4791 §5.2.2, §5.3.1.1: one VCALENDAR with one VTIMEZONE, or the
    # MKCALENDAR fails and creates nothing.
    url = server.url + "/dav/calendars/alice/s1.tz%s/" % uid()[:10]
    body = mkcalendar_body("<C:calendar-timezone>%s</C:calendar-timezone>"
                           % BAD_TIMEZONES[tz])
    r = dav(alice, "MKCALENDAR", url, data=body, headers=XML_HEADERS)
    assert_precondition(r, 403, C_NS, "valid-calendar-data")
    assert dav(alice, "PROPFIND", url, headers={"Depth": "0"}).status_code == 404


def test_mkcalendar_with_a_timezone_keeps_it(server, alice):
    url = new_calendar(server, alice, body=mkcalendar_body(
        "<C:calendar-timezone>%s</C:calendar-timezone>"
        % vcalendar(extra=VTZ_NEW_YORK)))
    assert "TZID:America/New_York" in prop_of(alice, url,
                                              C + "calendar-timezone").text


@pytest.mark.parametrize("tz", sorted(BAD_TIMEZONES))
def test_proppatch_of_invalid_timezone_is_valid_calendar_data_403(
        tz, cal, alice):
    _proppatch_one(alice, cal, "<C:calendar-timezone>%s</C:calendar-timezone>"
                   % vcalendar(extra=VTZ_PARIS))
    body = ('<D:propertyupdate xmlns:D="DAV:" xmlns:C="%s"><D:set><D:prop>'
            '<C:calendar-timezone>%s</C:calendar-timezone>'
            '</D:prop></D:set></D:propertyupdate>' % (C_NS, BAD_TIMEZONES[tz]))
    r = dav(alice, "PROPPATCH", cal, data=body.encode(), headers=XML_HEADERS)
    assert_precondition(r, 403, C_NS, "valid-calendar-data")
    got = prop_of(alice, cal, C + "calendar-timezone").text
    assert "TZID:Europe/Paris" in got and "America" not in got


def test_calendar_color_has_a_default(cal, alice):
    color = prop_of(alice, cal, A + "calendar-color").text
    assert color and color.startswith("#"), color


def test_calendar_color_is_writable(cal, alice):
    _proppatch_one(alice, cal, "<A:calendar-color>#00A000FF</A:calendar-color>")
    assert prop_of(alice, cal, A + "calendar-color").text == "#00A000FF"


def test_calendar_order_is_writable(cal, alice):
    _proppatch_one(alice, cal, "<A:calendar-order>7</A:calendar-order>")
    assert prop_of(alice, cal, A + "calendar-order").text == "7"


def test_getctag_changes_when_an_object_is_put(cal, alice):
    before = prop_of(alice, cal, CS + "getctag").text
    put_ok(alice, cal + "a.ics", event_ics(uid(), "DTSTART:20240110T100000Z"))
    after = prop_of(alice, cal, CS + "getctag").text
    assert before and after and before != after


def test_getctag_changes_when_an_object_is_deleted(cal, alice):
    put_ok(alice, cal + "a.ics", event_ics(uid(), "DTSTART:20240110T100000Z"))
    before = prop_of(alice, cal, CS + "getctag").text
    assert dav(alice, "DELETE", cal + "a.ics").status_code == 204
    assert prop_of(alice, cal, CS + "getctag").text != before


def test_sync_token_property_is_a_uri_that_changes_on_put(cal, alice):
    before = prop_of(alice, cal, DAV + "sync-token").text
    assert SYNC_TOKEN_RE.match(before), before
    put_ok(alice, cal + "a.ics", event_ics(uid(), "DTSTART:20240110T100000Z"))
    after = prop_of(alice, cal, DAV + "sync-token").text
    assert SYNC_TOKEN_RE.match(after) and after != before


def test_supported_report_set_of_calendar(cal, alice):
    el = prop_of(alice, cal, DAV + "supported-report-set")
    reports = {r.tag for sr in el.findall(DAV + "supported-report")
               for rep in sr.findall(DAV + "report") for r in rep}
    assert {C + "calendar-query", C + "calendar-multiget", C + "free-busy-query",
            DAV + "sync-collection"} <= reports, reports


# ===================================================== PUT of calendar objects


def test_put_unparsable_data_is_valid_calendar_data_403(cal, alice):
    r = put_ics(alice, cal + "bad.ics", "this is not iCalendar\r\n")
    assert_precondition(r, 403, C_NS, "valid-calendar-data")
    assert dav(alice, "GET", cal + "bad.ics").status_code == 404


@pytest.mark.parametrize("ctype", ["application/json", "text/plain",
                                   "text/calendar-x; charset=utf-8"])
def test_put_of_other_media_type_is_supported_calendar_data_403(
        ctype, cal, alice):
    # RFC 4791 §5.3.2.1: CALDAV:supported-calendar-data.
    r = put_ics(alice, cal + "j.ics", event_ics(uid(), "DTSTART:20240110T100000Z"),
                headers={"Content-Type": ctype})
    assert_precondition(r, 403, C_NS, "supported-calendar-data")
    assert dav(alice, "GET", cal + "j.ics").status_code == 404


@pytest.mark.parametrize("ctype", ["TEXT/Calendar", "text/calendar ; method=x",
                                   None])
def test_put_of_text_calendar_in_any_case_or_without_type_is_accepted(
        ctype, cal, alice):
    data = event_ics(uid(), "DTSTART:20240110T100000Z").encode()
    headers = {} if ctype is None else {"Content-Type": ctype}
    r = dav(alice, "PUT", cal + "k.ics", data=data, headers=headers)
    assert r.status_code == 201, (r.status_code, r.text)


INVALID_OBJECTS = [
    # (id, iCalendar text): RFC 4791 §5.3.2.1, CALDAV:valid-calendar-data.
    ("unparsable-dtstart", todo_ics("bad", "DTSTART:2024061XT100000Z")),
    ("unparsable-rrule", event_ics("bad", "DTSTART:20240610T100000Z",
                                   "RRULE:FREQ=SOMETIMES;COUNT=x")),
    # RFC 5545 §3.6.1: DTEND or DURATION, not both.
    ("dtend-and-duration", event_ics("bad", "DTSTART:20240610T100000Z",
                                     "DTEND:20240610T110000Z",
                                     "DURATION:PT1H")),
    # RFC 5545 §3.6.1: DTSTART is required without METHOD.
    ("event-without-dtstart", event_ics("bad", "SUMMARY:Quand ?")),
    # RFC 5545 §3.8.2.2: DTEND of the same value type as DTSTART.
    ("date-start-time-end", event_ics("bad", "DTSTART;VALUE=DATE:20240610",
                                      "DTEND:20240611T100000Z")),
    ("time-start-date-end", event_ics("bad", "DTSTART:20240610T100000Z",
                                      "DTEND;VALUE=DATE:20240611")),
]


@pytest.mark.parametrize("text", [c[1] for c in INVALID_OBJECTS],
                         ids=[c[0] for c in INVALID_OBJECTS])
def test_put_of_invalid_icalendar_is_valid_calendar_data_403(text, cal,
                                                             alice):
    r = put_ics(alice, cal + "bad.ics", text.replace("UID:bad",
                                                     "UID:bad-" + uid()))
    assert_precondition(r, 403, C_NS, "valid-calendar-data")
    assert dav(alice, "GET", cal + "bad.ics").status_code == 404


def test_put_without_dtstamp_or_version_is_accepted(cal, alice):
    # A deliberate leniency: clients and imports leave them out.
    text = ("BEGIN:VCALENDAR\r\nPRODID:-//x//EN\r\n"
            + component("VEVENT", "nostamp-" + uid(),
                        "DTSTART:20240610T100000Z", "SUMMARY:Import",
                        dtstamp=False)
            + "END:VCALENDAR\r\n")
    put_ok(alice, cal + "n.ics", text)
    assert "SUMMARY:Import" in dav(alice, "GET", cal + "n.ics").text


def test_put_keeping_a_literal_x_lic_error_is_accepted(cal, alice):
    # A client that parsed with libical may write its X-LIC-ERROR lines
    # back: they are properties of the text, not errors of this parse.
    put_ok(alice, cal + "x.ics", event_ics(
        "xlic-" + uid(), "DTSTART:20240610T100000Z",
        "X-LIC-ERROR;X-LIC-ERRORTYPE=VALUE-PARSE-ERROR:old error"))


def test_put_with_method_is_valid_calendar_object_resource_403(cal, alice):
    r = put_ics(alice, cal + "m.ics", event_ics(uid(), "DTSTART:20240110T100000Z",
                                                extra="METHOD:REQUEST\r\n"))
    assert_precondition(r, 403, C_NS, "valid-calendar-object-resource")


def test_put_with_two_uids_is_valid_calendar_object_resource_403(cal, alice):
    r = put_ics(alice, cal + "u.ics", vcalendar(
        vevent("one-" + uid(), "DTSTART:20240110T100000Z"),
        vevent("two-" + uid(), "DTSTART:20240111T100000Z")))
    assert_precondition(r, 403, C_NS, "valid-calendar-object-resource")


def test_put_with_two_component_types_is_valid_calendar_object_resource_403(
        cal, alice):
    u = uid()
    r = put_ics(alice, cal + "t.ics", vcalendar(
        vevent(u, "DTSTART:20240110T100000Z"), vtodo(u, "DUE:20240110T100000Z")))
    assert_precondition(r, 403, C_NS, "valid-calendar-object-resource")


def test_put_without_uid_is_valid_calendar_object_resource_403(cal, alice):
    from caldav_helpers import component
    r = put_ics(alice, cal + "n.ics", vcalendar(
        component("VEVENT", None, "DTSTART:20240110T100000Z")))
    assert_precondition(r, 403, C_NS, "valid-calendar-object-resource")


def test_put_todo_into_agenda_is_supported_calendar_component_403(server, alice):
    r = put_ics(alice, server.url + "/dav/calendars/alice/s1.agenda/%s.ics" % uid(),
                todo_ics(uid(), "DUE:20240110T100000Z"))
    assert_precondition(r, 403, C_NS, "supported-calendar-component")


def test_put_event_into_actions_is_supported_calendar_component_403(server, alice):
    r = put_ics(alice, server.url + "/dav/calendars/alice/s1.actions/%s.ics" % uid(),
                event_ics(uid(), "DTSTART:20240110T100000Z"))
    assert_precondition(r, 403, C_NS, "supported-calendar-component")


def test_put_todo_into_actions_is_accepted(server, alice):
    r = put_ics(alice, server.url + "/dav/calendars/alice/s1.actions/%s.ics" % uid(),
                todo_ics(uid(), "SUMMARY:Rénover le préau", "DUE:20240601T100000Z"))
    assert r.status_code == 201, (r.status_code, r.text)


def test_put_same_uid_elsewhere_is_no_uid_conflict_with_href(cal, alice):
    u = uid()
    put_ok(alice, cal + "first.ics", event_ics(u, "DTSTART:20240110T100000Z"))
    r = put_ics(alice, cal + "second.ics", event_ics(u, "DTSTART:20240111T100000Z"))
    el = assert_precondition(r, 403, C_NS, "no-uid-conflict")
    assert [url_path(h) for h in hrefs_in(el)] == [url_path(cal) + "first.ics"]
    assert dav(alice, "GET", cal + "second.ics").status_code == 404


def test_put_same_uid_on_same_resource_replaces_it(cal, alice):
    u = uid()
    put_ok(alice, cal + "a.ics", event_ics(u, "DTSTART:20240110T100000Z"))
    r = put_ics(alice, cal + "a.ics", event_ics(u, "DTSTART:20240111T100000Z"))
    assert r.status_code == 204, (r.status_code, r.text)


def test_put_over_object_with_other_uid_is_no_uid_conflict(cal, alice):
    # RFC 4791 §5.3.2.1: nor "overwrite an existing calendar object
    # resource with one that has a different UID property value".
    first = uid()
    put_ok(alice, cal + "a.ics", event_ics(first, "DTSTART:20240110T100000Z"))
    r = put_ics(alice, cal + "a.ics", event_ics(uid(), "DTSTART:20240110T100000Z"))
    el = assert_precondition(r, 403, C_NS, "no-uid-conflict")
    assert [url_path(h) for h in hrefs_in(el)] == [url_path(cal) + "a.ics"]
    assert "UID:" + first in dav(alice, "GET", cal + "a.ics").text


def test_put_same_uid_in_another_calendar_is_accepted(server, cal, alice):
    u = uid()
    put_ok(alice, cal + "a.ics", event_ics(u, "DTSTART:20240110T100000Z"))
    other = new_calendar(server, alice)
    assert put_ics(alice, other + "a.ics",
                   event_ics(u, "DTSTART:20240110T100000Z")).status_code == 201


def _big_event():
    desc = "DESCRIPTION:" + "x" * (1024 * 1024 + 10)
    return event_ics(uid(), "DTSTART:20240110T100000Z", desc)


def test_put_over_one_mib_is_max_resource_size_403(cal, alice):
    r = put_ics(alice, cal + "big.ics", _big_event())
    assert_precondition(r, 403, C_NS, "max-resource-size")


def test_put_over_one_mib_chunked_is_max_resource_size_403(cal, alice):
    data = _big_event().encode()

    def chunks():
        for i in range(0, len(data), 65536):
            yield data[i:i + 65536]

    r = dav(alice, "PUT", cal + "bigc.ics", data=chunks(),
            headers={"Content-Type": "text/calendar"})
    assert_precondition(r, 403, C_NS, "max-resource-size")
    assert dav(alice, "GET", cal + "bigc.ics").status_code == 404


def test_put_if_none_match_star_creates_new(cal, alice):
    r = put_ics(alice, cal + "n.ics", event_ics(uid(), "DTSTART:20240110T100000Z"),
                headers={"If-None-Match": "*"})
    assert r.status_code == 201


def test_put_if_none_match_star_on_existing_is_412(cal, alice):
    u = uid()
    put_ok(alice, cal + "n.ics", event_ics(u, "DTSTART:20240110T100000Z"))
    r = put_ics(alice, cal + "n.ics", event_ics(u, "DTSTART:20240111T100000Z"),
                headers={"If-None-Match": "*"})
    assert r.status_code == 412
    assert b"20240110T100000Z" in dav(alice, "GET", cal + "n.ics").content


def test_put_if_match_current_etag_replaces(cal, alice):
    u = uid()
    etag = put_ok(alice, cal + "m.ics", event_ics(u, "DTSTART:20240110T100000Z")
                  ).headers["ETag"]
    r = put_ics(alice, cal + "m.ics", event_ics(u, "DTSTART:20240111T100000Z"),
                headers={"If-Match": etag})
    assert r.status_code == 204


def test_put_if_match_stale_etag_is_412(cal, alice):
    u = uid()
    old = put_ok(alice, cal + "m.ics", event_ics(u, "DTSTART:20240110T100000Z")
                 ).headers["ETag"]
    put_ok(alice, cal + "m.ics", event_ics(u, "DTSTART:20240111T100000Z"))
    r = put_ics(alice, cal + "m.ics", event_ics(u, "DTSTART:20240112T100000Z"),
                headers={"If-Match": old})
    assert r.status_code == 412
    assert b"20240111T100000Z" in dav(alice, "GET", cal + "m.ics").content


def test_put_returns_strong_etag_equal_to_get_and_stable(cal, alice):
    body = event_ics(uid(), "DTSTART:20240110T100000Z", "SUMMARY:stable")
    etag = put_ok(alice, cal + "e.ics", body).headers.get("ETag")
    assert etag and etag.startswith('"') and not etag.startswith("W/"), etag
    g1 = dav(alice, "GET", cal + "e.ics")
    g2 = dav(alice, "GET", cal + "e.ics")
    assert g1.headers["ETag"] == g2.headers["ETag"] == etag
    assert prop_of(alice, cal + "e.ics", DAV + "getetag").text == etag


def test_etag_changes_when_object_changes(cal, alice):
    u = uid()
    e1 = put_ok(alice, cal + "e.ics", event_ics(u, "DTSTART:20240110T100000Z")
                ).headers["ETag"]
    e2 = put_ok(alice, cal + "e.ics", event_ics(u, "DTSTART:20240111T100000Z")
                ).headers["ETag"]
    assert e1 != e2
    assert dav(alice, "GET", cal + "e.ics").headers["ETag"] == e2


def test_get_returns_the_object_as_text_calendar(cal, alice):
    body = event_ics(uid(), "DTSTART:20240110T100000Z", "SUMMARY:Fête de l'école")
    put_ok(alice, cal + "g.ics", body)
    r = dav(alice, "GET", cal + "g.ics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0].strip() == "text/calendar"
    assert r.content == body.encode()


# ================================================= updates, COPY and MOVE
# RFC 4791 §5.3.2.1: the preconditions of a PUT also hold for COPY and
# MOVE into a calendar; the reports must follow the objects.

ALL = '<C:comp-filter name="VCALENDAR"/>'


def test_update_moves_object_to_its_new_time(cal, alice):
    u = uid()
    put_ok(alice, cal + "a.ics", event_ics(u, "DTSTART:20240110T100000Z",
                                           "DURATION:PT1H"))
    put_ok(alice, cal + "a.ics", event_ics(u, "DTSTART:20240210T100000Z",
                                           "DURATION:PT1H"))
    assert query_names(alice, cal, range_filter("20240110T000000Z",
                                                "20240111T000000Z")) == []
    assert query_names(alice, cal, range_filter("20240210T000000Z",
                                                "20240211T000000Z")) == ["a.ics"]


def test_deleted_object_leaves_the_reports(cal, alice):
    put_ok(alice, cal + "a.ics", event_ics(uid(), "DTSTART:20240110T100000Z"))
    put_ok(alice, cal + "b.ics", event_ics(uid(), "DTSTART:20240110T100000Z"))
    assert dav(alice, "DELETE", cal + "b.ics").status_code == 204
    assert query_names(alice, cal, ALL) == ["a.ics"]


def test_renamed_object_is_queried_under_its_new_name(cal, alice):
    put_ok(alice, cal + "a.ics", event_ics(uid(), "DTSTART:20240110T100000Z"))
    r = dav(alice, "MOVE", cal + "a.ics", headers={"Destination": cal + "b.ics"})
    assert r.status_code == 201
    assert query_names(alice, cal, ALL) == ["b.ics"]


def test_object_moved_to_another_calendar_follows_in_queries(server, cal, alice):
    other = new_calendar(server, alice)
    put_ok(alice, cal + "m.ics", event_ics(uid(), "DTSTART:20240310T100000Z",
                                           "DURATION:PT1H"))
    r = dav(alice, "MOVE", cal + "m.ics", headers={"Destination": other + "m.ics"})
    assert r.status_code == 201
    assert query_names(alice, cal, ALL) == []
    assert query_names(alice, other, ALL) == ["m.ics"]
    assert query_names(alice, other, range_filter("20240310T000000Z",
                                                  "20240311T000000Z")) == ["m.ics"]


def test_object_moved_to_another_calendar_is_in_its_multiget(server, cal, alice):
    other = new_calendar(server, alice)
    put_ok(alice, cal + "m.ics", event_ics(uid(), "DTSTART:20240310T100000Z"))
    assert dav(alice, "MOVE", cal + "m.ics",
               headers={"Destination": other + "m.ics"}).status_code == 201
    r = report(alice, other, multiget_body([url_path(other) + "m.ics"], "<D:getetag/>"))
    (resp,) = parse_multistatus(r.content)
    assert resp.status != 404, r.text
    assert resp.ok_props()[DAV + "getetag"].text == \
        dav(alice, "GET", other + "m.ics").headers["ETag"]


def test_object_moved_out_of_calendar_leaves_its_queries(cal, coll, alice):
    put_ok(alice, cal + "a.ics", event_ics(uid(), "DTSTART:20240110T100000Z"))
    put_ok(alice, cal + "o.ics", event_ics(uid(), "DTSTART:20240310T100000Z"))
    assert dav(alice, "MOVE", cal + "o.ics",
               headers={"Destination": coll + "o.ics"}).status_code == 201
    resps = calendar_query(alice, cal, ALL)
    assert [x.path for x in resps] == [url_path(cal) + "a.ics"]


def test_object_copied_to_another_calendar_is_queryable(server, cal, alice):
    other = new_calendar(server, alice)
    put_ok(alice, cal + "c.ics", event_ics(uid(), "DTSTART:20240310T100000Z"))
    assert dav(alice, "COPY", cal + "c.ics",
               headers={"Destination": other + "c.ics"}).status_code == 201
    assert query_names(alice, cal, ALL) == ["c.ics"]
    assert query_names(alice, other, ALL) == ["c.ics"]


def test_copy_with_same_uid_in_same_calendar_is_no_uid_conflict(cal, alice):
    put_ok(alice, cal + "a.ics", event_ics(uid(), "DTSTART:20240110T100000Z"))
    r = dav(alice, "COPY", cal + "a.ics", headers={"Destination": cal + "dup.ics"})
    assert_precondition(r, 403, C_NS, "no-uid-conflict")
    assert dav(alice, "GET", cal + "dup.ics").status_code == 404


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_copy_or_move_over_object_with_other_uid_is_no_uid_conflict(
        method, server, cal, alice):
    other = new_calendar(server, alice)
    put_ok(alice, other + "a.ics", event_ics(uid(), "DTSTART:20240110T100000Z"))
    kept = uid()
    put_ok(alice, cal + "b.ics", event_ics(kept, "DTSTART:20240110T100000Z"))
    r = dav(alice, method, other + "a.ics",
            headers={"Destination": cal + "b.ics"})
    assert_precondition(r, 403, C_NS, "no-uid-conflict")
    assert "UID:" + kept in dav(alice, "GET", cal + "b.ics").text
    assert dav(alice, "GET", other + "a.ics").status_code == 200


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_copy_or_move_over_object_with_same_uid_replaces_it(
        method, server, cal, alice):
    u = uid()
    other = new_calendar(server, alice)
    put_ok(alice, other + "a.ics", event_ics(u, "DTSTART:20240112T100000Z"))
    put_ok(alice, cal + "b.ics", event_ics(u, "DTSTART:20240110T100000Z"))
    r = dav(alice, method, other + "a.ics",
            headers={"Destination": cal + "b.ics"})
    assert r.status_code == 204, (r.status_code, r.text)
    assert "20240112T100000Z" in dav(alice, "GET", cal + "b.ics").text


def test_copy_todo_into_agenda_is_supported_calendar_component_403(server, cal, alice):
    put_ok(alice, cal + "t.ics", todo_ics(uid(), "DUE:20240310T100000Z"))
    dest = server.url + "/dav/calendars/alice/s1.agenda/%s.ics" % uid()
    r = dav(alice, "COPY", cal + "t.ics", headers={"Destination": dest})
    assert_precondition(r, 403, C_NS, "supported-calendar-component")
    assert dav(alice, "GET", dest).status_code == 404


def test_move_of_non_calendar_file_into_calendar_is_refused(cal, coll, alice):
    assert dav(alice, "PUT", coll + "notes.ics", data=b"just some notes\n"
               ).status_code == 201
    r = dav(alice, "MOVE", coll + "notes.ics", headers={"Destination": cal + "notes.ics"})
    assert r.status_code == 403, r.status_code
    ns, name, _el = error_condition(r)
    assert (ns, name) in ((C_NS, "valid-calendar-data"),
                          (C_NS, "supported-calendar-data")), r.text
    assert dav(alice, "GET", cal + "notes.ics").status_code == 404


def test_put_of_count_rule_past_max_instances_is_refused(cal, alice):
    # RFC 4791 §5.3.2.1 CALDAV:max-instances: a COUNT rule of two billion
    # seconds would be walked from its start by every later query.
    r = put_ics(alice, cal + "dos.ics", event_ics(
        uid(), "DTSTART:19000101T000000Z",
        "RRULE:FREQ=SECONDLY;COUNT=2000000000"))
    assert_precondition(r, 403, C_NS, "max-instances")
    assert dav(alice, "GET", cal + "dos.ics").status_code == 404
    # The announced limit itself is accepted.
    put_ok(alice, cal + "ok.ics", event_ics(
        uid(), "DTSTART:20240101T090000Z", "DURATION:PT1H",
        "RRULE:FREQ=DAILY;COUNT=10000"))


def test_put_of_until_rule_past_max_instances_is_refused(cal, alice):
    # RFC 4791 §5.3.2.1 CALDAV:max-instances (10000): the instances of a
    # rule bounded by UNTIL count as those of a COUNT rule do.
    r = put_ics(alice, cal + "u.ics", event_ics(
        uid(), "DTSTART:20000101T100000Z", "DTEND:20000101T110000Z",
        "RRULE:FREQ=DAILY;UNTIL=20541001T100000Z"))
    assert_precondition(r, 403, C_NS, "max-instances")
    assert dav(alice, "GET", cal + "u.ics").status_code == 404
    # 10000 days from DTSTART, the last one included: the limit itself.
    last = datetime.datetime(2000, 1, 1, 10) + datetime.timedelta(days=9999)
    put_ok(alice, cal + "ok.ics", event_ics(
        uid(), "DTSTART:20000101T100000Z", "DTEND:20000101T110000Z",
        "RRULE:FREQ=DAILY;UNTIL=" + last.strftime("%Y%m%dT%H%M%SZ")))


@pytest.mark.parametrize("lines", [
    ("DTSTART:18991231T230000Z", "DTEND:19000101T010000Z"),
    ("DTSTART:20240110T100000Z", "RDATE:18500101T100000Z"),
    ("DTSTART;VALUE=DATE:18000101",),
], ids=["starts-before", "rdate-before", "all-day"])
def test_put_before_min_date_time_is_refused(lines, cal, alice):
    # RFC 4791 §5.3.2.1 CALDAV:min-date-time (announced: 19000101T000000Z).
    r = put_ics(alice, cal + "old.ics", event_ics(uid(), *lines))
    assert_precondition(r, 403, C_NS, "min-date-time")
    assert dav(alice, "GET", cal + "old.ics").status_code == 404


@pytest.mark.parametrize("lines", [
    ("DTSTART:21001231T230000Z", "DTEND:21010101T010000Z"),
    ("DTSTART:20240110T100000Z", "RRULE:FREQ=YEARLY;UNTIL=22000101T000000Z"),
    ("DTSTART:20240110T100000Z", "RRULE:FREQ=YEARLY;COUNT=100"),
    # Beyond any date: counted as ten thousand years, not wrapped around
    # into a length of nothing (nor walked through month by month).
    ("DTSTART:20240110T100000Z", "DURATION:P400000000W"),
    ("DTSTART;TZID=Europe/Paris:20240110T100000", "DURATION:P300000000W",
     "RRULE:FREQ=DAILY;COUNT=30"),
], ids=["ends-after", "until-after", "count-after", "weeks-beyond",
        "weeks-beyond-series"])
def test_put_after_max_date_time_is_refused(lines, cal, alice):
    # RFC 4791 §5.3.2.1 CALDAV:max-date-time (announced: 21001231T235959Z).
    r = put_ics(alice, cal + "late.ics", event_ics(uid(), *lines))
    assert_precondition(r, 403, C_NS, "max-date-time")
    assert dav(alice, "GET", cal + "late.ics").status_code == 404


def test_put_within_the_date_limits_or_endless_is_accepted(cal, alice):
    put_ok(alice, cal + "first.ics", event_ics(
        uid(), "DTSTART:19000101T000000Z", "DTEND:19000101T010000Z"))
    put_ok(alice, cal + "last.ics", event_ics(
        uid(), "DTSTART:21001231T220000Z", "DTEND:21001231T230000Z"))
    # An endless series has no last instance to judge.
    put_ok(alice, cal + "endless.ics", event_ics(
        uid(), "DTSTART:20240110T100000Z", "RRULE:FREQ=YEARLY"))


@pytest.mark.parametrize("summary", [b"caf\xe9", b"a\x1bc", b"nul\x00l",
                                     b"\xed\xa0\x80surrogate"],
                         ids=["latin1", "escape", "nul", "surrogate"])
def test_put_of_non_utf8_or_control_text_is_refused(summary, cal, alice):
    # RFC 5545 §3.1.4 (UTF-8) and §3.3.11 (no CONTROL in TEXT): such bytes
    # would make every later calendar-query body ill-formed XML.
    body = event_ics(uid(), "DTSTART:20240301T100000Z", "SUMMARY:@@"
                     ).encode().replace(b"@@", summary)
    r = put_ics(alice, cal + "bad.ics", body)
    assert_precondition(r, 403, C_NS, "valid-calendar-data")
    assert dav(alice, "GET", cal + "bad.ics").status_code == 404
    # Tabs and any UTF-8 letter remain fine, and the report stays parseable.
    put_ok(alice, cal + "good.ics", event_ics(
        uid(), "DTSTART:20240301T100000Z", "SUMMARY:caf\u00e9\tR\u00e9union \U0001f389"))
    assert query_names(alice, cal, range_filter(
        "20240301T000000Z", "20240302T000000Z")) == ["good.ics"]


# ============================================== calendar-query: the filters


@pytest.fixture
def mixed(cal, alice):
    """Three events and two to-dos (see each line), for the filter tests."""
    put_ok(alice, cal + "ev1.ics", event_ics(
        "ev1-" + uid(), "DTSTART:20240110T100000Z", "DTEND:20240110T110000Z",
        "SUMMARY:Réunion\\, équipe Habitat", "LOCATION:Mairie",
        "CATEGORIES:habitat,mobilité",
        "ATTENDEE;PARTSTAT=ACCEPTED;CN=Jean Dupont:mailto:jean@example.org",
        'ORGANIZER;CN="Dupont, Marie":mailto:marie@example.org'))
    put_ok(alice, cal + "ev2.ics", event_ics(
        "ev2-" + uid(), "DTSTART:20240111T100000Z", "DTEND:20240111T110000Z",
        "SUMMARY:réunion ÉQUIPE mobilité",
        "ATTENDEE;PARTSTAT=DECLINED:mailto:paul@example.org",
        "X-PARVIS-COST;CURRENCY=EUR:12500.00"))
    put_ok(alice, cal + "ev3.ics", vcalendar(vevent(
        "ev3-" + uid(), "DTSTART:20240112T140000Z", "DTEND:20240112T150000Z",
        "SUMMARY:Visite chantier", "LOCATION:Gare",
        "BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:rappel",
        "TRIGGER:-PT15M", "END:VALARM")))
    put_ok(alice, cal + "td1.ics", todo_ics(
        "td1-" + uid(), "SUMMARY:Réunion budget", "DUE:20240115T120000Z",
        "STATUS:NEEDS-ACTION", "X-PARVIS-COST;CURRENCY=EUR:900.00"))
    put_ok(alice, cal + "td2.ics", todo_ics(
        "td2-" + uid(), "SUMMARY:Rapport annuel", "STATUS:COMPLETED",
        "COMPLETED:20240105T120000Z"))
    return cal


def prop_filter(name, inner=""):
    return '<C:prop-filter name="%s">%s</C:prop-filter>' % (name, inner)


def text_match(text, collation=None, negate=None):
    attrs = ""
    if collation:
        attrs += ' collation="%s"' % collation
    if negate:
        attrs += ' negate-condition="%s"' % negate
    return "<C:text-match%s>%s</C:text-match>" % (attrs, text)


def param_filter(name, inner=""):
    return '<C:param-filter name="%s">%s</C:param-filter>' % (name, inner)


def test_filter_vcalendar_matches_every_object(mixed, alice):
    assert query_names(alice, mixed, '<C:comp-filter name="VCALENDAR"/>') == \
        ["ev1.ics", "ev2.ics", "ev3.ics", "td1.ics", "td2.ics"]


def test_filter_vevent_matches_events_only(mixed, alice):
    assert query_names(alice, mixed, comp_filter(name="VEVENT")) == \
        ["ev1.ics", "ev2.ics", "ev3.ics"]


def test_filter_vtodo_matches_todos_only(mixed, alice):
    assert query_names(alice, mixed, comp_filter(name="VTODO")) == \
        ["td1.ics", "td2.ics"]


def test_filter_comp_is_not_defined(mixed, alice):
    assert query_names(alice, mixed, comp_filter("<C:is-not-defined/>",
                                                 name="VTODO")) == \
        ["ev1.ics", "ev2.ics", "ev3.ics"]


def test_filter_nested_valarm_comp_filter(mixed, alice):
    f = ('<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
         '<C:comp-filter name="VALARM"/></C:comp-filter></C:comp-filter>')
    assert query_names(alice, mixed, f) == ["ev3.ics"]


def _alarm(*lines):
    return ("BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:x") + lines + \
        ("END:VALARM",)


@pytest.fixture
def alarms(server, alice):
    url = new_calendar(server, alice)
    ev = ("DTSTART:20240110T100000Z", "DTEND:20240110T110000Z")
    put_ok(alice, url + "before-start.ics", vcalendar(vevent(
        "al1-" + uid(), *ev, *_alarm("TRIGGER:-PT15M"))))
    put_ok(alice, url + "after-end.ics", vcalendar(vevent(
        "al2-" + uid(), *ev, *_alarm("TRIGGER;RELATED=END:PT5M"))))
    put_ok(alice, url + "absolute.ics", vcalendar(vevent(
        "al3-" + uid(), *ev, *_alarm(
            "TRIGGER;VALUE=DATE-TIME:20240109T080000Z", "REPEAT:2",
            "DURATION:PT1H"))))
    put_ok(alice, url + "series.ics", vcalendar(vevent(
        "al4-" + uid(), *ev, "RRULE:FREQ=DAILY;COUNT=5",
        *_alarm("TRIGGER:-PT1H"))))
    put_ok(alice, url + "endless.ics", vcalendar(vevent(
        "al5-" + uid(), "DTSTART:20240201T100000Z", "DTEND:20240201T110000Z",
        "RRULE:FREQ=DAILY", *_alarm("TRIGGER:-P1D"))))
    put_ok(alice, url + "none.ics", vcalendar(vevent("al6-" + uid(), *ev)))
    return url


@pytest.mark.parametrize("window,hits", [
    (("20240110T094000Z", "20240110T095000Z"), ["before-start.ics"]),
    (("20240110T093000Z", "20240110T094500Z"), []),     # end excluded
    (("20240110T110000Z", "20240110T111000Z"), ["after-end.ics"]),
    (("20240109T093000Z", "20240109T103000Z"), ["absolute.ics"]),
    (("20240109T100000Z", "20240109T100001Z"), ["absolute.ics"]),  # 2nd repeat
    (("20240109T100001Z", "20240109T110000Z"), []),     # no 3rd repeat
    (("20240113T083000Z", "20240113T093000Z"), ["series.ics"]),
    (("20240115T083000Z", "20240115T093000Z"), []),     # after COUNT
    (("20300610T093000Z", "20300610T103000Z"), ["endless.ics"]),
])
def test_valarm_time_range_matches_trigger_times(window, hits, alarms,
                                                 alice):
    # RFC 4791 §9.9, VALARM: start <= trigger time < end, for the triggers
    # of each instance (RFC 5545 §3.8.6.3 TRIGGER, RELATED, REPEAT).
    f = ('<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
         '<C:comp-filter name="VALARM">%s</C:comp-filter>'
         '</C:comp-filter></C:comp-filter>' % time_range(*window))
    assert query_names(alice, alarms, f) == sorted(hits)


def test_valarm_time_range_of_a_todo_related_to_due(cal, alice):
    put_ok(alice, cal + "t.ics", vcalendar(vtodo(
        "alt-" + uid(), "DUE:20240110T100000Z",
        *_alarm("TRIGGER;RELATED=END:-PT30M"))))
    f = ('<C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO">'
         '<C:comp-filter name="VALARM">%s</C:comp-filter>'
         '</C:comp-filter></C:comp-filter>')
    assert query_names(alice, cal, f % time_range(
        "20240110T092000Z", "20240110T094000Z")) == ["t.ics"]
    assert query_names(alice, cal, f % time_range(
        "20240110T094000Z", "20240110T100000Z")) == []


def test_filter_prop_defined(mixed, alice):
    assert query_names(alice, mixed, comp_filter(prop_filter("LOCATION"))) == \
        ["ev1.ics", "ev3.ics"]


def test_filter_prop_is_not_defined(mixed, alice):
    assert query_names(alice, mixed, comp_filter(
        prop_filter("LOCATION", "<C:is-not-defined/>"))) == ["ev2.ics"]


def test_text_match_default_collation_is_ascii_casemap(mixed, alice):
    # No collation given: i;ascii-casemap (RFC 4791 §7.5.1), so "UNION"
    # matches "Réunion" (ev1) and "réunion" (ev2).
    assert query_names(alice, mixed, comp_filter(
        prop_filter("SUMMARY", text_match("UNION")))) == ["ev1.ics", "ev2.ics"]


def test_text_match_ascii_casemap_does_not_fold_accents(mixed, alice):
    # ÉQUIPE vs équipe: É/é are not ASCII letters: only ev2 (ÉQUIPE).
    assert query_names(alice, mixed, comp_filter(
        prop_filter("SUMMARY", text_match("ÉQUIPE", "i;ascii-casemap")))) == \
        ["ev2.ics"]


def test_text_match_unicode_casemap_folds_accents(mixed, alice):
    assert query_names(alice, mixed, comp_filter(
        prop_filter("SUMMARY", text_match("ÉQUIPE", "i;unicode-casemap")))) == \
        ["ev1.ics", "ev2.ics"]


def test_text_match_octet_is_case_sensitive(mixed, alice):
    assert query_names(alice, mixed, comp_filter(
        prop_filter("SUMMARY", text_match("Réunion", "i;octet")))) == ["ev1.ics"]
    assert query_names(alice, mixed, comp_filter(
        prop_filter("SUMMARY", text_match("réunion", "i;octet")))) == ["ev2.ics"]


def test_text_match_unknown_collation_is_412_supported_collation(mixed, alice):
    r = report(alice, mixed, query_body(comp_filter(
        prop_filter("SUMMARY", text_match("x", "i;klingon")))))
    assert_precondition(r, 412, C_NS, "supported-collation")


def test_text_match_negate_condition(mixed, alice):
    assert query_names(alice, mixed, comp_filter(
        prop_filter("SUMMARY", text_match("réunion", negate="yes")))) == ["ev3.ics"]


def test_text_match_negate_condition_no_is_plain_match(mixed, alice):
    assert query_names(alice, mixed, comp_filter(
        prop_filter("SUMMARY", text_match("réunion", negate="no")))) == \
        ["ev1.ics", "ev2.ics"]


def test_text_match_on_todo_summary(mixed, alice):
    assert query_names(alice, mixed, comp_filter(
        prop_filter("SUMMARY", text_match("budget")), name="VTODO")) == ["td1.ics"]


def test_text_match_against_unescaped_text_value(mixed, alice):
    # ev1's SUMMARY is "Réunion\, équipe Habitat" on the wire, i.e. the
    # text "Réunion, équipe Habitat" (RFC 5545 §3.3.11): the match is on
    # the value, not its escaped form.
    assert query_names(alice, mixed, comp_filter(
        prop_filter("SUMMARY", text_match("Réunion, équipe")))) == ["ev1.ics"]


def test_text_match_on_one_of_several_categories(mixed, alice):
    assert query_names(alice, mixed, comp_filter(
        prop_filter("CATEGORIES", text_match("mobilité")))) == ["ev1.ics"]


def test_text_match_on_x_property(mixed, alice):
    assert query_names(alice, mixed, comp_filter(
        prop_filter("X-PARVIS-COST", text_match("12500")))) == ["ev2.ics"]


def test_param_filter_text_match(mixed, alice):
    assert query_names(alice, mixed, comp_filter(prop_filter(
        "ATTENDEE", param_filter("PARTSTAT", text_match("ACCEPTED", "i;octet"))))) == \
        ["ev1.ics"]


def test_param_filter_is_not_defined(mixed, alice):
    assert query_names(alice, mixed, comp_filter(prop_filter(
        "ATTENDEE", param_filter("CN", "<C:is-not-defined/>")))) == ["ev2.ics"]


def test_param_filter_on_quoted_value(mixed, alice):
    assert query_names(alice, mixed, comp_filter(prop_filter(
        "ORGANIZER", param_filter("CN", text_match("Dupont, Marie", "i;octet"))))) == \
        ["ev1.ics"]


def test_param_filter_on_parameter_of_x_property(mixed, alice):
    # CURRENCY is an (unregistered) iana-param of X-PARVIS-COST.
    assert query_names(alice, mixed, comp_filter(prop_filter(
        "X-PARVIS-COST", param_filter("CURRENCY", text_match("EUR"))),
        name="VTODO")) == ["td1.ics"]


@pytest.fixture
def two_attendees(cal, alice):
    put_ok(alice, cal + "e.ics", event_ics(
        "att-" + uid(), "DTSTART:20240110T100000Z",
        'ATTENDEE;CN="Doe, John";PARTSTAT=ACCEPTED:mailto:john@example.org',
        "ATTENDEE;CN=Jane:mailto:jane@example.org"))
    return cal


def test_param_filter_is_tested_on_the_same_property_instance(
        two_attendees, alice):
    # RFC 4791 §9.7.2, §9.7.3: one ATTENDEE must satisfy the text-match
    # and the param-filter; Jane's has no PARTSTAT, John's is not Jane.
    assert query_names(alice, two_attendees, comp_filter(prop_filter(
        "ATTENDEE", text_match("jane@")
        + param_filter("PARTSTAT", text_match("ACCEPTED"))))) == []
    assert query_names(alice, two_attendees, comp_filter(prop_filter(
        "ATTENDEE", text_match("john@")
        + param_filter("PARTSTAT", text_match("ACCEPTED"))))) == ["e.ics"]


def test_param_is_not_defined_is_tested_on_the_same_property_instance(
        two_attendees, alice):
    assert query_names(alice, two_attendees, comp_filter(prop_filter(
        "ATTENDEE", text_match("jane@")
        + param_filter("PARTSTAT", "<C:is-not-defined/>")))) == ["e.ics"]
    assert query_names(alice, two_attendees, comp_filter(prop_filter(
        "ATTENDEE", text_match("john@")
        + param_filter("PARTSTAT", "<C:is-not-defined/>")))) == []


def test_param_filter_on_x_property_is_tested_on_its_own_line(cal, alice):
    # CURRENCY, which libical does not keep, is read on the line of the
    # property tested, not on another X-PARVIS-COST of the object; the
    # same goes for one in a component nested in the to-do.
    put_ok(alice, cal + "t.ics", todo_ics(
        "cost-" + uid(), "X-PARVIS-COST;CURRENCY=EUR:100.00",
        "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M",
        "DESCRIPTION:x", "X-PARVIS-COST;CURRENCY=CHF:300.00", "END:VALARM",
        "X-PARVIS-COST:200.00"))

    def hits(value, currency):
        return query_names(alice, cal, comp_filter(prop_filter(
            "X-PARVIS-COST", text_match(value)
            + param_filter("CURRENCY", text_match(currency))),
            name="VTODO"))
    assert hits("100.00", "EUR") == ["t.ics"]
    assert hits("200.00", "EUR") == []
    assert hits("200.00", "CHF") == []
    assert query_names(alice, cal, comp_filter(prop_filter(
        "X-PARVIS-COST", text_match("200.00")
        + param_filter("CURRENCY", "<C:is-not-defined/>")),
        name="VTODO")) == ["t.ics"]


def test_time_range_on_events(mixed, alice):
    assert query_names(alice, mixed, range_filter(
        "20240111T000000Z", "20240112T000000Z")) == ["ev2.ics"]


def test_time_range_open_end(mixed, alice):
    assert query_names(alice, mixed, range_filter(start="20240111T000000Z")) == \
        ["ev2.ics", "ev3.ics"]


def test_time_range_open_start(mixed, alice):
    assert query_names(alice, mixed, range_filter(end="20240111T000000Z")) == \
        ["ev1.ics"]


def test_time_range_bounds_are_start_inclusive_end_exclusive(mixed, alice):
    # ev1 is [10:00, 11:00): a range ending at 10:00 or starting at 11:00
    # does not overlap it.
    assert query_names(alice, mixed, range_filter(
        "20240110T090000Z", "20240110T100000Z")) == []
    assert query_names(alice, mixed, range_filter(
        "20240110T110000Z", "20240110T120000Z")) == []
    assert query_names(alice, mixed, range_filter(
        "20240110T105959Z", "20240110T110000Z")) == ["ev1.ics"]


def test_time_range_and_prop_filter_combined(mixed, alice):
    f = comp_filter(time_range("20240101T000000Z", "20240201T000000Z"),
                    prop_filter("LOCATION", text_match("gare")))
    assert query_names(alice, mixed, f) == ["ev3.ics"]


def test_query_without_filter_is_400(mixed, alice):
    r = report(alice, mixed, '<C:calendar-query xmlns:D="DAV:" xmlns:C="%s">'
                             '<D:prop><D:getetag/></D:prop></C:calendar-query>' % C_NS)
    assert r.status_code in (400, 403), r.status_code


def test_query_with_depth_0_on_the_calendar_has_no_member(mixed, alice):
    # RFC 4791 §7.8: Depth: 0 applies the query to the collection itself.
    assert calendar_query(alice, mixed, comp_filter(), depth="0") == []
    assert names(calendar_query(alice, mixed, comp_filter(), depth="1")) == \
        ["ev1.ics", "ev2.ics", "ev3.ics"]


def test_query_with_depth_0_on_an_object_answers_for_it(mixed, alice):
    (resp,) = calendar_query(alice, mixed + "ev2.ics", comp_filter(),
                             depth="0")
    assert resp.path.endswith("/ev2.ics")


def test_query_returns_full_calendar_data(mixed, alice):
    resps = calendar_query(alice, mixed, range_filter(
        "20240111T000000Z", "20240112T000000Z"), "<D:getetag/><C:calendar-data/>")
    assert len(resps) == 1
    got = calendar_data(resps[0]).replace("\r\n", "\n")
    assert got == dav(alice, "GET", mixed + "ev2.ics").text.replace("\r\n", "\n")
    assert resps[0].ok_props()[DAV + "getetag"].text == \
        dav(alice, "GET", mixed + "ev2.ics").headers["ETag"]


def test_query_partial_calendar_data(mixed, alice):
    sel = ('<C:calendar-data><C:comp name="VCALENDAR"><C:prop name="VERSION"/>'
           '<C:comp name="VEVENT"><C:prop name="UID"/><C:prop name="SUMMARY"/>'
           '</C:comp></C:comp></C:calendar-data>')
    resps = calendar_query(alice, mixed, range_filter(
        "20240112T000000Z", "20240113T000000Z"), sel)
    assert len(resps) == 1
    vcal = parse_ical(calendar_data(resps[0]))
    assert [p[0] for p in vcal.props] == ["VERSION"]
    (ev,) = vcal.children
    assert ev.name == "VEVENT"
    assert sorted(p[0] for p in ev.props) == ["SUMMARY", "UID"]
    assert ev.value("SUMMARY") == "Visite chantier"
    assert ev.children == []   # the VALARM is not selected


def test_query_partial_calendar_data_with_novalue(mixed, alice):
    # RFC 4791 §9.6.4: novalue="yes" returns the property without its value.
    sel = ('<C:calendar-data><C:comp name="VCALENDAR"><C:allprop/>'
           '<C:comp name="VEVENT"><C:prop name="UID"/>'
           '<C:prop name="SUMMARY" novalue="yes"/>'
           '<C:prop name="DTSTART" novalue="yes"/>'
           '<C:prop name="ATTENDEE" novalue="yes"/>'
           '<C:prop name="LOCATION" novalue="no"/>'
           '</C:comp></C:comp></C:calendar-data>')
    (resp,) = calendar_query(alice, mixed, range_filter(
        "20240110T000000Z", "20240110T235959Z"), sel)
    (ev,) = parse_ical(calendar_data(resp)).walk("VEVENT")
    assert sorted(p[0] for p in ev.props) == [
        "ATTENDEE", "DTSTART", "LOCATION", "SUMMARY", "UID"]
    assert ev.value("UID").startswith("ev1-")
    assert (ev.value("SUMMARY"), ev.value("DTSTART"), ev.value("ATTENDEE"),
            ev.value("LOCATION")) == ("", "", "", "Mairie")
    # Parameters stay, and no VALUE parameter is added to a default type.
    assert ev.all("ATTENDEE")[0][1] == {"PARTSTAT": "ACCEPTED",
                                        "CN": "Jean Dupont"}
    assert ev.all("DTSTART")[0][1] == {}


# ==================================================== time ranges and recurrence


def test_weekly_event_with_override_and_exdate_expands(cal, alice):
    # Mondays 10:00 Paris (09:00Z) from 8 Jan 2024, 5 times: 8, 15, 22, 29
    # Jan, 5 Feb. 22 Jan is excluded; 15 Jan is moved to Wed 17 Jan 14:00.
    u = "weekly-" + uid()
    put_ok(alice, cal + "w.ics", _weekly_with_exception(u))
    got = expanded_instances(alice, cal, "20240101T000000Z", "20240301T000000Z")
    assert got == [
        (u, "20240108T090000Z", "20240108T090000Z", "Point hebdo"),
        (u, "20240117T130000Z", "20240115T090000Z", "Point hebdo (déplacé)"),
        (u, "20240129T090000Z", "20240129T090000Z", "Point hebdo"),
        (u, "20240205T090000Z", "20240205T090000Z", "Point hebdo"),
    ]


def _weekly_with_exception(u):
    return vcalendar(
        vevent(u, "DTSTART;TZID=Europe/Paris:20240108T100000",
               "DTEND;TZID=Europe/Paris:20240108T110000",
               "RRULE:FREQ=WEEKLY;COUNT=5",
               "EXDATE;TZID=Europe/Paris:20240122T100000",
               "SUMMARY:Point hebdo"),
        vevent(u, "RECURRENCE-ID;TZID=Europe/Paris:20240115T100000",
               "DTSTART;TZID=Europe/Paris:20240117T140000",
               "DTEND;TZID=Europe/Paris:20240117T150000",
               "SUMMARY:Point hebdo (déplacé)"),
        extra=VTZ_PARIS)


@pytest.mark.parametrize("day,hit", [
    ("20240108", True),    # first instance
    ("20240115", False),   # moved away
    ("20240117", True),    # moved here
    ("20240122", False),   # EXDATE
    ("20240129", True),
    ("20240205", True),    # fifth and last (COUNT=5)
    ("20240212", False),   # after the COUNT
    ("20240109", False),   # a day without instance
])
def test_weekly_event_with_override_and_exdate_time_range(day, hit, cal, alice):
    put_ok(alice, cal + "w.ics", _weekly_with_exception("weekly-" + uid()))
    nxt = "%08d" % (int(day) + 1)
    got = query_names(alice, cal, range_filter(day + "T000000Z", nxt + "T000000Z"))
    assert got == (["w.ics"] if hit else [])


def test_expanded_instances_carry_no_recurrence_rules(cal, alice):
    put_ok(alice, cal + "w.ics", _weekly_with_exception("weekly-" + uid()))
    resps = calendar_query(alice, cal, range_filter("20240101T000000Z",
                                                    "20240301T000000Z"),
                           expand_prop("20240101T000000Z", "20240301T000000Z"))
    vcal = parse_ical(calendar_data(resps[0]))
    assert vcal.walk("VTIMEZONE") == []
    for ev in vcal.walk("VEVENT"):
        assert not ev.all("RRULE") and not ev.all("EXDATE") and not ev.all("RDATE")
        for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
            assert ev.value(name).endswith("Z"), ev
            assert ev.param(name, "TZID") is None, ev


def test_expand_window_limits_instances(cal, alice):
    u = "weekly-" + uid()
    put_ok(alice, cal + "w.ics", _weekly_with_exception(u))
    got = expanded_instances(alice, cal, "20240125T000000Z", "20240201T000000Z")
    assert got == [(u, "20240129T090000Z", "20240129T090000Z", "Point hebdo")]


@pytest.mark.parametrize("attrs", [' start="20240101T000000Z"',
                                   ' end="20240301T000000Z"', ""])
def test_expand_without_start_and_end_is_400_valid_filter(attrs, cal, alice):
    # RFC 4791 §9.6.5: both attributes of C:expand are required (unlike a
    # C:time-range, §9.9); refused with the precondition of a bad
    # time-range.
    put_ok(alice, cal + "w.ics", _weekly_with_exception("weekly-" + uid()))
    prop = "<C:calendar-data><C:expand%s/></C:calendar-data>" % attrs
    f = range_filter("20240101T000000Z", "20240301T000000Z")
    r = report(alice, cal, query_body(f, prop))
    assert_precondition(r, 400, C_NS, "valid-filter")
    r = report(alice, cal, multiget_body([url_path(cal + "w.ics")], prop))
    assert_precondition(r, 400, C_NS, "valid-filter")
    # An open-ended time-range in the filter stays valid.
    assert query_names(alice, cal, range_filter("20240101T000000Z")) == \
        ["w.ics"]


def test_time_range_and_prop_filter_find_an_override(cal, alice):
    # RFC 4791 §9.7.1: a comp-filter matches when any component of that
    # name satisfies all of it.  Here only the override has the summary,
    # and both the master and the override overlap the range.
    u = "standup-" + uid()
    put_ok(alice, cal + "s.ics", vcalendar(
        vevent(u, "DTSTART:20240108T090000Z", "DTEND:20240108T093000Z",
               "RRULE:FREQ=WEEKLY;COUNT=5", "SUMMARY:Standup"),
        vevent(u, "RECURRENCE-ID:20240115T090000Z",
               "DTSTART:20240116T090000Z", "DTEND:20240116T093000Z",
               "SUMMARY:Moved standup")))
    f = comp_filter(time_range("20240101T000000Z", "20240201T000000Z"),
                    '<C:prop-filter name="SUMMARY"><C:text-match>Moved'
                    '</C:text-match></C:prop-filter>')
    assert query_names(alice, cal, f) == ["s.ics"]
    f = comp_filter(time_range("20240101T000000Z", "20240201T000000Z"),
                    '<C:prop-filter name="SUMMARY"><C:text-match>Nowhere'
                    '</C:text-match></C:prop-filter>')
    assert query_names(alice, cal, f) == []


def _series_with_overrides(u):
    """Daily 09:00Z from 1 March 2024, 10 times, with three overrides:
    3 March moved to 20 March (impacts both days), 5 March kept on its day,
    and 8 March RANGE=THISANDFUTURE (impacts every later day)."""
    return vcalendar(
        vevent(u, "DTSTART:20240301T090000Z", "DTEND:20240301T100000Z",
               "RRULE:FREQ=DAILY;COUNT=10", "SUMMARY:Master"),
        vevent(u, "RECURRENCE-ID:20240303T090000Z",
               "DTSTART:20240320T090000Z", "DTEND:20240320T100000Z",
               "SUMMARY:Moved"),
        vevent(u, "RECURRENCE-ID:20240305T090000Z",
               "DTSTART:20240305T140000Z", "DTEND:20240305T150000Z",
               "SUMMARY:Later"),
        vevent(u, "RECURRENCE-ID;RANGE=THISANDFUTURE:20240308T090000Z",
               "DTSTART:20240308T110000Z", "DTEND:20240308T120000Z",
               "SUMMARY:From now on"))


@pytest.mark.parametrize("start,end,kept", [
    # RFC 4791 §9.6.6: the master, plus the overridden components whose new
    # or original times overlap the range, or that change later instances
    # (THISANDFUTURE) overlapping it.
    ("20240305T000000Z", "20240306T000000Z", ["Later"]),
    ("20240303T000000Z", "20240304T000000Z", ["Moved"]),      # original day
    ("20240320T000000Z", "20240321T000000Z", ["Moved"]),     # new day
    ("20240309T000000Z", "20240310T000000Z", ["From now on"]),
    ("20240401T000000Z", "20240402T000000Z", []),  # after the last instance
    ("20240201T000000Z", "20240202T000000Z", []),
])
def test_limit_recurrence_set_keeps_master_and_impacting_overrides(
        start, end, kept, cal, alice):
    u = "limit-" + uid()
    put_ok(alice, cal + "l.ics", _series_with_overrides(u))
    prop = ('<C:calendar-data><C:limit-recurrence-set start="%s" end="%s"/>'
            '</C:calendar-data>' % (start, end))
    for r in (report(alice, cal, query_body(comp_filter(), prop)),
              report(alice, cal, multiget_body([url_path(cal + "l.ics")],
                                               prop))):
        assert r.status_code == 207, r.text
        (resp,) = parse_multistatus(r.content)
        vcal = parse_ical(calendar_data(resp))
        events = vcal.walk("VEVENT")
        masters = [e for e in events if e.value("RECURRENCE-ID") is None]
        assert [m.value("SUMMARY") for m in masters] == ["Master"]
        assert masters[0].value("RRULE") == "FREQ=DAILY;COUNT=10"
        assert sorted(e.value("SUMMARY") for e in events
                      if e.value("RECURRENCE-ID") is not None) == kept


@pytest.mark.parametrize("elem", ["limit-recurrence-set", "limit-freebusy-set"])
@pytest.mark.parametrize("attrs", [' start="20240101T000000Z"',
                                   ' end="20240301T000000Z"',
                                   ' start="20240301T000000Z"'
                                   ' end="20240101T000000Z"'])
def test_limit_sets_need_a_valid_start_and_end(elem, attrs, cal, alice):
    # RFC 4791 §9.6.6 and §9.6.7: start and end are both required.
    put_ok(alice, cal + "l.ics", _series_with_overrides("limit-" + uid()))
    prop = "<C:calendar-data><C:%s%s/></C:calendar-data>" % (elem, attrs)
    r = report(alice, cal, query_body(comp_filter(), prop))
    assert_precondition(r, 400, C_NS, "valid-filter")


def test_limit_freebusy_set_keeps_only_overlapping_periods(server, alice):
    # RFC 4791 §9.6.7: only the FREEBUSY values overlapping the range.
    url = new_calendar(server, alice, body=mkcalendar_body(
        '<C:supported-calendar-component-set><C:comp name="VFREEBUSY"/>'
        '</C:supported-calendar-component-set>'))
    text = vcalendar(component(
        "VFREEBUSY", "fb-" + uid(),
        "DTSTART:20240101T000000Z", "DTEND:20240201T000000Z",
        "FREEBUSY:20240105T090000Z/20240105T100000Z",
        "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20240110T090000Z/PT2H",
        "FREEBUSY:20240120T090000Z/20240120T100000Z"))
    put_ok(alice, url + "fb.ics", text)
    prop = ('<C:calendar-data><C:limit-freebusy-set start="20240110T000000Z"'
            ' end="20240111T000000Z"/></C:calendar-data>')
    r = report(alice, url, query_body(comp_filter(name="VFREEBUSY"), prop))
    assert r.status_code == 207, r.text
    (resp,) = parse_multistatus(r.content)
    (fb,) = parse_ical(calendar_data(resp)).walk("VFREEBUSY")
    assert [p[2] for p in fb.all("FREEBUSY")] == ["20240110T090000Z/PT2H"]
    # Without the element, every period is there.
    r = report(alice, url, query_body(comp_filter(name="VFREEBUSY"),
                                      "<C:calendar-data/>"))
    (resp,) = parse_multistatus(r.content)
    (fb,) = parse_ical(calendar_data(resp)).walk("VFREEBUSY")
    assert len(fb.all("FREEBUSY")) == 3


def _freebusy_calendar(server, alice, *lines, events=False):
    """A calendar of VFREEBUSY (and VEVENT, with events) components holding
    fb.ics, one VFREEBUSY of LINES."""
    url = new_calendar(server, alice, body=mkcalendar_body(
        '<C:supported-calendar-component-set>'
        + ('<C:comp name="VEVENT"/>' if events else '')
        + '<C:comp name="VFREEBUSY"/></C:supported-calendar-component-set>'))
    put_ok(alice, url + "fb.ics", vcalendar(component(
        "VFREEBUSY", "fb-" + uid(), *lines)))
    return url


@pytest.mark.parametrize("window,hit", [
    (("20240105T093000Z", "20240105T094500Z"), True),
    (("20240120T093000Z", "20240120T100000Z"), True),
    (("20240105T100000Z", "20240105T120000Z"), False),
    (("20240110T000000Z", "20240111T000000Z"), False),
])
def test_vfreebusy_without_dtstart_dtend_matches_on_its_periods(
        window, hit, server, alice):
    # RFC 4791 §9.9: without DTSTART and DTEND, the FREEBUSY periods.
    url = _freebusy_calendar(
        server, alice, "FREEBUSY:20240105T090000Z/20240105T100000Z",
        "FREEBUSY:20240120T090000Z/PT1H")
    assert query_names(alice, url, range_filter(*window, comp="VFREEBUSY")) \
        == (["fb.ics"] if hit else [])


def test_vfreebusy_without_any_time_never_matches(server, alice):
    url = _freebusy_calendar(server, alice, "ORGANIZER:mailto:a@example.org")
    assert query_names(alice, url, range_filter(
        "20240101T000000Z", "20250101T000000Z", comp="VFREEBUSY")) == []


@pytest.mark.parametrize("window,hit", [
    (("20240201T000000Z", "20240202T000000Z"), True),   # DTEND included
    (("20231231T000000Z", "20240101T000000Z"), False),
    (("20240115T000000Z", "20240116T000000Z"), True),
])
def test_vfreebusy_with_dtstart_dtend_includes_dtend(window, hit, server,
                                                     alice):
    # RFC 4791 §9.9: (start <= DTEND) AND (end > DTSTART).
    url = _freebusy_calendar(server, alice, "DTSTART:20240101T000000Z",
                             "DTEND:20240201T000000Z")
    assert query_names(alice, url, range_filter(*window, comp="VFREEBUSY")) \
        == (["fb.ics"] if hit else [])


def test_weekly_event_across_spring_dst_change_in_paris(cal, alice):
    # 10:00 Paris: 09:00Z while CET (UTC+1), 08:00Z from 31 March 2024 (CEST).
    u = "dst-" + uid()
    put_ok(alice, cal + "d.ics", event_ics(
        u, "DTSTART;TZID=Europe/Paris:20240318T100000",
        "DTEND;TZID=Europe/Paris:20240318T103000", "RRULE:FREQ=WEEKLY;COUNT=4",
        "SUMMARY:Permanence", extra=VTZ_PARIS))
    got = expanded_instances(alice, cal, "20240301T000000Z", "20240501T000000Z")
    assert [(t[1], t[2]) for t in got] == [
        ("20240318T090000Z", "20240318T090000Z"),
        ("20240325T090000Z", "20240325T090000Z"),
        ("20240401T080000Z", "20240401T080000Z"),
        ("20240408T080000Z", "20240408T080000Z"),
    ]


def test_weekly_event_across_autumn_dst_change_in_paris(cal, alice):
    # Back to CET on 27 October 2024.
    put_ok(alice, cal + "d.ics", event_ics(
        "dst-" + uid(), "DTSTART;TZID=Europe/Paris:20241021T100000",
        "DURATION:PT30M", "RRULE:FREQ=WEEKLY;COUNT=3", extra=VTZ_PARIS))
    got = expanded_instances(alice, cal, "20241001T000000Z", "20241201T000000Z")
    assert [t[1] for t in got] == ["20241021T080000Z", "20241028T090000Z",
                                   "20241104T090000Z"]


def test_dst_instance_matches_time_range_in_utc(cal, alice):
    put_ok(alice, cal + "d.ics", event_ics(
        "dst-" + uid(), "DTSTART;TZID=Europe/Paris:20240318T100000",
        "DURATION:PT30M", "RRULE:FREQ=WEEKLY;COUNT=4", extra=VTZ_PARIS))
    # 1 April: 08:00Z-08:30Z; not at 09:00Z any more.
    assert query_names(alice, cal, range_filter("20240401T080000Z",
                                                "20240401T081500Z")) == ["d.ics"]
    assert query_names(alice, cal, range_filter("20240401T090000Z",
                                                "20240401T093000Z")) == []


def test_rrule_until_in_utc_includes_the_last_instance(cal, alice):
    # RFC 5545 §3.3.10: UNTIL is inclusive; with a TZID DTSTART it is given
    # in UTC.  Mondays 10:00 Paris = 09:00Z; UNTIL=15 Jan 09:00Z is the
    # third instance exactly.
    u = "until-" + uid()
    put_ok(alice, cal + "u.ics", event_ics(
        u, "DTSTART;TZID=Europe/Paris:20240101T100000", "DURATION:PT1H",
        "RRULE:FREQ=WEEKLY;UNTIL=20240115T090000Z", extra=VTZ_PARIS))
    got = expanded_instances(alice, cal, "20240101T000000Z", "20240201T000000Z")
    assert [t[1] for t in got] == ["20240101T090000Z", "20240108T090000Z",
                                   "20240115T090000Z"]


def test_daily_event_since_1995_matches_today(cal, alice):
    # An endless daily meeting: every day has an instance, however far
    # from DTSTART (RFC 4791 §9.9: every instance is considered).
    put_ok(alice, cal + "s.ics", event_ics(
        "standup-" + uid(), "DTSTART:19950102T080000Z", "DURATION:PT15M",
        "RRULE:FREQ=DAILY", "SUMMARY:Point du matin"))
    assert query_names(alice, cal, range_filter("20240603T000000Z",
                                                "20240604T000000Z")) == ["s.ics"]


def test_daily_event_since_1995_expands_today(cal, alice):
    u = "standup-" + uid()
    put_ok(alice, cal + "s.ics", event_ics(
        u, "DTSTART:19950102T080000Z", "DURATION:PT15M", "RRULE:FREQ=DAILY"))
    got = expanded_instances(alice, cal, "20240603T000000Z", "20240604T000000Z")
    assert [(t[0], t[1]) for t in got] == [(u, "20240603T080000Z")]


def test_endless_weekly_event_matches_years_later(cal, alice):
    put_ok(alice, cal + "w.ics", event_ics(
        "weekly-" + uid(), "DTSTART:20200106T090000Z", "DURATION:PT1H",
        "RRULE:FREQ=WEEKLY;BYDAY=MO"))
    # 2 June 2025 is a Monday; 3 June is not.
    assert query_names(alice, cal, range_filter("20250602T000000Z",
                                                "20250603T000000Z")) == ["w.ics"]
    assert query_names(alice, cal, range_filter("20250603T000000Z",
                                                "20250604T000000Z")) == []


def test_rdate_adds_instances(cal, alice):
    u = "rdate-" + uid()
    put_ok(alice, cal + "r.ics", event_ics(
        u, "DTSTART:20240501T100000Z", "DURATION:PT1H",
        "RDATE:20240503T100000Z,20240510T100000Z"))
    got = expanded_instances(alice, cal, "20240401T000000Z", "20240601T000000Z")
    assert [t[1] for t in got] == ["20240501T100000Z", "20240503T100000Z",
                                   "20240510T100000Z"]
    assert query_names(alice, cal, range_filter("20240502T000000Z",
                                                "20240503T000000Z")) == []
    assert query_names(alice, cal, range_filter("20240510T000000Z",
                                                "20240511T000000Z")) == ["r.ics"]


@pytest.mark.parametrize("period", ["20240110T100000Z/20240110T150000Z",
                                    "20240110T100000Z/PT5H"],
                         ids=["end", "duration"])
def test_rdate_period_instance_has_its_own_length(period, cal, alice):
    # RFC 5545 §3.8.5.2: a PERIOD gives its instance's end; RFC 4791 §9.9
    # matches on it.  The event itself lasts an hour.
    put_ok(alice, cal + "p.ics", event_ics(
        "per-" + uid(), "DTSTART:20240105T100000Z", "DTEND:20240105T110000Z",
        "RDATE;VALUE=PERIOD:" + period))
    assert query_names(alice, cal, range_filter(
        "20240110T140000Z", "20240110T143000Z")) == ["p.ics"]
    assert query_names(alice, cal, range_filter(
        "20240110T150000Z", "20240110T160000Z")) == []
    assert query_names(alice, cal, range_filter(
        "20240105T113000Z", "20240105T120000Z")) == []
    (resp,) = calendar_query(
        alice, cal, range_filter("20240110T000000Z", "20240111T000000Z"),
        expand_prop("20240110T000000Z", "20240111T000000Z"))
    (ev,) = parse_ical(calendar_data(resp)).walk("VEVENT")
    assert (ev.value("DTSTART"), ev.value("DTEND")) == (
        "20240110T100000Z", "20240110T150000Z")


def test_rdate_period_of_days_is_in_the_index_range(cal, alice):
    # The range indexed at PUT reaches the end of the longest instance.
    put_ok(alice, cal + "long.ics", event_ics(
        "long-" + uid(), "DTSTART:20240105T100000Z", "DTEND:20240105T110000Z",
        "RDATE;VALUE=PERIOD:20240110T100000Z/20240120T100000Z"))
    assert query_names(alice, cal, range_filter(
        "20240118T000000Z", "20240118T010000Z")) == ["long.ics"]
    assert query_names(alice, cal, range_filter(
        "20240118T000000Z", None)) == ["long.ics"]


def test_exdate_in_utc_excludes_zoned_instance(cal, alice):
    # Outlook writes EXDATE in UTC for a zoned DTSTART.
    put_ok(alice, cal + "x.ics", event_ics(
        "ex-" + uid(), "DTSTART;TZID=Europe/Paris:20240108T100000",
        "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=3", "EXDATE:20240109T090000Z",
        extra=VTZ_PARIS))
    got = expanded_instances(alice, cal, "20240101T000000Z", "20240201T000000Z")
    assert [t[1] for t in got] == ["20240108T090000Z", "20240110T090000Z"]


@pytest.mark.parametrize("tzid", ["W. Europe Standard Time", "Romance Standard Time"])
@pytest.mark.parametrize("date,utc", [("20240110", "20240110T090000Z"),
                                      ("20240710", "20240710T080000Z")])
def test_windows_tzid_without_vtimezone(tzid, date, utc, cal, alice):
    # As Outlook sends it: a Windows zone name and no VTIMEZONE.  Both are
    # UTC+1 in winter and UTC+2 in summer.
    u = "win-" + uid()
    put_ok(alice, cal + "w.ics", event_ics(
        u, "DTSTART;TZID=%s:%sT100000" % (tzid, date),
        "DTEND;TZID=%s:%sT110000" % (tzid, date)))
    got = expanded_instances(alice, cal, date + "T000000Z", date + "T235959Z")
    assert [(t[0], t[1]) for t in got] == [(u, utc)]


def test_windows_tzid_quoted_without_vtimezone(cal, alice):
    put_ok(alice, cal + "w.ics", event_ics(
        "win-" + uid(), 'DTSTART;TZID="Romance Standard Time":20240110T100000',
        "DURATION:PT1H"))
    assert query_names(alice, cal, range_filter("20240110T090000Z",
                                                "20240110T091500Z")) == ["w.ics"]
    assert query_names(alice, cal, range_filter("20240110T100000Z",
                                                "20240110T110000Z")) == []


@pytest.mark.parametrize("tzid,utc", [("Europe/Paris", "20240110T090000Z"),
                                      ("America/New_York", "20240110T150000Z"),
                                      ("Asia/Tokyo", "20240110T010000Z")])
def test_iana_tzid_without_vtimezone(tzid, utc, cal, alice):
    u = "iana-" + uid()
    put_ok(alice, cal + "i.ics", event_ics(
        u, "DTSTART;TZID=%s:20240110T100000" % tzid, "DURATION:PT1H"))
    got = expanded_instances(alice, cal, "20240109T000000Z", "20240112T000000Z")
    assert [t[1] for t in got] == [utc]


def test_vtimezone_of_the_object_is_used(cal, alice):
    # A zone of the object's own, fixed at UTC+3: 10:00 there is 07:00Z.
    tz = ("BEGIN:VTIMEZONE\r\nTZID:Parvis-Test-Plus3\r\nBEGIN:STANDARD\r\n"
          "DTSTART:19700101T000000\r\nTZOFFSETFROM:+0300\r\nTZOFFSETTO:+0300\r\n"
          "END:STANDARD\r\nEND:VTIMEZONE\r\n")
    put_ok(alice, cal + "v.ics", event_ics(
        "vtz-" + uid(), "DTSTART;TZID=Parvis-Test-Plus3:20240110T100000",
        "DURATION:PT1H", extra=tz))
    got = expanded_instances(alice, cal, "20240110T000000Z", "20240111T000000Z")
    assert [t[1] for t in got] == ["20240110T070000Z"]


def test_floating_time_is_read_as_utc(cal, alice):
    put_ok(alice, cal + "f.ics", event_ics(
        "float-" + uid(), "DTSTART:20240401T100000", "DTEND:20240401T110000"))
    assert query_names(alice, cal, range_filter("20240401T100000Z",
                                                "20240401T103000Z")) == ["f.ics"]
    assert query_names(alice, cal, range_filter("20240401T090000Z",
                                                "20240401T100000Z")) == []


def _fixed_zone(tzid, offset):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\n"
            "BEGIN:VTIMEZONE\r\nTZID:%s\r\nBEGIN:STANDARD\r\n"
            "DTSTART:19700101T000000\r\nTZOFFSETFROM:%s\r\n"
            "TZOFFSETTO:%s\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
            "END:VCALENDAR\r\n" % (tzid, offset, offset))


def _zoned_calendar(server, alice, tzid="Plus5", offset="+0500"):
    return new_calendar(server, alice, body=mkcalendar_body(
        "<C:calendar-timezone>%s</C:calendar-timezone>"
        % _fixed_zone(tzid, offset)))


def _query_in_zone(sess, url, filter_xml, zone_text):
    r = report(sess, url, query_body(filter_xml).replace(
        "</C:filter>", "</C:filter><C:timezone>%s</C:timezone>" % zone_text))
    assert r.status_code == 207, r.text
    return names(parse_multistatus(r.content))


def test_floating_time_is_read_in_the_calendar_timezone(server, alice):
    # RFC 4791 §7.3, §5.2.2: floating times in the calendar-timezone.
    url = _zoned_calendar(server, alice)
    put_ok(alice, url + "f.ics", event_ics(
        "flz-" + uid(), "DTSTART:20240110T003000", "DTEND:20240110T010000"))
    # 00:30+05:00 is 19:30Z the day before.
    assert query_names(alice, url, range_filter(
        "20240109T192000Z", "20240109T194000Z")) == ["f.ics"]
    assert query_names(alice, url, range_filter(
        "20240110T003000Z", "20240110T010000Z")) == []


def test_floating_series_is_read_in_the_calendar_timezone(server, alice):
    url = _zoned_calendar(server, alice)
    put_ok(alice, url + "s.ics", event_ics(
        "fls-" + uid(), "DTSTART:20240101T003000", "DTEND:20240101T010000",
        "RRULE:FREQ=DAILY"))
    assert query_names(alice, url, range_filter(
        "20250609T192000Z", "20250609T194000Z")) == ["s.ics"]
    assert query_names(alice, url, range_filter(
        "20250610T003000Z", "20250610T010000Z")) == []


def test_floating_time_is_read_in_the_query_timezone(server, alice, cal):
    # RFC 4791 §7.3, §9.8: the query's CALDAV:timezone comes first, over
    # the calendar's.
    put_ok(alice, cal + "f.ics", event_ics(
        "flq-" + uid(), "DTSTART:20240110T100000", "DTEND:20240110T110000"))
    minus10 = _fixed_zone("Minus10", "-1000")
    assert _query_in_zone(alice, cal, range_filter(
        "20240110T200000Z", "20240110T203000Z"), minus10) == ["f.ics"]
    assert _query_in_zone(alice, cal, range_filter(
        "20240110T100000Z", "20240110T110000Z"), minus10) == []
    url = _zoned_calendar(server, alice)
    put_ok(alice, url + "f.ics", event_ics(
        "flq2-" + uid(), "DTSTART:20240110T100000", "DTEND:20240110T110000"))
    assert _query_in_zone(alice, url, range_filter(
        "20240110T200000Z", "20240110T203000Z"), minus10) == ["f.ics"]


def test_all_day_event_is_read_in_the_calendar_timezone(server, alice):
    # RFC 4791 §9.9: a date is floating; in a calendar at +05:00 the day
    # 2024-01-10 runs from 19:00Z on the 9th to 19:00Z on the 10th.
    url = _zoned_calendar(server, alice)
    put_ok(alice, url + "d.ics", event_ics(
        "dlz-" + uid(), "DTSTART;VALUE=DATE:20240110",
        "DTEND;VALUE=DATE:20240111"))
    assert query_names(alice, url, range_filter(
        "20240109T190000Z", "20240109T193000Z")) == ["d.ics"]
    assert query_names(alice, url, range_filter(
        "20240110T190000Z", "20240110T200000Z")) == []
    # Without DTEND, one day from its start in that zone as well.
    put_ok(alice, url + "e.ics", event_ics(
        "dlz2-" + uid(), "DTSTART;VALUE=DATE:20240210"))
    assert query_names(alice, url, range_filter(
        "20240209T185000Z", "20240209T191000Z")) == ["e.ics"]
    assert query_names(alice, url, range_filter(
        "20240210T190000Z", "20240210T193000Z")) == []


def test_all_day_event_is_read_in_the_query_timezone(alice, cal):
    # A calendar without a zone reads a date as UTC (the all-day tests
    # below), a query with CALDAV:timezone in its zone: at -10:00 the day
    # 2024-01-10 runs from 10:00Z on the 10th to 10:00Z on the 11th.
    put_ok(alice, cal + "d.ics", event_ics(
        "dlq-" + uid(), "DTSTART;VALUE=DATE:20240110",
        "DTEND;VALUE=DATE:20240111"))
    minus10 = _fixed_zone("Minus10", "-1000")
    assert _query_in_zone(alice, cal, range_filter(
        "20240111T093000Z", "20240111T095900Z"), minus10) == ["d.ics"]
    assert _query_in_zone(alice, cal, range_filter(
        "20240110T000000Z", "20240110T095900Z"), minus10) == []
    assert query_names(alice, cal, range_filter(
        "20240110T000000Z", "20240110T095900Z")) == ["d.ics"]


def test_all_day_series_is_read_in_the_calendar_timezone(server, alice):
    url = _zoned_calendar(server, alice)
    put_ok(alice, url + "s.ics", event_ics(
        "dls-" + uid(), "DTSTART;VALUE=DATE:20240101",
        "DTEND;VALUE=DATE:20240102", "RRULE:FREQ=WEEKLY"))
    # 2025-06-09 is a Monday, as 2024-01-01 was: its day at +05:00 begins
    # at 19:00Z on Sunday the 8th.
    assert query_names(alice, url, range_filter(
        "20250608T190000Z", "20250608T191000Z")) == ["s.ics"]
    assert query_names(alice, url, range_filter(
        "20250609T190000Z", "20250609T200000Z")) == []


def test_query_timezone_that_is_no_vtimezone_is_400(cal, alice):
    r = report(alice, cal, query_body(comp_filter()).replace(
        "</C:filter>", "</C:filter><C:timezone>garbage</C:timezone>"))
    assert_precondition(r, 400, C_NS, "valid-calendar-data")


def test_free_busy_reads_floating_times_in_the_calendar_timezone(
        server, alice):
    # RFC 4791 §7.3: a free-busy-query uses the calendar-timezone.
    url = _zoned_calendar(server, alice)
    put_ok(alice, url + "f.ics", event_ics(
        "flf-" + uid(), "DTSTART:20240110T003000", "DTEND:20240110T010000"))
    r = report(alice, url, freebusy_body("20240109T000000Z",
                                         "20240111T000000Z"))
    assert r.status_code == 200, r.text
    (vfb,) = parse_ical(r.text).walk("VFREEBUSY")
    assert [p[2] for p in vfb.all("FREEBUSY")] == \
        ["20240109T193000Z/20240109T200000Z"]


# RFC 5545 §3.3.6: a day of a duration is nominal.  On 31 March 2024
# Paris moves from UTC+1 to UTC+2: 30 March 12:00 Paris is 11:00Z, 31
# March 12:00 Paris is 10:00Z, and the day 31 March runs in Paris from
# 23:00Z on the 30th to 22:00Z on the 31st (23 hours).


def _paris_calendar(server, alice):
    return new_calendar(server, alice, body=mkcalendar_body(
        "<C:calendar-timezone>%s</C:calendar-timezone>"
        % vcalendar(extra=VTZ_PARIS)))


def test_duration_of_a_day_across_dst_ends_at_the_same_local_time(
        cal, alice):
    put_ok(alice, cal + "d.ics", event_ics(
        "p1d-" + uid(), "DTSTART;TZID=Europe/Paris:20240330T120000",
        "DURATION:P1D", extra=VTZ_PARIS))
    assert query_names(alice, cal, range_filter(
        "20240331T095900Z", "20240331T100000Z")) == ["d.ics"]
    assert query_names(alice, cal, range_filter(
        "20240331T100000Z", "20240331T110000Z")) == []
    (resp,) = calendar_query(alice, cal, range_filter(
        "20240330T000000Z", "20240401T000000Z"),
        expand_prop("20240330T000000Z", "20240401T000000Z"))
    (ev,) = parse_ical(calendar_data(resp)).walk("VEVENT")
    assert (ev.value("DTSTART"), ev.value("DTEND"), ev.all("DURATION")) == \
        ("20240330T110000Z", "20240331T100000Z", [])
    assert [p[2] for p in parse_ical(_freebusy(
        alice, cal, "20240330T000000Z", "20240401T000000Z").text).walk(
            "VFREEBUSY")[0].all("FREEBUSY")] == \
        ["20240330T110000Z/20240331T100000Z"]


def test_duration_of_a_day_is_nominal_for_each_instance(cal, alice):
    # Weekly from 23 March: the instance of 30 March ends 31 March 12:00
    # Paris, 10:00Z; that of 23 March, 24 March 11:00Z.
    put_ok(alice, cal + "w.ics", event_ics(
        "p1dw-" + uid(), "DTSTART;TZID=Europe/Paris:20240323T120000",
        "DURATION:P1D", "RRULE:FREQ=WEEKLY;COUNT=3", extra=VTZ_PARIS))
    assert query_names(alice, cal, range_filter(
        "20240331T100000Z", "20240331T110000Z")) == []
    assert query_names(alice, cal, range_filter(
        "20240324T103000Z", "20240324T110000Z")) == ["w.ics"]
    got = [(e.value("DTSTART"), e.value("DTEND")) for e in parse_ical(
        calendar_data(calendar_query(alice, cal, range_filter(
            "20240320T000000Z", "20240410T000000Z"),
            expand_prop("20240320T000000Z", "20240410T000000Z"))[0])).walk(
                "VEVENT")]
    assert sorted(got) == [("20240323T110000Z", "20240324T110000Z"),
                           ("20240330T110000Z", "20240331T100000Z"),
                           ("20240406T100000Z", "20240407T100000Z")]


def test_an_alarm_a_day_before_is_at_the_same_local_time(cal, alice):
    # RFC 5545 §3.3.6, §3.8.6.3: TRIGGER:-P1D before 31 March 12:00 Paris
    # (10:00Z) is 30 March 12:00 Paris, 11:00Z, not 24 hours before.
    put_ok(alice, cal + "r.ics", event_ics(
        "al-p1d-" + uid(), "DTSTART;TZID=Europe/Paris:20240331T120000",
        "DURATION:PT1H", *_alarm("TRIGGER:-P1D"), extra=VTZ_PARIS))
    f = ('<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
         '<C:comp-filter name="VALARM">%s</C:comp-filter>'
         '</C:comp-filter></C:comp-filter>')
    assert query_names(alice, cal, f % time_range(
        "20240330T103000Z", "20240330T113000Z")) == ["r.ics"]
    assert query_names(alice, cal, f % time_range(
        "20240330T093000Z", "20240330T103000Z")) == []


def test_all_day_event_across_dst_lasts_one_calendar_day(server, alice):
    # RFC 5545 §3.6.1: a date without DTEND lasts one day, 31 March in
    # Paris: 23:00Z on the 30th to 22:00Z on the 31st.
    url = _paris_calendar(server, alice)
    put_ok(alice, url + "a.ics", event_ics(
        "allp-" + uid(), "DTSTART;VALUE=DATE:20240331"))
    assert query_names(alice, url, range_filter(
        "20240331T215900Z", "20240331T220000Z")) == ["a.ics"]
    assert query_names(alice, url, range_filter(
        "20240331T220000Z", "20240331T230000Z")) == []
    assert [p[2] for p in parse_ical(_freebusy(
        alice, url, "20240330T000000Z", "20240402T000000Z").text).walk(
            "VFREEBUSY")[0].all("FREEBUSY")] == \
        ["20240330T230000Z/20240331T220000Z"]


def test_all_day_event_without_dtend_lasts_one_day(cal, alice):
    # RFC 5545 §3.6.1: DTSTART as DATE and no DTEND: one day.
    put_ok(alice, cal + "a.ics", event_ics(
        "allday-" + uid(), "DTSTART;VALUE=DATE:20240301", "SUMMARY:Journée"))
    assert query_names(alice, cal, range_filter("20240301T230000Z",
                                                "20240302T000000Z")) == ["a.ics"]
    assert query_names(alice, cal, range_filter("20240302T000000Z",
                                                "20240303T000000Z")) == []
    assert query_names(alice, cal, range_filter("20240229T000000Z",
                                                "20240301T000000Z")) == []


def test_all_day_event_with_dtend_date(cal, alice):
    # 5 and 6 March (DTEND is exclusive).
    put_ok(alice, cal + "a.ics", event_ics(
        "allday-" + uid(), "DTSTART;VALUE=DATE:20240305",
        "DTEND;VALUE=DATE:20240307"))
    assert query_names(alice, cal, range_filter("20240306T120000Z",
                                                "20240306T130000Z")) == ["a.ics"]
    assert query_names(alice, cal, range_filter("20240307T000000Z",
                                                "20240308T000000Z")) == []


def test_all_day_yearly_event(cal, alice):
    put_ok(alice, cal + "y.ics", event_ics(
        "yearly-" + uid(), "DTSTART;VALUE=DATE:19800315", "RRULE:FREQ=YEARLY",
        "SUMMARY:Anniversaire"))
    assert query_names(alice, cal, range_filter("20240315T120000Z",
                                                "20240315T130000Z")) == ["y.ics"]
    assert query_names(alice, cal, range_filter("20240316T000000Z",
                                                "20240317T000000Z")) == []


def test_event_with_duration_only(cal, alice):
    put_ok(alice, cal + "d.ics", event_ics(
        "dur-" + uid(), "DTSTART:20240110T100000Z", "DURATION:PT90M"))
    assert query_names(alice, cal, range_filter("20240110T112500Z",
                                                "20240110T113000Z")) == ["d.ics"]
    assert query_names(alice, cal, range_filter("20240110T113000Z",
                                                "20240110T120000Z")) == []


def test_event_without_end_or_duration_is_an_instant(cal, alice):
    # RFC 4791 §9.9: (start <= DTSTART AND end > DTSTART).
    put_ok(alice, cal + "i.ics", event_ics("inst-" + uid(), "DTSTART:20240110T100000Z"))
    assert query_names(alice, cal, range_filter("20240110T100000Z",
                                                "20240110T100001Z")) == ["i.ics"]
    assert query_names(alice, cal, range_filter("20240110T090000Z",
                                                "20240110T100000Z")) == []


# ====================================================== VTODO, RFC 4791 §9.9
# Reference instants: 10:00Z and 12:00Z on 10 January 2024.

D0 = "20240110T100000Z"
D2 = "20240110T120000Z"

VTODO_CASES = [
    # (id, properties, (start, end), matches?)
    # DTSTART + DURATION: (start <= DTSTART+DURATION) AND
    #                     ((end > DTSTART) OR (end >= DTSTART+DURATION))
    ("start-duration-inside", ["DTSTART:" + D0, "DURATION:PT2H"],
     ("20240110T090000Z", "20240110T110000Z"), True),
    ("start-duration-start-at-end", ["DTSTART:" + D0, "DURATION:PT2H"],
     (D2, "20240110T130000Z"), True),
    ("start-duration-after", ["DTSTART:" + D0, "DURATION:PT2H"],
     ("20240110T120100Z", "20240110T130000Z"), False),
    ("start-duration-before", ["DTSTART:" + D0, "DURATION:PT2H"],
     ("20240110T080000Z", D0), False),
    # DTSTART + DUE: ((start < DUE) OR (start <= DTSTART)) AND
    #                ((end > DTSTART) OR (end >= DUE))
    ("start-due-inside", ["DTSTART:" + D0, "DUE:" + D2],
     ("20240110T110000Z", "20240110T130000Z"), True),
    ("start-due-start-at-due", ["DTSTART:" + D0, "DUE:" + D2],
     (D2, "20240110T130000Z"), False),
    ("start-due-before", ["DTSTART:" + D0, "DUE:" + D2],
     ("20240110T080000Z", D0), False),
    # DTSTART only: (start <= DTSTART) AND (end > DTSTART)
    ("start-only-hit", ["DTSTART:" + D0], (D0, "20240110T110000Z"), True),
    ("start-only-before", ["DTSTART:" + D0], ("20240110T090000Z", D0), False),
    ("start-only-after", ["DTSTART:" + D0], ("20240110T100001Z", D2), False),
    # DUE only: (start < DUE) AND (end >= DUE)
    ("due-only-around", ["DUE:" + D2], ("20240110T110000Z", "20240110T130000Z"), True),
    ("due-only-end-at-due", ["DUE:" + D2], ("20240110T110000Z", D2), True),
    ("due-only-start-at-due", ["DUE:" + D2], (D2, "20240110T130000Z"), False),
    ("due-only-after", ["DUE:" + D2], ("20240110T130000Z", "20240110T140000Z"), False),
    # COMPLETED + CREATED: ((start <= CREATED) OR (start <= COMPLETED)) AND
    #                      ((end >= CREATED) OR (end >= COMPLETED))
    ("completed-created-inside", ["CREATED:" + D0, "COMPLETED:" + D2],
     ("20240110T110000Z", "20240110T113000Z"), True),
    ("completed-created-end-at-created", ["CREATED:" + D0, "COMPLETED:" + D2],
     ("20240110T090000Z", D0), True),
    ("completed-created-start-at-completed", ["CREATED:" + D0, "COMPLETED:" + D2],
     (D2, "20240110T130000Z"), True),
    ("completed-created-after", ["CREATED:" + D0, "COMPLETED:" + D2],
     ("20240110T130000Z", "20240110T140000Z"), False),
    ("completed-created-before", ["CREATED:" + D0, "COMPLETED:" + D2],
     ("20240110T080000Z", "20240110T090000Z"), False),
    # COMPLETED only: (start <= COMPLETED) AND (end >= COMPLETED)
    ("completed-only-around", ["COMPLETED:" + D2],
     ("20240110T110000Z", "20240110T130000Z"), True),
    ("completed-only-end-at-completed", ["COMPLETED:" + D2],
     ("20240110T110000Z", D2), True),
    ("completed-only-long-before", ["COMPLETED:" + D2],
     ("20230101T000000Z", "20230201T000000Z"), False),
    ("completed-only-after", ["COMPLETED:" + D2],
     ("20240110T130000Z", "20240110T140000Z"), False),
    # CREATED only: (end > CREATED)
    ("created-only-long-after", ["CREATED:" + D0],
     ("20250101T000000Z", "20250201T000000Z"), True),
    ("created-only-end-at-created", ["CREATED:" + D0],
     ("20240110T090000Z", D0), False),
    ("created-only-straddling", ["CREATED:" + D0],
     ("20240110T090000Z", "20240110T110000Z"), True),
    # Nothing: TRUE
    ("no-dates-any-range", [], ("19990101T000000Z", "19990102T000000Z"), True),
]


@pytest.mark.parametrize("props,window,hit", [c[1:] for c in VTODO_CASES],
                         ids=[c[0] for c in VTODO_CASES])
def test_vtodo_time_range_rfc4791_9_9(props, window, hit, cal, alice):
    put_ok(alice, cal + "t.ics", todo_ics("todo-" + uid(), "SUMMARY:Fiche", *props))
    got = query_names(alice, cal, range_filter(*window, comp="VTODO"))
    assert got == (["t.ics"] if hit else [])


def test_recurring_vtodo_time_range(cal, alice):
    # A weekly action due Fridays 12:00Z from 5 Jan 2024, 3 times.
    put_ok(alice, cal + "t.ics", todo_ics(
        "rtodo-" + uid(), "DTSTART:20240105T100000Z", "DUE:20240105T120000Z",
        "RRULE:FREQ=WEEKLY;COUNT=3"))
    assert query_names(alice, cal, range_filter("20240119T000000Z",
                                                "20240120T000000Z", "VTODO")) == ["t.ics"]
    assert query_names(alice, cal, range_filter("20240126T000000Z",
                                                "20240127T000000Z", "VTODO")) == []


def _expanded_todos(alice, cal, lines, start, end):
    """The VTODOs of a task of these lines, expanded over [start, end)."""
    put_ok(alice, cal + "t.ics", todo_ics("todo-" + uid(), *lines))
    (resp,) = calendar_query(alice, cal, range_filter(start, end, "VTODO"),
                             expand_prop(start, end))
    return parse_ical(calendar_data(resp)).walk("VTODO")


def test_expanded_vtodo_moves_due_and_has_no_dtend(cal, alice):
    # RFC 4791 §9.6.5: each instance as a component of its own; RFC 5545
    # §3.6.2: a VTODO has no DTEND, and its DUE follows the instance.
    todos = _expanded_todos(
        alice, cal, ["DTSTART:20240105T100000Z", "DUE:20240105T120000Z",
                     "RRULE:FREQ=WEEKLY;COUNT=3"],
        "20240110T000000Z", "20240120T000000Z")
    assert [(t.value("DTSTART"), t.value("DUE"), t.all("DTEND"))
            for t in todos] == [
        ("20240112T100000Z", "20240112T120000Z", []),
        ("20240119T100000Z", "20240119T120000Z", []),
    ]


def test_expanded_vtodo_with_duration_keeps_it(cal, alice):
    (t,) = _expanded_todos(
        alice, cal, ["DTSTART:20240105T100000Z", "DURATION:PT2H",
                     "RRULE:FREQ=DAILY;COUNT=3"],
        "20240106T000000Z", "20240107T000000Z")
    assert (t.value("DTSTART"), t.value("DURATION"), t.all("DTEND"),
            t.all("DUE")) == ("20240106T100000Z", "PT2H", [], [])


def test_expanded_vtodo_with_due_only_is_returned(cal, alice):
    # RFC 4791 §9.6.5: a to-do the time-range matches (§9.9: DUE only,
    # start < DUE <= end) is returned, its one instance anchored at DUE.
    (t,) = _expanded_todos(alice, cal, ["SUMMARY:Echéance",
                                        "DUE:20240620T120000Z"],
                           "20240601T000000Z", "20240701T000000Z")
    assert (t.value("SUMMARY"), t.value("DUE"), t.all("DTSTART"),
            t.all("DTEND")) == ("Echéance", "20240620T120000Z", [], [])


def test_expanded_vtodo_without_dates_is_returned(cal, alice):
    # RFC 4791 §9.9: a to-do without DTSTART, DUE, CREATED or COMPLETED
    # overlaps every range, so expand keeps it.
    put_ok(alice, cal + "t.ics", todo_ics("todo-" + uid(), "SUMMARY:Sans date"))
    (resp,) = calendar_query(alice, cal, comp_filter(name="VTODO"),
                             expand_prop("20240601T000000Z",
                                         "20240701T000000Z"))
    (t,) = parse_ical(calendar_data(resp)).walk("VTODO")
    assert (t.value("SUMMARY"), t.all("DTSTART"), t.all("DUE")) == \
        ("Sans date", [], [])


# ============================================================ calendar-multiget


def test_multiget_returns_objects_and_404_for_unknown(cal, alice):
    put_ok(alice, cal + "a.ics", event_ics("mga-" + uid(), "DTSTART:20240110T100000Z"))
    put_ok(alice, cal + "b.ics", event_ics("mgb-" + uid(), "DTSTART:20240111T100000Z"))
    p = url_path(cal)
    r = report(alice, cal, multiget_body([p + "a.ics", p + "nope.ics", p + "b.ics"]))
    assert r.status_code == 207
    by = {x.path: x for x in parse_multistatus(r.content)}
    assert sorted(by) == [p + "a.ics", p + "b.ics", p + "nope.ics"]
    assert by[p + "nope.ics"].status == 404
    for n in ("a.ics", "b.ics"):
        got = by[p + n]
        assert got.ok_props()[DAV + "getetag"].text == \
            dav(alice, "GET", cal + n).headers["ETag"]
        assert calendar_data(got).replace("\r\n", "\n") == \
            dav(alice, "GET", cal + n).text.replace("\r\n", "\n")


def test_multiget_answers_each_object_once(cal, alice):
    """An object named 300 times is answered once, not 300 times (each
    answer may be max_resource_size long)."""
    put_ok(alice, cal + "a.ics", event_ics("mgd-" + uid(), "DTSTART:20240110T100000Z"))
    p = url_path(cal)
    r = report(alice, cal, multiget_body([p + "a.ics"] * 300 + [p + "x.ics"] * 3))
    assert r.status_code == 207
    assert sorted(x.path for x in parse_multistatus(r.content)) == \
        [p + "a.ics", p + "x.ics"]


def test_multiget_accepts_absolute_urls(cal, alice):
    put_ok(alice, cal + "a.ics", event_ics("mga-" + uid(), "DTSTART:20240110T100000Z"))
    r = report(alice, cal, multiget_body([cal + "a.ics"], "<D:getetag/>"))
    assert r.status_code == 207
    (resp,) = parse_multistatus(r.content)
    assert resp.path == url_path(cal) + "a.ics"
    assert resp.ok_props()[DAV + "getetag"].text


def test_multiget_of_object_in_another_calendar_is_404(server, cal, alice):
    other = new_calendar(server, alice)
    put_ok(alice, other + "o.ics", event_ics("mgo-" + uid(), "DTSTART:20240110T100000Z"))
    r = report(alice, cal, multiget_body([url_path(other) + "o.ics"], "<D:getetag/>"))
    assert r.status_code == 207
    (resp,) = parse_multistatus(r.content)
    assert resp.status == 404


# ============================================================ free-busy-query


@pytest.fixture
def busy_cal(cal, alice):
    day = "20240110"
    put_ok(alice, cal + "a.ics", event_ics(
        "fba-" + uid(), "DTSTART:%sT080000Z" % day, "DTEND:%sT090000Z" % day))
    put_ok(alice, cal + "paris.ics", event_ics(    # 09:00Z-10:00Z
        "fbp-" + uid(), "DTSTART;TZID=Europe/Paris:%sT100000" % day,
        "DTEND;TZID=Europe/Paris:%sT110000" % day, extra=VTZ_PARIS))
    put_ok(alice, cal + "transp.ics", event_ics(
        "fbt-" + uid(), "DTSTART:%sT120000Z" % day, "DTEND:%sT130000Z" % day,
        "TRANSP:TRANSPARENT"))
    put_ok(alice, cal + "cancel.ics", event_ics(
        "fbc-" + uid(), "DTSTART:%sT140000Z" % day, "DTEND:%sT150000Z" % day,
        "STATUS:CANCELLED"))
    put_ok(alice, cal + "tent.ics", event_ics(
        "fbn-" + uid(), "DTSTART:%sT160000Z" % day, "DTEND:%sT170000Z" % day,
        "STATUS:TENTATIVE"))
    put_ok(alice, cal + "daily.ics", event_ics(    # 8-12 Jan, 20:00Z-20:30Z
        "fbd-" + uid(), "DTSTART:20240108T200000Z", "DURATION:PT30M",
        "RRULE:FREQ=DAILY;COUNT=5"))
    put_ok(alice, cal + "other-day.ics", event_ics(
        "fbo-" + uid(), "DTSTART:20240112T100000Z", "DTEND:20240112T110000Z"))
    put_ok(alice, cal + "todo.ics", todo_ics(
        "fbtd-" + uid(), "DTSTART:%sT180000Z" % day, "DUE:%sT190000Z" % day))
    return cal


def _freebusy(sess, cal, start, end):
    r = report(sess, cal, freebusy_body(start, end))
    assert r.status_code == 200, (r.status_code, r.text)
    return r


def _busy(sess, cal, start, end):
    """The busy periods of a free-busy-query's one VFREEBUSY (_periods)."""
    r = _freebusy(sess, cal, start, end)
    (vfb,) = parse_ical(r.text).walk("VFREEBUSY")
    return _periods(vfb)


def _periods(vfb):
    """{(FBTYPE, start, end)} with ends computed from durations."""
    from datetime import datetime, timedelta
    import re as _re
    out = set()
    for name, params, value in vfb.all("FREEBUSY"):
        fbtype = params.get("FBTYPE", "BUSY")
        for period in value.split(","):
            s, e = period.split("/")
            assert s.endswith("Z"), period
            if e.startswith("P"):
                m = _re.match(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$", e)
                assert m, e
                h, mi, se = (int(x or 0) for x in m.groups())
                st = datetime.strptime(s, "%Y%m%dT%H%M%SZ")
                e = (st + timedelta(hours=h, minutes=mi, seconds=se)
                     ).strftime("%Y%m%dT%H%M%SZ")
            assert e.endswith("Z"), period
            out.add((fbtype, s, e))
    return out


def test_free_busy_query_answers_text_calendar_vfreebusy(busy_cal, alice):
    r = _freebusy(alice, busy_cal, "20240110T000000Z", "20240111T000000Z")
    assert r.headers["Content-Type"].split(";")[0].strip() == "text/calendar"
    vcal = parse_ical(r.text)
    (vfb,) = vcal.walk("VFREEBUSY")
    assert vfb.value("DTSTART") == "20240110T000000Z"
    assert vfb.value("DTEND") == "20240111T000000Z"


def test_free_busy_periods_in_utc(busy_cal, alice):
    assert _busy(alice, busy_cal, "20240110T000000Z", "20240111T000000Z") == {
        ("BUSY", "20240110T080000Z", "20240110T090000Z"),
        ("BUSY", "20240110T090000Z", "20240110T100000Z"),
        ("BUSY-TENTATIVE", "20240110T160000Z", "20240110T170000Z"),
        ("BUSY", "20240110T200000Z", "20240110T203000Z"),
    }


def test_free_busy_excludes_transparent_events(busy_cal, alice):
    assert _busy(alice, busy_cal, "20240110T120000Z", "20240110T130000Z") == set()


def test_free_busy_excludes_cancelled_events(busy_cal, alice):
    assert _busy(alice, busy_cal, "20240110T140000Z", "20240110T150000Z") == set()


def test_free_busy_ignores_todos(busy_cal, alice):
    assert _busy(alice, busy_cal, "20240110T180000Z", "20240110T190000Z") == set()


def test_free_busy_of_other_day(busy_cal, alice):
    assert _busy(alice, busy_cal, "20240112T000000Z", "20240113T000000Z") == {
        ("BUSY", "20240112T100000Z", "20240112T110000Z"),
        ("BUSY", "20240112T200000Z", "20240112T203000Z"),
    }


def test_free_busy_includes_stored_vfreebusy_periods(server, alice):
    # RFC 4791 §7.10: the FREEBUSY periods of the calendar's VFREEBUSY
    # components count, cut to the range, with their FBTYPE; FREE ones
    # are no busy time.
    url = _freebusy_calendar(
        server, alice,
        "DTSTART:20240101T000000Z", "DTEND:20240201T000000Z",
        "FREEBUSY:20240105T090000Z/20240105T100000Z",
        "FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20240104T220000Z/PT4H",
        "FREEBUSY;FBTYPE=FREE:20240105T110000Z/20240105T120000Z",
        "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20240105T160000Z/PT1H,"
        "20240107T090000Z/PT1H", events=True)
    put_ok(alice, url + "ev.ics", event_ics(
        "fbev-" + uid(), "DTSTART:20240105T140000Z",
        "DTEND:20240105T150000Z"))
    assert _busy(alice, url, "20240105T000000Z", "20240106T000000Z") == {
        ("BUSY-UNAVAILABLE", "20240105T000000Z", "20240105T020000Z"),
        ("BUSY", "20240105T090000Z", "20240105T100000Z"),
        ("BUSY", "20240105T140000Z", "20240105T150000Z"),
        ("BUSY-TENTATIVE", "20240105T160000Z", "20240105T170000Z"),
    }


def test_free_busy_of_a_vfreebusy_without_dtend(server, alice):
    # Indexed over all time: its periods still count where they lie.
    url = _freebusy_calendar(
        server, alice, "FREEBUSY:20240320T090000Z/20240320T100000Z")
    assert _busy(alice, url, "20240320T000000Z", "20240321T000000Z") == {
        ("BUSY", "20240320T090000Z", "20240320T100000Z")}
    assert _busy(alice, url, "20240321T000000Z", "20240322T000000Z") == set()


@pytest.mark.parametrize("attrs", ['start="20240101T000000Z"',
                                   'end="20240201T000000Z"'])
def test_free_busy_without_start_or_end_is_400_valid_filter(
        attrs, busy_cal, alice):
    # RFC 4791 §7.10: the answer's DTSTART and DTEND are the range's.
    body = ('<?xml version="1.0" encoding="utf-8"?>'
            '<C:free-busy-query xmlns:C="%s"><C:time-range %s/>'
            '</C:free-busy-query>' % (C_NS, attrs))
    r = report(alice, busy_cal, body)
    assert_precondition(r, 400, C_NS, "valid-filter")


# ==================================================== sync-collection: calendar


_EV_RUN = uid()


def _ev(name, summary=None):
    """An event whose UID follows its name: a new version of one keeps it
    (RFC 4791 §5.3.2.1, no-uid-conflict)."""
    return event_ics("%s-%s" % (name, _EV_RUN), "DTSTART:20240110T100000Z",
                     "SUMMARY:" + (summary or name))


def test_sync_initial_lists_every_member_and_a_token(cal, alice):
    for n in ("a", "b", "c"):
        put_ok(alice, cal + n + ".ics", _ev(n))
    res = sync_collection(alice, cal, "")
    assert sorted(res.changed()) == ["a.ics", "b.ics", "c.ics"]
    assert res.removed() == []
    for n, resp in res.changed().items():
        assert resp.ok_props()[DAV + "getetag"].text == \
            dav(alice, "GET", cal + n).headers["ETag"]
    assert res.token == prop_of(alice, cal, DAV + "sync-token").text


def test_sync_reports_six_changes_exactly(cal, alice):
    for n in ("a", "b", "c", "d", "e"):
        put_ok(alice, cal + n + ".ics", _ev(n))
    token = sync_collection(alice, cal, "").token
    put_ok(alice, cal + "f.ics", _ev("f"))                     # new
    put_ok(alice, cal + "g.ics", _ev("g"))                     # new
    put_ok(alice, cal + "a.ics", _ev("a", "a2"))                    # modified
    put_ok(alice, cal + "b.ics", _ev("b", "b2"))                    # modified
    assert dav(alice, "DELETE", cal + "c.ics").status_code == 204   # deleted
    assert dav(alice, "DELETE", cal + "d.ics").status_code == 204   # deleted
    res = sync_collection(alice, cal, token)
    assert sorted(res.changed()) == ["a.ics", "b.ics", "f.ics", "g.ics"]
    assert res.removed() == ["c.ics", "d.ics"]
    assert res.paths() == sorted(url_path(cal) + n for n in
                                 ("a.ics", "b.ics", "c.ics", "d.ics", "f.ics", "g.ics"))
    for n, resp in res.changed().items():
        assert resp.ok_props()[DAV + "getetag"].text == \
            dav(alice, "GET", cal + n).headers["ETag"]
    assert res.token != token


def test_sync_without_changes_is_empty_with_same_token(cal, alice, cluster):
    put_ok(alice, cal + "a.ics", _ev("a"))
    wait_sealed(cluster)
    token = sync_collection(alice, cal, "").token
    res = sync_collection(alice, cal, token)
    assert res.responses == []
    assert res.token == token


def test_sync_deleted_then_recreated_member_is_reported_present(cal, alice):
    put_ok(alice, cal + "a.ics", _ev("a"))
    token = sync_collection(alice, cal, "").token
    dav(alice, "DELETE", cal + "a.ics")
    put_ok(alice, cal + "a.ics", _ev("a-again"))
    res = sync_collection(alice, cal, token)
    assert sorted(res.changed()) == ["a.ics"]
    assert res.removed() == []


def test_sync_member_changed_twice_is_reported_once(cal, alice):
    put_ok(alice, cal + "a.ics", _ev("a"))
    token = sync_collection(alice, cal, "").token
    put_ok(alice, cal + "a.ics", _ev("a", "a2"))
    put_ok(alice, cal + "a.ics", _ev("a", "a3"))
    res = sync_collection(alice, cal, token)
    assert res.paths() == [url_path(cal) + "a.ics"]


def test_sync_unknown_token_is_403_valid_sync_token(cal, alice):
    r = report(alice, cal, sync_body("urn:example:not-a-token"))
    assert_precondition(r, 403, "DAV:", "valid-sync-token")


def test_sync_token_from_the_future_is_403_valid_sync_token(cal, alice):
    token = sync_collection(alice, cal, "").token
    coll, frm, last = map(int, token.rsplit("/", 1)[1].split("-"))
    r = report(alice, cal, sync_body("http://parvis.org/ns/sync/%d-%d-%d"
                                     % (coll, frm + 10 ** 9, last)))
    assert_precondition(r, 403, "DAV:", "valid-sync-token")


@pytest.mark.parametrize("token", ["7", "-7", "7-", "x-7", "7--7", "7-7-",
                                   "7-7-7-7", "99999999999999999999-1-1"])
def test_sync_malformed_token_is_403_valid_sync_token(token, cal, alice):
    r = report(alice, cal, sync_body("http://parvis.org/ns/sync/" + token))
    assert_precondition(r, 403, "DAV:", "valid-sync-token")


def test_sync_token_of_the_former_shape_is_403_valid_sync_token(cal, alice):
    """Tokens of the former shapes (a bare sequence, FROM-SEEN without the
    collection) are not honoured: the client starts again from an empty
    token (RFC 6578 §3.2)."""
    token = sync_collection(alice, cal, "").token
    _coll, frm, last = token.rsplit("/", 1)[1].split("-")
    for old in (frm, "%s-%s" % (frm, last)):
        r = report(alice, cal, sync_body("http://parvis.org/ns/sync/" + old))
        assert_precondition(r, 403, "DAV:", "valid-sync-token")


def test_sync_token_of_another_calendar_is_403_valid_sync_token(
        server, cal, alice):
    # RFC 6578 §3.2: a token is of the collection that gave it.
    other = new_calendar(server, alice)
    put_ok(alice, other + "o.ics", _ev("o"))
    token = sync_collection(alice, other, "").token
    r = report(alice, cal, sync_body(token))
    assert_precondition(r, 403, "DAV:", "valid-sync-token")
    assert sync_collection(alice, other, token).paths() == []


def test_sync_token_of_a_calendar_deleted_and_made_again_is_403(
        server, alice):
    url = new_calendar(server, alice)
    put_ok(alice, url + "old.ics", _ev("old"))
    token = sync_collection(alice, url, "").token
    ctag = prop_of(alice, url, CS + "getctag").text
    assert dav(alice, "DELETE", url).status_code == 204
    assert dav(alice, "MKCALENDAR", url).status_code == 201
    r = report(alice, url, sync_body(token))
    assert_precondition(r, 403, "DAV:", "valid-sync-token")
    assert prop_of(alice, url, CS + "getctag").text != ctag
    assert sync_collection(alice, url, "").paths() == []


def test_sync_level_infinite_is_403_sync_traversal_supported(cal, alice):
    r = report(alice, cal, sync_body("", level="infinite"))
    assert_precondition(r, 403, "DAV:", "sync-traversal-supported")


def _limited_sync_body(token, nresults):
    return sync_body(token).replace(
        "<D:prop>", "<D:limit><D:nresults>%s</D:nresults></D:limit><D:prop>"
        % nresults)


def test_sync_initial_over_the_limit_is_403_number_of_matches(cal, alice):
    """RFC 6578 §3.7: a limit the server cannot cut the answer at fails
    with DAV:number-of-matches-within-limits, never a full answer."""
    for n in ("a", "b", "c"):
        put_ok(alice, cal + n + ".ics", _ev(n))
    r = report(alice, cal, _limited_sync_body("", 2))
    assert_precondition(r, 403, "DAV:", "number-of-matches-within-limits")


def test_sync_changes_over_the_limit_are_403_number_of_matches(cal, alice):
    put_ok(alice, cal + "a.ics", _ev("a"))
    token = sync_collection(alice, cal, "").token
    put_ok(alice, cal + "b.ics", _ev("b"))
    assert dav(alice, "DELETE", cal + "a.ics").status_code == 204
    r = report(alice, cal, _limited_sync_body(token, 1))
    assert_precondition(r, 403, "DAV:", "number-of-matches-within-limits")
    # Nothing was consumed: the same token still reports both changes.
    res = sync_collection(alice, cal, token)
    assert (sorted(res.changed()), res.removed()) == (["b.ics"], ["a.ics"])


@pytest.mark.parametrize("nresults", [2, 3, 100])
def test_sync_within_the_limit_is_answered_whole(nresults, cal, alice):
    put_ok(alice, cal + "a.ics", _ev("a"))
    token = sync_collection(alice, cal, "").token
    put_ok(alice, cal + "b.ics", _ev("b"))
    put_ok(alice, cal + "c.ics", _ev("c"))
    r = report(alice, cal, _limited_sync_body(token, nresults))
    assert r.status_code == 207, r.text
    assert sorted(x.path.rsplit("/", 1)[1]
                  for x in parse_multistatus(r.content)) == ["b.ics", "c.ics"]
    r = report(alice, cal, _limited_sync_body("", 3))
    assert r.status_code == 207, r.text
    assert len(parse_multistatus(r.content)) == 3


@pytest.mark.parametrize("nresults", ["0", "-1", "x", ""])
def test_sync_limit_without_a_positive_nresults_is_400(nresults, cal, alice):
    r = report(alice, cal, _limited_sync_body("", nresults))
    assert r.status_code == 400, r.text


@pytest.mark.parametrize("depth", ["0", "1", None])
def test_sync_accepts_depth_header(depth, cal, alice):
    put_ok(alice, cal + "a.ics", _ev("a"))
    res = sync_collection(alice, cal, "", depth=depth)
    assert sorted(res.changed()) == ["a.ics"]


def test_sync_token_survives_another_parvisd(server, new_server, cal, alice):
    put_ok(alice, cal + "a.ics", _ev("a"))
    token = sync_collection(alice, cal, "").token
    put_ok(alice, cal + "b.ics", _ev("b"))
    other = new_server()
    other_cal = other.url + url_path(cal)
    res = sync_collection(alice, other_cal, token)
    assert sorted(res.changed()) == ["b.ics"]
    assert res.token == sync_collection(alice, cal, token).token


def test_sync_token_survives_a_restart(new_server, cal, alice):
    srv = new_server()
    url = srv.url + url_path(cal)
    put_ok(alice, url + "a.ics", _ev("a"))
    token = sync_collection(alice, url, "").token
    srv.stop()
    srv.start()
    put_ok(alice, url + "b.ics", _ev("b"))
    res = sync_collection(alice, url, token)
    assert sorted(res.changed()) == ["b.ics"]
    assert res.removed() == []


# ================================================= sync-collection: file folder


def test_folder_sync_initial_lists_members(coll, alice):
    for n in ("a.txt", "b.txt"):
        assert dav(alice, "PUT", coll + n, data=b"x").status_code == 201
    assert dav(alice, "MKCOL", coll + "sub/").status_code == 201
    res = sync_collection(alice, coll, "")
    assert sorted(res.changed()) == ["a.txt", "b.txt", "sub/"]
    assert res.removed() == []


def test_folder_sync_reports_six_changes_exactly(coll, alice):
    for n in ("a.txt", "b.txt", "c.txt", "d.txt", "keep.txt"):
        assert dav(alice, "PUT", coll + n, data=b"v1").status_code == 201
    token = sync_collection(alice, coll, "").token
    assert dav(alice, "PUT", coll + "new1.txt", data=b"n").status_code == 201
    assert dav(alice, "PUT", coll + "new2.txt", data=b"n").status_code == 201
    assert dav(alice, "PUT", coll + "a.txt", data=b"v2").status_code == 204
    assert dav(alice, "PUT", coll + "b.txt", data=b"v2").status_code == 204
    assert dav(alice, "DELETE", coll + "c.txt").status_code == 204
    assert dav(alice, "DELETE", coll + "d.txt").status_code == 204
    res = sync_collection(alice, coll, token)
    assert sorted(res.changed()) == ["a.txt", "b.txt", "new1.txt", "new2.txt"]
    assert res.removed() == ["c.txt", "d.txt"]
    for n, resp in res.changed().items():
        assert resp.ok_props()[DAV + "getetag"].text == \
            dav(alice, "GET", coll + n).headers["ETag"]


def test_folder_sync_reports_move_as_removed_and_new(coll, alice):
    assert dav(alice, "PUT", coll + "old.txt", data=b"m").status_code == 201
    token = sync_collection(alice, coll, "").token
    r = dav(alice, "MOVE", coll + "old.txt", headers={"Destination": coll + "new.txt"})
    assert r.status_code == 201
    res = sync_collection(alice, coll, token)
    assert sorted(res.changed()) == ["new.txt"]
    assert res.removed() == ["old.txt"]


def test_folder_sync_unknown_token_is_403(coll, alice):
    r = report(alice, coll, sync_body("http://parvis.org/ns/sync/notanumber"))
    assert_precondition(r, 403, "DAV:", "valid-sync-token")


def test_folder_sync_token_of_a_folder_deleted_and_made_again_is_403(
        coll, alice):
    folder = coll + "f-%s/" % uid()[:8]
    assert dav(alice, "MKCOL", folder).status_code == 201
    assert dav(alice, "PUT", folder + "a.txt", data=b"a").status_code == 201
    token = sync_collection(alice, folder, "").token
    assert dav(alice, "DELETE", folder).status_code == 204
    assert dav(alice, "MKCOL", folder).status_code == 201
    r = report(alice, folder, sync_body(token))
    assert_precondition(r, 403, "DAV:", "valid-sync-token")


def test_folder_sync_token_survives_another_parvisd(new_server, coll, alice):
    assert dav(alice, "PUT", coll + "a.txt", data=b"a").status_code == 201
    token = sync_collection(alice, coll, "").token
    assert dav(alice, "PUT", coll + "b.txt", data=b"b").status_code == 201
    assert dav(alice, "DELETE", coll + "a.txt").status_code == 204
    other = new_server()
    res = sync_collection(alice, other.url + url_path(coll), token)
    assert sorted(res.changed()) == ["b.txt"]
    assert res.removed() == ["a.txt"]


def test_folder_sync_token_property(coll, alice):
    tok = prop_of(alice, coll, DAV + "sync-token").text
    assert SYNC_TOKEN_RE.match(tok), tok
    assert sync_collection(alice, coll, "").token == tok


class HeldWrite(PsqlSession):
    """A transaction of its own, open in psql, that gave member NAME of a
    collection a dead property (so it logged a change to it) and has not
    committed: a writer that got its place in the change log before
    another one that commits first."""

    def __init__(self, cluster, name):
        super().__init__(cluster)
        self.run("begin; insert into props (space_id, resource_id, ns, name, "
                 "value) select space_id, id, 'urn:t:', 'held', 'x' from "
                 "resources where name = '%s';" % name)

    def commit(self):
        self.run("commit;")
        self.close()


@pytest.fixture
def psql_sessions():
    made = []
    yield made
    for h in made:
        h.close()


def test_sync_reports_a_change_that_commits_after_a_later_one(
        coll, alice, cluster, psql_sessions):
    """RFC 6578: a token stands for every change before it.  A writer that
    logged its change first but commits after another writer must still
    be reported to a client that synchronised in between; and the token
    and CTag must move when it commits, even while a transaction older
    than both (a long upload elsewhere) still runs."""
    a = "a-%s.txt" % uid()
    assert dav(alice, "PUT", coll + a, data=b"a").status_code == 201
    token0 = sync_collection(alice, coll, "").token
    older = PsqlSession(cluster)
    psql_sessions.append(older)
    older.run("begin; select pg_current_xact_id();")
    held = HeldWrite(cluster, a)
    psql_sessions.append(held)
    assert dav(alice, "PUT", coll + "b.txt", data=b"b").status_code == 201
    mid = sync_collection(alice, coll, token0)
    assert sorted(mid.changed()) == ["b.txt"]
    ctag_mid = prop_of(alice, coll, CS + "getctag").text
    token_mid = prop_of(alice, coll, DAV + "sync-token").text
    held.commit()
    assert prop_of(alice, coll, CS + "getctag").text != ctag_mid
    assert prop_of(alice, coll, DAV + "sync-token").text != token_mid
    res = sync_collection(alice, coll, mid.token)
    assert a in res.changed(), res.paths()
    older.run("rollback;")
    # Once everything has settled, the next synchronisation is empty again.
    wait_sealed(cluster)
    again = sync_collection(alice, coll, res.token)
    assert sync_collection(alice, coll, again.token).responses == []


def test_sync_token_is_unmoved_by_writes_elsewhere(coll, alice, cluster):
    """The token and CTag of a collection change with its members only:
    writes in other collections leave them as they were, so that clients
    polling them do not synchronise for nothing."""
    assert dav(alice, "PUT", coll + "a.txt", data=b"a").status_code == 201
    wait_sealed(cluster)
    token = prop_of(alice, coll, DAV + "sync-token").text
    ctag = prop_of(alice, coll, CS + "getctag").text
    other = coll.rstrip("/") + "-other-%s/" % uid()
    assert dav(alice, "MKCOL", other).status_code == 201
    for i in range(3):
        assert dav(alice, "PUT", other + "x%d.txt" % i, data=b"x").status_code == 201
    assert prop_of(alice, coll, DAV + "sync-token").text == token
    assert prop_of(alice, coll, CS + "getctag").text == ctag
    assert sync_collection(alice, coll, token).responses == []


def test_sync_of_a_file_is_refused(coll, alice):
    assert dav(alice, "PUT", coll + "f.txt", data=b"f").status_code == 201
    r = report(alice, coll + "f.txt", sync_body(""))
    assert r.status_code in (403, 405), r.status_code


# ====================================================== docs/calendars.md


def _doc_example_vtodo():
    import os
    import re
    path = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "calendars.md")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    blocks = re.findall(r"```\n(BEGIN:VCALENDAR\n.*?END:VCALENDAR\n)```", text, re.S)
    assert len(blocks) == 1, "one example VCALENDAR expected in docs/calendars.md"
    return blocks[0].replace("\n", "\r\n")


def test_docs_action_sheet_example_is_a_valid_todo(cal, alice):
    body = _doc_example_vtodo()
    put_ok(alice, cal + "preau-ecole.ics", body)
    assert dav(alice, "GET", cal + "preau-ecole.ics").content == body.encode()
    vtodo = parse_ical(body).walk("VTODO")[0]
    assert vtodo.value("X-PARVIS-COST") == "12500.00"
    assert vtodo.param("X-PARVIS-COST", "CURRENCY") == "EUR"
    assert query_names(alice, cal, comp_filter(
        prop_filter("CATEGORIES", text_match("équipements publics",
                                             "i;unicode-casemap")),
        name="VTODO")) == ["preau-ecole.ics"]
    assert query_names(alice, cal, range_filter(
        "20240801T000000Z", "20240901T000000Z", comp="VTODO")) == ["preau-ecole.ics"]


def test_lockroot_of_a_calendar_object_is_its_calendar_url(server, alice):
    """RFC 4918 §14.12: the lock root is a URL of the locked resource, in
    the form the request used, and it answers."""
    from urllib.parse import urlsplit
    from lxml import etree
    cal = new_calendar(server, alice)
    url = cal + "ev.ics"
    put_ok(alice, url, event_ics("lockroot-" + uid(), "DTSTART:20250101T100000Z",
                                 "DTEND:20250101T110000Z"))
    body = (b'<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope>'
            b'<D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>'
            b'</D:lockinfo>')
    r = dav(alice, "LOCK", url, data=body, headers=dict(XML_HEADERS, Depth="0"))
    assert r.status_code == 200, r.text
    lr = etree.fromstring(r.content).find(".//{DAV:}lockroot/{DAV:}href").text
    assert urlsplit(lr).path == urlsplit(url).path, (lr, url)
    assert dav(alice, "GET", server.url + urlsplit(lr).path).status_code == 200
    r = dav(alice, "PROPFIND", url, headers={"Depth": "0"})
    assert urlsplit(url).path.encode() in r.content.split(b"lockroot>")[1]


def test_extended_mkcol_makes_a_collection_or_a_calendar_only(server, alice):
    """RFC 5689 §3: a resourcetype the server cannot make is refused with
    DAV:valid-resourcetype, and nothing is made."""
    from lxml import etree
    home = server.url + "/dav/spaces/s1/"
    url = home + "odd-%s/" % uid()[:8]
    for rt in ("<D:collection/><Z:addressbook/>", "<Z:addressbook/>"):
        body = ('<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" '
                'xmlns:Z="urn:z"><D:set><D:prop><D:resourcetype>%s'
                '</D:resourcetype></D:prop></D:set></D:mkcol>' % rt).encode()
        r = dav(alice, "MKCOL", url, data=body, headers=XML_HEADERS)
        assert r.status_code == 403, r.status_code
        assert etree.fromstring(r.content).find("{DAV:}valid-resourcetype") \
            is not None, r.text
        assert dav(alice, "PROPFIND", url, headers={"Depth": "0"}).status_code == 404


def test_extended_mkcol_failure_answers_each_property(server, alice):
    """RFC 5689 §3: a property that cannot be set fails the MKCOL, and the
    answer is a DAV:mkcol-response with a propstat for each property: 403
    for the failing one, 424 for the others.  MKCALENDAR likewise, with
    C:mkcalendar-response (RFC 4791 §5.3.1.2)."""
    from lxml import etree
    home = server.url + "/dav/spaces/s1/"
    url = home + "bad-%s/" % uid()[:8]
    body = ('<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" '
            'xmlns:Z="urn:z"><D:set><D:prop><D:resourcetype><D:collection/>'
            '</D:resourcetype><D:getetag>"x"</D:getetag><Z:ok>1</Z:ok>'
            '</D:prop></D:set></D:mkcol>').encode()
    r = dav(alice, "MKCOL", url, data=body, headers=XML_HEADERS)
    assert r.status_code == 403, r.status_code
    root = etree.fromstring(r.content)
    assert root.tag == "{DAV:}mkcol-response", r.text
    status = {el.tag: ps.find("{DAV:}status").text
              for ps in root.findall("{DAV:}propstat")
              for el in ps.find("{DAV:}prop")}
    assert "403" in status["{DAV:}getetag"] and "424" in status["{urn:z}ok"]
    assert dav(alice, "PROPFIND", url, headers={"Depth": "0"}).status_code == 404
    cal = server.url + "/dav/calendars/alice/s1.bad%s/" % uid()[:8]
    body = ('<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" '
            'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
            '<D:getetag>"x"</D:getetag><D:displayname>x</D:displayname>'
            '</D:prop></D:set></C:mkcalendar>').encode()
    r = dav(alice, "MKCALENDAR", cal, data=body, headers=XML_HEADERS)
    assert r.status_code == 403, r.status_code
    assert etree.fromstring(r.content).tag == \
        "{urn:ietf:params:xml:ns:caldav}mkcalendar-response", r.text
    assert dav(alice, "PROPFIND", cal, headers={"Depth": "0"}).status_code == 404
