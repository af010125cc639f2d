#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: mlds_release_fetch
short_description: Download a SNOMED MLDS release file to a host, verified and idempotently
version_added: 1.0.0
description:
  - Puts one file of an MLDS release version into a directory on the host, downloaded through MLDS's own
    download address (C(clientDownloadUrl)) with your account, as an affiliate's browser would.
  - Verifies the file against the C(md5Hash) and C(fileSize) that MLDS lists for it, when it lists them,
    before the file appears at the destination. It warns when MLDS lists neither.
  - Uses the same download engine as M(terminology.releases.trud_release_fetch). It streams once, hashing
    (MD5 and SHA-256) while it writes to a partial file beside the destination. It then fsyncs the file and
    renames it into place atomically. A file that fails verification never appears at the destination, and a
    previous good file there is left untouched.
  - An interrupted download is resumed on the next attempt or run when MLDS honours C(Range). MLDS's proxy
    usually ignores C(Range), and the whole file is then downloaded again.
  - Records what was verified beside the file, so a run with nothing to do reads no byte of the file (see
    O(rehash)). Concurrent runs into one directory are serialised with a lock.
author:
  - terminology.releases contributors (@terminology-releases)
extends_documentation_fragment:
  - terminology.releases.fetch
  - ansible.builtin.files
  - terminology.releases.mlds
  - terminology.releases.connection
  - terminology.releases.attributes
  - terminology.releases.attributes.actiongroup_mlds
attributes:
  check_mode:
    support: full
    details:
      - Reads the package from MLDS, and the existing file when it has no current verification record. Never
        requests the download, and writes nothing.
  diff_mode:
    support: full
    details:
      - Shows the identity (path, size, MD5, SHA-256, file id) of the file before and after.
  idempotent:
    support: full
    details:
      - Not with O(force=true), which downloads again on every run.
options:
  package:
    description:
      - The release package, by id or by name. A value of digits only is tried as an id first.
      - Affiliates and anonymous callers see only packages with an online (or alpha/beta) version.
    type: str
    required: true
  member:
    description:
      - The member key of the package, to tell apart packages of the same name.
    type: str
  version:
    description:
      - The release version, by id or by name. A value of digits only is tried as an id first.
      - Affiliates see only online and alpha/beta versions.
    type: str
    required: true
  label:
    description:
      - The label of the file to download.
      - Without O(label) and O(file_id), the version's primary file is downloaded, or its only file.
      - Mutually exclusive with O(file_id).
    type: str
  file_id:
    description:
      - The C(releaseFileId) of the file to download.
    type: int
  dest:
    description:
      - The directory to put the file in. It must exist.
      - The module also keeps C(.<name>.verified.json), and while a download is incomplete
        C(.<name>.<tag>.part), in this directory.
    type: path
    required: true
  file_name:
    description:
      - The name to give the file in O(dest).
      - Defaults to the file's label in MLDS, which is always visible, and known before anything is
        downloaded (so check mode can tell where the file goes). The server's C(Content-Disposition) name
        and the storage address are not used. Affiliates cannot see the storage address, and the
        C(Content-Disposition) name is known only after a download has started.
      - The name, from the label or from here, must be a plain file name. One with path separators, a
        leading dot, surrounding spaces or control characters is refused, never rewritten.
    type: str
requirements:
  - requests
notes:
  - A download that breaks off is resumed from its last whole block on each of the O(retries) and on the next run,
    when MLDS lists the file's size and the storage honours ranges; without a size it starts again from byte 0.
  - MLDS allows the download to staff and admins, and to affiliates whose membership application for the
    package's member is approved (and whose account is in good standing), for online and alpha/beta
    versions. MLDS 5.2 refuses everyone else with HTTP 500, which the module explains.
  - MLDS records every download attempt for the member's download report. A refused download (HTTP 500) is
    not retried, so that it is recorded only once.
  - When MLDS lists neither an MD5 nor a size for the file, the download cannot be verified, and an existing
    file of the same name is kept as it is. Use O(force=true) to download it again.
  - A download whose listed size does not fit in the free space of the destination's filesystem is refused
    before its first byte, with the numbers in the message.
seealso:
  - module: terminology.releases.mlds_release_info
  - module: terminology.releases.trud_release_fetch
'''

EXAMPLES = r'''
- name: Fetch the primary file of the Swedish extension's March release
  terminology.releases.mlds_release_fetch:
    username: "{{ mlds_username }}"
    password: "{{ mlds_password }}"
    package: SNOMED CT Swedish Extension
    member: SE
    version: "2026-03-01"
    dest: /srv/terminology/archives
    owner: snowstorm
    group: snowstorm
    mode: "0640"
  register: extension

- name: Import the extension only when a new file arrived
  ansible.builtin.debug:
    msg: "New file {{ extension.path }} (MD5 {{ extension.md5 }})"
  when: extension is changed

- name: Fetch a named file under a name of your choosing
  terminology.releases.mlds_release_fetch:
    package: "4101"
    version: "4103"
    label: RF2 release (zip)
    file_name: se-extension-20260301.zip
    dest: /srv/terminology/archives
'''

RETURN = r'''
path:
  description: Where the file is.
  returned: success
  type: str
  sample: /srv/terminology/archives/SnomedCT_ManagedServiceSE_PRODUCTION_SE1000052_20260301T120000Z.zip
file:
  description: The file entry as MLDS lists it, in snake_case.
  returned: success
  type: dict
  sample:
    release_file_id: 4105
    label: SnomedCT_ManagedServiceSE_PRODUCTION_SE1000052_20260301T120000Z.zip
    client_download_url: /api/releasePackages/4101/releaseVersions/4103/releaseFiles/4105/download
    md5_hash: 0cc175b9c0f1b6a831c399e269772661
    file_size: "123456789"
    primary_file: true
package_id:
  description: The package id.
  returned: success
  type: int
version_id:
  description: The version id.
  returned: success
  type: int
md5:
  description: The file's MD5 (lower-case hex), as verified or recorded.
  returned: success
  type: str
sha256:
  description: The file's SHA-256 (lower-case hex), computed during the download.
  returned: success
  type: str
size:
  description: The file's size in bytes.
  returned: success
  type: int
verified:
  description: What the file was checked against (V(size), V(md5)); empty when MLDS lists neither.
  returned: success
  type: list
  elements: str
  sample: [size, md5]
downloaded:
  description: Whether the file was downloaded (or, in check mode, would be).
  returned: success
  type: bool
bytes_transferred:
  description: File bytes received from MLDS in this run.
  returned: success
  type: int
bytes_resumed:
  description: Bytes of an earlier interrupted download that were kept rather than downloaded again.
  returned: success
  type: int
elapsed_seconds:
  description: Wall time of the whole task in seconds.
  returned: success
  type: float
'''

import time

from ansible_collections.terminology.releases.plugins.module_utils import (
    _argspec,
    _download,
    _fs,
    _mlds,
    _mlds_download,
    _mlds_fields,
    _mlds_output,
    _mlds_select,
)

ALGORITHMS = ('md5', 'sha256')


class MldsFetch(_mlds.Manager):
    purpose = 'download release files'

    def select(self):
        params = self.params
        package = _mlds_select.resolve_package(self.client, params['package'], params['member'])
        version = _mlds_select.resolve_version(package, params['version'])
        return package, version, _mlds_select.select_file(package, version, params['file_id'], params['label'])

    def target(self, package, version, release_file):
        params = self.params
        file_id = release_file.get('releaseFileId')
        if params['file_name'] is not None:
            name = _mlds_fields.safe_file_name(params['file_name'], 'file_name')
        else:
            name = _mlds_fields.safe_file_name(release_file.get('label'), 'label of file %s' % file_id)
        size = _mlds_fields.file_size_value(release_file.get('fileSize'))
        if size is None and release_file.get('fileSize') not in (None, ''):
            self.module.warn('MLDS lists fileSize %r for file %s, which is not a size in bytes; it is not checked.'
                             % (release_file.get('fileSize'), file_id))
        md5 = release_file.get('md5Hash')
        if md5 not in (None, '') and not _mlds_fields.valid_md5(md5):
            self.module.warn('MLDS lists md5Hash %r for file %s, which is not an MD5; it is not checked.'
                             % (md5, file_id))
        md5 = md5.strip().lower() if _mlds_fields.valid_md5(md5) else None
        checks = ([] if size is None else ['size']) + ([] if md5 is None else ['md5'])
        if not checks:
            self.module.warn('MLDS lists neither an MD5 nor a size for file %s (%r), so the download cannot be '
                             'verified, and an existing file of the same name is kept as it is (force: true '
                             'downloads it again).' % (file_id, release_file.get('label')))
        identity = {'service': 'mlds', 'package_id': package.get('releasePackageId'),
                    'version_id': version.get('releaseVersionId'), 'file_id': file_id,
                    'label': release_file.get('label')}
        return _download.Target(name, size, md5=md5, identity=identity), checks

    def run(self):
        started = time.monotonic()
        params = self.params
        _fs.require_directory(params['dest'], 'dest', _mlds.MldsError, purpose='the file')
        package, version, release_file = self.select()
        target, checks = self.target(package, version, release_file)
        url = self.client.download_url(package['releasePackageId'], version['releaseVersionId'], release_file)
        # MLDS reports permission failures as 500: never retried during the download. A target without a size
        # (MLDS gave no fileSize) is read to its end and never resumed.
        request = _download.FetchRequest(
            params['dest'], target, url, ALGORITHMS, _mlds_download.NoRetryOn500(self.client.http),
            _mlds_download.describe_download_status, report=ALGORITHMS, shown=ALGORITHMS, identity_key='file_id',
            record_extra={'verified': checks})
        outcome = _download.verified_fetch(self.module, request)
        outcome.update(
            file=_mlds_output.to_output(release_file), package_id=package['releasePackageId'],
            version_id=version['releaseVersionId'], verified=checks,
            elapsed_seconds=round(time.monotonic() - started, 3),
        )
        return outcome


def main():
    module = _argspec.mlds_spec(
        _argspec.ArgumentSpec(mutually_exclusive=[('label', 'file_id')]),
        _argspec.fetch_spec(),
        package=dict(type='str', required=True),
        member=dict(type='str'),
        version=dict(type='str', required=True),
        label=dict(type='str'),
        file_id=dict(type='int'),
        dest=dict(type='path', required=True),
        file_name=dict(type='str'),
    ).create_module(supports_check_mode=True, add_file_common_args=True)
    _mlds.run_module(module, MldsFetch)


if __name__ == '__main__':
    main()
