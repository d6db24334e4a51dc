"""Protocol test harness: a real parvisd on a private, throwaway PostgreSQL.

Follows PostgreSQL's Test::Cluster idea: initdb in a temp dir with trust
auth, fsync off, the Unix socket in the temp dir and no TCP listener. When
the tests run as root (CI), the cluster is created and run as user
``postgres`` through runuser, since initdb and postgres refuse root.

Fixtures (see each docstring):
    cluster       session  Cluster: .socket_dir .port .dsn .psql() .stop() .start() .restart()
    bins          session  {"parvisd": path, "parvisctl": path} from $PARVIS_BUILD_DIR
    ctl           session  ctl(*args, input=None, check=True) -> CompletedProcess
    seed          session  migrated db with spaces s1, s2 and users; -> {user: password}
    server        session  one running ParvisServer
    new_server    function factory of extra ParvisServer instances
    session_for   function session_for(user) -> requests.Session with Basic auth
    coll          function URL of a fresh collection in s1 (created by alice)

Helpers for tests that need their own database (tests/protocol/test_failover.py):
Cluster() .init() or .init_standby(primary), .configure({setting: value}),
.promote(); make_ctl(bins, dsn) -> ctl; seed_database(ctl, spaces, users).
Clusters made this way are the test's to destroy(); the harness does not
restart them.

ParvisServer(bins, cluster, extra_conf=None): .start() .stop() .kill() .url
.space_url(slug) .pid .vmhwm_kib() .log_text() .access_log_text(). stop()
fails the test on a non-zero exit or a sanitizer report; after each test a
sanitizer report in any running server's log fails that test.
Mark tests that move hundreds of MiB with @pytest.mark.heavy: they are
deselected under sanitizers.

Environment:
    PARVIS_BUILD_DIR   build directory holding parvisd and parvisctl (default
                       <project>/build; a relative path is taken from <project>)
    PARVIS_KEEP_TMP=1  keep the temp dirs (cluster, server logs) for inspection
"""

import csv
import glob
import io
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import pytest
import requests

from dav_helpers import CURRENT_REVISION_MISMATCH_SQL

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SEED_USERS = {
    # user: (space, role)
    "alice": ("s1", "editor"),
    "bob": ("s1", "reader"),
    "carol": ("s2", "editor"),
    "mgr": ("s1", "manager"),
}
SEED_SPACES = {"s1": "Space one", "s2": "Space two"}

# Lines that mean a sanitizer found a bug in the process writing the log.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")

# Local servers must never be reached through a proxy from the environment.
for _var in ("NO_PROXY", "no_proxy"):
    _hosts = [h for h in os.environ.get(_var, "").split(",") if h]
    for _h in ("127.0.0.1", "localhost"):
        if _h not in _hosts:
            _hosts.append(_h)
    os.environ[_var] = ",".join(_hosts)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "heavy: moves hundreds of MiB; deselected under sanitizers (-m 'not heavy')",
    )


def _keep_tmp():
    return os.environ.get("PARVIS_KEEP_TMP", "") not in ("", "0")


def _is_root():
    return os.geteuid() == 0


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path, lines=60):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return f"(cannot read {path}: {e})"


def _sanitizer_report(text):
    """The part of TEXT from the first sanitizer report on, or None."""
    pos = [text.find(m) for m in SANITIZER_MARKERS]
    pos = [p for p in pos if p >= 0]
    if not pos:
        return None
    start = text.rfind("\n", 0, min(pos)) + 1
    # Include the "=====" banner line ASan prints just before the report.
    prev = text.rfind("\n", 0, max(start - 1, 0)) + 1
    if text[prev:start].startswith("====="):
        start = prev
    return text[start:start + 20000]


# --------------------------------------------------------------- PostgreSQL


def _pg_bindir():
    def version_key(path):
        v = os.path.basename(os.path.dirname(path))
        return [int(x) if x.isdigit() else 0 for x in re.split(r"[.]", v)]

    dirs = [d for d in glob.glob("/usr/lib/postgresql/*/bin")
            if os.access(os.path.join(d, "initdb"), os.X_OK)]
    if dirs:
        return sorted(dirs, key=version_key)[-1]
    try:
        d = subprocess.run(["pg_config", "--bindir"], capture_output=True,
                           text=True, check=True).stdout.strip()
        if os.access(os.path.join(d, "initdb"), os.X_OK):
            return d
    except (OSError, subprocess.CalledProcessError):
        pass
    pytest.fail("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
                "(install Debian package postgresql: ./dev.sh deps --test)", pytrace=False)


class Cluster:
    """A private PostgreSQL cluster in a temp dir (Unix socket only).

    Superuser is ``postgres`` (trust auth); role ``parvis`` owns database
    ``parvis``. ``dsn`` is the libpq conninfo parvisd and parvisctl use.
    """

    def __init__(self):
        self.bindir = _pg_bindir()
        self.as_postgres = _is_root()
        self.basedir = self._make_basedir()
        self.socket_dir = self.basedir
        self.datadir = os.path.join(self.basedir, "data")
        self.logfile = os.path.join(self.basedir, "postgresql.log")
        self.port = free_port()
        self.dsn = f"host={self.socket_dir} port={self.port} dbname=parvis user=parvis"
        self.running = False

    def _make_basedir(self):
        d = tempfile.mkdtemp(prefix="parvis-pg-")
        if not self.as_postgres:
            return d
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("running as root but there is no user postgres to run "
                        "PostgreSQL as (install Debian package postgresql)", pytrace=False)
        os.chown(d, pw.pw_uid, pw.pw_gid)
        if self._run(["test", "-w", d], check=False).returncode != 0:
            # $TMPDIR is not reachable by postgres (e.g. under /root).
            shutil.rmtree(d, ignore_errors=True)
            d = tempfile.mkdtemp(prefix="parvis-pg-", dir="/tmp")
            os.chown(d, pw.pw_uid, pw.pw_gid)
        return d

    def _cmd(self, argv):
        if self.as_postgres:
            return ["runuser", "-u", "postgres", "--"] + argv
        return argv

    def _run(self, argv, check=True, **kw):
        """Runs a server-side command (as postgres when root)."""
        p = subprocess.run(self._cmd(argv), cwd="/", stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, **kw)
        if check and p.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv)} failed (exit {p.returncode}):\n{p.stdout}{p.stderr}"
                + (f"\n--- {self.logfile} ---\n{_tail(self.logfile)}"
                   if os.path.exists(self.logfile) else ""))
        return p

    def _bin(self, name):
        return os.path.join(self.bindir, name)

    def init(self):
        self._run([self._bin("initdb"), "-D", self.datadir, "-A", "trust", "-U", "postgres",
                   "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"])
        with open(os.path.join(self.datadir, "postgresql.conf"), "a") as f:
            f.write(
                "\n# --- parvis test harness\n"
                "listen_addresses = ''\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
                f"port = {self.port}\n"
                "fsync = off\n"
                "synchronous_commit = off\n"
                "full_page_writes = off\n"
                "max_connections = 300\n"
                "log_min_messages = warning\n"
                "log_statement = 'none'\n"
            )

    def configure(self, settings):
        """Appends SETTINGS ({name: value}, each value a postgresql.conf
        literal: 'on', 4, "'*'") to postgresql.conf; later lines win, so
        this overrides what init() wrote.  Takes effect at the next start."""
        with open(os.path.join(self.datadir, "postgresql.conf"), "a") as f:
            f.write("\n# --- parvis test\n")
            f.write("".join(f"{k} = {v}\n" for k, v in settings.items()))

    def init_standby(self, primary):
        """Instead of init(): makes this cluster a streaming standby of the
        running cluster PRIMARY.  pg_basebackup -R copies its data directory
        (with its settings, then this cluster's own port and socket) and
        writes primary_conninfo and standby.signal; -C -S creates the
        physical replication slot "standby_<port>" on the primary, so the
        primary keeps the WAL the standby has not received yet.  The
        superuser connects for replication under initdb's default
        pg_hba.conf (local replication all trust)."""
        self._run([self._bin("pg_basebackup"), "-D", self.datadir,
                   "-h", primary.socket_dir, "-p", str(primary.port), "-U", "postgres",
                   "-R", "-X", "stream", "-C", "-S", f"standby_{self.port}",
                   "-c", "fast", "--no-sync"])
        self.configure({"unix_socket_directories": f"'{self.socket_dir}'",
                        "port": self.port})

    def promote(self):
        """pg_ctl promote -w: ends recovery on a standby, which replays all
        the WAL it has received and then accepts writes."""
        self._run([self._bin("pg_ctl"), "-D", self.datadir, "-w", "-t", "60", "promote"])

    def start(self):
        """pg_ctl start -w."""
        self._run([self._bin("pg_ctl"), "-D", self.datadir, "-l", self.logfile,
                   "-w", "-t", "60", "start"])
        self.running = True

    def stop(self, mode="fast"):
        """pg_ctl stop -w -m fast."""
        self._run([self._bin("pg_ctl"), "-D", self.datadir, "-w", "-t", "60",
                   "-m", mode, "stop"])
        self.running = False

    def restart(self, mode="fast"):
        """pg_ctl restart -w -m fast."""
        self._run([self._bin("pg_ctl"), "-D", self.datadir, "-l", self.logfile,
                   "-w", "-t", "60", "-m", mode, "restart"])
        self.running = True

    def psql(self, sql, db="parvis", messages=False):
        """Runs SQL as superuser postgres; returns the rows of every result
        as a list of tuples of str (NULL reads as ""), and with messages
        also the server's messages (psql's stderr) as a second value.
        Raises RuntimeError on any error (ON_ERROR_STOP)."""
        # psql is a client: it may run as root. CSV output keeps values that
        # hold newlines or separators intact, over several result sets.
        p = subprocess.run(
            [self._bin("psql"), "-X", "-q", "-At", "--csv", "-v", "ON_ERROR_STOP=1",
             "-h", self.socket_dir, "-p", str(self.port), "-U", "postgres", "-d", db,
             "-f", "-"],
            input=sql, capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            raise RuntimeError(f"psql failed (exit {p.returncode}) on:\n{sql}\n{p.stderr}")
        # A row of one empty (or NULL) value is an empty line, which csv reads as [].
        rows = [tuple(row) if row else ("",)
                for row in csv.reader(io.StringIO(p.stdout, newline=""))]
        return (rows, p.stderr) if messages else rows

    def destroy(self):
        if self.running:
            try:
                self.stop(mode="immediate")
            except RuntimeError:
                pass
        if _keep_tmp():
            print(f"\nparvis: kept PostgreSQL cluster dir {self.basedir}")
        else:
            shutil.rmtree(self.basedir, ignore_errors=True)


_clusters = []


@pytest.fixture(scope="session")
def cluster():
    """A throwaway PostgreSQL cluster with role and database ``parvis``."""
    c = Cluster()
    _clusters.append(c)
    try:
        c.init()
        c.start()
        c.psql("CREATE ROLE parvis LOGIN", db="postgres")
        c.psql("CREATE DATABASE parvis OWNER parvis", db="postgres")
    except BaseException:
        c.destroy()
        raise
    yield c
    c.destroy()


# --------------------------------------------------------------- binaries


def build_dir():
    d = os.environ.get("PARVIS_BUILD_DIR") or os.path.join(ROOT, "build")
    return d if os.path.isabs(d) else os.path.join(ROOT, d)


@pytest.fixture(scope="session")
def bins():
    """Paths of parvisd and parvisctl in $PARVIS_BUILD_DIR."""
    d = build_dir()
    out = {}
    for name in ("parvisd", "parvisctl"):
        path = os.path.join(d, name)
        if not os.access(path, os.X_OK):
            pytest.fail(f"{path} not found or not executable: build first "
                        f"(./dev.sh build, or set PARVIS_BUILD_DIR)", pytrace=False)
        out[name] = path
    return out


class CtlError(subprocess.CalledProcessError):
    def __str__(self):
        return (f"parvisctl {' '.join(self.cmd[1:])} exited {self.returncode}\n"
                f"stdout: {self.stdout}\nstderr: {self.stderr}")


def make_ctl(bins, dsn):
    """ctl(*args, input=None, check=True) running parvisctl with
    PARVIS_DSN=dsn (see the ctl fixture)."""
    env = dict(os.environ)
    env["PARVIS_DSN"] = dsn

    def run(*args, input=None, check=True, timeout=120):
        argv = [bins["parvisctl"]] + [str(a) for a in args]
        p = subprocess.run(argv, input=input, capture_output=True, text=True,
                           env=env, timeout=timeout,
                           stdin=subprocess.DEVNULL if input is None else None)
        report = _sanitizer_report(p.stderr)
        if report:
            pytest.fail(f"sanitizer report from parvisctl {' '.join(argv[1:])}:\n{report}",
                        pytrace=False)
        if check and p.returncode != 0:
            raise CtlError(p.returncode, argv, p.stdout, p.stderr)
        return p

    return run


def seed_database(ctl, spaces=None, users=None):
    """Migrates through CTL (see make_ctl) and creates SPACES {slug: title}
    and USERS {user: (space, role)} (default: SEED_SPACES, SEED_USERS),
    each with password NAME-pw.  Returns {user: password}."""
    spaces = SEED_SPACES if spaces is None else spaces
    users = SEED_USERS if users is None else users
    ctl("migrate")
    for slug, title in spaces.items():
        ctl("space", "create", slug, "--title", title)
    passwords = {}
    for user, (space, role) in users.items():
        passwords[user] = user + "-pw"
        ctl("user", "add", user, "--password-stdin", input=passwords[user] + "\n")
        ctl("member", "add", space, user, "--role", role)
    return passwords


@pytest.fixture(scope="session")
def ctl(bins, cluster):
    """ctl(*args, input=None, check=True) runs parvisctl on the test cluster
    (PARVIS_DSN=cluster.dsn) and returns the CompletedProcess (text mode,
    stdout/stderr captured). With check, a non-zero exit raises CtlError (a
    subprocess.CalledProcessError whose message shows stderr)."""
    return make_ctl(bins, cluster.dsn)


@pytest.fixture(scope="session")
def seed(ctl):
    """Migrated database with spaces s1 "Space one", s2 "Space two" and users
    (password NAME-pw): alice editor of s1, bob reader of s1, carol editor of
    s2, mgr manager of s1. Returns {user: password}."""
    return seed_database(ctl)


# --------------------------------------------------------------- parvisd

_live_servers = []   # running, for the per-test sanitizer watch
_all_servers = []    # every instance, reaped and cleaned up at session end


class ParvisServer:
    """A parvisd process with its own conf, log and access log in a temp dir.

    cluster: anything with a ``dsn`` attribute (a Cluster, or the
    conninfo of several).  extra_conf: dict {key: value} or str of
    "key = value" lines, appended to the generated conf (listen, dsn,
    access_log).
    """

    START_TIMEOUT = 20.0
    STOP_TIMEOUT = 30.0

    def __init__(self, bins, cluster, extra_conf=None):
        self.bins = bins
        self.cluster = cluster
        self.extra_conf = extra_conf
        self.tmpdir = tempfile.mkdtemp(prefix="parvis-srv-")
        self.conf_path = os.path.join(self.tmpdir, "parvis.conf")
        self.log_path = os.path.join(self.tmpdir, "parvisd.log")
        self.access_log_path = os.path.join(self.tmpdir, "access.log")
        self.chunk_cache_dir = os.path.join(self.tmpdir, "chunk-cache")
        self.port = None
        self.proc = None
        self.returncode = None
        self._checked_upto = 0
        self._cleaned = False
        self.respawn = False   # set on the session server: restart if it dies
        _all_servers.append(self)

    # -- configuration

    def _write_conf(self):
        lines = [
            "# generated by tests/protocol/conftest.py",
            f"listen = 127.0.0.1:{self.port}",
            f"dsn = {self.cluster.dsn}",
            f"access_log = {self.access_log_path}",
            # The throwaway cluster runs with fsync off, for speed.
            "allow_unsafe_database = true",
            # As ./dev.sh run serves: large chunks cached on disk.
            f"chunk_cache_dir = {self.chunk_cache_dir}",
        ]
        if isinstance(self.extra_conf, dict):
            lines += [f"{k} = {v}" for k, v in self.extra_conf.items()]
        elif self.extra_conf:
            lines.append(str(self.extra_conf))
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def space_url(self, slug):
        return f"{self.url}/dav/spaces/{slug}/"

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    # -- life cycle

    def start(self):
        """Starts parvisd and waits until GET /healthz answers 200. A
        restart (after stop() or kill()) keeps the same port, so URLs taken
        before stay valid."""
        assert not self.running, "server already running"
        restart = self.port is not None
        for attempt in range(5):
            if not restart:
                self.port = free_port()
            self._write_conf()
            try:
                self._spawn_and_wait()
                return self
            except _PortInUse:
                if attempt == 4:
                    raise RuntimeError(f"parvisd: port {self.port} in use, 5 attempts:\n"
                                       + self.log_tail())
                time.sleep(1.0 if restart else 0)

    def _spawn_and_wait(self):
        env = dict(os.environ)
        # The environment takes precedence over the conf file: drop it.
        env.pop("PARVIS_DSN", None)
        env.pop("PARVIS_LISTEN", None)
        env.pop("PARVIS_CHUNK_CACHE_DIR", None)
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [self.bins["parvisd"], "-c", self.conf_path],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=env, cwd=self.tmpdir)
        finally:
            log.close()
        self.returncode = None
        _live_servers.append(self)
        deadline = time.monotonic() + self.START_TIMEOUT
        http = requests.Session()
        http.trust_env = False
        try:
            while True:
                rc = self.proc.poll()
                if rc is not None:
                    self.returncode = rc
                    _live_servers.remove(self)
                    text = self.log_text()
                    if re.search(r"address already in use|EADDRINUSE", text, re.I):
                        raise _PortInUse()
                    raise RuntimeError(f"parvisd exited with status {rc} during start-up:\n"
                                       + self.log_tail())
                try:
                    r = http.get(self.url + "/healthz", timeout=2)
                    if r.status_code == 200:
                        return
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError(
                        f"parvisd did not answer 200 on /healthz within "
                        f"{self.START_TIMEOUT:.0f} s:\n" + self.log_tail())
                time.sleep(0.05)
        finally:
            http.close()

    def stop(self):
        """SIGTERM, wait, and assert a clean exit (status 0, no sanitizer
        report in the log)."""
        if self.proc is None:
            return
        was_running = self.proc.poll() is None
        if was_running:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=self.STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._forget()
                self.check_sanitizer()
                pytest.fail(f"parvisd did not exit within {self.STOP_TIMEOUT:.0f} s "
                            f"of SIGTERM:\n" + self.log_tail(), pytrace=False)
        self.returncode = self.proc.returncode
        self._forget()
        self.check_sanitizer()
        if self.returncode != 0:
            when = "on SIGTERM" if was_running else "before stop()"
            pytest.fail(f"parvisd {_exit_text(self.returncode)} {when}:\n"
                        + self.log_tail(), pytrace=False)

    def kill(self):
        """SIGKILL and reap (no exit status check)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.returncode = self.proc.returncode
        self._forget()

    def _forget(self):
        if self in _live_servers:
            _live_servers.remove(self)

    # -- inspection

    def vmhwm_kib(self):
        """Peak resident set size (VmHWM) of the running parvisd, in KiB."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        raise RuntimeError("VmHWM not found in /proc/PID/status")

    def log_text(self):
        """parvisd's stdout+stderr so far."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_tail(self, lines=60):
        return f"--- {self.log_path} (last {lines} lines) ---\n" + _tail(self.log_path, lines)

    def access_log_text(self):
        try:
            with open(self.access_log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def check_sanitizer(self):
        """Fails the current test if a sanitizer report appeared in the log
        since the last check."""
        text = self.log_text()
        report = _sanitizer_report(text[self._checked_upto:])
        self._checked_upto = len(text)
        if report:
            pytest.fail(f"sanitizer report in {self.log_path}:\n{report}", pytrace=False)

    def cleanup(self):
        """Removes the temp dir (unless PARVIS_KEEP_TMP is set)."""
        if self._cleaned:
            return
        self._cleaned = True
        if _keep_tmp():
            print(f"\nparvis: kept parvisd dir {self.tmpdir}")
        else:
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if exc[0] is None:
            self.stop()
        else:
            self.kill()

    def __repr__(self):
        return f"<ParvisServer {self.url} pid={self.pid}>"


class _PortInUse(Exception):
    pass


def _teardown_server(srv):
    try:
        if srv.running or srv in _live_servers:
            # Running, or died on its own: stop() reports a bad exit.
            srv.stop()
        else:
            # Killed or stopped by the test: still report a sanitizer finding.
            srv.kill()
            srv.check_sanitizer()
    finally:
        if srv.running:
            srv.kill()
        srv.cleanup()


@pytest.fixture(scope="session")
def server(bins, cluster, seed):
    """The shared parvisd, on the seeded database; stopped (cleanly) at the
    end of the session."""
    srv = ParvisServer(bins, cluster)
    srv.respawn = True
    try:
        srv.start()
    except BaseException:
        srv.kill()
        srv.cleanup()
        raise
    yield srv
    _teardown_server(srv)
    # Whatever the session's tests did, each resource still agrees with
    # its current revision (the copy of migration 0010).
    rows = cluster.psql(CURRENT_REVISION_MISMATCH_SQL)
    if rows:
        pytest.fail(f"resources whose current revision columns differ from "
                    f"the revision: {rows[:20]}", pytrace=False)


@pytest.fixture
def new_server(bins, cluster, seed):
    """new_server(extra_conf=None, start=True) -> a further ParvisServer on
    the same cluster; each is stopped (or reaped, if the test killed it) at
    teardown."""
    made = []

    def make(extra_conf=None, start=True):
        srv = ParvisServer(bins, cluster, extra_conf)
        made.append(srv)
        if start:
            srv.start()
        return srv

    yield make
    errors = []
    for srv in made:
        try:
            _teardown_server(srv)
        except BaseException as e:  # pytest.fail raises a BaseException
            errors.append(e)
    if errors:
        raise errors[0]


@pytest.fixture
def debug_node(new_server, monkeypatch):
    """A further parvisd logging at level debug, where the caches say what
    they serve (decision 0026: "listing from the cache", 0027: "target
    from the cache")."""
    monkeypatch.setenv("PARVIS_LOG_LEVEL", "debug")
    return new_server()


@pytest.fixture(scope="session", autouse=True)
def _reap_servers():
    """Kills and cleans up, at session end, servers a test made directly
    with ParvisServer(...) and left behind."""
    yield
    for srv in _all_servers:
        srv.kill()
        srv.cleanup()


@pytest.fixture(autouse=True)
def _harness_watch():
    """After each test: restarts the cluster if the test left it stopped
    (so one failure does not cascade), and fails the test if a running
    parvisd logged a sanitizer report during it (so the report is charged
    to the right test)."""
    yield
    for c in _clusters:
        if not c.running:
            c.start()
    problems = []
    for srv in list(_live_servers):
        try:
            srv.check_sanitizer()
        except BaseException as e:  # pytest.fail raises a BaseException
            problems.append(str(e))
        if srv.proc.poll() is not None:
            # Died on its own (a test that means to kill it uses .kill()).
            srv.returncode = srv.proc.returncode
            srv._forget()
            problems.append(f"parvisd {srv.url} died during this test "
                            f"({_exit_text(srv.returncode)}):\n{srv.log_tail()}")
            if srv.respawn:
                # The shared server: bring it back so later tests can run.
                try:
                    srv.start()
                except Exception as e:
                    problems.append(f"restarting parvisd failed: {e}")
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


def _exit_text(rc):
    if rc is not None and rc < 0:
        try:
            return f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exit status {rc}"


# --------------------------------------------------------------- HTTP


@pytest.fixture
def session_for():
    """session_for(user) -> requests.Session with Basic auth (user, user-pw)."""
    made = []

    def make(user, password=None):
        s = requests.Session()
        s.trust_env = False
        s.auth = (user, password if password is not None else user + "-pw")
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.fixture
def coll(server, session_for):
    """URL (trailing slash) of a fresh, uniquely named collection in s1,
    created by alice with MKCOL."""
    url = server.space_url("s1") + "t-" + uuid.uuid4().hex[:12] + "/"
    r = session_for("alice").request("MKCOL", url)
    assert r.status_code == 201, f"MKCOL {url} -> {r.status_code}\n{r.text}"
    return url
