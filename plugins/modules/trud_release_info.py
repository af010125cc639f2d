#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: trud_release_info
short_description: List the releases of an NHS TRUD item
version_added: 1.0.0
description:
  - Lists the releases of one NHS TRUD item, newest first, as TRUD publishes them.
  - Optionally selects a single release by id, name or release date, or asks TRUD for only the newest.
  - Returns the metadata in snake_case without any URL, because every TRUD URL carries the API key.
author:
  - terminology.releases contributors (@terminology-releases)
extends_documentation_fragment:
  - terminology.releases.trud
  - terminology.releases.connection
  - terminology.releases.trud.selection
  - terminology.releases.attributes
  - terminology.releases.attributes.info_module
  - terminology.releases.attributes.actiongroup_trud
options:
  latest:
    description:
      - Ask TRUD for the newest release only (the C(?latest) form of the listing).
      - Mutually exclusive with O(release_id), O(release_name) and O(release_date).
    type: bool
    default: false
requirements:
  - requests
notes:
  - TRUD lists releases newest first. Release names restart every year for some items (for example
    C(Release 1.0.0) each January for ODS), so select by id or date to pin a release.
seealso:
  - module: terminology.releases.trud_release_fetch
'''

EXAMPLES = r'''
- name: List every SNOMED CT UK Clinical Edition release
  terminology.releases.trud_release_info:
    api_key: "{{ trud_api_key }}"
    item: 101
  register: clinical

- name: Show the newest release date
  ansible.builtin.debug:
    msg: "Newest: {{ clinical.releases[0].release_date }}"

- name: Find the dm+d release published on a given day
  terminology.releases.trud_release_info:
    api_key: "{{ trud_api_key }}"
    item: 24
    release_date: "2025-08-18"
  register: dmd
'''

RETURN = r'''
item:
  description: The item number asked for.
  returned: success
  type: int
  sample: 101
releases:
  description:
    - The releases, newest first (only the selected one when a selection option is set).
    - Every field TRUD returns except URLs, with names in snake_case.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: TRUD's release id. Equal to the archive file name for recent releases.
      type: str
      sample: uk_sct2cl_41.2.0_20251119000001Z.zip
    name:
      description: The release name.
      type: str
      sample: Release 41.2.0
    release_date:
      description: The release date, V(YYYY-MM-DD).
      type: str
      sample: "2025-11-19"
    archive_file_name:
      description: The archive's file name.
      type: str
    archive_file_size_bytes:
      description: The archive's size in bytes.
      type: int
    archive_file_sha256:
      description: The archive's SHA-256 as TRUD gives it (upper-case hex), or V(null) for old listings that lack it.
      type: str
    archive_file_last_modified_timestamp:
      description: When the archive file was last modified (ISO 8601, UTC). Can differ from the release date.
      type: str
    checksum_file_name:
      description: The FCIV checksum XML file's name.
      type: str
    signature_file_name:
      description: The detached signature's name as TRUD lists it (it ends in C(.sig) but is ASCII-armoured).
      type: str
    public_key_file_name:
      description: The TRUD public key file's name.
      type: str
    public_key_id:
      description: TRUD's number for the signing key.
      type: int
  sample:
    - id: hscorgrefdataxml_data_7.0.0_20260731000001.zip
      name: Release 7.0.0
      release_date: "2026-07-31"
      archive_file_name: hscorgrefdataxml_data_7.0.0_20260731000001.zip
      archive_file_size_bytes: 37983173
      archive_file_sha256: 8151248DDC290F3AFFDABAE22D88E0BBD118947D948AB7BDD37E74088CFBA933
      archive_file_last_modified_timestamp: "2026-07-31T07:01:30.000Z"
      checksum_file_name: trud_hscorgrefdataxml_data_7.0.0_20260731000001.xml
      checksum_file_size_bytes: 195
      checksum_file_last_modified_timestamp: "2026-07-31T07:01:30.000Z"
      signature_file_name: trud_hscorgrefdataxml_data_7.0.0_20260731000001.sig
      signature_file_size_bytes: 488
      signature_file_last_modified_timestamp: "2026-07-31T07:01:31.000Z"
      public_key_file_name: trud-public-key-2013-04-01.pgp
      public_key_file_size_bytes: 1736
      public_key_id: 6
'''

from ansible_collections.terminology.releases.plugins.module_utils import _argspec, _connection, _module, _trud
from ansible_collections.terminology.releases.plugins.module_utils._http import Redactor


def list_releases(module, redact):
    params = module.params
    client = _trud.TrudClient(_connection.http_client(module, redact), params['base_url'], params['api_key'])
    releases = client.releases(params['item'], latest=params['latest'])
    selected = any(params[key] is not None for key in ('release_id', 'release_name', 'release_date'))
    if selected:
        releases = [_trud.select_release(releases, params['item'], params['release_id'], params['release_name'],
                                         params['release_date'])]
    return dict(changed=False, item=params['item'], releases=[_trud.normalise(release, redact) for release in releases])


def main():
    module = _argspec.trud_spec(
        _argspec.trud_selection_spec(),
        _argspec.ArgumentSpec(mutually_exclusive=[('latest', 'release_id', 'release_name', 'release_date')]),
        latest=dict(type='bool', default=False),
    ).create_module(supports_check_mode=True)
    redact = Redactor([module.params['api_key']])
    _module.run(module, lambda: list_releases(module, redact), redact)


if __name__ == '__main__':
    main()
