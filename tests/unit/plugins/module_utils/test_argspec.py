# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Argument specs that carry their constraints (_argspec.ArgumentSpec): merging, and the AnsibleModule they build,
which names every place a missing required option can be set."""

from __future__ import annotations

import contextlib
import json
from unittest import mock

import pytest
from ansible.module_utils import basic

from ansible_collections.terminology.releases.plugins.module_utils import _argspec
from ansible_collections.terminology.releases.plugins.module_utils._argspec import ArgumentSpec

KEY = 'unit-test-api-key-4c1d'


@contextlib.contextmanager
def module_args(args):
    """Hand args to the AnsibleModule built inside, as ansible-playbook would."""
    try:
        from ansible.module_utils.testing import patch_module_args  # ansible-core 2.19 and later
    except ImportError:  # ansible-core 2.18 reads the raw JSON from here
        with mock.patch.object(basic, '_ANSIBLE_ARGS', json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode('utf-8')):
            yield
        return
    with patch_module_args(args):
        yield


def create_module(spec, args, capsys):
    """(the module, None) or, when it failed or exited, (None, its JSON result)."""
    with module_args(args):
        try:
            return spec.create_module(supports_check_mode=True), None
        except SystemExit:
            return None, json.loads(capsys.readouterr().out)


@pytest.fixture(autouse=True)
def no_environment(monkeypatch):
    for name in ('TRUD_API_KEY', 'TRUD_BASE_URL', 'MLDS_URL', 'MLDS_USERNAME', 'MLDS_PASSWORD'):
        monkeypatch.delenv(name, raising=False)


# ---- merging -------------------------------------------------------------------------------------

def test_merge_combines_options_constraints_and_hints():
    first = ArgumentSpec(dict(a=dict(type='str'), b=dict(type='str')), required_hints=dict(a='set a'),
                         mutually_exclusive=[('a', 'b')])
    second = ArgumentSpec(dict(c=dict(type='int'), d=dict(type='int')), required_hints=dict(c='set c'),
                          mutually_exclusive=[('c', 'd')], required_together=[('c', 'd')])
    merged = first.merge(second)
    assert merged is first
    assert sorted(merged.argument_spec) == ['a', 'b', 'c', 'd']
    assert merged.constraints['mutually_exclusive'] == [('a', 'b'), ('c', 'd')]
    assert merged.constraints['required_together'] == [('c', 'd')]
    assert merged.constraints['required_if'] == []
    assert merged.required_hints == dict(a='set a', c='set c')
    assert sorted(second.argument_spec) == ['c', 'd']  # the merged-in spec is not changed
    assert second.constraints['mutually_exclusive'] == [('c', 'd')]


def test_merge_updates_required_by_as_a_mapping():
    first = ArgumentSpec(dict(a=dict(), b=dict()), required_by=dict(a=['b']))
    merged = first.merge(ArgumentSpec(dict(c=dict()), required_by=dict(c='a')))
    assert merged.constraints['required_by'] == dict(a=['b'], c='a')
    assert ArgumentSpec().constraints['required_by'] == {}


def test_a_later_spec_or_update_options_replaces_an_option():
    spec = ArgumentSpec(dict(a=dict(type='str', default='x'))).merge(ArgumentSpec(dict(a=dict(type='int'))))
    assert spec.argument_spec['a'] == dict(type='int')
    assert spec.update_options(a=dict(type='bool')) is spec
    assert spec.argument_spec['a'] == dict(type='bool')


def test_unknown_constraints_are_refused():
    with pytest.raises(TypeError, match='unknown constraints: mutualy_exclusive'):
        ArgumentSpec({}, mutualy_exclusive=[('a', 'b')])


def test_the_service_specs_include_the_connection_options():
    for spec in (_argspec.trud_spec(), _argspec.mlds_spec()):
        assert {'validate_certs', 'ca_path', 'timeout', 'retries'} <= set(spec.argument_spec)
    assert _argspec.mlds_spec().constraints['required_together'] == [('username', 'password')]
    merged = _argspec.trud_spec(_argspec.trud_selection_spec(), dest=dict(type='path', required=True))
    assert merged.constraints['mutually_exclusive'] == [('release_id', 'release_name', 'release_date')]
    assert merged.argument_spec['dest'] == dict(type='path', required=True)


# ---- the module they build -----------------------------------------------------------------------

def test_a_missing_api_key_names_every_place_to_set_it(capsys):
    module, result = create_module(_argspec.trud_spec(), {'item': 394}, capsys)
    assert module is None
    assert result['failed'] is True
    assert result['msg'].startswith('api_key is required: set the api_key option (for example once for all TRUD '
                                    'tasks in module_defaults for group/terminology.releases.trud')
    assert 'or the TRUD_API_KEY environment variable where the module runs.' in result['msg']


def test_an_empty_api_key_is_missing_too(capsys):
    module, result = create_module(_argspec.trud_spec(), {'item': 394, 'api_key': ''}, capsys)
    assert module is None
    assert 'TRUD_API_KEY' in result['msg']


def test_the_api_key_from_the_environment_is_enough(capsys, monkeypatch):
    monkeypatch.setenv('TRUD_API_KEY', KEY)
    module, result = create_module(_argspec.trud_spec(), {'item': 394}, capsys)
    assert result is None
    assert module.params['api_key'] == KEY
    assert module.params['base_url'] == _argspec.TRUD_DEFAULT_BASE_URL
    assert KEY not in capsys.readouterr().out


def test_the_merged_constraints_reach_the_module(capsys):
    spec = _argspec.trud_spec(_argspec.trud_selection_spec())
    module, result = create_module(spec, {'item': 394, 'api_key': KEY, 'release_id': 'a', 'release_name': 'b'},
                                   capsys)
    assert module is None
    assert result['msg'] == 'parameters are mutually exclusive: release_id|release_name|release_date'
    assert KEY not in json.dumps(result)


def test_required_by_reaches_the_module(capsys):
    spec = _argspec.trud_spec(ArgumentSpec(dict(release_id=dict(type='str')), required_by=dict(release_id='dest')),
                              dest=dict(type='path'))
    module, result = create_module(spec, {'item': 394, 'api_key': KEY, 'release_id': 'a'}, capsys)
    assert module is None
    assert result['msg'] == "missing parameter(s) required by 'release_id': dest"


def test_required_together_reaches_the_module(capsys):
    module, result = create_module(_argspec.mlds_spec(), {'username': 'staff-se'}, capsys)
    assert module is None
    assert result['msg'] == 'parameters are required together: username, password'
