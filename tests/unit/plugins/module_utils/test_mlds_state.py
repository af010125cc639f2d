# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Desired-versus-current comparison of MLDS objects (_mlds_state): what changes, with before/after, and merging."""

from __future__ import annotations

import pytest

from ansible_collections.terminology.releases.plugins.module_utils import _mlds_fields, _mlds_state
from ansible_collections.terminology.releases.plugins.module_utils._mlds_state import Field

VERSION = {
    'releaseVersionId': 4103, 'id': '6a1f0c9e-0d8b-4b8e-9a57-1c2d3e4f5a6b',
    'createdAt': '2024-11-02T10:16:00.000Z', 'updatedAt': '2024-11-03T08:00:00.000Z',
    'lastUpdated': '2024-11-03T08:00:00.000Z', 'name': '2024-11-01', 'description': '<p>Nov release</p>',
    'summary': 'Nov', 'releaseType': 'online', 'online': False, 'publishedAt': '2024-11-01',
    'versionURI': 'http://snomed.info/sct/9999999/version/20241101', 'versionDependentURI': None,
    'versionDependentDerivativeURI': None, 'packageType': 'SCT_RF2_ALL', 'archive': False, 'releaseFiles': [],
}


def options(**values):
    desired = dict((field.option, None) for field in _mlds_fields.VERSION_FIELDS)
    desired.update(values)
    return desired


# ---- compare -------------------------------------------------------------------------------------

def test_unset_options_are_never_compared():
    assert not _mlds_state.compare(_mlds_fields.VERSION_FIELDS, options(), VERSION)


def test_equal_values_are_no_change():
    desired = options(description='<p>Nov release</p>', release_type='online', package_type='SCT_RF2_ALL',
                      archived=False)
    assert not _mlds_state.compare(_mlds_fields.VERSION_FIELDS, desired, VERSION)


def test_a_changed_field_is_reported_with_before_and_after():
    differences = _mlds_state.compare(_mlds_fields.VERSION_FIELDS, options(release_type='offline', summary='Nov'), VERSION)
    assert differences.names == ['release_type']
    assert differences.diff() == {'before': {'release_type': 'online'}, 'after': {'release_type': 'offline'}}
    assert 'release_type' in differences and 'summary' not in differences
    assert differences.get('release_type') == ('online', 'offline')


def test_html_is_compared_verbatim():
    # MLDS stores HTML exactly as sent: the UI's tag stripping is for display only.
    differences = _mlds_state.compare(_mlds_fields.VERSION_FIELDS, options(description='Nov release'), VERSION)
    assert differences.after() == {'description': 'Nov release'}
    differences = _mlds_state.compare(_mlds_fields.VERSION_FIELDS, options(description='<p>Nov release</p> '), VERSION)
    assert differences.names == ['description']


def test_null_and_empty_string_differ():
    differences = _mlds_state.compare(_mlds_fields.VERSION_FIELDS, options(version_dependent_uri=''), VERSION)
    assert differences.diff() == {'before': {'version_dependent_uri': None}, 'after': {'version_dependent_uri': ''}}


@pytest.mark.parametrize('key', sorted(_mlds_state.IGNORED_FIELDS))
def test_server_generated_fields_are_ignored_even_if_passed(key):
    fields = (Field('generated', key),)
    assert not _mlds_state.compare(fields, {'generated': 'something else'}, VERSION)


def test_server_generated_fields_are_not_merged():
    fields = (Field('uuid', 'id'), Field('summary', 'summary'))
    body = _mlds_state.merge(fields, {'uuid': 'mine', 'summary': 'New'}, VERSION)
    assert body['id'] == VERSION['id']
    assert body['summary'] == 'New'


@pytest.mark.parametrize('server, user', [('123', 123), (123, 123), ('123', '123'), (' 123', 123), (123.0, 123)])
def test_file_size_string_or_number_is_the_same(server, user):
    fields = (Field('file_size', 'fileSize', 'size'),)
    assert not _mlds_state.compare(fields, {'file_size': user}, {'fileSize': server})


@pytest.mark.parametrize('server', ['124', 124, None, '', 'abc'])
def test_a_different_file_size_is_a_change(server):
    fields = (Field('file_size', 'fileSize', 'size'),)
    differences = _mlds_state.compare(fields, {'file_size': 123}, {'fileSize': server})
    assert differences.diff() == {'before': {'file_size': server}, 'after': {'file_size': 123}}


def test_a_size_is_not_a_bool():
    assert not _mlds_state.same('size', True, 1)


def test_member_is_compared_by_key():
    fields = (Field('member', 'member', 'member'),)
    current = {'member': {'memberId': 7, 'key': 'SE', 'name': 'Sweden', 'createdAt': '2014-08-01T00:00:00Z'}}
    assert not _mlds_state.compare(fields, {'member': 'SE'}, current)
    differences = _mlds_state.compare(fields, {'member': 'DK'}, current)
    assert differences.diff() == {'before': {'member': 'SE'}, 'after': {'member': 'DK'}}


def test_booleans_compare_strictly_and_null_differs_from_false():
    fields = (Field('primary_file', 'primaryFile', 'bool'),)
    assert not _mlds_state.compare(fields, {'primary_file': False}, {'primaryFile': False})
    assert _mlds_state.compare(fields, {'primary_file': False}, {'primaryFile': None})
    assert _mlds_state.compare(fields, {'primary_file': True}, {'primaryFile': False})


def test_absent_object_makes_every_set_option_a_change():
    differences = _mlds_state.compare(_mlds_fields.VERSION_FIELDS, options(name='v1', release_type='offline'), None)
    assert differences.after() == {'name': 'v1', 'release_type': 'offline'}
    assert differences.before() == {'name': None, 'release_type': None}


def test_merge_keeps_every_current_field_and_writes_only_set_options():
    body = _mlds_state.merge(_mlds_fields.VERSION_FIELDS, options(summary='Changed'), VERSION)
    expected = dict(VERSION)
    expected['summary'] = 'Changed'
    assert body == expected
    assert VERSION['summary'] == 'Nov'  # the current object is not modified


def test_merge_leaves_member_and_priority_to_the_caller():
    current = {'name': 'P', 'member': {'memberId': 7, 'key': 'SE'}, 'priority': 3}
    body = _mlds_state.merge(_mlds_fields.PACKAGE_FIELDS, {'member': 'DK', 'priority': 1, 'name': 'Q'}, current)
    assert body == {'name': 'Q', 'member': {'memberId': 7, 'key': 'SE'}, 'priority': 3}


def test_compare_skips_priority_fields():
    assert not _mlds_state.compare(_mlds_fields.PACKAGE_FIELDS, {'priority': 1}, {'priority': 3})


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        Field('x', 'x', 'colour')


def test_differences_collect_into_an_existing_tracker():
    differences = _mlds_state.Differences()
    differences.add('license', None, {'size': 3})
    _mlds_state.compare(_mlds_fields.VERSION_FIELDS, options(summary='x'), VERSION, differences)
    assert differences.names == ['license', 'summary']
    assert len(differences) == 2
