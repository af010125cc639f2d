#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: mlds_release_version
short_description: Ensure a version of a SNOMED MLDS release package is present with its publishing state, or absent
version_added: 1.0.0
description:
  - Creates, updates or deletes a release version of an MLDS release package, and takes it online, offline
    or to alpha/beta with O(release_type).
  - Finds the version in the package by O(id) or O(name).
  - Compares only the options you set. An update reads the version, merges those options, and writes the
    whole version back with its C(releaseType), because MLDS replaces the whole field list (a field left
    out would be cleared, and a missing C(releaseType) fails). The legacy C(online) flag is never sent.
  - Can notify the member's affiliates by e-mail when this run takes the version online.
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
      - Only reads, and reports exactly what a real run would change (and whether it would notify).
  diff_mode:
    support: full
    details:
      - Shows the fields that change, before and after.
  idempotent:
    support: full
    details:
      - The notification is sent only by the run that takes the version online, so a second run sends nothing.
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
  id:
    description:
      - The version's C(releaseVersionId). With O(id), O(name) renames the version.
      - A version cannot be created with a chosen id. If the package has no version with this id,
        O(state=present) fails and O(state=absent) changes nothing.
      - At least one of O(id) and O(name) is required.
    type: int
  name:
    description:
      - The version name, for example V(2026-03-01). Without O(id), the version is found by this name.
      - MLDS allows duplicate names; when several versions of the package match, the module fails and
        lists their ids.
    type: str
  description:
    description:
      - The version description. HTML is allowed and stored verbatim.
    type: str
  summary:
    description:
      - A short summary, used in the syndication feed.
    type: str
  release_type:
    description:
      - The publishing state (C(releaseType)). V(online) makes the version visible to and downloadable by
        approved affiliates, V(alpha/beta) to affiliates as a pre-release, V(offline) to staff only.
      - A new version is created V(offline) when this is not set.
    type: str
    choices: [online, offline, alpha/beta]
  published_at:
    description:
      - The publication date, V(YYYY-MM-DD).
      - MLDS does not set it when a version goes online; set it here.
    type: str
  version_uri:
    description:
      - The version URI (C(versionURI)), for example C(http://snomed.info/sct/45991000052106/version/20260301).
    type: str
  version_dependent_uri:
    description:
      - The URI of the version this one depends on (C(versionDependentURI)), usually an International Edition.
    type: str
  version_dependent_derivative_uri:
    description:
      - The URI of a derivative this version depends on (C(versionDependentDerivativeURI)).
    type: str
  package_type:
    description:
      - The package type. The MLDS user interface offers V(SCT_RF2_ALL), V(SCT_RF2_SNAPSHOT), V(SCT_RF2_FULL)
        and V(OTHER); MLDS does not check the value.
    type: str
  archived:
    description:
      - Whether the version is archived (set through MLDS's archive endpoint, not the version update).
    type: bool
  notify_affiliates:
    description:
      - Send MLDS's notification e-mail to the member's affiliates when this run takes the version online,
        that is, when it creates the version V(online) or changes its O(release_type) to V(online).
      - MLDS sends the e-mail again on every notification request, so the module sends none when the
        version was online already.
    type: bool
    default: false
  state:
    description:
      - V(present) creates or updates the version; V(absent) deletes its files and then the version.
    type: str
    choices: [present, absent]
    default: present
  take_offline:
    description:
      - With O(state=absent), take an online version offline first, because MLDS refuses to delete an
        online version. Without it, deleting an online version fails.
    type: bool
    default: false
  wait_for_feed:
    description:
      - After the run, wait until MLDS's public feed (C(<url>/api/feed)) lists the version, so that the next task
        (or a feed-reading server) can rely on it. MLDS lists a version only when it is online, its package has a
        URI, it has a version URI and at least one file; a version that cannot appear fails at once, saying which.
      - Not in check mode, where nothing is published.
    type: bool
    default: false
  feed_timeout:
    description:
      - Seconds to wait with O(wait_for_feed) before failing. The feed is read every few seconds.
    type: float
    default: 300
  force:
    description:
      - Do what the MLDS web interface refuses, which this module refuses too by default.
      - Archiving a version that is (or is being set) V(online). MLDS's feed ignores the archive flag, so an
        archived online version stays in the feed and in affiliates' downloads.
      - Taking a version offline (or deleting it) while another version depends on it, that is, names its
        O(version_uri) as its O(version_dependent_uri) or O(version_dependent_derivative_uri). MLDS's dependency
        check decides; the dependants' consumers then miss the edition they need.
    type: bool
    default: false
requirements:
  - requests
notes:
  - Refused without O(force) (as in the MLDS web interface) are archiving an online version, and taking offline or
    deleting a version that other versions depend on. Check mode makes the same checks (they only read).
  - MLDS 6.x does not change the C(releaseType) of an archived version. When O(archived=false) and a new
    O(release_type) are set together, the module unarchives first; when archiving, it updates first.
seealso:
  - module: terminology.releases.mlds_release_package
  - module: terminology.releases.mlds_release_file
  - module: terminology.releases.mlds_release_info
'''

EXAMPLES = r'''
- name: Ensure the March release exists, offline while its files are added
  terminology.releases.mlds_release_version:
    username: "{{ mlds_username }}"
    password: "{{ mlds_password }}"
    package: SNOMED CT Swedish Extension
    member: SE
    name: "2026-03-01"
    description: "<p>March 2026 release of the Swedish extension.</p>"
    summary: March 2026
    published_at: "2026-03-01"
    version_uri: http://snomed.info/sct/45991000052106/version/20260301
    version_dependent_uri: http://snomed.info/sct/900000000000207008/version/20260201
    package_type: SCT_RF2_ALL
    release_type: offline

- name: Publish it and tell the affiliates, once
  terminology.releases.mlds_release_version:
    package: SNOMED CT Swedish Extension
    member: SE
    name: "2026-03-01"
    release_type: online
    notify_affiliates: true
  register: published

- name: Take the previous release offline and archive it (MLDS archives only versions that are not online)
  terminology.releases.mlds_release_version:
    package: "4101"
    name: "2025-09-01"
    release_type: offline
    archived: true

- name: Remove a withdrawn version, taking it offline and deleting its files first
  terminology.releases.mlds_release_version:
    package: "4101"
    id: 4103
    state: absent
    take_offline: true
'''

RETURN = r'''
version:
  description:
    - The version as MLDS holds it after the run, in snake_case, files sorted by id.
    - V(null) when the version is absent. In check mode, the version as it was read (V(null) before a create).
  returned: success
  type: dict
  contains:
    release_version_id:
      description: The version id.
      type: int
      sample: 4103
    name:
      description: The version name.
      type: str
    release_type:
      description: The publishing state, V(online), V(offline) or V(alpha/beta).
      type: str
    published_at:
      description: The publication date, V(YYYY-MM-DD), or V(null).
      type: str
    archive:
      description: Whether the version is archived.
      type: bool
    release_files:
      description: The version's files.
      type: list
      elements: dict
package_id:
  description: The id of the package the version belongs to.
  returned: success
  type: int
  sample: 4101
notified:
  description: Whether the affiliates were (or, in check mode, would be) notified by this run.
  returned: success
  type: bool
actions:
  description: What the run did (or, in check mode, would do), in order.
  returned: success
  type: list
  elements: str
  sample: ["update version 4103: release_type", "notify affiliates"]
in_feed:
  description: With O(wait_for_feed), V(true) once MLDS's feed lists the version (V(null) in check mode).
  returned: when O(wait_for_feed=true)
  type: bool
feed_wait_seconds:
  description: How long the module waited for the feed to list the version.
  returned: when O(wait_for_feed=true)
  type: float
'''

import time

from ansible_collections.terminology.releases.plugins.module_utils import (
    _argspec,
    _feed,
    _mlds,
    _mlds_fields,
    _mlds_select,
    _mlds_state,
)

# How often the feed is read while waiting for a version to appear in it.
FEED_POLL_SECONDS = 5.0
# The fields the version update writes (archive has its own endpoint).
PUT_FIELDS = tuple(field for field in _mlds_fields.VERSION_FIELDS if field.option != 'archived')
ARCHIVE_FIELD = tuple(field for field in _mlds_fields.VERSION_FIELDS if field.option == 'archived')


class VersionManager(_mlds.Manager):
    purpose = 'manage release versions'
    notified = False

    def desired(self):
        params = self.params
        return dict((field.option, params[field.option]) for field in _mlds_fields.VERSION_FIELDS)

    def run(self):
        params = self.params
        if params['published_at'] is not None and not _mlds_fields.valid_date(params['published_at']):
            raise _mlds.MldsError('published_at must be a date as YYYY-MM-DD, not %r.' % params['published_at'])
        package = _mlds_select.resolve_package(self.client, params['package'], params['member'])
        self.package_id = package['releasePackageId']
        if params['id'] is not None:
            current = _mlds_select.one_version(package, version_id=params['id'])
        else:
            current = _mlds_select.one_version(package, name=params['name'])
        if params['state'] == 'absent':
            outcome = self.absent(current)
        elif current is None:
            outcome = self.create(package)
        else:
            outcome = self.update(current)
        fields = dict(package_id=self.package_id, notified=self.notified)
        if params['wait_for_feed'] and params['state'] == 'present':
            fields['in_feed'], fields['feed_wait_seconds'] = self.wait_for_feed(package, outcome)
        return self.result(outcome, 'version', **fields)

    def wait_for_feed(self, package, outcome):
        """(True, seconds) once MLDS's feed lists the version; a clear failure when it never can, or not in time."""
        version = outcome['version']
        if self.check:
            return None, 0.0  # nothing was published: there is nothing to wait for
        if not _mlds_fields.is_online(version):
            raise _mlds.MldsError('wait_for_feed: version %s is %s, and MLDS lists only online versions in its feed.'
                                  % (version.get('releaseVersionId'), version.get('releaseType')))
        missing = [what for what, present in (
            ('the package has no release_package_uri', package.get('releasePackageURI')),
            ('the version has no version_uri', version.get('versionURI')),
            ('the version has no files', version.get('releaseFiles'))) if not present]
        if missing:
            raise _mlds.MldsError('wait_for_feed: MLDS lists a version in its feed only when its package has a URI, '
                                  'the version has a URI and at least one file, but %s.' % ' and '.join(missing))
        started = time.monotonic()
        deadline = started + self.params['feed_timeout']
        while True:
            data, source = _feed.load(self.client.api('/api/feed'), lambda: self.client.http)
            entries = _feed.parse_feed(data, source)['entries']
            if any(entry.get('version_uri') == version['versionURI'] for entry in entries):
                return True, round(time.monotonic() - started, 3)
            if time.monotonic() >= deadline:
                raise _mlds.MldsError('MLDS has not listed version %s (%s) in its feed %s after %g seconds; the '
                                      'version is online. The feed may be cached: raise feed_timeout, or check the '
                                      'package and version URIs.' % (version.get('releaseVersionId'),
                                                                     version['versionURI'], source,
                                                                     self.params['feed_timeout']))
            time.sleep(min(FEED_POLL_SECONDS, max(0.0, deadline - time.monotonic())))

    def create(self, package):
        params = self.params
        if params['id'] is not None:
            raise _mlds.MldsError('%s has no version with id %s. A version cannot be created with a chosen id: leave '
                                  'out id and give name to create one.'
                                  % (_mlds_select.sentence(_mlds_select.describe_package(package)), params['id']))
        desired = self.desired()
        if desired['release_type'] is None:
            desired['release_type'] = _mlds_fields.OFFLINE
        body = dict((field.key, desired[field.option]) for field in PUT_FIELDS if desired[field.option] is not None)
        after = dict((option, value) for option, value in desired.items() if value is not None)
        after['state'] = 'present'
        diff = {'before': {'state': 'absent'}, 'after': after}
        self.actions.append('create version %r (%s)' % (params['name'], desired['release_type']))
        if params['archived']:
            self.refuse_archiving_online(desired['release_type'], 'the new version %r' % params['name'])
            self.actions.append('archive the version')
        notify = params['notify_affiliates'] and desired['release_type'] == _mlds_fields.ONLINE
        if notify:
            self.actions.append('notify affiliates')
        if self.check:
            self.notified = notify
            return {'changed': True, 'version': None, 'diff': diff}
        created = self.client.create_version(self.package_id, body)
        version_id = created.get('releaseVersionId')
        if version_id is None:
            raise _mlds.MldsError('MLDS created the version but returned no releaseVersionId.')
        if params['archived']:
            self.client.set_archive(version_id, True)
        if notify:
            self.client.notify(self.package_id, version_id)
            self.notified = True
        return {'changed': True, 'version': self.client.version(self.package_id, version_id), 'diff': diff}

    def update(self, current):
        params = self.params
        version_id = current['releaseVersionId']
        desired = self.desired()
        if params['id'] is None:
            desired['name'] = None  # found by this name: nothing to rename
        differences = _mlds_state.compare(PUT_FIELDS, desired, current)
        put = bool(differences)
        _mlds_state.compare(ARCHIVE_FIELD, desired, current, differences)
        archive = 'archived' in differences
        going_online = ('release_type' in differences and desired['release_type'] == _mlds_fields.ONLINE
                        and not _mlds_fields.is_online(current))
        notify = params['notify_affiliates'] and going_online
        if not differences:
            return {'changed': False, 'version': current, 'diff': differences.diff()}
        if archive and params['archived']:
            self.refuse_archiving_online(desired['release_type'] or current.get('releaseType'),
                                         _mlds_select.describe_version(current))
        if ('release_type' in differences and _mlds_fields.is_online(current)
                and desired['release_type'] != _mlds_fields.ONLINE):
            self.refuse_if_depended_on(current, 'take it %s' % desired['release_type'])
        if archive and not params['archived']:
            self.actions.append('unarchive version %s' % version_id)
        if put:
            self.actions.append('update version %s: %s' % (
                version_id, ', '.join(name for name in differences.names if name != 'archived')))
        if archive and params['archived']:
            self.actions.append('archive version %s' % version_id)
        if notify:
            self.actions.append('notify affiliates')
        if self.check:
            self.notified = notify
            return {'changed': True, 'version': current, 'diff': differences.diff()}
        if archive and not params['archived']:
            self.client.set_archive(version_id, False)
        if put:
            if not current.get('releaseType') and desired['release_type'] is None:
                self.module.warn('Version %s has no releaseType. MLDS needs one in every update, so it is set to '
                                 'offline (which is how MLDS treats a missing one).' % version_id)
            body = _mlds_fields.version_put_body(_mlds_state.merge(PUT_FIELDS, desired, current))
            updated = self.client.update_version(self.package_id, version_id, body)
            wanted = desired['release_type']
            if wanted is not None and (updated.get('releaseType') or '').lower() != wanted:
                raise _mlds.MldsError(
                    'MLDS kept releaseType %r for version %s where %r was asked%s.'
                    % (updated.get('releaseType'), version_id, wanted,
                       ': MLDS 6.x does not change the releaseType of an archived version; set archived: false too'
                       if current.get('archive') else ''))
        if archive and params['archived']:
            self.client.set_archive(version_id, True)
        if notify:
            self.client.notify(self.package_id, version_id)
            self.notified = True
        return {'changed': True, 'version': self.client.version(self.package_id, version_id),
                'diff': differences.diff()}

    def refuse_archiving_online(self, release_type, described):
        if not self.params['force'] and (release_type or '').lower() == _mlds_fields.ONLINE:
            raise _mlds.MldsError('Refusing to archive %s while it is online, as the MLDS web interface does: MLDS '
                                  'keeps an archived online version in its feed and in downloads. Take it offline '
                                  'first (release_type: offline), or set force: true.'
                                  % described)

    def refuse_if_depended_on(self, current, action):
        if self.params['force'] or not current.get('versionURI'):
            return  # MLDS's check is false for a version without a versionURI
        if self.client.has_dependants(current['releaseVersionId']):
            raise _mlds.MldsError('Refusing to %s: other versions depend on %s (they name its versionURI %s as their '
                                  'edition or derivative dependency), and MLDS checks this before taking a version '
                                  'offline. Release or repoint the dependants first, or set force: true.'
                                  % (action, _mlds_select.describe_version(current), current['versionURI']))

    def absent(self, current):
        if current is None:
            return _mlds.already_absent('version')
        version_id = current['releaseVersionId']
        if _mlds_fields.is_online(current) and not self.params['take_offline']:
            raise _mlds.MldsError('%s is online. MLDS refuses to delete an online version; take it offline first, or '
                                  'set take_offline: true.'
                                  % _mlds_select.sentence(_mlds_select.describe_version(current)))
        files = sorted(current.get('releaseFiles') or [], key=lambda item: str(item.get('releaseFileId')))
        self.refuse_if_depended_on(current, 'delete it')
        if _mlds_fields.is_online(current):
            self.actions.append('take version %s offline' % version_id)
        for release_file in files:
            self.actions.append('delete file %s (%r)' % (release_file.get('releaseFileId'), release_file.get('label')))
        self.actions.append('delete version %s' % version_id)
        diff = {'before': {'state': 'present', 'name': current.get('name'), 'release_type': current.get('releaseType'),
                           'files': [item.get('label') for item in files]},
                'after': {'state': 'absent'}}
        if self.check:
            return {'changed': True, 'version': current, 'diff': diff}
        if _mlds_fields.is_online(current):
            body = _mlds_fields.version_put_body(current)
            body['releaseType'] = _mlds_fields.OFFLINE
            self.client.update_version(self.package_id, version_id, body)
        for release_file in files:
            self.client.delete_file(self.package_id, version_id, release_file['releaseFileId'])
        self.client.delete_version(self.package_id, version_id)
        return {'changed': True, 'version': None, 'diff': diff}


def main():
    module = _argspec.mlds_spec(
        _argspec.ArgumentSpec(required_one_of=[('id', 'name')]),
        package=dict(type='str', required=True),
        member=dict(type='str'),
        id=dict(type='int'),
        name=dict(type='str'),
        description=dict(type='str'),
        summary=dict(type='str'),
        release_type=dict(type='str', choices=list(_mlds_fields.RELEASE_TYPES)),
        published_at=dict(type='str'),
        version_uri=dict(type='str'),
        version_dependent_uri=dict(type='str'),
        version_dependent_derivative_uri=dict(type='str'),
        package_type=dict(type='str'),
        archived=dict(type='bool'),
        notify_affiliates=dict(type='bool', default=False),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        take_offline=dict(type='bool', default=False),
        force=dict(type='bool', default=False),
        wait_for_feed=dict(type='bool', default=False),
        feed_timeout=dict(type='float', default=300),
    ).create_module(supports_check_mode=True)
    _mlds.run_module(module, VersionManager)


if __name__ == '__main__':
    main()
