# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:

    # Service options shared by every trud_* module (the connection fragment has TLS, timeout and retries).
    DOCUMENTATION = r'''
options:
  api_key:
    description:
      - Your TRUD API key, from your TRUD account page.
      - TRUD puts the key in the path of every URL, and in some of its error messages. The modules
        remove it from every result, warning, error and diff, whatever the verbosity.
      - Required. If not set, the value of the E(TRUD_API_KEY) environment variable is used (in the
        environment the module runs in).
    type: str
  base_url:
    description:
      - Base URL of the TRUD release API, up to and including C(/api/v1).
      - If not set, the value of the E(TRUD_BASE_URL) environment variable is used, then the default.
    type: str
    default: https://isd.digital.nhs.uk/trud/api/v1
  item:
    description:
      - The TRUD item number, for example V(101) (SNOMED CT UK Clinical Edition), V(105) (UK Drug Extension),
        V(1799) (UK Monolith), V(24) (dm+d), V(341) (ODS XML organisation data).
      - Your TRUD account must be subscribed to the item.
    type: int
    required: true
  trusted_fingerprints:
    description:
      - Fingerprints of OpenPGP keys whose signature over TRUD's checksum file is accepted. A signature by
        the signing subkey or by its primary key counts.
      - The public key file is downloaded from TRUD with the release, so it proves nothing by itself.
        Trust comes only from this list.
      - Defaults to TRUD's signing key, C(71ED5964BAE53E83556320A42BE59DADEE84BEB0).
      - Used by M(terminology.releases.trud_release_fetch); every module of the group accepts it so that it
        can be set once in C(module_defaults) for C(group/terminology.releases.trud).
    type: list
    elements: str
  maintenance_window_warning:
    description:
      - TRUD asks automation to run on weekdays 09:00-18:00 or at 00:00-06:00 UK time, to avoid
        planned maintenance. Warn when an archive download starts outside those hours.
      - Used by M(terminology.releases.trud_release_fetch); every module of the group accepts it so that it
        can be set once in C(module_defaults) for C(group/terminology.releases.trud).
    type: bool
    default: true
notes:
  - Options that can be set once for all TRUD tasks in C(module_defaults) for C(group/terminology.releases.trud)
    without breaking any module of the group are O(api_key), O(base_url), O(trusted_fingerprints),
    O(maintenance_window_warning), O(validate_certs), O(ca_path), O(timeout) and O(retries).
'''

    # Which release of the item; the fetch and the info module share these.
    SELECTION = r'''
options:
  release_id:
    description:
      - Select the release with this C(id). The archive file name is accepted too, since older
        releases have ids such as C(ODS_9.0.0_20200925000001) that differ from the file name.
      - Mutually exclusive with O(release_name) and O(release_date).
    type: str
  release_name:
    description:
      - Select the release with this C(name), for example C(Release 7.0.0). Names are not unique
        across years for some items; an ambiguous name is an error that lists the matching ids.
    type: str
  release_date:
    description:
      - Select the release with this C(releaseDate) (V(YYYY-MM-DD)), for reproducible builds.
    type: str
'''
