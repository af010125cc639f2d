#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: syndication_feed_info
short_description: Read a terminology syndication feed (SNOMED MLDS or NCTS / HL7 Atom)
version_added: 1.0.0
description:
  - Reads an Atom terminology syndication feed over HTTP(S) or from a local file and returns its entries, each in
    one shape whatever the feed's flavour, and optionally selects one entry.
  - Two flavours are read. C(mlds) is the feed of the SNOMED Member Licensing and Distribution Service
    (U(https://mlds.ihtsdotools.org/api/feed)), whose known defects are tolerated (a raw C(&) in a value, the text
    C(null) for an unset value, commas in sizes, links in any order). C(ncts) is the NCTS / HL7 FHIR syndication
    format with SNOMED's C(sct) extension, as read by Ontoserver and Snowstorm.
  - For safety, a document with a document type or entity declaration is refused, and so is anything larger than
    16 MiB, an HTML page, JSON, an empty answer or XML that is not an Atom feed, each with a message saying what
    was received.
author:
  - terminology.releases contributors (@terminology-releases)
extends_documentation_fragment:
  - terminology.releases.feed
  - terminology.releases.connection
  - terminology.releases.attributes
  - terminology.releases.attributes.info_module
options:
  newest:
    description:
      - Select the newest version of O(identifier) or, without O(identifier), of the only content item in the feed.
    type: bool
    default: false
notes:
  - A selection that matches no entry fails and lists what the feed has. So does a selection that matches several
    entries (a feed must not repeat a content item version, but some do).
  - Entry ids are not stable in the MLDS feed (MLDS changes them whenever a version is edited), so select by
    content item and version, never by id.
requirements:
  - requests (for HTTP(S) URLs)
'''

EXAMPLES = r'''
- name: Read the SNOMED MLDS feed and select the newest International Edition
  terminology.releases.syndication_feed_info:
    url: https://mlds.ihtsdotools.org/api/feed
    identifier: http://snomed.info/sct/900000000000207008
  register: international

- name: Select one version of the UK Clinical Edition from a feed file on disk
  terminology.releases.syndication_feed_info:
    url: /srv/feeds/feed.xml
    identifier: http://snomed.info/sct/83821000000107
    version: "20251119"
  register: uk

- name: Show where to download it and how to check it
  ansible.builtin.debug:
    msg: "{{ uk.entry.title }}: {{ uk.entry.file_url }} ({{ uk.entry.length }} bytes, SHA-256 {{ uk.entry.sha256 }})"

- name: List every content item version a feed offers
  terminology.releases.syndication_feed_info:
    url: /srv/feeds/feed.xml
  register: feed

- name: Show them
  ansible.builtin.debug:
    msg: "{{ feed.entries | map(attribute='version_uri') | list }}"
'''

RETURN = r'''
flavour:
  description: V(mlds) for the SNOMED MLDS feed, V(ncts) for an NCTS / HL7 syndication feed.
  returned: success
  type: str
  sample: mlds
feed:
  description: The feed's own C(id), C(title) and C(updated) time.
  returned: success
  type: dict
  sample:
    id: urn:uuid:5c26c3ca-c21c-476e-b0a4-096679529f2e
    title: SNOMED International MLDS Terminology Release Syndication Feed
    updated: "2025-03-19T10:01:32Z"
entries:
  description:
    - Every entry of the feed, in the feed's order, which means nothing (MLDS lists them in arbitrary order).
    - Texts are trimmed; a missing value, and MLDS's text C(null), is V(null).
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: The entry's Atom id.
      type: str
    title:
      description: The entry's title.
      type: str
      sample: SNOMED CT International Edition-March 2025 v1.0
    summary:
      description: The entry's summary.
      type: str
    published:
      description: When the content was first published (ISO 8601), or V(null) when the feed gives no valid time.
      type: str
      sample: "2025-03-01T00:00:00Z"
    updated:
      description: When the entry last changed (ISO 8601), or V(null) when the feed gives no valid time.
      type: str
    identifier:
      description: The content item (C(ncts:contentItemIdentifier); for MLDS the package URI).
      type: str
      sample: http://snomed.info/sct/900000000000207008
    version:
      description:
        - The content item version. In an C(ncts) feed, C(ncts:contentItemVersion) as written. In the C(mlds)
          feed, the V(YYYYMMDD) date of the version URI when it is a SNOMED CT version URI, else the version URI.
      type: str
      sample: "20250301"
    version_uri:
      description: The version URI (C(ncts:contentItemVersion) when it is a URI), or V(null).
      type: str
      sample: http://snomed.info/sct/900000000000207008/version/20250301
    category:
      description: The C(term), C(scheme) and C(label) of the entry's first category, or V(null).
      type: dict
      sample:
        term: SCT_RF2_ALL
        scheme: http://ns.electronichealth.net.au/ncts/syndication/asf/scheme/1.0.0
        label: SNOMED CT RF2 All
    links:
      description:
        - Every link of the entry with its C(href), C(rel), C(type), C(length) (an integer), C(sha256) and C(md5)
          (lower-case hex) and C(title); a missing value is V(null).
        - A hash that is not valid hex is kept as given (lower-cased), so that a download checked against it fails.
      type: list
      elements: dict
    file_url:
      description:
        - The address of the entry's download, the link a consumer takes (C(rel=alternate) with type
          C(application/zip) first, else the first C(alternate) or C(enclosure) link), or V(null) when there is none.
        - MLDS download addresses need the account's credentials.
      type: str
    length:
      description: The size in bytes that the feed gives for the download, or V(null).
      type: int
    sha256:
      description: The SHA-256 the feed gives for the download, or V(null).
      type: str
    md5:
      description: The MD5 the feed gives for the download, or V(null).
      type: str
    dependencies:
      description:
        - The content item versions the entry needs (C(sct:packageDependency)), each with C(identifier), C(version)
          and C(version_uri) in the same form as the entries' own, and C(kind), which is V(edition) for an
          C(sct:editionDependency) and V(derivative) for an C(sct:derivativeDependency). Empty for an edition,
          which needs nothing else.
      type: list
      elements: dict
entry:
  description:
    - The selected entry, in the form of RV(entries[]); V(null) when no selection option is set.
  returned: success
  type: dict
'''

from ansible_collections.terminology.releases.plugins.module_utils import _argspec, _connection, _feed, _http, _module


def read_feed(module, redact):
    params = module.params
    data, source = _feed.load(params['url'], lambda: _connection.basic_auth_client(module, redact))
    feed = _feed.parse_feed(data, source)
    entry = None
    if params['newest'] or any(params[key] is not None for key in ('identifier', 'version', 'version_uri')):
        entry = _feed.select_entry(feed['entries'], params['identifier'], params['version'], params['version_uri'])
    return dict(changed=False, flavour=feed['flavour'], entries=feed['entries'], entry=entry,
                feed=dict((key, feed[key]) for key in ('id', 'title', 'updated')))


def main():
    module = _argspec.feed_spec(
        _argspec.ArgumentSpec(mutually_exclusive=[('newest', 'version'), ('newest', 'version_uri')]),
        newest=dict(type='bool', default=False),
    ).create_module(supports_check_mode=True)
    redact = _http.basic_redactor(module.params['username'], module.params['password'])
    _module.run(module, lambda: read_feed(module, redact), redact)


if __name__ == '__main__':
    main()
