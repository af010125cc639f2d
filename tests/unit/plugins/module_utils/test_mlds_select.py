# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Finding MLDS objects (_mlds_select): a package by id or name (and member) over real HTTP to the local server, a
version by id or name, a file by id, label or as the primary file."""

from __future__ import annotations

import pytest

from ansible_collections.terminology.releases.plugins.module_utils import _mlds_select
from ansible_collections.terminology.releases.plugins.module_utils._mlds import MldsError

from mlds_utest import PACKAGE
from mlds_utest import make_client, mlds  # noqa: F401 pylint: disable=unused-import


def test_resolve_package_tries_digits_as_an_id_first(mlds, make_client):
    mlds.route('GET /api/releasePackages/4101', mlds.json(PACKAGE))
    assert _mlds_select.resolve_package(make_client(), '4101')['name'] == 'Demo Extension'
    assert [seen.path for seen in mlds.requests] == ['/api/releasePackages/4101']


def test_resolve_package_falls_back_to_the_name(mlds, make_client):
    named = dict(PACKAGE, releasePackageId=5, name='2024')
    mlds.route('GET /api/releasePackages', mlds.json([PACKAGE, named]))
    assert _mlds_select.resolve_package(make_client(), '2024')['releasePackageId'] == 5


def test_resolve_package_checks_the_member_of_an_id(mlds, make_client):
    mlds.route('GET /api/releasePackages/4101', mlds.json(PACKAGE))
    with pytest.raises(MldsError, match='Release package 4101 belongs to member SE, not DK'):
        _mlds_select.resolve_package(make_client(), '4101', 'DK')


def test_an_ambiguous_name_lists_the_ids(mlds, make_client):
    twin = dict(PACKAGE, releasePackageId=4200, member={'memberId': 8, 'key': 'DK'})
    mlds.route('GET /api/releasePackages', mlds.json([PACKAGE, twin]))
    with pytest.raises(MldsError) as caught:
        _mlds_select.resolve_package(make_client(), 'Demo Extension')
    assert str(caught.value) == ("2 release packages are named 'Demo Extension': ids 4101 (member SE), 4200 (member "
                                 "DK). Choose one by id or by member.")
    assert _mlds_select.resolve_package(make_client(), 'Demo Extension', 'dk')['releasePackageId'] == 4200


def test_an_unknown_package_says_what_the_account_can_see(mlds, make_client):
    mlds.route('GET /api/releasePackages', mlds.json([PACKAGE]))
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
