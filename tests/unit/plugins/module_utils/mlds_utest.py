# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixtures, data and helpers for the MLDS unit tests (test_mlds_*.py).

`mlds` is conftest's local HTTP server answering as MLDS 5.2 does where nothing is routed (an empty 404); route
'METHOD /path' on it. `make_client` builds an MldsClient on it with the password's Redactor and conftest's
recorded no-op sleep. A test module opts in with::

    from mlds_utest import make_client, mlds  # noqa: F401 pylint: disable=unused-import
"""

from __future__ import annotations

import base64
from urllib.parse import quote, quote_plus

import pytest

from ansible_collections.terminology.releases.plugins.module_utils import _mlds
from ansible_collections.terminology.releases.plugins.module_utils._mlds import MldsClient

USER = 'staff-se'
# Characters that change under URL quoting and outside Latin-1, as real passwords may have.
PASSWORD = 'pä$$ w0rd/+=&€'


def secret_forms(username=USER, password=PASSWORD):
    return {
        'plain': password,
        'quote': quote(password),
        'quote_nothing_safe': quote(password, safe=''),
        'quote_plus': quote_plus(password),
        'base64': base64.b64encode(password.encode('utf-8')).decode('ascii'),
        'basic': base64.b64encode(('%s:%s' % (username, password)).encode('utf-8')).decode('ascii'),
    }


def assert_no_secret(text):
    for kind, form in secret_forms().items():
        assert form not in text, '%s form of the password leaked: %s' % (kind, text)


def expected_authorization(username=USER, password=PASSWORD):
    return 'Basic ' + base64.b64encode(('%s:%s' % (username, password)).encode('utf-8')).decode('ascii')


def boot_error(status, path, error):
    """The error object of MLDS's Spring Boot."""
    return {'timestamp': '2025-01-20T12:00:00.000+00:00', 'status': status, 'error': error, 'path': path}


def boot(server, status, path, error):
    """server's reply with MLDS's Spring Boot error JSON."""
    return server.json(boot_error(status, path, error), status)


@pytest.fixture
def mlds(start_local_server):
    server = start_local_server()
    server.unrouted = server.reply(404)  # MLDS's 404s have empty bodies
    return server


@pytest.fixture
def make_client(mlds, make_http):
    """MldsClient factory on the fake server, with the password's Redactor and a recorded no-op sleep."""
    def factory(username=USER, password=PASSWORD, retries=2, url=None):
        http = make_http(retries=retries, redact=_mlds.make_redactor(username, password))
        return MldsClient(http, url or mlds.url(''), username, password)
    return factory


PACKAGE = {
    'releasePackageId': 4101, 'createdAt': '2024-11-02T10:15:30.120Z', 'updatedAt': '2024-11-02T10:15:30.120Z',
    'name': 'Demo Extension', 'description': '<p>Demo text</p>',
    'member': {'memberId': 7, 'key': 'SE', 'createdAt': '2014-08-01T00:00:00Z', 'name': 'Sweden',
               'contactEmail': None, 'promotePackages': False},
    'priority': 3, 'copyrights': '(c) Example', 'releasePackageURI': 'http://snomed.info/sct/9999999',
    'releaseVersions': [
        {'releaseVersionId': 4107, 'id': 'b', 'name': '2025-05-01', 'releaseType': 'offline', 'online': False,
         'releaseFiles': []},
        {'releaseVersionId': 4103, 'id': 'a', 'createdAt': '2024-11-02T10:16:00.000Z',
         'updatedAt': '2024-11-03T08:00:00.000Z', 'lastUpdated': '2024-11-03T08:00:00.000Z',
         'name': '2024-11-01', 'description': '<p>Nov release</p>', 'summary': 'Nov', 'releaseType': 'online',
         'online': False, 'publishedAt': '2024-11-01', 'versionURI': 'http://snomed.info/sct/9999999/version/20241101',
         'versionDependentURI': None, 'versionDependentDerivativeURI': None, 'packageType': 'SCT_RF2_ALL',
         'archive': False,
         'releaseFiles': [
             {'releaseFileId': 4106, 'label': 'Release notes', 'clientDownloadUrl':
              '/api/releasePackages/4101/releaseVersions/4103/releaseFiles/4106/download', 'md5Hash': '',
              'fileSize': None, 'primaryFile': False, 'downloadUrl': 'https://user:secret@example.org/notes.pdf'},
             {'releaseFileId': 4105, 'label': 'RF2 zip', 'createdAt': '2024-11-02T10:17:00Z',
              'clientDownloadUrl': '/api/releasePackages/4101/releaseVersions/4103/releaseFiles/4105/download',
              'md5Hash': 'd41d8cd98f00b204e9800998ecf8427e', 'fileSize': '123456', 'primaryFile': True,
              'downloadUrl': 's3://example-bucket/se/demo_20241101.zip'},
         ]},
    ],
}

MEMBERS = [
    {'memberId': 1, 'key': 'IHTSDO', 'name': 'SNOMED International'},
    {'memberId': 7, 'key': 'SE', 'name': 'Sweden'},
    {'memberId': 8, 'key': 'DK', 'name': 'Denmark'},
]
