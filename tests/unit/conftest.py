# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shared fixtures for the unit tests: a real local HTTP server, OpenPGP test keys, TRUD fixtures."""

from __future__ import annotations

import email.parser
import http.server
import importlib.util
import json
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading

import pytest

from ansible_collections.terminology.releases.plugins.module_utils._http import HttpClient

UNIT_DIR = os.path.dirname(os.path.abspath(__file__))
FIXTURES_DIR = os.path.join(UNIT_DIR, 'fixtures')
SHARED_LISTING = os.path.join('shared', 'fixtures', 'trud', 'item-341-releases.json')


def find_shared_listing():
    """The real TRUD item-341 listing kept beside the repository (never copied into it), or None."""
    return find_shared(SHARED_LISTING)


def find_shared(relative):
    """A file of the reference data kept beside the repository (never copied into it), or None.

    The repository root is not a fixed number of levels up (the runner stages a copy under
    .build/ansible_collections/terminology/releases), so look in every ancestor directory.
    """
    for start in (UNIT_DIR, os.path.realpath(UNIT_DIR)):
        directory = start
        while True:
            candidate = os.path.join(directory, relative)
            if os.path.isfile(candidate):
                return candidate
            parent = os.path.dirname(directory)
            if parent == directory:
                break
            directory = parent
    return None


@pytest.fixture(scope='session')
def trud_listing_bytes():
    path = find_shared_listing()
    if path is None:
        pytest.skip('The shared TRUD fixture %s was not found in any directory above %s.' % (SHARED_LISTING, UNIT_DIR))
    with open(path, 'rb') as handle:
        return handle.read()


@pytest.fixture(scope='session')
def shared_bytes():
    """shared_bytes(relative path) -> the bytes of a reference file kept beside the repository; fails when absent."""
    def read(relative):
        path = find_shared(relative)
        if path is None:
            pytest.fail('The shared fixture %s was not found in any directory above %s.' % (relative, UNIT_DIR))
        with open(path, 'rb') as handle:
            return handle.read()
    return read


@pytest.fixture(scope='session')
def trud_listing(trud_listing_bytes):
    return json.loads(trud_listing_bytes)


@pytest.fixture(scope='session')
def quirks():
    with open(os.path.join(FIXTURES_DIR, 'trud', 'quirks.json'), 'r', encoding='utf-8') as handle:
        return json.load(handle)


# --------------------------------------------------------------------------------------------------
# A real HTTP server on 127.0.0.1 serving canned replies, with a request log.
# --------------------------------------------------------------------------------------------------

class Seen:
    """One request as the server saw it (with its body), and how many body bytes it sent back."""

    def __init__(self, method, path, headers, body=b''):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.sent = 0

    def json(self):
        return json.loads(self.body.decode('utf-8'))

    def multipart(self):
        """{part name: (filename, content type, bytes)} of a multipart/form-data body."""
        message = email.parser.BytesParser().parsebytes(
            b'Content-Type: ' + self.headers['Content-Type'].encode('ascii') + b'\r\n\r\n' + self.body)
        parts = {}
        for part in message.get_payload():
            parts[part.get_param('name', header='content-disposition')] = (
                part.get_filename(), part.get_content_type() if part.get('Content-Type') else None,
                part.get_payload(decode=True))
        return parts

    def __repr__(self):
        return 'Seen(%s %s Range=%s sent=%d)' % (self.method, self.path, self.headers.get('Range'), self.sent)


class Reply:
    """A fixed status, headers and body. length=False sends no Content-Length and closes the connection after the
    body, as S3 objects come through MLDS's download proxy."""

    def __init__(self, status=200, body=b'', headers=None, length=True):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode('utf-8')
        self.headers = dict(headers or {})
        self.length = length

    def send(self, handler, seen):
        handler.send_response(self.status)
        for name, value in self.headers.items():
            handler.send_header(name, value)
        if self.length:
            handler.send_header('Content-Length', str(len(self.body)))
        else:
            handler.close_connection = True
            handler.send_header('Connection', 'close')
        handler.end_headers()
        if handler.command != 'HEAD':
            handler.wfile.write(self.body)
            handler.wfile.flush()
            seen.sent += len(self.body)


def json_reply(data, status=200):
    return Reply(status, json.dumps(data), {'Content-Type': 'application/json'})


class FileReply:
    """A file served like a download endpoint: honours 'Range: bytes=N-' (206, or 416 past the end)
    unless ranges=False; drop_after=N advertises the whole body but sends N bytes and closes the
    connection; during() is called half-way through the body."""

    def __init__(self, data, ranges=True, drop_after=None, during=None):
        self.data = data
        self.ranges = ranges
        self.drop_after = drop_after
        self.during = during

    def send(self, handler, seen):
        total = len(self.data)
        start, status, headers = 0, 200, {}
        if self.ranges:
            headers['Accept-Ranges'] = 'bytes'
            match = re.match(r'^bytes=(\d+)-$', (handler.headers.get('Range') or '').strip())
            if match:
                start = int(match.group(1))
                if start >= total:
                    Reply(416, headers={'Content-Range': 'bytes */%d' % total}).send(handler, seen)
                    return
                status = 206
                headers['Content-Range'] = 'bytes %d-%d/%d' % (start, total - 1, total)
        body = self.data[start:]
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header('Content-Length', str(len(body)))
        handler.end_headers()
        if self.drop_after is not None:
            body = body[:self.drop_after]
            handler.close_connection = True
        half = len(body) // 2 if self.during else len(body)
        for number, piece in enumerate((body[:half], body[half:])):
            handler.wfile.write(piece)
            handler.wfile.flush()
            seen.sent += len(piece)
            if self.during and number == 0:
                self.during()
        if self.drop_after is not None:
            handler.connection.shutdown(socket.SHUT_RDWR)


class EndlessReply:
    """A JSON-looking body with no Content-Length that goes on until the client hangs up (or `cap` bytes):
    what a broken proxy or a hostile server can send. wait_until_stopped() returns once it has stopped."""

    def __init__(self, status=200, cap=512 * 1024 * 1024):
        self.status = status
        self.cap = cap
        self.stopped = threading.Event()

    def send(self, handler, seen):
        handler.send_response(self.status)
        handler.send_header('Content-Type', 'application/json')
        handler.end_headers()
        handler.close_connection = True
        piece = b'{"releases": [' + b' ' * (64 * 1024)
        try:
            while seen.sent < self.cap:
                handler.wfile.write(piece)
                seen.sent += len(piece)
                piece = b' ' * (64 * 1024)
        except OSError:
            pass  # the client hung up: what a bounded reader does
        finally:
            self.stopped.set()

    def wait_until_stopped(self, timeout=30):
        assert self.stopped.wait(timeout), 'the endless body was still being sent after %s s' % timeout


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'unit-test-server'

    def log_message(self, *args):
        pass

    def _answer(self):
        self.server.owner.dispatch(self)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _answer


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that hangs up early is part of the tests; anything else is a bug in a test handler.
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError):
            self.owner.errors.append(error)


class LocalServer:
    """Routes map a raw request path (with or without the query), 'METHOD path' for one method only, or '*' to
    replies used in turn; the last reply of a route repeats. A reply may be a function of the Seen request that
    returns one. A method's route wins over the path's; unrouted requests get `unrouted` (by default a 404).
    Every request is kept in `requests`, with its body."""

    def __init__(self, unrouted=None, tls=None):
        self._lock = threading.Lock()
        self._routes = {}
        self.unrouted = unrouted or Reply(404, b'no route')
        self.requests = []
        self.errors = []
        self._httpd = _Server(('127.0.0.1', 0), _Handler)
        self._httpd.owner = self
        self.scheme = 'https' if tls else 'http'
        if tls:  # tls: the paths of a server certificate and key (the tls_files fixture)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(tls['cert'], tls['key'])
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
        self._thread.start()

    reply = Reply
    json = staticmethod(json_reply)
    file = FileReply
    endless = EndlessReply

    def url(self, path='/'):
        return '%s://127.0.0.1:%d%s' % (self.scheme, self.port, path)

    def route(self, key, *replies):
        with self._lock:
            self._routes[key] = list(replies)

    def bytes_sent(self, path=None):
        return sum(seen.sent for seen in self.requests if path is None or seen.path == path)

    def requests_for(self, path=None, method=None):
        return [seen for seen in self.requests
                if (path is None or seen.path == path) and (method is None or seen.method == method)]

    def _replies_for(self, method, path):
        bare = path.split('?')[0]
        for key in ('%s %s' % (method, path), '%s %s' % (method, bare), path, bare, '*'):
            if self._routes.get(key):
                return self._routes[key]
        return None

    def dispatch(self, handler):
        length = int(handler.headers.get('Content-Length') or 0)
        body = handler.rfile.read(length) if length else b''
        with self._lock:
            seen = Seen(handler.command, handler.path, dict(handler.headers.items()), body)
            self.requests.append(seen)
            replies = self._replies_for(handler.command, handler.path)
            if not replies:
                reply = self.unrouted
            elif len(replies) > 1:
                reply = replies.pop(0)
            else:
                reply = replies[0]
        if callable(reply):
            reply = reply(seen)
        reply.send(handler, seen)

    def close(self):
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


@pytest.fixture
def start_local_server():
    """LocalServer factory (for a test that needs more than one); each is closed and checked after the test."""
    servers = []

    def start(unrouted=None, tls=None):
        server = LocalServer(unrouted, tls)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
    failed = [error for server in servers for error in server.errors]
    assert not failed, 'the local server failed: %r' % failed


@pytest.fixture
def local_server(start_local_server):
    return start_local_server()


@pytest.fixture(scope='session')
def tls_files(tmp_path_factory):
    """{'ca', 'cert', 'key'}: a private CA and a certificate for 127.0.0.1 it signs, made with openssl by the
    sandbox's own generator (tests/sandbox/pki.py, loaded by path: the unit tests do not import the sandbox)."""
    if shutil.which('openssl') is None:
        pytest.skip('The openssl binary is not installed.')
    spec = importlib.util.spec_from_file_location('sandbox_pki', os.path.join(os.path.dirname(UNIT_DIR), 'sandbox',
                                                                              'pki.py'))
    pki = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pki)
    return pki.ensure_tls(tmp_path_factory.mktemp('tls'), ['127.0.0.1'])


@pytest.fixture
def closed_port():
    """A local port with nothing listening on it: connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_port():
    """A local port that accepts connections (in the kernel backlog) but never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(('127.0.0.1', 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


class SleepRecorder:
    """A sleep() stand-in that returns at once and remembers what it was asked for."""

    def __init__(self):
        self.calls = []

    def __call__(self, seconds):
        self.calls.append(seconds)


@pytest.fixture
def sleeps():
    return SleepRecorder()


@pytest.fixture
def make_http(sleeps):
    """HttpClient factory with a no-op recorded sleep; every client is closed after the test."""
    clients = []

    def factory(retries=2, timeout=5, redact=None, backoff=1.0, ca_path=None):
        client = HttpClient(timeout=timeout, retries=retries, redact=redact, backoff=backoff, sleep=sleeps,
                            ca_path=ca_path)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


# --------------------------------------------------------------------------------------------------
# Forked child processes (a second run holding a lock, a run with a file size limit).
# --------------------------------------------------------------------------------------------------

class ForkedChild:
    """function() run in a forked child; result() is {'returned': value} or {'raised': name, 'message': text}.

    The child first closes the descriptors it inherited (as exec would close the collection's, which are all
    close-on-exec), so that it behaves like another run: a flock held by the parent is not shared with it.
    """

    def __init__(self, function):
        self._read, write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: never return into pytest
            status = 0
            try:
                os.closerange(3, write)
                os.closerange(write + 1, os.sysconf('SC_OPEN_MAX'))
                try:
                    outcome = {'returned': function()}
                except BaseException as exc:  # pylint: disable=broad-except
                    outcome = {'raised': type(exc).__name__, 'message': str(exc)}
                with os.fdopen(write, 'wb') as pipe:
                    pipe.write(json.dumps(outcome).encode('utf-8'))
            except BaseException:  # pylint: disable=broad-except
                status = 1
            finally:
                os._exit(status)  # pylint: disable=protected-access
        os.close(write)
        self.done = False

    def result(self, timeout=30):
        if not select.select([self._read], [], [], timeout)[0]:
            self.kill()
            raise AssertionError('the child process did not finish within %s seconds' % timeout)
        with os.fdopen(self._read, 'rb') as pipe:
            data = pipe.read()
        os.waitpid(self.pid, 0)
        self.done = True
        if not data:
            raise AssertionError('the child process died without a result')
        return json.loads(data.decode('utf-8'))

    def kill(self):
        if not self.done:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            os.close(self._read)
            self.done = True


@pytest.fixture
def fork_child():
    children = []

    def start(function):
        child = ForkedChild(function)
        children.append(child)
        return child

    yield start
    for child in children:
        child.kill()


# --------------------------------------------------------------------------------------------------
# OpenPGP keys made with the gpg binary, once per session.
# --------------------------------------------------------------------------------------------------

class GpgKeys:
    """Test signing keys in their own GNUPGHOME: 'good', 'other', and 'subkeyed' (signs with a subkey)."""

    def __init__(self, home):
        self.home = home
        self.fingerprints = {}
        self.signing_fingerprints = {}

    def gpg(self, *args, data=None):
        command = ['gpg', '--homedir', self.home, '--batch', '--yes', '--no-tty',
                   '--pinentry-mode', 'loopback', '--passphrase', ''] + list(args)
        done = subprocess.run(command, input=data, capture_output=True, check=False, timeout=120)
        if done.returncode:
            raise AssertionError('%s failed (%d): %s' % (' '.join(command), done.returncode, done.stderr.decode('utf-8', 'replace')))
        return done.stdout

    def _fingerprints(self, uid, kind):
        listing = self.gpg('--with-colons', '--fingerprint', '--fingerprint', uid).decode('ascii')
        found, current = [], None
        for line in listing.splitlines():
            fields = line.split(':')
            if fields[0] in ('pub', 'sub'):
                current = fields[0]
            elif fields[0] == 'fpr' and current == kind:
                found.append(fields[9])
                current = None
        return found

    def stop_agent(self):
        """gpg starts an agent for secret-key work; stop it at once so that no test run leaves one behind."""
        subprocess.run(['gpgconf', '--homedir', self.home, '--kill', 'gpg-agent'], capture_output=True, check=False, timeout=60)

    def generate(self, name, with_signing_subkey=False):
        uid = '%s signer <%s@example.org>' % (name.capitalize(), name)
        self.gpg('--quick-gen-key', uid, 'ed25519', 'sign', 'never')
        primary = self._fingerprints(uid, 'pub')[0]
        self.fingerprints[name] = primary
        self.signing_fingerprints[name] = primary
        if with_signing_subkey:
            self.gpg('--quick-add-key', primary, 'ed25519', 'sign', 'never')
            self.signing_fingerprints[name] = self._fingerprints(uid, 'sub')[0]
        self.stop_agent()

    def public_key(self, *names):
        return self.gpg('--armor', '--export', *[self.fingerprints[name] for name in names])

    def sign(self, data, name):
        """A detached ASCII-armoured signature over data by the key's signing (sub)key."""
        try:
            return self.gpg('--armor', '--detach-sign', '--local-user', self.signing_fingerprints[name] + '!', data=data)
        finally:
            self.stop_agent()


@pytest.fixture(scope='session')
def gpg_keys(tmp_path_factory):
    if shutil.which('gpg') is None or shutil.which('gpgconf') is None:
        pytest.skip('The gpg and gpgconf binaries are not installed.')
    # A fresh random name, never a reused one: under ansible-test every test runs in a fork that sets this
    # fixture up again and wipes the base temp dir, and a gpg-agent left from an earlier fork would remove
    # the socket of a new agent that took over the same path.
    home = tempfile.mkdtemp(prefix='gnupg-', dir=str(tmp_path_factory.getbasetemp()))
    keys = GpgKeys(home)
    try:
        keys.generate('good')
        keys.generate('other')
        keys.generate('subkeyed', with_signing_subkey=True)
        yield keys
    finally:
        keys.stop_agent()
        shutil.rmtree(home, ignore_errors=True)
