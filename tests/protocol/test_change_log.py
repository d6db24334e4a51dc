"""The change log's triggers (0004_calendars_sync.sql, rewritten by
0012_change_log_plans.sql) keep plans whose work grows with the rows of
the statement, whatever statement the connection served first.

PL/pgSQL keeps a trigger statement's plan for the whole session, made for
the transition tables of its first call.  Both orders are tried in one
session: a one-row write then a thousand-row one, and the reverse.  The
plans come from auto_explain (ANALYZE, nested statements), sent to psql as
messages.  What must not be seen: a transition table read again for each
row of another (a nested loop: quadratic in the rows written), or a scan of
the whole resources table for a one-row write.  The rows are written and
the statistics taken inside a transaction that is rolled back.
"""

import re

import pytest

MEMBERS = 1000
FILLER = 3000


def _scenario(order):
    one = ("UPDATE resources SET modified_at = modified_at + interval '1 s' "
           "WHERE space_id = (SELECT id FROM spaces WHERE slug = 's1') "
           "AND path = '/plan-t/m1';")
    many = [
        # a move of the tree
        "UPDATE resources SET path = '/plan-u' || substr(path, 8), "
        "parent_path = CASE WHEN path = '/plan-t' THEN '' "
        "ELSE '/plan-u' || substr(parent_path, 8) END, "
        "name = CASE WHEN path = '/plan-t' THEN 'plan-u' ELSE name END "
        "WHERE space_id = (SELECT id FROM spaces WHERE slug = 's1') "
        "AND (path = '/plan-t' OR (path >= '/plan-t/' AND path < '/plan-t0'));",
        # dead properties on every member, then removed
        "INSERT INTO props (space_id, resource_id, ns, name, value) "
        "SELECT space_id, id, 'urn:plan', 'p', 'v' FROM resources "
        "WHERE parent_path = '/plan-u';",
        "DELETE FROM props WHERE ns = 'urn:plan';",
        # a deletion of the tree
        "DELETE FROM resources "
        "WHERE space_id = (SELECT id FROM spaces WHERE slug = 's1') "
        "AND (path = '/plan-u' OR (path >= '/plan-u/' AND path < '/plan-u0'));",
    ]
    small = ["DO $$BEGIN RAISE LOG 'parvis-mark small'; END$$;", one]
    big = ["DO $$BEGIN RAISE LOG 'parvis-mark big'; END$$;"] + many
    if order == "small-first":
        return small + big
    # The one-row write needs its row: a small tree is put back first.
    return big + [_tree_sql("/plan-t", 10)] + small


def _tree_sql(root, n):
    name = root.lstrip("/")
    return (
        "INSERT INTO resources (space_id, path, parent_path, name, kind) "
        f"SELECT id, '{root}', '', '{name}', 0 FROM spaces WHERE slug = 's1'; "
        "INSERT INTO resources (space_id, path, parent_path, name, kind) "
        f"SELECT s.id, '{root}/m' || g, '{root}', 'm' || g, 1 "
        f"FROM spaces s, generate_series(1, {n}) g WHERE s.slug = 's1';")


def _plans(cluster, order):
    sql = "\n".join([
        "LOAD 'auto_explain';",
        "SET auto_explain.log_min_duration = 0;",
        "SET auto_explain.log_analyze = on;",
        "SET auto_explain.log_nested_statements = on;",
        "BEGIN;",
        _tree_sql("/plan-t", MEMBERS),
        # other rows, so that a scan of the whole table shows
        "INSERT INTO resources (space_id, path, parent_path, name, kind) "
        "SELECT s.id, '/plan-filler/f' || g, '/plan-filler', 'f' || g, 1 "
        f"FROM spaces s, generate_series(1, {FILLER}) g WHERE s.slug = 's1';",
        "ANALYZE resources;",
        "SET client_min_messages = log;",
    ] + _scenario(order) + ["ROLLBACK;"])
    _, messages = cluster.psql(sql, messages=True)
    # Split into plans; each is tagged with the step (small or big) that
    # ran it: a step's nested plans come before its own mark's successor.
    tagged, tag = [], None
    for part in re.split(r"LOG:  ", messages):
        m = re.search(r"parvis-mark (\w+)", part)
        if m and not part.startswith("duration"):
            tag = m.group(1)
            continue
        if part.startswith("duration") and "INSERT INTO changes" in part:
            tagged.append((tag, part))
    return tagged


@pytest.mark.parametrize("order", ["small-first", "big-first"])
def test_change_log_plans_stay_linear(cluster, seed, order):
    plans = _plans(cluster, order)
    assert {t for t, _ in plans} == {"small", "big"}, plans
    for tag, plan in plans:
        # No transition table read again for each row of another.
        for loops in re.findall(r"Named Tuplestore Scan.*?loops=(\d+)", plan):
            assert int(loops) == 1, (order, tag, plan)
        if tag == "small":
            # A one-row write probes resources by index, never scans it.
            assert "Seq Scan on resources" not in plan, (order, tag, plan)
            assert "Bitmap Heap Scan on resources" not in plan, (order, tag, plan)
