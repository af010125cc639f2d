# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The receive path of fetch_to: bodies read straight from the connection into two reused buffers, written and
hashed from there. Against a real local server (plain HTTP, chunked, TLS with a generated CA): the bytes and the
digests must be exact whatever the reads return, and every fault must still end in a retry or a clear error."""

from __future__ import annotations

import hashlib
import os
import random
import time

import pytest
import urllib3

from ansible_collections.terminology.releases.plugins.module_utils import _download
from ansible_collections.terminology.releases.plugins.module_utils._download import (
    CHUNK_SIZE,
    RECEIVE_SIZE,
    DownloadError,
    Target,
    fetch_to,
)
from ansible_collections.terminology.releases.plugins.module_utils._http import TlsError

# Two whole buffers and a part of a third: every buffer is reused at least once.
DATA = random.Random(515).randbytes(2 * RECEIVE_SIZE + 12345)
DIGESTS = dict((name, hashlib.new(name, DATA).hexdigest()) for name in ('sha256', 'sha1', 'md5'))
PATH = '/mirror/release.zip'
CUT = RECEIVE_SIZE + 4321


def read(path):
    with open(path, 'rb') as handle:
        return handle.read()


def target(size=len(DATA), **digests):
    return Target('release.zip', size, **(digests or {'sha256': DIGESTS['sha256']}))


@pytest.fixture
def direct_only(monkeypatch):
    """urllib3's own read() fails the test: the body must come through the direct receive path."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("urllib3's read() was used for the body")
    monkeypatch.setattr(urllib3.response.HTTPResponse, 'read', refuse)


class Trickle:
    """The file sent in pieces of odd sizes, each flushed on its own, so that the client's reads come back short."""

    def __init__(self, data, pieces=(1, 7, 4096, 65537, 3, 1 << 20)):
        self.data = data
        self.pieces = pieces

    def send(self, handler, seen):
        handler.send_response(200)
        handler.send_header('Content-Length', str(len(self.data)))
        handler.end_headers()
        offset, turn = 0, 0
        while offset < len(self.data):
            piece = self.data[offset:offset + self.pieces[turn % len(self.pieces)]]
            handler.wfile.write(piece)
            handler.wfile.flush()
            offset += len(piece)
            seen.sent += len(piece)
            turn += 1


class Chunked:
    """The file with Transfer-Encoding: chunked, chunks of varying sizes; cut_after=N stops after N body bytes,
    in the middle of a chunk, and closes the connection."""

    def __init__(self, data, cut_after=None):
        self.data = data
        self.cut_after = cut_after

    def send(self, handler, seen):
        handler.send_response(200)
        handler.send_header('Transfer-Encoding', 'chunked')
        handler.end_headers()
        sizes = random.Random(7)
        offset = 0
        while offset < len(self.data):
            chunk = self.data[offset:offset + sizes.randint(1, 3 * 1024 * 1024)]
            if self.cut_after is not None and offset + len(chunk) > self.cut_after:
                handler.wfile.write(b'%x\r\n' % len(chunk) + chunk[:self.cut_after - offset])
                seen.sent += self.cut_after - offset
                handler.close_connection = True
                return
            handler.wfile.write(b'%x\r\n' % len(chunk) + chunk + b'\r\n')
            offset += len(chunk)
            seen.sent += len(chunk)
        handler.wfile.write(b'0\r\n\r\n')


class Stall:
    """The first `cut` bytes of the file, then silence for `seconds` (longer than the client's timeout)."""

    def __init__(self, data, cut, seconds):
        self.data = data
        self.cut = cut
        self.seconds = seconds

    def send(self, handler, seen):
        handler.send_response(200)
        handler.send_header('Content-Length', str(len(self.data)))
        handler.end_headers()
        handler.wfile.write(self.data[:self.cut])
        handler.wfile.flush()
        seen.sent += self.cut
        time.sleep(self.seconds)
        handler.close_connection = True


def fetch(server, make_http, dest, expected, algorithms=('sha256',), **client):
    return fetch_to(make_http(**client), server.url(PATH), dest, expected, list(algorithms))


# ---- bytes and digests -------------------------------------------------------------------------

def test_a_body_of_several_buffers_arrives_whole_with_every_digest_right(local_server, make_http, tmp_path,
                                                                         direct_only):
    local_server.route(PATH, local_server.file(DATA))
    dest = str(tmp_path / 'release.zip')
    result = fetch(local_server, make_http, dest, target(sha256=DIGESTS['sha256'], sha1=DIGESTS['sha1'],
                                                         md5=DIGESTS['md5']), ('sha256', 'sha1', 'md5'))
    assert read(dest) == DATA
    assert result.digests == DIGESTS
    assert result.bytes_transferred == len(DATA) and result.size == len(DATA)


class SlowHasher:
    """A real hasher that looks at each block only after a pause: a buffer reused too early shows as a wrong
    digest."""

    def __init__(self, hasher):
        self._hasher = hasher
        self.name = hasher.name

    def update(self, block):
        time.sleep(0.2)
        self._hasher.update(block)

    def hexdigest(self):
        return self._hasher.hexdigest()


def test_a_buffer_is_received_into_again_only_once_its_block_is_hashed(local_server, make_http, tmp_path,
                                                                       monkeypatch, direct_only):
    real_new = hashlib.new
    monkeypatch.setattr(_download.hashlib, 'new', lambda name, *args: SlowHasher(real_new(name, *args)))
    local_server.route(PATH, local_server.file(DATA))
    dest = str(tmp_path / 'release.zip')
    result = fetch(local_server, make_http, dest, target(size=len(DATA), sha256=DIGESTS['sha256']),
                   ('sha256', 'sha1'))
    assert result.digests == {'sha256': DIGESTS['sha256'], 'sha1': DIGESTS['sha1']}
    assert read(dest) == DATA


def test_short_reads_from_a_trickling_server(local_server, make_http, tmp_path, direct_only):
    data = DATA[:RECEIVE_SIZE + 99999]
    local_server.route(PATH, Trickle(data))
    dest = str(tmp_path / 'release.zip')
    result = fetch(local_server, make_http, dest, Target('release.zip', len(data)), ('sha256', 'sha1'))
    assert read(dest) == data
    assert result.digests == {'sha256': hashlib.sha256(data).hexdigest(), 'sha1': hashlib.sha1(data).hexdigest()}


# ---- a body that ends early --------------------------------------------------------------------

def test_a_body_ending_early_is_resumed_from_the_last_byte_written(local_server, make_http, tmp_path, sleeps,
                                                                   direct_only):
    local_server.route(PATH, local_server.file(DATA, drop_after=CUT), local_server.file(DATA))
    dest = str(tmp_path / 'release.zip')
    result = fetch(local_server, make_http, dest, target(), ('sha256', 'sha1'))
    assert read(dest) == DATA
    assert result.digests == {'sha256': DIGESTS['sha256'], 'sha1': DIGESTS['sha1']}
    first, second = local_server.requests
    assert first.sent == CUT and second.headers['Range'] == 'bytes=%d-' % CUT
    assert result.bytes_transferred == len(DATA)


def test_an_unsized_body_ending_before_its_content_length_is_never_installed(local_server, make_http, tmp_path,
                                                                             sleeps, direct_only):
    # Nothing but the Content-Length says the body is short here: no size, no digest to catch it later.
    local_server.route(PATH, local_server.file(DATA, drop_after=CUT))
    dest = str(tmp_path / 'release.zip')
    with pytest.raises(DownloadError, match='IncompleteRead'):
        fetch(local_server, make_http, dest, Target('release.zip', None), retries=1)
    assert not os.path.exists(dest)
    assert os.listdir(str(tmp_path)) == []


def test_a_stalled_body_times_out_and_is_resumed_from_the_last_whole_read(local_server, make_http, tmp_path, sleeps,
                                                                          direct_only):
    # The stall comes half-way through a buffer: the reads written before it must be hashed all the same.
    cut = 2 * CHUNK_SIZE + 4321
    local_server.route(PATH, Stall(DATA, cut, seconds=3), local_server.file(DATA))
    dest = str(tmp_path / 'release.zip')
    started = time.monotonic()
    result = fetch(local_server, make_http, dest, target(), ('sha256', 'sha1'), timeout=0.5)
    assert time.monotonic() - started < 3
    assert read(dest) == DATA and result.digests == {'sha256': DIGESTS['sha256'], 'sha1': DIGESTS['sha1']}
    # The read that timed out loses what it had received; the whole reads before it are kept.
    assert local_server.requests[1].headers['Range'] == 'bytes=%d-' % (2 * CHUNK_SIZE)


# ---- chunked bodies ----------------------------------------------------------------------------

def test_a_chunked_body_arrives_whole(local_server, make_http, tmp_path, direct_only):
    local_server.route(PATH, Chunked(DATA))
    dest = str(tmp_path / 'release.zip')
    result = fetch(local_server, make_http, dest, target(), ('sha256', 'md5'))
    assert read(dest) == DATA
    assert result.digests == {'sha256': DIGESTS['sha256'], 'md5': DIGESTS['md5']}


def test_a_chunked_body_cut_mid_chunk_is_a_broken_connection_and_retried(local_server, make_http, tmp_path, sleeps,
                                                                         direct_only):
    local_server.route(PATH, Chunked(DATA, cut_after=CUT), local_server.file(DATA))
    dest = str(tmp_path / 'release.zip')
    result = fetch(local_server, make_http, dest, target())
    assert read(dest) == DATA and result.digests == {'sha256': DIGESTS['sha256']}
    assert len(local_server.requests) == 2 and len(sleeps.calls) == 1


def test_a_chunked_body_that_keeps_breaking_gives_a_clear_error(local_server, make_http, tmp_path, sleeps,
                                                                direct_only):
    local_server.route(PATH, Chunked(DATA, cut_after=CUT))
    dest = str(tmp_path / 'release.zip')
    with pytest.raises(DownloadError, match=r'The connection kept failing \(last: ProtocolError.*IncompleteRead'):
        fetch(local_server, make_http, dest, target(), retries=1)
    assert not os.path.exists(dest)


# ---- TLS ---------------------------------------------------------------------------------------

def test_over_tls_with_the_generated_ca(start_local_server, make_http, tmp_path, tls_files, sleeps, direct_only):
    server = start_local_server(tls=tls_files)
    server.route(PATH, server.file(DATA, drop_after=CUT), server.file(DATA))
    dest = str(tmp_path / 'release.zip')
    result = fetch(server, make_http, dest, target(), ('sha256', 'sha1'), ca_path=tls_files['ca'])
    assert server.url(PATH).startswith('https://')
    assert read(dest) == DATA
    assert result.digests == {'sha256': DIGESTS['sha256'], 'sha1': DIGESTS['sha1']}
    assert server.requests[1].headers['Range'] == 'bytes=%d-' % CUT


def test_tls_from_a_ca_not_trusted_is_refused(start_local_server, make_http, tmp_path, tls_files):
    server = start_local_server(tls=tls_files)
    server.route(PATH, server.file(DATA))
    dest = str(tmp_path / 'release.zip')
    with pytest.raises(TlsError, match='TLS verification failed'):
        fetch(server, make_http, dest, target())
    assert not os.path.exists(dest) and server.requests == []
