# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The mistakes a new user makes with the modules, each answered with a message that says what to do:
group-wide module_defaults, a missing key, a wrong base_url, dest missing or a file, a short
fingerprint, a mode written as a number. (An MLDS url ending in /api: test_mlds_access.)"""

from __future__ import annotations

import stat

from trud_itest import OMIT, ignoring_errors, tree


def test_group_wide_options_in_module_defaults_break_no_module(run_playbook, fetch_task, info_task, sandbox, dest):
    """Everything a user sets once for the TRUD group (trust and the maintenance-window switch included) is accepted
    by every module of the group, the info module too."""
    release = sandbox.release(101)
    defaults = {'group/terminology.releases.trud': {
        'api_key': '{{ trud_api_key }}', 'base_url': sandbox.trud_base_url, 'trusted_fingerprints': [
            sandbox.trud_fingerprint], 'maintenance_window_warning': False, 'timeout': 10, 'retries': 1,
        'validate_certs': True}}
    run = run_playbook([{
        'name': 'with group-wide module_defaults',
        'module_defaults': defaults,
        'block': [info_task(latest=True, api_key=OMIT, base_url=OMIT, timeout=OMIT, retries=OMIT),
                  fetch_task(api_key=OMIT, base_url=OMIT, trusted_fingerprints=OMIT, maintenance_window_warning=OMIT,
                             timeout=OMIT, retries=OMIT)],
    }])
    assert run.result('info')['releases'][0]['id'] == release['id']
    assert run.result()['changed'] is True and run.result()['verified'] == ['size', 'sha256', 'signature']


def test_a_missing_key_names_every_place_to_set_it(run_playbook, fetch_task, info_task, sandbox, workspace):
    before = tree(workspace)
    run = run_playbook([ignoring_errors(info_task(api_key=OMIT)), ignoring_errors(fetch_task(api_key=OMIT))],
                       env={'TRUD_API_KEY': None}, expect_failure=True)
    for task in ('info', 'fetch'):
        msg = run.failure_message(task)
        assert 'api_key is required' in msg and 'TRUD_API_KEY' in msg and 'module_defaults' in msg, msg
    assert tree(workspace) == before
    assert sandbox.module_requests() == []


def test_a_base_url_without_api_v1_is_reported_as_a_wrong_url(run_playbook, fetch_task, info_task, sandbox, workspace):
    wrong = sandbox.trud_base_url.rsplit('/api/v1', 1)[0]
    assert wrong != sandbox.trud_base_url
    before = tree(workspace)
    run = run_playbook([ignoring_errors(info_task(base_url=wrong)), ignoring_errors(fetch_task(base_url=wrong))],
                       expect_failure=True)
    for task in ('info', 'fetch'):
        msg = run.failure_message(task)
        assert 'URL is probably wrong' in msg and '/api/v1' in msg and wrong in msg, msg
        assert 'not subscribed' not in msg, msg
    assert tree(workspace) == before
    # The unknown-item answer (TRUD's own 404) still says what it means.
    run = run_playbook([ignoring_errors(info_task(item=987654))], expect_failure=True)
    assert 'not subscribed' in run.failure_message('info'), run.failure_message('info')


def test_dest_missing_and_dest_a_file_say_what_to_do(run_playbook, fetch_task, sandbox, workspace):
    a_file = workspace / 'a-file'
    a_file.write_bytes(b'not a directory\n')
    run = run_playbook([
        ignoring_errors(fetch_task('dest is a file', dest=str(a_file))),
        ignoring_errors(fetch_task('dest is missing', dest=str(workspace / 'missing'))),
    ], expect_failure=True)
    msg = run.failure_message('dest is a file')
    assert 'it is a file' in msg and 'file name itself comes from the release' in msg, msg
    msg = run.failure_message('dest is missing')
    assert 'does not exist' in msg and 'ansible.builtin.file' in msg and 'state: directory' in msg, msg
    assert sandbox.module_requests('archive') == []


def test_a_short_fingerprint_is_refused_as_input_not_as_a_bug(run_playbook, fetch_task, sandbox, dest):
    short = sandbox.trud_fingerprint[-16:]
    run = run_playbook([ignoring_errors(fetch_task(trusted_fingerprints=[short]))], expect_failure=True)
    msg = run.failure_message()
    assert 'Unexpected' not in msg, msg
    assert 'trusted_fingerprints' in msg and 'not a full OpenPGP fingerprint' in msg and short in msg, msg
    assert list(dest.iterdir()) == []
    assert sandbox.module_requests('archive') == []


def test_a_mode_written_as_a_number_warns(run_playbook, fetch_task, dest, sandbox):
    release = sandbox.release(101)
    run = run_playbook([fetch_task(mode=644), fetch_task('quoted', mode='0644')])
    warnings = run.warnings()
    assert any("mode: 644 is a number" in warning and "mode: '0644'" in warning and '1204' in warning
               for warning in warnings), warnings
    assert not run.warnings('quoted'), run.warnings('quoted')
    assert stat.S_IMODE((dest / release['archiveFileName']).stat().st_mode) == 0o644
