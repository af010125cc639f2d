"""Sandbox HTTP(S) server: listeners, fault-aware response sending, request log, control API, CLI.

Run `python3 tests/sandbox/server.py --help` or `python3 -m tests.sandbox.server --help`.
"""

import argparse
import datetime
import json
import os
import shutil
import signal
import socket
import ssl
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

if __name__ == "__main__" and not __package__:
    # Run as a script: import the sibling modules as the package "sandbox" (PEP 366).
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    __package__ = "sandbox"  # pylint: disable=redefined-builtin

# pylint: disable=wrong-import-position
from . import faults, mlds, pki, syndication, trud  # noqa: E402
from .archives import ArchiveStore  # noqa: E402
from .mlds_wire import ORDERS  # noqa: E402
from .web import BytesBody, Endpoint, HttpError, Request, Response, Router, json_response, parse_range  # noqa: E402

DEFAULT_API_KEY = "sandbox-trud-key-0123456789abcdef"
DEFAULT_DISABLED_KEY = "sandbox-disabled-key-000"
WRITE_SIZE = 4 << 20  # generated bodies come in 1 MiB blocks; memory bodies are sliced to this


class RequestLog:
    """Every non-control request, in memory (clearable) and appended to requests.jsonl."""

    def __init__(self, path: Path):
        self._path = path
        self._entries: list[dict] = []
        self._lock = threading.Lock()

    def record(self, entry: dict):
        """Append one entry."""
        line = json.dumps(entry) + "\n"
        with self._lock:
            self._entries.append(entry)
            with open(self._path, "a", encoding="utf-8") as journal:
                journal.write(line)

    def entries(self) -> list[dict]:
        """A snapshot of the in-memory entries."""
        with self._lock:
            return list(self._entries)

    def clear(self):
        """Empty the in-memory log; requests.jsonl keeps everything."""
        with self._lock:
            self._entries.clear()


class SandboxApp:  # pylint: disable=too-few-public-methods
    """Shared state of both listeners: router, services, faults, log, info."""

    def __init__(self, state_dir: Path, services):
        self.state_dir = state_dir
        self.services = list(services)
        self.router = Router()
        self.faults = faults.FaultBook()
        self.log = RequestLog(state_dir / "requests.jsonl")
        self.info: dict = {}
        for service in self.services:
            service.register(self.router)
            self.faults.kinds.update(service.kinds)
        self._register_control()

    def _register_control(self):
        add = self.router.add
        add("POST", "/_sandbox/reset", self._reset, control=True)
        add("GET", "/_sandbox/faults", lambda req: json_response({"faults": self.faults.pending()}), control=True)
        add("POST", "/_sandbox/faults", self._add_faults, control=True)
        add("DELETE", "/_sandbox/faults", lambda req: self._done(self.faults.clear), control=True)
        add("GET", "/_sandbox/log", lambda req: json_response({"requests": self.log.entries()}), control=True)
        add("DELETE", "/_sandbox/log", lambda req: self._done(self.log.clear), control=True)
        add("GET", "/_sandbox/info", lambda req: json_response(self.info), control=True)

    @staticmethod
    def _done(action) -> Response:
        action()
        return json_response({"ok": True})

    def _reset(self, _req) -> Response:
        self.faults.clear()
        self.log.clear()
        for service in self.services:
            service.reset()
        return json_response({"ok": True})

    def _add_faults(self, req) -> Response:
        rules = req.json().get("faults")
        if not isinstance(rules, list):
            raise HttpError(400, 'body must be {"faults": [rule, ...]}')
        try:
            added = self.faults.add(rules)
        except faults.FaultError as exc:
            raise HttpError(400, str(exc)) from exc
        return json_response({"added": [rule.to_json() for rule in added], "faults": self.faults.pending()})


def _not_routed(status: int) -> Endpoint:
    message = "NOT FOUND" if status == 404 else "METHOD NOT ALLOWED"
    body = BytesBody(json.dumps({"httpStatus": status, "message": message}).encode())
    return Endpoint(None, None, lambda fault=None: Response(status, body))


class _ChunkWriter:  # pylint: disable=too-few-public-methods
    """Frames writes as HTTP/1.1 chunks, for bodies sent without a Content-Length (MLDS's S3 proxy)."""

    def __init__(self, raw):
        self.raw = raw

    def write(self, data):
        """One chunk per write."""
        if len(data):
            self.raw.write(b"%x\r\n" % len(data))
            self.raw.write(data)
            self.raw.write(b"\r\n")

    def flush(self):
        """Flush the socket writer."""
        self.raw.flush()


def _logged_headers(headers, extra: dict) -> dict:
    """Request headers for the log: an Authorization value never gets there, at most the user it authenticated."""
    shown = f"[{extra['auth_user']}]" if extra.get("auth_user") else "[redacted]"
    return {name: shown if name.lower() == "authorization" else value for name, value in headers.items()}


class Handler(BaseHTTPRequestHandler):
    """Routes a request, applies at most one fault rule, sends, logs."""

    protocol_version = "HTTP/1.1"  # keep-alive, as clients with connection pools expect
    server_version = "TRUD-Sandbox/1"
    sys_version = ""
    timeout = 300  # idle keep-alive connections eventually free their thread
    _cut = False  # the body was cut short on purpose (drop_after) or by a failure: no closing chunk

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Quiet: requests go to the request log instead of stderr."""

    def do_GET(self):  # pylint: disable=invalid-name
        """All methods go through the router."""
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    @property
    def app(self) -> SandboxApp:
        """The state shared by both listeners."""
        return self.server.app

    def _request(self) -> Request:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        host = self.headers.get("Host") or self.server.authority
        return Request(self.command, self.path, self.headers, self.server.scheme, host, body)

    def _dispatch(self):
        started = time.time()
        req = self._request()
        route, found = self.app.router.match(self.command, req.path)
        if route and route.control:
            req.params = found
            self._send_safely(req, self._control(route, req), None)
            return
        if route:
            req.params = found
            endpoint = route.handler(req)
        else:
            endpoint = _not_routed(found)
        rule = self.app.faults.take(endpoint.kind, endpoint.item, self.command) if endpoint.kind else None
        try:
            if rule and rule.type in faults.STATUS_TYPES:
                response = faults.status_response(rule)
            else:
                response = endpoint.respond(rule)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            response = json_response({"httpStatus": 500, "message": f"sandbox error: {exc}"}, 500)
        status, sent = self._send_safely(req, response, rule)
        extra = endpoint.log_extra  # e.g. MLDS: auth_user, mlds_reason
        self.app.log.record({
            "time": datetime.datetime.fromtimestamp(started, datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "method": self.command, "path": self.path, "kind": endpoint.kind, "item": endpoint.item,
            "status": status, "range": self.headers.get("Range"), "bytes_sent": sent,
            "headers": _logged_headers(self.headers, extra), "client": f"{self.client_address[0]}:{self.client_address[1]}",
            "scheme": self.server.scheme, "fault": rule.type if rule else None, **extra,
        })

    @staticmethod
    def _control(route, req) -> Response:
        try:
            return route.handler(req)
        except HttpError as exc:
            return json_response({"error": exc.message}, exc.status)
        except (ValueError, TypeError, KeyError) as exc:
            return json_response({"error": f"bad request: {exc}"}, 400)

    def _send_safely(self, req: Request, response: Response, rule) -> tuple[int, int]:
        """Send; a client that goes away mid-response just ends the connection."""
        try:
            return self._send(req, response, rule)
        except (ConnectionError, ssl.SSLError, socket.timeout):
            self.close_connection = True
            return response.status, 0

    def _send(self, req: Request, response: Response, rule) -> tuple[int, int]:
        """Send headers and (unless HEAD) the body; return (status, body bytes written)."""
        body, status, headers = response.body, response.status, dict(response.headers)
        start, end = 0, body.size
        if response.ranges and status == 200:
            headers["Accept-Ranges"] = "bytes"
            wanted = parse_range(req.headers.get("Range"), body.size)
            if rule and rule.type == "ignore_range":
                wanted = None
            if wanted == "unsatisfiable":
                body = BytesBody(json.dumps({"httpStatus": 416, "message": "REQUESTED RANGE NOT SATISFIABLE"}).encode())
                status, start, end = 416, 0, body.size
                headers["Content-Range"] = f"bytes */{response.body.size}"
            elif wanted:
                status, (start, end) = 206, wanted
                headers["Content-Range"] = f"bytes {start}-{end - 1}/{body.size}"
        chunked = headers.get("Transfer-Encoding", "").lower() == "chunked"
        self.send_response(status)
        if response.content_type or status == 416:  # an empty MLDS ResponseEntity has no Content-Type
            self.send_header("Content-Type", response.content_type if status != 416 else "application/json")
        if not chunked:
            self.send_header("Content-Length", str(end - start))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD":
            return status, 0
        if chunked:
            return status, self._write_chunked(body, start, end, rule)
        return status, self._write_body(body, start, end, rule)

    def _write_chunked(self, body, start: int, end: int, rule) -> int:
        """Send the body as chunks; a cut body lacks the closing chunk, so clients see it is incomplete."""
        raw, self._cut = self.wfile, False
        self.wfile = _ChunkWriter(raw)
        try:
            sent = self._write_body(body, start, end, rule)
        finally:
            self.wfile = raw
        if not self._cut:
            try:
                raw.write(b"0\r\n\r\n")
            except (ConnectionError, ssl.SSLError, socket.timeout):
                self.close_connection = True
        return sent

    def _write_body(self, body, start: int, end: int, rule) -> int:
        """Stream [start, end) of the body, applying drop_after / stall / corrupt_byte."""
        params = rule.params if rule else {}
        kind_of = rule.type if rule else None
        drop_at = params["bytes"] if kind_of == "drop_after" else None
        stall_at = params["after_bytes"] if kind_of == "stall" else None
        corrupt = params["offset"] if kind_of == "corrupt_byte" else None
        sent, offset = 0, start
        try:
            for chunk in body.chunks(start, end):
                view = memoryview(chunk)
                if corrupt is not None and offset <= corrupt < offset + len(view):
                    view = memoryview(bytearray(view))  # copy: generated chunks share one buffer
                    view[corrupt - offset] ^= 0xFF
                offset += len(view)
                while len(view):
                    piece = view[:WRITE_SIZE]
                    if stall_at is not None and sent + len(piece) >= stall_at:
                        piece = piece[:stall_at - sent]
                    if drop_at is not None and sent + len(piece) >= drop_at:
                        self.wfile.write(piece[:drop_at - sent])
                        self._abort()
                        return drop_at
                    self.wfile.write(piece)
                    sent += len(piece)
                    view = view[len(piece):]
                    if stall_at is not None and sent == stall_at:
                        self.wfile.flush()
                        time.sleep(params["seconds"])
                        stall_at = None
            if drop_at is not None and sent == drop_at:  # drop point at the very end: still cut
                self._abort()
        except (ConnectionError, ssl.SSLError, socket.timeout):
            self.close_connection = self._cut = True
        return sent

    def _abort(self):
        """Close the connection mid-body: the client sees fewer bytes than Content-Length."""
        self.close_connection = self._cut = True
        try:
            self.wfile.flush()
            socket.socket.shutdown(self.connection, socket.SHUT_RDWR)
        except OSError:
            pass


class Listener(ThreadingHTTPServer):
    """One plain or TLS listener; TLS handshakes happen in the connection's own thread."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # benchmarks open many connections at once

    def __init__(self, host: str, port: int, app: SandboxApp, ssl_context: ssl.SSLContext | None = None):
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), Handler)
        self.app = app
        self.ssl_context = ssl_context
        self.scheme = "https" if ssl_context else "http"
        shown = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
        self.authority = f"[{shown}]:{self.server_address[1]}" if ":" in shown else f"{shown}:{self.server_address[1]}"
        self.url = f"{self.scheme}://{self.authority}"

    def finish_request(self, request, client_address):
        if not self.ssl_context:
            super().finish_request(request, client_address)
            return
        request.settimeout(30)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            tls.settimeout(Handler.timeout)
            super().finish_request(tls, client_address)
        finally:
            self.shutdown_request(tls)


def _parse_args(argv):
    parser = argparse.ArgumentParser(prog="server.py", description="Local TRUD and MLDS API sandbox (HTTP and HTTPS).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="plain HTTP port (0: any free port)")
    parser.add_argument("--https-port", type=int, default=0, help="HTTPS port (0: any free port)")
    parser.add_argument("--no-https", action="store_true", help="serve plain HTTP only")
    parser.add_argument("--state-dir", help="keys, certificates, caches and logs (default: a new temporary directory, removed on exit)")
    parser.add_argument("--api-key", action="append", dest="api_keys", help="a valid TRUD API key (repeatable)")
    parser.add_argument("--disabled-key", default=DEFAULT_DISABLED_KEY, help="a key answered with 401 (disabled account)")
    parser.add_argument("--info-file", help="also write the info JSON here, once listening")
    parser.add_argument("--mlds-password-prefix", default="", metavar="P",
                        help="prefix every default MLDS user's password with P (to scan output for leaked passwords)")
    parser.add_argument("--mlds-file-size-number", action="store_true",
                        help="MLDS fileSize as a JSON number (6.x-dev) instead of a string (5.2)")
    parser.add_argument("--mlds-set-order", choices=ORDERS, default="shuffle",
                        help="order of MLDS's unordered JSON sets (versions, files, package list); default shuffle")
    return parser.parse_args(argv)


def _tls_context(state_dir: Path, host: str) -> tuple[ssl.SSLContext, str]:
    hosts = {"localhost", "127.0.0.1", "::1"} | ({host} if host not in ("0.0.0.0", "::") else set())
    paths = pki.ensure_tls(state_dir, hosts)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(paths["cert"], paths["key"])
    return context, paths["ca"]


def build_services(args, state_dir: Path, keyring: pki.Keyring) -> list:
    """The services mounted on the listeners: TRUD, MLDS and the NCTS syndication feed.

    A service has `kinds` (request kinds for faults and the log), `register(router)`, `reset()`
    and `info(url, https_url)` (its part of the info JSON).
    """
    store = ArchiveStore(state_dir)
    options = mlds.MldsOptions(args.mlds_password_prefix, args.mlds_file_size_number, args.mlds_set_order)
    return [trud.TrudService(store, keyring, args.api_keys or [DEFAULT_API_KEY], args.disabled_key),
            mlds.MldsService(store, state_dir, options), syndication.SyndicationService(store)]


def _write_info(info: dict, *paths):
    data = json.dumps(info, indent=2).encode() + b"\n"
    for path in paths:
        if path:
            pki.write_atomic(Path(path), data)


def main(argv=None) -> int:
    """Start the listeners, announce them, serve until SIGTERM/SIGINT."""
    args = _parse_args(argv)
    if args.info_file:
        Path(args.info_file).unlink(missing_ok=True)  # a waiter must never read a previous run's info
    own_state = not args.state_dir
    state_dir = Path(args.state_dir or tempfile.mkdtemp(prefix="trud-sandbox-")).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    keyring = pki.Keyring(state_dir)
    stop = threading.Event()
    try:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        app = SandboxApp(state_dir, build_services(args, state_dir, keyring))
        listeners = [Listener(args.host, args.port, app)]
        ca_path = None
        if not args.no_https:
            context, ca_path = _tls_context(state_dir, args.host)
            listeners.append(Listener(args.host, args.https_port, app, context))
        url = listeners[0].url
        https_url = listeners[1].url if len(listeners) > 1 else None
        app.info = {"url": url, "https_url": https_url}
        for service in app.services:
            app.info.update(service.info(url, https_url))
        app.info.update(ca_path=ca_path, state_dir=str(state_dir), pid=os.getpid())
        for listener in listeners:
            threading.Thread(target=listener.serve_forever, name=listener.scheme, daemon=True).start()
        print(url, flush=True)
        if https_url:
            print(https_url, flush=True)
        _write_info(app.info, state_dir / "info.json", args.info_file)
        while not stop.wait(0.5):  # short waits keep signal delivery prompt
            pass
        for listener in listeners:
            listener.shutdown()
            listener.server_close()
    finally:
        keyring.close()
        if own_state:
            shutil.rmtree(state_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
