# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Release metadata quirks (tests/unit/fixtures/trud/quirks.json) and hostile values."""

from __future__ import annotations

import copy
import json
import os

import pytest
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.terminology.releases.plugins.module_utils._http import REDACTED, Redactor
from ansible_collections.terminology.releases.plugins.module_utils._trud import (
    TrudError,
    expected_sha256,
    has_signature_files,
    normalise,
    parse_listing,
    safe_file_name,
    select_release,
    validate_release,
)

QUIRKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'fixtures', 'trud', 'quirks.json')


@pytest.fixture
def listing(quirks):
    return parse_listing(json.dumps(quirks['listing']).encode('ascii'), 341)


def by_version(releases, version):
    return [release for release in releases if release['name'] == 'Release %s' % version][0]


def test_every_quirky_release_is_valid(listing):
    assert len(listing) == 4
    for release in listing:
        validate_release(release)


def test_lower_case_sha256_is_accepted_and_lowered(listing):
    release = by_version(listing, '3.0.0')
    assert release['archiveFileSha256'].islower()
    assert expected_sha256(release) == release['archiveFileSha256']


def test_upper_case_sha256_is_lowered(listing):
    release = by_version(listing, '2.0.0')
    assert release['archiveFileSha256'].isupper()
    assert expected_sha256(release) == release['archiveFileSha256'].lower()


def test_unknown_field_is_tolerated(listing):
    release = by_version(listing, '3.0.0')
    assert release['archiveFileSha1'] == '00'
    validate_release(release)
    assert expected_sha256(release) == release['archiveFileSha256']


def test_release_without_sha256_has_no_expected_sha256(listing):
    release = by_version(listing, '1.0.0')
    assert 'archiveFileSha256' not in release
    assert expected_sha256(release) is None
    assert normalise(release, Redactor())['archive_file_sha256'] is None


@pytest.mark.parametrize('value', ['', None])
def test_empty_sha256_means_none(listing, value):
    release = dict(by_version(listing, '2.0.0'), archiveFileSha256=value)
    validate_release(release)
    assert expected_sha256(release) is None


def test_old_id_without_support_files(listing):
    release = select_release(listing, 341, release_id='ODS_9.0.0_20200925000001')
    assert not has_signature_files(release)
    assert select_release(listing, 341, release_id=release['archiveFileName']) is release


def test_select_by_unique_name(listing):
    assert select_release(listing, 341, name='Release 1.0.0')['releaseDate'] == '2021-01-29'


def test_normalise_redacts_a_key_outside_urls(listing):
    release = dict(by_version(listing, '2.0.0'), name='Release for s3cret-key')
    normalised = normalise(release, Redactor(['s3cret-key']))
    assert normalised['name'] == 'Release for %s' % REDACTED
    assert 's3cret-key' not in json.dumps(normalised)


def test_normalise_drops_urls_of_every_shape(listing):
    for release in listing:
        assert not [key for key in normalise(release, Redactor()) if key.endswith('_url')]


@pytest.mark.parametrize('name, expected', [
    ('archiveFileSha256', 'archive_file_sha256'),
    ('archiveFileSizeBytes', 'archive_file_size_bytes'),
    ('publicKeyId', 'public_key_id'),
    ('id', 'id'),
])
def test_snake_case(name, expected):
    assert camel_dict_to_snake_dict({name: 1}) == {expected: 1}


def load_invalid_cases():
    # Parametrize needs the cases at collection time, before fixtures exist.
    with open(QUIRKS, 'r', encoding='utf-8') as handle:
        return [pytest.param(case, id=case['why']) for case in json.load(handle)['invalid']]


@pytest.mark.parametrize('case', load_invalid_cases())
def test_invalid_release_is_refused_clearly(quirks, case):
    release = copy.deepcopy(quirks['listing']['releases'][0])
    release.update(case.get('set', {}))
    for field in case.get('drop', []):
        del release[field]
    with pytest.raises(TrudError) as caught:
        validate_release(release)
    message = str(caught.value)
    assert case['error'] in message
    # The message quotes hostile values escaped: no raw control characters reach a terminal or log.
    assert not [char for char in message if ord(char) < 32 or ord(char) == 127]


@pytest.mark.parametrize('name', [
    'hscorgrefdataxml_data_7.0.0_20260731000001.zip',
    'CHC_JSON_v1.0.2.zip',
    'uk_sct2cl_33.0.0_20220511000001Z.zip',
    'a' * 251 + '.zip',
    'name with spaces.zip',
    'x..zip',
])
def test_plain_file_names_are_accepted(name):
    assert safe_file_name(name) == name


@pytest.mark.parametrize('name', ['../x.zip', 'x/../../y.zip', '.', '..', '.x', 'x\\y', 'x\ty', 'x\x00', 'a' * 256, None, 7, ''])
def test_safe_file_name_refuses(name):
    with pytest.raises(TrudError):
        safe_file_name(name)
