# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Argument specs shared by modules, kept beside the doc fragments that describe them.

PRIVATE to this collection: it may change without notice.
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

from ansible_collections.terminology.releases.plugins.module_utils._mlds import DEFAULT_URL as MLDS_DEFAULT_URL
from ansible_collections.terminology.releases.plugins.module_utils._trud import DEFAULT_BASE_URL


def connection_spec():
    """validate_certs, ca_path, timeout, retries: the same for every service."""
    return dict(
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
        timeout=dict(type='float', default=60),
        retries=dict(type='int', default=3),
    )


def trud_spec(**extra):
    """doc fragment terminology.releases.trud"""
    spec = dict(
        api_key=dict(type='str', required=True, no_log=True, fallback=(env_fallback, ['TRUD_API_KEY'])),
        base_url=dict(type='str', default=DEFAULT_BASE_URL, fallback=(env_fallback, ['TRUD_BASE_URL'])),
        item=dict(type='int', required=True),
    )
    spec.update(connection_spec())
    spec.update(extra)
    return spec


def selection_spec():
    """doc fragment terminology.releases.trud.selection"""
    return dict(
        release_id=dict(type='str'),
        release_name=dict(type='str'),
        release_date=dict(type='str'),
    )


SELECTION_EXCLUSIVE = [('release_id', 'release_name', 'release_date')]


def mlds_spec(**extra):
    """doc fragment terminology.releases.mlds"""
    spec = dict(
        url=dict(type='str', default=MLDS_DEFAULT_URL, fallback=(env_fallback, ['MLDS_URL'])),
        username=dict(type='str', fallback=(env_fallback, ['MLDS_USERNAME'])),
        password=dict(type='str', no_log=True, fallback=(env_fallback, ['MLDS_PASSWORD'])),
    )
    spec.update(connection_spec())
    spec.update(extra)
    return spec
