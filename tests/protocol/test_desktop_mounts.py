"""Desktop clients against parvisd: litmus (locks, http), davfs2 (FUSE
mount), gvfs (gio), cadaver's LOCK/UNLOCK against a second client, and
LibreOffice editing a document in place over WebDAV (python3-uno).

Every check is made on the server side: GET bytes over HTTP, or rows of
the resources / revisions / locks tables.

The long client scenarios (davfs2, gvfs, LibreOffice) run once per module
in a fixture that records what it saw; each test then asserts one
behaviour of that record. A scenario that cannot run here for a local
reason (no FUSE, no D-Bus session, LibreOffice cannot start) skips with the
reason; if the client reached the server and then failed, the tests fail.

Debian packages: litmus cadaver davfs2 gvfs-backends gvfs-fuse
libglib2.0-bin dbus libreoffice-writer-nogui python3-uno.
"""

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
import requests

from dav_helpers import (assert_status, dav, db_path, join, parse_multistatus,
                         propfind, revisions_of, resource_row, sha256_hex,
                         sql_str)

PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
              "all_proxy", "ALL_PROXY", "ftp_proxy", "FTP_PROXY")


def _need(tool, package=None):
    if shutil.which(tool) is None:
        pytest.fail("%s is not installed (Debian package %s)"
                    % (tool, package or tool), pytrace=False)


def _clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    env.update(extra)
    return env


def _alice():
    s = requests.Session()
    s.trust_env = False
    s.auth = ("alice", "alice-pw")
    return s


def _fresh_collection(server, http, prefix):
    url = server.space_url("s1") + "%s-%s/" % (prefix, uuid.uuid4().hex[:10])
    assert_status(dav(http, "MKCOL", url), 201)
    return url


def _put_file(http, url, data):
    r = dav(http, "PUT", url, data=data)
    assert_status(r, 201, 204)


def _get_bytes(http, url):
    """Body of a 200 GET, or None on 404."""
    r = dav(http, "GET", url)
    if r.status_code == 404:
        return None
    assert_status(r, 200)
    return r.content


def _access_lines(server, path_prefix):
    """Access log lines whose request path starts with path_prefix:
    [(user, method, path, status)]."""
    out = []
    for line in server.access_log_text().splitlines():
        f = line.split()
        if len(f) >= 6 and f[4].startswith(path_prefix):
            out.append((f[2], f[3], f[4], int(f[5])))
    return out


def _locks_on(cluster, path, slug="s1"):
    """Live locks rooted at `path`: [(token, owner_xml, principal, timeout_s,
    depth, exclusive)]."""
    return cluster.psql(
        "select l.token, coalesce(l.owner_xml, ''), coalesce(u.name, ''), "
        "l.timeout_s, l.depth, l.exclusive "
        "from locks l join spaces s on s.id = l.space_id "
        "left join users u on u.id = l.principal_id "
        "where s.slug = %s and l.root_path = %s and l.expires_at > now()"
        % (sql_str(slug), sql_str(path)))


def _locks_under(cluster, path, slug="s1"):
    return cluster.psql(
        "select l.root_path from locks l join spaces s on s.id = l.space_id "
        "where s.slug = %s and (l.root_path = %s or l.root_path like %s) "
        "and l.expires_at > now()"
        % (sql_str(slug), sql_str(path), sql_str(path + "/%")))


def _kill_group(proc, grace=10):
    """SIGTERM the process group of `proc` (started with start_new_session,
    so the group id is its pid), then SIGKILL what is left after `grace` s."""
    if proc is None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def _run_group(argv, timeout, **kw):
    """subprocess.run in a new session; on timeout the whole process group
    is killed (so no daemon it spawned is left behind) and the partial
    output is returned with returncode None."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, **kw)
    try:
        out, err = proc.communicate(timeout=timeout)
        return subprocess.CompletedProcess(argv, proc.returncode, out, err)
    except subprocess.TimeoutExpired:
        _kill_group(proc, grace=5)
        out, err = proc.communicate()
        return subprocess.CompletedProcess(
            argv, None, out, (err or "") + "\n(killed after %d s)" % timeout)


def _steps(text):
    """'STEP name rc' lines of a scenario script -> {name: rc}."""
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^STEP (\S+) (\d+)$", text, re.M)}


# ------------------------------------------------------------------- litmus

SUMMARY_RE = re.compile(
    r"<- summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed")


@pytest.mark.parametrize("suite", ["locks", "http"])
def test_litmus_suite_passes(suite, coll, tmp_path):
    _need("litmus")
    p = subprocess.run(["litmus", coll, "alice", "alice-pw"], cwd=tmp_path,
                       env=_clean_env(TESTS=suite), capture_output=True,
                       text=True, timeout=600)
    out = p.stdout + p.stderr
    debug = tmp_path / "debug.log"
    if debug.exists():
        out += "\n---- debug.log (tail) ----\n" + \
            debug.read_text(errors="replace")[-20000:]
    summaries = {m.group(1): tuple(int(x) for x in m.groups()[1:])
                 for m in SUMMARY_RE.finditer(out)}
    assert suite in summaries, out
    run, passed, failed = summaries[suite]
    assert run > 0, out
    assert failed == 0 and passed == run, out


# ------------------------------------------------------------------- davfs2

DAVFS_SCRIPT = r"""
cd "$MNT" || exit 90
cp "$SRC/copied.bin" copied.bin;                       echo "STEP copy $?"
cp "$SRC/torename.txt" torename.txt && sync && mv torename.txt renamed.txt
                                                       echo "STEP rename $?"
cp "$SRC/existing-new.txt" existing.txt;               echo "STEP overwrite $?"
rm victim.txt;                                         echo "STEP delete $?"
cmp "$SRC/served.bin" served.bin;                      echo "STEP read $?"
printf 'first save\n' > resaved.txt && printf 'second save\n' > resaved.txt &&
    printf 'appended\n' >> resaved.txt;               echo "STEP resave $?"
cp "$SRC/edited-new.txt" .goutputstream-EDIT && sync &&
    mv -f .goutputstream-EDIT edited.txt;              echo "STEP save-by-rename $?"
sync
echo "LOSTFOUND $(ls -A lost+found 2>/dev/null | wc -l)"
"""


class _DavfsMount:
    """davfs2 mount of one collection in a temp dir under /tmp (davfs2 runs
    as user davfs2 once mounted: the cache dir must be reachable by it)."""

    def __init__(self, url):
        self.url = url
        self.base = Path(tempfile.mkdtemp(prefix="parvis-davfs-", dir="/tmp"))
        self.base.chmod(0o755)
        self.mnt = self.base / "mnt"
        self.mnt.mkdir()
        self.cache = self.base / "cache"
        self.cache.mkdir()
        # Checked as root: owner root, or o+rwx; davfs2 then writes as davfs2.
        self.cache.chmod(0o777)
        self.secrets = self.base / "secrets"
        self.secrets.write_text('"%s" alice alice-pw\n' % url)
        self.secrets.chmod(0o600)
        self.conf = self.base / "davfs2.conf"
        self.conf.write_text(
            "use_locks 1\n"
            "ask_auth 0\n"
            "delay_upload 0\n"
            # Linux >= 6.16 with davfs2 < 1.7.2: every readdir fails with
            # EINVAL unless the FUSE buffer is small (Debian bug; CLIENTS.md 4.6).
            "buf_size 64\n"
            "cache_dir %s\n"
            "secrets %s\n" % (self.cache, self.secrets))
        self.mounted = False

    def mount(self):
        p = subprocess.run(
            ["mount.davfs", "-o", "conf=%s,uid=0,gid=0" % self.conf, self.url,
             str(self.mnt)],
            stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=90, env=_clean_env())
        self.mounted = p.returncode == 0 and os.path.ismount(self.mnt)
        return p

    def _pid(self):
        pidfile = Path("/var/run/mount.davfs") / (
            str(self.mnt).strip("/").replace("/", "-") + ".pid")
        try:
            return int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def umount(self):
        """umount (umount.davfs waits for mount.davfs to upload and exit)."""
        pid = self._pid()
        p = subprocess.run(["umount", str(self.mnt)], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=180)
        if p.returncode == 0:
            self.mounted = False
            # umount.davfs waits already; make sure the daemon is gone.
            deadline = time.monotonic() + 60
            while pid and time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.2)
        return p

    def cleanup(self):
        if self.mounted or os.path.ismount(self.mnt):
            pid = self._pid()
            try:
                subprocess.run(["umount", str(self.mnt)], timeout=60,
                               capture_output=True)
            except subprocess.TimeoutExpired:
                pass
            if os.path.ismount(self.mnt):
                subprocess.run(["fusermount", "-u", "-z", str(self.mnt)],
                               timeout=30, capture_output=True)
                if pid:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        if not os.path.ismount(self.mnt):
            shutil.rmtree(self.base, ignore_errors=True)


def _fuse_usable():
    """None if /dev/fuse can be opened, else the reason it cannot."""
    if os.geteuid() != 0:
        return "mount.davfs needs root here (tests run as uid %d)" % os.geteuid()
    try:
        fd = os.open("/dev/fuse", os.O_RDWR)
    except OSError as e:
        return "/dev/fuse cannot be opened: %s" % e
    os.close(fd)
    return None


@pytest.fixture(scope="module")
def davfs(server, cluster):
    """Mounts a fresh collection with davfs2, runs DAVFS_SCRIPT in it,
    unmounts; returns what happened (server checks are left to the tests)."""
    _need("mount.davfs", "davfs2")
    reason = _fuse_usable()
    if reason:
        pytest.skip("davfs2: FUSE unusable: " + reason)
    http = _alice()
    coll = _fresh_collection(server, http, "davfs")
    rnd = os.urandom(200 * 1024)
    files = {
        "copied.bin": rnd,
        "torename.txt": b"renamed through davfs2\n",
        "existing-old.txt": b"old content, uploaded over HTTP\n",
        "existing-new.txt": b"new content, written through the davfs2 mount\n",
        "victim.txt": b"deleted through davfs2\n",
        "served.bin": os.urandom(70000),
        "edited-old.txt": b"the document as it was\n",
        "edited-new.txt": b"the document as gedit saves it\n",
    }
    _put_file(http, join(coll, "existing.txt"), files["existing-old.txt"])
    _put_file(http, join(coll, "edited.txt"), files["edited-old.txt"])
    _put_file(http, join(coll, "victim.txt"), files["victim.txt"])
    _put_file(http, join(coll, "served.bin"), files["served.bin"])

    m = _DavfsMount(coll)
    src = m.base / "src"
    src.mkdir()
    for name, data in files.items():
        (src / name).write_bytes(data)
    rec = {"coll": coll, "files": files, "http": http}
    try:
        seen_before = len(_access_lines(server, "/dav/"))
        p = m.mount()
        rec["mount"] = p
        if not m.mounted:
            if len(_access_lines(server, "/dav/")) == seen_before:
                pytest.skip("davfs2: mount.davfs failed before reaching the "
                            "server (exit %s): %s" % (p.returncode,
                                                      (p.stdout + p.stderr).strip()))
            pytest.fail("mount.davfs %s failed (exit %s):\n%s%s\n%s" % (
                coll, p.returncode, p.stdout, p.stderr, server.log_tail()),
                pytrace=False)
        script = m.base / "scenario.sh"
        script.write_text(DAVFS_SCRIPT)
        run = _run_group(["sh", str(script)], timeout=180,
                         env=_clean_env(MNT=str(m.mnt), SRC=str(src)),
                         stdin=subprocess.DEVNULL)
        rec["script"] = run
        rec["steps"] = _steps(run.stdout)
        lf = re.search(r"^LOSTFOUND (\d+)$", run.stdout, re.M)
        rec["lost_found"] = int(lf.group(1)) if lf else None
        rec["umount"] = m.umount()
    finally:
        m.cleanup()
    yield rec
    http.close()


def _script_info(rec, key="script"):
    p = rec[key]
    return "exit %s\nstdout:\n%s\nstderr:\n%s" % (p.returncode, p.stdout, p.stderr)


def test_davfs2_copy_in_stores_same_bytes(davfs):
    assert davfs["steps"].get("copy") == 0, _script_info(davfs)
    got = _get_bytes(davfs["http"], join(davfs["coll"], "copied.bin"))
    assert got is not None, "copied.bin missing on the server"
    assert sha256_hex(got) == sha256_hex(davfs["files"]["copied.bin"])


def test_davfs2_rename_moves_resource(davfs):
    assert davfs["steps"].get("rename") == 0, _script_info(davfs)
    http, coll = davfs["http"], davfs["coll"]
    assert _get_bytes(http, join(coll, "renamed.txt")) == \
        davfs["files"]["torename.txt"]
    assert _get_bytes(http, join(coll, "torename.txt")) is None


def test_davfs2_overwrite_creates_new_revision(davfs, cluster):
    assert davfs["steps"].get("overwrite") == 0, _script_info(davfs)
    url = join(davfs["coll"], "existing.txt")
    new = davfs["files"]["existing-new.txt"]
    assert _get_bytes(davfs["http"], url) == new
    revs = revisions_of(cluster, db_path(url))
    assert len(revs) >= 2, revs
    assert revs[0][3] == sha256_hex(davfs["files"]["existing-old.txt"]), revs
    assert revs[-1][3] == sha256_hex(new) and revs[-1][5] == "alice", revs


def test_davfs2_save_by_rename_keeps_the_documents_history(davfs, cluster):
    """gedit's way of saving (a temporary file renamed over the document,
    a MOVE with Overwrite: T through davfs2): the document's next
    revision, its first one kept."""
    assert davfs["steps"].get("save-by-rename") == 0, _script_info(davfs)
    url = join(davfs["coll"], "edited.txt")
    files = davfs["files"]
    assert _get_bytes(davfs["http"], url) == files["edited-new.txt"]
    revs = revisions_of(cluster, db_path(url))
    assert [r[3] for r in revs] == [sha256_hex(files["edited-old.txt"]),
                                    sha256_hex(files["edited-new.txt"])], revs


def test_davfs2_delete_removes_resource(davfs, cluster):
    assert davfs["steps"].get("delete") == 0, _script_info(davfs)
    url = join(davfs["coll"], "victim.txt")
    assert _get_bytes(davfs["http"], url) is None
    assert resource_row(cluster, db_path(url)) is None


def test_davfs2_reads_server_bytes(davfs):
    assert davfs["steps"].get("read") == 0, _script_info(davfs)


def test_davfs2_quick_successive_saves_all_land(davfs, cluster):
    # Three closes within a second, each a LOCK/PUT/UNLOCK. davfs2 sends
    # If-Match with the ETag it holds: a stale or weak ETag after the
    # previous PUT gives 412, the file goes to lost+found and the server
    # keeps older content (CLIENTS.md 4.6).
    assert davfs["steps"].get("resave") == 0, _script_info(davfs)
    url = join(davfs["coll"], "resaved.txt")
    assert _get_bytes(davfs["http"], url) == b"second save\nappended\n"
    revs = revisions_of(cluster, db_path(url))
    assert revs and revs[-1][3] == sha256_hex(b"second save\nappended\n"), revs


def test_davfs2_nothing_in_lost_found(davfs):
    # davfs2 moves a file it failed to upload into lost+found.
    assert davfs["lost_found"] == 0, _script_info(davfs)


def test_davfs2_unmount_is_clean(davfs):
    p = davfs["umount"]
    assert p.returncode == 0, p.stdout + p.stderr


def test_davfs2_locks_files_it_writes(davfs, server):
    # use_locks 1: LOCK before the upload, UNLOCK after, both accepted.
    path = "/dav/spaces/s1" + db_path(davfs["coll"]) + "/copied.bin"
    seen = [(m, st) for u, m, p, st in _access_lines(server, path) if p == path]
    locks = [st for m, st in seen if m == "LOCK"]
    unlocks = [st for m, st in seen if m == "UNLOCK"]
    assert locks and all(200 <= st < 300 for st in locks), seen
    assert unlocks and all(200 <= st < 300 for st in unlocks), seen


def test_davfs2_leaves_no_locks(davfs, cluster):
    assert _locks_under(cluster, db_path(davfs["coll"])) == []


# --------------------------------------------------------------------- gvfs

GVFS_SCRIPT = r"""
D="$DAVURL"
g() { timeout 60 gio "$@"; }
printf '%s\n%s\n' alice alice-pw | g mount "$D/";    echo "STEP mount $?"
g copy "$SRC/copied.bin" "$D/copied.bin";            echo "STEP copy $?"
g copy "$SRC/torename.txt" "$D/torename.txt" &&
    g rename "$D/torename.txt" renamed.txt;          echo "STEP rename $?"
g mkdir "$D/sub" &&
    g move "$D/tomove.txt" "$D/sub/moved.txt";       echo "STEP move $?"
g copy "$SRC/existing-new.txt" "$D/existing.txt";    echo "STEP overwrite $?"
g remove "$D/victim.txt";                            echo "STEP remove $?"
g cat "$D/served.bin" > "$SRC/served-back.bin";      echo "STEP cat $?"
g mount -u "$D/";                                    echo "STEP unmount $?"
"""


@pytest.fixture(scope="module")
def gvfs(server, cluster, tmp_path_factory):
    """Runs GVFS_SCRIPT (gio against dav://) in a private D-Bus session."""
    for tool, pkg in (("gio", "libglib2.0-bin"),
                      ("dbus-run-session", "dbus")):
        _need(tool, pkg)
    if not os.path.exists("/usr/libexec/gvfsd-dav"):
        pytest.fail("gvfsd-dav is not installed (Debian package gvfs-backends)",
                    pytrace=False)
    http = _alice()
    coll = _fresh_collection(server, http, "gvfs")
    files = {
        "copied.bin": os.urandom(150 * 1024),
        "torename.txt": b"renamed through gio\n",
        "tomove.txt": b"moved through gio\n",
        "existing-old.txt": b"old content, uploaded over HTTP\n",
        "existing-new.txt": b"new content, copied over it with gio\n",
        "victim.txt": b"removed through gio\n",
        "served.bin": os.urandom(60000),
    }
    for name in ("tomove.txt", "victim.txt", "served.bin"):
        _put_file(http, join(coll, name), files[name])
    _put_file(http, join(coll, "existing.txt"), files["existing-old.txt"])

    base = tmp_path_factory.mktemp("gvfs")
    src = base / "src"
    src.mkdir()
    home = base / "home"
    home.mkdir()
    runtime = base / "run"
    runtime.mkdir(mode=0o700)
    for name, data in files.items():
        (src / name).write_bytes(data)
    script = base / "scenario.sh"
    script.write_text(GVFS_SCRIPT)
    davurl = "dav://127.0.0.1:%d/dav/spaces/s1%s" % (server.port, db_path(coll))
    env = _clean_env(SRC=str(src), DAVURL=davurl, HOME=str(home),
                     XDG_RUNTIME_DIR=str(runtime),
                     XDG_DATA_HOME=str(home / ".local/share"),
                     XDG_CACHE_HOME=str(home / ".cache"),
                     XDG_CONFIG_HOME=str(home / ".config"),
                     GVFS_DISABLE_FUSE="1", GIO_USE_VOLUME_MONITOR="unix",
                     LANG="C.UTF-8", LC_ALL="C.UTF-8")
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    seen_before = len(_access_lines(server, "/"))
    run = _run_group(["dbus-run-session", "--", "sh", str(script)],
                     timeout=300, env=env, stdin=subprocess.DEVNULL, cwd=base)
    steps = _steps(run.stdout)
    if steps.get("mount") != 0 and \
            len(_access_lines(server, "/")) == seen_before:
        pytest.skip("gvfs: `gio mount %s` failed before reaching the server "
                    "(exit %s): %s" % (davurl, steps.get("mount"),
                                      (run.stdout + run.stderr).strip()[-2000:]))
    rec = {"coll": coll, "files": files, "http": http, "script": run,
           "steps": steps, "src": src}
    yield rec
    http.close()


def test_gvfs_mount_succeeds(gvfs):
    assert gvfs["steps"].get("mount") == 0, _script_info(gvfs)


def test_gvfs_copy_in_stores_same_bytes(gvfs):
    assert gvfs["steps"].get("copy") == 0, _script_info(gvfs)
    got = _get_bytes(gvfs["http"], join(gvfs["coll"], "copied.bin"))
    assert got is not None and sha256_hex(got) == \
        sha256_hex(gvfs["files"]["copied.bin"])


def test_gvfs_rename_moves_resource(gvfs):
    assert gvfs["steps"].get("rename") == 0, _script_info(gvfs)
    http, coll = gvfs["http"], gvfs["coll"]
    assert _get_bytes(http, join(coll, "renamed.txt")) == \
        gvfs["files"]["torename.txt"]
    assert _get_bytes(http, join(coll, "torename.txt")) is None


def test_gvfs_move_into_new_subcollection(gvfs):
    assert gvfs["steps"].get("move") == 0, _script_info(gvfs)
    http, coll = gvfs["http"], gvfs["coll"]
    assert _get_bytes(http, join(coll, "sub", "moved.txt")) == \
        gvfs["files"]["tomove.txt"]
    assert _get_bytes(http, join(coll, "tomove.txt")) is None


def test_gvfs_copy_over_existing_creates_new_revision(gvfs, cluster):
    assert gvfs["steps"].get("overwrite") == 0, _script_info(gvfs)
    url = join(gvfs["coll"], "existing.txt")
    new = gvfs["files"]["existing-new.txt"]
    assert _get_bytes(gvfs["http"], url) == new
    revs = revisions_of(cluster, db_path(url))
    assert len(revs) == 2, revs
    assert revs[0][3] == sha256_hex(gvfs["files"]["existing-old.txt"]), revs
    assert revs[1][3] == sha256_hex(new) and revs[1][5] == "alice", revs


def test_gvfs_remove_deletes_resource(gvfs, cluster):
    assert gvfs["steps"].get("remove") == 0, _script_info(gvfs)
    url = join(gvfs["coll"], "victim.txt")
    assert _get_bytes(gvfs["http"], url) is None
    assert resource_row(cluster, db_path(url)) is None


def test_gvfs_cat_reads_server_bytes(gvfs):
    assert gvfs["steps"].get("cat") == 0, _script_info(gvfs)
    assert (gvfs["src"] / "served-back.bin").read_bytes() == \
        gvfs["files"]["served.bin"]


def test_gvfs_unmount_succeeds(gvfs):
    assert gvfs["steps"].get("unmount") == 0, _script_info(gvfs)
    assert gvfs["script"].returncode == 0, _script_info(gvfs)


# ------------------------------------------------------------ cadaver locks

class _Interactive:
    """A line-oriented child process: send() a line, wait_for() a regex
    in its output (with a timeout)."""

    def __init__(self, argv, **kw):
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, bufsize=1,
            start_new_session=True, **kw)
        self.lines = []
        self._q = queue.Queue()
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()

    def _read(self):
        for line in iter(self.proc.stdout.readline, ""):
            self._q.put(line)
        self._q.put(None)

    def send(self, line):
        """Writes a line; a child that has gone away is reported by the
        next wait_for()."""
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass

    def wait_for(self, pattern, timeout=60):
        """The first new output line matching `pattern`; raises
        AssertionError (with the output so far) on timeout or EOF."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for %r; output:\n%s"
                                     % (pattern, self.output()))
            try:
                line = self._q.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                self._q.put(None)   # later waits see the end too
                raise AssertionError("process ended (exit %s) before %r; "
                                     "output:\n%s" % (self.proc.poll(), pattern,
                                                      self.output()))
            self.lines.append(line)
            m = rx.search(line)
            if m:
                return m

    def output(self):
        return "".join(self.lines)

    def close(self, quit_line=None, timeout=20):
        if self.proc.poll() is None and quit_line is not None:
            try:
                self.send(quit_line)
                self.proc.stdin.close()
                self.proc.wait(timeout=timeout)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            _kill_group(self.proc, grace=5)


@pytest.fixture
def cadaver_lock(coll, tmp_path, seed, cluster):
    """cadaver (interactive) connected to `coll`, holding a LOCK on
    locked.txt (created over HTTP first)."""
    _need("cadaver")
    home = tmp_path / "home"
    home.mkdir()
    netrc = home / ".netrc"
    netrc.write_text("machine 127.0.0.1\nlogin alice\npassword alice-pw\n")
    netrc.chmod(0o600)
    http = _alice()
    url = join(coll, "locked.txt")
    original = b"original content\n"
    _put_file(http, url, original)
    cad = _Interactive(["cadaver", coll], cwd=home, env=_clean_env(HOME=str(home)))
    try:
        cad.send("lock locked.txt")
        m = cad.wait_for(r"Locking `locked\.txt': (succeeded|failed)")
        assert m.group(1) == "succeeded", cad.output()
        yield {"cad": cad, "url": url, "path": db_path(url), "http": http,
               "home": home, "original": original}
    finally:
        cad.close("quit")
        http.close()


def test_cadaver_lock_is_recorded_on_server(cadaver_lock, cluster):
    rows = _locks_on(cluster, cadaver_lock["path"])
    assert len(rows) == 1, rows
    token, owner, principal, timeout_s, depth, exclusive = rows[0]
    assert principal == "alice" and exclusive == "t", rows


@pytest.mark.parametrize("user", ["alice", "mgr"])
def test_put_without_token_is_423_while_cadaver_holds_lock(
        cadaver_lock, session_for, cluster, user):
    # A second client (the lock owner's own account, or another editor)
    # writing without the lock token.
    before = revisions_of(cluster, cadaver_lock["path"])
    r = dav(session_for(user), "PUT", cadaver_lock["url"], data=b"intruder\n")
    assert_status(r, 423)
    assert _get_bytes(cadaver_lock["http"], cadaver_lock["url"]) == \
        cadaver_lock["original"]
    assert revisions_of(cluster, cadaver_lock["path"]) == before


def test_cadaver_put_under_its_own_lock_succeeds(cadaver_lock):
    cad = cadaver_lock["cad"]
    new = b"written by cadaver while holding the lock\n"
    (cadaver_lock["home"] / "new.txt").write_bytes(new)
    cad.send("put new.txt locked.txt")
    m = cad.wait_for(r"Uploading new\.txt to `.*locked\.txt':.*?(succeeded|failed)")
    assert m.group(1) == "succeeded", cad.output()
    assert _get_bytes(cadaver_lock["http"], cadaver_lock["url"]) == new


def test_put_succeeds_after_cadaver_unlock(cadaver_lock, session_for, cluster):
    cad = cadaver_lock["cad"]
    cad.send("unlock locked.txt")
    m = cad.wait_for(r"Unlocking `locked\.txt': (succeeded|failed)")
    assert m.group(1) == "succeeded", cad.output()
    assert _locks_on(cluster, cadaver_lock["path"]) == []
    new = b"written by mgr after the unlock\n"
    r = dav(session_for("mgr"), "PUT", cadaver_lock["url"], data=new)
    assert_status(r, 204)
    assert _get_bytes(cadaver_lock["http"], cadaver_lock["url"]) == new
    revs = revisions_of(cluster, cadaver_lock["path"])
    assert revs[-1][3] == sha256_hex(new) and revs[-1][5] == "mgr", revs


# -------------------------------------------------------------- LibreOffice

# Runs under a python3 that has pyuno (Debian python3-uno). Talks to the
# test over stdin/stdout: prints READY/LOADED/SAVED/CLOSED or ERROR lines.
LO_DRIVER = r'''
import sys, time, traceback
import uno, unohelper
from com.sun.star.beans import PropertyValue
from com.sun.star.task import XInteractionHandler

def say(*a):
    print(*a, flush=True)

def pv(name, value):
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p

class Handler(unohelper.Base, XInteractionHandler):
    """Answers authentication requests with USER/PASSWORD, aborts anything
    else (so nothing waits for a dialog)."""
    def __init__(self, user, password):
        self.user, self.password, self.auth_calls = user, password, 0

    def handle(self, request):
        # request.getRequest() is not used: pyuno on Python 3.11 fails to
        # convert UNO exceptions ("AttributeError: args").
        try:
            conts = request.getContinuations()
            for c in conts:
                if hasattr(c, "setPassword") and hasattr(c, "setUserName"):
                    self.auth_calls += 1
                    if self.auth_calls > 8:
                        break
                    if c.canSetUserName():
                        c.setUserName(self.user)
                    if c.canSetPassword():
                        c.setPassword(self.password)
                    c.select()
                    say("AUTH supplied")
                    return
            say("INTERACTION not handled, aborting:",
                [c.getImplementationName() if hasattr(c, "getImplementationName")
                 else str(c)[:60] for c in conts])
            for c in conts:
                if "Abort" in str(c):
                    c.select()
                    return
        except Exception:
            say("HANDLER-ERROR", traceback.format_exc().replace("\n", " | "))

def main():
    pipe, url, user, password, given, surname = sys.argv[1:7]
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.time() + 90
    while True:
        try:
            ctx = resolver.resolve(
                "uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
            break
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.3)
    say("READY")
    smgr = ctx.ServiceManager
    # The user name LibreOffice puts into the DAV:owner of its LOCK.
    cp = smgr.createInstanceWithContext(
        "com.sun.star.configuration.ConfigurationProvider", ctx)
    ua = cp.createInstanceWithArguments(
        "com.sun.star.configuration.ConfigurationUpdateAccess",
        (pv("nodepath", "/org.openoffice.UserProfile/Data"),))
    ua.setPropertyValue("givenname", given)
    ua.setPropertyValue("sn", surname)
    ua.commitChanges()
    desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    h = Handler(user, password)
    # Type detection asks the AuthenticationHandler, the document medium the
    # InteractionHandler: give both.
    doc = desktop.loadComponentFromURL(url, "_blank", 0, (
        pv("Hidden", True), pv("InteractionHandler", h),
        pv("AuthenticationHandler", h)))
    if doc is None:
        say("ERROR load returned None")
        return 1
    say("LOADED readonly=%s" % doc.isReadonly())
    docs = {"main": doc}
    for line in sys.stdin:
        cmd, _, arg = line.rstrip("\n").partition(" ")
        try:
            if cmd == "save":
                docs["main"].getText().setString(arg)
                docs["main"].store()
                say("SAVED modified=%s" % docs["main"].isModified())
            elif cmd == "close":
                docs.pop("main").close(True)
                say("CLOSED")
            elif cmd == "saveas":
                # A new document saved to a URL that does not exist yet.
                target, _, text = arg.partition(" ")
                new = desktop.loadComponentFromURL(
                    "private:factory/swriter", "_blank", 0, (pv("Hidden", True),))
                docs["new"] = new
                new.getText().setString(text)
                new.storeAsURL(target, (
                    pv("FilterName", "writer8"), pv("InteractionHandler", h),
                    pv("AuthenticationHandler", h)))
                say("STOREDAS readonly=%s" % new.isReadonly())
            elif cmd == "closenew":
                docs.pop("new").close(True)
                say("CLOSEDNEW")
            elif cmd == "quit":
                return 0
        except Exception:
            say("ERROR", cmd, traceback.format_exc().replace("\n", " | "))
    return 0

try:
    sys.exit(main())
except Exception:
    say("ERROR", traceback.format_exc().replace("\n", " | "))
    sys.exit(1)
'''


def _uno_python():
    """A python interpreter that can import uno, or None."""
    for exe in (sys.executable, "/usr/bin/python3"):
        if exe and os.access(exe, os.X_OK):
            p = subprocess.run([exe, "-c", "import uno, unohelper"],
                               capture_output=True, timeout=60)
            if p.returncode == 0:
                return exe
    return None


def _wait_no_locks(cluster, path, timeout=15):
    """Locks on `path`, polled until there are none or `timeout` s pass."""
    deadline = time.monotonic() + timeout
    while True:
        rows = _locks_on(cluster, path)
        if not rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.3)


def _odt_content_xml(data):
    return zipfile.ZipFile(BytesIO(data)).read("content.xml").decode("utf-8")


@pytest.fixture(scope="module")
def libreoffice(server, cluster, tmp_path_factory):
    """Creates an .odt locally, PUTs it, opens it in LibreOffice over
    vnd.sun.star.webdav://, checks the server while it is open, changes the
    text, saves in place, closes; records every server-side observation."""
    _need("soffice", "libreoffice-writer-nogui")
    py = _uno_python()
    if py is None:
        pytest.fail("no python3 can `import uno` (Debian package python3-uno)",
                    pytrace=False)
    base = tmp_path_factory.mktemp("lo")
    profile = base / "profile"
    home = base / "home"
    home.mkdir()
    env = _clean_env(HOME=str(home), SAL_USE_VCLPLUGIN="svp",
                     LANG="C.UTF-8", LC_ALL="C.UTF-8")
    lo_args = ["-env:UserInstallation=" + profile.as_uri(), "--headless",
               "--invisible", "--norestore", "--nologo", "--nodefault",
               "--nolockcheck"]

    # 1. A small .odt made by LibreOffice itself.
    marker_old = "Parvis original text " + uuid.uuid4().hex[:8]
    (base / "doc.txt").write_text(marker_old + "\n")
    conv = _run_group(["soffice"] + lo_args + [
        "--convert-to", "odt", "--outdir", str(base / "out"),
        str(base / "doc.txt")], timeout=180, env=env, cwd=base,
        stdin=subprocess.DEVNULL)
    odt = base / "out" / "doc.odt"
    if not odt.exists():
        pytest.skip("LibreOffice: `soffice --headless --convert-to odt` made no "
                    "file (exit %s): %s" % (conv.returncode,
                                            (conv.stdout + conv.stderr).strip()))
    odt_bytes = odt.read_bytes()
    assert marker_old in _odt_content_xml(odt_bytes)

    # 2. PUT it to the server.
    http = _alice()
    coll = _fresh_collection(server, http, "lo")
    url = join(coll, "report.odt")
    _put_file(http, url, odt_bytes)
    path = db_path(url)
    rec = {"coll": coll, "url": url, "path": path, "http": http,
           "marker_old": marker_old,
           "marker_new": "Edited in LibreOffice over WebDAV " + uuid.uuid4().hex[:8],
           "marker_saveas": "Saved as a new file " + uuid.uuid4().hex[:8]}

    # 3. soffice listening on a private pipe, and the UNO driver.
    pipe = "parvis_" + uuid.uuid4().hex[:12]
    with open(base / "soffice.log", "wb") as log:
        office = subprocess.Popen(
            ["soffice"] + lo_args + ["--accept=pipe,name=%s;urp;" % pipe],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=env, cwd=base, start_new_session=True)
    driver_py = base / "driver.py"
    driver_py.write_text(LO_DRIVER)
    dav_url = url.replace("http://", "vnd.sun.star.webdav://", 1)
    driver = _Interactive([py, str(driver_py), pipe, dav_url, "alice",
                           "alice-pw", "Alice", "Parvistest"], env=env, cwd=base)
    doc_path = "/dav/spaces/s1" + path
    seen_before = len(_access_lines(server, doc_path))
    try:
        try:
            driver.wait_for(r"^READY$", timeout=120)
        except AssertionError as e:
            pytest.skip("LibreOffice: the UNO driver could not connect to "
                        "`soffice --accept=pipe,...`: %s\n%s" % (
                            e, (base / "soffice.log").read_text(errors="replace")))
        try:
            m = driver.wait_for(r"^(LOADED readonly=(\w+)|ERROR.*)$", timeout=120)
        except AssertionError as e:
            m = None
            rec["load_error"] = str(e)
        if m is None or m.group(1).startswith("ERROR"):
            rec.setdefault("load_error", m.group(1) if m else "")
            if len(_access_lines(server, doc_path)) == seen_before:
                pytest.skip("LibreOffice never reached the server: %s"
                            % rec["load_error"])
            rec["loaded"] = False
        else:
            rec["loaded"] = True
            rec["readonly"] = m.group(2)
            # 4. While open: the lock, as the server has it and shows it.
            rec["locks_open"] = _locks_on(cluster, path)
            mgr = requests.Session()
            mgr.trust_env = False
            mgr.auth = ("mgr", "mgr-pw")
            r = propfind(mgr, url, "0", "prop", ["lockdiscovery"])
            rec["lockdiscovery"] = (r.status_code, r.content)
            current = _get_bytes(http, url)
            r = dav(mgr, "PUT", url, data=current)
            rec["mgr_put_status"] = r.status_code
            mgr.close()
            rec["revs_before_save"] = revisions_of(cluster, path)
            # 5. Change the text and save in place.
            driver.send("save " + rec["marker_new"])
            try:
                m = driver.wait_for(r"^(SAVED.*|ERROR.*)$", timeout=120)
                rec["save_result"] = m.group(1)
            except AssertionError as e:
                rec["save_result"] = "ERROR " + str(e)
            rec["revs_after_save"] = revisions_of(cluster, path)
            rec["bytes_after_save"] = _get_bytes(http, url)
            rec["locks_after_save"] = _locks_on(cluster, path)
            # 6. Close: the lock must go.
            driver.send("close")
            try:
                m = driver.wait_for(r"^(CLOSED|ERROR.*)$", timeout=120)
                rec["close_result"] = m.group(1)
            except AssertionError as e:
                rec["close_result"] = "ERROR " + str(e)
            rec["locks_after_close"] = _wait_no_locks(cluster, path)
            # 7. Save a new document to a URL that does not exist yet.
            new_url = join(coll, "saved-as.odt")
            rec["new_url"], rec["new_path"] = new_url, db_path(new_url)
            dav_new = new_url.replace("http://", "vnd.sun.star.webdav://", 1)
            driver.send("saveas %s %s" % (dav_new, rec["marker_saveas"]))
            try:
                m = driver.wait_for(r"^(STOREDAS.*|ERROR.*)$", timeout=120)
                rec["saveas_result"] = m.group(1)
            except AssertionError as e:
                rec["saveas_result"] = "ERROR " + str(e)
            rec["new_locks_open"] = _locks_on(cluster, rec["new_path"])
            rec["new_bytes"] = _get_bytes(http, new_url)
            rec["new_revs"] = revisions_of(cluster, rec["new_path"])
            driver.send("closenew")
            try:
                m = driver.wait_for(r"^(CLOSEDNEW|ERROR.*)$", timeout=120)
                rec["closenew_result"] = m.group(1)
            except AssertionError as e:
                rec["closenew_result"] = "ERROR " + str(e)
            rec["new_locks_after_close"] = _wait_no_locks(cluster, rec["new_path"])
            driver.send("quit")
        rec["driver_output"] = driver.output()
        rec["access"] = _access_lines(server, "/dav/spaces/s1" + db_path(coll))
    finally:
        driver.close(None)
        _kill_group(office)
    yield rec
    http.close()


def _lo_info(rec):
    return "driver output:\n%s\naccess log for the collection:\n%s" % (
        rec.get("driver_output", ""),
        "\n".join("%s %s %s %s" % a for a in rec.get("access", [])))


def _need_loaded(rec):
    assert rec["loaded"], "LibreOffice did not load the document: %s\n%s" % (
        rec.get("load_error"), _lo_info(rec))


def test_libreoffice_opens_document_for_editing(libreoffice):
    _need_loaded(libreoffice)
    assert libreoffice["readonly"] == "False", _lo_info(libreoffice)


def test_libreoffice_holds_exclusive_lock_while_open(libreoffice):
    _need_loaded(libreoffice)
    rows = libreoffice["locks_open"]
    assert len(rows) == 1, (rows, _lo_info(libreoffice))
    token, owner, principal, timeout_s, depth, exclusive = rows[0]
    assert principal == "alice" and exclusive == "t" and depth == "0", rows
    assert int(timeout_s) > 0, rows


def test_libreoffice_lock_owner_is_shown(libreoffice):
    _need_loaded(libreoffice)
    owner_xml = libreoffice["locks_open"][0][1] if libreoffice["locks_open"] else ""
    assert "LibreOffice - Alice Parvistest" in owner_xml, libreoffice["locks_open"]
    status, body = libreoffice["lockdiscovery"]
    assert status == 207, body
    (resp,) = parse_multistatus(body)
    st, el = resp.props["{DAV:}lockdiscovery"]
    assert st == 200
    owners = el.findall("{DAV:}activelock/{DAV:}owner")
    assert len(owners) == 1, body
    # LibreOffice 7.4 sends "LibreOffice - <full name from its profile>".
    assert "Alice Parvistest" in "".join(owners[0].itertext()), body


def test_libreoffice_lock_keeps_other_writers_out(libreoffice):
    _need_loaded(libreoffice)
    assert libreoffice["mgr_put_status"] == 423


def test_libreoffice_save_creates_new_revision(libreoffice):
    _need_loaded(libreoffice)
    assert libreoffice["save_result"].startswith("SAVED"), _lo_info(libreoffice)
    before, after = libreoffice["revs_before_save"], libreoffice["revs_after_save"]
    assert len(after) == len(before) + 1, (before, after)
    new = after[-1]
    assert new[5] == "alice", after
    assert new[3] == sha256_hex(libreoffice["bytes_after_save"]), after
    assert new[3] != before[-1][3], after


def test_libreoffice_saved_content_has_the_change(libreoffice):
    _need_loaded(libreoffice)
    assert libreoffice["save_result"].startswith("SAVED"), _lo_info(libreoffice)
    xml = _odt_content_xml(libreoffice["bytes_after_save"])
    assert libreoffice["marker_new"] in xml, xml[-2000:]
    assert libreoffice["marker_old"] not in xml, xml[-2000:]


def test_libreoffice_keeps_lock_across_save(libreoffice):
    _need_loaded(libreoffice)
    open_tokens = [r[0] for r in libreoffice["locks_open"]]
    assert [r[0] for r in libreoffice["locks_after_save"]] == open_tokens


def test_libreoffice_close_releases_lock(libreoffice):
    _need_loaded(libreoffice)
    assert libreoffice["close_result"] == "CLOSED", _lo_info(libreoffice)
    assert libreoffice["locks_after_close"] == [], _lo_info(libreoffice)


def _need_saved_as(rec):
    _need_loaded(rec)
    assert rec["saveas_result"].startswith("STOREDAS"), _lo_info(rec)


def test_libreoffice_save_as_new_url_creates_document(libreoffice):
    # LOCK on the unmapped URL, then PUT (CLIENTS.md 4.9).
    _need_saved_as(libreoffice)
    data = libreoffice["new_bytes"]
    assert data is not None, _lo_info(libreoffice)
    assert libreoffice["marker_saveas"] in _odt_content_xml(data)
    revs = libreoffice["new_revs"]
    assert revs and revs[-1][3] == sha256_hex(data), revs
    assert revs[-1][5] == "alice", revs


def test_libreoffice_save_as_locks_new_file_while_open(libreoffice):
    _need_saved_as(libreoffice)
    rows = libreoffice["new_locks_open"]
    assert len(rows) == 1, (rows, _lo_info(libreoffice))
    assert rows[0][2] == "alice" and "LibreOffice" in rows[0][1], rows


def test_libreoffice_save_as_close_releases_lock(libreoffice):
    _need_saved_as(libreoffice)
    assert libreoffice["closenew_result"] == "CLOSEDNEW", _lo_info(libreoffice)
    assert libreoffice["new_locks_after_close"] == [], _lo_info(libreoffice)
