# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The MLDS client (_mlds) over real HTTP to conftest's local server with MLDS 5.2's answers: pre-emptive Basic auth,
empty 404/409 bodies, Boot error JSON, 401 without a challenge, the retry rules (500 versus other 5xx, never POST),
error texts, redaction of the password in every form, and the requests and bodies it sends."""

from __future__ import annotations

import base64
import json
import os
import traceback
from urllib.parse import quote

import pytest

from ansible_collections.terminology.releases.plugins.module_utils import _mlds, _mlds_fields
from ansible_collections.terminology.releases.plugins.module_utils._http import REDACTED, TransportError
from ansible_collections.terminology.releases.plugins.module_utils._mlds import MldsError

from mlds_utest import (
    MEMBERS,
    PACKAGE,
    PASSWORD,
    USER,
    assert_no_secret,
    boot,
    boot_error,
    expected_authorization,
    secret_forms,
)
from mlds_utest import make_client, mlds  # noqa: F401 pylint: disable=unused-import


# ---- credentials ---------------------------------------------------------------------------------

def test_basic_auth_is_sent_on_the_first_request(mlds, make_client):
    """MLDS answers 401 without WWW-Authenticate: a client waiting for a challenge never authenticates."""
    def needs_auth(seen):
        if seen.headers.get('Authorization') != expected_authorization():
            return boot(mlds, 401, '/api/releasePackages', 'Unauthorized')
        return mlds.json([PACKAGE])
    mlds.route('GET /api/releasePackages', needs_auth)
    assert make_client().packages()[0]['releasePackageId'] == 4101
    assert len(mlds.requests) == 1
    assert mlds.requests[0].headers['Authorization'] == expected_authorization()


def test_every_request_carries_the_credentials(mlds, make_client):
    mlds.route('GET /api/members', mlds.json(MEMBERS))
    mlds.route('GET /api/releasePackages/4101', mlds.json(PACKAGE))
    mlds.route('PUT /api/releasePackages/4101', mlds.json(PACKAGE))
    mlds.route('DELETE /api/releasePackages/4101', mlds.reply(200))
    client = make_client()
    client.members()
    client.package(4101)
    client.update_package(4101, {'name': 'x'})
    client.delete_package(4101)
    assert [seen.headers.get('Authorization') for seen in mlds.requests] == [expected_authorization()] * 4


def test_credentials_are_utf8_not_latin1(mlds, make_client):
    mlds.route('GET /api/members', mlds.json(MEMBERS))
    make_client(password='€uro-ünïcödé').members()
    token = mlds.requests[0].headers['Authorization'].split()[1]
    assert base64.b64decode(token).decode('utf-8') == '%s:€uro-ünïcödé' % USER


def test_netrc_does_not_replace_the_credentials(mlds, make_client, tmp_path, monkeypatch):
    netrc = tmp_path / 'netrc'
    netrc.write_text('machine 127.0.0.1 login other password other-pass\n')
    os.chmod(str(netrc), 0o600)
    monkeypatch.setenv('NETRC', str(netrc))
    mlds.route('GET /api/members', mlds.json(MEMBERS))
    make_client().members()
    assert mlds.requests[0].headers['Authorization'] == expected_authorization()


def test_anonymous_client_sends_no_credentials(mlds, make_client):
    mlds.route('GET /api/releasePackages', mlds.json([]))
    make_client(username=None, password=None).packages()
    assert 'Authorization' not in mlds.requests[0].headers


def test_credentials_are_not_sent_to_another_host_on_redirect(mlds, make_client, start_local_server):
    other = start_local_server()
    other.route('GET /api/releasePackages', other.json([]))
    mlds.route('GET /api/releasePackages', mlds.reply(302, headers={
        'Location': 'http://localhost:%d/api/releasePackages' % other.port}))
    make_client().packages()
    assert mlds.requests[0].headers['Authorization'] == expected_authorization()
    assert 'Authorization' not in other.requests[0].headers


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
    mlds.route('GET /api/releasePackages/4101', boot(mlds, 401, '/api/releasePackages/4101', 'Unauthorized'))
    with pytest.raises(MldsError) as caught:
        make_client().package(4101)
    message = str(caught.value)
    assert caught.value.status == 401
    assert 'MLDS refused the credentials to read release package 4101 (HTTP 401)' in message
    assert 'MLDS_USERNAME' in message and 'Basic auth' in message
    assert len(mlds.requests) == 1  # 4xx is never retried
    assert_no_secret(message)


def test_401_for_an_anonymous_caller_asks_for_an_account(mlds, make_client):
    mlds.route('GET /api/releasePackages/4101/releaseVersions/4103', boot(mlds, 401, '/x', 'Unauthorized'))
    with pytest.raises(MldsError, match='MLDS needs an account to read release version 4103 .HTTP 401.: set username'):
        make_client(username=None, password=None).version(4101, 4103)


def test_403_says_the_role_is_missing(mlds, make_client):
    mlds.route('POST /api/releasePackages', boot(mlds, 403, '/api/releasePackages', 'Forbidden'))
    with pytest.raises(MldsError) as caught:
        make_client().create_package({'name': 'New'})
    assert caught.value.status == 403
    assert "MLDS refused to create release package 'New' (HTTP 403): the account signed in but lacks the role" \
        in str(caught.value)
    assert 'MLDS said: Forbidden.' in str(caught.value)


def test_404_with_an_empty_body_names_what_was_not_found(mlds, make_client):
    mlds.route('PUT /api/releasePackages/9', mlds.reply(404))
    with pytest.raises(MldsError) as caught:
        make_client().update_package(9, {'name': 'x'})
    assert caught.value.status == 404
    assert str(caught.value) == ('MLDS found no release package with id 9 (HTTP 404): it does not exist or was '
                                 'deleted.')


def test_404_can_be_tolerated_for_lookups(mlds, make_client):
    assert make_client().package(9, missing_ok=True) is None


def test_409_with_an_empty_body_explains_the_online_version(mlds, make_client):
    mlds.route('DELETE /api/releasePackages/4101/releaseVersions/4103', mlds.reply(409))
    with pytest.raises(MldsError) as caught:
        make_client().delete_version(4101, 4103)
    assert caught.value.status == 409
    assert str(caught.value) == ('MLDS refused to delete release version 4103 (HTTP 409, a state conflict): the '
                                 'version is online. Take it offline first (take_offline: true).')


def test_409_on_package_delete_can_carry_the_callers_explanation(mlds, make_client):
    mlds.route('DELETE /api/releasePackages/4101', mlds.reply(409))
    with pytest.raises(MldsError, match='legacy flag'):
        make_client().delete_package(4101, on_409='legacy flag on version 1')


def test_500_on_put_is_a_likely_permission_failure_and_is_not_retried(mlds, make_client, sleeps):
    mlds.route('PUT /api/releasePackages/4101', boot(mlds, 500, '/api/releasePackages/4101', 'Internal Server Error'))
    with pytest.raises(MldsError) as caught:
        make_client(retries=3).update_package(4101, {'name': 'x'})
    message = str(caught.value)
    assert caught.value.status == 500
    assert message.startswith('MLDS answered HTTP 500 to update release package 4101. MLDS reports permission '
                              'failures as HTTP 500: the account may not be staff of this package\'s member (or ')
    assert 'MLDS said: Internal Server Error.' in message
    assert len(mlds.requests_for(method='PUT')) == 1
    assert sleeps.calls == []


def test_500_on_delete_is_not_retried_and_mentions_remaining_files(mlds, make_client, sleeps):
    mlds.route('DELETE /api/releasePackages/4101/releaseVersions/4103', boot(mlds, 500, '/x', 'Internal Server Error'))
    with pytest.raises(MldsError, match='the version still has files'):
        make_client(retries=3).delete_version(4101, 4103)
    assert len(mlds.requests) == 1
    assert sleeps.calls == []


def test_500_on_get_is_retried_once_only(mlds, make_client, sleeps):
    mlds.route('GET /api/releasePackages/4101/releaseVersions/4103', boot(mlds, 500, '/x', 'Internal Server Error'))
    with pytest.raises(MldsError, match='the version is offline or alpha/beta and the account is an affiliate'):
        make_client(retries=3).version(4101, 4103)
    assert len(mlds.requests) == 2
    assert sleeps.calls == [1.0]


def test_a_single_500_on_get_recovers(mlds, make_client):
    mlds.route('GET /api/members', boot(mlds, 500, '/api/members', 'Internal Server Error'), mlds.json(MEMBERS))
    assert make_client().member('se')['memberId'] == 7


def test_500_on_get_is_not_retried_with_retries_0(mlds, make_client):
    mlds.route('GET /api/members', boot(mlds, 500, '/api/members', 'Internal Server Error'))
    with pytest.raises(MldsError):
        make_client(retries=0).members()
    assert len(mlds.requests) == 1


@pytest.mark.parametrize('status', [502, 503, 504, 429, 408])
def test_transient_statuses_on_get_put_delete_use_the_retry_budget(mlds, make_client, sleeps, status):
    mlds.route('GET /api/members', mlds.reply(status), mlds.reply(status), mlds.json(MEMBERS))
    mlds.route('PUT /api/releasePackages/4101', mlds.reply(status), mlds.json(PACKAGE))
    mlds.route('DELETE /api/releasePackages/4101', mlds.reply(status), mlds.reply(200))
    client = make_client(retries=2)
    client.members()
    client.update_package(4101, {})
    client.delete_package(4101)
    assert [seen.method for seen in mlds.requests] == ['GET', 'GET', 'GET', 'PUT', 'PUT', 'DELETE', 'DELETE']


def test_transient_status_after_the_budget_says_unavailable(mlds, make_client):
    mlds.route('GET /api/members', mlds.reply(503, 'down', {'Retry-After': '2'}))
    with pytest.raises(MldsError) as caught:
        make_client(retries=2).members()
    assert str(caught.value) == 'MLDS is unavailable or failing: HTTP 503 to list the members after 3 attempts. Try ' \
                                'again later.'
    assert len(mlds.requests) == 3


@pytest.mark.parametrize('status', [500, 502, 503])
def test_post_is_never_retried(mlds, make_client, sleeps, status):
    mlds.route('POST /api/releasePackages/4101/releaseVersions/4103/notifications', mlds.reply(status))
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
    mlds.route('PUT /api/releasePackages/4101', mlds.reply(400, 'JSON parse error: Unexpected character', {
        'Content-Type': 'application/json'}))
    with pytest.raises(MldsError, match=r'rejected the request to update release package 4101 \(HTTP 400\): JSON '
                                        r'parse error: Unexpected character'):
        make_client().update_package(4101, {})


def test_html_instead_of_json_is_explained(mlds, make_client):
    mlds.route('GET /api/releasePackages', mlds.reply(200, '<!DOCTYPE html><html><body>Login</body></html>',
                                                      {'Content-Type': 'text/html'}))
    with pytest.raises(MldsError, match='MLDS returned an HTML page instead of JSON to list the release packages: is '
                                        'url .* the MLDS site root'):
        make_client().packages()


def test_json_of_the_wrong_shape_is_refused(mlds, make_client):
    mlds.route('GET /api/releasePackages', mlds.json({'releasePackages': []}))
    with pytest.raises(MldsError, match='not a list of objects'):
        make_client().packages()


@pytest.mark.parametrize('status, body', [
    (400, 'bad value %s' % PASSWORD),
    (403, json.dumps(boot_error(403, '/api?p=%s' % quote(PASSWORD), 'Forbidden'))),
    (500, json.dumps({'status': 500, 'error': 'x', 'message': 'auth %s' % expected_authorization()})),
    (503, json.dumps({'status': 503, 'error': 'x', 'message': base64.b64encode(PASSWORD.encode()).decode()})),
])
def test_the_password_never_appears_in_an_error(mlds, make_client, status, body):
    mlds.route('PUT /api/releasePackages/4101', mlds.reply(status, body, {'Content-Type': 'application/json'}))
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
    mlds.route('GET /api/members', mlds.json(MEMBERS))
    client = make_client()
    assert client.member('se') == MEMBERS[1]
    assert client.member('DK')['memberId'] == 8
    assert len(mlds.requests) == 1
    with pytest.raises(MldsError, match="MLDS has no member with key 'XZ'. Valid keys: DK IHTSDO SE."):
        client.member('XZ')


def test_create_returns_the_200_body(mlds, make_client):
    created = dict(PACKAGE, releaseVersions=[])
    mlds.route('POST /api/releasePackages', mlds.json(created))
    body = {'name': 'Demo Extension', 'member': {'memberId': 7, 'key': 'SE'}}
    assert make_client().create_package(body) == created
    assert mlds.requests[0].json() == body
    assert mlds.requests[0].headers['Content-Type'] == 'application/json'


def test_file_update_is_a_put_on_the_collection_with_the_id_in_the_body(mlds, make_client):
    path = '/api/releasePackages/4101/releaseVersions/4103/releaseFiles'
    mlds.route('PUT ' + path, mlds.json({'releaseFileId': 4105, 'label': 'New'}))
    current = PACKAGE['releaseVersions'][1]['releaseFiles'][1]
    body = _mlds_fields.file_put_body(dict(current, label='New'))
    make_client().update_file(4101, 4103, body)
    seen = mlds.requests[0]
    assert (seen.method, seen.path) == ('PUT', path)
    assert seen.json() == {'releaseFileId': 4105, 'label': 'New', 'downloadUrl': current['downloadUrl'],
                           'md5Hash': current['md5Hash'], 'fileSize': '123456', 'primaryFile': True}


def test_archive_flag_uses_its_own_endpoint(mlds, make_client):
    mlds.route('POST /api/updateArchive/4103', mlds.json(PACKAGE['releaseVersions'][1]))
    make_client().set_archive(4103, True)
    make_client().set_archive(4103, False)
    assert [seen.path for seen in mlds.requests] == ['/api/updateArchive/4103?isArchive=true',
                                                     '/api/updateArchive/4103?isArchive=false']


def test_notification_is_a_post(mlds, make_client):
    mlds.route('POST /api/releasePackages/4101/releaseVersions/4103/notifications', mlds.json({}))
    make_client().notify(4101, 4103)
    assert mlds.requests[0].json() == {}


def test_licence_204_means_none(mlds, make_client):
    mlds.route('GET /api/releasePackages/4101/license', mlds.reply(204))
    assert make_client().license(4101) is None


def test_licence_bytes_are_returned_raw(mlds, make_client):
    data = b'%PDF-1.4 licence \x00\xff'
    mlds.route('GET /api/releasePackages/4101/license', mlds.reply(200, data, {
        'Content-Type': 'application/pdf', 'Content-Disposition': 'form-data; name="file"; filename="l.pdf"'}))
    assert make_client().license(4101) == data


def test_licence_upload_is_multipart_with_a_file_part_and_its_type(mlds, make_client):
    mlds.route('POST /api/releasePackages/4101/license', mlds.reply(200))
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
