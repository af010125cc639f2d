# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Bounded reading: no answer from a broken or hostile server can fill the module's memory."""

from __future__ import annotations

import pytest

from ansible_collections.terminology.releases.plugins.module_utils._http import (
    MAX_ERROR_BODY_BYTES,
    HttpError,
)

LIMIT = 1024 * 1024
# Socket buffers on both sides hold a few MiB at most: anything near the endless body's cap means it was read.
SENT_AT_MOST = 32 * 1024 * 1024


def test_an_endless_body_is_read_only_up_to_the_limit(local_server, make_http):
    endless = local_server.endless(200)
    local_server.route('/listing', endless)
    response = make_http().request('GET', local_server.url('/listing'), limit=LIMIT)
    assert len(response.content) == LIMIT + 1  # one byte more than allowed: the caller knows to refuse
    assert response.content.startswith(b'{"releases": [')
    endless.wait_until_stopped()
    assert LIMIT < local_server.bytes_sent('/listing') < SENT_AT_MOST


def test_a_body_within_the_limit_is_whole(local_server, make_http):
    local_server.route('/small', local_server.reply(200, b'x' * 1000))
    response = make_http().request('GET', local_server.url('/small'), limit=1000)
    assert response.content == b'x' * 1000


def test_a_body_broken_while_read_is_retried(local_server, make_http, sleeps):
    data = b'{"releases": []}' * 10000
    local_server.route('/listing', local_server.file(data, drop_after=5000), local_server.file(data))
    response = make_http(retries=1).request('GET', local_server.url('/listing'), limit=LIMIT)
    assert response.content == data
    assert len(local_server.requests_for('/listing')) == 2
    assert sleeps.calls == [1.0]


def test_an_endless_error_body_is_quoted_from_its_start_only(local_server, make_http):
    endless = local_server.endless(404)
    local_server.route('/missing', endless)
    with pytest.raises(HttpError) as caught:
        make_http().request('GET', local_server.url('/missing'), limit=LIMIT)
    assert caught.value.status == 404
    assert 0 < len(caught.value.body) <= MAX_ERROR_BODY_BYTES + 1
    endless.wait_until_stopped()
    assert local_server.bytes_sent('/missing') < SENT_AT_MOST
