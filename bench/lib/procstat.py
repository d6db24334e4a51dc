"""Server CPU time and peak RSS from /proc.

CPU of a server = utime + stime + cutime + cstime summed over the live
processes of its trees (all threads included). A process that exits between
two snapshots is reaped by its parent in the tree, whose cutime/cstime then
carry its time, so deltas stay right when Apache recycles children or
PostgreSQL forks a backend.

Peak RSS = sum of VmHWM over the processes of the RSS trees, after the peak
was reset (echo 5 > /proc/PID/clear_refs, root only) at the start of a
workload.
"""

import os

CLK = os.sysconf("SC_CLK_TCK")


def _scan():
    """{pid: (ppid, cpu ticks)} for every process."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(b")") + 2:].split()
        # fields after comm: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17)
        ppid = int(rest[1])
        ticks = int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])
        out[int(name)] = (ppid, ticks)
    return out


def tree(roots, table=None):
    table = table if table is not None else _scan()
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    seen = []
    stack = [p for p in roots if p in table]
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.append(p)
        stack.extend(children.get(p, ()))
    return seen, table


def cpu_seconds(roots):
    pids, table = tree(roots)
    return sum(table[p][1] for p in pids) / CLK


def reset_peak_rss(roots):
    pids, _ = tree(roots)
    for p in pids:
        try:
            with open(f"/proc/{p}/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass


def peak_rss_mib(roots, field="VmHWM:"):
    pids, _ = tree(roots)
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith(field):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total / 1024.0


def rss_mib(roots):
    """Current resident set (VmRSS) of the trees, MiB."""
    return peak_rss_mib(roots, "VmRSS:")


class Meter:
    """CPU and peak RSS of one server around a piece of work."""

    def __init__(self, server, reset_rss=True):
        self.server = server
        self.reset_rss = reset_rss

    def __enter__(self):
        if self.reset_rss:
            reset_peak_rss(self.server.rss_roots())
        self.c0 = cpu_seconds(self.server.cpu_roots())
        self.d0 = cpu_seconds(self.server.db_roots())
        return self

    def __exit__(self, *exc):
        self.cpu = cpu_seconds(self.server.cpu_roots()) - self.c0
        self.cpu_db = cpu_seconds(self.server.db_roots()) - self.d0
        self.rss = peak_rss_mib(self.server.rss_roots())
        return False

    def db_pct(self):
        """Share of the server CPU spent in its database processes, or None."""
        if not self.server.db_roots() or self.cpu <= 0:
            return None
        return 100.0 * self.cpu_db / self.cpu
