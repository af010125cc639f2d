# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The sandbox's two syndication feeds over real HTTP: MLDS's /api/feed (rendered as MLDS 5.2 renders it, compared
with a captured live MLDS feed when one is available) and the NCTS feed over generated archives, their control calls,
feed faults and the request log."""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import re
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote

import pytest

from mlds_itest import package_seed, sandbox  # noqa: F401 pylint: disable=unused-import

ATOM = '{http://www.w3.org/2005/Atom}'
NCTS = '{http://ns.electronichealth.net.au/ncts/syndication/asf/extensions/1.0.0}'
SCT = '{http://snomed.info/syndication/sct-extension/1.0.0}'
SCHEME = 'http://ns.electronichealth.net.au/ncts/syndication/asf/scheme/1.0.0'
# A real MLDS feed captured from mlds.ihtsdotools.org (not part of the repository); its structure is also spelled
# out in MLDS_ENTRY_CHILDREN below, so the comparison with it only adds to what always runs.
CAPTURED = Path(os.environ.get('SYNDICATION_FIXTURES', Path(__file__).resolve().parents[3] / 'shared' / 'fixtures'
                               / 'syndication')) / 'mlds-feed-captured-2025-03.xml'
MLDS_FEED_CHILDREN = ['title', 'link', 'id', 'generator', 'updated', NCTS + 'atomSyndicationFormatProfile']
MLDS_ENTRY_CHILDREN = ['title', 'link', 'link', 'category', 'author', 'id', 'rights', 'updated', 'published',
                       'summary', NCTS + 'contentItemIdentifier', NCTS + 'contentItemVersion', SCT + 'packageDependency']
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url, headers=None, auth=None):
    """(status, headers, body) of a GET; `auth` is (username, password) for pre-emptive Basic."""
    headers = dict(headers or {})
    if auth:
        headers['Authorization'] = 'Basic ' + base64.b64encode(('%s:%s' % auth).encode()).decode()
    try:
        with OPENER.open(urllib.request.Request(url, headers=headers), timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers, exc.read()


def local(tag):
    """A tag without the Atom namespace (other namespaces kept)."""
    return tag[len(ATOM):] if tag.startswith(ATOM) else tag


def children(element):
    return [local(child.tag) for child in element]


def entries_by_version(root):
    return dict((entry.findtext(NCTS + 'contentItemVersion'), entry) for entry in root.iter(ATOM + 'entry'))


# --- MLDS /api/feed -------------------------------------------------------------------------------


def seed_extension(sandbox, name='SNOMED CT Sweden Edition', **extra):  # pylint: disable=redefined-outer-name
    """An SE extension with the publishing cases of MLDS's listAtomFeed query, keyed by version name."""
    def version(name, release_type='online', uri=True, files=True, **fields):
        spec = {'name': name, 'releaseType': release_type, 'publishedAt': '2025-03-15', 'summary': name + ' summary',
                'packageType': 'SCT_RF2_ALL', 'versionDependentURI': INTERNATIONAL_URI}
        if uri:
            spec['versionURI'] = 'http://snomed.info/sct/45991000052106/version/' + name
        if files:
            # S3 URLs: an http storage URL carries a query string, whose & breaks the feed as it would on MLDS
            spec['files'] = [
                {'label': 'RF2', 'primaryFile': True,
                 'storage': {'name': 'se/%s.zip' % name, 'size': 4096, 'seed': 7, 'url_style': 's3'}},
                {'label': 'Notes', 'primaryFile': False,
                 'storage': {'name': 'se/%s.pdf' % name, 'size': 999, 'seed': 8, 'url_style': 's3'}}]
        spec.update(fields)
        return spec
    versions = [version('20250315'), version('20250316', files=False), version('20250317', release_type='offline'),
                version('20250318', uri=False), version('20250319', archive=True),
                version('20250320', release_type='Online', packageType='SCT_RF2_DELTA')]
    fields = {'releasePackageURI': 'http://snomed.info/sct/45991000052106', 'copyrights': '(c) Socialstyrelsen'}
    fields.update(extra)
    return sandbox.mlds_seed({'packages': [package_seed(name, versions=versions, **fields)]})['packages'][0]


INTERNATIONAL_URI = 'http://snomed.info/sct/900000000000207008/version/20250101'


def test_mlds_feed_publishes_what_mlds_52_selects_one_entry_per_version(sandbox):  # pylint: disable=redefined-outer-name
    seed_extension(sandbox)
    seed_extension(sandbox, name='No URI package', releasePackageURI='')
    status, headers, body = get(sandbox.mlds_feed_url, {'Accept': 'application/atom+xml'})
    assert status == 200 and headers['Content-Type'] == 'application/atom+xml'
    root = ET.fromstring(body)
    shown = sorted(entries_by_version(root))
    prefix = 'http://snomed.info/sct/45991000052106/version/'
    # online with files, archived but online, 'Online' in another case; not: no files, offline, no versionURI,
    # a package without URI
    assert shown == sorted([INTERNATIONAL_URI, prefix + '20250315', prefix + '20250319', prefix + '20250320'])
    entry = entries_by_version(root)[prefix + '20250315']
    assert children(entry) == MLDS_ENTRY_CHILDREN
    assert entry.findtext(ATOM + 'title') == 'SNOMED CT Sweden Edition-20250315'
    assert entry.findtext(ATOM + 'author/' + ATOM + 'name') == 'Socialstyrelsen'
    assert entry.findtext(ATOM + 'published') == '2025-03-15T00:00:00Z'
    assert entry.find(SCT + 'packageDependency/' + SCT + 'editionDependency').text == INTERNATIONAL_URI
    links = dict((link.get('rel'), link) for link in entry.iter(ATOM + 'link'))
    assert links['alternate'].get('type') == 'application/zip' and links['related'].get('type') == 'application/pdf'
    assert entries_by_version(root)[prefix + '20250320'].find(ATOM + 'category').get('term') == 'OTHER'

    # Links are MLDS's download proxy: the feed is anonymous, the files are not.
    href = links['alternate'].get('href')
    assert re.search(r'/api/releasePackages/\d+/releaseVersions/\d+/releaseFiles/\d+/download$', href)
    assert get(href)[0] == 401
    status, _headers, data = get(href, auth=sandbox.users['staff_se'])
    assert status == 200 and len(data) == int(links['alternate'].get('length'))
    assert hashlib.md5(data).hexdigest() == links['alternate'].get(SCT + 'md5Hash')
    kinds = [entry['kind'] for entry in sandbox.log()]
    assert kinds.count('mlds_feed') == 1 and kinds.count('mlds_download') == 2


def test_mlds_feed_keeps_mlds_defects(sandbox):  # pylint: disable=redefined-outer-name
    """No escaping (a query string in a storage URL leaks into `type`), `null` texts, no length/md5 without both."""
    sandbox.mlds_seed({'packages': [package_seed('Defects & co', member='DK', releasePackageURI='http://x/dk', versions=[
        {'name': 'v1', 'releaseType': 'online', 'versionURI': 'http://x/dk/version/1', 'files': [
            {'label': 'zip', 'primaryFile': True, 'downloadUrl': 'https://dl.example/pkg.zip?rlkey=abc&dl=0',
             'md5Hash': None, 'fileSize': '1024'}]}])]})
    status, _headers, body = get(sandbox.mlds_feed_url)
    assert status == 200
    with pytest.raises(ET.ParseError):
        ET.fromstring(body)
    text = body.decode()
    assert '<title>Defects & co-v1</title>' in text
    assert 'type="application/zip?rlkey=abc&dl=0"' in text
    assert re.search(r'<link rel="alternate" type="[^"]*" href="[^"]*/download" />', text)  # neither length nor md5
    assert '<email>null</email>' in text and '<summary>null</summary>' in text and 'nullT00:00:00Z' in text
    assert text.endswith('</entry>\n</feed>')


def test_mlds_feed_gzip_and_406(sandbox):  # pylint: disable=redefined-outer-name
    status, headers, body = get(sandbox.mlds_feed_url, {'Accept-Encoding': 'gzip'})
    assert status == 200 and headers['Content-Encoding'] == 'gzip'
    assert ET.fromstring(gzip.decompress(body)).tag == ATOM + 'feed'
    assert get(sandbox.mlds_feed_url, {'Accept': 'application/json'})[0] == 406
    assert get(sandbox.mlds_feed_url, {'Accept': 'application/json, */*;q=0.5'})[0] == 200
    assert get(sandbox.mlds_feed_url, auth=('admin', 'wrong'))[0] == 401  # bad credentials fail on every /api path


def test_mlds_feed_has_the_captured_feeds_layout(sandbox):  # pylint: disable=redefined-outer-name
    seed_extension(sandbox)
    body = get(sandbox.mlds_feed_url)[2].decode()
    root = ET.fromstring(body)
    assert children(root)[:6] == MLDS_FEED_CHILDREN
    assert body.startswith('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
                           'xmlns:ncts="%s" xmlns:sct="%s">\n    <title>' % (NCTS[1:-1], SCT[1:-1]))
    if not CAPTURED.exists():
        pytest.skip('captured MLDS feed not available (set SYNDICATION_FIXTURES)')
    captured_text = CAPTURED.read_text(encoding='utf-8')
    captured = ET.fromstring(captured_text)
    assert children(captured)[:6] == children(root)[:6]
    assert [child.attrib for child in captured if child.tag == ATOM + 'link'] == \
        [child.attrib for child in root if child.tag == ATOM + 'link']
    assert captured.findtext(ATOM + 'title') == root.findtext(ATOM + 'title')
    assert captured.findtext(ATOM + 'id') == root.findtext(ATOM + 'id')
    real = entries_by_version(captured)['http://snomed.info/sct/11000172109/version/20250315']
    ours = entries_by_version(root)['http://snomed.info/sct/45991000052106/version/20250315']
    assert children(real) == children(ours) == MLDS_ENTRY_CHILDREN
    assert [sorted(link.attrib) for link in real.iter(ATOM + 'link')] == \
        [sorted(link.attrib) for link in ours.iter(ATOM + 'link')]
    assert sorted(real.find(ATOM + 'category').attrib) == sorted(ours.find(ATOM + 'category').attrib)
    assert children(real.find(ATOM + 'author')) == children(ours.find(ATOM + 'author'))

    # Same line layout: 4-space indentation, ` />` closing links, the same element lines in the same order.
    def line_shapes(text):
        return [re.sub(r'>[^<]*<', '><', re.sub(r'"[^"]*"', '""', line)) for line in text.splitlines()
                if '<entry>' not in line and '</entry>' not in line]
    ours_text = body[body.index('<title>SNOMED CT Sweden Edition-20250315'):]
    ours_text = ours_text[:ours_text.index('</entry>')]
    real_text = captured_text[captured_text.index('<title>Belgian'):]
    real_text = real_text[:real_text.index('</entry>')]
    assert line_shapes(ours_text) == line_shapes(real_text)


# --- the NCTS feed --------------------------------------------------------------------------------


def test_ncts_feed_structure_and_files(sandbox):  # pylint: disable=redefined-outer-name
    status, headers, body = get(sandbox.feed_url)
    assert status == 200 and headers['Content-Type'] == 'application/atom+xml'
    assert get(sandbox.feed_url)[2] == body  # deterministic
    assert get(sandbox.feed_url[:-len('.xml')])[2] == body  # also at .../feed, where Snowstorm looks
    root = ET.fromstring(body)
    assert root.findtext(NCTS + 'atomSyndicationFormatProfile') == \
        'http://ns.electronichealth.net.au/ncts/syndication/asf/profile/1.0.0'
    assert root.find(ATOM + 'link').attrib == {'rel': 'self', 'type': 'application/atom+xml', 'href': sandbox.feed_url}
    entries = entries_by_version(root)
    assert len(entries) == 4
    for entry in entries.values():
        links, categories = entry.findall(ATOM + 'link'), entry.findall(ATOM + 'category')
        assert len(links) == 1 and len(categories) == 1 and categories[0].get('scheme') == SCHEME
        assert links[0].get('rel') == 'alternate' and links[0].get('type') == 'application/zip'
        assert re.fullmatch('[0-9a-f]{64}', links[0].get(NCTS + 'sha256Hash'))
    extension = entries['http://snomed.info/sct/999000011000001104/version/20251001']
    assert [dep.text for dep in extension.find(SCT + 'packageDependency')] == \
        ['http://snomed.info/sct/83821000000107/version/20251001']

    link = extension.find(ATOM + 'link')
    status, _headers, data = get(link.get('href'))
    assert status == 200 and len(data) == int(link.get('length'))
    assert hashlib.sha256(data).hexdigest() == link.get(NCTS + 'sha256Hash')
    status, headers, part = get(link.get('href'), {'Range': 'bytes=100-'})
    assert status == 206 and part == data[100:] and headers['Content-Range'] == 'bytes 100-%d/%d' % (len(data) - 1, len(data))
    assert len(sandbox.downloads('syndication_file')) == 2 and len(sandbox.downloads('syndication_feed')) == 3


def test_ncts_feed_control_calls(sandbox):  # pylint: disable=redefined-outer-name
    added = sandbox.feed_add('http://snomed.info/sct/1000001', 'http://snomed.info/sct/1000001/version/20260101',
                             title='Hostile-1', size=5000, seed=3, file_name='../x.zip', category='SCT_RF2_FULL',
                             dependencies=[INTERNATIONAL_URI], sha256='0' * 64)
    assert added['number'] == 5 and added['sha256'] == '0' * 64 and added['file_sha256'] != '0' * 64
    root = ET.fromstring(get(sandbox.feed_url)[2])
    entry = entries_by_version(root)['http://snomed.info/sct/1000001/version/20260101']
    link = entry.find(ATOM + 'link')
    assert unquote(link.get('href').rsplit('/', 1)[1]) == '../x.zip' and link.get('length') == '5000'
    assert entry.find(ATOM + 'category').attrib['term'] == 'SCT_RF2_FULL'
    data = get(link.get('href'))[2]
    assert hashlib.sha256(data).hexdigest() == added['file_sha256']

    assert sandbox.feed_set([]) == []
    assert ET.fromstring(get(sandbox.feed_url)[2]).find(ATOM + 'entry') is None
    sandbox.feed_reset()
    assert len(sandbox.feed_entries()) == 4


# --- faults ---------------------------------------------------------------------------------------


@pytest.mark.parametrize('kind', ['syndication_feed', 'mlds_feed'])
def test_feed_link_faults_leave_the_files_alone(sandbox, kind):  # pylint: disable=redefined-outer-name
    url, hash_attr = ((sandbox.feed_url, NCTS + 'sha256Hash') if kind == 'syndication_feed'
                      else (sandbox.mlds_feed_url, SCT + 'md5Hash'))
    first = entries_by_version(ET.fromstring(get(url)[2]))
    version = sorted(first)[0]
    sandbox.add_faults({'type': 'wrong_hash', 'kind': kind, 'entry': version},
                       {'type': 'wrong_length', 'kind': kind, 'delta': 5},
                       {'type': 'hostile_link', 'kind': kind, 'style': 'backslash'})

    def download_link(entry):
        return entry.find(ATOM + "link[@rel='alternate']")
    right = download_link(first[version])
    for fault in ('wrong_hash', 'wrong_length', 'hostile_link'):
        wrong = download_link(entries_by_version(ET.fromstring(get(url)[2]))[version])
        if fault == 'wrong_hash':
            assert wrong.get(hash_attr) != right.get(hash_attr) and len(wrong.get(hash_attr)) == len(right.get(hash_attr))
        elif fault == 'wrong_length':
            assert int(wrong.get('length')) == int(right.get('length')) + 5
        else:
            assert unquote(wrong.get('href').rsplit('/', 1)[1]).startswith('..\\')
    assert [entry['fault'] for entry in sandbox.log() if entry['kind'] == kind] == \
        [None, 'wrong_hash', 'wrong_length', 'hostile_link']
    assert not sandbox.faults()


def test_feed_document_faults(sandbox):  # pylint: disable=redefined-outer-name
    sandbox.add_faults({'type': 'html_error', 'kind': 'syndication_feed'},
                       {'type': 'xml_entities', 'kind': 'syndication_feed'},
                       {'type': 'xml_external_entity'},  # any feed: the MLDS one here
                       {'type': 'oversized_feed', 'kind': 'mlds_feed'})
    status, headers, body = get(sandbox.feed_url)
    assert status == 200 and headers['Content-Type'].startswith('text/html') and body.startswith(b'<html>')
    body = get(sandbox.feed_url)[2]
    assert b'<!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa">' in body and b'&h;</title>' in body
    body = get(sandbox.mlds_feed_url)[2]
    assert b'<!ENTITY h SYSTEM "file:///etc/passwd">' in body and b'&h;</title>' in body
    status, headers, body = get(sandbox.mlds_feed_url, {'Accept-Encoding': 'gzip'})
    assert status == 200 and len(body) < 1 << 20  # generated and compressed: small on the wire
    document = gzip.decompress(body)
    assert len(document) == 17 << 20 and document.endswith(b'</feed>')
    assert ET.fromstring(document).tag == ATOM + 'feed'


def test_corrupted_feed_file(sandbox):  # pylint: disable=redefined-outer-name
    entry = sandbox.feed_entries()[0]
    sandbox.add_faults({'type': 'corrupt_byte', 'kind': 'syndication_file', 'item': entry['number'], 'offset': 1000})
    data = get(entry['href'])[2]
    assert len(data) == entry['length'] and hashlib.sha256(data).hexdigest() != entry['sha256']
    assert hashlib.sha256(get(entry['href'])[2]).hexdigest() == entry['sha256']
