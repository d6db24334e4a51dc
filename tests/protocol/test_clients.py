"""Real clients against parvisd: litmus (basic, copymove, props), cadaver,
rclone (webdav backend, vendor owncloud as docs/clients.md says)."""

import hashlib
import os
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from dav_helpers import assert_status, dav, db_path, join, resource_row

MiB = 1 << 20


@pytest.fixture
def alice(seed, session_for):
    return session_for("alice")


def _need(tool):
    if shutil.which(tool) is None:
        pytest.fail("%s is not installed (Debian package %s)" % (tool, tool))


# ------------------------------------------------------------------- litmus

SUMMARY_RE = re.compile(
    r"<- summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed")


def _litmus(url, suite, cwd):
    _need("litmus")
    env = dict(os.environ, TESTS=suite)
    p = subprocess.run(["litmus", url, "alice", "alice-pw"], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=600)
    out = p.stdout + p.stderr
    summaries = {m.group(1): (int(m.group(2)), int(m.group(3)),
                              int(m.group(4)))
                 for m in SUMMARY_RE.finditer(out)}
    debug = Path(cwd) / "debug.log"
    if debug.exists():
        out += "\n---- debug.log (tail) ----\n" + \
            debug.read_text(errors="replace")[-20000:]
    return summaries, out


@pytest.mark.parametrize("suite", ["basic", "copymove", "props"])
def test_litmus_suite_passes(suite, coll, tmp_path):
    # One suite per run, each against its own fresh collection.
    summaries, out = _litmus(coll, suite, tmp_path)
    assert suite in summaries, out
    run, passed, failed = summaries[suite]
    assert run > 0, out
    assert failed == 0 and passed == run, out


# ------------------------------------------------------------------ cadaver

def _cadaver(home, url, script):
    env = dict(os.environ, HOME=str(home))
    env.pop("http_proxy", None)
    env.pop("HTTP_PROXY", None)
    return subprocess.run(["cadaver", url], input=script, env=env,
                          cwd=home, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def cadaver_home(tmp_path):
    _need("cadaver")
    home = tmp_path / "home"
    home.mkdir()
    netrc = home / ".netrc"
    netrc.write_text("machine 127.0.0.1\nlogin alice\npassword alice-pw\n")
    netrc.chmod(0o600)
    return home


@pytest.fixture
def cadaver_session(cadaver_home, coll):
    home = cadaver_home
    (home / "one.txt").write_bytes(b"first file via cadaver\n")
    (home / "two.bin").write_bytes(os.urandom(70000))
    script = "\n".join([
        "mkcol work",
        "cd work",
        "put one.txt one.txt",
        "put two.bin two.bin",
        "ls",
        "get two.bin two-back.bin",
        "move one.txt renamed.txt",
        "delete two.bin",
        "ls",
        "quit",
        ""])
    p = _cadaver(home, coll, script)
    return home, p


def test_cadaver_session_exits_cleanly(cadaver_session):
    _, p = cadaver_session
    assert p.returncode == 0, p.stdout + p.stderr
    assert "failed" not in p.stdout.lower(), p.stdout + p.stderr


def test_cadaver_ls_lists_uploaded_files(cadaver_session):
    _, p = cadaver_session
    assert "one.txt" in p.stdout and "two.bin" in p.stdout, p.stdout


def test_cadaver_get_returns_uploaded_bytes(cadaver_session):
    home, p = cadaver_session
    back = home / "two-back.bin"
    assert back.exists(), p.stdout + p.stderr
    assert back.read_bytes() == (home / "two.bin").read_bytes()


def test_cadaver_mkcol_put_move_delete_reach_server(cadaver_session, alice,
                                                   coll):
    home, p = cadaver_session
    work = join(coll, "work", collection=True)
    r = dav(alice, "GET", join(work, "renamed.txt"))
    assert_status(r, 200)
    assert r.content == b"first file via cadaver\n"
    assert_status(dav(alice, "GET", join(work, "one.txt")), 404)
    assert_status(dav(alice, "GET", join(work, "two.bin")), 404)


# ------------------------------------------------------------------- rclone

def _rclone_config(tmp_path, url, vendor="owncloud"):
    """The remote docs/clients.md recommends: vendor owncloud, which sets
    each file's modification time (X-OC-Mtime) and compares it."""
    _need("rclone")
    obscured = subprocess.run(["rclone", "obscure", "alice-pw"],
                              capture_output=True, text=True, check=True,
                              timeout=60).stdout.strip()
    conf = tmp_path / "rclone.conf"
    conf.write_text("[parvis]\ntype = webdav\nurl = %s\nvendor = %s\n"
                    "user = alice\npass = %s\n" % (url, vendor, obscured))
    return conf


def _rclone(conf, *args):
    p = subprocess.run(["rclone", "--config", str(conf), "--low-level-retries",
                        "1", "--retries", "1", "-v"] + list(args),
                       capture_output=True, text=True, timeout=1800)
    return p


NFC_E = unicodedata.normalize("NFC", "\u00e9")
MIXED_FILES = {
    "plain.txt": b"plain text\n",
    "with space.txt": b"a name with a space\n",
    "caf%s.txt" % NFC_E: "accented name, cr\u00e8me br\u00fbl\u00e9e\n".encode(),
    "100%.txt": b"percent in the name\n",
    "a#b.txt": b"hash in the name\n",
    "a+b&c=d;e.txt": b"sub-delims in the name\n",
    "empty.txt": b"",
    "sub dir/nested %s #1 50%%.bin" % NFC_E: None,     # random, 300 KiB
    "sub dir/deeper/x.txt": b"deep\n",
}


def _write_tree(root, files):
    expected = {}
    for rel, data in files.items():
        if data is None:
            data = os.urandom(300 * 1024)
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        expected[rel] = data
    return expected


def _read_tree(root):
    out = {}
    for p in root.rglob("*"):
        if p.is_file():
            rel = unicodedata.normalize("NFC", str(p.relative_to(root)))
            out[rel] = p.read_bytes()
    return out


def _round_trip(tmp_path, coll, files):
    src = tmp_path / "src"
    src.mkdir()
    expected = _write_tree(src, files)
    conf = _rclone_config(tmp_path, coll)
    up = _rclone(conf, "copy", str(src), "parvis:up")
    check = _rclone(conf, "check", str(src), "parvis:up")
    back = tmp_path / "back"
    down = _rclone(conf, "copy", "parvis:up", str(back))
    return expected, up, check, down, back


@pytest.fixture
def rclone_mixed(tmp_path, coll):
    return _round_trip(tmp_path, coll, MIXED_FILES)


def test_rclone_copy_up_succeeds(rclone_mixed):
    _, up, _, _, _ = rclone_mixed
    assert up.returncode == 0, up.stderr


def test_rclone_check_finds_no_difference(rclone_mixed):
    _, _, check, _, _ = rclone_mixed
    assert check.returncode == 0, check.stderr
    assert "0 differences found" in check.stderr, check.stderr


def test_rclone_copy_back_gives_same_bytes(rclone_mixed):
    expected, _, _, down, back = rclone_mixed
    assert down.returncode == 0, down.stderr
    got = _read_tree(back)
    assert sorted(got) == sorted(expected)
    for rel, data in expected.items():
        assert got[rel] == data, rel


def test_rclone_names_stored_verbatim(cluster, rclone_mixed, coll):
    expected, up, _, _, _ = rclone_mixed
    assert up.returncode == 0, up.stderr
    for rel in expected:
        path = db_path(coll) + "/up/" + rel
        assert resource_row(cluster, path) is not None, path


@pytest.mark.heavy
@pytest.mark.parametrize("vendor", ["owncloud", "other"])
def test_rclone_sync_sees_an_edit_of_the_same_size(tmp_path, coll, vendor):
    """With vendor owncloud, rclone keeps each file's modification time on
    the server and finds an edit that keeps the size; with vendor other
    it compares sizes only (rclone's own rule), which is why the docs
    recommend owncloud."""
    src = tmp_path / "src"
    src.mkdir()
    f = src / "note.txt"
    f.write_bytes(b"version A\n")
    os.utime(f, (1700000000, 1700000000))
    conf = _rclone_config(tmp_path, coll, vendor)
    assert _rclone(conf, "sync", str(src), "parvis:s").returncode == 0
    f.write_bytes(b"version B\n")
    os.utime(f, (1700000600, 1700000600))
    p = _rclone(conf, "sync", str(src), "parvis:s")
    assert p.returncode == 0, p.stderr
    copied = "Copied" in p.stderr
    assert copied == (vendor == "owncloud"), p.stderr
    again = _rclone(conf, "sync", str(src), "parvis:s")
    assert "Copied" not in again.stderr, again.stderr


def test_rclone_round_trip_200mib_file(tmp_path, coll):
    src = tmp_path / "src"
    src.mkdir()
    big = src / "big random.bin"
    sha = hashlib.sha256()
    with open(big, "wb") as f:
        for _ in range(200):
            piece = os.urandom(MiB)
            sha.update(piece)
            f.write(piece)
    conf = _rclone_config(tmp_path, coll)
    up = _rclone(conf, "copy", str(src), "parvis:big")
    assert up.returncode == 0, up.stderr
    check = _rclone(conf, "check", str(src), "parvis:big")
    assert check.returncode == 0 and "0 differences found" in check.stderr, \
        check.stderr
    back = tmp_path / "back"
    down = _rclone(conf, "copy", "parvis:big", str(back))
    assert down.returncode == 0, down.stderr
    got = hashlib.sha256()
    with open(back / "big random.bin", "rb") as f:
        for piece in iter(lambda: f.read(MiB), b""):
            got.update(piece)
    assert got.hexdigest() == sha.hexdigest()
