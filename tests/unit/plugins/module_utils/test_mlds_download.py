# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Downloading an MLDS release file (_mlds_download) through the shared engine over real HTTP to the local server:
MLDS's proxy (no Range, no Content-Length for S3 objects), and no retry on its 500s."""

from __future__ import annotations

import hashlib
import os
import random

import pytest

from ansible_collections.terminology.releases.plugins.module_utils import _download, _fs, _mlds_download

from mlds_utest import boot, expected_authorization
from mlds_utest import make_client, mlds  # noqa: F401 pylint: disable=unused-import


DATA = random.Random(4105).randbytes(300 * 1024 + 17)  # fixed: a failure must be reproducible
DOWNLOAD = '/api/releasePackages/4101/releaseVersions/4103/releaseFiles/4105/download'


def target_for(data=DATA, size=True, md5=True, name='rf2.zip'):
    return _download.Target(name, len(data) if size else None, md5=hashlib.md5(data).hexdigest() if md5 else None)


def describe(status):
    return 'HTTP %s described' % status


def proxied(mlds, data=DATA, length=True):
    # MLDS's proxy: no Range support, S3 objects come without Content-Length.
    return mlds.reply(200, data, {'Content-Disposition': 'attachment;filename=demo.zip'}, length=length)


def test_download_with_size_and_md5_is_verified(mlds, make_client, tmp_path):
    mlds.route('GET ' + DOWNLOAD, proxied(mlds))
    client = make_client()
    dest = str(tmp_path / 'rf2.zip')
    http = _mlds_download.NoRetryOn500(client.http, describe)
    result = _download.fetch_to(http, client.api(DOWNLOAD), dest, target_for(), ['md5', 'sha256'], describe)
    assert open(dest, 'rb').read() == DATA
    assert result.digests['md5'] == hashlib.md5(DATA).hexdigest()
    assert mlds.requests[0].headers['Authorization'] == expected_authorization()


def test_resume_falls_back_to_a_full_download_when_range_is_ignored(mlds, make_client, tmp_path):
    mlds.route('GET ' + DOWNLOAD, proxied(mlds))
    client = make_client()
    dest = str(tmp_path / 'rf2.zip')
    target = target_for()
    with open(_download.partial_path(dest, target), 'wb') as handle:
        handle.write(DATA[:1000])
    result = _download.fetch_to(_mlds_download.NoRetryOn500(client.http, describe), client.api(DOWNLOAD), dest, target,
                                ['md5'], describe)
    assert mlds.requests[0].headers['Range'] == 'bytes=1000-'
    assert result.bytes_resumed == 0 and result.bytes_transferred == len(DATA)
    assert open(dest, 'rb').read() == DATA


def test_a_500_download_fails_at_once_with_the_explanation(mlds, make_client, sleeps, tmp_path):
    mlds.route('GET ' + DOWNLOAD, boot(mlds, 500, DOWNLOAD, 'Internal Server Error'))
    client = make_client(retries=3)
    dest = str(tmp_path / 'rf2.zip')
    with pytest.raises(_download.DownloadError) as caught:
        _download.fetch_to(_mlds_download.NoRetryOn500(client.http, describe), client.api(DOWNLOAD), dest, target_for(),
                           ['md5'], describe)
    assert str(caught.value) == 'Download failed: HTTP 500 described.'
    assert caught.value.status == 500
    assert len(mlds.requests) == 1 and sleeps.calls == []
    assert not os.path.exists(dest)


def test_other_5xx_downloads_are_retried(mlds, make_client, tmp_path):
    mlds.route('GET ' + DOWNLOAD, mlds.reply(503), proxied(mlds))
    client = make_client(retries=2)
    dest = str(tmp_path / 'rf2.zip')
    _download.fetch_to(_mlds_download.NoRetryOn500(client.http, describe), client.api(DOWNLOAD), dest, target_for(),
                       ['md5'], describe)
    assert len(mlds.requests) == 2


def test_unsized_download_without_content_length(mlds, make_client, tmp_path):
    mlds.route('GET ' + DOWNLOAD, proxied(mlds, length=False))
    client = make_client()
    dest = str(tmp_path / 'rf2.zip')
    target = target_for(size=False)
    result = _download.fetch_to(_mlds_download.NoRetryOn500(client.http, describe), client.api(DOWNLOAD), dest, target,
                                ['md5', 'sha256'], describe)
    assert open(dest, 'rb').read() == DATA
    assert result.size == len(DATA)
    assert result.digests['sha256'] == hashlib.sha256(DATA).hexdigest()
    assert oct(os.stat(dest).st_mode & 0o777) == oct(_fs.default_file_mode())
    assert not os.path.exists(_download.partial_path(dest, target))


def test_unsized_download_with_a_wrong_md5_is_discarded(mlds, make_client, tmp_path):
    mlds.route('GET ' + DOWNLOAD, proxied(mlds, data=DATA[:-1] + bytes([DATA[-1] ^ 0xFF]), length=False))
    client = make_client()
    dest = str(tmp_path / 'rf2.zip')
    with open(dest, 'wb') as handle:
        handle.write(b'previous good file')
    target = target_for(size=False)
    with pytest.raises(_download.VerificationError, match='MD5 .*, expected %s' % target.digests['md5']):
        _download.fetch_to(_mlds_download.NoRetryOn500(client.http, describe), client.api(DOWNLOAD), dest, target,
                           ['md5'], describe)
    assert open(dest, 'rb').read() == b'previous good file'
    assert not os.path.exists(_download.partial_path(dest, target))


def test_unsized_download_500_and_404(mlds, make_client, sleeps, tmp_path):
    client = make_client(retries=3)
    dest = str(tmp_path / 'rf2.zip')
    mlds.route('GET ' + DOWNLOAD, boot(mlds, 500, DOWNLOAD, 'Internal Server Error'))
    with pytest.raises(_download.DownloadError, match='HTTP 500 described'):
        _download.fetch_to(_mlds_download.NoRetryOn500(client.http, describe), client.api(DOWNLOAD), dest,
                           target_for(size=False), ['md5'], describe)
    mlds.route('GET ' + DOWNLOAD, boot(mlds, 404, DOWNLOAD, 'Not Found'))
    with pytest.raises(_download.DownloadError, match='HTTP 404 described'):
        _download.fetch_to(_mlds_download.NoRetryOn500(client.http, describe), client.api(DOWNLOAD), dest,
                           target_for(size=False), ['md5'], describe)
    assert len(mlds.requests) == 2 and sleeps.calls == []
