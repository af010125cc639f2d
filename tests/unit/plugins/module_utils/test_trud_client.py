# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""TRUD listing parsing, error mapping and the client, over real HTTP to a local server."""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus

import pytest

from ansible_collections.terminology.releases.plugins.module_utils._http import Redactor
from ansible_collections.terminology.releases.plugins.module_utils._trud import (
    MAX_LISTING_BYTES,
    TrudClient,
    TrudError,
    error_for_status,
    listing_url,
    parse_listing,
)

# A key with characters that change under URL quoting, as keys may in other deployments.
KEY = 'k+y/=&s3cretKEY'
KEY_FORMS = (KEY, quote(KEY, safe=''), quote_plus(KEY), quote(KEY))


def assert_no_key(text):
    for form in KEY_FORMS:
        assert form not in text


def listing_body(releases=None, message='OK'):
    return json.dumps({'apiVersion': '1', 'releases': releases or [], 'httpStatus': 200, 'message': message})


# ---- parse_listing -----------------------------------------------------------------------------

def test_malformed_json_is_refused():
    with pytest.raises(TrudError, match='malformed JSON instead of a JSON release list for item 341'):
        parse_listing(b'{"apiVersion" : "1", "releases" : [ {', 341)


def test_html_error_page_is_refused():
    page = b'<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head><body>down</body></html>'
    with pytest.raises(TrudError) as caught:
        parse_listing(page, 341)
    message = str(caught.value)
    assert 'an HTML page' in message
    assert 'is TRUD down' in message
    assert '<!DOCTYPE html>' in message


def test_empty_body_is_refused():
    with pytest.raises(TrudError, match='malformed JSON'):
        parse_listing(b'', 341)


@pytest.mark.parametrize('body', ['{"message": "OK"}', '[]', '"OK"', '{"releases": {"id": "x"}}'])
def test_json_without_a_releases_list_is_refused(body):
    with pytest.raises(TrudError, match='without a "releases" list for item 341'):
        parse_listing(body.encode('ascii'), 341)


def test_message_other_than_ok_is_refused():
    with pytest.raises(TrudError, match="TRUD answered 'BAD REQUEST' for item 341"):
        parse_listing(listing_body(message='BAD REQUEST').encode('ascii'), 341)


def test_release_entries_must_be_objects():
    with pytest.raises(TrudError, match='entries that are not objects'):
        parse_listing(json.dumps({'releases': [{'id': 'a'}, 'b'], 'message': 'OK'}).encode('ascii'), 341)


def test_oversized_listing_is_refused_before_parsing():
    body = b' ' * (MAX_LISTING_BYTES + 1)
    with pytest.raises(TrudError, match='larger than %d bytes' % MAX_LISTING_BYTES):
        parse_listing(body, 341)


def test_empty_release_list_parses():
    assert parse_listing(listing_body().encode('ascii'), 341) == []


# ---- error_for_status --------------------------------------------------------------------------

def test_400_points_at_the_api_key():
    message = error_for_status(400, 341, 'BAD REQUEST')
    assert 'HTTP 400' in message
    assert 'api_key' in message
    assert 'TRUD_API_KEY' in message
    assert "'BAD REQUEST'" in message


def test_401_explains_disabled_keys():
    message = error_for_status(401, 1799, 'UNAUTHORIZED: API access is disabled for the requesting account.')
    assert 'HTTP 401' in message
    assert 'disabled' in message
    assert 'password changes' in message
    assert 'new key' in message


def test_404_lists_the_likely_causes():
    message = error_for_status(404, 394, None)
    assert 'item 394' in message
    assert 'not subscribed' in message
    assert 'pending approval' in message
    assert 'no releases' in message
    assert 'TRUD said' not in message


def test_other_status_is_reported_plainly():
    assert error_for_status(500, 341, None) == 'TRUD answered HTTP 500 for item 341.'


# ---- listing_url -------------------------------------------------------------------------------

def test_listing_url_quotes_the_key_into_one_path_segment():
    url = listing_url('https://isd.digital.nhs.uk/trud/api/v1/', KEY, '341')
    assert url == 'https://isd.digital.nhs.uk/trud/api/v1/keys/%s/items/341/releases' % quote(KEY, safe='')


def test_listing_url_latest():
    assert listing_url('http://h/trud/api/v1', 'abc', 341, latest=True).endswith('/keys/abc/items/341/releases?latest')


# ---- TrudClient over HTTP ----------------------------------------------------------------------

@pytest.fixture
def trud(local_server, make_http):
    http = make_http(retries=1, redact=Redactor([KEY]))
    return TrudClient(http, local_server.url('/trud/api/v1'), KEY)


def releases_path(item=341):
    return '/trud/api/v1/keys/%s/items/%d/releases' % (quote(KEY, safe=''), item)


def test_client_reads_the_real_listing(local_server, trud, trud_listing_bytes):
    local_server.route(releases_path(), local_server.reply(200, trud_listing_bytes, {'Content-Type': 'application/json'}))
    releases = trud.releases(341)
    assert len(releases) == 96
    assert local_server.requests[0].headers.get('Accept') == 'application/json'


def test_client_asks_for_latest(local_server, trud):
    local_server.route(releases_path() + '?latest', local_server.reply(200, listing_body([{'id': 'newest'}])))
    assert trud.releases(341, latest=True) == [{'id': 'newest'}]
    assert local_server.requests[0].path.endswith('/releases?latest')


def test_404_message_with_the_key_is_redacted(local_server, trud):
    body = json.dumps({'message': 'NOT FOUND: No releases found for API key %s, item 394.' % KEY, 'httpStatus': 404})
    local_server.route(releases_path(394), local_server.reply(404, body, {'Content-Type': 'application/json'}))
    with pytest.raises(TrudError) as caught:
        trud.releases(394)
    message = str(caught.value)
    assert_no_key(message)
    assert 'NOT FOUND: No releases found for API key ********, item 394.' in message
    assert 'pending approval' in message
    assert len(local_server.requests) == 1


def test_400_is_mapped_and_not_retried(local_server, trud):
    local_server.route(releases_path(), local_server.reply(400, json.dumps({'message': 'BAD REQUEST', 'httpStatus': 400})))
    with pytest.raises(TrudError, match='rejected the API key'):
        trud.releases(341)
    assert len(local_server.requests) == 1


def test_401_is_mapped(local_server, trud):
    body = json.dumps({'message': 'UNAUTHORIZED: API access is disabled for the requesting account.', 'httpStatus': 401})
    local_server.route(releases_path(), local_server.reply(401, body))
    with pytest.raises(TrudError, match='disabled API access for this key'):
        trud.releases(341)


def test_persistent_5xx_with_html_body(local_server, trud, sleeps):
    local_server.route(releases_path(), local_server.reply(502, '<html><body>Bad gateway</body></html>'))
    with pytest.raises(TrudError, match='TRUD answered HTTP 502 for item 341.$'):
        trud.releases(341)
    assert len(local_server.requests) == 2
    assert len(sleeps.calls) == 1


def test_html_with_status_200_is_refused(local_server, trud):
    local_server.route(releases_path(), local_server.reply(200, '<html><body>Maintenance</body></html>'))
    with pytest.raises(TrudError, match='an HTML page'):
        trud.releases(341)


def test_body_snippet_in_a_parse_error_is_redacted(local_server, trud):
    local_server.route(releases_path(), local_server.reply(200, 'Proxy error for /keys/%s/items/341' % KEY))
    with pytest.raises(TrudError) as caught:
        trud.releases(341)
    assert_no_key(str(caught.value))


def test_not_ok_message_with_the_key_is_redacted(local_server, trud):
    body = listing_body(message='NOT FOUND: No releases found for API key %s, item 341.' % KEY)
    local_server.route(releases_path(), local_server.reply(200, body))
    with pytest.raises(TrudError) as caught:
        trud.releases(341)
    assert_no_key(str(caught.value))


def test_small_file_is_fetched_whole(local_server, trud):
    local_server.route('/sig.asc', local_server.reply(200, b'-----BEGIN PGP SIGNATURE-----'))
    assert trud.small_file(local_server.url('/sig.asc'), 'signature') == b'-----BEGIN PGP SIGNATURE-----'


def test_small_file_over_its_limit_is_refused(local_server, trud):
    local_server.route('/key.pgp', local_server.reply(200, b'x' * 2049))
    with pytest.raises(TrudError, match='The public key file is larger than the 2048 bytes allowed'):
        trud.small_file(local_server.url('/key.pgp'), 'public key', limit=2048)


def test_small_file_http_error_names_the_file(local_server, trud):
    local_server.route('/missing.xml', local_server.reply(404, 'NOT FOUND for key %s' % KEY))
    with pytest.raises(TrudError) as caught:
        trud.small_file(local_server.url('/missing.xml'), 'checksum')
    assert str(caught.value) == 'Could not download the checksum file of this release: HTTP 404.'
