# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every module's EXAMPLES block, run as written against the sandbox (examples that are never run rot).

For each module, the EXAMPLES YAML of the collection under test is parsed and run as the tasks of one play
with `ansible-playbook` (conftest's runner: real runs, result log, secret scan). Only what the examples
cannot know is supplied, and only in these documented ways:

* Connection options come from the play's ``module_defaults``: ``group/terminology.releases.trud`` gets
  ``base_url`` (the sandbox's HTTPS TRUD API), ``api_key`` and ``ca_path``; ``group/terminology.releases.mlds``
  gets ``url`` (the sandbox's HTTPS MLDS), ``username``, ``password`` and ``ca_path``; and
  ``terminology.releases.trud_release_fetch`` trusts the sandbox's signing key (``trusted_fingerprints``),
  since the sandbox cannot sign with TRUD's key; ``terminology.releases.syndication_feed_info`` gets ``ca_path``.
* Variables the examples use are defined: ``trud_api_key``, ``mlds_username`` and ``mlds_password`` (the
  MLDS user in `MLDS_ROLES`: staff of the Swedish member for the publisher modules, an approved Swedish
  affiliate for the info and fetch modules).
* `Rewriter` changes values that point outside the test: the production URLs (an example that sets ``url``
  or ``base_url`` explicitly, or reads MLDS's feed) become the sandbox's; absolute host paths under ``/srv/`` and ``/tmp/`` and
  relative ones under ``files/`` are moved under ``{{ example_root }}`` (a directory of the test's workspace);
  the ``owner``/``group`` ``snowstorm`` becomes the user running the tests; and an example's own
  ``module_defaults`` for a group is completed with the play's options for that group that it does not set
  (Ansible does not merge them: a block's defaults for a group replace the play's).
* `PRECONDITIONS` creates what an example presumes to exist before it runs: directories a fetch writes into,
  local files it reads, and for the MLDS publisher and affiliate examples, the Swedish extension package
  they work on (seeded into the sandbox's MLDS through its control API, as the publisher would have made it).

Where an example needs an item or a value that the sandbox does not have (`GAPS`), that task runs with
``failed_when: false`` and must fail with the expected message, every other task must succeed, and the test is an
expected failure (``xfail(strict=True)``) that names the gap. Once the sandbox or the example is adjusted, the
task succeeds, the test passes unexpectedly, and strict xfail turns that into a failure: remove the entry.
"""

from __future__ import annotations

import ast
import collections
import grp
import json
import os
import pwd
import re
import zipfile
from pathlib import Path

import pytest
import yaml

from drift_itest import make_release

REPO_ROOT = Path(__file__).resolve().parents[2]
MODULES_DIR = REPO_ROOT / 'plugins' / 'modules'
MODULES = sorted(path.stem for path in MODULES_DIR.glob('*.py') if not path.name.startswith('_'))
COLLECTION_PREFIX = 'terminology.releases.'

PRODUCTION_URLS = {
    'https://isd.digital.nhs.uk/trud/api/v1': 'trud',
    'https://mlds.ihtsdotools.org': 'mlds',
    'https://mlds.ihtsdotools.org/api/feed': 'mlds_feed',
    'https://terminology-mirror.example.org/syndication/feed': 'mirror_feed',
}
HOST_PATH_PREFIXES = ('/srv/', '/tmp/')
RELATIVE_PATH_PREFIXES = ('files/',)
EXAMPLE_ACCOUNT = 'snowstorm'  # the service account the examples give files to
FETCH_MODULES = ('trud_release_fetch', 'mlds_release_fetch', 'syndication_fetch')  # their `dest` must be an existing directory

# The MLDS user each module's examples run as (publishers are staff of the member; readers are affiliates).
MLDS_ROLES = collections.defaultdict(lambda: 'staff_se', mlds_release_info='affiliate', syndication_fetch='affiliate',
                                     mlds_release_fetch='affiliate')

SE_PACKAGE = 'SNOMED CT Swedish Extension'
SE_VERSION = '2026-03-01'
SE_ARCHIVE = 'SnomedCT_ManagedServiceSE_PRODUCTION_SE1000052_20260301T120000Z.zip'


class ExampleGap(Exception):
    """Raised when the examples failed exactly where `GAPS` says the sandbox lacks something."""


Gap = collections.namedtuple('Gap', 'task message reason')

# Tasks of the examples that need something the sandbox lacks: (task name, regex the failure message must
# match, what is missing). Report such a gap to the sandbox and module owners, and remove the entry once the task
# runs. The examples' fixed MLDS ids (4101, 4103, 4105) are seeded with `seedId`, and the sandbox lists the dm+d
# release of 2025-08-18 they pin.
GAPS = {}


# --- the examples -------------------------------------------------------------------------------------


def module_source(collection_dir, module):
    return (Path(collection_dir) / 'plugins' / 'modules' / (module + '.py')).read_text(encoding='utf-8')


def examples_of(source):
    """The EXAMPLES of a module's source, parsed (without importing the module)."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(getattr(target, 'id', None) == 'EXAMPLES' for target in node.targets):
            return yaml.safe_load(node.value.value)
    return None


def walk_tasks(tasks):
    """Every task, including those inside blocks (depth first, in order)."""
    for task in tasks:
        yield task
        for key in ('block', 'rescue', 'always'):
            yield from walk_tasks(task.get(key) or [])


def is_block(task):
    return any(key in task for key in ('block', 'rescue', 'always'))


def module_of(task):
    """The module FQCN a task calls, or None for a block."""
    if is_block(task):
        return None
    keywords = {'name', 'register', 'when', 'loop', 'loop_control', 'module_defaults', 'check_mode', 'diff',
                'notify', 'tags', 'vars', 'become', 'become_user', 'delegate_to', 'run_once', 'changed_when',
                'failed_when', 'ignore_errors', 'environment', 'until', 'retries', 'delay', 'no_log', 'throttle'}
    modules = [key for key in task if key not in keywords]
    assert len(modules) == 1, 'cannot tell the module of task %r' % (task,)
    return modules[0]


class Rewriter:
    """The documented rewrites (see the module docstring), recording the host paths they produced."""

    def __init__(self, root, sandbox, play_defaults):
        self.root = root
        self.play_defaults = play_defaults
        self.urls = {'trud': sandbox.trud_https_base_url, 'mlds': sandbox.mlds_https_url,
                     'mlds_feed': sandbox.mlds_https_url.rstrip('/') + '/api/feed',
                     'mirror_feed': sandbox.feed_https_url.rsplit('/', 1)[0] + '/feed'}
        self.account = (pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name)
        self.paths = []  # (module, option, real path)

    def value(self, value, module=None, option=None):
        if isinstance(value, dict):
            return dict((key, self.value(item, module, key)) for key, item in value.items())
        if isinstance(value, list):
            return [self.value(item, module, option) for item in value]
        if not isinstance(value, str):
            return value
        if value in PRODUCTION_URLS:
            return self.urls[PRODUCTION_URLS[value]]
        if value.startswith(HOST_PATH_PREFIXES + RELATIVE_PATH_PREFIXES):
            relative = value.lstrip('/')
            self.paths.append((module, option, self.root / relative))
            return '{{ example_root }}/' + relative
        if option in ('owner', 'group') and value == EXAMPLE_ACCOUNT:
            return self.account[0] if option == 'owner' else self.account[1]
        return value

    def module_defaults(self, defaults):
        """An example's own module_defaults, completed with the play's options it does not set.

        Ansible does not merge module_defaults for the same key: a block's group defaults replace the play's.
        """
        merged = dict(defaults)
        for key, options in self.play_defaults.items():
            if key in merged:
                merged[key] = dict(options, **(merged[key] or {}))
        return merged

    def tasks(self, tasks):
        rewritten = []
        for task in tasks:
            task = dict(task)
            if is_block(task):
                for key in ('block', 'rescue', 'always'):
                    if key in task:
                        task[key] = self.tasks(task[key])
                if 'module_defaults' in task:
                    task['module_defaults'] = self.module_defaults(self.value(task['module_defaults']))
            else:
                module = module_of(task)
                task = dict((key, self.value(value, module if key == module else None))
                            for key, value in task.items())
            rewritten.append(task)
        return rewritten


# --- preconditions ------------------------------------------------------------------------------------


def make_directories(rewriter):
    """The parent of every rewritten host path exists, and so does the `dest` directory of a fetch."""
    for module, option, path in rewriter.paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        if option == 'dest' and module and module.rsplit('.', 1)[-1] in FETCH_MODULES:
            path.mkdir(parents=True, exist_ok=True)


def local_file(rewriter, suffix, data):
    """Write `data` to the rewritten host path ending in `suffix` (a file an example reads)."""
    paths = [path for _module, _option, path in rewriter.paths if str(path).endswith(suffix)]
    assert paths, 'no example path ends in %s' % suffix
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


# The ids the MLDS examples use: the package, a version and a file in it.
PACKAGE_ID, VERSION_ID, FILE_ID = 4101, 4103, 4105


def seed_se_package(sandbox, versions=()):
    return sandbox.mlds_seed({'packages': [{'member': 'SE', 'name': SE_PACKAGE, 'seedId': PACKAGE_ID,
                                            'versions': list(versions)}]})


def storage(name, size, seed, style='https'):
    return {'name': 'se/' + name, 'size': size, 'seed': seed, 'url_style': style}


def pre_mlds_release_package(sandbox, rewriter):
    # The licence file the first example uploads.
    local_file(rewriter, 'se-affiliate-licence.pdf', b'%PDF-1.4\n% Swedish affiliate licence (example)\n%%EOF\n')


def pre_mlds_release_version(sandbox, rewriter):
    # The package whose version the examples create and publish, with the earlier release they archive and a
    # withdrawn one (id 4103, online, with a file) that they take offline and remove.
    seed_se_package(sandbox, [
        {'name': '2025-09-01', 'releaseType': 'online'},
        {'name': '2025-03-01', 'seedId': VERSION_ID, 'releaseType': 'online', 'files': [
            {'label': 'RF2 release (zip)', 'primaryFile': True, 'storage': storage('withdrawn.zip', 10_007, 54)}]},
    ])


def pre_mlds_release_file(sandbox, rewriter):
    # The version the examples register a file in, and the local copy they compute the MD5 and size from.
    # Also the file (id 4105) they relabel and the release notes they remove.
    seed_se_package(sandbox, [{'name': SE_VERSION, 'seedId': VERSION_ID, 'releaseType': 'offline', 'files': [
        {'label': 'RF2 release', 'primaryFile': False, 'seedId': FILE_ID, 'storage': storage('rf2.zip', 20_011, 53)},
        {'label': 'Release notes', 'primaryFile': False, 'storage': storage('notes.pdf', 3_001, 55, 'http')},
    ]}])
    local_file(rewriter, SE_ARCHIVE, os.urandom(100_003))


def pre_mlds_release_fetch(sandbox, rewriter):
    # An online version of the package whose primary file is the archive (held in the sandbox's S3 storage).
    seed_se_package(sandbox, [{'name': SE_VERSION, 'seedId': VERSION_ID, 'releaseType': 'online', 'files': [
        {'label': SE_ARCHIVE, 'primaryFile': True,
         'storage': {'name': 'se/' + SE_ARCHIVE, 'size': 1_000_033, 'seed': 52, 'url_style': 's3'}},
        {'label': 'RF2 release (zip)', 'primaryFile': False,
         'storage': {'name': 'se/rf2.zip', 'size': 20_011, 'seed': 53, 'url_style': 'https'}},
    ]}])


def pre_mlds_release_info(sandbox, rewriter):
    # The examples select a version of the package and its primary file, then fetch it: the fetch examples' data.
    pre_mlds_release_fetch(sandbox, rewriter)


def pre_release_unpack(sandbox, rewriter):
    # The archive "from elsewhere" of the last example: a small, well-formed release zip.
    paths = [path for _module, option, path in rewriter.paths if option == 'src' and str(path).endswith('.zip')]
    assert paths, 'no zip src among the release_unpack examples'
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, 'w', compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr('upload/readme.txt', 'An uploaded release.\n' * 50)
            archive.writestr('upload/data/concepts.txt', 'id\tactive\n' + '138875005\t1\n' * 200)


def pre_syndication_feed_info(sandbox, rewriter):
    # The feed file the examples read: two versions of the UK Clinical Edition in the NCTS format.
    entries = ''.join(
        '<entry><title>SNOMED CT UK Clinical Edition-%s</title><id>urn:uuid:00000000-0000-4000-8000-%012d</id>'
        '<updated>%s-01T00:00:00Z</updated><category term="SCT_RF2_ALL" label="SNOMED CT RF2 All" '
        'scheme="http://ns.electronichealth.net.au/ncts/syndication/asf/scheme/1.0.0"/>'
        '<link rel="alternate" type="application/zip" href="https://files.example.org/uk_sct2cl_%s.zip" '
        'length="%d" ncts:sha256Hash="%s"/>'
        '<ncts:contentItemIdentifier>http://snomed.info/sct/83821000000107</ncts:contentItemIdentifier>'
        '<ncts:contentItemVersion>http://snomed.info/sct/83821000000107/version/%s</ncts:contentItemVersion></entry>'
        % (date, number, date[:7], date, 1000 + number, '%064x' % number, date.replace('-', ''))
        for number, date in enumerate(('2025-11-19', '2025-05-21'), 1))
    local_file(rewriter, 'feeds/feed.xml', (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:ncts="http://ns.electronichealth.net.au/ncts/syndication/asf/extensions/1.0.0">'
        '<id>urn:uuid:00000000-0000-4000-8000-000000000000</id><title>Example feed</title>'
        '<updated>2025-11-01T00:00:00Z</updated>%s</feed>' % entries).encode('utf-8'))


def pre_release_drift_info(sandbox, rewriter):
    # The releases the examples report on: clinical and drug under the role's root, each with a current release
    # and its provenance record (clinical also keeps the release before it).
    roots = set(path for _module, option, path in rewriter.paths if option == 'root')
    assert roots, 'no root among the release_drift_info examples'
    for root in roots:
        make_release(root / 'clinical', 'uk_sct2cl_41.0.0_20260204000001Z.zip', current=False, release_date='2026-02-04')
        make_release(root / 'clinical', 'uk_sct2cl_41.2.0_20260304000001Z.zip')
        make_release(root / 'drug', 'uk_sct2dr_41.2.0_20260304000001Z.zip', source={'kind': 'trud', 'item': 105})


PRECONDITIONS = dict((name[len('pre_'):], function) for name, function in list(globals().items())
                     if name.startswith('pre_'))


# --- the test -----------------------------------------------------------------------------------------


def gap_marks(module):
    gaps = GAPS.get(module)
    if not gaps:
        return ()
    reasons = sorted(set(gap.reason for gap in gaps))
    reason = 'the sandbox lacks %s (tasks: %s)' % ('; '.join(reasons), ', '.join(repr(gap.task) for gap in gaps))
    return (pytest.mark.xfail(strict=True, raises=ExampleGap, reason=reason),)


def play_defaults(sandbox, mlds_user):
    username, password = mlds_user
    return {
        'group/terminology.releases.trud': {
            'base_url': sandbox.trud_https_base_url, 'api_key': '{{ trud_api_key }}', 'ca_path': sandbox.ca_path,
        },
        COLLECTION_PREFIX + 'trud_release_fetch': {'trusted_fingerprints': [sandbox.trud_fingerprint]},
        COLLECTION_PREFIX + 'syndication_feed_info': {'ca_path': sandbox.ca_path},
        COLLECTION_PREFIX + 'syndication_fetch': {'ca_path': sandbox.ca_path},
        'group/terminology.releases.mlds': {
            'url': sandbox.mlds_https_url, 'username': username, 'password': password, 'ca_path': sandbox.ca_path,
        },
    }


def test_every_module_has_examples(ansible_collections_path):
    collection = Path(ansible_collections_path, 'ansible_collections', 'terminology', 'releases')
    shipped = sorted(path.stem for path in (collection / 'plugins' / 'modules').glob('*.py')
                     if not path.name.startswith('_'))
    assert shipped == MODULES, 'the collection under test has other modules than the checkout'
    for module in MODULES:
        examples = examples_of(module_source(collection, module))
        assert isinstance(examples, list) and examples, '%s has no EXAMPLES' % module
        tasks = list(walk_tasks(examples))
        assert all(task.get('name') for task in tasks), '%s: every example task needs a name' % module
        names = [task['name'] for task in tasks]
        assert len(names) == len(set(names)), '%s: example task names must be unique' % module
        assert COLLECTION_PREFIX + module in [module_of(task) for task in tasks], \
            "%s's EXAMPLES never call it by its FQCN" % module
    assert set(GAPS) <= set(MODULES) and set(PRECONDITIONS) <= set(MODULES)


@pytest.mark.parametrize('module', [pytest.param(module, marks=gap_marks(module)) for module in MODULES])
def test_examples_run(module, run_playbook, sandbox, ansible_collections_path, workspace):
    collection = Path(ansible_collections_path, 'ansible_collections', 'terminology', 'releases')
    examples = examples_of(module_source(collection, module))
    root = workspace / 'example-root'
    root.mkdir()
    mlds_user = sandbox.mlds_user(MLDS_ROLES[module])
    defaults = play_defaults(sandbox, mlds_user)
    rewriter = Rewriter(root, sandbox, defaults)
    tasks = rewriter.tasks(examples)
    make_directories(rewriter)
    if module in PRECONDITIONS:
        PRECONDITIONS[module](sandbox, rewriter)

    gaps = dict((gap.task, gap) for gap in GAPS.get(module, ()))
    for task in walk_tasks(tasks):
        if task.get('name') in gaps:
            task['failed_when'] = False  # the run goes on; the message is checked below
    assert set(gaps) <= set(task.get('name') for task in walk_tasks(tasks)), 'a GAPS entry names no example task'

    variables = {'example_root': str(root), 'mlds_username': mlds_user[0], 'mlds_password': mlds_user[1]}
    run = run_playbook(tasks, extra_vars=variables, play={'module_defaults': defaults},
                       secrets=[mlds_user[1], '%s:%s' % mlds_user])

    # Every task of the examples ran (or was skipped by its own `when`), and only gap tasks failed.
    by_task = collections.defaultdict(list)
    for entry in run.results:
        by_task[entry['task']].append(entry)
    unexplained = []
    gap_failures = []
    for task in walk_tasks(tasks):
        if is_block(task):
            continue
        entries = by_task.get(task['name'])
        assert entries, 'example task %r did not run:\n%s' % (task['name'], run.describe())
        for entry in entries:
            message = str(entry['result'].get('msg', ''))
            gap = gaps.get(task['name'])
            if gap and entry['result'].get('failed_when_result') is False and re.search(gap.message, message):
                gap_failures.append(gap)
            elif entry['status'] == 'failed':
                unexplained.append('%r failed: %s' % (task['name'], message))
    assert not unexplained, '\n'.join(unexplained) + '\n' + run.describe()

    # What the examples fetched is where they said, under the example root.
    for entry in run.results:
        result = entry['result']
        if entry['status'] in ('ok', 'changed') and isinstance(result.get('path'), str):
            assert Path(result['path']).is_file() and Path(result['path']).is_relative_to(root), result['path']

    fixed = sorted(set(gaps) - set(gap.task for gap in gap_failures))
    assert not fixed or not gap_failures, (
        'these GAPS tasks ran now; remove them from GAPS: %s' % json.dumps(fixed))
    if gap_failures:
        raise ExampleGap('; '.join('%r: %s' % (gap.task, gap.reason) for gap in gap_failures))
