# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:

    # The feed and the entry selection, shared by syndication_feed_info and syndication_fetch.
    DOCUMENTATION = r'''
options:
  url:
    description:
      - The feed document. An V(http://) or V(https://) URL (for MLDS, U(https://mlds.ihtsdotools.org/api/feed)), a
        V(file://) URL, or a path on the host the module runs on.
      - The connection options (O(validate_certs), O(ca_path), O(timeout), O(retries)) apply to HTTP(S) only.
    type: str
    required: true
  username:
    description:
      - User name sent with HTTP Basic auth on every request (MLDS sends no challenge). The MLDS feed itself needs
        none; downloading its files needs an affiliate approved for the package's member, or staff.
      - The credentials go only to the host (scheme, name and port) of O(url), never to files the feed links on
        other hosts; with a local feed file they go nowhere.
      - Unlike the C(mlds_*) modules, no environment variable is read, because a feed and its files can be on any
        host and MLDS credentials must not be sent to another one. Set it explicitly, for example from Ansible
        Vault.
    type: str
  password:
    description:
      - Password for O(username). It never appears in the output, in any form.
    type: str
  identifier:
    description:
      - Select an entry of this content item (C(ncts:contentItemIdentifier)), for example
        V(http://snomed.info/sct/900000000000207008) for the SNOMED CT International Edition.
      - Without O(version) or O(version_uri), the newest version of it is selected (by version, then by the
        entry's C(updated) time).
    type: str
  version:
    description:
      - With O(identifier), select this version of the content item. Matches the entry's version, its version URI,
        or, for a SNOMED CT version URI, the V(YYYYMMDD) date at its end, so V(20250301) works for both flavours.
      - Without O(identifier), the feed must hold a single content item.
    type: str
  version_uri:
    description:
      - Select the entry with this content item version URI (C(ncts:contentItemVersion)), for example
        V(http://snomed.info/sct/900000000000207008/version/20250301).
    type: str
'''
