# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Secrets never leave in any form: the Redactor, and HttpClient error texts over real sockets."""

from __future__ import annotations

import base64
import traceback
from urllib.parse import quote, quote_plus

import pytest

from ansible_collections.terminology.releases.plugins.module_utils._http import (
    REDACTED,
    BasicAuth,
    HttpError,
    Redactor,
    TransportError,
    basic_token,
    origin_of,
    warn_cleartext,
)
from ansible_collections.terminology.releases.plugins.module_utils._trud import TrudClient, TrudError, listing_url

KEY = 'k+y/=&s3cret KEY'


def every_form(secret):
    return {
        'plain': secret,
        'quote': quote(secret),
        'quote_nothing_safe': quote(secret, safe=''),
        'quote_plus': quote_plus(secret),
        'base64': base64.b64encode(secret.encode('utf-8')).decode('ascii'),
    }


def assert_no_key(text, secret=KEY):
    for kind, form in every_form(secret).items():
        assert form not in text, '%s form of the key leaked: %s' % (kind, text)


def test_the_forms_really_differ():
    assert len(set(every_form(KEY).values())) == 5


@pytest.mark.parametrize('kind', sorted(every_form(KEY)))
def test_each_form_is_redacted(kind):
    form = every_form(KEY)[kind]
    text = 'before %s after' % form
    assert Redactor([KEY])(text) == 'before %s after' % REDACTED


def test_a_form_containing_another_is_replaced_whole():
    secret = 'abc&def'
    redact = Redactor([secret])
    assert redact('x=%s.' % quote_plus(secret)) == 'x=%s.' % REDACTED
    assert redact('%s|%s' % (secret, quote(secret, safe=''))) == '%s|%s' % (REDACTED, REDACTED)


def test_every_occurrence_is_redacted():
    assert Redactor(['s3cret'])('s3cret/s3cret?k=s3cret') == '/'.join([REDACTED, REDACTED]) + '?k=' + REDACTED


def test_several_secrets():
    redact = Redactor(['first-secret', 'second-secret'])
    assert redact('first-secret and second-secret') == '%s and %s' % (REDACTED, REDACTED)


def test_empty_secrets_are_ignored():
    assert Redactor(['', None])('nothing to hide') == 'nothing to hide'


def test_none_stays_none_and_other_values_become_text():
    redact = Redactor(['12345'])
    assert redact(None) is None
    assert redact(1234567) == '%s67' % REDACTED


def test_add_returns_a_wider_redactor_and_keeps_the_original():
    redact = Redactor(['s3cret'])
    wider = redact.add('user:pass', '')
    assert wider('s3cret user:pass') == '%s %s' % (REDACTED, REDACTED)
    assert redact('s3cret user:pass') == '%s user:pass' % REDACTED


def test_nested_data_is_redacted_everywhere():
    redact = Redactor([KEY])
    data = {
        'url': 'https://host/keys/%s/items' % quote(KEY, safe=''),
        'nested': {'list': ['ok', 'in a list: %s' % KEY, ('tuple', quote_plus(KEY))], 'number': 7, 'flag': True},
        KEY: 'the key as a dict key',
        'none': None,
    }
    result = redact.data(data)
    assert_no_key(repr(result))
    assert result['nested']['number'] == 7
    assert result['nested']['flag'] is True
    assert result['none'] is None
    assert result['nested']['list'][0] == 'ok'
    assert result['nested']['list'][2] == ['tuple', REDACTED]
    assert result[REDACTED] == 'the key as a dict key'


def test_data_leaves_the_input_unchanged():
    data = {'a': ['s3cret']}
    Redactor(['s3cret']).data(data)
    assert data == {'a': ['s3cret']}


# ---- HttpClient error texts over real sockets ---------------------------------------------------

def key_url(port, secret=KEY):
    return listing_url('http://127.0.0.1:%d/trud/api/v1' % port, secret, 341)


def full_text(exc):
    return ''.join(traceback.format_exception(exc))


def test_connection_refused_text_has_no_key(closed_port, make_http, sleeps):
    http = make_http(retries=1, redact=Redactor([KEY]))
    url = key_url(closed_port)
    assert quote(KEY, safe='') in url
    with pytest.raises(TransportError) as caught:
        http.request('GET', url)
    message = str(caught.value)
    assert message.startswith('GET http://127.0.0.1:%d/trud/api/v1/keys/%s/items/341/releases failed: ' % (closed_port, REDACTED))
    assert 'ConnectionError' in message
    assert_no_key(full_text(caught.value))
    assert len(sleeps.calls) == 1


def test_connection_refused_with_a_plain_key_in_the_path(closed_port, make_http):
    secret = '0123456789abcdef0123456789abcdef01234567'
    http = make_http(retries=0, redact=Redactor([secret]))
    with pytest.raises(TransportError) as caught:
        http.request('GET', 'http://127.0.0.1:%d/download/api/v1/keys/%s/content/items/341/a.zip' % (closed_port, secret))
    assert_no_key(full_text(caught.value), secret)
    assert '/keys/%s/content/items/341/a.zip' % REDACTED in str(caught.value)


def test_timeout_text_has_no_key(silent_port, make_http):
    http = make_http(retries=0, timeout=0.3, redact=Redactor([KEY]))
    with pytest.raises(TransportError) as caught:
        http.request('GET', key_url(silent_port))
    message = str(caught.value)
    assert 'timed out' in message.lower()
    assert_no_key(full_text(caught.value))


def test_trud_client_transport_error_has_no_key(closed_port, make_http):
    http = make_http(retries=0, redact=Redactor([KEY]))
    client = TrudClient(http, 'http://127.0.0.1:%d/trud/api/v1' % closed_port, KEY)
    with pytest.raises((TransportError, TrudError)) as caught:
        client.releases(341)
    assert_no_key(full_text(caught.value))


def test_http_error_url_and_body_are_redacted(local_server, make_http):
    local_server.route('*', local_server.reply(404, '{"message": "NOT FOUND: No releases found for API key %s, item 341."}' % KEY))
    http = make_http(retries=0, redact=Redactor([KEY]))
    with pytest.raises(HttpError) as caught:
        http.request('GET', key_url(local_server.port))
    error = caught.value
    assert error.status == 404
    assert str(error) == 'GET http://127.0.0.1:%d/trud/api/v1/keys/%s/items/341/releases answered HTTP 404' % (local_server.port, REDACTED)
    assert_no_key(error.body)
    assert 'API key %s, item 341' % REDACTED in error.body


def test_basic_auth_goes_only_to_its_origin():
    """A feed may link files on any host: credentials bound to the feed's origin are not sent elsewhere."""
    requests = pytest.importorskip('requests')
    auth = BasicAuth(basic_token('reader', 'secret'), origin=origin_of('https://mlds.example.org/api/feed'))
    expected = 'Basic ' + basic_token('reader', 'secret')
    for url, sent in (('https://mlds.example.org/api/releasePackages/1/download', True),
                      ('https://mlds.example.org:443/x', True),
                      ('https://files.example.net/x.zip', False),
                      ('http://mlds.example.org/x', False),
                      ('https://mlds.example.org:8443/x', False)):
        prepared = auth(requests.Request('GET', url).prepare())
        assert prepared.headers.get('Authorization') == (expected if sent else None), url
    unbound = BasicAuth(basic_token('reader', 'secret'))
    assert unbound(requests.Request('GET', 'https://anywhere.example/').prepare()).headers['Authorization'] == expected


@pytest.mark.parametrize('url, warned', [
    ('http://mlds.example.org/api', True),
    ('HTTP://mlds.example.org', True),
    ('https://mlds.example.org', False),
    ('http://127.0.0.1:8080/feed', False),
    ('http://localhost/feed', False),
    ('', False),
])
def test_credentials_over_plain_http_to_another_host_are_warned_about_once(url, warned):
    warnings = []
    warn_cleartext(warnings.append, url, 'the MLDS password')
    assert warnings == (['url uses plain http: the MLDS password crosses the network unencrypted with every request. '
                         'Use https.'] if warned else [])
