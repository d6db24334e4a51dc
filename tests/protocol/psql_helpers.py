"""psql sessions for protocol tests that hold a transaction open while
requests run: to stop writes at a chosen point, or to keep an old
transaction alive."""

import subprocess
import time


class PsqlSession:
    """An interactive psql session of the superuser."""

    def __init__(self, cluster):
        self.proc = subprocess.Popen(
            [cluster.bindir + "/psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
             "-h", cluster.socket_dir, "-p", str(cluster.port), "-U", "postgres",
             "-d", "parvis"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)

    def run(self, sql):
        """Runs SQL; returns its output lines."""
        self.proc.stdin.write(sql + "\n\\echo parvis-done\n")
        self.proc.stdin.flush()
        out = []
        while True:
            line = self.proc.stdout.readline()
            assert line != "", "psql ended:\n" + "".join(out)
            if line.strip() == "parvis-done":
                return out
            out.append(line.strip())

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(30)


def wait_for_waiters(cluster, n, timeout=15):
    """Until N backends of the database wait for a lock."""
    deadline = time.monotonic() + timeout
    while True:
        got = int(cluster.psql(
            "select count(*) from pg_stat_activity where datname = 'parvis' "
            "and wait_event_type = 'Lock'")[0][0])
        if got >= n:
            return
        assert time.monotonic() < deadline, \
            "%d requests never got held (%d are)" % (n, got)
        time.sleep(0.02)


def wait_sealed(cluster, timeout=15):
    """Until the audit sealer has sealed every audit row written so far.
    A sealer's transaction still running when a sync token is read holds
    the token's oldest transaction back (decision 0018), so that changes
    committed just before may be reported again at the next sync, which
    RFC 6578 allows.  Tests asserting that a sync reports nothing wait for
    this before they read the token."""
    deadline = time.monotonic() + timeout
    while cluster.psql("select 1 from audit_pending limit 1"):
        assert time.monotonic() < deadline, "audit rows left unsealed"
        time.sleep(0.02)
