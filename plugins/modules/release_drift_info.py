#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: release_drift_info
short_description: Report which releases a host has and whether their archives still match their provenance
version_added: 1.0.0
description:
  - Looks at the releases kept under O(root) in the layout of the role P(terminology.releases.release_sync#role),
    C(<root>/<name>/<release directory>/) with C(<root>/<name>/current) pointing at the current one, and reports
    for each name the current release, its provenance record (C(provenance.json) in the release directory), every
    release directory present, and the problems found.
  - Checks the current release's archive against its record. The size is always compared, which costs one
    C(stat) and reads no archive byte. With O(rehash=true), the archive is also read once to compare its SHA-256.
  - Problems are reported, not raised, so that one run tells about a whole fleet. A name without a C(current)
    link, a link that leads outside C(<root>/<name>), a release without a record, an unreadable record, and a
    missing, resized or (with O(rehash)) altered archive are each one problem with a kind and a message.
  - The role's report mode (C(release_sync_mode=report)) runs this module on every host and compares the
    hosts with each other and with the newest upstream release.
author:
  - terminology.releases contributors (@terminology-releases)
extends_documentation_fragment:
  - terminology.releases.attributes
  - terminology.releases.attributes.info_module
  - terminology.releases.attributes.posix
options:
  root:
    description:
      - The directory that holds one directory per release name, the role's C(release_sync_root).
    type: path
    required: true
  names:
    description:
      - The release names to report on. A name without a directory under O(root) is reported with a problem of
        kind V(absent).
      - By default, every directory under O(root) whose name does not start with C(.).
    type: list
    elements: str
  rehash:
    description:
      - Also read the current archive of each name and compare its SHA-256 with the record's. This reads every
        current archive whole; without it, only sizes are compared.
    type: bool
    default: false
  expect:
    description:
      - The releases the host should have, one entry per name. For each, the module reports whether it is in place
        (RV(in_place)) and, when not, why (C(out_of_place) in its entry of RV(releases)).
      - A release is in place when C(current) points at O(expect[].release_dir), its provenance record has every
        field of O(expect[].record), its archive has the recorded size and was not modified after the record was
        written, the files and the unpacked tree asked for are there, and every file and directory of the release
        has O(owner), O(group) and O(mode) or O(directory_mode).
      - Only C(stat) calls and the small record files are read, never an archive byte (unless O(rehash)). The role
        P(terminology.releases.release_sync#role) asks this once per host and runs its per-release tasks only for
        the names not in place.
      - O(names) defaults to the names in O(expect).
    type: list
    elements: dict
    suboptions:
      name:
        description: The release name, a directory under O(root).
        type: str
        required: true
      release_dir:
        description: The release directory C(current) must point to.
        type: str
        required: true
      record:
        description:
          - Fields the provenance record must have. A mapping matches key by key (keys not given may be anything);
            other values match by value or by their text.
        type: dict
      files:
        description: Names of other files that must be in the release directory, as regular files with O(mode).
        type: list
        elements: str
      unpacked:
        description:
          - Whether the release directory must hold the complete tree that
            M(terminology.releases.release_unpack) made from this archive, in C(unpacked).
        type: bool
        default: false
      keep:
        description: The most release directories C(<root>/<name>) may hold (more means some are due for removal).
        type: int
      handoff:
        description:
          - A hand-off of the archive made by M(terminology.releases.release_handoff) that must be in place.
        type: dict
        suboptions:
          path:
            description:
              - Where the archive was handed off. It must be the archive itself (a hard link), or a regular file
                of its size and modification time (a copy), with O(mode).
            type: path
            required: true
          record:
            description: The record release_handoff keeps of it, which must record this hand-off.
            type: path
  owner:
    description: With O(expect), the owner (name or uid) every expected file and directory must have. Any, when not set.
    type: str
  group:
    description: With O(expect), the group (name or gid) every expected file and directory must have. Any, when not set.
    type: str
  mode:
    description: With O(expect), the mode of every expected file, as an octal string such as V('0644').
    type: str
  directory_mode:
    description: With O(expect), the mode of every expected directory, as an octal string such as V('0755').
    type: str
notes:
  - The module never writes and never changes what it reads. Check mode runs it as usual.
  - Only the current release's archive is checked against its record; the other release directories are listed
    with what their records say.
seealso:
  - module: terminology.releases.release_unpack
'''

EXAMPLES = r'''
- name: Report the releases kept under the role's root
  terminology.releases.release_drift_info:
    root: /srv/terminology/releases
  register: drift

- name: Show what is current, by name
  ansible.builtin.debug:
    msg: "{{ item.key }}: {{ item.value.current | default('none', true) }} ({{ item.value.problems | length }} problems)"
  loop: "{{ drift.releases | dict2items }}"
  loop_control:
    label: "{{ item.key }}"

- name: Compare the SHA-256 of the current clinical and drug archives with their records
  terminology.releases.release_drift_info:
    root: /srv/terminology/releases
    names: [clinical, drug]
    rehash: true
  register: deep

- name: Fail when an archive no longer matches its record
  ansible.builtin.assert:
    that: not deep.drifted
    fail_msg: "{{ deep.problems | map(attribute='message') | join(' ') }}"

- name: Ask whether the host is on the expected clinical release, with the role's attributes
  terminology.releases.release_drift_info:
    root: /srv/terminology/releases
    expect:
      - name: clinical
        release_dir: uk_sct2cl_41.2.0_20260304000001Z
        record:
          release_id: uk_sct2cl_41.2.0_20260304000001Z.zip
    mode: "0644"
    directory_mode: "0755"
  register: placed

- name: Say why it is not
  ansible.builtin.debug:
    msg: "{{ placed.releases.clinical.out_of_place }}"
  when: placed.in_place | length == 0
'''

RETURN = r'''
root:
  description: The root, as an absolute path.
  returned: success
  type: str
  sample: /srv/terminology/releases
releases:
  description: One entry per name, keyed by name.
  returned: success
  type: dict
  contains:
    name:
      description: The release name.
      type: str
      sample: clinical
    path:
      description: C(<root>/<name>).
      type: str
      sample: /srv/terminology/releases/clinical
    current:
      description: The release directory C(current) points to (its name), or V(null) when there is none.
      type: str
      sample: uk_sct2cl_41.2.0_20260304000001Z
    release_id:
      description: The current release's id, from its record (V(null) without a record).
      type: str
      sample: uk_sct2cl_41.2.0_20260304000001Z.zip
    release_date:
      description: The current release's date, from its record.
      type: str
      sample: '2026-03-04'
    set:
      description: The set the current release belongs to, from its record (V(null) when none).
      type: str
    record:
      description: The current release's provenance record as written, or V(null) without a readable one.
      type: dict
    problems:
      description:
        - What is wrong with this name, each with a C(kind), the C(path) concerned and a C(message).
        - Kinds are V(absent) (no directory for the name), V(no current), V(current outside), V(no record),
          V(bad record), V(missing), V(not a file), V(size) and V(sha256) (the last only with O(rehash)).
      type: list
      elements: dict
      sample:
        - kind: size
          path: /srv/terminology/releases/clinical/uk_sct2cl_41.2.0_20260304000001Z/uk_sct2cl_41.2.0_20260304000001Z.zip
          message: The archive ... has 1000 bytes; its provenance record says 1500000.
    releases:
      description:
        - Every release directory under C(<root>/<name>), sorted by name, with C(dir), C(current) (whether
          C(current) points to it), C(record) (whether it has a readable record) and, from the record, C(release_id),
          C(release_date) and C(set).
      type: list
      elements: dict
    in_place:
      description: Whether the release of O(expect) for this name is in place.
      returned: for the names in O(expect)
      type: bool
    out_of_place:
      description: Why the release of O(expect) for this name is not in place (empty when it is).
      returned: for the names in O(expect)
      type: list
      elements: str
      sample: [current is uk_sct2cl_41.1.0_20251119000001Z, not uk_sct2cl_41.2.0_20260304000001Z]
problems:
  description: Every problem of every name, each with the C(name) it belongs to added.
  returned: success
  type: list
  elements: dict
drifted:
  description: Whether any problem was found.
  returned: success
  type: bool
in_place:
  description: The names of O(expect) that are in place, in the order of O(expect).
  returned: when O(expect) is given
  type: list
  elements: str
  sample: [clinical]
rehashed:
  description: Whether archives were read to compare their SHA-256.
  returned: success
  type: bool
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.terminology.releases.plugins.module_utils import _in_place, _module, _provenance
from ansible_collections.terminology.releases.plugins.module_utils._errors import InputError


def current_dir(base, problems):
    """The name of the release directory current points to, or None (with the problem added)."""
    link = os.path.join(base, _in_place.CURRENT)
    if not os.path.lexists(link):
        problems.append(_provenance.problem('no current', link, '%s does not exist.' % link))
        return None
    target = os.path.realpath(link)
    if os.path.dirname(target) != os.path.realpath(base) or not os.path.isdir(target):
        problems.append(_provenance.problem('current outside', link, '%s does not point at a release directory of '
                                            '%s.' % (link, base)))
        return None
    return os.path.basename(target)


def read_record(directory):
    """(record or None, problem or None) of a release directory."""
    path = _provenance.record_path(directory)
    if not os.path.lexists(path):
        return None, _provenance.problem('no record', path, 'The release directory %s has no provenance record.'
                                         % directory)
    try:
        return _provenance.read(path), None
    except _provenance.ProvenanceError as exc:
        return None, _provenance.problem('bad record', path, str(exc))


def describe_name(root, name, rehash):
    base = os.path.join(root, name)
    entry = {'name': name, 'path': base, 'current': None, 'release_id': None, 'release_date': None, 'set': None,
             'record': None, 'problems': [], 'releases': []}
    problems = entry['problems']
    if not os.path.isdir(base):
        problems.append(_provenance.problem('absent', base, 'There is no release directory %s.' % base))
        return entry
    current = current_dir(base, problems)
    entry['current'] = current
    for directory in _in_place.release_dirs(base):
        record, _problem = read_record(os.path.join(base, directory))
        record = record or {}
        entry['releases'].append({'dir': directory, 'current': directory == current, 'record': bool(record),
                                  'release_id': record.get('release_id'), 'release_date': record.get('release_date'),
                                  'set': record.get('set')})
    if current is not None:
        directory = os.path.join(base, current)
        record, record_problem = read_record(directory)
        if record_problem:
            problems.append(record_problem)
        else:
            entry.update(record=record, release_id=record.get('release_id'), release_date=record.get('release_date'),
                         set=record.get('set'))
            problems.extend(_provenance.check(directory, record, rehash))
    return entry


def drift(module):
    params = module.params
    root = os.path.abspath(params['root'])
    names = params['names']
    expect = params['expect']
    if names is None and expect is not None:
        names = [entry['name'] for entry in expect]
    if names is None:
        names = [] if not os.path.isdir(root) else [entry for entry in sorted(os.listdir(root))
                                                    if not entry.startswith('.')
                                                    and os.path.isdir(os.path.join(root, entry))]
    for name in names:
        if not name or '/' in name or name in ('.', '..'):
            raise InputError('names: %r is not a release name (a directory name under root).' % name)
    releases = dict((name, describe_name(root, name, params['rehash'])) for name in names)
    problems = [dict(item, name=name) for name in names for item in releases[name]['problems']]
    result = {'changed': False, 'root': root, 'releases': releases, 'problems': problems, 'drifted': bool(problems),
              'rehashed': params['rehash']}
    if expect is not None:
        result['in_place'] = in_place(root, expect, releases, params)
    return result


def in_place(root, expect, releases, params):
    """The names of expect in place; each expected name's entry gets in_place and out_of_place."""
    attributes = _in_place.Attributes(params['owner'], params['group'], params['mode'], params['directory_mode'])
    names = []
    for expected in expect:
        entry = releases.get(expected['name'])
        if entry is None:
            raise InputError('expect: %s is not one of names.' % expected['name'])
        if not os.path.isdir(entry['path']):
            reasons = ['there is no directory %s' % entry['path']]
        else:
            reasons = _in_place.problems(root, expected, attributes, entry['current'], entry['record'])
        entry.update(in_place=not reasons, out_of_place=reasons)
        if not reasons:
            names.append(expected['name'])
    return names


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type='path', required=True),
            names=dict(type='list', elements='str'),
            rehash=dict(type='bool', default=False),
            expect=dict(type='list', elements='dict', options=dict(
                name=dict(type='str', required=True),
                release_dir=dict(type='str', required=True),
                record=dict(type='dict'),
                files=dict(type='list', elements='str'),
                unpacked=dict(type='bool', default=False),
                keep=dict(type='int'),
                handoff=dict(type='dict', options=dict(
                    path=dict(type='path', required=True),
                    record=dict(type='path'),
                )),
            )),
            owner=dict(type='str'),
            group=dict(type='str'),
            mode=dict(type='str'),
            directory_mode=dict(type='str'),
        ),
        supports_check_mode=True,
    )
    _module.run(module, lambda: drift(module))


if __name__ == '__main__':
    main()
