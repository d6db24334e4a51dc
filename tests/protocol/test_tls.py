"""HTTPS served by parvisd itself (tls_cert / tls_key): curl and cadaver
over TLS with a certificate made at test time, plain HTTP refused on the
TLS port, /healthz over HTTPS, and Basic accepted over TLS from another
machine (where plain HTTP is refused)."""

import os
import re
import select
import shutil
import subprocess
import time
import uuid

import pytest
import requests

import conftest
from access_helpers import short_id
from dav_helpers import parse_multistatus

SUF = short_id()


class TLSServer(conftest.ParvisServer):
    """A ParvisServer whose URL is https://, started and probed with the
    test's own CA (the harness's probe speaks plain HTTP)."""

    def __init__(self, bins, cluster, extra_conf, cafile, listen=None):
        super().__init__(bins, cluster, extra_conf)
        self.cafile = cafile
        self.listen = listen

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def _write_conf(self):
        super()._write_conf()
        if self.listen:
            with open(self.conf_path, "a") as f:
                f.write("listen = %s:%d\n" % (self.listen, self.port))

    def _spawn_and_wait(self):
        env = dict(os.environ)
        env.pop("PARVIS_DSN", None)
        env.pop("PARVIS_LISTEN", None)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [self.bins["parvisd"], "-c", self.conf_path],
                stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, env=env, cwd=self.tmpdir)
        self.returncode = None
        conftest._live_servers.append(self)
        deadline = time.monotonic() + self.START_TIMEOUT
        http = requests.Session()
        http.trust_env = False
        try:
            while True:
                rc = self.proc.poll()
                if rc is not None:
                    self.returncode = rc
                    conftest._live_servers.remove(self)
                    raise RuntimeError("parvisd exited with status %s during "
                                       "start-up:\n%s" % (rc,
                                                          self.log_tail()))
                try:
                    r = http.get(self.url + "/healthz", timeout=2,
                                 verify=self.cafile)
                    if r.status_code == 200:
                        return
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError("parvisd did not answer on https "
                                       "/healthz:\n" + self.log_tail())
                time.sleep(0.05)
        finally:
            http.close()


def non_loopback_ipv4():
    import socket
    for probe in ("192.0.2.1", "10.255.255.255", "8.8.8.8"):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect((probe, 9))
                ip = s.getsockname()[0]
        except OSError:
            continue
        if not ip.startswith("127.") and ip != "0.0.0.0":
            return ip
    return None


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    cert, key = str(d / "cert.pem"), str(d / "key.pem")
    san = "subjectAltName=IP:127.0.0.1"
    ip = non_loopback_ipv4()
    if ip:
        san += ",IP:" + ip
    p = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", key, "-out", cert, "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", san],
        capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return {"cert": cert, "key": key, "dir": str(d), "ip": ip}


@pytest.fixture(scope="module")
def tls(bins, cluster, seed, pki):
    srv = TLSServer(bins, cluster,
                    {"tls_cert": pki["cert"], "tls_key": pki["key"]},
                    pki["cert"], listen="0.0.0.0" if pki["ip"] else None)
    try:
        srv.start()
    except BaseException:
        srv.kill()
        srv.cleanup()
        raise
    yield srv
    conftest._teardown_server(srv)


@pytest.fixture(scope="module")
def folder(tls, pki):
    """A folder in s1 with one file, made over HTTPS with curl."""
    url = tls.url + "/dav/spaces/s1/tls-%s/" % SUF
    curl(pki, "-X", "MKCOL", url, expect=201)
    return url


def curl(pki, *args, user="alice", expect=None, data=None):
    argv = ["curl", "-sS", "--cacert", pki["cert"], "-u",
            "%s:%s-pw" % (user, user), "-o", "-", "-w",
            "\n%{http_code}"] + list(args)
    p = subprocess.run(argv, capture_output=True, input=data, timeout=60)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    body, _, code = p.stdout.rpartition(b"\n")
    code = int(code)
    if expect is not None:
        assert code == expect, (args, code, body[:1000])
    return code, body


def test_healthz_over_https(tls, pki):
    r = requests.get(tls.url + "/healthz", verify=pki["cert"], timeout=10)
    assert r.status_code == 200
    code, _ = curl(pki, tls.url + "/healthz", expect=200)


def test_curl_put_get_propfind_over_https(tls, pki, folder):
    url = folder + "hello.txt"
    curl(pki, "-T", "-", url, data=b"hello over TLS\n", expect=201)
    code, body = curl(pki, url, expect=200)
    assert body == b"hello over TLS\n"
    code, body = curl(pki, "-X", "PROPFIND", "-H", "Depth: 1", folder,
                      expect=207)
    paths = {r.path for r in parse_multistatus(body)}
    assert "/dav/spaces/s1/tls-%s/hello.txt" % SUF in paths


def test_curl_refuses_an_unknown_certificate(tls):
    p = subprocess.run(["curl", "-sS", "-u", "alice:alice-pw",
                        tls.url + "/healthz"], capture_output=True,
                       timeout=60)
    assert p.returncode == 60, p  # CURLE_PEER_FAILED_VERIFICATION


def test_plain_http_on_the_tls_port_fails(tls):
    plain = "http://127.0.0.1:%d" % tls.port
    s = requests.Session()
    s.trust_env = False
    try:
        r = s.request("PROPFIND", plain + "/dav/spaces/s1/",
                      auth=("alice", "alice-pw"), headers={"Depth": "0"},
                      timeout=10)
    except requests.RequestException:
        return
    assert r.status_code >= 400
    assert b"multistatus" not in r.content


def test_basic_over_tls_from_another_address(tls, pki):
    if not pki["ip"]:
        pytest.skip("no non-loopback IPv4 address on this machine")
    url = "https://%s:%d/dav/spaces/s1/" % (pki["ip"], tls.port)
    code, body = curl(pki, "-X", "PROPFIND", "-H", "Depth: 0", url,
                      expect=207)


def run_in_pty(argv, dialogue, env, cwd, timeout=60):
    """Runs argv on a pseudo-terminal (cadaver asks about an untrusted
    certificate only when talking to a terminal); dialogue is a list of
    (expected output, input to send then).  Returns everything read."""
    master, slave = os.openpty()
    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                         env=env, cwd=cwd, start_new_session=True)
    os.close(slave)
    out, pos = b"", 0
    steps = list(dialogue)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                out += data
            while steps and steps[0][0] in out[pos:]:
                pos = out.index(steps[0][0], pos) + len(steps[0][0])
                os.write(master, steps.pop(0)[1])
            if not ready and p.poll() is not None:
                break
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
        os.close(master)
    return out.decode(errors="replace")


def cadaver(pki, url, commands, user="alice"):
    """cadaver on url with .netrc credentials, accepting the certificate
    when asked, then the given commands (one per prompt)."""
    if shutil.which("cadaver") is None:
        pytest.skip("cadaver is not installed")
    home = os.path.join(pki["dir"], "home-" + uuid.uuid4().hex[:6])
    os.makedirs(home)
    netrc = os.path.join(home, ".netrc")
    with open(netrc, "w") as f:
        f.write("machine 127.0.0.1\nlogin %s\npassword %s-pw\n"
                % (user, user))
    os.chmod(netrc, 0o600)
    env = dict(os.environ, HOME=home, TERM="dumb")
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env.pop(var, None)
    prompt = b"dav:/"
    dialogue = [(b"(y/n)", b"y\n")]
    dialogue += [(prompt, c.encode() + b"\n") for c in commands]
    dialogue += [(prompt, b"quit\n")]
    return run_in_pty(["cadaver", url], dialogue, env, home)


def test_cadaver_lists_and_gets_over_https(tls, pki, folder):
    name = "cadaver-%s.txt" % SUF
    curl(pki, "-T", "-", folder + name, data=b"fetched by cadaver\n",
         expect=201)
    out = os.path.join(pki["dir"], "got-" + name)
    text = cadaver(pki, folder, ["ls", "get %s %s" % (name, out)])
    assert "Listing collection" in text and "succeeded" in text, text
    # One line per file: (a marker,) name, size, date.
    assert re.search(r"^\s+(?:\S\s+)?%s\s+19\s" % re.escape(name), text,
                     re.M), text
    assert os.path.exists(out), text
    with open(out, "rb") as f:
        assert f.read() == b"fetched by cadaver\n"
