# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""fetch_to against a real local HTTP server: verification, atomic install, resume, faults, full disk."""

from __future__ import annotations

import errno
import glob
import hashlib
import os
import random
import resource
import signal
import stat

import pytest

from ansible_collections.terminology.releases.plugins.module_utils._download import (
    CHUNK_SIZE,
    DiskFullError,
    DownloadError,
    Target,
    VerificationError,
    fetch_to,
    partial_path,
)
from ansible_collections.terminology.releases.plugins.module_utils._fs import default_file_mode
from ansible_collections.terminology.releases.plugins.module_utils._http import HttpClient

# A little over two chunks, so that a download takes several reads and a resume starts mid-chunk.
DATA = random.Random(341).randbytes(2 * CHUNK_SIZE + 12345)
SHA256 = hashlib.sha256(DATA).hexdigest()
SHA1 = hashlib.sha1(DATA).hexdigest()
NAME = 'hscorgrefdataxml_data_7.0.0_20260731000001.zip'
PATH = '/download/api/v1/keys/KEY/content/items/341/' + NAME
CUT = CHUNK_SIZE + 4321  # where connections break


def corrupted(data, where=1000):
    return data[:where] + bytes([data[where] ^ 0xFF]) + data[where + 1:]


def sha256_target(data=DATA, name=NAME):
    # Upper case, as TRUD publishes it: the Target must compare case-insensitively.
    return Target(name, len(data), sha256=hashlib.sha256(data).hexdigest().upper())


def partials(directory):
    return sorted(glob.glob(os.path.join(str(directory), '.*.part')))


def read(path):
    with open(path, 'rb') as handle:
        return handle.read()


def write(path, data):
    with open(path, 'wb') as handle:
        handle.write(data)


@pytest.fixture
def dest(tmp_path):
    return str(tmp_path / NAME)


@pytest.fixture
def fetch(local_server, make_http):
    def run(dest, target, algorithms=('sha256',), retries=2, describe_status=None):
        http = make_http(retries=retries)
        return fetch_to(http, local_server.url(PATH), dest, target, list(algorithms), describe_status)
    return run


# ---- a fresh download --------------------------------------------------------------------------

def test_fresh_download_is_verified_with_sha256_and_sha1(local_server, fetch, dest):
    local_server.route(PATH, local_server.file(DATA))
    result = fetch(dest, sha256_target(), algorithms=('sha256', 'sha1'))
    assert read(dest) == DATA
    assert result.digests == {'sha256': SHA256, 'sha1': SHA1}
    assert result.size == len(DATA)
    assert result.bytes_transferred == len(DATA)
    assert result.bytes_resumed == 0
    assert result.attempts == 1
    assert 'Range' not in local_server.requests[0].headers
    assert partials(os.path.dirname(dest)) == []


def test_install_is_atomic_and_the_partial_is_private(local_server, fetch, dest):
    seen = []

    def during():
        seen.append((os.path.exists(dest), [stat.S_IMODE(os.stat(path).st_mode) for path in partials(os.path.dirname(dest))]))

    local_server.route(PATH, local_server.file(DATA, during=during))
    fetch(dest, sha256_target())
    assert seen == [(False, [0o600])]
    assert stat.S_IMODE(os.stat(dest).st_mode) == default_file_mode()


def test_partial_sits_beside_the_destination_and_names_the_content(dest):
    target = sha256_target()
    assert partial_path(dest, target) == os.path.join(os.path.dirname(dest), '.%s.%s.part' % (NAME, SHA256[:16]))


def test_verified_by_sha1_only(local_server, fetch, dest):
    local_server.route(PATH, local_server.file(DATA))
    result = fetch(dest, Target(NAME, len(DATA), sha1=SHA1.upper()), algorithms=('sha256', 'sha1'))
    assert result.digests == {'sha256': SHA256, 'sha1': SHA1}


def test_md5_is_computed_when_the_target_knows_it(local_server, fetch, dest):
    local_server.route(PATH, local_server.file(DATA))
    result = fetch(dest, Target(NAME, len(DATA), md5=hashlib.md5(DATA).hexdigest()))
    assert result.digests['md5'] == hashlib.md5(DATA).hexdigest()
    assert result.digests['sha256'] == SHA256


def test_zero_byte_release(local_server, fetch, dest):
    local_server.route(PATH, local_server.reply(200, b''))
    result = fetch(dest, sha256_target(b''))
    assert read(dest) == b''
    assert result.digests['sha256'] == hashlib.sha256(b'').hexdigest()
    assert len(local_server.requests) == 1


def test_stale_partial_of_another_version_is_removed(local_server, fetch, dest):
    stale = os.path.join(os.path.dirname(dest), '.%s.0123456789abcdef.part' % NAME)
    write(stale, b'bytes of a re-issued release')
    local_server.route(PATH, local_server.file(DATA))
    fetch(dest, sha256_target())
    assert not os.path.exists(stale)


def test_partial_of_a_file_with_a_longer_name_is_kept(local_server, fetch, dest):
    other_dest = dest + '.v2'
    other = partial_path(other_dest, sha256_target(b'other release'))
    write(other, b'half of another download')
    local_server.route(PATH, local_server.file(DATA))
    fetch(dest, sha256_target())
    assert os.path.exists(other)


# ---- resuming ----------------------------------------------------------------------------------

def test_dropped_connection_resumes_with_range(local_server, fetch, dest, sleeps):
    local_server.route(PATH, local_server.file(DATA, drop_after=CUT), local_server.file(DATA))
    result = fetch(dest, sha256_target(), algorithms=('sha256', 'sha1'))
    assert read(dest) == DATA
    assert result.digests == {'sha256': SHA256, 'sha1': SHA1}
    first, second = local_server.requests
    assert first.sent == CUT
    assert second.headers['Range'] == 'bytes=%d-' % CUT
    assert second.sent == len(DATA) - CUT
    assert local_server.bytes_sent() == len(DATA)
    assert result.bytes_transferred == len(DATA)
    assert result.bytes_resumed == 0
    assert len(sleeps.calls) == 1


def test_connection_dropped_before_the_first_byte_is_retried(local_server, fetch, dest):
    local_server.route(PATH, local_server.file(DATA, drop_after=0), local_server.file(DATA))
    result = fetch(dest, sha256_target())
    assert read(dest) == DATA
    assert 'Range' not in local_server.requests[1].headers
    assert result.bytes_transferred == len(DATA)


def test_partial_from_an_earlier_run_is_resumed(local_server, fetch, dest):
    local_server.route(PATH, local_server.file(DATA, drop_after=CUT), local_server.file(DATA))
    with pytest.raises(DownloadError) as caught:
        fetch(dest, sha256_target(), retries=0)
    partial = partial_path(dest, sha256_target())
    assert '%d of %d bytes are kept in %s' % (CUT, len(DATA), partial) in str(caught.value)
    assert not os.path.exists(dest)
    assert read(partial) == DATA[:CUT]

    result = fetch(dest, sha256_target(), algorithms=('sha256', 'sha1'))
    assert read(dest) == DATA
    assert result.digests == {'sha256': SHA256, 'sha1': SHA1}
    assert result.bytes_resumed == CUT
    assert result.bytes_transferred == len(DATA) - CUT
    assert local_server.requests[1].headers['Range'] == 'bytes=%d-' % CUT
    assert local_server.requests[1].sent == len(DATA) - CUT
    assert not os.path.exists(partial)


def test_connection_that_keeps_dropping_gives_up_and_keeps_the_partial(local_server, fetch, dest, sleeps):
    local_server.route(PATH, local_server.file(DATA, drop_after=1000))
    with pytest.raises(DownloadError, match='The connection kept failing|closing the connection early'):
        fetch(dest, sha256_target(), retries=2)
    assert len(local_server.requests) == 3
    assert os.path.getsize(partial_path(dest, sha256_target())) == 3000
    assert len(sleeps.calls) == 2
    assert not os.path.exists(dest)


def test_unsized_download_restarts_from_zero_after_a_drop(local_server, fetch, dest, sleeps):
    # Without a known size nothing says where a partial ends: no Range, the next attempt starts at byte 0.
    local_server.route(PATH, local_server.file(DATA, drop_after=CUT), local_server.file(DATA))
    target = Target(NAME, None, sha256=SHA256)
    result = fetch(dest, target)
    assert read(dest) == DATA
    first, second = local_server.requests
    assert first.sent == CUT
    assert 'Range' not in second.headers
    assert second.sent == len(DATA)
    assert result.size == len(DATA) and result.bytes_resumed == 0
    assert not os.path.exists(partial_path(dest, target))


def test_unsized_download_that_keeps_dropping_leaves_no_partial(local_server, fetch, dest, sleeps):
    local_server.route(PATH, local_server.file(DATA, drop_after=1000))
    target = Target(NAME, None, sha256=SHA256)
    with pytest.raises(DownloadError, match='cannot be resumed'):
        fetch(dest, target, retries=1)
    assert not os.path.exists(partial_path(dest, target))
    assert not os.path.exists(dest)


def test_complete_partial_is_installed_without_a_request(local_server, fetch, dest):
    write(partial_path(dest, sha256_target()), DATA)
    local_server.route(PATH, local_server.reply(500))
    result = fetch(dest, sha256_target())
    assert read(dest) == DATA
    assert local_server.requests == []
    assert result.bytes_transferred == 0
    assert result.bytes_resumed == len(DATA)


def test_partial_longer_than_the_file_is_discarded(local_server, fetch, dest):
    write(partial_path(dest, sha256_target()), DATA + b'junk')
    local_server.route(PATH, local_server.file(DATA))
    result = fetch(dest, sha256_target())
    assert read(dest) == DATA
    assert 'Range' not in local_server.requests[0].headers
    assert result.bytes_resumed == 0


def test_server_ignoring_range_gives_a_full_correct_download(local_server, fetch, dest):
    write(partial_path(dest, sha256_target()), DATA[:CUT])
    local_server.route(PATH, local_server.file(DATA, ranges=False))
    result = fetch(dest, sha256_target())
    assert read(dest) == DATA
    assert local_server.requests[0].headers['Range'] == 'bytes=%d-' % CUT
    assert result.bytes_resumed == 0
    assert result.bytes_transferred == len(DATA)


def test_server_ignoring_range_after_a_drop(local_server, fetch, dest):
    local_server.route(PATH, local_server.file(DATA, ranges=False, drop_after=CUT), local_server.file(DATA, ranges=False))
    assert fetch(dest, sha256_target()).digests['sha256'] == SHA256
    assert read(dest) == DATA


def test_server_ignoring_range_that_keeps_dropping_leaves_no_partial(local_server, fetch, dest, sleeps):
    # Once the server answered a Range request with the whole file, a partial from it can never be resumed.
    local_server.route(PATH, local_server.file(DATA, ranges=False, drop_after=CUT))
    with pytest.raises(DownloadError, match='answered a request to resume with the whole file'):
        fetch(dest, sha256_target(), retries=2)
    assert len(local_server.requests) == 3
    assert not os.path.exists(partial_path(dest, sha256_target()))
    assert not os.path.exists(dest)


def test_416_restarts_from_the_first_byte(local_server, fetch, dest):
    write(partial_path(dest, sha256_target()), DATA[:CUT])
    local_server.route(PATH, local_server.reply(416, headers={'Content-Range': 'bytes */%d' % len(DATA)}), local_server.file(DATA))
    result = fetch(dest, sha256_target())
    assert read(dest) == DATA
    assert 'Range' not in local_server.requests[1].headers
    assert result.bytes_resumed == 0


def test_416_again_and_again_is_bounded(local_server, fetch, dest):
    # Ten 416s, then the file: a bounded client gives up long before the file appears.
    local_server.route(PATH, *([local_server.reply(416)] * 10 + [local_server.file(DATA)]))
    with pytest.raises(DownloadError):
        fetch(dest, sha256_target(), retries=2)
    assert len(local_server.requests) <= 3


def test_206_for_the_wrong_range_again_and_again_is_bounded(local_server, fetch, dest):
    wrong = local_server.reply(206, DATA[5:], {'Content-Range': 'bytes 5-%d/%d' % (len(DATA) - 1, len(DATA))})
    local_server.route(PATH, *([wrong] * 10 + [local_server.file(DATA)]))
    with pytest.raises(DownloadError):
        fetch(dest, sha256_target(), retries=2)
    assert len(local_server.requests) <= 3
    assert not os.path.exists(dest)


def test_206_for_another_range_restarts_from_the_first_byte(local_server, fetch, dest):
    write(partial_path(dest, sha256_target()), DATA[:CUT])
    # Whatever is asked, the server answers with the whole file as a 206 from byte 0.
    local_server.route(PATH, local_server.reply(206, DATA, {'Content-Range': 'bytes 0-%d/%d' % (len(DATA) - 1, len(DATA))}))
    result = fetch(dest, sha256_target())
    assert read(dest) == DATA
    assert [seen.headers.get('Range') for seen in local_server.requests] == ['bytes=%d-' % CUT, None]
    assert result.bytes_resumed == 0


# ---- server faults -----------------------------------------------------------------------------

def test_503_then_200_honours_retry_after(local_server, fetch, dest, sleeps):
    local_server.route(PATH, local_server.reply(503, 'busy', {'Retry-After': '4'}), local_server.file(DATA))
    fetch(dest, sha256_target())
    assert read(dest) == DATA
    assert sleeps.calls == [4.0]
    assert len(local_server.requests) == 2


def test_503_until_the_retries_run_out(local_server, fetch, dest, sleeps):
    local_server.route(PATH, local_server.reply(503, 'busy'))
    with pytest.raises(DownloadError) as caught:
        fetch(dest, sha256_target(), retries=2)
    assert caught.value.status == 503
    assert str(caught.value) == 'Download failed: HTTP 503.'
    assert len(local_server.requests) == 3
    assert sleeps.calls == [1.0, 2.0]
    assert not os.path.exists(dest)


def test_404_is_not_retried_and_described_by_the_caller(local_server, fetch, dest, sleeps):
    local_server.route(PATH, local_server.reply(404, 'NOT FOUND'))
    with pytest.raises(DownloadError) as caught:
        fetch(dest, sha256_target(), describe_status=lambda status: 'TRUD answered HTTP %s for the archive' % status)
    assert str(caught.value) == 'Download failed: TRUD answered HTTP %s for the archive.' % 404
    assert caught.value.status == 404
    assert len(local_server.requests) == 1
    assert sleeps.calls == []
    assert not os.path.exists(dest)


def test_more_bytes_than_advertised_is_refused_and_dest_untouched(local_server, fetch, dest):
    write(dest, b'the previous good release')
    local_server.route(PATH, local_server.file(DATA + b'extra bytes'))
    with pytest.raises(DownloadError, match='more bytes than the %d advertised' % len(DATA)):
        fetch(dest, sha256_target())
    assert read(dest) == b'the previous good release'


def test_fewer_bytes_than_advertised_is_refused(local_server, fetch, dest):
    local_server.route(PATH, local_server.file(DATA[:-100]))
    with pytest.raises(DownloadError):
        fetch(dest, sha256_target(), retries=2)
    assert not os.path.exists(dest)
    assert len(local_server.requests) <= 6


# ---- verification failures ---------------------------------------------------------------------

def test_hash_mismatch_discards_the_partial_and_keeps_the_old_file(local_server, fetch, dest):
    write(dest, b'the previous good release')
    before = os.stat(dest)
    local_server.route(PATH, local_server.file(corrupted(DATA)))
    with pytest.raises(VerificationError) as caught:
        fetch(dest, sha256_target())
    message = str(caught.value)
    assert 'SHA256 %s, expected %s' % (hashlib.sha256(corrupted(DATA)).hexdigest(), SHA256) in message
    assert '%s was not touched' % dest in message
    assert partials(os.path.dirname(dest)) == []
    assert read(dest) == b'the previous good release'
    assert os.stat(dest).st_mtime_ns == before.st_mtime_ns
    assert len(local_server.requests) == 1


def test_sha1_mismatch_is_caught_even_when_sha256_is_unknown(local_server, fetch, dest):
    local_server.route(PATH, local_server.file(corrupted(DATA)))
    with pytest.raises(VerificationError, match='SHA1 .*, expected %s' % SHA1):
        fetch(dest, Target(NAME, len(DATA), sha1=SHA1), algorithms=('sha256', 'sha1'))
    assert not os.path.exists(dest)


def test_bad_resumed_prefix_gets_one_full_retry(local_server, fetch, dest):
    write(partial_path(dest, sha256_target()), corrupted(DATA)[:CUT])
    local_server.route(PATH, local_server.file(DATA))
    result = fetch(dest, sha256_target())
    assert read(dest) == DATA
    assert [seen.headers.get('Range') for seen in local_server.requests] == ['bytes=%d-' % CUT, None]
    assert local_server.requests[1].sent == len(DATA)
    assert result.bytes_resumed == 0
    assert result.bytes_transferred == len(DATA)


def test_bad_bytes_after_the_full_retry_give_up(local_server, fetch, dest):
    write(partial_path(dest, sha256_target()), corrupted(DATA)[:CUT])
    local_server.route(PATH, local_server.file(corrupted(DATA, where=CUT + 10)))
    with pytest.raises(VerificationError):
        fetch(dest, sha256_target())
    assert len(local_server.requests) == 2
    assert partials(os.path.dirname(dest)) == []
    assert not os.path.exists(dest)


# ---- a full disk -------------------------------------------------------------------------------

def test_file_size_limit_gives_disk_full_and_removes_the_partial(local_server, dest, fork_child):
    local_server.route(PATH, local_server.file(DATA))
    limit = CHUNK_SIZE // 2

    def child():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        http = HttpClient(retries=0, sleep=lambda seconds: None)
        try:
            fetch_to(http, local_server.url(PATH), dest, sha256_target(), ['sha256'])
        except DiskFullError as exc:
            return ['DiskFullError', str(exc)]
        finally:
            http.close()
        return ['no error']

    outcome = fork_child(child).result()
    assert 'returned' in outcome, outcome
    kind, message = outcome['returned']
    assert kind == 'DiskFullError'
    assert 'No space left to write the download' in message
    assert 'partial file was removed' in message
    assert partials(os.path.dirname(dest)) == []
    assert not os.path.exists(dest)


def test_enospc_gives_disk_full_and_removes_the_partial(local_server, fetch, dest, monkeypatch):
    real_write = os.write
    written = []

    def write_to_a_full_disk(fd, data):
        # Half of the first block fits (a short write), then the disk is full.
        if os.readlink('/proc/self/fd/%d' % fd).endswith('.part'):
            if written:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            written.append(len(data) // 2)
            return real_write(fd, memoryview(data)[:len(data) // 2])
        return real_write(fd, data)

    if not os.path.isdir('/proc/self/fd'):
        pytest.skip('needs /proc/self/fd')
    monkeypatch.setattr(os, 'write', write_to_a_full_disk)
    write(dest, b'the previous good release')
    local_server.route(PATH, local_server.file(DATA))
    with pytest.raises(DiskFullError, match='No space left'):
        fetch(dest, sha256_target())
    monkeypatch.undo()
    assert written
    assert partials(os.path.dirname(dest)) == []
    assert read(dest) == b'the previous good release'


def test_a_size_larger_than_the_free_space_is_refused_before_any_request(local_server, fetch, dest):
    local_server.route(PATH, local_server.file(DATA))
    absurd = Target(NAME, 10 ** 18, sha256=SHA256)  # an exabyte: no disk here has it free
    with pytest.raises(DiskFullError, match=r'The release is 1000000000000000000 bytes; .* only \d+ are free'):
        fetch(dest, absurd)
    assert local_server.requests == [], 'the download started although it could not fit'
    assert not os.path.exists(dest) and partials(os.path.dirname(dest)) == []


def test_the_free_space_check_counts_the_partial_already_written(local_server, fetch, dest):
    partial = partial_path(dest, sha256_target())
    kept = 256 * 1024 * 1024
    with open(partial, 'wb') as handle:
        handle.truncate(kept)  # sparse: counts as written, takes no space
    stats = os.statvfs(os.path.dirname(dest))
    # Fits once the partial counts, with 128 MiB to spare for whatever else writes meanwhile; would not fit
    # if the check ignored the partial.
    target = Target(NAME, stats.f_bavail * stats.f_frsize + kept // 2, sha256=SHA256)
    local_server.route(PATH, local_server.file(DATA))
    with pytest.raises((VerificationError, DownloadError)) as caught:
        fetch(dest, target)
    assert not isinstance(caught.value, DiskFullError), caught.value
    assert local_server.requests, 'the free-space check did not count the partial'
