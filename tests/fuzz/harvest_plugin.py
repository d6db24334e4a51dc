"""pytest plugin: record every request the protocol tests send through
requests (method, URL, headers, body) as JSON lines in $PARVIS_HARVEST,
for tests/fuzz/harvest.py to turn into seed corpora.

    PYTHONPATH=tests/fuzz PARVIS_HARVEST=/tmp/requests.jsonl \
        /usr/bin/python3 -m pytest -p harvest_plugin tests/protocol
"""

import base64
import inspect
import json
import os

import requests

_OUT = os.environ.get("PARVIS_HARVEST")
_MAX_BODY = 64 * 1024
_orig = requests.Session.request
_sig = inspect.signature(_orig)


def _record(self, *args, **kwargs):
    bound = _sig.bind(self, *args, **kwargs)
    a = bound.arguments
    data = a.get("data")
    if isinstance(data, str):
        data = data.encode("utf-8")
    headers = {}
    for src in (self.headers, a.get("headers") or {}):
        for k, v in dict(src).items():
            if v is not None:
                headers[str(k)] = v.decode("latin-1") if isinstance(v, bytes) else str(v)
    rec = {"method": str(a.get("method")), "url": str(a.get("url")),
           "headers": headers}
    if isinstance(data, (bytes, bytearray)) and len(data) <= _MAX_BODY:
        rec["body"] = base64.b64encode(bytes(data)).decode("ascii")
    resp = _orig(self, *args, **kwargs)
    rec["status"] = resp.status_code
    if _OUT:
        with open(_OUT, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")
    return resp


requests.Session.request = _record
