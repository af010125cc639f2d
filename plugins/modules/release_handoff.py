#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: release_handoff
short_description: Hand a verified release archive to a loader's watch folder, never visible half-written
version_added: 1.0.0
description:
  - Places an archive that is already on the host (for example one that M(terminology.releases.trud_release_fetch)
    verified) in a folder that a terminology loader watches, such as Snowstorm's release import folder, as
    O(dest)/O(name).
  - The file appears under O(name) whole or not at all. It is made under a hidden temporary name in O(dest) that
    does not end in O(name) (so not in C(.zip) either), then renamed over O(name). A loader that lists the folder
    on a timer and reads every C(.zip) it finds, without checking that the file has stopped growing, never reads a
    partial archive, even when the run is killed. What a killed run leaves behind is a hidden file, removed by the
    next run.
  - When O(dest) is on the same filesystem as O(src), the file is a hard link to O(src), which takes no space and
    no time. Otherwise (or with O(link=false)) it is a copy, checked against O(size) and O(sha256) as it is
    written, fsync'd before the rename, and given the modification time of O(src).
  - A file already at O(dest)/O(name) is in place when it is O(src) (the same inode) or a regular file with the size
    and modification time of O(src). A run with nothing to do reads no byte of the archive.
  - With O(state=absent), removes O(dest)/O(name) only when it is the hand-off of O(src) by the same test, so a file
    that someone else put there is left alone.
author:
  - terminology.releases contributors (@terminology-releases)
extends_documentation_fragment:
  - terminology.releases.attributes
  - terminology.releases.attributes.posix
attributes:
  check_mode:
    support: full
    details:
      - Reports whether the archive would be placed (or removed) and writes nothing. A missing O(src) is then
        reported as a change instead of an error, since an earlier task in check mode may not have fetched it.
  diff_mode:
    support: full
    details:
      - Shows what is at O(dest)/O(name) before and after.
  idempotent:
    support: full
options:
  src:
    description:
      - The archive on the host.
      - Required with O(state=present); with O(state=absent) and no O(src), the one in O(record).
    type: path
  dest:
    description:
      - The folder to place the archive in, for Snowstorm C(<release.storage.local.path>/<code system short name>).
      - Created (with its missing parents) when it does not exist, with O(directory_mode).
      - Required with O(state=present); with O(state=absent), either O(dest) and O(name) or O(record).
    type: path
  name:
    description:
      - The file name in O(dest). A plain file name, without a path separator, not starting with C(.).
    type: str
  state:
    description:
      - V(present) places the archive; V(absent) removes its hand-off.
    type: str
    choices: [present, absent]
    default: present
  sha256:
    description:
      - The SHA-256 the archive must have (hex). A copy is checked against it as it is written; a hard link shares
        the verified file and is not read.
    type: str
  size:
    description:
      - The size the archive must have, in bytes. Checked on O(src) (from its metadata) before placing it.
    type: int
  date_in_name:
    description:
      - Refuse a O(name) that does not end in C(.zip) with a last C(_)-separated part starting with a date
        (C(YYYYMMDD)), as Snowstorm's release import needs. A name it cannot read a date from stops Snowstorm
        importing anything of that code system.
    type: bool
    default: false
  link:
    description:
      - Place a hard link to O(src) when O(dest) is on the same filesystem. V(false) always copies.
      - A hard link shares the inode, so O(owner), O(group) and O(mode) apply to O(src) as well.
    type: bool
    default: true
  record:
    description:
      - A file in which to record where the archive was placed (JSON with C(src), C(path) and C(method)), for
        example in the release directory. With O(state=absent) and no O(dest) or O(name), the hand-off to remove is
        read from it.
    type: path
  owner:
    description:
      - The user that should own the placed file, by name or id.
    type: str
  group:
    description:
      - The group that should own the placed file, by name or id.
    type: str
  mode:
    description:
      - The permissions of the placed file, as an octal string such as V('0644').
    type: raw
    default: '0644'
  directory_mode:
    description:
      - The permissions of O(dest) when it is created.
    type: raw
    default: '0755'
notes:
  - Snowstorm reads the release date from the last C(_)-separated part of the file name; choose O(name) so that
    it starts with the date (C(YYYYMMDD)). The role P(terminology.releases.release_sync#role) does that for its
    C(snowstorm) layout.
seealso:
  - module: terminology.releases.trud_release_fetch
  - module: terminology.releases.release_unpack
'''

EXAMPLES = r'''
- name: Fetch the newest SNOMED CT UK Clinical Edition
  terminology.releases.trud_release_fetch:
    api_key: "{{ trud_api_key }}"
    item: 101
    dest: /srv/terminology/archives
  register: clinical

- name: Hand it to Snowstorm's release import folder for the code system SNOMEDCT-UK
  terminology.releases.release_handoff:
    src: "{{ clinical.path }}"
    dest: /srv/snowstorm/release-import/SNOMEDCT-UK
    name: "{{ clinical.path | basename }}"
    sha256: "{{ clinical.sha256 }}"
    size: "{{ clinical.size }}"
    owner: snowstorm
    mode: "0640"

- name: Copy it (never a hard link) to a second server's folder, refusing a name Snowstorm cannot date
  terminology.releases.release_handoff:
    src: "{{ clinical.path }}"
    dest: /srv/snowstorm-test/release-import/SNOMEDCT-UK
    name: "{{ clinical.path | basename }}"
    sha256: "{{ clinical.sha256 }}"
    date_in_name: true
    link: false
    record: /srv/terminology/archives/.handoff-test.json
'''

RETURN = r'''
path:
  description: The hand-off file, O(dest)/O(name).
  returned: success
  type: str
  sample: /srv/snowstorm/release-import/SNOMEDCT-UK/uk_sct2cl_40.4.0_20251001000001Z.zip
placed:
  description: Whether the archive was (or, in check mode, would be) placed in this run.
  returned: success
  type: bool
removed:
  description: Whether the hand-off was (or, in check mode, would be) removed, with O(state=absent).
  returned: success
  type: bool
reason:
  description:
    - Why the archive was placed, V(absent) or V(other file), or V(null) when it was in place already.
  returned: success
  type: str
  sample: absent
method:
  description:
    - How the file at O(dest)/O(name) holds the archive, V(link) (a hard link) or V(copy), or V(null) when
      there is none (or, in check mode, none yet).
  returned: success
  type: str
  sample: link
size:
  description: The archive's size in bytes (V(null) in check mode when O(src) is not there yet).
  returned: success
  type: int
'''

import os
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.terminology.releases.plugins.module_utils import _fs, _handoff, _module
from ansible_collections.terminology.releases.plugins.module_utils._errors import InputError


class Handoff:
    def __init__(self, module):
        self.module = module
        self.params = module.params

    def run(self):
        try:
            return self.remove() if self.params['state'] == 'absent' else self.present()
        except OSError as exc:
            raise _handoff.HandoffError('The hand-off failed: %s%s.' % (
                exc.strerror or exc, ' (%s)' % exc.filename if exc.filename else '')) from None

    def target(self):
        params = self.params
        if params['dest'] and params['name']:
            name = _fs.safe_file_name(params['name'], 'name', error=InputError)
            if params['date_in_name'] and not _handoff.snowstorm_date(name):
                raise InputError('name %s must end in .zip, with a last "_" part that starts with the release date '
                                 '(YYYYMMDD), such as uk_sct2cl_40.4.0_20251001000001Z.zip: Snowstorm reads the date '
                                 'from there and stops importing the code system at a name without one.' % name)
            return os.path.join(os.path.abspath(params['dest']), name)
        if params['state'] == 'present' or not params['record']:
            raise InputError('Give dest and name%s.' % ('' if params['state'] == 'present' else ', or record'))
        record = _handoff.read_record(params['record'])
        return record['path'] if record else None

    def source(self):
        """src, else (with state=absent) the archive the record names, or None."""
        if self.params['src']:
            return os.path.abspath(self.params['src'])
        record = _handoff.read_record(self.params['record']) if self.params['record'] else None
        return record['src'] if record else None

    def set_attributes(self, path, changed):
        params = self.params
        changed = self.module.set_owner_if_different(path, params['owner'], changed, expand=False)
        changed = self.module.set_group_if_different(path, params['group'], changed, expand=False)
        return self.module.set_mode_if_different(path, params['mode'], changed, expand=False)

    @staticmethod
    def describe(path, info, src_stat):
        if info is None:
            return {'path': path, 'state': 'absent'}
        return {'path': path, 'state': 'placed' if _handoff.same_file(src_stat, info) else 'other file',
                'size': info.st_size}

    def expected_sha256(self):
        value = (self.params['sha256'] or '').strip().lower()
        if value and (len(value) != 64 or value.strip('0123456789abcdef')):
            raise InputError('sha256 must be 64 hexadecimal digits.')
        return value or None

    def present(self):
        params, check = self.params, self.module.check_mode
        if not params['src']:
            raise InputError('Give src, the archive to hand off.')
        src = os.path.abspath(params['src'])
        dest = self.target()
        sha256 = self.expected_sha256()
        directory = os.path.dirname(dest)
        src_stat = _handoff.lstat_or_none(src)
        if src_stat is None or not stat.S_ISREG(src_stat.st_mode):
            if check and src_stat is None:
                return {'changed': True, 'path': dest, 'placed': True, 'removed': False, 'reason': 'absent',
                        'method': None, 'size': None}
            raise _handoff.HandoffError('src %s is not a file.' % src)
        if params['size'] is not None and src_stat.st_size != params['size']:
            raise _handoff.HandoffError('src %s has %d bytes, not the expected %d; it was not handed off.'
                                        % (src, src_stat.st_size, params['size']))
        changed = False
        if not os.path.isdir(directory):
            if os.path.lexists(directory):
                raise _handoff.HandoffError('dest %s exists and is not a directory.' % directory)
            changed = True
            if not check:
                os.makedirs(directory)
                self.module.set_mode_if_different(directory, params['directory_mode'], False, expand=False)
        dest_stat = _handoff.lstat_or_none(dest)
        why = _handoff.reason(src_stat, dest, dest_stat)
        before = self.describe(dest, dest_stat, src_stat)
        method = None
        if why:
            changed = True
            if not check:
                method = _handoff.place(src, dest, params['link'], sha256, src_stat.st_size,
                                        prepare=lambda temp: self.set_attributes(temp, True))
        else:
            changed = self.set_attributes(dest, changed)
            method = _handoff.method_of(src_stat, dest_stat)
        if params['record'] and method and not check:
            data = _handoff.record_bytes(src, dest, method)
            changed = _fs.write_if_different(params['record'], data) or changed
            changed = self.set_attributes(params['record'], changed)
        result = {'changed': changed, 'path': dest, 'placed': bool(why), 'removed': False, 'reason': why,
                  'method': method, 'size': src_stat.st_size}
        if self.module._diff:
            after = {'path': dest, 'state': 'placed', 'size': src_stat.st_size}
            result['diff'] = {'before': before, 'after': after, 'before_header': dest, 'after_header': dest}
        return result

    def remove(self):
        src = self.source()
        dest = self.target()
        if dest is None or src is None:
            return {'changed': False, 'path': None, 'placed': False, 'removed': False, 'reason': None,
                    'method': None, 'size': None}
        src_stat, dest_stat = _handoff.lstat_or_none(src), _handoff.lstat_or_none(dest)
        ours = _handoff.same_file(src_stat, dest_stat)
        if ours and not self.module.check_mode:
            _handoff.remove_placed(src, dest)
        result = {'changed': ours, 'path': dest, 'placed': False, 'removed': ours, 'reason': None, 'method': None,
                  'size': src_stat.st_size if src_stat else None}
        if self.module._diff:
            result['diff'] = {'before': self.describe(dest, dest_stat, src_stat),
                              'after': self.describe(dest, None if ours else dest_stat, src_stat),
                              'before_header': dest, 'after_header': dest}
        return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type='path'),
            dest=dict(type='path'),
            name=dict(type='str'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            sha256=dict(type='str'),
            size=dict(type='int'),
            date_in_name=dict(type='bool', default=False),
            link=dict(type='bool', default=True),
            record=dict(type='path'),
            owner=dict(type='str'),
            group=dict(type='str'),
            mode=dict(type='raw', default='0644'),
            directory_mode=dict(type='raw', default='0755'),
        ),
        required_together=[('dest', 'name')],
        supports_check_mode=True,
    )
    _module.warn_numeric_modes(module, 'mode', 'directory_mode')
    _module.run(module, Handoff(module).run)


if __name__ == '__main__':
    main()
