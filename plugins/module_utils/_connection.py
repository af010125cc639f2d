# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The HTTP client a module gets from its connection options (validate_certs, ca_path, timeout, retries).

PRIVATE to this collection: it may change without notice.
"""

from __future__ import annotations

from ansible_collections.terminology.releases.plugins.module_utils import _http
from ansible_collections.terminology.releases.plugins.module_utils._module import require_library


def http_client(module, redact):
    """An _http.HttpClient configured from the module's options; fails first when requests is missing."""
    require_library(module, _http.HAS_REQUESTS, 'requests', _http.REQUESTS_IMPORT_ERROR)
    params = module.params
    if not params['validate_certs'] and not params['ca_path']:
        module.warn('validate_certs is false: the server certificate is not checked, so anyone on the network path '
                    'can serve you different files.')
    return _http.HttpClient(timeout=params['timeout'], retries=params['retries'],
                            validate_certs=params['validate_certs'], ca_path=params['ca_path'], redact=redact)


def basic_auth_client(module, redact):
    """http_client() that sends the module's username and password (if set) with HTTP Basic on every request to the
    host of the module's url, and to no other (a feed may link files anywhere), with a warning when they would
    travel in clear."""
    client = http_client(module, redact)
    params = module.params
    if params.get('username'):
        _http.warn_cleartext(module.warn, params['url'])
        client.session.auth = _http.BasicAuth(_http.basic_token(params['username'], params['password']),
                                              origin=_http.origin_of(params['url']))
    return client
