#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: syndication_feed
short_description: Keep a static terminology syndication feed (Atom, NCTS / HL7 format) over releases in a directory
version_added: 1.0.0
description:
  - Keeps one Atom syndication feed file, in the NCTS / HL7 FHIR terminology syndication format with SNOMED's
    C(sct:) extension, that describes release files kept in the same directory (or in directories under it, as a
    mirror's store keeps C(<name>/<release>/<archive>)). Serve the directory over HTTP(S)
    and Snowstorm, Snowstorm Lite, the NCTS reference client and other feed readers can take the releases from it.
  - Each entry has exactly one download link (with C(length) and C(ncts:sha256Hash), plus C(sct:md5Hash) when the
    MD5 is known), exactly one category, the content item identifier and version, and the dependencies given.
  - The SHA-256 and length come from what the fetch modules verified. A release file's verification record
    (C(.NAME.verified.json), which M(terminology.releases.trud_release_fetch) and
    M(terminology.releases.mlds_release_fetch) write beside it) is used while it still describes the file. Only a
    file without such a record is read and hashed.
  - Entries already in the feed that a run does not mention are kept, unless O(exclusive=true).
  - The document is deterministic. It changes only when an entry or a feed-level value changes. Its C(updated) time
    is the newest entry's, and an entry's is its release date (or the time its file was verified), never the time
    of the run. The file is written atomically, and only when its content changes.
author:
  - terminology.releases contributors (@terminology-releases)
extends_documentation_fragment:
  - terminology.releases.attributes
  - terminology.releases.attributes.posix
attributes:
  check_mode:
    support: full
    details:
      - Reads the feed, the verification records and (only for a file without a current record) the release
        files, and reports whether the feed would change. Writes nothing.
  diff_mode:
    support: full
    details:
      - Shows the feed document before and after.
  idempotent:
    support: full
options:
  path:
    description:
      - The feed file. Its directory must exist, and is the directory whose files the entries describe.
      - Snowstorm asks for C(<syndication.url>/feed), so name the file C(feed) when Snowstorm is to read it.
    type: path
    required: true
  base_url:
    description:
      - The URL at which the feed's directory is served. An entry's link is this URL followed by the URL-quoted
        file name; the feed's C(self) link is this URL followed by the feed's file name.
    type: str
    required: true
  id:
    description:
      - The feed's Atom id, which must never change. A UUID is written as C(urn:uuid:<uuid>).
      - Default, the id of the existing feed file, else a UUID derived from O(base_url) and the feed's file name.
    type: str
  title:
    description:
      - The feed's title.
    type: str
    default: Terminology releases
  author:
    description:
      - The publisher's name, written as the author of the feed and of every entry.
    type: str
    default: terminology.releases
  entries:
    description:
      - The entries to add, update (an entry is known by its content item version) or remove.
    type: list
    elements: dict
    default: []
    suboptions:
      release:
        description:
          - The registered result of M(terminology.releases.trud_release_fetch),
            M(terminology.releases.mlds_release_fetch) or M(terminology.releases.syndication_fetch). The other
            keys default from it (see O(releases)); those given here win.
        type: dict
      file:
        description:
          - The release file, a name in the feed's directory, a relative path under it (C(name/release/archive.zip),
            each part a plain name, no symbolic link on the way), or an absolute path there. Default, the C(path) of
            O(entries[].release). The entry's link is O(base_url) followed by that relative path.
          - With O(entries[].state=absent), the entries whose link ends in this file name are removed (the file
            itself is kept).
        type: str
      identifier:
        description:
          - The content item identifier (version-independent). For SNOMED CT, C(http://snomed.info/sct/<module id>),
            which Snowstorm requires.
        type: str
      version:
        description:
          - The content item version. With a SNOMED CT identifier, a C(YYYYMMDD) version becomes the version URI
            C(<identifier>/version/<YYYYMMDD>).
        type: str
      version_uri:
        description:
          - The version URI. When given it is what the feed carries as the content item version.
        type: str
      title:
        description:
          - The entry's title. Snowstorm names a code system after the text before the first C(-), so use
            C(<edition name>-<version label>) with no hyphen in the edition name.
        type: str
      summary:
        description:
          - A short description.
        type: str
      category:
        description:
          - The NCTS category term, for example V(SCT_RF2_ALL), V(SCT_RF2_SNAPSHOT), V(SCT_RF2_FULL),
            V(FHIR_Package); or a dictionary with C(term), C(label) and C(scheme) for a term from another scheme.
          - Default for a zip, V(SCT_RF2_ALL) (Full, Snapshot and Delta, as TRUD and MLDS publish RF2).
        type: raw
      sha256:
        description:
          - The file's SHA-256. Default, from the release or the verification record, else computed.
        type: str
      length:
        description:
          - The file's size in bytes. Default, as O(entries[].sha256).
        type: int
      dependencies:
        description:
          - The versions this release needs first (an extension's edition), each a version URI or a dictionary
            with C(version_uri) (or C(identifier) and C(version)) and C(kind) (V(edition), the default, or
            V(derivative)).
        type: list
        elements: raw
      state:
        description:
          - Whether the entry is in the feed. V(absent) removes the entries with this content item version, or
            with the link to O(entries[].file).
        type: str
        choices: [present, absent]
        default: present
  releases:
    description:
      - Registered results of M(terminology.releases.trud_release_fetch), M(terminology.releases.mlds_release_fetch)
        or M(terminology.releases.syndication_fetch), each published as an entry with everything taken from it.
      - From C(trud_release_fetch), the identifier is C(urn:trud:item:<item>) (TRUD names no content item), the
        version the release date as C(YYYYMMDD), the title C(TRUD item <item>-<release name>), and C(updated) and
        C(published) the release date. Give O(entries[].identifier) with O(entries[].release) to publish it
        under a SNOMED CT module instead.
      - From C(syndication_fetch), the entry's own identifier, version, title, category and dependencies.
      - A C(mlds_release_fetch) result carries no package URI, so give it with O(entries[].release) and
        O(entries[].identifier) and O(entries[].version).
    type: list
    elements: dict
    default: []
  exclusive:
    description:
      - Remove the entries of the feed that this run does not list as present.
    type: bool
    default: false
  mode:
    description:
      - The permissions of the feed file, as for M(ansible.builtin.file). Quote an octal mode (V('0644')).
    type: raw
    default: '0644'
  lock_timeout:
    description:
      - Seconds to wait for another run that holds the lock on the feed's directory.
    type: float
    default: 3600
notes:
  - Removing an entry does not delete its file.
  - The feed is not signed. Its readers trust it as far as they trust the server and the TLS that serve it; the
    SHA-256 of each entry lets them check that the file they download is the one this collection verified.
seealso:
  - module: terminology.releases.trud_release_fetch
  - module: terminology.releases.mlds_release_fetch
  - ref: ansible_collections.terminology.releases.docsite.guide_syndication
    description: Publishing a feed, serving it for Snowstorm and what each reader can take.
'''

EXAMPLES = r'''
- name: Fetch the newest SNOMED CT UK Clinical Edition into the directory the feed describes
  terminology.releases.trud_release_fetch:
    api_key: "{{ trud_api_key }}"
    item: 101
    dest: /srv/syndication
  register: uk_clinical

- name: Publish it in the feed, under its SNOMED CT module so that Snowstorm takes it
  terminology.releases.syndication_feed:
    path: /srv/syndication/feed
    base_url: https://terminology.example.org/syndication/
    id: 6f1c1d3e-4b8a-4e0c-9d1e-6a0e3b1f2c4d
    title: Example Trust terminology releases
    author: Example Trust terminology team
    entries:
      - release: "{{ uk_clinical }}"
        identifier: http://snomed.info/sct/999000021000000109
        title: SNOMED CT UK Clinical Edition-{{ uk_clinical.release.name }}

- name: Publish a fetched release with everything taken from the fetch result
  terminology.releases.syndication_feed:
    path: /srv/syndication/feed
    base_url: https://terminology.example.org/syndication/
    releases:
      - "{{ uk_clinical }}"

- name: Withdraw a version from the feed (its file stays)
  terminology.releases.syndication_feed:
    path: /srv/syndication/feed
    base_url: https://terminology.example.org/syndication/
    entries:
      - version_uri: http://snomed.info/sct/999000021000000109/version/20200101
        state: absent
'''

RETURN = r'''
path:
  description: The feed file.
  returned: success
  type: str
  sample: /srv/syndication/feed
url:
  description: Where the feed is served (O(base_url) and the feed's file name).
  returned: success
  type: str
  sample: https://terminology.example.org/syndication/feed
entries:
  description:
    - The feed's entries after the run, in the shape M(terminology.releases.syndication_feed_info) returns them.
  returned: success
  type: list
  elements: dict
  sample:
    - id: urn:uuid:0e4b0c55-1a6b-5d4f-9a6e-2f8c5f1d9e21
      title: SNOMED CT UK Clinical Edition-Release 41.0.0
      identifier: http://snomed.info/sct/999000021000000109
      version: http://snomed.info/sct/999000021000000109/version/20251119
      version_uri: http://snomed.info/sct/999000021000000109/version/20251119
      category: {term: SCT_RF2_ALL, label: SNOMED CT RF2 All,
                 scheme: "http://ns.electronichealth.net.au/ncts/syndication/asf/scheme/1.0.0"}
      file_url: https://terminology.example.org/syndication/uk_sct2cl_41.0.0_20251119000001Z.zip
      length: 609629807
      sha256: 8151248ddc290f3affdabae22d88e0bbd118947d948ab7bdd37e74088cfba933
      updated: "2025-11-19T00:00:00Z"
added:
  description: Content item versions of the entries added.
  returned: success
  type: list
  elements: str
removed:
  description: Content item versions of the entries removed.
  returned: success
  type: list
  elements: str
updated:
  description: Content item versions of the entries whose content changed.
  returned: success
  type: list
  elements: str
'''

import datetime
import os
import re
import uuid
from urllib.parse import quote

from ansible_collections.terminology.releases.plugins.module_utils import (
    _argspec,
    _download,
    _feed,
    _feed_render,
    _fs,
    _hashing,
    _module,
)

SNOMED_MODULE_URI = re.compile(r'^https?://snomed\.info/sct/\d+$')
EPOCH = '1970-01-01T00:00:00Z'
FeedRenderError = _feed_render.FeedRenderError


def utc(text):
    """An ISO 8601 time or date as RFC 3339 UTC with Z (a time without zone is taken as UTC); None if it is none."""
    if not isinstance(text, str) or not text.strip():
        return None
    text = text.strip()
    try:
        if re.match(r'^\d{4}-\d{2}-\d{2}$', text):
            moment = datetime.datetime.fromisoformat(text + 'T00:00:00+00:00')
        else:
            moment = datetime.datetime.fromisoformat(text[:-1] + '+00:00' if text.endswith('Z') else text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def clean_text(value):
    """Text as the reader gives it back (white space runs with a line break collapsed), so a rewrite is stable."""
    if value is None:
        return None
    value = str(value)
    value = ' '.join(value.split()) if '\n' in value or '\r' in value else value.strip()
    return value or None


def release_kind(release):
    if not isinstance(release, dict) or release.get('failed') or release.get('skipped'):
        raise FeedRenderError('A release given to syndication_feed is not the result of a fetch that succeeded: %r.'
                              % (dict((key, release.get(key)) for key in ('failed', 'skipped', 'msg'))
                                 if isinstance(release, dict) else release,))
    if isinstance(release.get('entry'), dict):
        return 'feed'
    if isinstance(release.get('release'), dict):
        return 'trud'
    if isinstance(release.get('file'), dict) and 'package_id' in release:
        return 'mlds'
    raise FeedRenderError('A release given to syndication_feed is not a registered result of trud_release_fetch, '
                          'mlds_release_fetch or syndication_fetch (it has the keys %s).'
                          % ', '.join(sorted(release)))


class FeedKeeper:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.path = os.path.abspath(self.params['path'])
        self.directory, self.name = os.path.split(self.path)
        base_url = self.params['base_url']
        self.base_url = base_url if base_url.endswith('/') else base_url + '/'

    # ---- the feed as it is -------------------------------------------------------------------------------

    def read_existing(self):
        """(bytes or None, parsed feed or None) of the feed file."""
        if not os.path.lexists(self.path):
            return None, None
        if not os.path.isfile(self.path) or os.path.islink(self.path):
            raise FeedRenderError('path %s exists and is not a regular file; refusing to replace it.' % self.path)
        with open(self.path, 'rb') as handle:
            data = handle.read(_feed.MAX_FEED_BYTES + 1)
        try:
            return data, _feed.parse_feed(data, self.path)
        except _feed.FeedError as exc:
            raise FeedRenderError('path %s is not a feed this module can keep: %s Move it away, or choose another '
                                  'path.' % (self.path, exc)) from None

    @staticmethod
    def from_parsed(entry):
        """An entry of the existing feed, in the renderer's shape (its download link as the one link)."""
        link = _feed.download_link(entry['links']) or (entry['links'] or [{}])[0]
        kept = dict((key, entry.get(key)) for key in ('id', 'title', 'summary', 'identifier', 'version',
                                                      'version_uri', 'category', 'dependencies'))
        kept.update(updated=utc(entry.get('updated')) or entry.get('updated'), published=utc(entry.get('published')),
                    links=[dict((key, link.get(key)) for key in ('href', 'rel', 'type', 'length', 'sha256', 'md5'))])
        return kept

    # ---- the entries asked for ---------------------------------------------------------------------------

    def specs(self):
        specs = [{'release': release, 'state': 'present'} for release in self.params['releases']]
        return specs + list(self.params['entries'])

    def file_path(self, spec, release):
        """The release file named by the entry, which must be in the feed's directory or a directory under it (a
        mirror's store keeps <name>/<release>/<archive>); its name in the feed is its path relative to it."""
        given = spec.get('file')
        if given is None:
            given = (release or {}).get('path')
        if not given:
            raise FeedRenderError('An entry names no file: give file (or release, a registered fetch result).')
        top = os.path.realpath(self.directory)
        if os.path.isabs(given):
            parent, base = os.path.split(os.path.normpath(given))
            relative = os.path.relpath(os.path.realpath(parent), top)
            if relative == os.pardir or relative.startswith(os.pardir + os.sep):
                raise FeedRenderError('The file %s is not in the feed\'s directory %s; a feed links only the files '
                                      'served from it. Fetch or copy the release into %s.'
                                      % (given, self.directory, self.directory))
            parts = ([] if relative == os.curdir else relative.split(os.sep)) + [base]
        else:
            parts = given.split('/')
        for part in parts:
            problem = _fs.plain_file_name_problem(part)
            if problem:
                raise FeedRenderError('Refusing the file %r: it is not a plain file name in the feed\'s directory '
                                      '(%s).' % (given, problem))
        name = '/'.join(parts)
        if name == self.name:
            raise FeedRenderError('The file %r is the feed itself.' % given)
        path = os.path.join(self.directory, *parts)
        if len(parts) > 1 and os.path.realpath(os.path.dirname(path)) != os.path.join(top, *parts[:-1]):
            raise FeedRenderError('The file %r is reached through a symbolic link; a feed links only files in real '
                                  'directories under %s.' % (given, self.directory))
        return path, name

    def href(self, name):
        return self.base_url + quote(name)

    def facts(self, spec, release, kind, path, name):
        """(sha256, length, md5, record) of the file: given, from the release, from a current record, or hashed."""
        sha256 = spec.get('sha256') or (release or {}).get('sha256')
        length = spec.get('length') if spec.get('length') is not None else (release or {}).get('size')
        md5 = (release or {}).get('md5') or ((release or {}).get('entry') or {}).get('md5')
        exists = os.path.isfile(path) and not os.path.islink(path)
        if not exists:
            if os.path.lexists(path):
                raise FeedRenderError('%s is not a regular file; a feed entry links only regular files.' % path)
            if self.module.check_mode and release and release.get('changed') and sha256 and length is not None:
                # A fetch in the same check-mode run would have placed it: predict from what it reported.
                return sha256.lower(), length, md5, None
            raise FeedRenderError('The release file %s does not exist; fetch it into %s first.'
                                  % (path, self.directory))
        record = _download.read_record(path)
        if not _download.record_vouches(record, path, _download.Target(name, None)):
            record = None
        digests = (record or {}).get('digests') or {}
        if sha256 and digests.get('sha256') and digests['sha256'] != sha256.lower():
            raise FeedRenderError('The entry for %s gives the SHA-256 %s, but the file was verified as %s.'
                                  % (path, sha256.lower(), digests['sha256']))
        size = os.path.getsize(path)
        if length is not None and length != size:
            raise FeedRenderError('The entry for %s gives the length %s, but the file has %d bytes.'
                                  % (path, length, size))
        if not sha256 and digests.get('sha256'):
            sha256 = digests['sha256']
        if not sha256:
            size, hashed = _hashing.hash_file(path, ['sha256'])
            sha256 = hashed['sha256']
        return sha256.lower(), size, md5 or digests.get('md5'), record

    @staticmethod
    def defaults(kind, release, record):
        """What the release result says about the entry (identifier, version, title, dates, ...)."""
        if kind == 'feed':
            entry = release['entry']
            found = dict((key, entry.get(key)) for key in ('identifier', 'version', 'version_uri', 'title', 'summary',
                                                           'category', 'dependencies'))
            found.update(updated=utc(entry.get('updated')), published=utc(entry.get('published')))
            return found
        if kind == 'trud':
            info = release['release']
            item = ((record or {}).get('identity') or {}).get('item')
            date = info.get('release_date') or ''
            found = {'version': date.replace('-', '') or None, 'updated': utc(date), 'published': utc(date)}
            if item is not None:
                found['identifier'] = 'urn:trud:item:%s' % item
                found['title'] = 'TRUD item %s-%s' % (item, info.get('name') or info.get('id'))
            else:
                found['title'] = info.get('name') or info.get('id')
            return found
        if kind == 'mlds':
            return {'title': (release.get('file') or {}).get('label')}
        return {}

    def build(self, spec):
        release = spec.get('release')
        kind = release_kind(release) if release is not None else None
        path, name = self.file_path(spec, release)
        sha256, length, md5, record = self.facts(spec, release, kind, path, name)
        found = self.defaults(kind, release, record)
        for key in ('identifier', 'version', 'version_uri', 'title', 'summary', 'category', 'dependencies'):
            if spec.get(key) is not None:
                found[key] = spec[key]
        where = 'The entry for %s' % name
        identifier = clean_text(found.get('identifier'))
        if not identifier:
            raise FeedRenderError('%s has no identifier: give identifier (the content item, for SNOMED CT '
                                  'http://snomed.info/sct/<module id>)%s.'
                                  % (where, ' - an mlds_release_fetch result names no package URI' if kind == 'mlds'
                                     else ''))
        version, version_uri = clean_text(found.get('version')), clean_text(found.get('version_uri'))
        if not version_uri and version and SNOMED_MODULE_URI.match(identifier) and re.match(r'^\d{8}$', version):
            version_uri = '%s/version/%s' % (identifier, version)
        if not (version or version_uri):
            raise FeedRenderError('%s has no version: give version or version_uri.' % where)
        updated = found.get('updated') or utc((record or {}).get('verified_at')) or utc(
            datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc).isoformat()
            if os.path.exists(path) else None) or EPOCH
        entry = {
            'identifier': identifier, 'version': version, 'version_uri': version_uri,
            'title': clean_text(found.get('title')) or name, 'summary': clean_text(found.get('summary')),
            'updated': updated, 'published': found.get('published') or updated,
            'category': self.category(found.get('category'), name, where),
            'links': [{'href': self.href(name), 'rel': 'alternate', 'type': _feed_render.media_type(name),
                       'length': length, 'sha256': sha256, 'md5': md5.lower() if md5 else None}],
            'dependencies': [self.dependency(item, where) for item in found.get('dependencies') or []],
        }
        entry['id'] = _feed_render.entry_id(identifier, _feed_render.content_item_version(entry))
        return entry

    @staticmethod
    def category(value, name, where):
        if isinstance(value, dict) and value.get('term'):
            return _feed_render.category(value['term'], value.get('label'), value.get('scheme'))
        if isinstance(value, str) and value.strip():
            return _feed_render.category(value.strip())
        if value not in (None, '', {}):
            raise FeedRenderError('%s: category must be an NCTS term or a dictionary with term, label and scheme, '
                                  'not %r.' % (where, value))
        if _feed_render.media_type(name) == 'application/zip':
            return _feed_render.category(_feed_render.DEFAULT_ZIP_CATEGORY)
        raise FeedRenderError('%s: give its category (an NCTS term such as FHIR_Package); only a zip defaults to %s.'
                              % (where, _feed_render.DEFAULT_ZIP_CATEGORY))

    @staticmethod
    def dependency(item, where):
        if isinstance(item, str):
            return {'version_uri': item.strip(), 'kind': 'edition'}
        if isinstance(item, dict):
            version_uri = item.get('version_uri')
            if not version_uri and item.get('identifier') and item.get('version'):
                identifier, version = item['identifier'], str(item['version'])
                version_uri = ('%s/version/%s' % (identifier, version)
                               if SNOMED_MODULE_URI.match(identifier) and re.match(r'^\d{8}$', version) else version)
            version_uri = version_uri or item.get('version')
            if version_uri:
                return {'version_uri': str(version_uri).strip(), 'kind': item.get('kind') or 'edition'}
        raise FeedRenderError('%s: a dependency must be a version URI or a dictionary with version_uri (or identifier '
                              'and version), not %r.' % (where, item))

    # ---- the run -----------------------------------------------------------------------------------------

    def run(self):
        _module.warn_numeric_modes(self.module, 'mode')
        _fs.require_directory(self.directory, 'The directory of path', FeedRenderError, purpose='the feed')
        problem = _fs.plain_file_name_problem(self.name)
        if problem:
            raise FeedRenderError('path %s: the feed file name %r is not a plain file name (%s).'
                                  % (self.path, self.name, problem))
        if self.module.check_mode:
            return self.plan(write=False)
        with _fs.directory_lock(self.directory, self.params['lock_timeout'], error=FeedRenderError):
            return self.plan(write=True)

    def feed_id(self, existing):
        given = self.params['id']
        if given:
            given = given.strip()
            try:
                return 'urn:uuid:%s' % uuid.UUID(given)
            except ValueError:
                return given
        if existing and existing.get('id'):
            return existing['id']
        return 'urn:uuid:%s' % uuid.uuid5(uuid.NAMESPACE_URL, self.href(self.name))

    def plan(self, write):
        old_bytes, existing = self.read_existing()
        old = dict((_feed_render.content_item_version(entry), self.from_parsed(entry))
                   for entry in (existing or {}).get('entries') or [])
        new = {} if self.params['exclusive'] else dict(old)
        for spec in self.specs():
            if spec.get('state') == 'absent':
                self.remove(new, spec)
            else:
                entry = self.build(spec)
                new[_feed_render.content_item_version(entry)] = entry
        entries = list(new.values())
        meta = {
            'id': self.feed_id(existing), 'title': self.params['title'], 'author': self.params['author'],
            'self_url': self.href(self.name), 'generator': 'terminology.releases',
            'updated': max([entry['updated'] for entry in entries] or [(existing or {}).get('updated') or EPOCH]),
        }
        data = _feed_render.render_feed(meta, entries)
        changed = data != old_bytes
        if changed and write:
            _fs.atomic_write(self.path, data, self.octal_mode())
        if os.path.exists(self.path) and (write or not changed):
            changed = self.module.set_mode_if_different(self.path, self.params['mode'], changed)
        rendered = dict((_feed_render.content_item_version(entry), _feed_render.render_feed(meta, [entry]))
                        for entry in entries)
        previous = dict((key, _feed_render.render_feed(meta, [entry])) for key, entry in old.items()
                        if self.renderable(meta, entry))
        result = {
            'changed': changed, 'path': self.path, 'url': self.href(self.name),
            'entries': _feed.parse_feed(data, self.path)['entries'],
            'added': sorted(set(new) - set(old)), 'removed': sorted(set(old) - set(new)),
            'updated': sorted(key for key in set(new) & set(old) if rendered[key] != previous.get(key)),
        }
        if self.module._diff:
            result['diff'] = {'before': (old_bytes or b'').decode('utf-8', 'replace'), 'after': data.decode('utf-8'),
                              'before_header': self.path, 'after_header': self.path}
        return result

    @staticmethod
    def renderable(meta, entry):
        try:
            _feed_render.render_feed(meta, [entry])
        except FeedRenderError:
            return False
        return True

    def remove(self, entries, spec):
        keys = set()
        version_uri, version = clean_text(spec.get('version_uri')), clean_text(spec.get('version'))
        identifier = clean_text(spec.get('identifier'))
        if version and identifier and not version_uri and SNOMED_MODULE_URI.match(identifier):
            version_uri = '%s/version/%s' % (identifier, version) if re.match(r'^\d{8}$', version) else None
        for key, entry in entries.items():
            if key in (version_uri, version) and identifier in (None, entry.get('identifier')):
                keys.add(key)
            if spec.get('file'):
                name = self.file_path(spec, None)[1] if '/' in spec['file'] else os.path.basename(spec['file'])
                href = _feed_render.entry_link(entry).get('href') or ''
                if href == self.href(name) or href.rsplit('/', 1)[-1] == quote(name):
                    keys.add(key)
        if not (version_uri or version or spec.get('file')):
            raise FeedRenderError('An entry with state absent names nothing to remove: give version_uri, version or '
                                  'file.')
        for key in keys:
            del entries[key]

    def octal_mode(self):
        mode = self.params['mode']
        if isinstance(mode, int) and not isinstance(mode, bool):
            return mode
        if isinstance(mode, str) and re.match(r'^0?[0-7]{3,4}$', mode.strip()):
            return int(mode.strip(), 8)
        return None  # symbolic: set by set_mode_if_different right after the write


def main():
    entry_options = dict(
        release=dict(type='dict'),
        file=dict(type='str'),
        identifier=dict(type='str'),
        version=dict(type='str'),
        version_uri=dict(type='str'),
        title=dict(type='str'),
        summary=dict(type='str'),
        category=dict(type='raw'),
        sha256=dict(type='str'),
        length=dict(type='int'),
        dependencies=dict(type='list', elements='raw'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
    )
    module = _argspec.ArgumentSpec(dict(
        path=dict(type='path', required=True),
        base_url=dict(type='str', required=True),
        id=dict(type='str'),
        title=dict(type='str', default='Terminology releases'),
        author=dict(type='str', default='terminology.releases'),
        entries=dict(type='list', elements='dict', default=[], options=entry_options),
        releases=dict(type='list', elements='dict', default=[]),
        exclusive=dict(type='bool', default=False),
        mode=dict(type='raw', default='0644'),
        lock_timeout=dict(type='float', default=3600),
    )).create_module(supports_check_mode=True)
    _module.run(module, lambda: FeedKeeper(module).run())


if __name__ == '__main__':
    main()
