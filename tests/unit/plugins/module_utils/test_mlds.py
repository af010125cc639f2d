# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The MLDS client over real HTTP to a local server with MLDS 5.2's answers: pre-emptive Basic auth, empty
404/409 bodies, Boot error JSON, 401 without a challenge, the retry rules (500 versus other 5xx, never POST),
error texts, redaction of the password in every form, request bodies, lookups and downloads."""

from __future__ import annotations

import base64
import email.parser
import hashlib
import http.server
import json
import os
import random
import sys
import threading
import traceback
from urllib.parse import quote, quote_plus

import pytest
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.terminology.releases.plugins.module_utils import (
    _download,
    _fs,
    _mlds,
    _mlds_download,
    _mlds_fields,
    _mlds_output,
    _mlds_select,
)
from ansible_collections.terminology.releases.plugins.module_utils._http import (
    REDACTED,
    HttpClient,
    TransportError,
)
from ansible_collections.terminology.releases.plugins.module_utils._mlds import MldsClient, MldsError

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


def boot_error(status, path, error):
    return json.dumps({'timestamp': '2025-01-20T12:00:00.000+00:00', 'status': status, 'error': error,
                       'path': path})


# ---- a local server with MLDS-like answers -------------------------------------------------------

class Seen:
    def __init__(self, method, path, headers, body):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body

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
        return 'Seen(%s %s)' % (self.method, self.path)


class Answer:
    """status, body, headers; length=False sends no Content-Length and closes the connection after the body."""

    def __init__(self, status=200, body=b'', headers=None, length=True, ranges=False):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode('utf-8')
        self.headers = dict(headers or {})
        self.length = length

    def send(self, handler):
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


def ok_json(data, status=200):
    return Answer(status, json.dumps(data), {'Content-Type': 'application/json'})


def empty(status):
    return Answer(status)


def boot(status, path, error):
    return Answer(status, boot_error(status, path, error), {'Content-Type': 'application/json'})


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        self.server.owner.dispatch(self, body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _answer


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError):
            self.owner.errors.append(error)


class FakeMlds:
    """Routes map 'METHOD /path' (the query ignored unless routed with it) to answers used in turn (the last
    repeats); an unrouted request gets MLDS's empty 404. Every request is kept, with its body."""

    def __init__(self):
        self._lock = threading.Lock()
        self._routes = {}
        self.requests = []
        self.errors = []
        self._httpd = _Server(('127.0.0.1', 0), _Handler)
        self._httpd.owner = self
        self.port = self._httpd.server_address[1]
        self.url = 'http://127.0.0.1:%d' % self.port
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
        self._thread.start()

    def route(self, method, path, *answers):
        with self._lock:
            self._routes['%s %s' % (method, path)] = list(answers)

    def dispatch(self, handler, body):
        with self._lock:
            seen = Seen(handler.command, handler.path, dict(handler.headers.items()), body)
            self.requests.append(seen)
            answers = (self._routes.get('%s %s' % (handler.command, handler.path))
                       or self._routes.get('%s %s' % (handler.command, handler.path.split('?')[0])))
            if not answers:
                answer = empty(404)
            elif len(answers) > 1:
                answer = answers.pop(0)
            else:
                answer = answers[0]
        if callable(answer):
            answer = answer(seen)
        answer.send(handler)

    def seen(self, method=None, path=None):
        return [item for item in self.requests
                if (method is None or item.method == method) and (path is None or item.path.split('?')[0] == path)]

    def close(self):
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


@pytest.fixture
def mlds():
    server = FakeMlds()
    yield server
    server.close()
    assert not server.errors, 'the local server failed: %r' % server.errors


class Sleeps:
    def __init__(self):
        self.calls = []

    def __call__(self, seconds):
        self.calls.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def make_client(mlds, sleeps):
    """MldsClient factory on the fake server, with the password's Redactor and a recorded no-op sleep."""
    clients = []

    def factory(username=USER, password=PASSWORD, retries=2, url=None):
        redact = _mlds.make_redactor(username, password)
        http = HttpClient(timeout=5, retries=retries, redact=redact, sleep=sleeps)
        clients.append(http)
        return MldsClient(http, url or mlds.url, username, password)

    yield factory
    for http in clients:
        http.close()


def expected_authorization(username=USER, password=PASSWORD):
    return 'Basic ' + base64.b64encode(('%s:%s' % (username, password)).encode('utf-8')).decode('ascii')


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


# ---- credentials ---------------------------------------------------------------------------------

def test_basic_auth_is_sent_on_the_first_request(mlds, make_client):
    """MLDS answers 401 without WWW-Authenticate: a client waiting for a challenge never authenticates."""
    def needs_auth(seen):
        if seen.headers.get('Authorization') != expected_authorization():
            return boot(401, '/api/releasePackages', 'Unauthorized')
        return ok_json([PACKAGE])
    mlds.route('GET', '/api/releasePackages', needs_auth)
    assert make_client().packages()[0]['releasePackageId'] == 4101
    assert len(mlds.requests) == 1
    assert mlds.requests[0].headers['Authorization'] == expected_authorization()


def test_every_request_carries_the_credentials(mlds, make_client):
    mlds.route('GET', '/api/members', ok_json(MEMBERS))
    mlds.route('GET', '/api/releasePackages/4101', ok_json(PACKAGE))
    mlds.route('PUT', '/api/releasePackages/4101', ok_json(PACKAGE))
    mlds.route('DELETE', '/api/releasePackages/4101', empty(200))
    client = make_client()
    client.members()
    client.package(4101)
    client.update_package(4101, {'name': 'x'})
    client.delete_package(4101)
    assert [seen.headers.get('Authorization') for seen in mlds.requests] == [expected_authorization()] * 4


def test_credentials_are_utf8_not_latin1(mlds, make_client):
    mlds.route('GET', '/api/members', ok_json(MEMBERS))
    make_client(password='€uro-ünïcödé').members()
    token = mlds.requests[0].headers['Authorization'].split()[1]
    assert base64.b64decode(token).decode('utf-8') == '%s:€uro-ünïcödé' % USER


def test_netrc_does_not_replace_the_credentials(mlds, make_client, tmp_path, monkeypatch):
    netrc = tmp_path / 'netrc'
    netrc.write_text('machine 127.0.0.1 login other password other-pass\n')
    os.chmod(str(netrc), 0o600)
    monkeypatch.setenv('NETRC', str(netrc))
    mlds.route('GET', '/api/members', ok_json(MEMBERS))
    make_client().members()
    assert mlds.requests[0].headers['Authorization'] == expected_authorization()


def test_anonymous_client_sends_no_credentials(mlds, make_client):
    mlds.route('GET', '/api/releasePackages', ok_json([]))
    make_client(username=None, password=None).packages()
    assert 'Authorization' not in mlds.requests[0].headers


def test_credentials_are_not_sent_to_another_host_on_redirect(mlds, make_client):
    other = FakeMlds()
    try:
        other.route('GET', '/api/releasePackages', ok_json([]))
        mlds.route('GET', '/api/releasePackages', Answer(302, headers={
            'Location': 'http://localhost:%d/api/releasePackages' % other.port}))
        make_client().packages()
        assert mlds.requests[0].headers['Authorization'] == expected_authorization()
        assert 'Authorization' not in other.requests[0].headers
    finally:
        other.close()


def test_the_auth_hook_does_not_show_the_password(make_client):
    client = make_client()
    assert_no_secret(repr(client.http.session.auth))
    assert_no_secret(str(client.http.session.auth))


def test_redactor_covers_every_form_of_the_password():
    redact = _mlds.make_redactor(USER, PASSWORD)
    for kind, form in secret_forms().items():
        assert redact('a %s b' % form) == 'a %s b' % REDACTED, kind
    header = 'Authorization: ' + expected_authorization()
    assert_no_secret(redact(header))


def test_redactor_without_password_changes_nothing():
    assert _mlds.make_redactor(USER, None)('staff-se said hello') == 'staff-se said hello'


def test_require_account():
    with pytest.raises(MldsError, match='An MLDS account is needed to manage release packages: set username and '
                                        'password'):
        _mlds.require_account({'username': None, 'password': None}, 'manage release packages')
    warnings = []
    _mlds.require_account({'username': 'u', 'password': 'p', 'url': 'http://mlds.example.org'}, 'x', warnings.append)
    assert 'plain http' in warnings[0]
    warnings = []
    _mlds.require_account({'username': 'u', 'password': 'p', 'url': 'http://127.0.0.1:8080'}, 'x', warnings.append)
    _mlds.require_account({'username': 'u', 'password': 'p', 'url': 'https://mlds.example.org'}, 'x', warnings.append)
    assert warnings == []


# ---- error mapping -------------------------------------------------------------------------------

def test_401_without_challenge_says_bad_credentials(mlds, make_client):
    mlds.route('GET', '/api/releasePackages/4101', boot(401, '/api/releasePackages/4101', 'Unauthorized'))
    with pytest.raises(MldsError) as caught:
        make_client().package(4101)
    message = str(caught.value)
    assert caught.value.status == 401
    assert 'MLDS refused the credentials to read release package 4101 (HTTP 401)' in message
    assert 'MLDS_USERNAME' in message and 'Basic auth' in message
    assert len(mlds.requests) == 1  # 4xx is never retried
    assert_no_secret(message)


def test_401_for_an_anonymous_caller_asks_for_an_account(mlds, make_client):
    mlds.route('GET', '/api/releasePackages/4101/releaseVersions/4103', boot(401, '/x', 'Unauthorized'))
    with pytest.raises(MldsError, match='MLDS needs an account to read release version 4103 .HTTP 401.: set username'):
        make_client(username=None, password=None).version(4101, 4103)


def test_403_says_the_role_is_missing(mlds, make_client):
    mlds.route('POST', '/api/releasePackages', boot(403, '/api/releasePackages', 'Forbidden'))
    with pytest.raises(MldsError) as caught:
        make_client().create_package({'name': 'New'})
    assert caught.value.status == 403
    assert "MLDS refused to create release package 'New' (HTTP 403): the account signed in but lacks the role" \
        in str(caught.value)
    assert 'MLDS said: Forbidden.' in str(caught.value)


def test_404_with_an_empty_body_names_what_was_not_found(mlds, make_client):
    mlds.route('PUT', '/api/releasePackages/9', empty(404))
    with pytest.raises(MldsError) as caught:
        make_client().update_package(9, {'name': 'x'})
    assert caught.value.status == 404
    assert str(caught.value) == ('MLDS found no release package with id 9 (HTTP 404): it does not exist or was '
                                 'deleted.')


def test_404_can_be_tolerated_for_lookups(mlds, make_client):
    assert make_client().package(9, missing_ok=True) is None


def test_409_with_an_empty_body_explains_the_online_version(mlds, make_client):
    mlds.route('DELETE', '/api/releasePackages/4101/releaseVersions/4103', empty(409))
    with pytest.raises(MldsError) as caught:
        make_client().delete_version(4101, 4103)
    assert caught.value.status == 409
    assert str(caught.value) == ('MLDS refused to delete release version 4103 (HTTP 409, a state conflict): the '
                                 'version is online. Take it offline first (take_offline: true).')


def test_409_on_package_delete_can_carry_the_callers_explanation(mlds, make_client):
    mlds.route('DELETE', '/api/releasePackages/4101', empty(409))
    with pytest.raises(MldsError, match='legacy flag'):
        make_client().delete_package(4101, on_409='legacy flag on version 1')


def test_500_on_put_is_a_likely_permission_failure_and_is_not_retried(mlds, make_client, sleeps):
    mlds.route('PUT', '/api/releasePackages/4101', boot(500, '/api/releasePackages/4101', 'Internal Server Error'))
    with pytest.raises(MldsError) as caught:
        make_client(retries=3).update_package(4101, {'name': 'x'})
    message = str(caught.value)
    assert caught.value.status == 500
    assert message.startswith('MLDS answered HTTP 500 to update release package 4101. MLDS reports permission '
                              'failures as HTTP 500: the account may not be staff of this package\'s member (or ')
    assert 'MLDS said: Internal Server Error.' in message
    assert len(mlds.seen('PUT')) == 1
    assert sleeps.calls == []


def test_500_on_delete_is_not_retried_and_mentions_remaining_files(mlds, make_client, sleeps):
    mlds.route('DELETE', '/api/releasePackages/4101/releaseVersions/4103', boot(500, '/x', 'Internal Server Error'))
    with pytest.raises(MldsError, match='the version still has files'):
        make_client(retries=3).delete_version(4101, 4103)
    assert len(mlds.requests) == 1
    assert sleeps.calls == []


def test_500_on_get_is_retried_once_only(mlds, make_client, sleeps):
    mlds.route('GET', '/api/releasePackages/4101/releaseVersions/4103', boot(500, '/x', 'Internal Server Error'))
    with pytest.raises(MldsError, match='the version is offline or alpha/beta and the account is an affiliate'):
        make_client(retries=3).version(4101, 4103)
    assert len(mlds.requests) == 2
    assert sleeps.calls == [1.0]


def test_a_single_500_on_get_recovers(mlds, make_client):
    mlds.route('GET', '/api/members', boot(500, '/api/members', 'Internal Server Error'), ok_json(MEMBERS))
    assert make_client().member('se')['memberId'] == 7


def test_500_on_get_is_not_retried_with_retries_0(mlds, make_client):
    mlds.route('GET', '/api/members', boot(500, '/api/members', 'Internal Server Error'))
    with pytest.raises(MldsError):
        make_client(retries=0).members()
    assert len(mlds.requests) == 1


@pytest.mark.parametrize('status', [502, 503, 504, 429, 408])
def test_transient_statuses_on_get_put_delete_use_the_retry_budget(mlds, make_client, sleeps, status):
    mlds.route('GET', '/api/members', empty(status), empty(status), ok_json(MEMBERS))
    mlds.route('PUT', '/api/releasePackages/4101', empty(status), ok_json(PACKAGE))
    mlds.route('DELETE', '/api/releasePackages/4101', empty(status), empty(200))
    client = make_client(retries=2)
    client.members()
    client.update_package(4101, {})
    client.delete_package(4101)
    assert [seen.method for seen in mlds.requests] == ['GET', 'GET', 'GET', 'PUT', 'PUT', 'DELETE', 'DELETE']


def test_transient_status_after_the_budget_says_unavailable(mlds, make_client):
    mlds.route('GET', '/api/members', Answer(503, 'down', {'Retry-After': '2'}))
    with pytest.raises(MldsError) as caught:
        make_client(retries=2).members()
    assert str(caught.value) == 'MLDS is unavailable or failing: HTTP 503 to list the members after 3 attempts. Try ' \
                                'again later.'
    assert len(mlds.requests) == 3


@pytest.mark.parametrize('status', [500, 502, 503])
def test_post_is_never_retried(mlds, make_client, sleeps, status):
    mlds.route('POST', '/api/releasePackages/4101/releaseVersions/4103/notifications', empty(status))
    with pytest.raises(MldsError):
        make_client(retries=3).notify(4101, 4103)
    assert len(mlds.requests) == 1
    assert sleeps.calls == []


def test_connection_errors_on_post_are_not_retried(make_client, sleeps):
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    client = make_client(url='http://127.0.0.1:%d' % port, retries=3)
    with pytest.raises(TransportError):
        client.create_package({'name': 'x'})
    assert sleeps.calls == []
    with pytest.raises(TransportError):
        client.packages()
    assert len(sleeps.calls) == 3


def test_400_shows_the_plain_text_body(mlds, make_client):
    mlds.route('PUT', '/api/releasePackages/4101', Answer(400, 'JSON parse error: Unexpected character', {
        'Content-Type': 'application/json'}))
    with pytest.raises(MldsError, match=r'rejected the request to update release package 4101 \(HTTP 400\): JSON '
                                        r'parse error: Unexpected character'):
        make_client().update_package(4101, {})


def test_html_instead_of_json_is_explained(mlds, make_client):
    mlds.route('GET', '/api/releasePackages', Answer(200, '<!DOCTYPE html><html><body>Login</body></html>',
                                                     {'Content-Type': 'text/html'}))
    with pytest.raises(MldsError, match='MLDS returned an HTML page instead of JSON to list the release packages: is '
                                        'url .* the MLDS site root'):
        make_client().packages()


def test_json_of_the_wrong_shape_is_refused(mlds, make_client):
    mlds.route('GET', '/api/releasePackages', ok_json({'releasePackages': []}))
    with pytest.raises(MldsError, match='not a list of objects'):
        make_client().packages()


@pytest.mark.parametrize('status, body', [
    (400, 'bad value %s' % PASSWORD),
    (403, boot_error(403, '/api?p=%s' % quote(PASSWORD), 'Forbidden')),
    (500, json.dumps({'status': 500, 'error': 'x', 'message': 'auth %s' % expected_authorization()})),
    (503, json.dumps({'status': 503, 'error': 'x', 'message': base64.b64encode(PASSWORD.encode()).decode()})),
])
def test_the_password_never_appears_in_an_error(mlds, make_client, status, body):
    mlds.route('PUT', '/api/releasePackages/4101', Answer(status, body, {'Content-Type': 'application/json'}))
    with pytest.raises(MldsError) as caught:
        make_client(retries=0).update_package(4101, {})
    assert_no_secret(str(caught.value))
    assert_no_secret(''.join(traceback.format_exception(type(caught.value), caught.value,
                                                        caught.value.__traceback__)))


def test_the_password_never_appears_in_a_transport_error(make_client):
    # The password is in the URL's user info here, as a user might paste it; the error must not show it.
    client = make_client(url='http://%s:%s@127.0.0.1:1' % (USER, quote(PASSWORD, safe='')), retries=0)
    with pytest.raises(TransportError) as caught:
        client.packages()
    assert_no_secret(str(caught.value))


def test_describe_failure_texts_for_other_statuses():
    assert 'HTTP 405' in _mlds.describe_failure(405, 'update release file 1')
    assert 'HTTP 415' in _mlds.describe_failure(415, 'upload the licence')
    assert _mlds.describe_failure(418, 'brew') == 'MLDS answered HTTP 418 to brew.'
    assert _mlds.describe_failure(409, 'x') .endswith('for example an online version.')


# ---- requests the client makes -------------------------------------------------------------------

def test_member_lookup_is_case_insensitive_and_cached(mlds, make_client):
    mlds.route('GET', '/api/members', ok_json(MEMBERS))
    client = make_client()
    assert client.member('se') == MEMBERS[1]
    assert client.member('DK')['memberId'] == 8
    assert len(mlds.requests) == 1
    with pytest.raises(MldsError, match="MLDS has no member with key 'XZ'. Valid keys: DK IHTSDO SE."):
        client.member('XZ')


def test_create_returns_the_200_body(mlds, make_client):
    created = dict(PACKAGE, releaseVersions=[])
    mlds.route('POST', '/api/releasePackages', ok_json(created))
    body = {'name': 'Demo Extension', 'member': {'memberId': 7, 'key': 'SE'}}
    assert make_client().create_package(body) == created
    assert mlds.requests[0].json() == body
    assert mlds.requests[0].headers['Content-Type'] == 'application/json'


def test_file_update_is_a_put_on_the_collection_with_the_id_in_the_body(mlds, make_client):
    path = '/api/releasePackages/4101/releaseVersions/4103/releaseFiles'
    mlds.route('PUT', path, ok_json({'releaseFileId': 4105, 'label': 'New'}))
    current = PACKAGE['releaseVersions'][1]['releaseFiles'][1]
    body = _mlds_fields.file_put_body(dict(current, label='New'))
    make_client().update_file(4101, 4103, body)
    seen = mlds.requests[0]
    assert (seen.method, seen.path) == ('PUT', path)
    assert seen.json() == {'releaseFileId': 4105, 'label': 'New', 'downloadUrl': current['downloadUrl'],
                           'md5Hash': current['md5Hash'], 'fileSize': '123456', 'primaryFile': True}


def test_archive_flag_uses_its_own_endpoint(mlds, make_client):
    mlds.route('POST', '/api/updateArchive/4103', ok_json(PACKAGE['releaseVersions'][1]))
    make_client().set_archive(4103, True)
    make_client().set_archive(4103, False)
    assert [seen.path for seen in mlds.requests] == ['/api/updateArchive/4103?isArchive=true',
                                                     '/api/updateArchive/4103?isArchive=false']


def test_notification_is_a_post(mlds, make_client):
    mlds.route('POST', '/api/releasePackages/4101/releaseVersions/4103/notifications', ok_json({}))
    make_client().notify(4101, 4103)
    assert mlds.requests[0].json() == {}


def test_licence_204_means_none(mlds, make_client):
    mlds.route('GET', '/api/releasePackages/4101/license', empty(204))
    assert make_client().license(4101) is None


def test_licence_bytes_are_returned_raw(mlds, make_client):
    data = b'%PDF-1.4 licence \x00\xff'
    mlds.route('GET', '/api/releasePackages/4101/license', Answer(200, data, {
        'Content-Type': 'application/pdf', 'Content-Disposition': 'form-data; name="file"; filename="l.pdf"'}))
    assert make_client().license(4101) == data


def test_licence_upload_is_multipart_with_a_file_part_and_its_type(mlds, make_client):
    mlds.route('POST', '/api/releasePackages/4101/license', empty(200))
    make_client().upload_license(4101, 'licence.pdf', b'%PDF-1.4 data', 'application/pdf')
    seen = mlds.requests[0]
    assert seen.headers['Content-Type'].startswith('multipart/form-data; boundary=')
    assert seen.multipart() == {'file': ('licence.pdf', 'application/pdf', b'%PDF-1.4 data')}


def test_ids_in_paths_must_be_numbers(make_client):
    with pytest.raises(MldsError, match="'../x' is not an MLDS id"):
        make_client().package('../x')


def test_download_url_joins_the_relative_path_with_url(make_client):
    client = make_client(url='https://mlds.example.org/')
    release_file = PACKAGE['releaseVersions'][1]['releaseFiles'][1]
    assert client.download_url(4101, 4103, release_file) == (
        'https://mlds.example.org/api/releasePackages/4101/releaseVersions/4103/releaseFiles/4105/download')
    assert client.download_url(4101, 4103, {'releaseFileId': 7}) == (
        'https://mlds.example.org/api/releasePackages/4101/releaseVersions/4103/releaseFiles/7/download')
    same = {'clientDownloadUrl': 'HTTPS://MLDS.example.org/api/x/download'}
    assert client.download_url(1, 2, same) == same['clientDownloadUrl']
    with pytest.raises(MldsError, match='on another host .https://evil.example.org.; refusing to send the '
                                        'credentials there'):
        client.download_url(1, 2, {'clientDownloadUrl': 'https://evil.example.org/api/x/download'})


# ---- lookups -------------------------------------------------------------------------------------

def test_resolve_package_tries_digits_as_an_id_first(mlds, make_client):
    mlds.route('GET', '/api/releasePackages/4101', ok_json(PACKAGE))
    assert _mlds_select.resolve_package(make_client(), '4101')['name'] == 'Demo Extension'
    assert [seen.path for seen in mlds.requests] == ['/api/releasePackages/4101']


def test_resolve_package_falls_back_to_the_name(mlds, make_client):
    named = dict(PACKAGE, releasePackageId=5, name='2024')
    mlds.route('GET', '/api/releasePackages', ok_json([PACKAGE, named]))
    assert _mlds_select.resolve_package(make_client(), '2024')['releasePackageId'] == 5


def test_resolve_package_checks_the_member_of_an_id(mlds, make_client):
    mlds.route('GET', '/api/releasePackages/4101', ok_json(PACKAGE))
    with pytest.raises(MldsError, match='Release package 4101 belongs to member SE, not DK'):
        _mlds_select.resolve_package(make_client(), '4101', 'DK')


def test_an_ambiguous_name_lists_the_ids(mlds, make_client):
    twin = dict(PACKAGE, releasePackageId=4200, member={'memberId': 8, 'key': 'DK'})
    mlds.route('GET', '/api/releasePackages', ok_json([PACKAGE, twin]))
    with pytest.raises(MldsError) as caught:
        _mlds_select.resolve_package(make_client(), 'Demo Extension')
    assert str(caught.value) == ("2 release packages are named 'Demo Extension': ids 4101 (member SE), 4200 (member "
                                 "DK). Choose one by id or by member.")
    assert _mlds_select.resolve_package(make_client(), 'Demo Extension', 'dk')['releasePackageId'] == 4200


def test_an_unknown_package_says_what_the_account_can_see(mlds, make_client):
    mlds.route('GET', '/api/releasePackages', ok_json([PACKAGE]))
    with pytest.raises(MldsError, match="no release package named 'Nope' visible to this account. Affiliates"):
        _mlds_select.resolve_package(make_client(), 'Nope')


def test_resolve_version_by_id_or_name():
    assert _mlds_select.resolve_version(PACKAGE, '4103')['name'] == '2024-11-01'
    assert _mlds_select.resolve_version(PACKAGE, '2025-05-01')['releaseVersionId'] == 4107
    with pytest.raises(MldsError) as caught:
        _mlds_select.resolve_version(PACKAGE, '2030-01-01')
    assert "no version named '2030-01-01'" in str(caught.value)
    assert "4103 ('2024-11-01', online), 4107 ('2025-05-01', offline)" in str(caught.value)


def test_duplicate_version_names_are_ambiguous():
    package = dict(PACKAGE, releaseVersions=PACKAGE['releaseVersions'] + [
        {'releaseVersionId': 4199, 'name': '2024-11-01'}])
    with pytest.raises(MldsError, match="has 2 versions named '2024-11-01': ids 4103, 4199. Choose one by id."):
        _mlds_select.one_version(package, name='2024-11-01')


def test_files_by_label_id_or_primary():
    version = PACKAGE['releaseVersions'][1]
    assert _mlds_select.one_file(version, label='RF2 zip')['releaseFileId'] == 4105
    assert _mlds_select.one_file(version, file_id=4106)['label'] == 'Release notes'
    assert _mlds_select.one_file(version, label='none') is None
    assert _mlds_select.default_file(version)['releaseFileId'] == 4105
    only = {'releaseVersionId': 1, 'name': 'x', 'releaseFiles': [{'releaseFileId': 9, 'label': 'a'}]}
    assert _mlds_select.default_file(only)['releaseFileId'] == 9
    two = {'releaseVersionId': 1, 'name': 'x',
           'releaseFiles': [{'releaseFileId': 9, 'label': 'a'}, {'releaseFileId': 10, 'label': 'b'}]}
    with pytest.raises(MldsError, match="no single primary file; choose one with label or file_id. Files: 9 "):
        _mlds_select.default_file(two)
    with pytest.raises(MldsError, match='has no files'):
        _mlds_select.default_file({'releaseVersionId': 1, 'name': 'x', 'releaseFiles': []})
    dupes = {'releaseVersionId': 1, 'name': 'x',
             'releaseFiles': [{'releaseFileId': 9, 'label': 'a'}, {'releaseFileId': 10, 'label': 'a'}]}
    with pytest.raises(MldsError, match="has 2 files labelled 'a': ids 9, 10"):
        _mlds_select.one_file(dupes, label='a')


# ---- bodies and output ---------------------------------------------------------------------------

def test_package_put_body_is_whole_with_member_and_priority():
    body = _mlds_fields.package_put_body(PACKAGE, MEMBERS[1], 2)
    assert 'releaseVersions' not in body
    assert body['member'] == {'memberId': 7, 'key': 'SE'}
    assert body['priority'] == 2
    for key in ('releasePackageId', 'name', 'description', 'copyrights', 'releasePackageURI', 'createdAt'):
        assert body[key] == PACKAGE[key]


def test_version_put_body_never_sends_online_and_always_sends_release_type():
    version = dict(PACKAGE['releaseVersions'][1], online=True)
    body = _mlds_fields.version_put_body(version)
    assert 'online' not in body and 'releaseFiles' not in body
    assert body['releaseType'] == 'online'
    sparse = _mlds_fields.version_put_body({'releaseVersionId': 4107, 'name': 'x', 'releaseType': None})
    assert sparse['releaseType'] == 'offline'
    for key in _mlds_fields.VERSION_PUT_FIELDS:
        assert key in sparse


def test_output_is_snake_case_sorted_and_without_url_credentials():
    output = _mlds_output.to_output(PACKAGE)
    assert output['release_package_id'] == 4101
    assert output['release_package_uri'] == 'http://snomed.info/sct/9999999'
    assert output['member']['member_id'] == 7
    assert [version['release_version_id'] for version in output['release_versions']] == [4103, 4107]
    files = output['release_versions'][0]['release_files']
    assert [item['release_file_id'] for item in files] == [4105, 4106]
    assert files[0]['md5_hash'] == 'd41d8cd98f00b204e9800998ecf8427e'
    assert files[0]['client_download_url'].endswith('/4105/download')
    assert files[1]['download_url'] == 'https://********@example.org/notes.pdf'
    assert output['release_versions'][0]['version_dependent_derivative_uri'] is None
    assert PACKAGE['releaseVersions'][0]['releaseVersionId'] == 4107  # the input is not reordered


@pytest.mark.parametrize('name, snake', [('releasePackageURI', 'release_package_uri'), ('md5Hash', 'md5_hash'),
                                         ('versionDependentURI', 'version_dependent_uri'), ('id', 'id'),
                                         ('clientDownloadUrl', 'client_download_url'), ('lastUpdated', 'last_updated')])
def test_snake_case(name, snake):
    assert camel_dict_to_snake_dict({name: 1}) == {snake: 1}


@pytest.mark.parametrize('value, size', [('123', 123), (123, 123), (' 9 ', 9), ('', None), (None, None),
                                         ('12a', None), (-1, None), (True, None), (5.0, 5)])
def test_file_size_value(value, size):
    assert _mlds_fields.file_size_value(value) == size


@pytest.mark.parametrize('name', ['../x.zip', 'a/b.zip', 'a\\b.zip', '.hidden', '..', '', ' x.zip', 'x\n.zip',
                                  'x' * 256])
def test_unsafe_file_names_are_refused(name):
    with pytest.raises(MldsError):
        _mlds_fields.safe_file_name(name, 'label of file 1')


def test_plain_file_names_are_kept():
    assert _mlds_fields.safe_file_name('RF2 zip (final).zip', 'label') == 'RF2 zip (final).zip'


def test_file_digest_streams_md5_and_size(tmp_path):
    path = tmp_path / 'f.bin'
    data = os.urandom(3 * 1024 + 5)
    path.write_bytes(data)
    assert _mlds_fields.file_digest(str(path), chunk_size=1024) == (hashlib.md5(data).hexdigest(), len(data))
    with pytest.raises(MldsError, match='Cannot read'):
        _mlds_fields.file_digest(str(tmp_path / 'missing'))


def test_guess_content_type():
    assert _mlds_fields.guess_content_type('/x/licence.pdf') == 'application/pdf'
    assert _mlds_fields.guess_content_type('/x/licence') == 'application/octet-stream'


# ---- downloads through the shared engine ---------------------------------------------------------

DATA = random.Random(4105).randbytes(300 * 1024 + 17)  # fixed: a failure must be reproducible
DOWNLOAD = '/api/releasePackages/4101/releaseVersions/4103/releaseFiles/4105/download'


def target_for(data=DATA, size=True, md5=True, name='rf2.zip'):
    return _download.Target(name, len(data) if size else None, md5=hashlib.md5(data).hexdigest() if md5 else None)


def describe(status):
    return 'HTTP %s described' % status


def proxied(data=DATA, length=True):
    # MLDS's proxy: no Range support, S3 objects come without Content-Length.
    return Answer(200, data, {'Content-Disposition': 'attachment;filename=demo.zip'}, length=length)


def test_download_with_size_and_md5_is_verified(mlds, make_client, tmp_path):
    mlds.route('GET', DOWNLOAD, proxied())
    client = make_client()
    dest = str(tmp_path / 'rf2.zip')
    http = _mlds_download.NoRetryOn500(client.http, describe)
    result = _download.fetch_to(http, client.api(DOWNLOAD), dest, target_for(), ['md5', 'sha256'], describe)
    assert open(dest, 'rb').read() == DATA
    assert result.digests['md5'] == hashlib.md5(DATA).hexdigest()
    assert mlds.requests[0].headers['Authorization'] == expected_authorization()


def test_resume_falls_back_to_a_full_download_when_range_is_ignored(mlds, make_client, tmp_path):
    mlds.route('GET', DOWNLOAD, proxied())
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
    mlds.route('GET', DOWNLOAD, boot(500, DOWNLOAD, 'Internal Server Error'))
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
    mlds.route('GET', DOWNLOAD, empty(503), proxied())
    client = make_client(retries=2)
    dest = str(tmp_path / 'rf2.zip')
    _download.fetch_to(_mlds_download.NoRetryOn500(client.http, describe), client.api(DOWNLOAD), dest, target_for(), ['md5'],
                       describe)
    assert len(mlds.requests) == 2


def test_unsized_download_without_content_length(mlds, make_client, tmp_path):
    mlds.route('GET', DOWNLOAD, proxied(length=False))
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
    mlds.route('GET', DOWNLOAD, proxied(data=DATA[:-1] + bytes([DATA[-1] ^ 0xFF]), length=False))
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
    mlds.route('GET', DOWNLOAD, boot(500, DOWNLOAD, 'Internal Server Error'))
    with pytest.raises(_download.DownloadError, match='HTTP 500 described'):
        _download.fetch_to(_mlds_download.NoRetryOn500(client.http, describe), client.api(DOWNLOAD), dest,
                           target_for(size=False), ['md5'], describe)
    mlds.route('GET', DOWNLOAD, boot(404, DOWNLOAD, 'Not Found'))
    with pytest.raises(_download.DownloadError, match='HTTP 404 described'):
        _download.fetch_to(_mlds_download.NoRetryOn500(client.http, describe), client.api(DOWNLOAD), dest,
                           target_for(size=False), ['md5'], describe)
    assert len(mlds.requests) == 2 and sleeps.calls == []
