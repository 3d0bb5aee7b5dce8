"""A small HTTP server on 127.0.0.1 for download tests: serves a folder, honours Range,
and can cut a response short or fail a number of times to exercise retries and resume."""
from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from pathlib import Path


class Faults:
    """What the server does wrong: ``fail_first`` requests answer 503, ``cut_after`` bytes
    then the connection drops (once), ``ignore_range`` answers 200 to Range requests."""

    def __init__(self) -> None:
        self.fail_first = 0
        self.cut_after: int | None = None
        self.ignore_range = False
        self.requests: list[dict] = []


class _Handler(http.server.SimpleHTTPRequestHandler):
    faults: Faults

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        faults = self.faults
        faults.requests.append({"path": self.path, "range": self.headers.get("Range")})
        if faults.fail_first > 0:
            faults.fail_first -= 1
            self.send_error(503, "try again")
            return
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404, "not found")
            return
        data = path.read_bytes()
        start = 0
        requested = self.headers.get("Range")
        if requested and not faults.ignore_range:
            start = int(requested.split("=")[1].split("-")[0])
            if start >= len(data):
                self.send_error(416, "range not satisfiable")
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if faults.cut_after is not None:
            body, faults.cut_after = body[:faults.cut_after], None
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


@contextlib.contextmanager
def local_http_server(root: str | Path):
    """Serve ``root`` on 127.0.0.1; yields (base_url, faults)."""
    faults = Faults()
    handler = type("Handler", (_Handler,), {"faults": faults})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", faults
    finally:
        server.shutdown()
        server.server_close()
