#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: release_unpack
short_description: Unpack a release zip archive safely and idempotently
version_added: 1.0.0
description:
  - Unpacks a zip archive on the host into a directory, refusing archives that could write outside it
    (zip slip) or exhaust the disk (zip bombs).
  - Judges the archive from its central directory before extracting anything. A member with an absolute path,
    a C(..) component, a backslash or control characters in its name is refused. So is a symbolic link,
    device or pipe member, an encrypted or duplicated member, or members whose data overlap. So is an archive
    that would unpack to more than O(max_size) bytes or O(max_files) members, or whose members (or the whole
    archive) inflate at a ratio above O(max_ratio).
  - Enforces the same limits again while extracting. It counts the bytes that really come out of each member,
    since a central directory can lie, and checks each member's declared size and CRC-32.
  - Extracts into a temporary directory beside O(dest), fsyncs the files, then renames it into place. A refused
    or failed archive leaves nothing behind, and a previous tree at O(dest) is replaced only by a complete one.
  - Records the archive's SHA-256 and the list of members in C(.release_unpack.json) inside O(dest). A run for
    the same archive, with the tree intact, changes nothing and reads no archive byte when O(sha256) is given.
author:
  - terminology.releases contributors (@terminology-releases)
extends_documentation_fragment:
  - terminology.releases.attributes
  - terminology.releases.attributes.posix
attributes:
  check_mode:
    support: full
    details:
      - Reads the archive's central directory, the record and the tree, and reports whether it would unpack,
        refusing an unsafe archive just as a real run would. Writes nothing.
  diff_mode:
    support: full
    details:
      - Shows the archive's SHA-256, the number of files and the unpacked size before and after.
  idempotent:
    support: full
options:
  src:
    description:
      - The zip archive on the host.
    type: path
    required: true
  dest:
    description:
      - The directory to unpack into. Its parent must exist. It is created, or replaced as a whole when it
        holds another archive's tree or a damaged one.
      - An existing directory that this module did not make (one without its record) is replaced only
        when it is empty; otherwise the module fails rather than delete what is in it.
      - The members are placed at their paths in the archive, under O(dest).
    type: path
    required: true
  sha256:
    description:
      - The SHA-256 the archive must have (hex), for example what M(terminology.releases.trud_release_fetch)
        verified.
      - When given, a run that has nothing to do compares it with the record and reads no archive byte, and a
        run that unpacks first checks the archive against it.
      - When not given, every run reads the whole archive once to compute its SHA-256.
    type: str
  max_size:
    description:
      - The most bytes the archive may unpack to, in total. Bytes, or a size with a unit such as V(500M) or
        V(32G) (powers of 1024).
    type: raw
    default: 32G
  max_ratio:
    description:
      - The highest compression ratio (unpacked size over compressed size) allowed, for each member of at
        least 1 MiB and for the whole archive. Terminology releases compress about 5 to 15 times; zip bombs
        hundreds or millions of times.
    type: float
    default: 100
  max_files:
    description:
      - The most members (files and directories) the archive may have.
    type: int
    default: 100000
  owner:
    description:
      - The user that should own the unpacked files and directories, by name or id.
      - By default they belong to the user the module runs as.
    type: str
  group:
    description:
      - The group that should own the unpacked files and directories, by name or id.
    type: str
  mode:
    description:
      - The permissions of the unpacked files, as an octal string such as V('0644') or a symbolic mode.
      - The modes recorded in the archive are not used.
    type: raw
    default: '0644'
  directory_mode:
    description:
      - The permissions of the unpacked directories, O(dest) included.
    type: raw
    default: '0755'
  lock_timeout:
    description:
      - Seconds to wait for another run that holds the lock on the parent of O(dest) before failing.
    type: float
    default: 3600
requirements:
  - Python's zlib (part of every standard build).
notes:
  - Only stored and deflate members are supported, which is what terminology releases use.
  - Replacing an existing tree takes two renames, so O(dest) is briefly absent. Point consumers at a
    symbolic link that is switched to a new release directory (as the role P(terminology.releases.release_sync#role)
    does) when they must never see that.
  - Changes made inside the tree after unpacking (files removed or resized, wrong owner or mode) are repaired
    by the next run. Files added to the tree are left alone until it is replaced.
seealso:
  - module: terminology.releases.trud_release_fetch
  - module: ansible.builtin.unarchive
'''

EXAMPLES = r'''
- name: Fetch the newest SNOMED CT UK Clinical Edition
  terminology.releases.trud_release_fetch:
    api_key: "{{ trud_api_key }}"
    item: 101
    dest: /srv/terminology/archives
    mode: "0644"
  register: clinical

- name: Unpack it beside the archive, checked against the SHA-256 the fetch verified
  terminology.releases.release_unpack:
    src: "{{ clinical.path }}"
    dest: /srv/terminology/unpacked/clinical
    sha256: "{{ clinical.sha256 }}"
    owner: snowstorm
    group: snowstorm
    mode: "0640"
    directory_mode: "0750"

- name: Unpack an archive from elsewhere with tighter limits
  terminology.releases.release_unpack:
    src: /tmp/upload.zip
    dest: /srv/data/upload
    max_size: 2G
    max_ratio: 50
    max_files: 5000
'''

RETURN = r'''
dest:
  description: The directory the archive is unpacked in.
  returned: success
  type: str
  sample: /srv/terminology/snomed/uk_sct2cl_40.4.0_20251001000001Z.zip/unpacked
src:
  description: The archive.
  returned: success
  type: str
sha256:
  description: The archive's SHA-256 (lower-case hex).
  returned: success
  type: str
  sample: 8151248ddc290f3affdabae22d88e0bbd118947d948ab7bdd37e74088cfba933
extracted:
  description: Whether the archive was (or, in check mode, would be) extracted in this run.
  returned: success
  type: bool
reason:
  description:
    - Why it was extracted, or V(null) when it was not.
    - V(absent), V(archive changed), V(tree damaged), or V(no record) for an empty directory.
  returned: success
  type: str
  sample: absent
file_count:
  description: The number of files in the tree.
  returned: success
  type: int
  sample: 214
directory_count:
  description: The number of directories in the tree, not counting O(dest).
  returned: success
  type: int
total_size:
  description: The unpacked size in bytes.
  returned: success
  type: int
compressed_size:
  description: The compressed size of the files in the archive, in bytes.
  returned: success
  type: int
ratio:
  description: The whole archive's compression ratio (unpacked over compressed).
  returned: success
  type: float
  sample: 7.4
marker:
  description: The record of what was unpacked.
  returned: success
  type: str
  sample: /srv/terminology/snomed/uk_sct2cl_40.4.0_20251001000001Z.zip/unpacked/.release_unpack.json
'''

import os
import re
import shutil

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.formatters import human_to_bytes

from ansible_collections.terminology.releases.plugins.module_utils import _module, _unpack

_SHA256 = re.compile(r'^[0-9a-f]{64}$')


def parse_size(value):
    if isinstance(value, bool):
        raise ValueError('max_size must be a size, not %r' % value)
    if isinstance(value, int):
        size = value
    else:
        size = human_to_bytes(str(value).strip())
    if size <= 0:
        raise ValueError('max_size must be positive, not %r' % value)
    return size


class Unpack:
    def __init__(self, module):
        self.module = module
        self.params = module.params

    def limits(self):
        params = self.params
        try:
            max_size = parse_size(params['max_size'])
        except ValueError as exc:
            raise _unpack.UnpackError('max_size: %s' % exc) from None
        if not params['max_ratio'] > 0:
            raise _unpack.UnpackError('max_ratio must be positive.')
        if params['max_files'] < 1:
            raise _unpack.UnpackError('max_files must be at least 1.')
        return _unpack.Limits(max_size, params['max_ratio'], params['max_files'])

    def expected_sha256(self):
        value = self.params['sha256']
        if value is None:
            return None
        value = value.strip().lower()
        if not _SHA256.match(value):
            raise _unpack.UnpackError('sha256 must be 64 hexadecimal digits.')
        return value

    def apply_attributes(self, root, marker, changed):
        """Owner, group and mode on every entry of a recorded tree: files first, then directories deepest first."""
        params = self.params
        directories, files = _unpack.marker_paths(root, marker)
        directories.sort(key=lambda path: path.count(os.sep), reverse=True)
        for paths, mode in ((files, params['mode']), (directories, params['directory_mode'])):
            for path in paths:
                changed = self.module.set_owner_if_different(path, params['owner'], changed, expand=False)
                changed = self.module.set_group_if_different(path, params['group'], changed, expand=False)
                changed = self.module.set_mode_if_different(path, mode, changed, expand=False)
        return changed

    @staticmethod
    def describe(dest, marker):
        if not marker:
            return {'path': dest, 'exists': os.path.lexists(dest), 'sha256': None, 'file_count': None,
                    'total_size': None}
        return {'path': dest, 'exists': True, 'sha256': (marker.get('archive') or {}).get('sha256'),
                'file_count': len(marker.get('files') or []), 'total_size': marker.get('total_size')}

    def run(self):
        try:
            return self.unpack()
        except OSError as exc:
            # The file system's refusal (permissions, a read-only mount) is the user's to fix: say what and where.
            raise _unpack.UnpackError('Unpacking failed: %s%s.' % (exc.strerror or exc, ' (%s)' % exc.filename
                                                                   if exc.filename else '')) from None

    def unpack(self):
        params = self.params
        src = os.path.abspath(params['src'])
        dest = os.path.abspath(params['dest']).rstrip(os.sep) or os.sep
        limits = self.limits()
        expected = self.expected_sha256()
        parent = os.path.dirname(dest)
        if not os.path.isfile(src):
            raise _unpack.UnpackError('src %s is not a file.' % src)
        if not os.path.isdir(parent):
            raise _unpack.UnpackError('The parent directory of dest, %s, does not exist.' % parent)
        if os.path.islink(dest) or (os.path.lexists(dest) and not os.path.isdir(dest)):
            raise _unpack.UnpackError('dest %s exists and is not a directory; refusing to replace it.' % dest)
        marker = _unpack.read_marker(dest) if os.path.isdir(dest) else None
        sha256 = expected or _unpack.sha256_file(src)
        reason = self.reason(dest, marker, sha256)
        before = self.describe(dest, marker)
        if reason is None:
            changed = self.apply_attributes(dest, marker, False)
            result = {'extracted': False, 'file_count': len(marker.get('files') or []),
                      'directory_count': len(marker.get('directories') or []),
                      'total_size': marker.get('total_size'), 'compressed_size': marker.get('compressed_size')}
            after = before
        else:
            if expected and _unpack.sha256_file(src) != expected:
                raise _unpack.UnpackError('src %s does not have the SHA-256 %s; it was not unpacked.' % (src, expected))
            plan = _unpack.plan(src, limits)
            if not self.module.check_mode:
                self.extract(src, dest, plan, sha256, limits)
            changed = True
            result = {'extracted': True, 'file_count': len(plan.files), 'directory_count': len(plan.directories),
                      'total_size': plan.total_size, 'compressed_size': plan.compressed_size}
            after = {'path': dest, 'exists': True, 'sha256': sha256, 'file_count': len(plan.files),
                     'total_size': plan.total_size}
        compressed = result['compressed_size'] or 0
        result.update(changed=changed, dest=dest, src=src, sha256=sha256, reason=reason,
                      ratio=round(float(result['total_size'] or 0) / max(compressed, 1), 2),
                      marker=os.path.join(dest, _unpack.MARKER))
        if self.module._diff:
            result['diff'] = {'before': before, 'after': after, 'before_header': dest, 'after_header': dest}
        return result

    @staticmethod
    def reason(dest, marker, sha256):
        """Why the archive must be extracted, or None when the tree is current."""
        if not os.path.lexists(dest):
            return 'absent'
        if not marker:
            if os.listdir(dest):
                raise _unpack.UnpackError('dest %s exists, is not empty and was not made by release_unpack (it has no %s); '
                                          'refusing to replace it. Remove it or choose another dest.'
                                          % (dest, _unpack.MARKER))
        return _unpack.tree_state(dest, marker, sha256)[0]

    def extract(self, src, dest, plan, sha256, limits):
        parent = os.path.dirname(dest)
        with _unpack.directory_lock(parent, self.params['lock_timeout']):
            _unpack.remove_leftovers(dest)
            _unpack.check_free_space(parent, plan.total_size)
            temp = _unpack.make_temp(dest)
            try:
                _unpack.extract(src, plan, temp, limits)
                marker = _unpack.marker_for(src, sha256, plan, limits)
                _unpack.write_marker(temp, marker)
                self.apply_attributes(temp, marker, True)
                _unpack.install(temp, dest)
            except BaseException:
                shutil.rmtree(temp, ignore_errors=True)
                raise


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type='path', required=True),
            dest=dict(type='path', required=True),
            sha256=dict(type='str'),
            max_size=dict(type='raw', default='32G'),
            max_ratio=dict(type='float', default=100),
            max_files=dict(type='int', default=100000),
            owner=dict(type='str'),
            group=dict(type='str'),
            mode=dict(type='raw', default='0644'),
            directory_mode=dict(type='raw', default='0755'),
            lock_timeout=dict(type='float', default=3600),
        ),
        supports_check_mode=True,
    )
    _module.warn_numeric_modes(module, 'mode', 'directory_mode')
    _module.run(module, Unpack(module).run)


if __name__ == '__main__':
    main()
