#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: mlds_release_info
short_description: Read SNOMED MLDS release packages with their versions and files
version_added: 1.0.0
description:
  - Reads the release packages of the SNOMED Member Licensing and Distribution Service (MLDS), each with
    its versions and their files.
  - Filters by package id, package name and member key.
  - Given O(package) and O(version), selects one version and one of its files with the same rules as
    M(terminology.releases.mlds_release_fetch) (an id tried first, then a name; the primary file unless O(label)
    or O(file_id) names another), and returns their ids, for example to pin a fetch on every host.
  - Returns the objects in snake_case, with versions and files sorted by id. No credential appears in the
    result, and a storage address with a user name or password in it has them masked.
  - What MLDS shows depends on the account. Staff and admins see every package, version and file, including
    offline versions and the files' storage addresses (C(download_url)). Affiliates and anonymous callers see
    only packages with an online (or alpha/beta) version, and only those versions.
author:
  - terminology.releases contributors (@terminology-releases)
extends_documentation_fragment:
  - terminology.releases.mlds
  - terminology.releases.connection
  - terminology.releases.attributes
  - terminology.releases.attributes.info_module
  - terminology.releases.attributes.actiongroup_mlds
options:
  id:
    description:
      - Only the package with this C(releasePackageId). A package that does not exist gives an empty list.
    type: int
  name:
    description:
      - Only packages with exactly this name.
    type: str
  member:
    description:
      - Only packages of the member with this key, for example V(SE) or V(IHTSDO) (not case-sensitive).
    type: str
  package:
    description:
      - The one package to read, by id or by name, as in M(terminology.releases.mlds_release_fetch). A value of
        digits is tried as an id first, then as a name. With O(member), a package of that member.
      - Unlike O(id) and O(name), a package that cannot be found (or more than one of that name) is an error.
    type: str
  version:
    description:
      - Select this version of O(package), by id or by name (digits are tried as an id first), and one of its
        files, and return their ids in RV(package_id), RV(version_id) and RV(file_id).
      - A version the account cannot see (affiliates see only online and alpha/beta versions) is an error.
    type: str
  label:
    description:
      - With O(version), select the file with this label instead of the version's primary file.
    type: str
  file_id:
    description:
      - With O(version), select the file with this id instead of the version's primary file.
    type: int
requirements:
  - requests
notes:
  - Without O(username) and O(password), the module reads anonymously.
  - Without O(label) or O(file_id), the selected file is the version's primary file, or its only file; a version
    with several files and no single primary file is an error that lists them.
seealso:
  - module: terminology.releases.mlds_release_fetch
  - module: terminology.releases.mlds_release_package
'''

EXAMPLES = r'''
- name: List the packages an affiliate account can download from
  terminology.releases.mlds_release_info:
    username: "{{ mlds_username }}"
    password: "{{ mlds_password }}"
  register: mlds

- name: Show the online versions of each package
  ansible.builtin.debug:
    msg: >-
      {{ item.name }}:
      {{ item.release_versions | selectattr('release_type', 'equalto', 'online') | map(attribute='name') | list }}
  loop: "{{ mlds.packages }}"
  loop_control:
    label: "{{ item.release_package_id }}"

- name: Read one member's packages
  terminology.releases.mlds_release_info:
    member: SE
  register: swedish

- name: Select a version and its primary file once, by name
  terminology.releases.mlds_release_info:
    username: "{{ mlds_username }}"
    password: "{{ mlds_password }}"
    package: SNOMED CT Swedish Extension
    member: SE
    version: "2026-03-01"
  register: selected

- name: Fetch exactly that file
  terminology.releases.mlds_release_fetch:
    username: "{{ mlds_username }}"
    password: "{{ mlds_password }}"
    package: "{{ selected.package_id }}"
    version: "{{ selected.version_id }}"
    file_id: "{{ selected.file_id }}"
    dest: /srv/terminology
'''

RETURN = r'''
packages:
  description: The packages that match, sorted by id, each with its versions and their files.
  returned: success
  type: list
  elements: dict
  contains:
    release_package_id:
      description: The package id.
      type: int
      sample: 4101
    name:
      description: The package name.
      type: str
      sample: SNOMED CT Swedish Extension
    description:
      description: The description, with its HTML as stored.
      type: str
    member:
      description: The member, as MLDS returns it (C(member_id), C(key), C(name), ...).
      type: dict
      sample: {member_id: 7, key: SE, name: Sweden}
    priority:
      description: The package's rank among its member's packages (higher is nearer the top).
      type: int
    copyrights:
      description: The copyright statement.
      type: str
    release_package_uri:
      description: The package URI.
      type: str
    created_at:
      description: When the package was created (ISO 8601).
      type: str
    release_versions:
      description: The versions the account may see, sorted by id.
      type: list
      elements: dict
      contains:
        release_version_id:
          description: The version id.
          type: int
        name:
          description: The version name.
          type: str
        description:
          description: The description.
          type: str
        summary:
          description: The summary.
          type: str
        release_type:
          description: The publishing state, V(online), V(offline) or V(alpha/beta).
          type: str
        published_at:
          description: The publication date, V(YYYY-MM-DD), or V(null).
          type: str
        version_uri:
          description: The version URI.
          type: str
        version_dependent_uri:
          description: The URI of the version it depends on.
          type: str
        version_dependent_derivative_uri:
          description: The URI of the derivative it depends on.
          type: str
        package_type:
          description: The package type, for example V(SCT_RF2_ALL).
          type: str
        archive:
          description: Whether the version is archived.
          type: bool
        release_files:
          description: The version's files, sorted by id.
          type: list
          elements: dict
          contains:
            release_file_id:
              description: The file id.
              type: int
            label:
              description: The label.
              type: str
            client_download_url:
              description: The MLDS download path, relative to the site root.
              type: str
            download_url:
              description: The storage address (staff and admins only).
              type: str
            md5_hash:
              description: The MD5 as listed.
              type: str
            file_size:
              description: The size as listed (a string in MLDS 5.2, a number in 6.x).
              type: raw
            primary_file:
              description: Whether this is the primary file.
              type: bool
  sample:
    - release_package_id: 4101
      name: SNOMED CT Swedish Extension
      member: {member_id: 7, key: SE, name: Sweden}
      priority: 3
      release_package_uri: http://snomed.info/sct/45991000052106
      release_versions:
        - release_version_id: 4103
          name: "2026-03-01"
          release_type: online
          published_at: "2026-03-01"
          archive: false
          release_files:
            - release_file_id: 4105
              label: SnomedCT_ManagedServiceSE_PRODUCTION_SE1000052_20260301T120000Z.zip
              client_download_url: /api/releasePackages/4101/releaseVersions/4103/releaseFiles/4105/download
              md5_hash: 0cc175b9c0f1b6a831c399e269772661
              file_size: "123456789"
              primary_file: true
package_id:
  description: The id of the selected package.
  returned: when O(version) is given
  type: int
  sample: 4101
version_id:
  description: The id of the selected version.
  returned: when O(version) is given
  type: int
  sample: 4103
file_id:
  description: The id of the selected file.
  returned: when O(version) is given
  type: int
  sample: 4105
version:
  description: The selected version, with its files, as in RV(packages[].release_versions).
  returned: when O(version) is given
  type: dict
  sample: {release_version_id: 4103, name: "2026-03-01", release_type: online, published_at: "2026-03-01"}
file:
  description: The selected file, as in RV(packages[].release_versions[].release_files).
  returned: when O(version) is given
  type: dict
  sample:
    release_file_id: 4105
    label: SnomedCT_ManagedServiceSE_PRODUCTION_SE1000052_20260301T120000Z.zip
    md5_hash: 0cc175b9c0f1b6a831c399e269772661
    primary_file: true
'''

from ansible_collections.terminology.releases.plugins.module_utils import _argspec, _mlds, _mlds_output, _mlds_select


class PackageReader(_mlds.Manager):
    """Reads packages; an account is optional (anonymous callers see what is online)."""

    def run(self):
        params = self.params
        if params['package'] is not None:
            package = _mlds_select.resolve_package(self.client, params['package'], params['member'])
            result = dict(changed=False, packages=[_mlds_output.to_output(package)])
            if params['version'] is not None:
                result.update(select(package, params))
            return result
        if params['id'] is not None:
            package = self.client.package(params['id'], missing_ok=True)
            packages = [package] if package is not None else []
        else:
            packages = self.client.packages()
        packages = _mlds_select.find_packages(packages, name=params['name'], member=params['member'])
        packages = sorted(packages, key=lambda item: _mlds_output.sort_key(item, 'releasePackageId'))
        return dict(changed=False, packages=[_mlds_output.to_output(package) for package in packages])


def select(package, params):
    """The version and file a fetch with the same options would download (the rules live in _mlds_select)."""
    version = _mlds_select.resolve_version(package, params['version'])
    release_file = _mlds_select.select_file(package, version, params['file_id'], params['label'])
    return dict(package_id=package.get('releasePackageId'), version_id=version.get('releaseVersionId'),
                file_id=release_file.get('releaseFileId'), version=_mlds_output.to_output(version),
                file=_mlds_output.to_output(release_file))


def main():
    module = _argspec.mlds_spec(
        _argspec.ArgumentSpec(mutually_exclusive=[('package', 'id'), ('package', 'name'), ('label', 'file_id')],
                              required_by={'version': 'package', 'label': 'version', 'file_id': 'version'}),
        id=dict(type='int'),
        name=dict(type='str'),
        member=dict(type='str'),
        package=dict(type='str'),
        version=dict(type='str'),
        label=dict(type='str'),
        file_id=dict(type='int'),
    ).create_module(supports_check_mode=True)
    _mlds.run_module(module, PackageReader)


if __name__ == '__main__':
    main()
