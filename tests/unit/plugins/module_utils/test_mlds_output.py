# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How MLDS objects appear in results (_mlds_output): snake_case keys, ids in order, credentials masked in URLs."""

from __future__ import annotations

import pytest
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.terminology.releases.plugins.module_utils import _mlds_output

from mlds_utest import PACKAGE


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
