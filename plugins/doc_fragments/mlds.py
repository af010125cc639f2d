# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:

    # Service options shared by every mlds_* module (the connection fragment has TLS, timeout and retries).
    DOCUMENTATION = r'''
options:
  url:
    description:
      - The MLDS site root, without C(/api). The modules call C(<url>/api/...).
      - If not set, the value of the E(MLDS_URL) environment variable is used, then the default.
    type: str
    default: https://mlds.ihtsdotools.org
  username:
    description:
      - The MLDS account name. Staff and admins use their IMS (Crowd) account name, affiliates their
        e-mail address.
      - The credentials are sent with HTTP Basic authentication on every request, since MLDS sends
        no authentication challenge.
      - If not set, the value of the E(MLDS_USERNAME) environment variable is used.
    type: str
  password:
    description:
      - The password of O(username).
      - The modules remove it, and the Basic C(Authorization) value built from it, from every result,
        warning, error and diff, whatever the verbosity.
      - If not set, the value of the E(MLDS_PASSWORD) environment variable is used.
      - O(username) and O(password) go together.
    type: str
notes:
  - Every option of this page that is not specific to the module (O(url), O(username), O(password),
    O(validate_certs), O(ca_path), O(timeout), O(retries)) can be set once for all MLDS tasks in C(module_defaults)
    for C(group/terminology.releases.mlds).
  - MLDS retries differ from the general rule of O(retries). POST requests (creates, licence uploads, notifications,
    archive flags) are never retried. MLDS reports permission failures as HTTP 500, so a 500 is retried only once,
    and only for reads; a 500 to a PUT, a DELETE or a download fails at once with an explanation.
  - Written against MLDS 5.2 as it behaves, which differs from its 2015 public API document. Creates answer
    200, package and version updates replace whole field lists (the modules read, merge the options you set,
    and write the whole object back), and release versions carry a C(releaseType) string.
'''
