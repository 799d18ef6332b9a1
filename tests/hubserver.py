"""A local stand-in for the Hugging Face hub, on 127.0.0.1, for the download tests.

It speaks the part of the hub protocol that ``huggingface_hub`` uses to download: ``POST
/api/models/<repo>/paths-info/<rev>`` (sizes and LFS sha256), ``HEAD``/``GET
/<repo>/resolve/<rev>/<path>`` with ETag, X-Repo-Commit and Range support. Behaviours a test can
switch on: ``cut_after`` drops the connection after N bytes of the next GET (an interrupted
transfer), ``corrupt`` serves changed bytes under the true sha256, ``bytes_per_second`` slows
downloads down.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class StandInHub:
    def __init__(self, repo: str, files: dict[str, bytes]):
        self.repo = repo
        self.files = dict(files)
        self.cut_after: int | None = None
        self.corrupt: set[str] = set()
        self.bytes_per_second: float | None = None  # throttle GETs (to let a cancel land)
        self.requests: list[tuple[str, str, dict]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @classmethod
    def from_folder(cls, repo: str, folder: Path, prefix: str = "") -> "StandInHub":
        files = {prefix + p.relative_to(folder).as_posix(): p.read_bytes()
                 for p in sorted(folder.rglob("*")) if p.is_file()}
        return cls(repo, files)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "StandInHub":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def gets(self, path: str) -> list[dict]:
        return [h for m, p, h in self.requests if m == "GET" and p.endswith("/" + path)]

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def _file(self) -> str | None:
                marker = f"/{hub.repo}/resolve/"
                path = unquote(self.path.split("?")[0])
                if not path.startswith(marker):
                    return None
                rest = path[len(marker):]
                return rest.split("/", 1)[1] if "/" in rest else None

            def _headers(self, name: str, data: bytes, status=200, extra=None):
                sha = hashlib.sha256(hub.files[name]).hexdigest()
                self.send_response(status)
                self.send_header("X-Repo-Commit", COMMIT)
                self.send_header("ETag", f'"{sha}"')
                self.send_header("X-Linked-Etag", f'"{sha}"')
                self.send_header("X-Linked-Size", str(len(hub.files[name])))
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (extra or {}).items():
                    self.send_header(key, value)
                self.end_headers()

            def do_HEAD(self):
                hub.requests.append(("HEAD", self.path, {k.lower(): v for k, v in self.headers.items()}))
                name = self._file()
                if name not in hub.files:
                    self._missing()
                    return
                self._headers(name, hub.files[name])

            def do_GET(self):
                hub.requests.append(("GET", self.path, {k.lower(): v for k, v in self.headers.items()}))
                name = self._file()
                if name not in hub.files:
                    self._missing()
                    return
                data = hub.files[name]
                if name in hub.corrupt:
                    data = bytes(b ^ 0xFF for b in data[:64]) + data[64:]
                status, extra, start = 200, {}, 0
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0])
                    status = 206
                    extra["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
                body = data[start:]
                self._headers(name, body, status, extra)
                if hub.cut_after is not None:
                    cut, hub.cut_after = hub.cut_after, None
                    self.wfile.write(body[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if hub.bytes_per_second:
                    import time
                    step = 1 << 20
                    for at in range(0, len(body), step):
                        try:
                            self.wfile.write(body[at:at + step])
                        except (BrokenPipeError, ConnectionResetError):
                            return  # the client went away (a cancelled download)
                        time.sleep(step / hub.bytes_per_second)
                    return
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                hub.requests.append(("POST", self.path, dict(self.headers)))
                if "/paths-info/" not in self.path:
                    self._missing()
                    return
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    paths = json.loads(raw).get("paths", [])
                else:
                    paths = parse_qs(raw).get("paths", [])
                out = []
                for path in paths:
                    if path in hub.files:
                        data = hub.files[path]
                        out.append({"type": "file", "path": path, "size": len(data),
                                    "oid": hashlib.sha1(data).hexdigest(),
                                    "lfs": {"oid": hashlib.sha256(data).hexdigest(),
                                            "size": len(data), "pointerSize": 130}})
                body = json.dumps(out).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _missing(self):
                body = b'{"error": "Entry not found"}'
                self.send_response(404)
                self.send_header("X-Error-Code", "EntryNotFound")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler
