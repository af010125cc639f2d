# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The README's playbooks for the real TRUD and MLDS, run as written against the sandbox.

tests/readme/*.yml are the README's playbooks byte for byte (tests/unit/test_docs.py checks that). They run
unchanged with real `ansible-playbook` (conftest's runner: result log, secret scan) on an inventory group
``terminology_servers`` of one local host. Only what must differ from the real services is supplied, in ways
a user could use too:

* the service address and the sandbox's CA through the environment: ``TRUD_BASE_URL`` and ``MLDS_URL`` (which
  the modules read) and ``REQUESTS_CA_BUNDLE`` (which `requests` reads when ``ca_path`` is not set);
* the credentials as a user gives them: ``TRUD_API_KEY``, ``MLDS_USERNAME`` and ``MLDS_PASSWORD`` in the
  control node's environment, or ``vault_*`` variables as an encrypted vars file would give them;
* as extra vars, the play's own settings that point outside the test: the destination directory, its owner
  and group (the user running the tests), and the trusted fingerprint (the sandbox's signing key, since the
  sandbox cannot sign with TRUD's). When the tests do not run as root, become is turned off in the inventory.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import stat
import sys
from pathlib import Path

from trud_itest import API_KEY, sha256_file

READMES = Path(__file__).resolve().parents[1] / 'readme'
GROUP = 'terminology_servers'
HOST = 'server1'
ACCOUNT = (pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name)


def inventory(runner):
    host = {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}
    if os.getuid() != 0:
        host['ansible_become'] = False  # become needs a password here; the owner is the test's user anyway
    path = runner.tmp_path / 'inventory.json'
    path.write_text(json.dumps({GROUP: {'hosts': {HOST: host}}}), encoding='utf-8')
    return path


def changed_tasks(run):
    return [entry['task'] for entry in run.results if entry['status'] == 'changed']


def handler_runs(run, handler):
    return [entry for entry in run.results if entry['task'] == handler and entry['status'] != 'skipped']


def assert_private_file(path, mode=0o640):
    info = path.stat()
    assert stat.S_IMODE(info.st_mode) == mode, oct(info.st_mode)
    assert (pwd.getpwuid(info.st_uid).pw_name, grp.getgrgid(info.st_gid).gr_name) == ACCOUNT


def test_trud_playbook_runs_as_written(runner, sandbox):
    dest = runner.workspace / 'trud'
    extra = {'trud_dest': str(dest), 'trud_owner': ACCOUNT[0], 'trud_group': ACCOUNT[1],
             'trud_trusted_fingerprints': [sandbox.trud_fingerprint]}
    env = {'TRUD_BASE_URL': sandbox.trud_https_base_url, 'REQUESTS_CA_BUNDLE': sandbox.ca_path}
    hosts = inventory(runner)
    release = sandbox.release(101)

    # The key from the control node's environment.
    first = runner.run_playbook_file(READMES / 'trud.yml', inventory=hosts, extra_vars=extra,
                                     env=dict(env, TRUD_API_KEY=API_KEY))
    assert changed_tasks(first) == ['Create the archive directory',
                                    'Fetch the newest release, verified (size, SHA-256 and TRUD\'s signature)'], \
        first.describe()
    fetched = first.result('Fetch the newest release, verified (size, SHA-256 and TRUD\'s signature)')
    assert fetched['release']['id'] == release['id'] and fetched['downloaded'] is True
    assert 'signature' in fetched['verified'] and 'sha256' in fetched['verified'], fetched['verified']
    archive = dest / release['archiveFileName']
    assert sha256_file(archive).upper() == release['archiveFileSha256']
    assert_private_file(archive)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o750
    assert len(handler_runs(first, 'Load the new TRUD release')) == 1, first.describe()

    # The key as a Vault-encrypted vars file gives it (the environment has none): nothing to do.
    second = runner.run_playbook_file(READMES / 'trud.yml', inventory=hosts,
                                      extra_vars=dict(extra, vault_trud_api_key=API_KEY), env=env)
    assert changed_tasks(second) == [], second.describe()
    assert not handler_runs(second, 'Load the new TRUD release'), second.describe()
    assert len(sandbox.archive_gets()) == 1


def test_mlds_playbook_runs_as_written(runner, sandbox):
    username, password = sandbox.mlds_user('affiliate')
    dest = runner.workspace / 'mlds'
    extra = {'mlds_dest': str(dest), 'mlds_owner': ACCOUNT[0], 'mlds_group': ACCOUNT[1]}
    env = {'MLDS_URL': sandbox.mlds_https_url, 'REQUESTS_CA_BUNDLE': sandbox.ca_path}
    hosts = inventory(runner)
    secrets = [password, '%s:%s' % (username, password)]
    fetch_task = 'Fetch the primary file of the newest online version, verified (MD5 and size)'

    # Credentials from the control node's environment.
    first = runner.run_playbook_file(READMES / 'mlds.yml', inventory=hosts, extra_vars=extra, secrets=secrets,
                                     env=dict(env, MLDS_USERNAME=username, MLDS_PASSWORD=password))
    assert changed_tasks(first) == ['Create the release directory', fetch_task], first.describe()
    fetched = first.result(fetch_task)
    # The affiliate sees the online 2025-01-01 version (1002) and a newer alpha/beta one: the online one is taken.
    assert fetched['version_id'] == 1002, fetched
    assert fetched['file']['primary_file'] is True
    path = Path(fetched['path'])
    assert path.parent == dest and path.stat().st_size == int(fetched['file']['file_size'])
    assert_private_file(path)
    assert len(handler_runs(first, 'Load the new MLDS release')) == 1, first.describe()

    # Credentials as Vault variables (the environment has none): nothing to do.
    second = runner.run_playbook_file(
        READMES / 'mlds.yml', inventory=hosts, env=env, secrets=secrets,
        extra_vars=dict(extra, vault_mlds_username=username, vault_mlds_password=password))
    assert changed_tasks(second) == [], second.describe()
    assert not handler_runs(second, 'Load the new MLDS release'), second.describe()
