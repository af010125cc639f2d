# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What every module does the same way: check libraries, build the HTTP client, fail in one place, redacted.

PRIVATE to this collection: it may change without notice.
"""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.terminology.releases.plugins.module_utils import _http, _signature
from ansible_collections.terminology.releases.plugins.module_utils._download import DownloadError
from ansible_collections.terminology.releases.plugins.module_utils._mlds import MldsError
from ansible_collections.terminology.releases.plugins.module_utils._signature import SignatureError
from ansible_collections.terminology.releases.plugins.module_utils._trud import TrudError

# Errors whose text is written for the user; anything else is a bug and gets a traceback (redacted).
EXPECTED_ERRORS = (TrudError, MldsError, DownloadError, SignatureError, _http.HttpError, _http.TransportError)


def require_libraries(module, gnupg=False):
    if not _http.HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=_http.REQUESTS_IMPORT_ERROR)
    if gnupg and not _signature.HAS_GNUPG:
        module.fail_json(msg=missing_required_lib('python-gnupg', reason='to verify PGP signatures')
                         + ' Or choose a verification mode without the signature.',
                         exception=_signature.GNUPG_IMPORT_ERROR)


def http_client(module, redact):
    params = module.params
    if not params['validate_certs'] and not params['ca_path']:
        module.warn('validate_certs is false: the server certificate is not checked, so anyone on the network path '
                    'can serve you different files.')
    return _http.HttpClient(timeout=params['timeout'], retries=params['retries'],
                            validate_certs=params['validate_certs'], ca_path=params['ca_path'], redact=redact)


def run(module, action, redact):
    """Call action(); turn every failure into fail_json with the secrets removed at the source."""
    try:
        result = action()
    except EXPECTED_ERRORS as exc:
        module.fail_json(msg=redact(str(exc)))
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg=redact('Unexpected %s: %s' % (type(exc).__name__, exc)),
                         exception=redact(traceback.format_exc()))
    module.exit_json(**redact.data(result))
