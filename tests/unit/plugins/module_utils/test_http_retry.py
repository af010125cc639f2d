# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Retry-After parsing, backoff delays and HttpClient retries against a real local server."""

from __future__ import annotations

import email.utils

import pytest

from ansible_collections.terminology.releases.plugins.module_utils._http import (
    MAX_BACKOFF_SECONDS,
    MAX_RETRY_AFTER_SECONDS,
    USER_AGENT,
    HttpError,
    RetryPolicy,
    TlsError,
    TransportError,
    is_retryable_status,
    retry_after_seconds,
)

NOW = 1767225600.0  # 2026-01-01T00:00:00Z


# ---- retry_after_seconds -----------------------------------------------------------------------

@pytest.mark.parametrize('value, seconds', [('0', 0.0), ('7', 7.0), (' 120 ', 120.0), ('86400', 86400.0)])
def test_retry_after_delta_seconds(value, seconds):
    assert retry_after_seconds(value) == seconds


def test_retry_after_http_date_in_the_future():
    value = email.utils.formatdate(NOW + 90, usegmt=True)
    assert value.endswith(' GMT')
    assert retry_after_seconds(value, now=NOW) == pytest.approx(90.0)


def test_retry_after_http_date_in_the_past_is_zero():
    assert retry_after_seconds(email.utils.formatdate(NOW - 3600, usegmt=True), now=NOW) == 0.0


def test_retry_after_rfc850_date():
    assert retry_after_seconds('Thursday, 01-Jan-26 00:01:00 GMT', now=NOW) == pytest.approx(60.0)


@pytest.mark.parametrize('value', [None, '', '   ', 'soon', '-5', '1.5', 'Thu, 99 Foo 2026 00:00:00 GMT'])
def test_retry_after_unusable(value):
    assert retry_after_seconds(value, now=NOW) is None


# ---- RetryPolicy -------------------------------------------------------------------------------

def test_backoff_doubles_from_the_base():
    policy = RetryPolicy(retries=5, backoff=0.5)
    assert [policy.delay(attempt) for attempt in range(4)] == [0.5, 1.0, 2.0, 4.0]


def test_backoff_is_capped():
    assert RetryPolicy(backoff=1.0).delay(20) == MAX_BACKOFF_SECONDS


def test_retry_after_wins_over_backoff():
    assert RetryPolicy(backoff=1.0).delay(3, retry_after=2.0) == 2.0


def test_retry_after_zero_is_honoured():
    assert RetryPolicy(backoff=1.0).delay(0, retry_after=0.0) == 0.0


def test_retry_after_is_capped():
    assert RetryPolicy().delay(0, retry_after=86400.0) == MAX_RETRY_AFTER_SECONDS


def test_wait_sleeps_for_the_delay(sleeps):
    policy = RetryPolicy(retries=3, backoff=1.0, sleep=sleeps)
    policy.wait(0)
    policy.wait(2)
    policy.wait(1, retry_after=9999.0)
    assert sleeps.calls == [1.0, 4.0, MAX_RETRY_AFTER_SECONDS]


def test_negative_settings_are_clamped():
    policy = RetryPolicy(retries=-2, backoff=-1)
    assert policy.retries == 0
    assert policy.delay(3) == 0.0


@pytest.mark.parametrize('status, retryable', [
    (408, True), (429, True), (500, True), (502, True), (503, True), (504, True), (599, True),
    (400, False), (401, False), (403, False), (404, False), (409, False), (416, False), (200, False), (302, False),
])
def test_retryable_statuses(status, retryable):
    assert is_retryable_status(status) is retryable


# ---- HttpClient.request ------------------------------------------------------------------------

def test_503_and_429_are_retried_then_succeed(local_server, make_http, sleeps):
    reply = local_server.reply
    local_server.route('/r', reply(503, 'busy', {'Retry-After': '7'}), reply(429, 'slow down', {'Retry-After': '3'}), reply(200, 'ok'))
    response = make_http(retries=3).request('GET', local_server.url('/r'))
    assert response.status_code == 200
    assert response.text == 'ok'
    assert len(local_server.requests) == 3
    assert sleeps.calls == [7.0, 3.0]


def test_5xx_without_retry_after_backs_off(local_server, make_http, sleeps):
    reply = local_server.reply
    local_server.route('/r', reply(500), reply(502), reply(504), reply(200, 'ok'))
    assert make_http(retries=3, backoff=0.25).request('GET', local_server.url('/r')).text == 'ok'
    assert sleeps.calls == [0.25, 0.5, 1.0]


def test_huge_retry_after_is_capped(local_server, make_http, sleeps):
    reply = local_server.reply
    local_server.route('/r', reply(503, headers={'Retry-After': '100000'}), reply(200, 'ok'))
    make_http(retries=1).request('GET', local_server.url('/r'))
    assert sleeps.calls == [MAX_RETRY_AFTER_SECONDS]


def test_404_is_not_retried(local_server, make_http, sleeps):
    local_server.route('/r', local_server.reply(404, 'nope'), local_server.reply(200, 'too late'))
    with pytest.raises(HttpError) as caught:
        make_http(retries=3).request('GET', local_server.url('/r'))
    assert caught.value.status == 404
    assert caught.value.body == 'nope'
    assert len(local_server.requests) == 1
    assert sleeps.calls == []


def test_post_is_never_retried(local_server, make_http, sleeps):
    local_server.route('/r', local_server.reply(503, 'busy', {'Retry-After': '1'}), local_server.reply(200, 'ok'))
    with pytest.raises(HttpError) as caught:
        make_http(retries=3).request('POST', local_server.url('/r'), idempotent=False, data=b'payload')
    assert caught.value.status == 503
    assert [seen.method for seen in local_server.requests] == ['POST']
    assert sleeps.calls == []


def test_non_idempotent_transport_error_is_not_retried(closed_port, make_http, sleeps):
    with pytest.raises(TransportError):
        make_http(retries=3).request('POST', 'http://127.0.0.1:%d/r' % closed_port, idempotent=False)
    assert sleeps.calls == []


def test_gives_up_after_the_retries(local_server, make_http, sleeps):
    local_server.route('/r', local_server.reply(503, 'still busy'))
    with pytest.raises(HttpError) as caught:
        make_http(retries=2).request('GET', local_server.url('/r'))
    assert caught.value.status == 503
    assert caught.value.body == 'still busy'
    assert len(local_server.requests) == 3
    assert sleeps.calls == [1.0, 2.0]


def test_zero_retries_means_one_attempt(local_server, make_http, sleeps):
    local_server.route('/r', local_server.reply(503))
    with pytest.raises(HttpError):
        make_http(retries=0).request('GET', local_server.url('/r'))
    assert len(local_server.requests) == 1
    assert sleeps.calls == []


def test_transport_errors_are_retried_then_raised(closed_port, make_http, sleeps):
    with pytest.raises(TransportError):
        make_http(retries=2).request('GET', 'http://127.0.0.1:%d/r' % closed_port)
    assert sleeps.calls == [1.0, 2.0]


def test_tls_failures_are_not_retried(local_server, make_http, sleeps):
    # TLS to a plain-HTTP port fails the handshake, as a refused certificate does: no retry can help.
    local_server.route('/r', local_server.reply(200, 'ok'))
    with pytest.raises(TlsError) as caught:
        make_http(retries=3).request('GET', local_server.url('/r').replace('http://', 'https://'))
    assert 'ca_path' in str(caught.value)
    assert sleeps.calls == []


def test_expected_statuses_are_returned_without_retry(local_server, make_http):
    local_server.route('/r', local_server.reply(204))
    assert make_http().request('GET', local_server.url('/r'), expected=(200, 204)).status_code == 204
    assert len(local_server.requests) == 1


def test_requests_carry_the_user_agent_and_identity_encoding(local_server, make_http):
    local_server.route('/r', local_server.reply(200, 'ok'))
    make_http().request('GET', local_server.url('/r'))
    headers = local_server.requests[0].headers
    assert headers['User-Agent'] == USER_AGENT
    assert headers['Accept-Encoding'] == 'identity'


def test_error_keeps_status_and_headers(local_server, make_http):
    local_server.route('/r', local_server.reply(409, 'conflict', {'X-Why': 'duplicate'}))
    with pytest.raises(HttpError) as caught:
        make_http().request('PUT', local_server.url('/r'), idempotent=False)
    assert caught.value.status == 409
    assert caught.value.headers['X-Why'] == 'duplicate'
    assert str(caught.value) == 'PUT %s answered HTTP 409' % local_server.url('/r')
