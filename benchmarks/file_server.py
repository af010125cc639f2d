"""A plain static file server on loopback that sends bodies with sendfile: what a mirror's nginx or Apache does.

The sandbox builds its archives on the fly in Python, so its sending costs CPU that a real web server does not
spend; this server hands the file to the kernel (socket.sendfile, zero-copy from the page cache) and supports
Range, so what the LAN benchmark measures is the client. Used by benchmarks/run.py (the `lan` scenario).
"""

from __future__ import annotations

import http.server
import os
import threading
from urllib.parse import unquote, urlsplit

from tests.sandbox.web import parse_range


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'bench-sendfile'

    def log_message(self, *args):
        pass

    def do_HEAD(self):  # noqa: N802 (http.server's naming)
        self.do_GET()

    def do_GET(self):  # noqa: N802
        path = os.path.join(self.server.root, unquote(urlsplit(self.path).path).lstrip('/'))
        if '..' in self.path or not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, 'rb') as handle:
            size = os.fstat(handle.fileno()).st_size
            wanted = parse_range(self.headers.get('Range'), size)
            if wanted == 'unsatisfiable':
                self.send_response(416)
                self.send_header('Content-Range', 'bytes */%d' % size)
                self.send_header('Content-Length', '0')
                self.end_headers()
                return
            start, end = wanted or (0, size)
            self.send_response(206 if wanted else 200)
            if wanted:
                self.send_header('Content-Range', 'bytes %d-%d/%d' % (start, end - 1, size))
            self.send_header('Accept-Ranges', 'bytes')
            self.send_header('Content-Length', str(end - start))
            self.end_headers()
            if self.command == 'GET':
                self.connection.sendfile(handle, start, end - start)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


class SendfileServer:
    """Serves the files under root at http://127.0.0.1:PORT/NAME until closed (use as a context manager)."""

    def __init__(self, root):
        self._httpd = _Server(('127.0.0.1', 0), _Handler)
        self._httpd.root = root
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={'poll_interval': 0.1}, daemon=True)
        self._thread.start()

    def url(self, name):
        return 'http://127.0.0.1:%d/%s' % (self.port, name)

    def close(self):
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
