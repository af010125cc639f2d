# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The runner every module ends with: call the module's action, exit with its result or fail in one place, redacted.

It knows the error family (_errors) and nothing else, so a module ships only the services it calls.

PRIVATE to this collection: it may change without notice.
"""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.terminology.releases.plugins.module_utils._errors import ReleasesError


def _no_redaction(value):
    return value


def require_library(module, available, library, import_error, reason=None, hint=''):
    """Fail with Ansible's missing-library message (and what else the user can do) unless available."""
    if not available:
        module.fail_json(msg=missing_required_lib(library, reason=reason) + (hint and ' ' + hint),
                         exception=import_error)


def warn_numeric_modes(module, *options):
    """Warn about a file mode written as a plain YAML number above 0o777 (mode: 644 means 0o1204 to Ansible, with
    the sticky bit and no read permission for the owner): almost always a forgotten pair of quotes."""
    for option in options:
        value = module.params.get(option)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0o777:
            module.warn("%s: %d is a number, which Ansible applies as the octal mode %s. If you meant %s, quote it: "
                        "%s: '0%d'." % (option, value, oct(value)[2:].rjust(4, '0'), '0%d' % value, option, value))


def run(module, action, redact=None):
    """Call action(); exit with its result, or fail: a ReleasesError with its own text and result fields, anything
    else as an unexpected error with a traceback. Secrets are removed from all of it (redact: an _http.Redactor)."""
    redact_text = redact or _no_redaction
    redact_data = redact.data if redact else _no_redaction
    try:
        result = action()
    except ReleasesError as exc:
        module.fail_json(msg=redact_text(str(exc)), **redact_data(exc.result))
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg=redact_text('Unexpected %s: %s' % (type(exc).__name__, exc)),
                         exception=redact_text(traceback.format_exc()))
    module.exit_json(**redact_data(result))
