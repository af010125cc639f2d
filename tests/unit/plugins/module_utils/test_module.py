# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The runner every module ends with (_module.run): it exits with the action's result or fails in one place, and
removes the secret from all of it; require_library's missing-library failure; the warning about numeric modes."""

from __future__ import annotations

import base64

import pytest

from ansible_collections.terminology.releases.plugins.module_utils import _module
from ansible_collections.terminology.releases.plugins.module_utils._errors import InputError, ReleasesError
from ansible_collections.terminology.releases.plugins.module_utils._http import REDACTED, Redactor

SECRET = 'k3y/+&secret'
B64_SECRET = base64.b64encode(SECRET.encode('utf-8')).decode('ascii')


class FakeModule:
    """Records fail_json, exit_json and warn; the first two end the run with SystemExit, as AnsibleModule's do."""

    def __init__(self, params=None):
        self.params = dict(params or {})
        self.calls = []
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)

    def fail_json(self, **result):
        self.calls.append(('fail_json', result))
        raise SystemExit(1)

    def exit_json(self, **result):
        self.calls.append(('exit_json', result))
        raise SystemExit(0)


def run(action, redact=None):
    """_module.run on a FakeModule: (the one call it made, its exit code)."""
    module = FakeModule()
    with pytest.raises(SystemExit) as caught:
        _module.run(module, action, redact)
    assert len(module.calls) == 1, module.calls
    return module.calls[0], caught.value.code


def raising(exc):
    def action():
        raise exc
    return action


@pytest.mark.parametrize('error_class', [ReleasesError, InputError])
def test_a_releases_error_fails_with_its_message_and_result_fields_redacted(error_class):
    exc = error_class('TRUD refused the key %s (HTTP 403).' % SECRET, status=403,
                      url='https://trud.example.org/keys/%s/items/394' % SECRET, item=394,
                      releases=[{'name': 'r1', 'token': B64_SECRET}])
    call, code = run(raising(exc), Redactor([SECRET]))
    assert code == 1
    assert call == ('fail_json', {
        'msg': 'TRUD refused the key %s (HTTP 403).' % REDACTED,
        'url': 'https://trud.example.org/keys/%s/items/394' % REDACTED,
        'item': 394,
        'releases': [{'name': 'r1', 'token': REDACTED}],
    })


def test_an_input_error_without_result_fields_fails_with_its_message_only():
    call, code = run(raising(InputError('dest is not a directory.')), Redactor([SECRET]))
    assert (call, code) == (('fail_json', {'msg': 'dest is not a directory.'}), 1)


def test_any_other_exception_is_unexpected_with_a_redacted_traceback():
    def action():
        secrets = {'api_key': SECRET}
        return secrets['missing %s' % SECRET]  # a bug: KeyError naming the key

    (name, result), code = run(action, Redactor([SECRET]))
    assert (name, code) == ('fail_json', 1)
    assert sorted(result) == ['exception', 'msg']
    assert result['msg'] == "Unexpected KeyError: 'missing %s'" % REDACTED
    assert result['exception'].startswith('Traceback (most recent call last):')
    assert "KeyError: 'missing %s'" % REDACTED in result['exception']
    assert 'in action' in result['exception']
    assert SECRET not in repr(result)


def test_success_exits_with_the_redacted_result():
    def action():
        return {'changed': True, 'url': 'https://x.example.org/?k=%s' % SECRET, 'size': 3,
                'files': [{'path': '/srv/%s.zip' % SECRET}], 'flag': None}

    call, code = run(action, Redactor([SECRET]))
    assert code == 0
    assert call == ('exit_json', {'changed': True, 'url': 'https://x.example.org/?k=%s' % REDACTED, 'size': 3,
                                  'files': [{'path': '/srv/%s.zip' % REDACTED}], 'flag': None})


def test_without_a_redactor_everything_passes_unchanged():
    assert run(lambda: {'changed': False, 'text': SECRET}) == (('exit_json', {'changed': False, 'text': SECRET}), 0)
    call, code = run(raising(ReleasesError('no key %s' % SECRET, where=SECRET)))
    assert (call, code) == (('fail_json', {'msg': 'no key %s' % SECRET, 'where': SECRET}), 1)


def test_require_library_passes_when_available():
    module = FakeModule()
    _module.require_library(module, True, 'gnupg', None)
    assert module.calls == []


def test_require_library_fails_with_ansibles_message_and_the_hint():
    module = FakeModule()
    error = 'Traceback ... ImportError: No module named gnupg'
    with pytest.raises(SystemExit):
        _module.require_library(module, False, 'python-gnupg', error, reason='to check signatures',
                                hint='Or set verify_signature: false.')
    [(name, result)] = module.calls
    assert name == 'fail_json'
    assert result['exception'] == error
    assert result['msg'].startswith('Failed to import the required Python library (python-gnupg) on ')
    assert 'This is required to check signatures.' in result['msg']
    assert result['msg'].endswith(' Or set verify_signature: false.')


def test_a_numeric_mode_above_0777_is_warned_about():
    module = FakeModule({'mode': 644, 'dir_mode': 755})
    _module.warn_numeric_modes(module, 'mode', 'dir_mode')
    assert module.warnings == [
        "mode: 644 is a number, which Ansible applies as the octal mode 1204. If you meant 0644, quote it: "
        "mode: '0644'.",
        "dir_mode: 755 is a number, which Ansible applies as the octal mode 1363. If you meant 0755, quote it: "
        "dir_mode: '0755'.",
    ]


@pytest.mark.parametrize('value', ['0644', 'u=rw,g=r', 0o644, 0o777, 420, True, None])
def test_quoted_symbolic_or_small_modes_are_not_warned_about(value):
    module = FakeModule({'mode': value})
    _module.warn_numeric_modes(module, 'mode', 'absent_option')
    assert module.warnings == []
