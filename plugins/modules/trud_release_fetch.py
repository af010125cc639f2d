#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: trud_release_fetch
short_description: Download an NHS TRUD release archive to a host, verified, idempotently and resumably
version_added: 1.0.0
description:
  - Puts one release archive of an NHS TRUD item into a directory on the host, named as TRUD names it.
  - Verifies the archive before it appears at the destination. By default it checks everything the release
    offers. The size. The SHA-256 from the release list. The detached PGP signature over TRUD's FCIV checksum
    file, which must come from a key on O(trusted_fingerprints), and the SHA-1 of the archive that this
    signed file gives.
  - Streams the download once, hashing while it writes to a partial file beside the destination. It then
    fsyncs the file and renames it into place atomically. A file that fails verification never appears at
    the destination, and a previous good file there is left untouched.
  - Resumes an interrupted download with HTTP C(Range) on the next attempt or run. It downloads the whole
    file again when the server ignores C(Range).
  - Records what was verified beside the file, so a run with nothing to do reads no byte of the archive
    (see O(rehash)). Concurrent runs into one directory are serialised with a lock.
author:
  - terminology.releases contributors (@terminology-releases)
extends_documentation_fragment:
  - terminology.releases.fetch
  - ansible.builtin.files
  - terminology.releases.trud
  - terminology.releases.connection
  - terminology.releases.trud.selection
  - terminology.releases.attributes
  - terminology.releases.attributes.actiongroup_trud
attributes:
  check_mode:
    support: full
    details:
      - Reads the release list, the small checksum and signature files, and the existing file when it has no
        current verification record. Never requests the archive, and writes nothing.
  diff_mode:
    support: full
    details:
      - Shows the identity (path, size, SHA-256, release id) of the file before and after.
  idempotent:
    support: full
    details:
      - Not with O(force=true), which downloads again on every run.
options:
  dest:
    description:
      - The directory to put the archive in. It must exist. The file name is the release's
        C(archiveFileName); a name with path separators, a leading dot or control characters is refused.
      - The module also keeps C(.<name>.verified.json), and while a download is incomplete
        C(.<name>.<tag>.part), in this directory.
    type: path
    required: true
  verify:
    description:
      - Which checks the archive must pass. The size is always checked.
      - V(auto) runs every check the release offers. SHA-256 when the list gives it, and the signature
        when the release has checksum, signature and key files.
      - V(all) requires both the SHA-256 and the signature, and fails for a release without either.
      - V(sha256) checks only the SHA-256 from the release list (authenticated by TLS alone).
      - V(signature) checks only the signed SHA-1 (end to end, but SHA-1 and a key from 2013).
      - V(size) checks only the size, with a warning. Use it only for releases that offer nothing else.
    type: str
    choices: [auto, all, sha256, signature, size]
    default: auto
  keep_support_files:
    description:
      - Also keep the checksum XML, its signature (under its C(.xml.asc) name) and the public key file
        in O(dest), so that others can verify the archive later.
    type: bool
    default: false
requirements:
  - requests
  - python-gnupg and the C(gpg) binary, unless O(verify) is V(sha256) or V(size)
notes:
  - A download that breaks off is resumed from its last whole block on each of the O(retries) and on the next run,
    when the server honours ranges.
  - Resuming rebuilds the hash state by reading the bytes already in the partial file from disk. It does
    not download them again.
  - The lock is an C(flock) on the destination directory. It serialises runs on one host. It does not
    coordinate hosts that share a network filesystem.
  - Release names restart every year for some items; pin a release with O(release_id) or O(release_date).
  - A download whose advertised size does not fit in the free space of the destination's filesystem is
    refused before its first byte, with the numbers in the message.
  - A connection that stalls longer than O(timeout) loses what arrived of the 1 MiB block being read; the retry
    resumes after the last whole block written.
  - A release that offers fewer checks than O(verify) asks for (older dm+d and ODS releases have no SHA-256) gives a
    warning only in a run that downloads the archive (or, in check mode, would). A run with nothing to do stays
    quiet. To acknowledge a release that never offers a SHA-256, set O(verify=signature) for it.
seealso:
  - module: terminology.releases.trud_release_info
  - module: ansible.builtin.get_url
'''

EXAMPLES = r'''
- name: Fetch the newest SNOMED CT UK Monolith release, verified by SHA-256 and TRUD's signature
  terminology.releases.trud_release_fetch:
    api_key: "{{ trud_api_key }}"
    item: 1799
    dest: /srv/terminology/archives
    owner: snowstorm
    group: snowstorm
    mode: "0640"
  register: monolith

- name: Reload the terminology server only when a new release arrived
  ansible.builtin.debug:
    msg: "New release {{ monolith.release.id }} at {{ monolith.path }}"
  when: monolith is changed

- name: Pin a dm+d release by date and keep the checksum, signature and key beside it
  terminology.releases.trud_release_fetch:
    api_key: "{{ trud_api_key }}"
    item: 24
    release_date: "2025-08-18"
    dest: /srv/terminology/archives
    keep_support_files: true

- name: Share the key through module_defaults
  module_defaults:
    group/terminology.releases.trud:
      api_key: "{{ trud_api_key }}"
  block:
    - name: Fetch ODS organisation data
      terminology.releases.trud_release_fetch:
        item: 341
        dest: /srv/terminology/archives
'''

RETURN = r'''
path:
  description: Where the archive is.
  returned: success
  type: str
  sample: /srv/terminology/archives/uk_sct2mo_42.5.0_20260826000001Z.zip
release:
  description: The selected release's metadata, as M(terminology.releases.trud_release_info) returns it.
  returned: success
  type: dict
  sample:
    id: uk_sct2mo_42.5.0_20260826000001Z.zip
    name: Release 42.5.0
    release_date: "2026-08-26"
    archive_file_size_bytes: 609629807
sha256:
  description: The archive's SHA-256 (lower-case hex), as verified or recorded.
  returned: success
  type: str
  sample: 8151248ddc290f3affdabae22d88e0bbd118947d948ab7bdd37e74088cfba933
sha1:
  description: The archive's SHA-1 (lower-case hex) when the signature route was used, else V(null).
  returned: success
  type: str
size:
  description: The archive's size in bytes.
  returned: success
  type: int
  sample: 609629807
verified:
  description:
    - The checks the archive satisfies under this run's O(verify) setting. For an unchanged file they are checked
      against the verification record, whose digests were verified when the file was fetched.
  returned: success
  type: list
  elements: str
  sample: [size, sha256, signature]
signature:
  description: The signature facts, when the signature was checked; V(null) otherwise.
  returned: success
  type: dict
  contains:
    fingerprint:
      description: Fingerprint of the key that made the signature.
      type: str
    primary_fingerprint:
      description: Fingerprint of that key's primary key.
      type: str
    key_id:
      description: The signing key id.
      type: str
    signed_at:
      description: When the checksum file was signed (ISO 8601, UTC). Often not the release date.
      type: str
downloaded:
  description: Whether the archive was downloaded (or, in check mode, would be).
  returned: success
  type: bool
bytes_transferred:
  description: Archive bytes received from the server in this run.
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
support_files:
  description: Paths of the checksum, signature and public key files kept when O(keep_support_files=true).
  returned: success
  type: list
  elements: str
'''

import os
import posixpath
import time
from urllib.parse import unquote, urlparse

from ansible_collections.terminology.releases.plugins.module_utils import (
    _argspec,
    _connection,
    _download,
    _fs,
    _module,
    _signature,
    _trud,
)
from ansible_collections.terminology.releases.plugins.module_utils._http import Redactor


def plan_checks(mode, release):
    """The checks to run for this release under the chosen verification mode, and the warning to give when the
    archive is downloaded with fewer checks than the release could have had (None if there is nothing to say)."""
    has_sha256 = _trud.expected_sha256(release) is not None
    has_signature = _trud.has_signature_files(release)
    wanted = {'auto': ('sha256', 'signature'), 'all': ('sha256', 'signature'), 'sha256': ('sha256',),
              'signature': ('signature',), 'size': ()}[mode]
    offered = {'sha256': has_sha256, 'signature': has_signature}
    missing = [check for check in wanted if not offered[check]]
    if missing and mode != 'auto':
        raise _trud.TrudError('Release %s does not offer %s, which verify=%s requires.'
                              % (release['id'], ' or '.join(missing), mode))
    checks = ['size'] + [check for check in wanted if offered[check]]
    warning = None
    if checks == ['size']:
        warning = 'Release %s is verified by its size only: %s' % (
            release['id'], 'verify=size was chosen.' if mode == 'size' else 'it offers no SHA-256 and no signature.')
    elif mode == 'auto' and missing:
        warning = ('Release %s offers no %s; verified by %s. To acknowledge this for releases that never offer it, '
                   'set verify: %s.' % (release['id'], ' or '.join(missing), ', '.join(checks), checks[-1]))
    return checks, warning


def support_file_name(release, kind):
    if kind == 'signature':
        # signatureFileName ends in .sig although the file is ASCII-armoured: keep the URL's .xml.asc name.
        name = unquote(posixpath.basename(urlparse(release['signatureFileUrl']).path))
    else:
        name = release.get(kind + 'FileName')
    return _trud.safe_file_name(name)


class TrudFetch:
    def __init__(self, module, redact):
        self.module = module
        self.params = module.params
        self.redact = redact
        self.http = _connection.http_client(module, redact)
        self.client = _trud.TrudClient(self.http, self.params['base_url'], self.params['api_key'])

    def release(self):
        params = self.params
        selection = [params[key] for key in ('release_id', 'release_name', 'release_date')]
        releases = self.client.releases(params['item'], latest=all(value is None for value in selection))
        release = _trud.select_release(releases, params['item'], *selection)
        _trud.validate_release(release)
        return release

    def signed_checksum(self, release):
        """Verify the signature over the checksum file, then (and only then) parse it."""
        files = dict((kind, self.client.small_file(release[kind + 'FileUrl'], label)) for kind, label in
                     (('checksum', 'checksum'), ('signature', 'signature'), ('publicKey', 'public key')))
        signer, digests = _trud.verify_signed_checksum(files, release['archiveFileName'],
                                                       self.params['trusted_fingerprints'])
        return signer, digests, files

    @staticmethod
    def describe_download_status(status):
        if status in (400, 401, 403, 404):
            return ('TRUD answered HTTP %s for the archive. The key may have been disabled or the subscription '
                    'withdrawn since the release list was read' % status)
        return 'TRUD answered HTTP %s for the archive' % status

    def run(self):
        started = time.monotonic()
        params = self.params
        _fs.require_directory(params['dest'], 'dest', _trud.TrudError)
        release = self.release()
        checks, warning = plan_checks(params['verify'], release)
        signer, signed, files = (self.signed_checksum(release) if 'signature' in checks else (None, {}, {}))
        target = _download.Target(
            release['archiveFileName'], release['archiveFileSizeBytes'],
            sha256=_trud.expected_sha256(release) if 'sha256' in checks else None,
            sha1=signed.get('sha1'),
            identity={'item': params['item'], 'release_id': release['id'], 'release_date': release['releaseDate']})
        request = _download.FetchRequest(
            params['dest'], target, release['archiveFileUrl'], ['sha256', 'sha1'] if signer else ['sha256'],
            self.http, self.describe_download_status, report=('sha256', 'sha1'), shown=('sha256',),
            identity_key='release_id', record_extra={'verified': checks, 'signature': signer},
            before_download=self.warn_outside_window,
            side_files=lambda write: self.keep_support_files(release, files, write))
        outcome = _download.verified_fetch(self.module, request)
        if warning and outcome['downloaded']:
            # Only when bytes are (or in check mode would be) accepted on fewer checks: a no-op run stays quiet.
            self.module.warn(warning)
        outcome.update(
            release=_trud.normalise(release, self.redact), verified=checks, signature=signer,
            elapsed_seconds=round(time.monotonic() - started, 3),
        )
        return outcome

    def warn_outside_window(self):
        if self.params['maintenance_window_warning'] and not _trud.within_trud_hours(time.time()):
            self.module.warn('This download runs outside the hours TRUD asks automation to use (weekdays '
                             '09:00-18:00 or 00:00-06:00 UK time). Set maintenance_window_warning: false to '
                             'silence this.')

    def keep_support_files(self, release, files, write):
        """Keep checksum, signature and key beside the archive; with write=False only say whether that would change."""
        if not self.params['keep_support_files']:
            return {'support_files': []}, False
        if not files:
            files = dict((kind, self.client.small_file(release[kind + 'FileUrl'], kind)) for kind in
                         _trud.SUPPORT_FILES if release.get(kind + 'FileUrl'))
        paths, changed = [], False
        for kind in _trud.SUPPORT_FILES:
            if kind in files:
                path = os.path.join(self.params['dest'], support_file_name(release, kind))
                changed = _fs.write_if_different(path, files[kind], write) or changed
                paths.append(path)
        return {'support_files': paths}, changed


def main():
    spec = _argspec.trud_spec(
        _argspec.trud_selection_spec(),
        _argspec.fetch_spec(),
        dest=dict(type='path', required=True),
        verify=dict(type='str', default='auto', choices=['auto', 'all', 'sha256', 'signature', 'size']),
        keep_support_files=dict(type='bool', default=False),
    )
    module = spec.create_module(supports_check_mode=True, add_file_common_args=True)
    if module.params['verify'] in ('auto', 'all', 'signature'):
        _signature.require_gnupg(module)
    redact = Redactor([module.params['api_key']])
    _module.run(module, lambda: TrudFetch(module, redact).run(), redact)


if __name__ == '__main__':
    main()
