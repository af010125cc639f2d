#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: mlds_release_file
short_description: Ensure a file entry of a SNOMED MLDS release version is present with its fields, or absent
version_added: 1.0.0
description:
  - Creates, updates or deletes a file entry of an MLDS release version. MLDS does not hold the file itself;
    the entry points to it (O(download_url)), and MLDS streams it to affiliates through its own download
    address.
  - Finds the file in the version by O(label), or by O(id).
  - Compares only the options you set. An update sends the whole file entry, as MLDS expects, with a PUT to
    the version's file collection.
  - Can compute the MD5 and size from a local copy of the file (O(checksum_from)), reading it once.
author:
  - terminology.releases contributors (@terminology-releases)
extends_documentation_fragment:
  - terminology.releases.mlds
  - terminology.releases.connection
  - terminology.releases.attributes
  - terminology.releases.attributes.actiongroup_mlds
attributes:
  check_mode:
    support: full
    details:
      - Only reads (including the local file of O(checksum_from)), and reports exactly what a real run would change.
  diff_mode:
    support: full
    details:
      - Shows the fields that change, before and after.
  idempotent:
    support: full
options:
  package:
    description:
      - The release package, by id or by name. A value of digits only is tried as an id first.
    type: str
    required: true
  member:
    description:
      - The member key of the package, to tell apart packages of the same name.
    type: str
  version:
    description:
      - The release version, by id or by name. A value of digits only is tried as an id first.
    type: str
    required: true
  id:
    description:
      - The file's C(releaseFileId). With O(id), O(label) renames the file.
      - A file cannot be created with a chosen id. If the version has no file with this id, O(state=present)
        fails and O(state=absent) changes nothing.
      - At least one of O(id) and O(label) is required.
    type: int
  label:
    description:
      - The file's label, as affiliates see it. Without O(id), the file is found by this label; when several
        files of the version have it, the module fails and lists their ids.
    type: str
  download_url:
    description:
      - Where MLDS fetches the file from when an affiliate downloads it, for example
        C(s3://bucket/se/SnomedCT_SE_20260301.zip) or an C(https) address. Required to create a file.
      - Only staff and admins can see this value.
    type: str
  md5_hash:
    description:
      - The file's MD5 (32 hexadecimal digits), which affiliates and M(terminology.releases.mlds_release_fetch)
        check the download against. Compared verbatim.
      - Mutually exclusive with O(checksum_from).
    type: str
  file_size:
    description:
      - The file's size in bytes. MLDS 5.2 stores it as a string and MLDS 6.x as a number; the module
        compares both forms as numbers and writes the form MLDS already uses for the file (a string for a
        new file).
      - Mutually exclusive with O(checksum_from).
    type: int
  primary_file:
    description:
      - Whether this is the version's primary file (the one the syndication feed lists). MLDS does not stop
        several files of a version from being primary.
    type: bool
  checksum_from:
    description:
      - A local copy of the file on the host. The module reads it once and uses its MD5 as O(md5_hash) and its
        size as O(file_size).
    type: path
  state:
    description:
      - V(present) creates or updates the file entry; V(absent) deletes it.
      - MLDS lets files be added to, changed in and removed from online versions.
    type: str
    choices: [present, absent]
    default: present
requirements:
  - requests
notes:
  - An update needs the current O(download_url), which MLDS shows only to staff and admins, so that the
    update does not clear it.
seealso:
  - module: terminology.releases.mlds_release_version
  - module: terminology.releases.mlds_release_fetch
'''

EXAMPLES = r'''
- name: Register the release archive, with its MD5 and size computed from the local copy
  terminology.releases.mlds_release_file:
    username: "{{ mlds_username }}"
    password: "{{ mlds_password }}"
    package: SNOMED CT Swedish Extension
    member: SE
    version: "2026-03-01"
    label: SnomedCT_ManagedServiceSE_PRODUCTION_SE1000052_20260301T120000Z.zip
    download_url: s3://ihtsdo-mlds/se/SnomedCT_ManagedServiceSE_PRODUCTION_SE1000052_20260301T120000Z.zip
    checksum_from: /srv/releases/SnomedCT_ManagedServiceSE_PRODUCTION_SE1000052_20260301T120000Z.zip
    primary_file: true

- name: Relabel a file found by id
  terminology.releases.mlds_release_file:
    package: "4101"
    version: "4103"
    id: 4105
    label: RF2 release (zip)

- name: Remove the release notes file
  terminology.releases.mlds_release_file:
    package: "4101"
    version: "2026-03-01"
    label: Release notes
    state: absent
'''

RETURN = r'''
file:
  description:
    - The file entry as MLDS holds it after the run, in snake_case.
    - V(null) when it is absent. In check mode, the entry as it was read (V(null) before a create).
  returned: success
  type: dict
  contains:
    release_file_id:
      description: The file id.
      type: int
      sample: 4105
    label:
      description: The label.
      type: str
    download_url:
      description: The storage address MLDS fetches the file from (staff and admins only).
      type: str
    client_download_url:
      description: The MLDS download path affiliates use, relative to the site root.
      type: str
      sample: /api/releasePackages/4101/releaseVersions/4103/releaseFiles/4105/download
    md5_hash:
      description: The MD5.
      type: str
    file_size:
      description: The size in bytes, as MLDS returns it (a string in MLDS 5.2, a number in 6.x).
      type: raw
    primary_file:
      description: Whether this is the primary file.
      type: bool
package_id:
  description: The id of the package.
  returned: success
  type: int
version_id:
  description: The id of the version.
  returned: success
  type: int
checksum:
  description: The MD5 and size computed from O(checksum_from), when it is set.
  returned: when O(checksum_from) is set
  type: dict
  contains:
    md5:
      description: The MD5 (lower-case hex).
      type: str
    size:
      description: The size in bytes.
      type: int
actions:
  description: What the run did (or, in check mode, would do).
  returned: success
  type: list
  elements: str
'''

from ansible_collections.terminology.releases.plugins.module_utils import (
    _argspec,
    _mlds,
    _mlds_fields,
    _mlds_select,
    _mlds_state,
)


class FileManager(_mlds.Manager):
    purpose = 'manage release files'
    checksum = None

    def desired(self):
        params = self.params
        desired = dict((field.option, params[field.option]) for field in _mlds_fields.FILE_FIELDS)
        if params['checksum_from'] is not None and params['state'] == 'present':
            md5, size = _mlds_fields.file_digest(params['checksum_from'])
            self.checksum = {'md5': md5, 'size': size}
            desired['md5_hash'], desired['file_size'] = md5, size
        if desired['md5_hash'] is not None and not _mlds_fields.valid_md5(desired['md5_hash']):
            raise _mlds.MldsError('md5_hash must be 32 hexadecimal digits, not %r.' % desired['md5_hash'])
        if desired['file_size'] is not None and desired['file_size'] < 0:
            raise _mlds.MldsError('file_size must not be negative.')
        return desired

    def run(self):
        params = self.params
        desired = self.desired()
        package = _mlds_select.resolve_package(self.client, params['package'], params['member'])
        version = _mlds_select.resolve_version(package, params['version'])
        self.package_id, self.version_id = package['releasePackageId'], version['releaseVersionId']
        if params['id'] is not None:
            current = _mlds_select.one_file(version, file_id=params['id'])
        else:
            current = _mlds_select.one_file(version, label=params['label'])
            desired['label'] = None  # found by this label: nothing to rename
        if params['state'] == 'absent':
            outcome = self.absent(current)
        elif current is None:
            outcome = self.create(version, desired)
        else:
            outcome = self.update(current, desired)
        result = self.result(outcome, 'file', package_id=self.package_id, version_id=self.version_id)
        if self.checksum is not None:
            result['checksum'] = self.checksum
        return result

    def create(self, version, desired):
        params = self.params
        if params['id'] is not None:
            raise _mlds.MldsError('%s has no file with id %s. A file cannot be created with a chosen id: leave out id '
                                  'and give label to create one.'
                                  % (_mlds_select.sentence(_mlds_select.describe_version(version)), params['id']))
        if not params['download_url']:
            raise _mlds.MldsError('download_url is needed to create the file %r: MLDS fetches the file from there '
                                  '(a file without one fails every download).' % params['label'])
        desired['label'] = params['label']
        body = {}
        for field in _mlds_fields.FILE_FIELDS:
            value = desired[field.option]
            if value is not None:
                body[field.key] = str(value) if field.kind == 'size' else value
        after = dict((option, value) for option, value in desired.items() if value is not None)
        after['state'] = 'present'
        diff = {'before': {'state': 'absent'}, 'after': after}
        self.actions.append('create file %r' % params['label'])
        if self.check:
            return {'changed': True, 'file': None, 'diff': diff}
        created = self.client.create_file(self.package_id, self.version_id, body)
        return {'changed': True, 'file': created, 'diff': diff}

    def update(self, current, desired):
        file_id = current['releaseFileId']
        differences = _mlds_state.compare(_mlds_fields.FILE_FIELDS, desired, current)
        if not differences:
            return {'changed': False, 'file': current, 'diff': differences.diff()}
        if 'downloadUrl' not in current and desired['download_url'] is None:
            raise _mlds.MldsError('MLDS did not show the download_url of file %s to this account (it shows it only to '
                                  'staff and admins), so an update would clear it. Use a staff or admin account, or '
                                  'set download_url.' % file_id)
        self.actions.append('update file %s: %s' % (file_id, ', '.join(differences.names)))
        if self.check:
            return {'changed': True, 'file': current, 'diff': differences.diff()}
        body = _mlds_fields.file_put_body(_mlds_state.merge(_mlds_fields.FILE_FIELDS, desired, current))
        if desired['file_size'] is not None:
            # Keep the type MLDS uses for this file: a string in 5.2, a number in 6.x.
            body['fileSize'] = (desired['file_size'] if isinstance(current.get('fileSize'), int)
                                and not isinstance(current.get('fileSize'), bool) else str(desired['file_size']))
        updated = self.client.update_file(self.package_id, self.version_id, body)
        return {'changed': True, 'file': updated, 'diff': differences.diff()}

    def absent(self, current):
        if current is None:
            return _mlds.already_absent('file')
        file_id = current['releaseFileId']
        self.actions.append('delete file %s (%r)' % (file_id, current.get('label')))
        diff = {'before': {'state': 'present', 'label': current.get('label')}, 'after': {'state': 'absent'}}
        if self.check:
            return {'changed': True, 'file': current, 'diff': diff}
        self.client.delete_file(self.package_id, self.version_id, file_id)
        return {'changed': True, 'file': None, 'diff': diff}


def main():
    module = _argspec.mlds_spec(
        _argspec.ArgumentSpec(required_one_of=[('id', 'label')],
                              mutually_exclusive=[('checksum_from', 'md5_hash'), ('checksum_from', 'file_size')]),
        package=dict(type='str', required=True),
        member=dict(type='str'),
        version=dict(type='str', required=True),
        id=dict(type='int'),
        label=dict(type='str'),
        download_url=dict(type='str'),
        md5_hash=dict(type='str'),
        file_size=dict(type='int'),
        primary_file=dict(type='bool'),
        checksum_from=dict(type='path'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
    ).create_module(supports_check_mode=True)
    _mlds.run_module(module, FileManager)


if __name__ == '__main__':
    main()
