"""Plain-text table and TSV of a benchmark run.

results[workload id][server key] = [per-round dict | Fail | None]
A cell shows the median over the rounds and the spread (min-max); a round
with a wrong answer makes the cell FAIL. The "Parvis/peer" row gives, for
every round in which both servers answered right, Parvis' value divided by
the peer's, then the median (min-max) of those pairwise ratios.
"""

import statistics

from client import Fail


def fmt(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    if a == 0:
        return "0"
    return f"{v:.3g}"


def fmt_ratio(v):
    if v is None:
        return "-"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def stats(vals):
    if not vals:
        return None
    return statistics.median(vals), min(vals), max(vals)


def cell(st, n_total, f=fmt):
    """median (min-max) when N_TOTAL > 1 values were taken, else the value."""
    if st is None:
        return "-"
    med, lo, hi = st
    if n_total > 1:
        return f"{f(med)} ({f(lo)}-{f(hi)})"
    return f(med)


def values(rounds, key):
    return [r[key] for r in rounds if isinstance(r, dict) and r.get(key) is not None]


def failed(rounds):
    return [(i + 1, r) for i, r in enumerate(rounds) if isinstance(r, Fail)]


def pair_ratios(pr, qr, key, peer_key=None):
    """Per round, PR's KEY over QR's PEER_KEY (by default KEY too)."""
    out = []
    for a, b in zip(pr, qr):
        if isinstance(a, dict) and isinstance(b, dict):
            x, y = a.get(key), b.get(peer_key or key)
            if x is not None and y:
                out.append(x / y)
    return out


def table(rows, indent="  "):
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(max(map(len, rows)))]
    lines = []
    for r in rows:
        parts = [r[0].ljust(widths[0])] + [c.ljust(widths[i + 1]) for i, c in enumerate(r[1:])]
        lines.append((indent + "   ".join(parts)).rstrip())
    return lines


def render(header, workloads, servers, results, nrounds, notes, ref_key="parvis",
           ratio_label="Parvis/peer", no_ratio=(), legend=None):
    """Returns (text, tsv). The ratio row divides the value of server REF_KEY
    by each other server's, except those in NO_RATIO; LEGEND replaces the
    explanation lines under the header."""
    out = list(header)
    out.append("")
    out.extend(legend or [
        "Cells: median over the rounds (min-max). '+' higher is better, '-' lower is better.",
        "Parvis/peer: median (min-max) of the per-round ratios Parvis value / peer "
        "value, from rounds where both answered right.",
        "Server CPU = user+sys of the server's process tree (Parvis: parvisd and its "
        "PostgreSQL cluster) / operations."])
    tsv = ["\t".join(["workload", "metric", "label", "better", "server", "rounds_ok",
                      "median", "min", "max", "values", "parvis_ratio_median",
                      "parvis_ratio_min", "parvis_ratio_max", "status"])]
    parvis = next((s for s in servers if s.key == ref_key), None)
    peers = [s for s in servers if s is not parvis and s.key not in no_ratio]
    for w in workloads:
        res = results.get(w.id)
        if not res:
            continue
        out.append("")
        out.append(f"{w.id}  {w.title}")
        rows = [["metric"] + [s.name for s in servers]]
        for m in w.metrics:
            if getattr(m, "optional", False) and not any(
                    values(res.get(s.key, []), m.key) for s in servers):
                continue  # taken only on request (F5's floor)
            row = [f"{m.better or ' '} {m.label}"]
            for s in servers:
                rr = res.get(s.key, [])
                vals = values(rr, m.key)
                row.append("FAIL" if failed(rr) else cell(stats(vals), len(vals)))
            rows.append(row)
            ratio_cells = {}
            versus = getattr(m, "versus", None)
            if parvis and peers and m.better:
                label = ratio_label
                if versus:
                    vlabel = next((x.label for x in w.metrics if x.key == versus), versus)
                    label = f"this / peer's {vlabel}"
                rrow = ["    " + label, ""]
                for s in peers:
                    rat = pair_ratios(res.get(parvis.key, []), res.get(s.key, []), m.key,
                                      versus or m.key)
                    bad = failed(res.get(parvis.key, [])) or failed(res.get(s.key, []))
                    st = None if bad else stats(rat)
                    ratio_cells[s.key] = st
                    rrow.append(cell(st, len(rat), fmt_ratio) if st else "-")
                # keep the ratio row aligned with the server columns
                order = [s.key for s in servers]
                cells = {s.key: "" for s in servers}
                for s, c in zip(peers, rrow[2:]):
                    cells[s.key] = c
                rows.append([rrow[0]] + [cells[k] for k in order])
            for s in servers:
                rr = res.get(s.key, [])
                st = stats(values(rr, m.key))
                fl = failed(rr)
                rs = ratio_cells.get(s.key)
                tsv.append("\t".join([
                    w.id, m.key, m.label, m.better or "", s.key,
                    str(len(values(rr, m.key))),
                    *(("%.6g" % x) for x in (st or ())), *([""] * (3 - len(st or ()))),
                    ",".join("%.6g" % v for v in values(rr, m.key)),
                    *(("%.4g" % x) for x in (rs or ())), *([""] * (3 - len(rs or ()))),
                    "ok" if not fl else "FAIL: " + "; ".join(f"round {i}: {e}" for i, e in fl)
                    .replace("\t", " ").replace("\n", " ")]))
        out.extend(table(rows))
        for s in servers:
            bymsg = {}
            for i, e in failed(res.get(s.key, [])):
                bymsg.setdefault(str(e), []).append(str(i))
            for e, rounds in bymsg.items():
                out.append(f"  FAIL {s.name}, round{'s' if len(rounds) > 1 else ''} "
                           f"{', '.join(rounds)}: {e}")
    if notes:
        out.append("")
        out.append("Notes")
        for n in notes:
            out.append(f"  - {n}")
    return "\n".join(out) + "\n", "\n".join(tsv) + "\n"


def render_scaling(header, sizes, servers, results, nrounds, notes):
    """results[size][server key] = [per-round dict | Fail]. Returns (text, tsv)."""
    out = list(header)
    out.append("")
    out.append("PROPFIND Depth:1 allprop, one connection (latency, not load), then "
               "COPY (Depth: infinity) of the collection, MOVE of the copy and DELETE of it; "
               "median over the rounds (min-max).")
    parvis = next((s for s in servers if s.key == "parvis"), None)
    tsv = ["\t".join(["members", "server", "p50_ms", "p50_min", "p50_max", "p99_ms", "req_s",
                      "cpu_ms_per_req", "kib_per_response", "parvis_ratio_p50", "status",
                      "copy_s", "move_s", "delete_s"])]
    for key, label in (("p50", "PROPFIND p50 ms"), ("p99", "PROPFIND p99 ms"),
                       ("cpu_ms", "PROPFIND server CPU ms/req"), ("kib", "KiB/response"),
                       ("copy_s", "COPY s"), ("move_s", "MOVE s"),
                       ("delete_s", "DELETE s")):
        out.append("")
        out.append(label)
        rows = [["members"] + [s.name for s in servers]
                + [f"Parvis/{s.name}" for s in servers if parvis and s is not parvis]]
        for n in sizes:
            row = [f"{n:,}"]
            for s in servers:
                rr = results[n].get(s.key, [])
                row.append("FAIL" if failed(rr) else cell(stats(values(rr, key)), nrounds))
            for s in servers:
                if parvis and s is not parvis:
                    pr, qr = results[n].get(parvis.key, []), results[n].get(s.key, [])
                    st = None if failed(pr) or failed(qr) else stats(pair_ratios(pr, qr, key))
                    row.append(cell(st, nrounds, fmt_ratio))
            rows.append(row)
        out.extend(table(rows))
    for n in sizes:
        for s in servers:
            rr = results[n].get(s.key, [])
            for i, e in failed(rr):
                out.append(f"  FAIL {s.name}, {n:,} members, round {i}: {e}")
            def med(k):
                st = stats(values(rr, k))
                return "%.6g" % st[0] if st else ""
            p50 = stats(values(rr, "p50"))
            ratio = ""
            if parvis and s is not parvis:
                st = stats(pair_ratios(results[n].get(parvis.key, []), rr, "p50"))
                ratio = "%.4g" % st[0] if st else ""
            tsv.append("\t".join([
                str(n), s.name, med("p50"),
                "%.6g" % p50[1] if p50 else "", "%.6g" % p50[2] if p50 else "",
                med("p99"), med("req_s"), med("cpu_ms"), med("kib"), ratio,
                "ok" if not failed(rr) else "FAIL", med("copy_s"), med("move_s"),
                med("delete_s")]))
    if notes:
        out.append("")
        out.append("Notes")
        out.extend(f"  - {x}" for x in notes)
    return "\n".join(out) + "\n", "\n".join(tsv) + "\n"
