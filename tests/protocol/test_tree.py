"""The tree of a space, stored by parent id (decision 0034, migration 0024).

A MOVE of a folder, and a DELETE (a move to the trash), rewrite the
folder's row alone: the rows below keep their row versions, whatever
their number.  The migration from stored paths keeps every resource at
its path, and puts a row whose parent is missing in the trash."""

import glob
import os
import uuid

from conftest import make_ctl
from dav_helpers import (assert_status, db_path, dav, mkcol, propfind, put,
                         sql_str)

MIGRATIONS = os.path.join(os.path.dirname(__file__), "..", "..", "db",
                          "migrations")


def _versions(cluster, ids):
    """{id: ctid} of resources: a row rewritten gets a new ctid."""
    rows = cluster.psql("SELECT id, ctid FROM resources WHERE id IN (%s)"
                        % ",".join(str(i) for i in ids))
    return dict(rows)


def _tree(server, alice, base):
    """A folder holding 60 files and a sub-folder of 40; returns the ids of
    the rows below the folder."""
    assert_status(mkcol(alice, base), 201)
    assert_status(mkcol(alice, base + "sub/"), 201)
    for i in range(60):
        assert_status(put(alice, base + "f%d.txt" % i, b"x%d\n" % i), 201)
    for i in range(40):
        assert_status(put(alice, base + "sub/g%d.txt" % i, b"y%d\n" % i), 201)
    return base


def _ids_below(cluster, path, slug="s1"):
    rows = cluster.psql(
        "SELECT t.id FROM spaces s CROSS JOIN "
        "parvis_subtree(parvis_resolve(s.id, %s)) t "
        "WHERE s.slug = %s AND t.id <> parvis_resolve(s.id, %s)"
        % (sql_str(path), sql_str(slug), sql_str(path)))
    return [r[0] for r in rows]


def _hrefs(alice, url):
    r = propfind(alice, url, depth="1", kind="propname")
    assert_status(r, 207)
    return r.text


def test_move_rewrites_the_folder_row_alone(server, cluster, session_for):
    alice = session_for("alice")
    base = server.space_url("s1") + "tree-" + uuid.uuid4().hex[:8] + "/"
    _tree(server, alice, base)
    below = _ids_below(cluster, db_path(base))
    assert len(below) == 101
    top = cluster.psql("SELECT parvis_resolve(id, %s) FROM spaces "
                       "WHERE slug = 's1'" % sql_str(db_path(base)))[0][0]
    before = _versions(cluster, below + [top])
    dst = base.rstrip("/") + "-moved/"
    assert_status(dav(alice, "MOVE", base, headers={"Destination": dst}), 201)
    after = _versions(cluster, below + [top])
    assert after[top] != before[top]
    assert {i: after[i] for i in below} == {i: before[i] for i in below}
    # everything is found at its new path, nothing at the old one
    assert sorted(_ids_below(cluster, db_path(dst))) == sorted(below)
    assert dav(alice, "GET", dst + "sub/g39.txt").content == b"y39\n"
    assert dav(alice, "GET", dst + "f0.txt").content == b"x0\n"
    assert dav(alice, "GET", base + "f0.txt").status_code == 404
    listing = _hrefs(alice, dst)
    assert listing.count("<D:href>") == 62, listing[:400]
    assert "-moved/f59.txt</D:href>" in listing
    listing = _hrefs(alice, dst + "sub/")
    assert listing.count("<D:href>") == 41, listing[:400]
    assert "-moved/sub/g7.txt</D:href>" in listing


def test_delete_to_the_trash_rewrites_the_folder_row_alone(server, cluster,
                                                           session_for):
    alice = session_for("alice")
    base = server.space_url("s1") + "bin-" + uuid.uuid4().hex[:8] + "/"
    _tree(server, alice, base)
    below = _ids_below(cluster, db_path(base))
    before = _versions(cluster, below)
    assert_status(dav(alice, "DELETE", base), 204)
    assert _versions(cluster, below) == before
    # the entry holds the tree, at paths below the entry
    entry = cluster.psql(
        "SELECT parvis_path(r.id) FROM resources r JOIN spaces s "
        "ON s.id = r.space_id WHERE s.slug = 's1' AND r.trashed_from = %s"
        % sql_str(db_path(base)))[0][0]
    assert entry.startswith("/.trash/"), entry
    assert sorted(_ids_below(cluster, entry)) == sorted(below)
    assert dav(alice, "GET", base + "sub/g1.txt").status_code == 404


def _migrated_to(cluster, db, last):
    """Database db built by migration files up to number `last`, as the
    parvis role (the owner parvisctl migrates as)."""
    cluster.psql(f"CREATE DATABASE {db} OWNER parvis", db="postgres")
    sql = ["SET ROLE parvis;",
           "CREATE TABLE schema_version (version integer PRIMARY KEY, "
           "name text NOT NULL, applied_at timestamptz NOT NULL "
           "DEFAULT now());"]
    for f in sorted(glob.glob(os.path.join(MIGRATIONS, "*.sql"))):
        name = os.path.basename(f)[:-4]
        if int(name[:4]) > last:
            break
        with open(f, encoding="utf-8") as fh:
            sql.append(fh.read())
        sql.append("INSERT INTO schema_version (version, name) VALUES "
                   "(%d, %s);" % (int(name[:4]), sql_str(name)))
    cluster.psql("\n".join(sql), db=db)


OLD_TREE = [
    # (path, parent path, name, kind)
    ("/a", "", "a", 0),
    ("/a/b", "/a", "b", 0),
    ("/a/b/c.txt", "/a/b", "c.txt", 1),
    ("/a/b.txt", "/a", "b.txt", 1),
    ("/x y", "", "x y", 0),
    ("/x y/\u00e9t\u00e9 %.odt", "/x y", "\u00e9t\u00e9 %.odt", 1),
    ("/.trash/7", "/.trash", "7", 0),
    ("/.trash/7/old.txt", "/.trash/7", "old.txt", 1),
]


def _old_rows(cluster, db, rows):
    values = ", ".join("((SELECT id FROM spaces WHERE slug = 'm1'), %s, %s, "
                       "%s, %d)" % (sql_str(p), sql_str(pp), sql_str(n), k)
                       for p, pp, n, k in rows)
    cluster.psql(
        "INSERT INTO spaces (slug, title) VALUES ('m1', 'M');"
        "INSERT INTO resources (space_id, path, parent_path, name, kind) "
        "VALUES ((SELECT id FROM spaces WHERE slug = 'm1'), '', NULL, "
        "'m1', 0);"
        "SELECT parvis_space_trash(id), parvis_space_calendars(id) "
        "FROM spaces WHERE slug = 'm1';"
        "INSERT INTO resources (space_id, path, parent_path, name, kind) "
        "VALUES " + values + ";", db=db)


def test_migration_0024_keeps_every_resource_at_its_path(bins, cluster):
    db = "tree_" + uuid.uuid4().hex[:8]
    _migrated_to(cluster, db, 23)
    _old_rows(cluster, db, OLD_TREE)
    old = dict(cluster.psql("SELECT id, path FROM resources", db=db))
    assert len(old) == len(OLD_TREE) + 5  # root, trash, calendars, 2 agendas
    make_ctl(bins, cluster.dsn.replace("dbname=parvis", "dbname=" + db))(
        "migrate")
    rows = cluster.psql("SELECT id, parvis_path(id), "
                        "parvis_resolve(space_id, parvis_path(id)) "
                        "FROM resources", db=db)
    assert {i: p for i, p, _ in rows} == old
    assert all(i == r for i, _, r in rows), rows
    assert cluster.psql("SELECT count(*) FROM resources WHERE parent_id IS "
                        "NULL", db=db) == [("1",)]
    cols = cluster.psql("SELECT column_name FROM information_schema.columns "
                        "WHERE table_name = 'resources' AND column_name IN "
                        "('path', 'parent_path')", db=db)
    assert cols == []
    cluster.psql(f"DROP DATABASE {db}", db="postgres")


def test_migration_0024_puts_resources_without_their_parent_in_the_trash(
        bins, cluster):
    """Rows whose parent folder is missing (crossed MOVEs before decision
    0020 could leave them) become trash entries that remember their path,
    their own members still below them."""
    db = "tree_" + uuid.uuid4().hex[:8]
    _migrated_to(cluster, db, 23)
    _old_rows(cluster, db, OLD_TREE + [
        ("/gone/lost", "/gone", "lost", 0),
        ("/gone/lost/in.txt", "/gone/lost", "in.txt", 1),
        ("/gone2/alone.txt", "/gone2", "alone.txt", 1)])
    make_ctl(bins, cluster.dsn.replace("dbname=parvis", "dbname=" + db))(
        "migrate")
    rows = cluster.psql(
        "SELECT parvis_path(r.id), r.trashed_from, "
        "(SELECT count(*) FROM parvis_subtree(r.id)) FROM resources r "
        "WHERE r.trashed_from IS NOT NULL ORDER BY r.trashed_from", db=db)
    assert [(f, n) for _, f, n in rows] == [("/gone/lost", "2"),
                                            ("/gone2/alone.txt", "1")], rows
    assert all(p.startswith("/.trash/") for p, _, _ in rows), rows
    # the rest where it was, and every row reachable from its space's root
    assert cluster.psql("SELECT parvis_path(parvis_resolve(space_id, "
                        "'/a/b/c.txt')) FROM spaces s JOIN resources r ON "
                        "r.space_id = s.id AND r.parent_id IS NULL WHERE "
                        "s.slug = 'm1'", db=db) == [("/a/b/c.txt",)]
    assert cluster.psql("SELECT count(*) FROM resources WHERE "
                        "parvis_path(id) IS NULL OR parvis_resolve(space_id, "
                        "parvis_path(id)) IS DISTINCT FROM id", db=db) == \
        [("0",)]
    cluster.psql(f"DROP DATABASE {db}", db="postgres")


def test_migration_0024_trash_entries_keep_their_folders_entries(bins,
                                                                 cluster):
    """An orphan put in the trash keeps, as a DELETE's entry does, the
    access control entries of the folders still above where it was: a deny
    on /hr still hides /hr/old/doc.txt."""
    db = "tree_" + uuid.uuid4().hex[:8]
    _migrated_to(cluster, db, 23)
    _old_rows(cluster, db, OLD_TREE + [
        ("/hr", "", "hr", 0),
        ("/hr/old/doc.txt", "/hr/old", "doc.txt", 1)])
    cluster.psql(
        "INSERT INTO aces (space_id, resource_id, principal_kind, "
        "principal_id, is_grant, privileges, position) SELECT space_id, id, "
        "'user', 4242, false, 1, 0 FROM resources WHERE path = '/hr'", db=db)
    make_ctl(bins, cluster.dsn.replace("dbname=parvis", "dbname=" + db))(
        "migrate")
    rows = cluster.psql(
        "SELECT parvis_path(r.id), (SELECT count(*) FROM aces a WHERE "
        "a.resource_id = r.id AND a.principal_id = 4242 AND NOT a.is_grant "
        "AND a.from_trash) FROM resources r "
        "WHERE r.trashed_from = '/hr/old/doc.txt'", db=db)
    cluster.psql(f"DROP DATABASE {db}", db="postgres")
    assert len(rows) == 1 and rows[0][0].startswith("/.trash/"), rows
    assert rows[0][1] == "1", rows


def test_migration_0024_orphaned_calendar_object_leaves_the_index(bins,
                                                                  cluster):
    """A calendar object whose folder was missing goes to the trash and out
    of the calendar it was indexed under: queries on that calendar no
    longer list it, nor does its UID count there."""
    db = "tree_" + uuid.uuid4().hex[:8]
    _migrated_to(cluster, db, 23)
    _old_rows(cluster, db, OLD_TREE + [
        ("/.calendars/old/x.ics", "/.calendars/old", "x.ics", 1)])
    cluster.psql(
        "INSERT INTO calendar_objects (resource_id, space_id, calendar_id, "
        "uid, component, trange, data) SELECT o.id, o.space_id, c.id, 'u1', "
        "'VEVENT', tstzrange(now(), now() + interval '1 hour'), 'X' FROM "
        "resources o JOIN resources c ON c.space_id = o.space_id AND "
        "c.path = '/.calendars/agenda' WHERE o.path = '/.calendars/old/x.ics'",
        db=db)
    make_ctl(bins, cluster.dsn.replace("dbname=parvis", "dbname=" + db))(
        "migrate")
    rows = cluster.psql(
        "SELECT parvis_path(r.id) FROM calendar_objects o JOIN resources r "
        "ON r.id = o.resource_id WHERE r.parent_id <> o.calendar_id", db=db)
    trashed = cluster.psql("SELECT count(*) FROM resources WHERE "
                           "trashed_from = '/.calendars/old/x.ics'", db=db)
    cluster.psql(f"DROP DATABASE {db}", db="postgres")
    assert rows == [], rows
    assert trashed == [("1",)], trashed
