# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Terminology syndication feeds (Atom): reading one safely, its entries in one shape, selection, dependencies.

Two flavours are read:

* ``mlds``: SNOMED MLDS's ``/api/feed``. Recognised by its feed-level ``rel="alternate"`` link, which MLDS points at
  the ASF profile URI instead of the feed. MLDS writes its XML by string concatenation, so the reader tolerates
  what that produces: bare ``&`` (and undefined entity names) in text and attributes, the text ``null`` for unset
  values (``nullT00:00:00Z`` for an unset date), commas in ``length``, links in any order, several or no
  ``alternate`` links, ``type="application/zip?..."``.
* ``ncts``: the NCTS / HL7 FHIR syndication format (with SNOMED's ``sct:`` extension) that Ontoserver, the ADHA
  client and Snowstorm read, and that this collection publishes.

Safety: no DTD is ever processed. The bytes are decoded here (BOM, then the declared encoding, else UTF-8) and any
``<!DOCTYPE`` or ``<!ENTITY`` in the text is refused before the parser sees it, so no entity can be declared, let
alone expanded (no billion laughs, no external entity). Feeds are bounded by MAX_FEED_BYTES.

PRIVATE to this collection: it may change without notice.
"""

from __future__ import annotations

import codecs
import datetime
import os
import re
import xml.etree.ElementTree as ET
from urllib.parse import unquote, urlsplit

from ansible_collections.terminology.releases.plugins.module_utils._errors import ReleasesError
from ansible_collections.terminology.releases.plugins.module_utils._http import HttpError

MAX_FEED_BYTES = 16 * 1024 * 1024
# MLDS answers 406 to an Accept without application/atom+xml.
ACCEPT = 'application/atom+xml, application/xml;q=0.9, */*;q=0.1'

ATOM = 'http://www.w3.org/2005/Atom'
# Ontoserver's own preload example declares 0.1.0: accept both when reading.
NCTS = ('http://ns.electronichealth.net.au/ncts/syndication/asf/extensions/1.0.0',
        'http://ns.electronichealth.net.au/ncts/syndication/asf/extensions/0.1.0')
SCT = 'http://snomed.info/syndication/sct-extension/1.0.0'
ASF_PROFILE = 'http://ns.electronichealth.net.au/ncts/syndication/asf/profile/1.0.0'

# A SNOMED CT version URI: the module's identifier and the YYYYMMDD effective date.
SNOMED_VERSION_URI = re.compile(r'^(https?://snomed\.info/sct/\d+)/version/(\d{8})$')
_URI = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*:\S+$')
# An & that does not start one of XML's five entities or a character reference: MLDS writes them raw.
_BARE_AMPERSAND = re.compile(r'&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);)')
_DECLARED_ENCODING = re.compile(br'^\s*<\?xml[^>]*?\sencoding\s*=\s*["\']([A-Za-z0-9._-]+)["\']')
_DTD = re.compile(r'<!\s*(DOCTYPE|ENTITY)', re.IGNORECASE)
_LEADING_MISC = r'^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*'
_HTML = re.compile(_LEADING_MISC + r'<(?:!doctype\s+html|html[\s>])', re.IGNORECASE | re.DOTALL)
_HTML_TITLE = re.compile(r'<title[^>]*>(.*?)</title>', re.IGNORECASE | re.DOTALL)
_BOMS = ((codecs.BOM_UTF32_LE, 'utf-32'), (codecs.BOM_UTF32_BE, 'utf-32'), (codecs.BOM_UTF8, 'utf-8-sig'),
         (codecs.BOM_UTF16_LE, 'utf-16'), (codecs.BOM_UTF16_BE, 'utf-16'))


class FeedError(ReleasesError):
    """A feed that cannot be read or used, or a selection it cannot satisfy; the text says what to do."""


# ---- reading the bytes ---------------------------------------------------------------------------

def load(url, http_client=None):
    """(bytes, source) of the feed at url: http(s) through http_client() (called only then, so a local feed needs
    no HTTP library), a file:// URL or a local path. Never more than MAX_FEED_BYTES + 1 bytes are read."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ('http', 'https'):
        return _load_http(url, http_client()), url
    if scheme == 'file':
        if parts.netloc not in ('', 'localhost'):
            raise FeedError('url %s names a file on another host (%s); give a local path or file:///path.'
                            % (url, parts.netloc))
        path = unquote(parts.path)
    elif len(scheme) > 1:
        raise FeedError('url %s: the scheme %s is not supported; give an http(s) URL, a file:// URL or a local path.'
                        % (url, parts.scheme))
    else:
        path = url
    path = os.path.expanduser(path)
    try:
        with open(path, 'rb') as handle:
            return handle.read(MAX_FEED_BYTES + 1), path
    except OSError as exc:
        raise FeedError('Cannot read the feed file %s: %s.' % (path, exc.strerror or exc)) from None


def _load_http(url, http):
    try:
        response = http.request('GET', url, headers={'Accept': ACCEPT}, limit=MAX_FEED_BYTES)
    except HttpError as exc:
        hint = ''
        if exc.status in (401, 403):
            hint = (' The feed needs an account (or this one is refused): set username and password. MLDS serves '
                    'its feed without one; only the downloads need it.')
        elif exc.status == 404:
            hint = ' Check url: it must be the address of the feed document itself (MLDS: <site>/api/feed).'
        raise FeedError('%s.%s' % (exc, hint), status=exc.status) from None
    finally:
        http.close()
    return response.content


# ---- parsing -------------------------------------------------------------------------------------

def parse_feed(data, source):
    """The feed in data (bytes) as {'flavour', 'id', 'title', 'updated', 'entries'}; FeedError for anything that is
    not a safe, readable Atom feed, saying what it looks like instead. source names the feed in messages."""
    if len(data) > MAX_FEED_BYTES:
        raise FeedError('The feed %s is larger than %d bytes; refusing to read it.' % (source, MAX_FEED_BYTES))
    text = _decode(data, source)
    _refuse_non_feeds(text, source)
    root = _parse_xml(text, source)
    if root.tag != '{%s}feed' % ATOM:
        raise FeedError('%s is XML but not an Atom feed: its root element is %s, not <feed> in the Atom namespace '
                        '(%s).' % (source, _describe_tag(root.tag), ATOM))
    flavour = 'mlds' if _is_mlds(root) else 'ncts'
    return {
        'flavour': flavour,
        'id': _text(root.find('{%s}id' % ATOM)),
        'title': _text(root.find('{%s}title' % ATOM)),
        'updated': _timestamp(_text(root.find('{%s}updated' % ATOM))),
        'entries': [_entry(element, flavour) for element in root.findall('{%s}entry' % ATOM)],
    }


def _decode(data, source):
    if not isinstance(data, bytes):
        raise TypeError('parse_feed takes bytes')
    encoding = 'utf-8'
    for bom, name in _BOMS:
        if data.startswith(bom):
            encoding = name
            break
    else:
        match = _DECLARED_ENCODING.match(data[:512])
        if match:
            encoding = match.group(1).decode('ascii')
    try:
        return data.decode(encoding)
    except LookupError:
        raise FeedError('%s declares the unknown character encoding %r.' % (source, encoding)) from None
    except UnicodeDecodeError as exc:
        raise FeedError('%s is not valid %s text (byte %d): not a feed.' % (source, encoding, exc.start)) from None


def _refuse_non_feeds(text, source):
    stripped = text.strip()
    if not stripped:
        raise FeedError('%s is empty: no feed document was given.' % source)
    if stripped[0] in '{[':
        raise FeedError('%s is JSON, not an Atom feed (it starts %r). Is url the address of the feed document?'
                        % (source, _start(stripped)))
    if _HTML.match(text):
        title = _HTML_TITLE.search(text)
        titled = (' titled %r' % ' '.join(title.group(1).split())[:100]) if title else ''
        raise FeedError('%s is an HTML page%s, not an Atom feed: a login, error or portal page instead of the feed? '
                        'Check url.' % (source, titled))
    if _DTD.search(text):
        raise FeedError('%s contains a document type or entity declaration (<!DOCTYPE or <!ENTITY); refused: a feed '
                        'never needs one, and entities can expand without bound or read local files.' % source)
    if not stripped.startswith('<'):
        raise FeedError('%s is not XML (it starts %r), so not an Atom feed.' % (source, _start(stripped)))


def _parse_xml(text, source):
    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        repaired = _BARE_AMPERSAND.sub('&amp;', text)
        if repaired == text:
            raise FeedError('%s is not well-formed XML (%s), so not a readable feed.' % (source, exc)) from None
    try:
        return ET.fromstring(repaired)
    except ET.ParseError as exc:
        raise FeedError('%s is not well-formed XML (%s, even with its bare "&" escaped), so not a readable feed.'
                        % (source, exc)) from None


def _start(text):
    return ' '.join(text[:40].split())


def _describe_tag(tag):
    if tag.startswith('{'):
        namespace, local = tag[1:].split('}', 1)
        return '<%s> in the namespace %s' % (local, namespace)
    return '<%s> (no namespace)' % tag


def _is_mlds(root):
    """MLDS points the feed's alternate link at the ASF profile URI (AtomFeedService renders atom.feed.profile)."""
    return any((link.get('rel') or 'alternate').strip() == 'alternate'
               and (link.get('href') or '').strip() == ASF_PROFILE for link in root.findall('{%s}link' % ATOM))


# ---- values --------------------------------------------------------------------------------------

def _text(element):
    """Trimmed text of an element; None when absent, empty or MLDS's 'null'."""
    if element is None:
        return None
    return _value(''.join(element.itertext()))


def _value(text):
    if text is None:
        return None
    text = ' '.join(text.split()) if '\n' in text else text.strip()
    return None if text in ('', 'null') else text


def _timestamp(text):
    """The ISO 8601 time as written (a time without zone is kept: feeds use it), or None when it is not one."""
    if text is None:
        return None
    try:
        datetime.datetime.fromisoformat(text[:-1] + '+00:00' if text.endswith('Z') else text)
    except ValueError:
        return None
    return text


def _length(text):
    """An int from a length attribute; commas (MLDS keeps what staff typed) ignored; None when not a number."""
    text = (_value(text) or '').replace(',', '')
    return int(text) if text.isdigit() else None


def _digest(text):
    # Kept even when malformed (lower-cased), so that verification fails instead of being skipped.
    text = _value(text)
    return text.lower() if text else None


def _ncts(element, name):
    for namespace in NCTS:
        found = element.find('{%s}%s' % (namespace, name))
        if found is not None:
            return found
    return None


def _ncts_attribute(element, name):
    for namespace in NCTS:
        value = element.get('{%s}%s' % (namespace, name))
        if value is not None:
            return value
    return None


def version_fields(flavour, raw):
    """(version, version_uri) of a content item version as the feed writes it. NCTS: the version as written, and
    also the URI when it is one. MLDS: the SNOMED CT date when the versionURI is a SNOMED version URI (else the
    versionURI), and the versionURI."""
    if raw is None:
        return None, None
    if flavour == 'mlds':
        match = SNOMED_VERSION_URI.match(raw)
        return (match.group(2) if match else raw), raw
    return raw, (raw if _URI.match(raw) else None)


def _link(element):
    return {
        'href': _value(element.get('href')),
        'rel': _value(element.get('rel')) or 'alternate',  # RFC 4287: no rel means alternate
        'type': _value(element.get('type')),
        'length': _length(element.get('length')),
        'sha256': _digest(_ncts_attribute(element, 'sha256Hash')),
        'md5': _digest(element.get('{%s}md5Hash' % SCT)),
        'title': _value(element.get('title')),
    }


def media_type(link):
    """The link's media type without parameters or the query string MLDS can leak into it, lower case."""
    return re.split(r'[;?]', link.get('type') or '', maxsplit=1)[0].strip().lower()


def download_link(links):
    """The link a consumer downloads: rel=alternate with type application/zip, else the first alternate or
    enclosure; None when an entry has only related links."""
    for link in links:
        if link['rel'] == 'alternate' and media_type(link) == 'application/zip':
            return link
    for link in links:
        if link['rel'] in ('alternate', 'enclosure'):
            return link
    return None


def _dependency(flavour, uri):
    match = SNOMED_VERSION_URI.match(uri)
    version, version_uri = version_fields(flavour, uri)
    return {'identifier': match.group(1) if match else None, 'version': version, 'version_uri': version_uri}


def _entry(element, flavour):
    links = [_link(link) for link in element.findall('{%s}link' % ATOM)]
    category = element.find('{%s}category' % ATOM)
    version, version_uri = version_fields(flavour, _text(_ncts(element, 'contentItemVersion')))
    dependencies = []
    for package in element.findall('{%s}packageDependency' % SCT):
        for child in package:
            if child.tag in ('{%s}editionDependency' % SCT, '{%s}derivativeDependency' % SCT) and _text(child):
                kind = 'derivative' if child.tag.endswith('}derivativeDependency') else 'edition'
                dependencies.append(dict(_dependency(flavour, _text(child)), kind=kind))
    chosen = download_link(links) or {}
    return {
        'id': _text(element.find('{%s}id' % ATOM)),
        'title': _text(element.find('{%s}title' % ATOM)),
        'summary': _text(element.find('{%s}summary' % ATOM)),
        'published': _timestamp(_text(element.find('{%s}published' % ATOM))),
        'updated': _timestamp(_text(element.find('{%s}updated' % ATOM))),
        'identifier': _text(_ncts(element, 'contentItemIdentifier')),
        'version': version,
        'version_uri': version_uri,
        'category': None if category is None else dict(
            (name, _value(category.get(name))) for name in ('term', 'scheme', 'label')),
        'links': links,
        'file_url': chosen.get('href'),
        'length': chosen.get('length'),
        'sha256': chosen.get('sha256'),
        'md5': chosen.get('md5'),
        'dependencies': dependencies,
    }


# ---- selection -----------------------------------------------------------------------------------

def _version_matches(entry, version):
    """One rule for every flavour: the version as the entry gives it, its version URI, or (for a SNOMED CT version
    URI) its YYYYMMDD date."""
    if version in (entry['version'], entry['version_uri']):
        return True
    match = SNOMED_VERSION_URI.match(entry['version_uri'] or entry['version'] or '')
    return bool(match) and match.group(2) == version


def _natural(text):
    """Sort key that orders 2.10 after 2.9 and 20250401 after 20250301."""
    return [(0, int(part), '') if part.isdigit() else (1, 0, part) for part in re.findall(r'\d+|\D+', text or '')]


def _newness(entry):
    match = SNOMED_VERSION_URI.match(entry['version_uri'] or entry['version'] or '')
    return (_natural(match.group(2) if match else entry['version']), entry['updated'] or '')


def _describe(entry):
    term = (entry['category'] or {}).get('term')
    return '%r (id %s%s)' % (entry['title'], entry['id'], ', category %s' % term if term else '')


def _identifiers(entries):
    return sorted(set(entry['identifier'] for entry in entries if entry['identifier']))


def _versions_of(entries):
    return ', '.join(sorted(set(entry['version'] or '(none)' for entry in entries), key=_natural)) or 'none'


def _one(matches, what):
    if len(matches) > 1:
        raise FeedError('The feed has %d entries for %s, where a content item version must be unique: %s.'
                        % (len(matches), what, '; '.join(_describe(entry) for entry in matches)))
    return matches[0]


def select_entry(entries, identifier=None, version=None, version_uri=None):
    """The entry with identifier and version, or with version_uri, or the newest of identifier (by version, then
    updated). Without identifier, the feed's only content item is meant. FeedError, listing what the feed has,
    when nothing or more than one entry fits."""
    if version_uri is not None:
        matches = [entry for entry in entries if version_uri in (entry['version_uri'], entry['version'])
                   and identifier in (None, entry['identifier'])]
        if not matches:
            raise FeedError('The feed has no entry with the version URI %s%s. It has: %s.' % (
                version_uri, ' for %s' % identifier if identifier else '',
                ', '.join(sorted(set(entry['version_uri'] or entry['version'] or '(none)' for entry in entries)))
                or 'no entries'))
        return _one(matches, 'the version URI %s' % version_uri)
    if identifier is None:
        identifiers = _identifiers(entries)
        if len(identifiers) != 1:
            raise FeedError('Name the content item (identifier): the feed has %s.' % (
                'these: %s' % ', '.join(identifiers) if identifiers else 'no entries with one'))
        identifier = identifiers[0]
    items = [entry for entry in entries if entry['identifier'] == identifier]
    if not items:
        raise FeedError('The feed has no entry for the content item %s. Content items in the feed: %s.'
                        % (identifier, ', '.join(_identifiers(entries)) or 'none'))
    if version is not None:
        matches = [entry for entry in items if _version_matches(entry, version)]
        if not matches:
            raise FeedError('The feed has no version %s of %s. Versions in the feed: %s.'
                            % (version, identifier, _versions_of(items)))
        return _one(matches, '%s version %s' % (identifier, version))
    items = sorted(items, key=_newness, reverse=True)
    return _one([entry for entry in items if _newness(entry) == _newness(items[0])],
                'the newest version of %s' % identifier)


def dependency_entries(entries, entry):
    """The entries entry depends on, directly or not, prerequisites first; FeedError naming a missing one."""
    ordered = []

    def visit(current, path):
        for dependency in current['dependencies']:
            try:
                found = select_entry(entries, dependency['identifier'],
                                     version_uri=dependency['version_uri'] or dependency['version'])
            except FeedError as exc:
                raise FeedError('%s depends on %s, which the feed cannot give: %s'
                                % (_describe(current), dependency['version_uri'], exc)) from None
            if any(found is seen for seen in path):
                raise FeedError('%s depends on itself through %s.' % (_describe(found), dependency['version_uri']))
            if not any(found is seen for seen in ordered):
                visit(found, path + [found])
                ordered.append(found)

    visit(entry, [entry])
    return ordered
