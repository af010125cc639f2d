#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: syndication_fetch
short_description: Download a release from a terminology syndication feed to a host, verified and idempotently
version_added: 1.0.0
description:
  - Reads an Atom syndication feed (SNOMED International MLDS's C(/api/feed), or an HL7/NCTS-style feed such as
    one published with M(terminology.releases.syndication_feed)), selects one entry (by O(identifier) and
    O(version), by O(version_uri), or the newest of O(identifier)), and puts the entry's file into a directory on
    the host. Links in the feed are resolved against O(url); files are always downloaded over HTTP(S).
  - Verifies the file against every hash and length the entry offers (SHA-256, MD5, length) before it appears at
    the destination. An entry that offers no hash is refused unless O(allow_unverified=true).
  - With O(dependencies=true), also fetches the entries the selected one depends on (for example the
    International edition an extension is built on), prerequisites first, into the same directory.
  - Uses the collection's one fetch lifecycle, like M(terminology.releases.trud_release_fetch). It streams once,
    hashing while it writes a partial file, resumes an interrupted download with HTTP C(Range), renames the
    verified file into place atomically, records what was verified beside it (so a run with nothing to do reads
    no byte of the file), and serialises concurrent runs into one directory with a lock.
author:
  - terminology.releases contributors (@terminology-releases)
extends_documentation_fragment:
  - terminology.releases.fetch
  - ansible.builtin.files
  - terminology.releases.feed
  - terminology.releases.connection
  - terminology.releases.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads the feed, and the existing file when it has no current verification record. Never requests the
        file, and writes nothing.
  diff_mode:
    support: full
    details:
      - Shows the identity (path, size, SHA-256, entry version) of each file before and after.
  idempotent:
    support: full
    details:
      - Not with O(force=true), which downloads again on every run.
options:
  dest:
    description:
      - The directory to put the file in. It must exist. The file name is the last part of the entry's download
        link, as the NCTS reference client names files. MLDS's links all end in C(/download), so when that last
        part has no extension the name is the entry's title (characters other than letters, digits, C(.), C(_),
        C(-) and spaces replaced by C(_)) with the extension of the link's type, for example
        C(SNOMED CT International Edition-March 2025 v1.0.zip). A name with path separators, a leading dot or
        control characters is refused (see O(file_name)).
    type: path
    required: true
  file_name:
    description:
      - The name to give the selected entry's file instead of the one in its link. Dependencies keep theirs.
    type: str
  dependencies:
    description:
      - Also fetch the entries the selected entry depends on (C(sct:packageDependency)), and theirs, from the
        same feed, before it. A dependency the feed does not hold is an error that names it.
    type: bool
    default: false
  allow_unverified:
    description:
      - Accept an entry that offers no SHA-256 and no MD5. Its file is then checked by its length only, if the
        entry gives one, with a warning.
    type: bool
    default: false
  signature_files:
    description:
      - NHS TRUD's signed checksum files for the selected entry's file, served beside it (as a mirror that fetched
        the release with M(terminology.releases.trud_release_fetch) and O(terminology.releases.trud_release_fetch#module:keep_support_files=true)
        serves them). URLs, resolved against O(url) and sent the same credentials rules as the file.
      - The signature over the checksum file is verified with the key file, and must come from a key on
        O(trusted_fingerprints); the SHA-1 the checksum file gives is then checked while the file downloads, like
        the feed's hashes. So the file is checked end to end against TRUD's signature, and trust rests on TRUD's key,
        not on the server or the feed.
      - Not for the dependencies, which keep their feed hashes only.
    type: dict
    suboptions:
      checksum:
        description: The checksum XML file (FCIV format).
        type: str
        required: true
      signature:
        description: The detached ASCII-armoured signature over it.
        type: str
        required: true
      public_key:
        description: The public key file published with the release.
        type: str
        required: true
  signature:
    description:
      - With O(signature_files), whether the signature must be checked (V(required)), or only when python-gnupg and
        the C(gpg) binary are on the host (V(auto); without them, the file is verified by the feed's hashes and
        C(signature) is not in RV(verified)).
    type: str
    choices: [required, auto]
    default: required
  trusted_fingerprints:
    description:
      - The full fingerprints of the keys whose signatures over O(signature_files) are accepted.
      - Default, NHS TRUD's signing key (the same default as M(terminology.releases.trud_release_fetch)).
    type: list
    elements: str
    default: []
requirements:
  - requests
  - python-gnupg and the C(gpg) binary, with O(signature_files) and O(signature=required)
notes:
  - A download that breaks off is resumed from its last whole block on each of the O(retries) and on the next run,
    when the entry gives the file's length and the server honours ranges.
  - The feed is read whole (at most 16 MiB), without a DTD or entities; MLDS's known rendering defects (such as an
    unescaped C(&) in a link) are tolerated.
  - The hashes in a feed are only as trustworthy as the feed. A feed published by this collection carries the
    hashes of releases it verified against TRUD's signature or MLDS's MD5; fetch it over HTTPS.
seealso:
  - module: terminology.releases.syndication_feed_info
  - module: terminology.releases.syndication_feed
  - module: terminology.releases.mlds_release_fetch
'''

EXAMPLES = r'''
- name: Fetch the newest International Edition from MLDS's feed, as an approved affiliate
  terminology.releases.syndication_fetch:
    url: https://mlds.ihtsdotools.org/api/feed
    identifier: http://snomed.info/sct/900000000000207008
    dest: /srv/terminology/archives
    username: "{{ mlds_username }}"
    password: "{{ mlds_password }}"
    mode: "0644"
  register: international

- name: Fetch the UK Drug Extension and the UK Clinical Edition it depends on from an organisation's feed
  terminology.releases.syndication_fetch:
    url: https://terminology-mirror.example.org/syndication/feed
    identifier: http://snomed.info/sct/999000011000001104
    dependencies: true
    dest: /srv/terminology/archives
  register: drug

- name: Show what was fetched, prerequisites first
  ansible.builtin.debug:
    msg: "{{ drug.fetched | map(attribute='path') | list }}"
'''

RETURN = r'''
path:
  description: Where the selected entry's file is.
  returned: success
  type: str
  sample: /srv/terminology/archives/SnomedCT_ManagedServiceSE_PRODUCTION_SE1000052_20260301T120000Z.zip
sha256:
  description: The file's SHA-256 (lower-case hex), as verified or recorded.
  returned: success
  type: str
md5:
  description: The file's MD5 (lower-case hex) when the entry offers one, else V(null).
  returned: success
  type: str
size:
  description: The file's size in bytes.
  returned: success
  type: int
verified:
  description: The checks the selected file satisfies (V(length), V(sha256), V(md5), V(signature)).
  returned: success
  type: list
  elements: str
  sample: [length, sha256, signature]
sha1:
  description: The file's SHA-1 (lower-case hex) when the signed checksum file was checked, else V(null).
  returned: success
  type: str
signature:
  description: The signature facts when O(signature_files) were checked (now or when the file was fetched), else V(null).
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
      description: When the checksum file was signed (ISO 8601, UTC).
      type: str
entry:
  description: The selected entry, as M(terminology.releases.syndication_feed_info) returns entries.
  returned: success
  type: dict
downloaded:
  description: Whether the selected entry's file was downloaded (or, in check mode, would be).
  returned: success
  type: bool
bytes_transferred:
  description: Bytes of the selected entry's file received in this run.
  returned: success
  type: int
bytes_resumed:
  description: Bytes of an earlier interrupted download of the selected file that were kept.
  returned: success
  type: int
fetched:
  description:
    - Every file this run made sure of, prerequisites first and the selected entry last, with what happened to each.
  returned: success
  type: list
  elements: dict
  contains:
    path:
      description: Where the file is.
      type: str
    identifier:
      description: The entry's content item identifier.
      type: str
    version:
      description: The entry's content item version.
      type: str
    changed:
      description: Whether the file or its attributes changed.
      type: bool
    downloaded:
      description: Whether the file was downloaded (or, in check mode, would be).
      type: bool
    sha256:
      description: The file's SHA-256.
      type: str
    size:
      description: The file's size in bytes.
      type: int
    verified:
      description: The checks the file satisfies.
      type: list
      elements: str
elapsed_seconds:
  description: Wall time of the whole task in seconds.
  returned: success
  type: float
'''

import os
import posixpath
import re
import shutil
import time
from urllib.parse import unquote, urljoin, urlsplit

from ansible_collections.terminology.releases.plugins.module_utils import (
    _argspec,
    _connection,
    _download,
    _feed,
    _fs,
    _http,
    _module,
    _signature,
    _trud,
)


def describe_download_status(status):
    if status == 401:
        return ('the server answered HTTP 401: the file needs an account (set username and password; for MLDS, an '
                'affiliate approved for the member)')
    if status in (403, 500):
        return ('the server answered HTTP %s: the account may not download this file (MLDS reports refused '
                'permissions as 403 or 500: an affiliate not approved for this member)' % status)
    return 'the server answered HTTP %s for the file' % status


def file_name_for(entry, url):
    """The last part of the link, as the NCTS client names files; MLDS's links all end in /download, so a last part
    without an extension gives way to the entry's title with the extension its link type names."""
    name = unquote(posixpath.basename(urlsplit(url).path))
    if '.' in name:
        return name
    link = [item for item in entry.get('links') or [] if item.get('href') == entry.get('file_url')][:1] or [{}]
    kind = (link[0].get('type') or 'application/zip').split('/')[-1].split('?')[0].split(';')[0]
    title = re.sub(r'[^A-Za-z0-9._ -]+', '_', entry.get('title') or entry.get('version') or 'download').strip(' ._')
    return '%s.%s' % (title or 'download', re.sub(r'[^A-Za-z0-9]+', '', kind) or 'zip')


class FeedFetch:
    def __init__(self, module, redact):
        self.module = module
        self.params = module.params
        self.redact = redact
        self.http = _connection.basic_auth_client(module, redact)

    def run(self):
        started = time.monotonic()
        params = self.params
        _fs.require_directory(params['dest'], 'dest', _feed.FeedError, purpose='the file')
        data, source = _feed.load(params['url'], lambda: self.http)
        feed = _feed.parse_feed(data, source)
        entry = _feed.select_entry(feed['entries'], params['identifier'], params['version'], params['version_uri'])
        chain = (_feed.dependency_entries(feed['entries'], entry) if params['dependencies'] else []) + [entry]
        results = [self.fetch(item, item is entry) for item in chain]
        outcome = dict(results[-1][1])
        outcome.update(
            changed=any(result['changed'] for _item, result in results), entry=entry,
            fetched=[self.summary(item, result) for item, result in results],
            elapsed_seconds=round(time.monotonic() - started, 3),
        )
        if self.module._diff:
            outcome['diff'] = [result['diff'] for _item, result in results]
        return outcome

    def fetch(self, entry, selected):
        params = self.params
        url = urljoin(params['url'], entry.get('file_url') or '')
        if urlsplit(url).scheme.lower() not in ('http', 'https'):
            raise _feed.FeedError('Entry %r has no HTTP(S) link to download (%r).' % (entry.get('id'), url))
        name = params['file_name'] if selected and params['file_name'] else file_name_for(entry, url)
        _fs.safe_file_name(name, 'file name of feed entry %r' % entry.get('id'), _feed.FeedError,
                           hint='Set file_name to choose a name.' if selected else '')
        checks = self.checks(entry)
        identity = {'service': 'feed', 'feed': self.redact(params['url']), 'entry_id': entry.get('id'),
                    'identifier': entry.get('identifier'), 'version': entry.get('version')}
        target = _download.Target(name, entry.get('length'), sha256=entry.get('sha256'), md5=entry.get('md5'),
                                  identity=identity)
        signer, signed = self.signed_checksum(target) if selected and self.signature_wanted() else (None, {})
        if signer:
            checks = checks + ['signature']
            target = _download.Target(name, entry.get('length'), sha256=entry.get('sha256'), md5=entry.get('md5'),
                                      sha1=signed['sha1'], identity=identity)
        request = _download.FetchRequest(
            params['dest'], target, url, ['sha256'] + (['md5'] if entry.get('md5') else []) + (['sha1'] if signer else []),
            self.http, describe_download_status, report=('sha256', 'md5', 'sha1'), shown=('sha256',),
            identity_key='version', record_extra={'verified': checks, 'signature': signer})
        result = _download.verified_fetch(self.module, request)
        result.update(verified=checks, signature=signer)
        return entry, result

    def signature_wanted(self):
        """Whether to check TRUD's signature over the selected file: given files, and gpg here or required."""
        if not self.params['signature_files']:
            return False
        return self.params['signature'] == 'required' or (_signature.HAS_GNUPG and shutil.which('gpg') is not None)

    def signed_checksum(self, target):
        """(signer, {'sha1': ...}) from TRUD's signed checksum file for the selected file. A file whose verification
        record vouches for it and was signature-checked by a trusted key needs no support file (a no-op run)."""
        params = self.params
        trusted = [_signature.normalise_fingerprint(value)
                   for value in (params['trusted_fingerprints'] or _trud.TRUD_SIGNING_FINGERPRINTS)]
        dest = os.path.join(params['dest'], target.name)
        record = _download.read_record(dest)
        signer = (record or {}).get('signature') or {}
        sha1 = ((record or {}).get('digests') or {}).get('sha1')
        if (not (params['force'] or params['rehash']) and sha1 and _download.record_vouches(record, dest, target)
                and trusted and {signer.get('fingerprint'), signer.get('primary_fingerprint')} & set(trusted)):
            return signer, {'sha1': sha1}
        files = dict((kind, _trud.small_file(self.http, urljoin(params['url'], params['signature_files'][option]),
                                             label))
                     for kind, option, label in (('checksum', 'checksum', 'checksum'),
                                                 ('signature', 'signature', 'signature'),
                                                 ('publicKey', 'public_key', 'public key')))
        return _trud.verify_signed_checksum(files, target.name, trusted)

    def checks(self, entry):
        checks = (['length'] if entry.get('length') is not None else []) + [
            algorithm for algorithm in ('sha256', 'md5') if entry.get(algorithm)]
        if 'sha256' in checks or 'md5' in checks:
            return checks
        if not self.params['allow_unverified']:
            raise _feed.FeedError('Feed entry %r (%s %s) offers no SHA-256 and no MD5, so its file cannot be verified. '
                                  'Set allow_unverified: true to accept it checked by %s.'
                                  % (entry.get('id'), entry.get('identifier'), entry.get('version'),
                                     'its length only' if checks else 'nothing at all'))
        self.module.warn('Feed entry %r offers no hash: its file is checked by %s.'
                         % (entry.get('id'), 'its length only' if checks else 'nothing'))
        return checks

    @staticmethod
    def summary(entry, result):
        summary = dict((key, result.get(key)) for key in ('path', 'changed', 'downloaded', 'sha256', 'size', 'verified'))
        summary.update(identifier=entry.get('identifier'), version=entry.get('version'))
        return summary


def main():
    module = _argspec.feed_spec(
        _argspec.fetch_spec(),
        dest=dict(type='path', required=True),
        file_name=dict(type='str'),
        dependencies=dict(type='bool', default=False),
        allow_unverified=dict(type='bool', default=False),
        signature_files=dict(type='dict', options=dict(checksum=dict(type='str', required=True),
                                                       signature=dict(type='str', required=True),
                                                       public_key=dict(type='str', required=True))),
        signature=dict(type='str', default='required', choices=['required', 'auto']),
        trusted_fingerprints=dict(type='list', elements='str', default=[]),
    ).create_module(supports_check_mode=True, add_file_common_args=True)
    if module.params['signature_files'] and module.params['signature'] == 'required':
        _signature.require_gnupg(module)
    redact = _http.basic_redactor(module.params['username'], module.params['password'])
    _module.run(module, lambda: FeedFetch(module, redact).run(), redact)


if __name__ == '__main__':
    main()
