"""Servers under test, each started privately on 127.0.0.1 with a generated
configuration in a temp dir, access logs off, keep-alive on, Basic auth.

Every server serves the same URL layout, /dav/spaces/bench/, to user "bench".
Peers get the cheapest password check they support (nginx and lighttpd: plain
text; Apache: htpasswd -s, one SHA-1, since Apache refuses plain text on
Linux); Parvis runs with its normal Argon2id hash and credential cache.

A Server exposes:
    key, name          "parvis" / "Parvis"
    host, port, base   where to send requests (base = "/dav/spaces/bench/")
    cpu_roots()        pids whose process trees make up the server (for CPU)
    rss_roots()        pids whose process trees count for peak RSS
    version()          one line for the report header
    kinds              workload families it takes part in ("files", "caldav")
    cal_home           CalDAV servers: the collection new calendars go into
    new_calendar(name) CalDAV servers: MKCALENDAR of a fresh calendar, its path
"""

import glob
import hashlib
import os
import pwd
import re
import resource
import shutil
import signal
import socket
import subprocess
import time

import client

BENCH_USER = "bench"
SPACE = "bench"
BASE = f"/dav/spaces/{SPACE}/"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(argv, check=True, **kw):
    kw.setdefault("stdin", subprocess.DEVNULL)
    p = subprocess.run(argv, capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed (exit {p.returncode}):\n"
                           f"{p.stdout}{p.stderr}")
    return p


def write_items(folder, items):
    """Write items [(file name, bytes or str)] into folder (bulk loads)."""
    for name, text in items:
        with open(os.path.join(folder, name), "wb") as f:
            f.write(text if isinstance(text, bytes) else text.encode())


def tail(path, n=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError as e:
        return f"(cannot read {path}: {e})"


def chown_r(path, user):
    pw = pwd.getpwnam(user)
    for d, dirs, files in os.walk(path):
        os.chown(d, pw.pw_uid, pw.pw_gid)
        for f in files:
            os.chown(os.path.join(d, f), pw.pw_uid, pw.pw_gid)


def pid_alive(pid):
    """True if PID exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            s = f.read()
    except OSError:
        return False
    return s[s.rindex(b")") + 2:s.rindex(b")") + 3] != b"Z"


class Server:
    key = "?"
    name = "?"
    kinds = ("files",)

    def __init__(self, tmp, password):
        self.tmp = tmp
        self.dir = os.path.join(tmp, self.key)
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        self.password = password
        self.host = "127.0.0.1"
        self.port = free_port()
        self.base = BASE
        self.client = client.Client(self.host, self.port, BENCH_USER, password)

    # -- lifecycle
    def start(self):
        raise NotImplementedError

    def stop(self):
        raise NotImplementedError

    def cpu_roots(self):
        raise NotImplementedError

    def rss_roots(self):
        return self.cpu_roots()

    def db_roots(self):
        """Database processes within cpu_roots() (Parvis: PostgreSQL)."""
        return []

    def version(self):
        return "?"

    def logs(self):
        return []

    def exit_status(self):
        """How a server process that died ended, if we can tell."""
        p = getattr(self, "proc", None)
        if p is None:
            return "?"
        rc = p.poll()
        if rc is None:
            return "?"
        if rc < 0:
            try:
                return f"killed by {signal.Signals(-rc).name}"
            except ValueError:
                return f"killed by signal {-rc}"
        return f"exit status {rc}"

    def new_calendar(self, name):
        """MKCALENDAR of a fresh calendar NAME in cal_home; returns its path."""
        path = f"{self.cal_home}{name}/"
        st, _, data = self.client.once("MKCALENDAR", path)
        if st != 201:
            raise client.Fail(f"MKCALENDAR {path}: status {st} {data[:200]!r}")
        return path

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            for pid in self.cpu_roots():
                if not pid_alive(pid):
                    raise RuntimeError(f"{self.name} exited during start-up\n"
                                       + self.log_tails())
            try:
                st, _, _ = self.client.once("PROPFIND", self.base, body=client.ALLPROP,
                                            headers={"Depth": "0"})
                if st == 207:
                    return
                last = f"status {st}"
            except OSError as e:
                last = str(e)
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout}s ({last})\n"
                           + self.log_tails())

    def log_tails(self):
        return "".join(f"--- {p} ---\n{tail(p)}" for p in self.logs() if os.path.exists(p))

    def _stop_proc(self, sig=signal.SIGTERM, timeout=30):
        """Stops our Popen child; returns its exit code (negative: signal)."""
        p = getattr(self, "proc", None)
        if p is None:
            return None
        if p.poll() is None:
            try:
                p.send_signal(sig)
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return p.returncode

    def _docroot(self):
        root = os.path.join(self.dir, "root")
        os.makedirs(os.path.join(root, BASE.strip("/")))
        return root

    def _stop_pid(self, pid, sig=signal.SIGTERM, timeout=30):
        if not pid or not pid_alive(pid):
            return
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                r, _ = os.waitpid(pid, os.WNOHANG)
                if r == pid:
                    return
            except ChildProcessError:
                if not pid_alive(pid):
                    return
            time.sleep(0.05)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# ----------------------------------------------------------------- Apache

APACHE_MODULES = ["mpm_event", "authn_core", "authn_file", "authz_core", "authz_user",
                  "auth_basic", "mime", "dav", "dav_fs"]


class ApacheProcess:
    """A private Apache httpd: its configuration's common head, start with
    the pid file awaited, stop (for Apache + mod_dav_fs and DAViCal)."""

    def _apache_head(self, modules, server_name):
        d = self.dir
        for sub in ("run", "lock", "log"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        chown_r(os.path.join(d, "lock"), "www-data")
        self.pidfile = os.path.join(d, "run", "apache2.pid")
        self.errlog = os.path.join(d, "log", "error.log")
        mods = "\n".join(f"LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so"
                         for m in modules)
        return f"""# generated by bench/: private Apache httpd ({self.name})
ServerRoot {d}
{mods}
Listen 127.0.0.1:{self.port}
ServerName {server_name}
User www-data
Group www-data
PidFile {self.pidfile}
DefaultRuntimeDir {d}/run
Mutex file:{d}/lock default
ErrorLog {self.errlog}
LogLevel warn
# no CustomLog: access log off
Timeout 300
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 65
"""

    def _apache_start(self, conf):
        d = self.dir
        self.conf = os.path.join(d, "apache2.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.env = dict(os.environ, APACHE_RUN_DIR=f"{d}/run", APACHE_LOCK_DIR=f"{d}/lock",
                        APACHE_LOG_DIR=f"{d}/log", APACHE_PID_FILE=self.pidfile,
                        APACHE_RUN_USER="www-data", APACHE_RUN_GROUP="www-data")
        run(["apache2", "-f", self.conf, "-k", "start"], env=self.env)
        deadline = time.monotonic() + 30
        self.pid = None
        while time.monotonic() < deadline:
            try:
                with open(self.pidfile) as f:
                    self.pid = int(f.read().strip())
                break
            except (OSError, ValueError):
                time.sleep(0.05)
        if not self.pid:
            raise RuntimeError(f"{self.name}: Apache wrote no pid file\n" + self.log_tails())
        self.wait_ready()

    def _apache_stop(self):
        if getattr(self, "pid", None):
            run(["apache2", "-f", self.conf, "-k", "stop"], check=False, env=self.env)
            deadline = time.monotonic() + 30
            while pid_alive(self.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            self._stop_pid(self.pid, signal.SIGKILL)
            self.pid = None


class Apache(Server, ApacheProcess):
    key = "apache"
    name = "Apache"

    def start(self):
        d = self.dir
        root = self._docroot()
        pwfile = os.path.join(d, "htpasswd")
        # -s: one SHA-1 per request, the cheapest scheme Apache accepts on Linux
        # (plain text is refused there; bcrypt even at cost 4 is dearer).
        run(["htpasswd", "-c", "-b", "-s", pwfile, BENCH_USER, self.password])
        chown_r(root, "www-data")
        os.chmod(pwfile, 0o644)
        conf = self._apache_head(APACHE_MODULES, "127.0.0.1") + f"""LimitRequestBody 0
# Debian's mpm_event.conf
StartServers 2
MinSpareThreads 25
MaxSpareThreads 75
ThreadLimit 64
ThreadsPerChild 25
MaxRequestWorkers 150
MaxConnectionsPerChild 0
TypesConfig /etc/mime.types
DocumentRoot {root}
DavLockDB {d}/lock/DavLock
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory {root}>
    AllowOverride None
    Require all granted
</Directory>
<Location {BASE}>
    Dav On
    AuthType Basic
    AuthName "bench"
    AuthBasicProvider file
    AuthUserFile {pwfile}
    Require valid-user
</Location>
"""
        self._apache_start(conf)

    def stop(self):
        self._apache_stop()

    def cpu_roots(self):
        return [self.pid]

    def logs(self):
        return [self.errlog]

    def version(self):
        out = run(["apache2", "-v"], check=False).stdout
        m = re.search(r"Apache/(\S+)", out)
        return f"Apache httpd {m.group(1) if m else '?'} (mpm event, mod_dav_fs)"


# ------------------------------------------------------------------ nginx

NGINX_DAV_EXT = "/usr/lib/nginx/modules/ngx_http_dav_ext_module.so"


class Nginx(Server):
    key = "nginx"
    name = "nginx"

    def start(self):
        d = self.dir
        root = self._docroot()
        tmpdirs = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
        for t in tmpdirs:
            os.makedirs(os.path.join(d, "tmp", t))
        pwfile = os.path.join(d, "htpasswd")
        with open(pwfile, "w") as f:
            f.write(f"{BENCH_USER}:{{PLAIN}}{self.password}\n")
        os.chmod(pwfile, 0o644)
        chown_r(root, "www-data")
        chown_r(os.path.join(d, "tmp"), "www-data")
        self.errlog = os.path.join(d, "error.log")
        conf = f"""# generated by bench/: private nginx + dav + dav-ext
load_module {NGINX_DAV_EXT};
user www-data;
worker_processes auto;
daemon off;
pid {d}/nginx.pid;
error_log {self.errlog} warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_max_body_size 0;
    client_body_temp_path {d}/tmp/client_body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    server {{
        listen 127.0.0.1:{self.port};
        server_name 127.0.0.1;
        root {root};
        location /dav/ {{
            auth_basic "bench";
            auth_basic_user_file {pwfile};
            dav_methods PUT DELETE MKCOL COPY MOVE;
            dav_ext_methods PROPFIND OPTIONS;
            dav_access user:rw group:rw all:r;
            create_full_put_path on;
        }}
    }}
}}
"""
        self.conf = os.path.join(d, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.out = open(os.path.join(d, "stderr.log"), "w")
        self.proc = subprocess.Popen(["nginx", "-p", d, "-e", self.errlog, "-c", self.conf],
                                     stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT)
        self.wait_ready()

    def stop(self):
        self._stop_proc(signal.SIGQUIT)

    def cpu_roots(self):
        return [self.proc.pid]

    def logs(self):
        return [self.errlog, os.path.join(self.dir, "stderr.log")]

    def version(self):
        out = run(["nginx", "-v"], check=False).stderr
        m = re.search(r"nginx/(\S+)", out)
        ext = run(["dpkg-query", "-W", "-f=${Version}", "libnginx-mod-http-dav-ext"],
                  check=False).stdout.strip()
        return f"nginx {m.group(1) if m else '?'} + dav-ext {ext or '?'}"


# --------------------------------------------------------------- lighttpd

class Lighttpd(Server):
    key = "lighttpd"
    name = "lighttpd"

    def start(self):
        d = self.dir
        root = self._docroot()
        os.makedirs(os.path.join(d, "upload"))
        os.makedirs(os.path.join(d, "db"))
        os.makedirs(os.path.join(d, "log"))
        pwfile = os.path.join(d, "users.plain")
        with open(pwfile, "w") as f:
            f.write(f"{BENCH_USER}:{self.password}\n")
        os.chmod(pwfile, 0o644)
        chown_r(root, "www-data")
        chown_r(os.path.join(d, "upload"), "www-data")
        chown_r(os.path.join(d, "db"), "www-data")
        chown_r(os.path.join(d, "log"), "www-data")
        self.errlog = os.path.join(d, "log", "error.log")
        conf = f"""# generated by bench/: private lighttpd + mod_webdav (SQLite properties)
server.modules = ( "mod_auth", "mod_authn_file", "mod_webdav" )
server.document-root = "{root}"
server.bind = "127.0.0.1"
server.port = {self.port}
server.username = "www-data"
server.groupname = "www-data"
server.errorlog = "{self.errlog}"
server.upload-dirs = ( "{d}/upload" )
server.max-keep-alive-requests = 1000000
server.max-keep-alive-idle = 65
server.max-request-size = 4194304
mimetype.assign = ( ".bin" => "application/octet-stream", "" => "application/octet-stream" )
auth.backend = "plain"
auth.backend.plain.userfile = "{pwfile}"
auth.require = ( "/dav/" => ( "method" => "basic", "realm" => "bench",
                              "require" => "valid-user" ) )
$HTTP["url"] =~ "^/dav/" {{
    webdav.activate = "enable"
    webdav.is-readonly = "disable"
    webdav.sqlite-db-name = "{d}/db/webdav.db"
}}
"""
        self.conf = os.path.join(d, "lighttpd.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.out = open(os.path.join(d, "stderr.log"), "w")
        self.proc = subprocess.Popen(["lighttpd", "-D", "-f", self.conf],
                                     stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT)
        self.wait_ready()

    def stop(self):
        self._stop_proc()

    def cpu_roots(self):
        return [self.proc.pid]

    def logs(self):
        return [self.errlog, os.path.join(self.dir, "stderr.log")]

    def version(self):
        out = run(["lighttpd", "-v"], check=False).stdout
        m = re.search(r"lighttpd/(\S+)", out)
        return f"lighttpd {m.group(1) if m else '?'} (mod_webdav, SQLite properties)"


# ---------------------------------------------------- Radicale, Xandikos

class Radicale(Server):
    """Radicale 3 (Python, one file per event, fsync on by default): its
    own threaded HTTP server, auth type none (any Basic user is accepted, so
    no password hashing), rights owner_only, logging at warning (no per-request
    lines), web interface off, storage in the temp dir."""
    key = "radicale"
    name = "Radicale"
    kinds = ("caldav",)

    def __init__(self, tmp, password):
        super().__init__(tmp, password)
        self.base = self.cal_home = f"/{BENCH_USER}/"

    def start(self):
        d = self.dir
        self.conf = os.path.join(d, "radicale.conf")
        with open(self.conf, "w") as f:
            f.write(f"""# generated by bench/: private Radicale, distribution defaults otherwise
[server]
hosts = 127.0.0.1:{self.port}
[auth]
type = none
[rights]
type = owner_only
[storage]
filesystem_folder = {d}/collections
[web]
type = none
[logging]
level = warning
""")
        self.log = os.path.join(d, "radicale.log")
        self.out = open(self.log, "w")
        self.proc = subprocess.Popen(["/usr/bin/python3", "/usr/bin/radicale", "--config",
                                      self.conf], stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT, cwd=d)
        self.wait_ready()

    def stop(self):
        self._stop_proc()

    def bulk_load(self, cal, items):
        """Write items [(name, iCalendar text)] into calendar CAL as Radicale
        stores them: one file per item in the collection's folder."""
        folder = os.path.join(self.dir, "collections", "collection-root",
                              cal.strip("/"))
        if not os.path.isdir(folder):
            raise client.Fail(f"bulk load: no folder {folder}")
        write_items(folder, items)

    def cpu_roots(self):
        return [self.proc.pid]

    def logs(self):
        return [self.log]

    def version(self):
        v = run(["dpkg-query", "-W", "-f=${Version}", "radicale"], check=False).stdout.strip()
        return f"Radicale {v or '?'} (multifilesystem storage, fsync on, auth none)"


XANDIKOS_MAIN = ("import logging, sys\n"
                 "# configured first, so that xandikos' basicConfig(INFO) is a no-op and\n"
                 "# aiohttp's access log (INFO) stays off\n"
                 "logging.basicConfig(level=logging.WARNING)\n"
                 "from xandikos.web import main\n"
                 "sys.exit(main(sys.argv))\n")


class Xandikos(Server):
    """Xandikos (Python, aiohttp, one git repository per collection) standalone:
    it has no authentication of its own (the Authorization header is
    ignored), principal /bench/ with its default calendar home."""
    key = "xandikos"
    name = "Xandikos"
    kinds = ("caldav",)

    def __init__(self, tmp, password):
        super().__init__(tmp, password)
        self.base = self.cal_home = f"/{BENCH_USER}/calendars/"

    def start(self):
        d = self.dir
        self.log = os.path.join(d, "xandikos.log")
        self.out = open(self.log, "w")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", "-c", XANDIKOS_MAIN, "-d", os.path.join(d, "data"),
             "-l", "127.0.0.1", "-p", str(self.port),
             "--current-user-principal", f"/{BENCH_USER}/", "--defaults"],
            stdin=subprocess.DEVNULL, stdout=self.out, stderr=subprocess.STDOUT, cwd=d)
        self.wait_ready()

    def stop(self):
        self._stop_proc()

    def bulk_load(self, cal, items):
        """Write items [(name, iCalendar text)] into calendar CAL as Xandikos
        stores them: files of the collection's git working tree, added and
        committed in one commit."""
        folder = os.path.join(self.dir, "data", cal.strip("/"))
        if not os.path.isdir(os.path.join(folder, ".git")):
            raise client.Fail(f"bulk load: no git repository in {folder}")
        write_items(folder, items)
        git = ["git", "-C", folder, "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
        # The names from a file: 100,000 of them exceed the argument list limit.
        listing = os.path.join(self.dir, "bulk-pathspec")
        with open(listing, "w") as f:
            f.write("".join(name + "\n" for name, _ in items))
        run(git + ["add", f"--pathspec-from-file={listing}"])
        os.unlink(listing)
        run(git + ["commit", "-q", "-m", f"bench: {len(items)} events"])

    def cpu_roots(self):
        return [self.proc.pid]

    def logs(self):
        return [self.log]

    def version(self):
        v = run(["dpkg-query", "-W", "-f=${Version}", "xandikos"], check=False).stdout.strip()
        d = run(["dpkg-query", "-W", "-f=${Version}", "python3-dulwich"],
                check=False).stdout.strip()
        return f"Xandikos {v or '?'} (aiohttp, git storage via dulwich {d or '?'}, no auth)"


# ----------------------------------------------------------------- Parvis

def _allow_core():
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def pg_bindir():
    dirs = [d for d in glob.glob("/usr/lib/postgresql/*/bin")
            if os.access(os.path.join(d, "initdb"), os.X_OK)]
    if not dirs:
        raise RuntimeError("PostgreSQL server binaries not found under "
                           "/usr/lib/postgresql/*/bin (Debian package postgresql)")
    return sorted(dirs, key=lambda p: [int(x) for x in re.findall(r"\d+", p)])[-1]


# The PostgreSQL settings Parvis recommends (docs/admin.md), given to both
# private clusters, Parvis' and DAViCal's.
PG_CONF = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "conf", "postgresql.parvis.conf")


class PrivateCluster:
    """A PostgreSQL cluster of the server's own, in its dir, on a Unix socket,
    with PostgreSQL's default durability and conf/postgresql.parvis.conf (for
    Parvis and DAViCal)."""

    def _pg(self, argv, **kw):
        if self.as_postgres:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        return run(argv, cwd="/", **kw)

    def _psql(self, sql, db="postgres"):
        return run([os.path.join(self.pgbin, "psql"), "-X", "-q", "-At", "-v",
                    "ON_ERROR_STOP=1", "-h", self.pgsock, "-p", str(self.pgport),
                    "-U", "postgres", "-d", db, "-c", sql]).stdout.strip()

    def _start_cluster(self):
        self.pgdir = os.path.join(self.dir, "pg")
        os.makedirs(self.pgdir)
        self.pgdata = os.path.join(self.pgdir, "data")
        self.pgsock = self.pgdir
        self.pglog = os.path.join(self.pgdir, "postgresql.log")
        self.pgport = free_port()
        if self.as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(self.pgdir, pw.pw_uid, pw.pw_gid)
        # --no-sync only spares initdb's own final fsync; the server itself
        # runs with PostgreSQL's default durability (fsync, synchronous_commit,
        # full_page_writes on).
        self._pg([os.path.join(self.pgbin, "initdb"), "-D", self.pgdata, "-A", "trust",
                  "-U", "postgres", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"])
        with open(PG_CONF) as f:
            recommended = f.read()
        with open(os.path.join(self.pgdata, "postgresql.conf"), "a") as f:
            f.write("\n# --- bench/: private cluster, Unix socket only, default durability\n"
                    "listen_addresses = ''\n"
                    f"unix_socket_directories = '{self.pgsock}'\n"
                    f"port = {self.pgport}\n"
                    "# --- conf/postgresql.parvis.conf\n" + recommended)
        self._pg([os.path.join(self.pgbin, "pg_ctl"), "-D", self.pgdata, "-l", self.pglog,
                  "-w", "-t", "60", "start"])
        self.pg_started = True
        with open(os.path.join(self.pgdata, "postmaster.pid")) as f:
            self.pg_pid = int(f.readline().strip())

    def _stop_cluster(self):
        if getattr(self, "pg_started", False):
            self._pg([os.path.join(self.pgbin, "pg_ctl"), "-D", self.pgdata, "-w", "-t", "60",
                      "-m", "fast", "stop"], check=False)
            self.pg_started = False


# ---------------------------------------------------------------- DAViCal

DAVICAL = "/usr/share/davical"
DAVICAL_CONF_DIR = "/etc/davical"


class DAViCal(Server, ApacheProcess, PrivateCluster):
    """DAViCal (PHP, on PostgreSQL: our storage design) under a private
    Apache httpd with mpm_prefork and mod_php (Debian's setup), on a private
    PostgreSQL cluster created with DAViCal's own create-database.sh.  User
    bench is an ordinary user (no admin role) with a plain-text password
    ('**' prefix: no hashing).  DAViCal finds its configuration by the
    server's name only, in /etc/davical/NAME-conf.php: the run writes one
    under a name of its own and removes it at the end."""
    key = "davical"
    name = "DAViCal"
    kinds = ("caldav",)

    def __init__(self, tmp, password):
        super().__init__(tmp, password)
        self.base = self.cal_home = f"/caldav.php/{BENCH_USER}/"
        self.pgbin = pg_bindir()
        self.as_postgres = os.geteuid() == 0
        self.pid = None
        self.conf_php = None

    def start(self):
        self._start_cluster()
        env = dict(os.environ, PGHOST=self.pgsock, PGPORT=str(self.pgport),
                   PGUSER="postgres")
        argv = [f"{DAVICAL}/dba/create-database.sh", "davical", self.password]
        if self.as_postgres:
            argv = ["runuser", "-u", "postgres", "--preserve-environment", "--"] + argv
        out = run(argv, env=env, cwd="/")
        if "has been set to" not in out.stdout:
            raise RuntimeError("DAViCal's create-database.sh failed:\n" + out.stdout
                               + out.stderr)
        # An ordinary user, as DAViCal's first login makes one.
        self._psql("INSERT INTO usr (active, email_ok, updated, username, password, "
                   "fullname, email) VALUES (TRUE, current_date, current_date, "
                   f"'{BENCH_USER}', '**{self.password}', '{BENCH_USER}', "
                   "'bench@example.invalid')", db="davical")
        self._psql("INSERT INTO principal (type_id, user_no, displayname, "
                   "default_privileges) SELECT 1, user_no, fullname, 0::BIT(24) "
                   f"FROM usr WHERE username = '{BENCH_USER}'", db="davical")
        self.server_name = f"parvis-bench-davical-{self.port}"
        self.conf_php = os.path.join(DAVICAL_CONF_DIR, f"{self.server_name}-conf.php")
        with open(self.conf_php, "w") as f:
            f.write("<?php\n// generated by Parvis's bench/ for one run; removed at its end\n"
                    f"$c->pg_connect[] = 'host={self.pgsock} port={self.pgport} "
                    "dbname=davical user=davical_app';\n"
                    "$c->system_name = 'DAViCal (bench)';\n"
                    "$c->admin_email = 'admin@example.invalid';\n")
        php = sorted(glob.glob("/usr/lib/apache2/modules/libphp*.so"))
        if not php:
            raise RuntimeError("mod_php not found (Debian package libapache2-mod-php)")
        conf = self._apache_head(("mpm_prefork", "authz_core", "mime", "dir"),
                                 self.server_name) + f"""LoadModule php_module {php[-1]}
UseCanonicalName On
# Debian's mpm_prefork.conf
StartServers 5
MinSpareServers 5
MaxSpareServers 10
MaxRequestWorkers 150
MaxConnectionsPerChild 0
TypesConfig /etc/mime.types
DocumentRoot {DAVICAL}/htdocs
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory {DAVICAL}/htdocs>
    DirectoryIndex index.php
    AllowOverride None
    Require all granted
    AcceptPathInfo On
</Directory>
<FilesMatch "\\.php$">
    SetHandler application/x-httpd-php
</FilesMatch>
"""
        self._apache_start(conf)

    def stop(self):
        self._apache_stop()
        if self.conf_php and os.path.exists(self.conf_php):
            os.unlink(self.conf_php)
        self._stop_cluster()

    def cpu_roots(self):
        return [p for p in (self.pid, getattr(self, "pg_pid", None)) if p]

    def db_roots(self):
        return [self.pg_pid]

    def logs(self):
        return [getattr(self, "errlog", ""), getattr(self, "pglog", "")]

    def version(self):
        v = run(["dpkg-query", "-W", "-f=${Version}", "davical"], check=False).stdout.strip()
        php = run(["dpkg-query", "-W", "-f=${Version}", "libapache2-mod-php"],
                  check=False).stdout.strip()
        pgv = run([os.path.join(self.pgbin, "postgres"), "--version"],
                  check=False).stdout.strip()
        return (f"DAViCal {v or '?'} (Apache httpd mpm prefork + mod_php {php or '?'}; "
                f"{pgv}, default durability; plain-text password)")


class Parvis(Server, PrivateCluster):
    key = "parvis"
    name = "Parvis"
    kinds = ("files", "caldav")
    cal_home = f"/dav/calendars/{BENCH_USER}/"

    def __init__(self, tmp, password, build_dir, extra_conf=""):
        super().__init__(tmp, password)
        self.build = build_dir
        self.extra_conf = extra_conf  # lines appended to parvisd's conf
        self.src_parvisd = os.path.join(build_dir, "parvisd")
        self.src_parvisctl = os.path.join(build_dir, "parvisctl")
        # Private copies, taken once: a rebuild of build/ during the run does
        # not change what is measured, and a name without "parvisd" keeps the
        # server out of reach of someone's `pkill parvisd` on a shared machine.
        bindir = os.path.join(self.dir, "bin")
        os.makedirs(bindir)
        self.parvisd = os.path.join(bindir, "bench-parvis-server")
        self.parvisctl = os.path.join(bindir, "bench-parvis-ctl")
        shutil.copy2(self.src_parvisd, self.parvisd)
        shutil.copy2(self.src_parvisctl, self.parvisctl)
        self.pgbin = pg_bindir()
        self.as_postgres = os.geteuid() == 0
        self.proc = None
        self.stop_rc = None
        self.pg_started = False

    def _ctl(self, *args, input=None):
        return run([self.parvisctl, *args], input=input, stdin=None if input else
                   subprocess.DEVNULL, env=dict(os.environ, PARVIS_DSN=self.dsn))

    def start(self):
        self._start_cluster()
        self._psql("CREATE ROLE parvis LOGIN")
        self._psql("CREATE DATABASE parvis OWNER parvis")
        self.dsn = f"host={self.pgsock} port={self.pgport} dbname=parvis user=parvis"
        self._ctl("migrate")
        self._ctl("user", "add", BENCH_USER, "--password-stdin", input=self.password + "\n")
        self._ctl("space", "create", SPACE, "--title", "Benchmark")
        self._ctl("member", "add", SPACE, BENCH_USER, "--role", "editor")
        self._start_daemon(self.extra_conf)

    def _start_daemon(self, extra=""):
        d = self.dir
        self.conf = os.path.join(d, "parvis.conf")
        with open(self.conf, "w") as f:
            f.write("# generated by bench/: otherwise the defaults of parvis.conf.sample\n"
                    f"listen = 127.0.0.1:{self.port}\n"
                    f"dsn = {self.dsn}\n"
                    "access_log = off\n"
                    f"chunk_cache_dir = {os.path.join(d, 'chunk-cache')}\n" + extra)
        self.log = os.path.join(d, "parvisd.log")
        self.out = open(self.log, "w")
        env = {k: v for k, v in os.environ.items()
               if k not in ("PARVIS_DSN", "PARVIS_LISTEN", "PARVIS_LOG_LEVEL")}
        # Core dumps on (into this dir) so that a crash under load can be examined.
        self.proc = subprocess.Popen([self.parvisd, "-c", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=subprocess.STDOUT, env=env,
                                     cwd=d, preexec_fn=_allow_core)
        self.wait_ready()

    def stop(self):
        if self.proc and self.stop_rc is None:
            self.stop_rc = self._stop_proc()
        self._stop_cluster()

    def new_calendar(self, name):
        """A calendar of space SPACE, created in the user's calendar home
        (MKCALENDAR of SPACE.NAME)."""
        return super().new_calendar(f"{SPACE}.{name}")

    def cpu_roots(self):
        return [self.proc.pid, self.pg_pid]

    def rss_roots(self):
        return [self.proc.pid]

    def db_roots(self):
        return [self.pg_pid]

    def logs(self):
        return [getattr(self, "log", ""), getattr(self, "pglog", "")]

    def pg_floor(self, filename, key):
        """Seconds PostgreSQL alone takes to store FILENAME as chunk rows,
        in one durable transaction, the way parvisd stores an upload
        (bench/lib/pgfloor.c), into a table of Parvis' database made like
        its chunks table (LIKE ... INCLUDING ALL).  KEY (an integer) makes
        each call's rows new."""
        if getattr(self, "floor_error", None):
            raise RuntimeError(self.floor_error)
        if not getattr(self, "floor_dsn", None):
            try:
                src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgfloor.c")
                self.floor_bin = os.path.join(self.dir, "bin", "bench-pgfloor")
                flags = run(["pkg-config", "--cflags", "--libs", "libpq"]).stdout.split()
                run(["cc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-o",
                     self.floor_bin, src] + flags)
                # Parvis' own table's shape: columns, storage, keys.
                self._psql("CREATE TABLE bench_floor_chunks "
                           "(LIKE chunks INCLUDING ALL); "
                           "ALTER TABLE bench_floor_chunks OWNER TO parvis", db="parvis")
            except (OSError, RuntimeError) as e:
                # Set up once: later rounds report the same failure.
                self.floor_error = f"set-up of the floor failed: {e}"
                raise RuntimeError(self.floor_error) from None
            self.floor_dsn = self.dsn
        return float(run([self.floor_bin, self.floor_dsn, filename, str(key)]).stdout)

    def wal_position(self):
        return self._psql("SELECT pg_current_wal_lsn()")

    def wal_since(self, lsn):
        """Bytes of WAL written since LSN (every process's)."""
        return int(self._psql(f"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{lsn}')"))

    def durable_commit(self, on):
        """synchronous_commit on (the default) or off, for every connection's
        next transaction (F1/F2 measure the commit's cost with it)."""
        self._psql(f"ALTER SYSTEM SET synchronous_commit = {'on' if on else 'off'}")
        self._psql("SELECT pg_reload_conf()")
        # Each backend takes the new value at its next command; wait until
        # a fresh one sees it.
        want = "on" if on else "off"
        for _ in range(100):
            if self._psql("SHOW synchronous_commit") == want:
                return
            time.sleep(0.02)
        raise RuntimeError("synchronous_commit did not change")

    def pg_settings(self):
        names = ["fsync", "synchronous_commit", "full_page_writes", "shared_buffers",
                 "wal_buffers", "wal_writer_delay"]
        vals = [self._psql(f"SHOW {n}") for n in names]
        return ", ".join(f"{n}={v}" for n, v in zip(names, vals))

    def version(self):
        v = run([self.parvisd, "--version"], check=False)
        ver = (v.stdout or v.stderr).strip().splitlines()[0] if (v.stdout or v.stderr) else "?"
        src = os.path.dirname(os.path.abspath(self.build))
        sha = run(["git", "-C", src, "rev-parse", "--short", "HEAD"], check=False).stdout.strip()
        dirty = run(["git", "-C", src, "status", "--porcelain", "--untracked-files=no"],
                    check=False).stdout.strip()
        pgv = run([os.path.join(self.pgbin, "postgres"), "--version"], check=False).stdout.strip()
        with open(self.parvisd, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:12]
        # The binary relative to the source tree: no local path in results.
        shown = os.path.relpath(os.path.abspath(self.src_parvisd), src)
        s = f"{ver} ({shown}, sha256 {digest}"
        if sha:
            s += f"; source tree at git {sha}{'+dirty' if dirty else ''}"
        s += f"); {pgv}"
        try:
            s += f" [{self.pg_settings()}]"
        except Exception:  # noqa: BLE001 - informational only
            pass
        return s

    def log_problems(self):
        """Lines of parvisd's log that look like errors (access log is off)."""
        out = []
        try:
            with open(self.log, errors="replace") as f:
                for line in f:
                    if re.search(r"error|fatal|panic|assert|warn", line, re.I):
                        out.append(line.rstrip())
        except OSError:
            pass
        return out


class ParvisAnon(Parvis):
    """A second parvisd on the same PostgreSQL cluster and database as PRIMARY
    (same users, spaces and files), configured with anonymous_user = bench:
    requests without an Authorization header act as user bench. Its CPU
    counts its own parvisd plus the shared cluster, so only one of the two
    may be measured at a time."""
    key = "parvis-anon"
    name = "Parvis anonymous"

    def __init__(self, primary):
        Server.__init__(self, primary.tmp, primary.password)
        self.primary = primary
        self.build = primary.build
        self.extra_conf = primary.extra_conf
        self.src_parvisd, self.src_parvisctl = primary.src_parvisd, primary.src_parvisctl
        self.parvisd, self.parvisctl = primary.parvisd, primary.parvisctl
        self.pgbin = primary.pgbin
        self.as_postgres = primary.as_postgres
        self.proc = None
        self.stop_rc = None
        self.pg_started = False  # the cluster belongs to PRIMARY

    def start(self):
        p = self.primary
        self.dsn, self.pg_pid, self.pgsock, self.pgport = p.dsn, p.pg_pid, p.pgsock, p.pgport
        self.pglog = p.pglog
        self._start_daemon(self.extra_conf + f"anonymous_user = {BENCH_USER}\n")

    def log_problems(self):
        # the start-up warning about anonymous_user is expected here
        return [x for x in super().log_problems() if "authentication is off" not in x]


def make_servers(keys, tmp, password, build_dir, parvis_conf=()):
    classes = {"parvis": None, "apache": Apache, "nginx": Nginx, "lighttpd": Lighttpd,
               "radicale": Radicale, "xandikos": Xandikos, "davical": DAViCal}
    out = []
    for k in keys:
        if k == "parvis":
            out.append(Parvis(tmp, password, build_dir,
                              "".join(line + "\n" for line in parvis_conf)))
        elif k in classes:
            out.append(classes[k](tmp, password))
        else:
            raise SystemExit(f"unknown server {k!r} (known: {', '.join(classes)})")
    return out
