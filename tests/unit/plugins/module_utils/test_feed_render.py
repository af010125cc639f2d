# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""_feed_render: the published feed is deterministic, has the shape the real readers demand, escapes hostile values,
and reads back the same through lxml (libxml2, a parser independent of the standard library's expat) and through
the collection's own reader (_feed.parse_feed)."""

from __future__ import annotations

import copy
import importlib

import pytest
from lxml import etree

from ansible_collections.terminology.releases.plugins.module_utils._feed_render import (
    ASF_PROFILE,
    ATOM,
    NCTS,
    NCTS_SCHEME,
    SCT,
    FeedRenderError,
    category,
    entry_id,
    render_feed,
)

NS = {'a': ATOM, 'ncts': NCTS, 'sct': SCT}
META = {'id': 'urn:uuid:6f1c1d3e-4b8a-4e0c-9d1e-6a0e3b1f2c4d', 'title': 'Example terminology releases',
        'updated': '2026-03-01T00:00:00Z', 'author': 'Example Trust', 'self_url': 'https://example.org/synd/feed',
        'generator': 'terminology.releases'}
HOSTILE_TITLE = 'R&D <edition> "quoted" \'single\' ]]> &amp; done'
HOSTILE_HREF = 'https://example.org/synd/a%20b.zip?x=1&y="2"&z=<3>'


def make_entry(module='999000021000000109', date='20260301', **changes):
    identifier = 'http://snomed.info/sct/%s' % module
    version_uri = '%s/version/%s' % (identifier, date)
    entry = {
        'id': entry_id(identifier, version_uri), 'title': 'SNOMED CT UK Clinical Edition-%s' % date,
        'summary': None, 'published': '%s-%s-%sT00:00:00Z' % (date[:4], date[4:6], date[6:]),
        'updated': '%s-%s-%sT00:00:00Z' % (date[:4], date[4:6], date[6:]),
        'identifier': identifier, 'version': date, 'version_uri': version_uri, 'category': category('SCT_RF2_ALL'),
        'links': [{'href': 'https://example.org/synd/uk_sct2cl_%s.zip' % date, 'rel': 'alternate',
                   'type': 'application/zip', 'length': 1234567, 'sha256': ('%064x' % int(date)),
                   'md5': None}],
        'dependencies': [],
    }
    entry.update(changes)
    return entry


def entries():
    return [
        make_entry(date='20251119'),
        make_entry(date='20260301', dependencies=[{'version_uri': 'http://snomed.info/sct/900000000000207008/version/'
                                                   '20260201', 'kind': 'edition'},
                                                  {'version_uri': 'http://snomed.info/sct/816211006/version/20220131',
                                                   'kind': 'derivative'}]),
        make_entry(module='900000000000207008', date='20260201', title='SNOMED CT International Edition-February 2026',
                   links=[{'href': 'https://example.org/synd/intl.zip', 'rel': 'alternate', 'type': 'application/zip',
                           'length': 42, 'sha256': 'ab' * 32, 'md5': 'cd' * 16}]),
    ]


def parse(data):
    # lxml refuses entity resolution and network access here too: it reads only what we wrote.
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))


# ---- determinism and shape ----------------------------------------------------------------------------------

def test_same_input_same_bytes_whatever_the_entry_order():
    first = render_feed(META, entries())
    assert render_feed(copy.deepcopy(META), list(reversed(entries()))) == first
    assert first.endswith(b'\n') and first.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n')


def test_default_namespace_spelt_as_snowstorm_strips_it_and_prefixes_declared():
    data = render_feed(META, entries())
    # Snowstorm removes exactly this text before unmarshalling; a prefixed or single-quoted Atom would break it.
    assert b'<feed xmlns="http://www.w3.org/2005/Atom" ' in data
    root = parse(data)
    assert root.tag == '{%s}feed' % ATOM
    assert root.nsmap == {None: ATOM, 'ncts': NCTS, 'sct': SCT}
    assert root.findtext('ncts:atomSyndicationFormatProfile', namespaces=NS) == ASF_PROFILE
    self_links = root.findall('a:link', NS)
    assert [(link.get('rel'), link.get('type'), link.get('href')) for link in self_links] == [
        ('self', 'application/atom+xml', META['self_url'])]


def test_each_entry_has_exactly_one_link_and_one_category_with_hash_and_length():
    root = parse(render_feed(META, entries()))
    found = root.findall('a:entry', NS)
    assert len(found) == 3
    for element in found:
        links, categories = element.findall('a:link', NS), element.findall('a:category', NS)
        assert len(links) == 1 and len(categories) == 1
        link = links[0]
        assert link.get('rel') == 'alternate' and link.get('type') == 'application/zip'
        assert link.get('length').isdigit()
        sha256 = link.get('{%s}sha256Hash' % NCTS)
        assert len(sha256) == 64 and sha256 == sha256.lower()
        assert categories[0].attrib == {'term': 'SCT_RF2_ALL', 'label': 'SNOMED CT RF2 All', 'scheme': NCTS_SCHEME}
        assert element.findtext('ncts:contentItemVersion', namespaces=NS)
        assert element.findtext('a:author/a:name', namespaces=NS) == META['author']


def test_entries_come_back_through_lxml():
    given = dict((entry['version_uri'], entry) for entry in entries())
    root = parse(render_feed(META, entries()))
    assert root.findtext('a:updated', namespaces=NS) == META['updated']
    seen = {}
    for element in root.findall('a:entry', NS):
        link = element.find('a:link', NS)
        seen[element.findtext('ncts:contentItemVersion', namespaces=NS)] = {
            'id': element.findtext('a:id', namespaces=NS), 'title': element.findtext('a:title', namespaces=NS),
            'identifier': element.findtext('ncts:contentItemIdentifier', namespaces=NS),
            'updated': element.findtext('a:updated', namespaces=NS), 'href': link.get('href'),
            'length': int(link.get('length')), 'sha256': link.get('{%s}sha256Hash' % NCTS),
            'md5': link.get('{%s}md5Hash' % SCT),
            'dependencies': [child.text for child in element.findall('sct:packageDependency/*', NS)],
        }
    assert sorted(seen) == sorted(given)
    for key, entry in given.items():
        link = entry['links'][0]
        assert seen[key] == {
            'id': entry['id'], 'title': entry['title'], 'identifier': entry['identifier'], 'updated': entry['updated'],
            'href': link['href'], 'length': link['length'], 'sha256': link['sha256'], 'md5': link['md5'],
            'dependencies': [dependency['version_uri'] for dependency in entry['dependencies']]}
    dependency = root.find('a:entry/sct:packageDependency/sct:editionDependency', NS)
    assert dependency.text.endswith('/version/20260201')


def test_entries_sorted_by_item_then_newest_first():
    root = parse(render_feed(META, entries()))
    assert [element.findtext('ncts:contentItemVersion', namespaces=NS).rsplit('/', 1)[-1]
            for element in root.findall('a:entry', NS)] == ['20260201', '20260301', '20251119']


# ---- hostile values -----------------------------------------------------------------------------------------

def test_hostile_title_summary_and_href_are_escaped():
    hostile = make_entry(title=HOSTILE_TITLE, summary='<script>alert("x")</script> & more',
                         links=[{'href': HOSTILE_HREF, 'rel': 'alternate', 'type': None, 'length': 1,
                                 'sha256': 'e' * 64, 'md5': None}])
    meta = dict(META, title='Feed & <co> "ltd"', author='O\'Brien & <Sons>')
    data = render_feed(meta, [hostile])
    assert b'<script>' not in data and b'R&D' not in data and b'&y=' not in data
    root = parse(data)  # well-formed, or lxml raises
    element = root.find('a:entry', NS)
    assert element.findtext('a:title', namespaces=NS) == HOSTILE_TITLE
    assert element.findtext('a:summary', namespaces=NS) == '<script>alert("x")</script> & more'
    assert element.find('a:link', NS).get('href') == HOSTILE_HREF
    assert root.findtext('a:title', namespaces=NS) == meta['title']
    assert root.findtext('a:author/a:name', namespaces=NS) == meta['author']
    # A type the link does not state comes from the file name of the URL's path, not from its query.
    assert element.find('a:link', NS).get('type') == 'application/zip'


@pytest.mark.parametrize('changes, message', [
    ({'title': 'bell\x07'}, 'control characters'),
    ({'links': [{'href': 'https://x/a.zip', 'length': 1, 'sha256': 'A' * 64}]}, 'lower-case hex'),
    ({'links': [{'href': 'https://x/a.zip', 'length': '1,234', 'sha256': 'a' * 64}]}, 'whole number'),
    ({'links': [{'href': 'https://x/a.zip', 'length': 1, 'sha256': 'a' * 64}] * 2}, 'exactly one'),
    ({'category': None}, 'no category'),
    ({'updated': '2026-03-01 00:00'}, 'RFC 3339'),
    ({'version': None, 'version_uri': None}, 'no version'),
    ({'dependencies': [{'version_uri': 'http://snomed.info/sct/1/version/20200101', 'kind': 'sibling'}]},
     'edition or derivative'),
])
def test_unpublishable_entries_are_refused(changes, message):
    with pytest.raises(FeedRenderError, match=message):
        render_feed(META, [make_entry(**changes)])


def test_duplicate_content_item_versions_are_refused():
    with pytest.raises(FeedRenderError, match='content item version .* must be unique'):
        render_feed(META, [make_entry(), make_entry(id='urn:uuid:other')])


def test_category_needs_a_label_outside_the_ncts_terms():
    assert category('FHIR_Package')['label'] == 'FHIR Package'
    with pytest.raises(FeedRenderError, match='not one of the NCTS terms'):
        category('BINARY')
    assert category('BINARY', 'Binary Index', 'http://ontoserver.csiro.au/syndication/rf2/2.0.0')['scheme'] == \
        'http://ontoserver.csiro.au/syndication/rf2/2.0.0'


def test_entry_id_is_stable_and_distinct():
    assert entry_id('http://snomed.info/sct/1', 'v1') == entry_id('http://snomed.info/sct/1', 'v1')
    assert entry_id('http://snomed.info/sct/1', 'v1') != entry_id('http://snomed.info/sct/1', 'v2')
    assert entry_id('a', 'b').startswith('urn:uuid:')


# ---- the collection's own reader ----------------------------------------------------------------------------

def _feed_reader():
    try:
        return importlib.import_module('ansible_collections.terminology.releases.plugins.module_utils._feed')
    except ImportError:
        pytest.skip('_feed (the feed reader) is not in this tree yet')


def test_round_trip_through_parse_feed():
    feed = _feed_reader()
    data = render_feed(META, entries())
    parsed = feed.parse_feed(data, 'rendered')
    assert (parsed['flavour'], parsed['id'], parsed['title'], parsed['updated']) == (
        'ncts', META['id'], META['title'], META['updated'])
    by_version = dict((entry['version_uri'], entry) for entry in parsed['entries'])
    for entry in entries():
        back = by_version[entry['version_uri']]
        for key in ('id', 'title', 'summary', 'published', 'updated', 'identifier', 'category'):
            assert back[key] == entry[key], key
        link = entry['links'][0]
        assert (back['file_url'], back['length'], back['sha256'], back['md5']) == (
            link['href'], link['length'], link['sha256'], link['md5'])
        assert [(dependency['version_uri'], dependency['kind']) for dependency in back['dependencies']] == [
            (dependency['version_uri'], dependency.get('kind') or 'edition') for dependency in entry['dependencies']]
    # What the reader gives back renders to the same document: a kept feed is stable.
    assert render_feed(META, parsed['entries']) == data


def test_hostile_values_round_trip_through_parse_feed():
    feed = _feed_reader()
    hostile = make_entry(title=HOSTILE_TITLE, links=[{'href': HOSTILE_HREF, 'rel': 'alternate',
                                                      'type': 'application/zip', 'length': 1, 'sha256': 'e' * 64,
                                                      'md5': None}])
    back = feed.parse_feed(render_feed(META, [hostile]), 'rendered')['entries'][0]
    assert back['title'] == HOSTILE_TITLE and back['file_url'] == HOSTILE_HREF
