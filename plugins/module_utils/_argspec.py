# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Argument specs that carry their constraints, kept beside the doc fragments that describe them.

Each spec function mirrors one doc fragment. An ArgumentSpec holds the options with their constraints
(mutually_exclusive, required_together) and the options that are required but may also come from module_defaults
or the environment, so that a missing one names every place it can be set.

PRIVATE to this collection: it may change without notice.
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, env_fallback

TRUD_DEFAULT_BASE_URL = 'https://isd.digital.nhs.uk/trud/api/v1'
MLDS_DEFAULT_URL = 'https://mlds.ihtsdotools.org'
CONSTRAINTS = ('mutually_exclusive', 'required_together', 'required_one_of', 'required_if', 'required_by')


class ArgumentSpec:
    """Options plus their constraints; merge() combines specs, create_module() builds the AnsibleModule."""

    def __init__(self, argument_spec=None, required_hints=None, **constraints):
        unknown = set(constraints) - set(CONSTRAINTS)
        if unknown:
            raise TypeError('unknown constraints: %s' % ', '.join(sorted(unknown)))
        self.argument_spec = dict(argument_spec or {})
        # required_by maps an option to the options it needs; the others are lists of option groups.
        self.constraints = dict((name, (dict if name == 'required_by' else list)(constraints.get(name) or ()))
                                for name in CONSTRAINTS)
        # option -> where else it can be set; checked after the module is built (see create_module)
        self.required_hints = dict(required_hints or {})

    def merge(self, *others):
        for other in others:
            self.argument_spec.update(other.argument_spec)
            for name in CONSTRAINTS:
                if name == 'required_by':
                    self.constraints[name].update(other.constraints[name])
                else:
                    self.constraints[name].extend(other.constraints[name])
            self.required_hints.update(other.required_hints)
        return self

    def update_options(self, **options):
        self.argument_spec.update(options)
        return self

    def create_module(self, **kwargs):
        constraints = dict((name, value) for name, value in self.constraints.items() if value)
        module = AnsibleModule(argument_spec=self.argument_spec, **dict(constraints, **kwargs))
        missing = [option for option in sorted(self.required_hints) if module.params.get(option) in (None, '')]
        if missing:
            module.fail_json(msg=' '.join('%s is required: %s.' % (option, self.required_hints[option])
                                          for option in missing))
        return module


def connection_spec():
    """doc fragment terminology.releases.connection: the same for every service."""
    return ArgumentSpec(dict(
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
        timeout=dict(type='float', default=60),
        retries=dict(type='int', default=3),
    ))


def fetch_spec():
    """doc fragment terminology.releases.fetch: the options of the verified fetch lifecycle (_download)."""
    return ArgumentSpec(dict(
        force=dict(type='bool', default=False),
        rehash=dict(type='bool', default=False),
        lock_timeout=dict(type='float', default=3600),
    ))


def trud_spec(*specs, **options):
    """doc fragments terminology.releases.trud and terminology.releases.connection: every option a user may set
    once for group/terminology.releases.trud is accepted by every trud_* module, used or not."""
    spec = ArgumentSpec(
        dict(
            api_key=dict(type='str', no_log=True, fallback=(env_fallback, ['TRUD_API_KEY'])),
            base_url=dict(type='str', default=TRUD_DEFAULT_BASE_URL, fallback=(env_fallback, ['TRUD_BASE_URL'])),
            item=dict(type='int', required=True),
            trusted_fingerprints=dict(type='list', elements='str'),
            maintenance_window_warning=dict(type='bool', default=True),
        ),
        required_hints=dict(api_key='set the api_key option (for example once for all TRUD tasks in module_defaults '
                                    'for group/terminology.releases.trud, from Ansible Vault), or the TRUD_API_KEY '
                                    'environment variable where the module runs'),
    )
    return spec.merge(connection_spec(), *specs).update_options(**options)


def trud_selection_spec():
    """doc fragment terminology.releases.trud.selection"""
    return ArgumentSpec(
        dict(
            release_id=dict(type='str'),
            release_name=dict(type='str'),
            release_date=dict(type='str'),
        ),
        mutually_exclusive=[('release_id', 'release_name', 'release_date')],
    )


def feed_spec(*specs, **options):
    """The feed and entry options of the syndication modules (with the connection options)."""
    spec = ArgumentSpec(
        dict(
            url=dict(type='str', required=True),
            # No environment fallback: a feed can be on any host, and MLDS credentials must not go to another.
            username=dict(type='str'),
            password=dict(type='str', no_log=True),
            identifier=dict(type='str'),
            version=dict(type='str'),
            version_uri=dict(type='str'),
        ),
        required_together=[('username', 'password')],
        mutually_exclusive=[('version', 'version_uri')],
    )
    return spec.merge(connection_spec(), *specs).update_options(**options)


def mlds_spec(*specs, **options):
    """doc fragments terminology.releases.mlds and terminology.releases.connection"""
    spec = ArgumentSpec(
        dict(
            url=dict(type='str', default=MLDS_DEFAULT_URL, fallback=(env_fallback, ['MLDS_URL'])),
            username=dict(type='str', fallback=(env_fallback, ['MLDS_USERNAME'])),
            password=dict(type='str', no_log=True, fallback=(env_fallback, ['MLDS_PASSWORD'])),
        ),
        required_together=[('username', 'password')],
    )
    return spec.merge(connection_spec(), *specs).update_options(**options)
