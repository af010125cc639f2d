# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What a contributor types is what the gates run: `make lint` is plain `ansible-lint` in the repo root."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_make_lint_runs_plain_ansible_lint():
    makefile = (ROOT / 'Makefile').read_text(encoding='utf-8')
    recipe = re.search(r'^lint:.*\n((?:\t.*\n)+)', makefile, re.M).group(1)
    # The recipe's command after the step title: ansible-lint alone, no options and no environment of its own.
    assert re.search(r'" ansible-lint$', recipe.strip()), recipe


def test_ansible_lint_may_install_the_collection_it_lints():
    # Offline, ansible-lint cannot install this collection, so its module_defaults groups do not resolve.
    config = yaml.safe_load((ROOT / '.ansible-lint').read_text(encoding='utf-8'))
    assert config.get('offline') is not True
    assert '.ansible/' in config['exclude_paths']
    assert '.ansible' in yaml.safe_load((ROOT / 'galaxy.yml').read_text(encoding='utf-8'))['build_ignore']
