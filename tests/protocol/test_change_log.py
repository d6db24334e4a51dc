"""The change log's triggers (0004_calendars_sync.sql, rewritten by
0012_change_log_plans.sql) keep plans whose work grows with the rows of
the statement, whatever statement the connection served first.

PL/pgSQL keeps a trigger statement's plan for the whole session, made for
the transition tables of the call that planned it.  The plans come from
auto_explain (nested statements), sent to psql as messages.  What must not
be seen: a transition table read again for each row of another (a nested
loop or a subplan searched row by row: quadratic in the rows written), or
a scan of the whole resources table for a one-row write.  Rows are written
and statistics taken inside a transaction that is rolled back.
"""

import re

import pytest

MEMBERS = 1000
FILLER = 3000
S1 = "(SELECT id FROM spaces WHERE slug = 's1')"
S2 = "(SELECT id FROM spaces WHERE slug = 's2')"


def _tree_sql(root, n, prefix="m"):
    """A collection below the root and n files in it, in space s1: one
    statement."""
    name = root.lstrip("/")
    return (
        "WITH t AS (INSERT INTO resources (space_id, parent_id, name, kind) "
        f"SELECT {S1}, parvis_resolve({S1}, ''), '{name}', 0 "
        "RETURNING id, space_id) "
        "INSERT INTO resources (space_id, parent_id, name, kind) "
        f"SELECT t.space_id, t.id, '{prefix}' || g, 1 "
        f"FROM t, generate_series(1, {n}) g;")


def _subtree(root):
    return (f"id IN (SELECT id FROM "
            f"parvis_subtree(parvis_resolve({S1}, '{root}')))")


# A move of /plan-t to /plan-u, as MOVE does it: the folder's row alone.
MOVE = (f"UPDATE resources SET parent_id = parvis_resolve({S1}, ''), "
        "name = 'plan-u' "
        f"WHERE id = parvis_resolve({S1}, '/plan-t');")
# The rows of a tree moved to another space, all in one statement, as
# MOVE does it after the folder's row ("move_space_rows").
MOVE_SPACE = (f"UPDATE resources SET space_id = {S2} "
              f"WHERE {_subtree('/plan-t')};")
ONE_ROW = ("UPDATE resources SET modified_at = modified_at + interval '1 s' "
           f"WHERE id = parvis_resolve({S1}, '/plan-t/m1');")
PROPS = [
    "INSERT INTO props (space_id, resource_id, ns, name, value) "
    "SELECT space_id, id, 'urn:plan', 'p', 'v' FROM resources "
    f"WHERE parent_id = parvis_resolve({S1}, '/plan-u');",
    "DELETE FROM props WHERE ns = 'urn:plan';",
]


def _mark(tag):
    return f"DO $$BEGIN RAISE LOG 'parvis-mark {tag}'; END$$;"


def _scenario(order):
    small = [_mark("small"), ONE_ROW]
    big = [_mark("big"), MOVE] + PROPS + [
        f"DELETE FROM resources WHERE {_subtree('/plan-u')};"]
    if order == "small-first":
        return small + big
    # The one-row write needs its row: a small tree is put back first.
    return big + [_tree_sql("/plan-t", 10)] + small


def _explain(cluster, settings, steps):
    """Runs the steps in a transaction rolled back; the plans of the
    change log's statements, each with the mark ('small', 'big' or None)
    of the step that ran it."""
    sql = "\n".join(["LOAD 'auto_explain';",
                     "SET auto_explain.log_nested_statements = on;"]
                    + settings + ["BEGIN;"] + steps + ["ROLLBACK;"])
    _, messages = cluster.psql(sql, messages=True)
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
    """A one-row write then a thousand-row move, properties and deletion
    in one session, and the reverse."""
    plans = _explain(cluster, [
        "SET auto_explain.log_min_duration = 0;",
        "SET auto_explain.log_analyze = on;",
    ], [
        _tree_sql("/plan-t", MEMBERS),
        # other rows, so that a scan of the whole table shows
        _tree_sql("/plan-filler", FILLER, "f"),
        "ANALYZE resources;",
        "SET client_min_messages = log;",
    ] + _scenario(order))
    assert {t for t, _ in plans} == {"small", "big"}, plans
    for tag, plan in plans:
        # No transition table read again for each row of another.
        for loops in re.findall(r"Named Tuplestore Scan.*?loops=(\d+)", plan):
            assert int(loops) == 1, (order, tag, plan)
        if tag == "small":
            # A one-row write probes resources by index, never scans it.
            assert "Seq Scan on resources" not in plan, (order, tag, plan)
            assert "Bitmap Heap Scan on resources" not in plan, (order, tag, plan)


@pytest.mark.parametrize("first", ["insert", "update", "delete"])
def test_large_statement_planned_first_keeps_hashed_subplans(
        cluster, seed, first):
    """A statement of thousands of rows that is the first to run its
    trigger in the session, with little hash memory (work_mem 64 kB): its
    plans still match rows through hashed subplans (parvis_log_room,
    0012), never through a subplan searched again for each row."""
    step = {"insert": [],
            "update": [MOVE_SPACE],
            "delete": [f"DELETE FROM resources WHERE {_subtree('/plan-t')};"]}
    plans = _explain(cluster, [
        "SET auto_explain.log_min_duration = 1;",
        "SET work_mem = '64kB';",
        "SET hash_mem_multiplier = 1;",
        "SET statement_timeout = '120s';",
        "SET client_min_messages = log;",
    ], [_mark("big"), _tree_sql("/plan-t", 5000)] + step[first])
    # The tree's insert, then the step's own statements (two for a move).
    assert len(plans) == {"insert": 1, "update": 3, "delete": 2}[first], plans
    for _, plan in plans:
        assert "hashed SubPlan" in plan, (first, plan)
        assert "(SubPlan" not in plan, (first, plan)
