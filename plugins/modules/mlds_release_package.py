#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: mlds_release_package
short_description: Ensure a SNOMED MLDS release package is present with the given fields, or absent
version_added: 1.0.0
description:
  - Creates, updates or deletes a release package on the SNOMED Member Licensing and Distribution
    Service (MLDS), for publishers such as member national release centres.
  - Finds the package by O(id), or by O(name) (within O(member) when given).
  - Compares only the options you set with what MLDS holds. An update reads the package, merges those
    options, and writes the whole package back, with its current C(priority) and C(member), because MLDS
    replaces the whole field list and would otherwise move the package or fail.
  - Uploads the licence file only when its bytes differ from the licence MLDS holds.
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
      - Only reads (packages, members, the current licence) and reports exactly what a real run would change.
  diff_mode:
    support: full
    details:
      - Shows the fields that change, before and after. The licence appears as its size and SHA-256.
  idempotent:
    support: full
options:
  id:
    description:
      - The package's C(releasePackageId). With O(id), O(name) renames the package.
      - A package cannot be created with a chosen id. If no package has this id, O(state=present) fails
        and O(state=absent) changes nothing.
      - At least one of O(id) and O(name) is required.
    type: int
  name:
    description:
      - The package name. Without O(id), the package is found by this name (and O(member) when set).
      - MLDS allows duplicate names. When several packages match, the module fails and lists their ids;
        choose one with O(id) or O(member).
    type: str
  member:
    description:
      - The key of the member the package belongs to, for example V(SE) or V(IHTSDO). It is looked up in
        C(/api/members) and sent as C(memberId) and C(key).
      - Without O(id), it also narrows the search by O(name).
      - Only admins choose the member. MLDS creates a staff user's package under the staff's own member and
        ignores a staff user's change of member. The module fails when MLDS keeps a different member than
        the one asked for.
    type: str
  description:
    description:
      - The package description. HTML is allowed and stored verbatim.
    type: str
  copyrights:
    description:
      - The copyright statement.
    type: str
  release_package_uri:
    description:
      - The package URI (C(releasePackageURI)), for example the module URI C(http://snomed.info/sct/45991000052106).
        The syndication feed lists only packages with one.
    type: str
  priority:
    description:
      - The rank the package should end up with among its member's packages. V(1) is the bottom; the top
        is the number of packages the member has.
      - MLDS renumbers the member's packages after every change, so a stored priority can differ from the
        value sent. This option names the result. It is clamped to the member's range (V(0) or less means
        the bottom, a number above the range means the top). The module works out which value to send so that
        MLDS stores exactly this rank. A second run then finds the package at that rank and changes nothing.
      - When not set, the package keeps its place. A new package starts at the bottom, as MLDS places it.
    type: int
  license_file:
    description:
      - A licence file on the host to upload as the package licence.
      - It is uploaded only when its bytes differ from the licence MLDS holds. A change of only the content
        type does not trigger an upload.
    type: path
  license_content_type:
    description:
      - The content type to upload O(license_file) with, for example V(application/pdf).
      - Defaults to the type of the file name's extension, or C(application/octet-stream).
    type: str
  state:
    description:
      - V(present) creates or updates the package; V(absent) deletes it (MLDS keeps a soft-deleted copy).
    type: str
    choices: [present, absent]
    default: present
  take_offline:
    description:
      - With O(state=absent), first take the package's online versions offline (set their C(releaseType) to
        V(offline)), because MLDS refuses to delete a package with an online version.
      - Without it, deleting a package with an online version fails and names the versions.
    type: bool
    default: false
requirements:
  - requests
notes:
  - Packages found by name are looked for in the package list. MLDS 6.x leaves packages without any
    non-archived version out of that list, so a package found only by name there may be created again. Use
    O(id) for such packages.
  - MLDS 5.2 refuses to delete a package with a version that still has the legacy C(online) flag, which no
    update clears. The module never sends that flag; the error explains when an old version carries it.
seealso:
  - module: terminology.releases.mlds_release_version
  - module: terminology.releases.mlds_release_info
'''

EXAMPLES = r'''
- name: Ensure the Swedish extension package exists, at the top of the member's list, with its licence
  terminology.releases.mlds_release_package:
    url: https://mlds.ihtsdotools.org
    username: "{{ mlds_username }}"
    password: "{{ mlds_password }}"
    name: SNOMED CT Swedish Extension
    member: SE
    description: "<p>The Swedish national extension.</p>"
    copyrights: "© 2026 Socialstyrelsen"
    release_package_uri: http://snomed.info/sct/45991000052106
    priority: 99
    license_file: files/se-affiliate-licence.pdf
  register: package

- name: Rename a package found by id
  terminology.releases.mlds_release_package:
    id: "{{ package.package.release_package_id }}"
    name: SNOMED CT Swedish Edition

- name: Delete a package, taking its online versions offline first
  terminology.releases.mlds_release_package:
    id: 4101
    state: absent
    take_offline: true

- name: Share the connection through module_defaults
  module_defaults:
    group/terminology.releases.mlds:
      username: "{{ mlds_username }}"
      password: "{{ mlds_password }}"
  block:
    - name: Ensure the package is present
      terminology.releases.mlds_release_package:
        name: Demo Extension
        member: SE
'''

RETURN = r'''
package:
  description:
    - The package as MLDS holds it after the run, in snake_case, with versions and files sorted by id.
    - V(null) when the package is absent. In check mode, the package as it was read (V(null) before a create).
  returned: success
  type: dict
  contains:
    release_package_id:
      description: The package id.
      type: int
      sample: 4101
    name:
      description: The package name.
      type: str
    description:
      description: The description, HTML as stored.
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
      description: The versions, as M(terminology.releases.mlds_release_info) returns them.
      type: list
      elements: dict
actions:
  description: What the run did (or, in check mode, would do), in order.
  returned: success
  type: list
  elements: str
  sample: ["create package 'Demo Extension'", "move package 4101 to priority 3", "upload licence"]
'''

import hashlib
import os

from ansible_collections.terminology.releases.plugins.module_utils import (
    _argspec,
    _mlds,
    _mlds_fields,
    _mlds_output,
    _mlds_priority,
    _mlds_select,
    _mlds_state,
)


def license_summary(data):
    if data is None:
        return None
    return {'size': len(data), 'sha256': hashlib.sha256(data).hexdigest()}


class PackageManager(_mlds.Manager):
    purpose = 'manage release packages'
    _packages = None

    def packages(self, fresh=False):
        if self._packages is None or fresh:
            self._packages = self.client.packages()
        return self._packages

    def find(self):
        params = self.params
        if params['id'] is not None:
            return self.client.package(params['id'], missing_ok=True)
        return _mlds_select.one_package(self.packages(), params['name'], params['member'])

    def desired(self, member):
        params = self.params
        return {
            'name': params['name'],
            'description': params['description'],
            'copyrights': params['copyrights'],
            'release_package_uri': params['release_package_uri'],
            'member': member['key'] if member else None,
        }

    def run(self):
        member = self.client.member(self.params['member']) if self.params['member'] else None
        current = self.find()
        if self.params['state'] == 'absent':
            outcome = self.absent(current)
        elif current is None:
            outcome = self.create(member)
        else:
            outcome = self.update(current, member)
        return self.result(outcome, 'package')

    # -- licence --

    def local_license(self):
        path = self.params['license_file']
        if path is None:
            return None
        try:
            with open(path, 'rb') as handle:
                data = handle.read(_mlds.MAX_LICENSE_BYTES + 1)
        except OSError as exc:
            raise _mlds.MldsError('Cannot read license_file %s: %s.' % (path, exc.strerror or exc)) from None
        if len(data) > _mlds.MAX_LICENSE_BYTES:
            raise _mlds.MldsError('license_file %s is larger than %d bytes.' % (path, _mlds.MAX_LICENSE_BYTES))
        return data

    def upload_license(self, package_id, data):
        path = self.params['license_file']
        content_type = self.params['license_content_type'] or _mlds_fields.guess_content_type(path)
        self.client.upload_license(package_id, os.path.basename(path), data, content_type)

    # -- priority --

    def ranking(self, member_key, fresh=False):
        return [(item.get('releasePackageId'), item.get('priority')) for item in
                _mlds_select.find_packages(self.packages(fresh), member=member_key or '')]

    # -- states --

    def create(self, member):
        params = self.params
        if params['id'] is not None:
            raise _mlds.MldsError('MLDS has no release package with id %s. A package cannot be created with a chosen '
                                  'id: leave out id and give name to create one.' % params['id'])
        desired = self.desired(member)
        body = dict((field.key, desired[field.option]) for field in _mlds_fields.PACKAGE_FIELDS
                    if field.kind == 'str' and desired.get(field.option) is not None)
        if member:
            body['member'] = _mlds_fields.member_ref(member)
        data = self.local_license()
        after = dict((option, value) for option, value in desired.items() if value is not None)
        after['state'] = 'present'
        self.actions.append('create package %r%s' % (params['name'], ' in member %s' % member['key'] if member else ''))
        if params['priority'] is not None:
            ranking = self.ranking(member['key']) if member else []
            target, _moves = _mlds_priority.priority_after_create(params['priority'], ranking)
            after['priority'] = target
        if data is not None:
            after['license'] = license_summary(data)
            self.actions.append('upload licence')
        diff = {'before': {'state': 'absent'}, 'after': after}
        if self.check:
            return {'changed': True, 'package': None, 'diff': diff}
        created = self.client.create_package(body)
        package_id = created.get('releasePackageId')
        if package_id is None:
            raise _mlds.MldsError('MLDS created the package but returned no releasePackageId.')
        if member and _mlds_fields.member_key(created) != member['key']:
            raise _mlds.MldsError(
                'MLDS created release package %s under member %s, not %s: staff accounts always create packages '
                'for their own member, and only an admin can choose another. The package was left in place; delete '
                'it or set member: %s.' % (package_id, _mlds_fields.member_key(created), member['key'],
                                           _mlds_fields.member_key(created)))
        if params['priority'] is not None:
            self.set_priority_after_create(created)
        if data is not None:
            self.upload_license(package_id, data)
        return {'changed': True, 'package': self.client.package(package_id), 'diff': diff}

    def set_priority_after_create(self, created):
        package_id = created['releasePackageId']
        key = _mlds_fields.member_key(created)
        ranking = self.ranking(key, fresh=True)
        if package_id not in dict(ranking):
            ranking.append((package_id, created.get('priority')))
        target, send = _mlds_priority.plan_priority(self.params['priority'], package_id, ranking)
        current = dict(ranking).get(package_id)
        if target == current:
            return
        self.actions.append('move package %s to priority %s' % (package_id, target))
        updated = self.client.update_package(package_id, _mlds_fields.package_put_body(
            created, self.member_of(created), send))
        self.check_priority(updated, target)

    def member_of(self, package):
        """The package's member with its id (needed in every PUT); looked up when the package lacks it."""
        member = package.get('member')
        if isinstance(member, dict) and member.get('memberId') is not None:
            return member
        key = _mlds_fields.member_key(package)
        if key is None:
            raise _mlds.MldsError('%s has no member; set member to give it one.'
                                  % _mlds_select.sentence(_mlds_select.describe_package(package)))
        return self.client.member(key)

    def check_priority(self, package, target):
        stored = package.get('priority')
        if target is not None and stored is not None and stored != target:
            self.module.warn('MLDS stored priority %s for release package %s where %s was expected; the package list '
                             'may have changed during the run.' % (stored, package.get('releasePackageId'), target))

    def update(self, current, member):
        params = self.params
        package_id = current['releasePackageId']
        desired = self.desired(member)
        if params['id'] is None:
            desired['name'] = None  # found by this name: nothing to rename
        differences = _mlds_state.compare(_mlds_fields.PACKAGE_FIELDS, desired, current)
        send = current.get('priority')
        target = None
        if params['priority'] is not None:
            key = member['key'] if member else _mlds_fields.member_key(current)
            ranking = self.ranking(key)
            if package_id not in dict(ranking):
                ranking.append((package_id, current.get('priority')))
            target, send = _mlds_priority.plan_priority(params['priority'], package_id, ranking)
            if target != current.get('priority'):
                differences.add('priority', current.get('priority'), target)
        fields_change = bool(differences)
        data = self.local_license()
        if data is not None:
            held = self.client.license(package_id)
            if held != data:
                differences.add('license', license_summary(held), license_summary(data))
        if not differences:
            return {'changed': False, 'package': current, 'diff': differences.diff()}
        if fields_change:
            self.actions.append('update package %s: %s' % (
                package_id, ', '.join(name for name in differences.names if name != 'license')))
        if 'license' in differences:
            self.actions.append('upload licence')
        if self.check:
            return {'changed': True, 'package': current, 'diff': differences.diff()}
        if fields_change:
            merged = _mlds_state.merge(_mlds_fields.PACKAGE_FIELDS, desired, current)
            body = _mlds_fields.package_put_body(merged, member or self.member_of(current), send)
            updated = self.client.update_package(package_id, body)
            if member and _mlds_fields.member_key(updated) != member['key']:
                raise _mlds.MldsError(
                    'MLDS kept release package %s in member %s instead of moving it to %s: only an admin can change '
                    'a package\'s member (MLDS ignores the member in a staff update). The other fields were updated.'
                    % (package_id, _mlds_fields.member_key(updated), member['key']))
            if target is not None:
                self.check_priority(updated, target)
        if 'license' in differences:
            self.upload_license(package_id, data)
        return {'changed': True, 'package': self.client.package(package_id), 'diff': differences.diff()}

    def absent(self, current):
        if current is None:
            return _mlds.already_absent('package')
        package_id = current['releasePackageId']
        versions = _mlds_output.sort_package(current).get('releaseVersions') or []
        online = [version for version in versions if _mlds_fields.is_online(version)]
        if online and not self.params['take_offline']:
            raise _mlds.MldsError(
                '%s has online versions: %s. MLDS refuses to delete a package with an online version; take them '
                'offline first, or set take_offline: true.'
                % (_mlds_select.sentence(_mlds_select.describe_package(current)),
                   ', '.join(_mlds_select.describe_version(version) for version in online)))
        for version in online:
            self.actions.append('take version %s offline' % version.get('releaseVersionId'))
        self.actions.append('delete package %s' % package_id)
        before = {'state': 'present', 'name': current.get('name'), 'member': _mlds_fields.member_key(current)}
        diff = {'before': before, 'after': {'state': 'absent'}}
        if self.check:
            return {'changed': True, 'package': current, 'diff': diff}
        for version in online:
            body = _mlds_fields.version_put_body(version)
            body['releaseType'] = _mlds_fields.OFFLINE
            self.client.update_version(package_id, version['releaseVersionId'], body)
        legacy = [version for version in versions if version.get('online') is True]
        on_409 = None
        if legacy:
            on_409 = ('MLDS 5.2 guards package deletes with the legacy "online" flag, which is still set on %s and '
                      'which no update can clear. Ask the MLDS administrators to clear it, or leave the package.'
                      % ', '.join(_mlds_select.describe_version(version) for version in legacy))
        self.client.delete_package(package_id, on_409=on_409)
        return {'changed': True, 'package': None, 'diff': diff}


def main():
    module = _argspec.mlds_spec(
        _argspec.ArgumentSpec(required_one_of=[('id', 'name')]),
        id=dict(type='int'),
        name=dict(type='str'),
        member=dict(type='str'),
        description=dict(type='str'),
        copyrights=dict(type='str'),
        release_package_uri=dict(type='str'),
        priority=dict(type='int'),
        license_file=dict(type='path'),
        license_content_type=dict(type='str'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        take_offline=dict(type='bool', default=False),
    ).create_module(supports_check_mode=True)
    _mlds.run_module(module, PackageManager)


if __name__ == '__main__':
    main()
