# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""syndication_feed_info in real ansible-playbook runs: the four real feeds (shared/fixtures/syndication, copied into
the workspace) read as local files and over HTTP from a small server on 127.0.0.1, selection, credentials that never
leak, hostile and wrong answers refused with clear messages, check mode."""

from __future__ import annotations

import base64
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from trud_itest import ignoring_errors, tree

INFO = 'terminology.releases.syndication_feed_info'
SHARED = Path('shared', 'fixtures', 'syndication')
INTERNATIONAL = 'http://snomed.info/sct/900000000000207008'
BELGIUM = 'http://snomed.info/sct/11000172109'
AU = 'http://snomed.info/sct/32506021000036107'
USER = 'feed-reader'
PASSWORD = 'Feed itest+/%&=:\u00f8~pw'
BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
                  '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><feed xmlns="http://www.w3.org/2005/Atom">'
                  '<title>&lol3;</title></feed>')
HTML = '<!DOCTYPE html><html><head><title>Service Portal - Sign in</title></head><body>Sign in</body></html>'


def find_fixtures():
    """The shared syndication fixtures beside the repository (never copied into it)."""
    for directory in Path(__file__).resolve().parents:
        if (directory / SHARED).is_dir():
            return directory / SHARED
    pytest.fail('The shared fixtures %s were not found in any directory above %s.' % (SHARED, __file__))
    return None


class FeedServer:
    """Serves fixed bodies by path; /private/* needs Basic auth as USER. Every request is kept."""

    def __init__(self, routes):
        self.routes = routes
        self.requests = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # pylint: disable=invalid-name
                owner.requests.append((self.path, dict(self.headers.items())))
                token = base64.b64encode(('%s:%s' % (USER, PASSWORD)).encode('utf-8')).decode('ascii')
                if self.path.startswith('/private/') and self.headers.get('Authorization') != 'Basic ' + token:
                    status, body, kind = 401, b'', 'text/plain'
                elif self.path in owner.routes:
                    status, (body, kind) = 200, owner.routes[self.path]
                else:
                    status, body, kind = 404, b'not here', 'text/plain'
                self.send_response(status)
                self.send_header('Content-Type', kind)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return 'http://127.0.0.1:%d%s' % (self.httpd.server_address[1], path)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def feeds(workspace):
    """The four real feeds, copied into the workspace: {name: path}."""
    target = workspace / 'feeds'
    target.mkdir()
    found = {}
    for source in sorted(find_fixtures().glob('*.xml')):
        found[source.stem] = Path(shutil.copy(source, target / source.name))
    assert len(found) == 4, found
    return found


@pytest.fixture
def feed_server(feeds):
    atom = 'application/atom+xml'
    server = FeedServer({
        '/api/feed': (feeds['mlds-feed-captured-2025-03'].read_bytes(), atom),
        '/ncts/feed': (feeds['ncts-syndication-client-test-feed'].read_bytes(), 'application/octet-stream'),
        '/private/feed': (feeds['termserver-syndication-feed-example'].read_bytes(), atom),
        '/html/feed': (HTML.encode('utf-8'), 'text/html'),
        '/dtd/feed': (BILLION_LAUGHS.encode('utf-8'), atom),
    })
    yield server
    server.close()


def task(name, url, **options):
    return {'name': name, INFO: dict(url=str(url), timeout=10, retries=0, **options)}


def test_feed_info_reads_selects_and_refuses(run_playbook, feeds, feed_server, workspace):
    mock, termserver = feeds['mlds-feed-snowstorm-mock'], feeds['termserver-syndication-feed-example']
    before = tree(workspace)
    run = run_playbook([
        task('local newest', mock, identifier=INTERNATIONAL),
        task('local newest of the only item', feeds['mlds-feed-captured-2025-03'], identifier=BELGIUM, newest=True),
        task('file url by date', termserver.as_uri(), identifier=AU, version='20221130'),
        task('mlds over http', feed_server.url('/api/feed'), identifier=BELGIUM, version='20250315'),
        task('ncts by version_uri', feed_server.url('/ncts/feed'),
             version_uri=AU + '/version/20171031'),
        task('ncts newest loinc', feed_server.url('/ncts/feed'), identifier='http://loinc.org', newest=True),
        task('private with credentials', feed_server.url('/private/feed'), username=USER, password='{{ feed_password }}'),
        dict(task('check mode', feed_server.url('/api/feed'), identifier=INTERNATIONAL), check_mode=True),
        ignoring_errors(task('private without credentials', feed_server.url('/private/feed'))),
        ignoring_errors(task('private wrong password', feed_server.url('/private/feed'), username=USER,
                             password='{{ feed_password }}-wrong')),
        ignoring_errors(task('html', feed_server.url('/html/feed'))),
        ignoring_errors(task('dtd', feed_server.url('/dtd/feed'))),
        ignoring_errors(task('missing', feed_server.url('/nothing/feed'))),
        ignoring_errors(task('repeated version', feed_server.url('/ncts/feed'), identifier=AU, version='20171130')),
        ignoring_errors(task('unknown version', mock, identifier=INTERNATIONAL, version='20990101')),
    ], extra_vars={'feed_password': PASSWORD}, secrets=[PASSWORD, PASSWORD + '-wrong'], expect_failure=True)

    newest = run.result('local newest')
    assert newest['changed'] is False and newest['flavour'] == 'mlds'
    assert len(newest['entries']) == mock.read_bytes().count(b'<entry>') == 3
    assert newest['entry']['title'] == 'SNOMED CT International Edition-April 2025 v1.0'
    assert (newest['entry']['version'], newest['entry']['length'], newest['entry']['md5']) == (
        '20250401', 563280356, '4cd2e34d2a641f1016a8d1a935628243')
    assert newest['feed']['updated'] == '2025-12-19T13:20:55Z'
    assert run.result('local newest of the only item')['entry']['version'] == '20250315'

    australia = run.result('file url by date')
    assert australia['flavour'] == 'ncts'
    assert australia['entry']['sha256'] == '8130cc90b38e8608380dd80e3b94740584270da5ae79f58d1a5281ac80809095'
    assert australia['entry']['version'] == AU + '/version/20221130'

    belgium = run.result('mlds over http')['entry']
    assert belgium['file_url'].endswith('/releaseFiles/1433220/download')
    assert belgium['dependencies'] == [{'identifier': INTERNATIONAL, 'version': '20250301',
                                        'version_uri': INTERNATIONAL + '/version/20250301', 'kind': 'edition'}]
    assert run.result('ncts by version_uri')['entry']['file_url'] == 'http://localhost:1080/blue3.r2'
    assert run.result('ncts by version_uri')['entry']['length'] is None
    assert run.result('ncts newest loinc')['entry']['version'] == '2.65'
    assert len(run.result('private with credentials')['entries']) == 3
    checked = run.result('check mode')
    assert checked['changed'] is False and checked['entry']['version'] == '20250301'
    assert len(checked['entries']) == 2

    # What the server saw: the Atom Accept header, and Basic auth only where credentials were given.
    for path, headers in feed_server.requests:
        assert 'application/atom+xml' in headers.get('Accept', ''), (path, headers)
        assert 'Authorization' not in headers or path == '/private/feed', (path, headers)
    authorised = [headers for path, headers in feed_server.requests if 'Authorization' in headers]
    assert len(authorised) == 2  # the right password and the wrong one

    assert '401' in run.failure_message('private without credentials')
    assert 'set username and password' in run.failure_message('private without credentials')
    assert '401' in run.failure_message('private wrong password')
    assert ("is an HTML page titled 'Service Portal - Sign in', not an Atom feed"
            in run.failure_message('html'))
    assert 'contains a document type or entity declaration' in run.failure_message('dtd')
    assert 'HTTP 404' in run.failure_message('missing') and 'Check url' in run.failure_message('missing')
    assert 'The feed has 4 entries for %s version 20171130' % AU in run.failure_message('repeated version')
    assert ('no version 20990101 of %s. Versions in the feed: 20250301, 20250401' % INTERNATIONAL
            in run.failure_message('unknown version'))

    # Read-only: nothing in the workspace changed, the feed files included.
    assert tree(workspace) == before
