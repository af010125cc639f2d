# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Integration-test helper: append every task result to a JSON-lines file."""

from __future__ import annotations

DOCUMENTATION = r'''
name: result_log
type: notification
short_description: Append every task result as a JSON line to a file
description:
  - Test helper for the integration tests of C(terminology.releases), not shipped content.
  - Writes one JSON object per task result (task name, host, status, whether errors are ignored and
    the full result dictionary) to the file named by O(path), so that tests can read results exactly
    while the default stdout callback keeps printing as usual.
requirements:
  - enabled in ANSIBLE_CALLBACKS_ENABLED
options:
  path:
    description: The file to append the results to. Nothing is written when it is not set.
    type: path
    env:
      - name: TERMINOLOGY_RELEASES_RESULT_LOG
'''

import json

from ansible.module_utils.common.json import AnsibleJSONEncoder
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    """Append task results to a JSON-lines file."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'notification'
    CALLBACK_NAME = 'result_log'
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, result, status, ignore_errors=False):
        path = self.get_option('path')
        if not path:
            return
        # ansible-core 2.19 has the public result, host and task; 2.18 only the underscored ones.
        data = getattr(result, 'result', None)
        if data is None:
            data = result._result  # pylint: disable=protected-access
        host = getattr(result, 'host', None) or result._host  # pylint: disable=protected-access
        task = getattr(result, 'task', None) or result._task  # pylint: disable=protected-access
        entry = {'task': task.get_name(), 'host': host.get_name(), 'status': status, 'ignore_errors': ignore_errors,
                 'result': data}
        with open(path, 'a', encoding='utf-8') as handle:
            handle.write(json.dumps(entry, cls=AnsibleJSONEncoder, sort_keys=True) + '\n')

    def v2_runner_on_ok(self, result):
        self._write(result, 'changed' if result.is_changed() else 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, 'failed', ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._write(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._write(result, 'unreachable')
