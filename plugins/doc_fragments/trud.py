# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:

    # Connection options shared by every trud_* module.
    DOCUMENTATION = r'''
options:
  api_key:
    description:
      - Your TRUD API key, from your TRUD account page.
      - TRUD puts the key in the path of every URL, and in some of its error messages. The modules
        remove it from every result, warning, error and diff, whatever the verbosity.
      - If not set, the value of the E(TRUD_API_KEY) environment variable is used.
    type: str
    required: true
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
  validate_certs:
    description:
      - Whether to verify the server's TLS certificate. Turning this off is insecure and gives a warning.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of CA certificates to trust for the server's certificate instead of the system store.
    type: path
  timeout:
    description:
      - Seconds to wait for a connection or for the next bytes of an answer (not for a whole download).
    type: float
    default: 60
  retries:
    description:
      - How many times to retry after a connection error, a timeout, or an HTTP 408, 429 or 5xx answer,
        with exponential backoff that honours C(Retry-After). Other errors are not retried.
      - Downloads resume from the last byte received on each retry.
    type: int
    default: 3
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
