# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The real TRUD item-341 listing (shared/fixtures/trud/item-341-releases.json, read in place)."""

from __future__ import annotations

import collections
import json

import pytest

from ansible_collections.terminology.releases.plugins.module_utils._http import Redactor
from ansible_collections.terminology.releases.plugins.module_utils._trud import (
    TrudError,
    expected_sha256,
    has_signature_files,
    normalise,
    parse_listing,
    select_release,
    validate_release,
)

ITEM = 341


@pytest.fixture(scope='module')
def releases(trud_listing_bytes):
    return parse_listing(trud_listing_bytes, ITEM)


def test_listing_has_all_96_releases(releases):
    assert len(releases) == 96


def test_listing_is_newest_first(releases):
    dates = [release['releaseDate'] for release in releases]
    assert dates == sorted(dates, reverse=True)
    assert len(set(dates)) == len(dates)


def test_default_selection_is_the_newest(releases):
    newest = select_release(releases, ITEM)
    assert newest['releaseDate'] == max(release['releaseDate'] for release in releases)
    assert newest is releases[0]


def test_listing_parses_from_text_as_well_as_bytes(trud_listing_bytes):
    assert len(parse_listing(trud_listing_bytes.decode('ascii'), ITEM)) == 96


def test_every_release_validates(releases):
    for release in releases:
        validate_release(release)


def test_every_release_offers_signature_files(releases):
    assert all(has_signature_files(release) for release in releases)


def test_expected_sha256_is_lower_case_hex(releases):
    for release in releases:
        value = expected_sha256(release)
        assert value == release['archiveFileSha256'].lower()
        assert len(value) == 64


def test_normalise_drops_every_url_and_the_redaction_marker(releases):
    redact = Redactor(['not-in-the-fixture'])
    normalised = [normalise(release, redact) for release in releases]
    for item in normalised:
        assert not [key for key in item if key.endswith('_url') or key.endswith('Url')]
    text = json.dumps(normalised)
    assert '<REDACTED API KEY>' not in text
    assert '/keys/' not in text


def test_normalise_uses_snake_case_names(releases):
    item = normalise(releases[0], Redactor())
    assert item['archive_file_name'] == releases[0]['archiveFileName']
    assert item['archive_file_sha256'] == releases[0]['archiveFileSha256']
    assert item['release_date'] == releases[0]['releaseDate']
    assert item['archive_file_last_modified_timestamp'] == releases[0]['archiveFileLastModifiedTimestamp']
    assert item['public_key_id'] == releases[0]['publicKeyId']


def ods_releases(releases):
    return [release for release in releases if release['id'].startswith('ODS_')]


def test_old_ods_ids_are_not_archive_names(releases):
    old = ods_releases(releases)
    assert old, 'the fixture should hold releases with old ODS_ ids'
    for release in old:
        assert not release['id'].endswith('.zip')
        assert release['id'] != release['archiveFileName']


def test_select_by_old_ods_id(releases):
    wanted = ods_releases(releases)[-1]
    assert select_release(releases, ITEM, release_id=wanted['id']) is wanted


def test_select_old_release_by_archive_file_name(releases):
    wanted = ods_releases(releases)[0]
    assert select_release(releases, ITEM, release_id=wanted['archiveFileName']) is wanted


def test_select_new_release_by_id(releases):
    wanted = releases[3]
    assert wanted['id'] == wanted['archiveFileName']
    assert select_release(releases, ITEM, release_id=wanted['id']) is wanted


def test_select_by_release_date(releases):
    wanted = releases[40]
    assert select_release(releases, ITEM, release_date=wanted['releaseDate']) is wanted


def test_unknown_name_is_an_error(releases):
    with pytest.raises(TrudError, match=r"no release with release_name 'Release 99.0.0'"):
        select_release(releases, ITEM, name='Release 99.0.0')


def repeated_names(releases):
    counts = collections.Counter(release['name'] for release in releases)
    return dict((name, count) for name, count in counts.items() if count > 1)


def test_the_fixture_repeats_release_names(releases):
    # Versions restart every year, so names such as "Release 7.0.0" occur several times.
    assert len(repeated_names(releases)) >= 1


def test_ambiguous_name_lists_every_match(releases):
    for name, count in repeated_names(releases).items():
        with pytest.raises(TrudError) as caught:
            select_release(releases, ITEM, name=name)
        message = str(caught.value)
        assert 'has %d releases with release_name %r' % (count, name) in message
        assert 'release_id' in message
        for release in releases:
            if release['name'] == name:
                assert release['id'] in message
                assert release['releaseDate'] in message


def test_unknown_release_id_names_the_newest(releases):
    with pytest.raises(TrudError) as caught:
        select_release(releases, ITEM, release_id='hscorgrefdataxml_data_99.0.0_20990101000001.zip')
    message = str(caught.value)
    assert 'no release with release_id' in message
    assert releases[0]['id'] in message
    assert releases[5]['id'] not in message


def test_unknown_release_date(releases):
    with pytest.raises(TrudError, match=r"no release with release_date '1999-01-01'"):
        select_release(releases, ITEM, release_date='1999-01-01')


def test_no_releases_is_an_error():
    with pytest.raises(TrudError, match='Item 21 has no releases'):
        select_release([], 21)
