# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Rendering a terminology syndication feed (Atom, NCTS / HL7 flavour) that the real readers accept.

render_feed(meta, entries) takes entries in the shape _feed.parse_feed returns and writes, through an XML writer
(every value escaped), a document that:

* binds Atom as the default namespace, spelt exactly xmlns="http://www.w3.org/2005/Atom" with double quotes
  (Snowstorm's clients remove that literal text before unmarshalling);
* gives every entry exactly one <link> and exactly one <category> (the NCTS reference client rejects a feed with
  any other count), the link with length and a lower-case ncts:sha256Hash (the ADHA client compares it
  case-sensitively; Ontoserver checks it), type application/zip for zips (the only type Snowstorm takes);
* always writes ncts:contentItemVersion (Snowstorm Lite fails on an entry without one);
* is deterministic: the same input gives the same bytes (entries sorted, no clock read here).

PRIVATE to this collection: it may change without notice.
"""

from __future__ import annotations

import io
import re
import uuid
from urllib.parse import urlsplit
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesNSImpl

from ansible_collections.terminology.releases.plugins.module_utils._errors import ReleasesError

ATOM = 'http://www.w3.org/2005/Atom'
NCTS = 'http://ns.electronichealth.net.au/ncts/syndication/asf/extensions/1.0.0'
SCT = 'http://snomed.info/syndication/sct-extension/1.0.0'
ASF_PROFILE = 'http://ns.electronichealth.net.au/ncts/syndication/asf/profile/1.0.0'
NCTS_SCHEME = 'http://ns.electronichealth.net.au/ncts/syndication/asf/scheme/1.0.0'
NAMESPACES = (('', ATOM), ('ncts', NCTS), ('sct', SCT))

# The NCTS scheme's terms and labels (NCTS Table 3, the HL7 IG's SyndicationContentType).
CATEGORY_LABELS = {
    'SCT_RF2_ALL': 'SNOMED CT RF2 All',
    'SCT_RF2_FULL': 'SNOMED CT RF2 Full',
    'SCT_RF2_SNAPSHOT': 'SNOMED CT RF2 Snapshot',
    'SCT_RF2_DELTA': 'SNOMED CT RF2 Delta',
    'FHIR_CodeSystem': 'FHIR CodeSystem',
    'FHIR_ValueSet': 'FHIR ValueSet',
    'FHIR_ConceptMap': 'FHIR ConceptMap',
    'FHIR_StructureDefinition': 'FHIR StructureDefinition',
    'FHIR_Bundle': 'FHIR Bundle',
    'FHIR_Package': 'FHIR Package',
    'LOINC': 'LOINC',
    'AMT_CSV': 'Australian Medicines Terminology, Comma Separated Values',
}
# What a zip of terminology releases is unless said otherwise: TRUD's and MLDS's RF2 archives carry Full,
# Snapshot and Delta, which the NCTS scheme calls SCT_RF2_ALL.
DEFAULT_ZIP_CATEGORY = 'SCT_RF2_ALL'
MEDIA_TYPES = (('.zip', 'application/zip'), ('.tgz', 'application/gzip'), ('.tar.gz', 'application/gzip'),
               ('.json', 'application/json'), ('.xml', 'application/xml'), ('.pdf', 'application/pdf'))
DEPENDENCY_KINDS = ('edition', 'derivative')

_SHA256 = re.compile(r'^[0-9a-f]{64}$')
_MD5 = re.compile(r'^[0-9a-f]{32}$')
# Characters XML 1.0 cannot carry at all (not even escaped).
_NOT_XML = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]')
_TIMESTAMP = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$')


class FeedRenderError(ReleasesError):
    """An entry that cannot be published as it is; the text names the entry and the field."""


def media_type(name):
    """The link type for a file name: application/zip for a zip (what Snowstorm looks for), else by extension."""
    lower = name.lower()
    for suffix, value in MEDIA_TYPES:
        if lower.endswith(suffix):
            return value
    return 'application/octet-stream'


def category(term, label=None, scheme=None):
    """A category dict for an NCTS term (its label and the NCTS scheme filled in), or for any term with both given."""
    if label is None and term in CATEGORY_LABELS:
        label = CATEGORY_LABELS[term]
    if label is None:
        raise FeedRenderError('The category term %r is not one of the NCTS terms (%s): give its label (and scheme) '
                              'too.' % (term, ', '.join(sorted(CATEGORY_LABELS))))
    return {'term': term, 'label': label, 'scheme': scheme or NCTS_SCHEME}


def entry_id(identifier, content_item_version):
    """A stable entry id for a content item version: the same release always gets the same id."""
    return 'urn:uuid:%s' % uuid.uuid5(uuid.NAMESPACE_URL, '%s|%s' % (identifier, content_item_version))


def content_item_version(entry):
    """What ncts:contentItemVersion holds: the version URI when there is one, else the version as given."""
    return entry.get('version_uri') or entry.get('version')


def entry_link(entry):
    """The entry's one link: links[0], or the link made of file_url, length, sha256 and md5."""
    links = entry.get('links')
    if links:
        if len(links) != 1:
            raise FeedRenderError('%s has %d links; a published entry has exactly one (the NCTS reference client '
                                  'rejects the whole feed otherwise).' % (_name(entry), len(links)))
        return links[0]
    return {'href': entry.get('file_url'), 'rel': 'alternate', 'type': None, 'length': entry.get('length'),
            'sha256': entry.get('sha256'), 'md5': entry.get('md5')}


def sort_key(entry):
    return (entry.get('identifier') or '', content_item_version(entry) or '', entry.get('id') or '')


def sorted_entries(entries):
    """Entries by content item, the newest (by updated, then version) first within each: a stable order."""
    newest_first = sorted(entries, key=lambda entry: (entry.get('updated') or '', sort_key(entry)[1:]), reverse=True)
    return sorted(newest_first, key=lambda entry: entry.get('identifier') or '')


def render_feed(meta, entries):
    """The feed document (UTF-8 bytes, ending in a newline) for meta and entries.

    meta: id, title, updated (RFC 3339), and optionally author (a name), self_url (the feed's own URL), generator,
    subtitle. entries: dicts shaped as _feed.parse_feed returns them (links: at most one; without links, file_url,
    length, sha256 and md5 make the link), each with id, title, updated, identifier and a version."""
    for field in ('id', 'title', 'updated'):
        _require(meta.get(field), 'the feed', field)
    _check_timestamp(meta['updated'], 'the feed', 'updated')
    entries = sorted_entries(entries)
    _check_unique(entries)
    out = io.StringIO()
    writer = _Writer(out)
    writer.start('feed', namespaces=NAMESPACES)
    writer.text_element('id', meta['id'], 1)
    writer.text_element('title', meta['title'], 1)
    if meta.get('subtitle'):
        writer.text_element('subtitle', meta['subtitle'], 1)
    writer.text_element('updated', meta['updated'], 1)
    if meta.get('generator'):
        writer.text_element('generator', meta['generator'], 1)
    if meta.get('author'):
        writer.author(meta['author'], 1)
    if meta.get('self_url'):
        writer.empty('link', 1, [(None, 'rel', 'self'), (None, 'type', 'application/atom+xml'),
                                 (None, 'href', meta['self_url'])])
    writer.text_element((NCTS, 'atomSyndicationFormatProfile'), ASF_PROFILE, 1)
    for entry in entries:
        _entry(writer, entry, meta.get('author'))
    writer.end('feed', 0)
    return (out.getvalue() + '\n').encode('utf-8')


def _name(entry):
    return 'The entry %r (%s)' % (entry.get('title'), content_item_version(entry) or entry.get('id'))


def _require(value, where, field):
    if value in (None, ''):
        raise FeedRenderError('%s has no %s, which a published feed needs.' % (where, field))
    if not isinstance(value, str):
        raise FeedRenderError('%s: %s must be text, not %r.' % (where, field, value))
    if _NOT_XML.search(value):
        raise FeedRenderError('%s: %s contains control characters that XML cannot carry: %r.' % (where, field, value))
    return value


def _check_timestamp(value, where, field):
    if not _TIMESTAMP.match(value):
        raise FeedRenderError('%s: %s %r is not an RFC 3339 time with a zone (for example 2026-03-01T00:00:00Z).'
                              % (where, field, value))


def _check_unique(entries):
    seen = {}
    for entry in entries:
        for key, what in ((content_item_version(entry), 'content item version'), (entry.get('id'), 'id')):
            if key in seen.get(what, {}):
                raise FeedRenderError('Two entries have the %s %s (%r and %r); it must be unique within a feed.'
                                      % (what, key, seen[what][key].get('title'), entry.get('title')))
            seen.setdefault(what, {})[key] = entry


def _entry(writer, entry, author):
    where = _name(entry)
    for field in ('id', 'title', 'updated', 'identifier'):
        _require(entry.get(field), where, field)
    _require(content_item_version(entry), where, 'version')
    _check_timestamp(entry['updated'], where, 'updated')
    if entry.get('published'):
        _check_timestamp(entry['published'], where, 'published')
    link = entry_link(entry)
    chosen = entry.get('category')
    if not chosen or not chosen.get('term'):
        raise FeedRenderError('%s has no category; a published entry has exactly one.' % where)
    writer.start('entry', 1)
    writer.text_element('id', entry['id'], 2)
    writer.text_element('title', entry['title'], 2)
    if entry.get('summary'):
        writer.text_element('summary', _require(entry['summary'], where, 'summary'), 2)
    if author:
        writer.author(author, 2)
    writer.text_element('updated', entry['updated'], 2)
    if entry.get('published'):
        writer.text_element('published', entry['published'], 2)
    writer.empty('category', 2, [(None, 'term', _require(chosen['term'], where, 'category term')),
                                 (None, 'label', _require(chosen.get('label'), where, 'category label')),
                                 (None, 'scheme', _require(chosen.get('scheme'), where, 'category scheme'))])
    writer.empty('link', 2, _link_attributes(link, where))
    writer.text_element((NCTS, 'contentItemIdentifier'), entry['identifier'], 2)
    writer.text_element((NCTS, 'contentItemVersion'), content_item_version(entry), 2)
    dependencies = entry.get('dependencies') or []
    if dependencies:
        writer.start((SCT, 'packageDependency'), 2)
        for dependency in dependencies:
            kind = dependency.get('kind') or 'edition'
            if kind not in DEPENDENCY_KINDS:
                raise FeedRenderError('%s: a dependency kind is %r; it is edition or derivative.' % (where, kind))
            writer.text_element((SCT, kind + 'Dependency'),
                                _require(content_item_version(dependency), where, 'dependency version'), 3)
        writer.end((SCT, 'packageDependency'), 2)
    writer.end('entry', 1)


def _link_attributes(link, where):
    href = _require(link.get('href'), where, 'link href')
    length = link.get('length')
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise FeedRenderError('%s: the link length must be a whole number of bytes, not %r (the NCTS client and '
                              'Snowstorm parse it as digits).' % (where, length))
    sha256 = link.get('sha256')
    if not isinstance(sha256, str) or not _SHA256.match(sha256):
        raise FeedRenderError('%s: the link needs a SHA-256 of 64 lower-case hex digits, not %r (Ontoserver and the '
                              'NCTS client verify downloads by it).' % (where, sha256))
    attributes = [(None, 'rel', 'alternate'), (None, 'type', link.get('type') or media_type(urlsplit(href).path)),
                  (None, 'href', href), (None, 'length', str(length)), (NCTS, 'sha256Hash', sha256)]
    md5 = link.get('md5')
    if md5:
        if not isinstance(md5, str) or not _MD5.match(md5):
            raise FeedRenderError('%s: the link MD5 %r is not 32 lower-case hex digits.' % (where, md5))
        attributes.append((SCT, 'md5Hash', md5))
    return attributes


class _Writer:
    """Indented namespace-aware XML through the standard library's XMLGenerator (which escapes every value)."""

    def __init__(self, out):
        self.xml = XMLGenerator(out, encoding='utf-8', short_empty_elements=True)
        self.xml.startDocument()

    @staticmethod
    def _name(name):
        return name if isinstance(name, tuple) else (ATOM, name)

    def _attributes(self, attributes):
        values, qnames = {}, {}
        for namespace, local, value in attributes or ():
            values[(namespace, local)] = value
            qnames[(namespace, local)] = local if namespace is None else '%s:%s' % (
                dict((uri, prefix) for prefix, uri in NAMESPACES)[namespace], local)
        return AttributesNSImpl(values, qnames)

    def indent(self, depth):
        self.xml.ignorableWhitespace('\n' + '  ' * depth)

    def start(self, name, depth=0, attributes=None, namespaces=()):
        for prefix, uri in namespaces:
            self.xml.startPrefixMapping(prefix or None, uri)
        if depth:
            self.indent(depth)
        self.xml.startElementNS(self._name(name), None, self._attributes(attributes))

    def end(self, name, depth):
        self.indent(depth)
        self.xml.endElementNS(self._name(name), None)

    def empty(self, name, depth, attributes):
        self.indent(depth)
        self.xml.startElementNS(self._name(name), None, self._attributes(attributes))
        self.xml.endElementNS(self._name(name), None)

    def text_element(self, name, text, depth):
        self.indent(depth)
        self.xml.startElementNS(self._name(name), None, self._attributes(None))
        self.xml.characters(text)
        self.xml.endElementNS(self._name(name), None)

    def author(self, name, depth):
        self.start('author', depth)
        self.text_element('name', name, depth + 1)
        self.end('author', depth)
