"""A local stand-in for the Hugging Face hub, on 127.0.0.1, for the download tests.

It speaks the part of the hub protocol that ``sam3_canvas.models.download`` (and
``huggingface_hub``) use to download: ``POST /api/models/<repo>/paths-info/<rev>`` (sizes and LFS
sha256, JSON or form-encoded ``paths``), ``HEAD``/``GET /<repo>/resolve/<rev>/<path>`` with ETag,
X-Repo-Commit and Range support (``bytes=a-`` and ``bytes=a-b``: 206 with Content-Range, 416 past
the end), and the hub's error answers (404 with ``X-Error-Code: RepoNotFound`` or
``EntryNotFound``, 401/403 with ``X-Error-Message``, 5xx). Behaviours a test can switch on:
``cut_after`` drops the connection after N bytes of the next GET (an interrupted transfer),
``corrupt`` serves changed bytes under the true sha256, ``bytes_per_second`` slows downloads
down, ``stall_after`` sends N bytes of the next GET then goes silent (a read timeout),
``status`` answers a file's GETs with an HTTP error code, ``ignore_range`` answers a Range
request with the whole file (200), as some proxies and CDNs do.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        import sys
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)  # a client going away is no news


class StandInHub:
    def __init__(self, repo: str, files: dict[str, bytes]):
        self.repo = repo
        self.files = dict(files)
        self.cut_after: int | None = None
        self.cut_path: str | None = None  # cut only this file's GET (None: the next GET)
        self.stall_after: int | None = None
        self.stalled = threading.Event()  # set to let a stalled GET end
        self.corrupt: set[str] = set()
        self.bytes_per_second: float | None = None  # throttle GETs (to let a cancel land)
        self.status: dict[str, int] = {}  # file -> HTTP error code its GETs get
        self.ignore_range = False
        self.requests: list[tuple[str, str, dict]] = []
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    @classmethod
    def from_folder(cls, repo: str, folder: Path, prefix: str = "") -> StandInHub:
        files = {prefix + p.relative_to(folder).as_posix(): p.read_bytes()
                 for p in sorted(folder.rglob("*")) if p.is_file()}
        return cls(repo, files)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> StandInHub:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stalled.set()
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
                """The file a resolve URL names; answers 404 (and returns None) when unknown."""
                path = unquote(self.path.split("?")[0])
                if "/resolve/" not in path:
                    self._missing("EntryNotFound")
                    return None
                if not path.startswith(f"/{hub.repo}/resolve/"):
                    self._missing("RepoNotFound")
                    return None
                rest = path[len(f"/{hub.repo}/resolve/"):]
                name = rest.split("/", 1)[1] if "/" in rest else None
                if name not in hub.files:
                    self._missing("EntryNotFound")
                    return None
                if name in hub.status:
                    self._error(hub.status[name])
                    return None
                return name

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
                hub.requests.append(("HEAD", self.path,
                                     {k.lower(): v for k, v in self.headers.items()}))
                name = self._file()
                if name is not None:
                    self._headers(name, hub.files[name])

            def do_GET(self):
                hub.requests.append(("GET", self.path,
                                     {k.lower(): v for k, v in self.headers.items()}))
                name = self._file()
                if name is None:
                    return
                data = hub.files[name]
                if name in hub.corrupt:
                    data = bytes(b ^ 0xFF for b in data[:64]) + data[64:]
                status, extra, start, end = 200, {}, 0, len(data)
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes=") and not hub.ignore_range:
                    first, _, last = rng[6:].partition("-")
                    start = int(first)
                    end = min(int(last) + 1, len(data)) if last else len(data)
                    if start >= len(data):
                        self._error(416, {"Content-Range": f"bytes */{len(data)}"})
                        return
                    status = 206
                    extra["Content-Range"] = f"bytes {start}-{end - 1}/{len(data)}"
                body = data[start:end]
                self._headers(name, body, status, extra)
                if hub.cut_after is not None and hub.cut_path in (None, name):
                    cut, hub.cut_after = hub.cut_after, None
                    self.wfile.write(body[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if hub.stall_after is not None:
                    stall, hub.stall_after = hub.stall_after, None
                    self.wfile.write(body[:stall])
                    self.wfile.flush()
                    hub.stalled.wait(30)
                    self.close_connection = True
                    return
                if hub.bytes_per_second:
                    import time
                    step = max(1 << 14, min(1 << 20, int(hub.bytes_per_second / 20)))
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
                    self._missing("EntryNotFound")
                    return
                if not self.path.startswith(f"/api/models/{hub.repo}/paths-info/"):
                    self._missing("RepoNotFound")
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

            def _missing(self, code: str):
                message = "Repository not found" if code == "RepoNotFound" else "Entry not found"
                self._error(404, {"X-Error-Code": code, "X-Error-Message": message})

            def _error(self, status: int, extra: dict | None = None):
                messages = {401: "Invalid credentials in Authorization header",
                            403: "Access to this file is restricted",
                            416: "Range Not Satisfiable"}
                message = messages.get(status, "Internal Error")
                headers = {"X-Error-Message": message, **(extra or {})}
                body = json.dumps({"error": headers["X-Error-Message"]}).encode()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

        return Handler
