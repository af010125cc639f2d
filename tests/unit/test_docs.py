# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The user documentation, read as files of the collection (the staged copy, like everything the unit tests see).

* The README's playbooks for the real services are the files in tests/readme/ that the integration tests run
  (test_readme_playbooks.py), so what users copy is what is tested.
* The README's module table names every module.
* No user document cites a file that is not in the collection (notes kept outside it, a design document).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / 'README.md'
README_PLAYBOOKS = ROOT / 'tests' / 'readme'
# A playbook in the README follows a marker naming its copy: <!-- tests/readme/trud.yml --> then ```yaml.
PLAYBOOK_BLOCK = re.compile(r'^<!-- (tests/readme/[\w.-]+\.yml) -->\n```yaml\n(.*?)^```$', re.M | re.S)
# Citations of what users do not have: the notes and the design document the collection was written from.
FOREIGN = re.compile(r'\.\./shared\b|\bshared/|\bresearch/|\bDESIGN\.md')


def readme_playbooks():
    return dict((name, block) for name, block in PLAYBOOK_BLOCK.findall(README.read_text(encoding='utf-8')))


def test_readme_playbooks_are_the_tested_copies():
    blocks = readme_playbooks()
    copies = sorted(str(path.relative_to(ROOT)) for path in README_PLAYBOOKS.glob('*.yml'))
    assert copies, 'no playbooks in %s' % README_PLAYBOOKS
    assert sorted(blocks) == copies, 'README playbooks %s, copies in tests/readme %s' % (sorted(blocks), copies)
    for name, block in blocks.items():
        assert block == (ROOT / name).read_text(encoding='utf-8'), '%s differs from its copy in README.md' % name


@pytest.mark.parametrize('name', sorted(readme_playbooks()))
def test_readme_playbooks_are_plays_for_the_real_services(name):
    plays = yaml.safe_load(readme_playbooks()[name])
    assert isinstance(plays, list) and plays and all('hosts' in play and 'tasks' in play for play in plays)
    text = readme_playbooks()[name]
    # Nothing in them points at the sandbox: only the test supplies that.
    assert not re.search(r'127\.0\.0\.1|localhost:\d|sandbox|ca_path|base_url|validate_certs', text), name


def test_readme_module_table_lists_every_module():
    modules = sorted(path.stem for path in (ROOT / 'plugins' / 'modules').glob('*.py') if not path.stem.startswith('_'))
    rows = re.findall(r'^\| `terminology\.releases\.(\w+)` \|', README.read_text(encoding='utf-8'), re.M)
    assert sorted(rows) == modules


def user_documents():
    """Every document a user reads: Markdown and reStructuredText files, the docsite's configuration, changelog
    fragments, and the documentation strings of modules and doc fragments."""
    skip = {'.build', '.venv', '.git', 'output', '.ansible'}
    for path in sorted(ROOT.rglob('*')):
        if not path.is_file() or skip & set(path.relative_to(ROOT).parts):
            continue
        relative = str(path.relative_to(ROOT))
        if path.suffix in ('.md', '.rst') or relative.startswith(('docs/', 'changelogs/')):
            yield relative, path.read_text(encoding='utf-8')
        elif relative.startswith(('plugins/modules/', 'plugins/doc_fragments/')) and path.suffix == '.py':
            yield relative, '\n'.join(documentation_strings(path.read_text(encoding='utf-8')))


def documentation_strings(source):
    """The strings assigned to upper-case names (DOCUMENTATION, EXAMPLES, RETURN, a doc fragment's parts)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str) \
                and any(getattr(target, 'id', '').isupper() for target in node.targets):
            yield node.value.value


def test_user_documents_cite_nothing_outside_the_collection():
    documents = list(user_documents())
    assert any(name == 'README.md' for name, _text in documents)
    assert any(name.startswith('docs/docsite/rst/') for name, _text in documents)
    hits = ['%s: %s' % (name, match.group(0)) for name, text in documents for match in FOREIGN.finditer(text)]
    assert not hits, 'user documents cite files users do not have:\n' + '\n'.join(hits)
