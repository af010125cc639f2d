# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""MLDS publishing with real ansible-playbook runs as staff of a member (staff-se): the whole lifecycle, its
idempotence checked against the sandbox's request log and state, package priorities, and fileSize as a number."""

from __future__ import annotations

import hashlib

from mlds_itest import Mlds, by_id, mlds, numeric_sandbox, package_seed, sandbox  # noqa: F401 pylint: disable=unused-import

PACKAGE = 'SNOMED CT Swedish Extension (itest)'
VERSION = '2026-03-01'
ARCHIVE = 'SnomedCT_ManagedServiceSE_PRODUCTION_SE1000052_20260301T120000Z.zip'
NOTES = 'Release notes'
LICENCE = b'%PDF-1.4\n% Swedish affiliate licence (itest)\n%%EOF\n'

VERSION_FIELDS = {
    'description': '<p>March 2026 release of the <b>Swedish</b> extension.</p>',
    'summary': 'March 2026',
    'published_at': '2026-03-01',
    'version_uri': 'http://snomed.info/sct/45991000052106/version/20260301',
    'version_dependent_uri': 'http://snomed.info/sct/900000000000207008/version/20260201',
    'package_type': 'SCT_RF2_ALL',
}


def statuses(changed_tasks, run):
    return dict((name, run.entry(name)['status']) for name in changed_tasks)


def test_publishing_lifecycle(mlds, sandbox):  # pylint: disable=redefined-outer-name,too-many-locals,too-many-statements
    archive = sandbox.mlds_storage('se/' + ARCHIVE, 1_500_007, seed=260301)
    notes = sandbox.mlds_storage('se/release-notes-20260301.pdf', 40_961, seed=260302)
    local = mlds.workspace / 'local'
    local.mkdir()
    local_copy = local / ARCHIVE
    local_copy.write_bytes(sandbox.fetch_bytes(archive['url']))
    assert hashlib.md5(local_copy.read_bytes()).hexdigest() == archive['md5']
    licence = mlds.workspace / 'se-affiliate-licence.pdf'
    licence.write_bytes(LICENCE)

    def package_task(name='package', **extra):
        return mlds.task('mlds_release_package', name, name=PACKAGE, member='SE',
                         description='<p>The <b>Swedish</b> national extension.</p>',
                         copyrights='\u00a9 2026 Socialstyrelsen',
                         release_package_uri='http://snomed.info/sct/45991000052106',
                         license_file=str(licence), license_content_type='application/pdf', **extra)

    def version_task(name, **options):
        return mlds.task('mlds_release_version', name, package=PACKAGE, member='SE', name=VERSION, **options)

    def file_tasks():
        return [
            mlds.task('mlds_release_file', 'archive file', package=PACKAGE, member='SE', version=VERSION,
                      label=ARCHIVE, download_url=archive['s3_url'], checksum_from=str(local_copy), primary_file=True),
            mlds.task('mlds_release_file', 'notes file', package=PACKAGE, member='SE', version=VERSION,
                      label=NOTES, download_url=notes['url'],
                      md5_hash=notes['md5'], file_size=notes['size'], primary_file=False),
        ]

    publish = version_task('publish', release_type='online', notify_affiliates=True)

    # --- 1. stage (package with licence, offline version, two files), then publish: online, notify once ------
    staged = mlds.run([package_task(), version_task('version', release_type='offline', **VERSION_FIELDS)]
                      + file_tasks() + [publish])
    tasks = ['package', 'version', 'archive file', 'notes file', 'publish']
    assert statuses(tasks, staged) == dict.fromkeys(tasks, 'changed'), staged.describe()
    package_id = staged.result('package')['package']['release_package_id']
    version_id = staged.result('version')['version']['release_version_id']
    assert staged.result('version')['version']['release_type'] == 'offline'
    assert staged.result('version')['notified'] is False
    assert staged.result('archive file')['checksum'] == {'md5': archive['md5'], 'size': archive['size']}
    archive_id = staged.result('archive file')['file']['release_file_id']
    notes_id = staged.result('notes file')['file']['release_file_id']
    result = staged.result('publish')
    assert result['notified'] is True and result['version']['release_type'] == 'online'

    base = '/api/releasePackages/%d' % package_id
    vbase = '%s/releaseVersions/%d' % (base, version_id)
    writes = sandbox.writes()
    assert writes == [
        ('POST', '/api/releasePackages', 200),
        ('POST', base + '/license', 200),
        ('POST', base + '/releaseVersions', 200),
        ('POST', vbase + '/releaseFiles', 200),
        ('POST', vbase + '/releaseFiles', 200),
        ('PUT', vbase, 200),
        ('POST', vbase + '/notifications', 200),
    ], writes
    assert {entry['auth_user'] for entry in sandbox.module_requests()} == {'staff-se'}

    held = sandbox.state_package(package_id)
    assert held['member']['key'] == 'SE' and held['createdBy'] == 'staff-se' and not held['deleted']
    assert held['description'] == '<p>The <b>Swedish</b> national extension.</p>'
    assert held['copyrights'] == '\u00a9 2026 Socialstyrelsen'
    assert held['releasePackageURI'] == 'http://snomed.info/sct/45991000052106'
    assert held['priority'] == 1
    assert held['licence']['filename'] == 'se-affiliate-licence.pdf'
    assert held['licence']['content_type'] == 'application/pdf'
    assert held['licence']['size'] == len(LICENCE)
    status, body = sandbox.api_get('/releasePackages/%d/license' % package_id)
    assert status == 200 and body == LICENCE
    (version,) = held['releaseVersions']
    assert version['releaseType'] == 'online' and version['online'] is False  # the legacy flag is never sent
    assert version['notifications'] == 1
    for field, key in (('summary', 'summary'), ('published_at', 'publishedAt'), ('version_uri', 'versionURI'),
                       ('description', 'description'), ('version_dependent_uri', 'versionDependentURI'),
                       ('package_type', 'packageType')):
        assert version[key] == VERSION_FIELDS[field], 'the online PUT lost %s' % key
    files = by_id(version['releaseFiles'], 'releaseFileId')
    assert sorted(files) == sorted([archive_id, notes_id])
    assert files[archive_id]['md5Hash'] == archive['md5']
    assert files[archive_id]['fileSize'] == str(archive['size'])  # MLDS 5.2 keeps fileSize as a string
    assert files[archive_id]['downloadUrl'] == archive['s3_url'] and files[archive_id]['primaryFile'] is True
    assert files[notes_id]['md5Hash'] == notes['md5'] and files[notes_id]['fileSize'] == str(notes['size'])
    assert files[notes_id]['downloadUrl'] == notes['url'] and files[notes_id]['primaryFile'] is False
    assert [(n['version'], n['user']) for n in sandbox.notifications()] == [(version_id, 'staff-se')]

    # --- 3. rerun everything (the converged desired state) -> nothing changes, nothing is written ----------
    # (the staging task's "release_type: offline" is the published state now: online, notify_affiliates)
    sandbox.clear_log()
    rerun = mlds.run([package_task(), version_task('version', release_type='online', notify_affiliates=True,
                                                   **VERSION_FIELDS)] + file_tasks() + [publish])
    for entry in rerun.results:
        assert entry['status'] == 'ok' and entry['result']['changed'] is False, rerun.describe()
    assert len(rerun.results) == 5
    assert rerun.result('publish')['notified'] is False and rerun.result('version')['notified'] is False
    assert sandbox.writes() == [], 'the rerun wrote to MLDS'
    assert sandbox.module_requests(), 'the rerun made no request at all'
    assert all(entry['method'] == 'GET' for entry in sandbox.module_requests())
    assert len(sandbox.notifications()) == 1, 'the rerun notified the affiliates again'

    # --- 4. one field changes: check mode, diff mode, then exactly one PUT --------------------------------
    sandbox.clear_log()
    new_description = '<p>March 2026 release, <i>corrected</i>.</p>'
    # The published playbook keeps release_type: online and notify_affiliates: true: editing an online version
    # must not notify the affiliates again.
    edit = dict(release_type='online', notify_affiliates=True, description=new_description)
    changed = mlds.run([
        dict(version_task('version change (check)', **edit), check_mode=True, diff=True),
        dict(mlds.task('mlds_release_package', 'package change (check)', id=package_id,
                       copyrights='\u00a9 2027 Socialstyrelsen'), check_mode=True, diff=True),
        dict(version_task('version change', **edit), diff=True),
    ])
    check = changed.result('version change (check)')
    assert check['changed'] is True and check['notified'] is False
    assert check['diff'] == {'before': {'description': VERSION_FIELDS['description']},
                             'after': {'description': new_description}}, check['diff']
    package_check = changed.result('package change (check)')
    assert package_check['changed'] is True
    assert package_check['diff'] == {'before': {'copyrights': '\u00a9 2026 Socialstyrelsen'},
                                     'after': {'copyrights': '\u00a9 2027 Socialstyrelsen'}}
    real = changed.result('version change')
    assert real['changed'] is True and real['notified'] is False
    assert real['diff'] == check['diff']
    assert real['version']['description'] == new_description
    assert sandbox.writes() == [('PUT', vbase, 200)], 'expected exactly one PUT (check mode must not write)'
    held = sandbox.state_package(package_id)
    assert held['copyrights'] == '\u00a9 2026 Socialstyrelsen'
    (version,) = held['releaseVersions']
    assert version['description'] == new_description
    assert version['releaseType'] == 'online' and version['summary'] == 'March 2026'
    assert version['publishedAt'] == '2026-03-01' and version['notifications'] == 1
    assert len(sandbox.notifications()) == 1

    # --- 5. take offline, delete the version (files first), delete the package -----------------------------
    sandbox.clear_log()
    removed = mlds.run([
        version_task('offline', release_type='offline', notify_affiliates=True),
        mlds.task('mlds_release_version', 'delete version', package=str(package_id), name=VERSION, state='absent'),
        mlds.task('mlds_release_package', 'delete package', name=PACKAGE, member='SE', state='absent'),
        mlds.task('mlds_release_package', 'delete package again', name=PACKAGE, member='SE', state='absent'),
    ])
    assert removed.result('offline')['changed'] is True and removed.result('offline')['notified'] is False
    assert removed.result('offline')['version']['release_type'] == 'offline'
    assert removed.result('delete version')['changed'] is True
    assert removed.result('delete version')['version'] is None
    assert removed.result('delete package')['changed'] is True
    assert removed.result('delete package')['package'] is None
    assert removed.result('delete package again')['changed'] is False
    writes = sandbox.writes()
    file_deletes = [('DELETE', '%s/releaseFiles/%d' % (vbase, file_id), 200) for file_id in (archive_id, notes_id)]
    assert writes[0] == ('PUT', vbase, 200), writes
    assert sorted(writes[1:3]) == sorted(file_deletes), 'the files must be deleted before the version: %s' % writes
    assert writes[3:] == [('DELETE', vbase, 200), ('DELETE', base, 200)], writes
    assert len(sandbox.notifications()) == 1

    status, _body = sandbox.api_get('/releasePackages/%d' % package_id, role='staff_se')
    assert status == 404
    held = sandbox.state_package(package_id)
    assert held['deleted'] is True and held['deletedAt']
    assert held['releaseVersions'] == [], 'the version was hard-deleted'


def test_priorities_never_flap(mlds, sandbox):  # pylint: disable=redefined-outer-name
    seeded = sandbox.mlds_seed({'packages': [package_seed(name) for name in ('Prio A', 'Prio B', 'Prio C')]})
    ids = dict((package['name'], package['releasePackageId']) for package in seeded['packages'])

    def ranking():
        state = sandbox.mlds_state()['packages']
        return dict((package['name'], package['priority']) for package in state if package['member']['key'] == 'SE')

    # A new package goes to the bottom: A, B, C were created in that order.
    assert ranking() == {'Prio A': 3, 'Prio B': 2, 'Prio C': 1}
    wanted = {'Prio A': 2, 'Prio B': 1, 'Prio C': 3}
    tasks = [mlds.task('mlds_release_package', name, name=name, member='SE', priority=priority)
             for name, priority in wanted.items()]

    first = mlds.run(tasks)
    for name, priority in wanted.items():
        result = first.result(name)
        assert result['changed'] is True, first.describe()
        assert result['package']['priority'] == priority, first.describe()
        assert not first.warnings(name), first.warnings(name)
    assert ranking() == wanted
    puts = [write for write in sandbox.writes() if write[0] == 'PUT']
    assert {path for _method, path, _status in puts} <= {'/api/releasePackages/%d' % ids[name] for name in ids}
    assert len(puts) == 3 and all(status == 200 for _m, _p, status in puts), puts
    ihtsdo = sandbox.state_package(1001)
    assert ihtsdo['priority'] == 1, 'another member\'s ranking moved'

    sandbox.clear_log()
    again = mlds.run(tasks)
    for name, priority in wanted.items():
        assert again.result(name)['changed'] is False, again.describe()
        assert again.result(name)['package']['priority'] == priority
    assert sandbox.writes() == []
    assert ranking() == wanted


def test_file_size_as_number_is_idempotent(runner, numeric_sandbox):
    assert numeric_sandbox.file_size_type == 'number'
    mlds6 = Mlds(runner, numeric_sandbox)
    first_object = numeric_sandbox.mlds_storage('se/numeric.zip', 1_048_583, seed=61)
    second_object = numeric_sandbox.mlds_storage('se/numeric-notes.pdf', 4097, seed=62)
    seeded = numeric_sandbox.mlds_seed({'packages': [package_seed('Numeric sizes', versions=[
        {'name': 'v6', 'releaseType': 'offline'}])]})
    package_id = seeded['packages'][0]['releasePackageId']
    local_copy = mlds6.workspace / 'numeric.zip'
    local_copy.write_bytes(numeric_sandbox.fetch_bytes(first_object['url']))

    tasks = [
        mlds6.task('mlds_release_file', 'checksum_from', package=str(package_id), version='v6', label='numeric.zip',
                   download_url=first_object['s3_url'], checksum_from=str(local_copy), primary_file=True),
        mlds6.task('mlds_release_file', 'file_size', package=str(package_id), version='v6', label='notes.pdf',
                   download_url=second_object['url'], file_size=second_object['size'], md5_hash=second_object['md5']),
    ]
    first = mlds6.run(tasks)
    assert first.result('checksum_from')['changed'] is True and first.result('file_size')['changed'] is True
    (version,) = numeric_sandbox.state_package(package_id)['releaseVersions']
    sizes = dict((item['label'], item['fileSize']) for item in version['releaseFiles'])
    assert sizes == {'numeric.zip': first_object['size'], 'notes.pdf': second_object['size']}
    assert all(isinstance(size, int) for size in sizes.values()), sizes

    numeric_sandbox.clear_log()
    same_size = mlds6.task('mlds_release_file', 'size given again', package=str(package_id), version='v6',
                           label='numeric.zip', file_size=first_object['size'], md5_hash=first_object['md5'])
    again = mlds6.run(tasks + [same_size])
    for entry in again.results:
        assert entry['result']['changed'] is False, again.describe()
    assert again.result('checksum_from')['file']['file_size'] == first_object['size']
    assert numeric_sandbox.writes() == []


def test_refuses_what_the_mlds_interface_refuses(mlds, sandbox):  # pylint: disable=redefined-outer-name
    """Archiving an online version, and taking offline or deleting a version another version depends on, are
    refused (check mode too) and change nothing; force: true does them."""
    edition_uri = 'http://snomed.info/sct/45991000052106/version/20260301'
    sandbox.mlds_seed({'packages': [package_seed('SE edition (refusals)', versions=[
        {'name': 'edition', 'releaseType': 'online', 'versionURI': edition_uri},
        {'name': 'dependant', 'releaseType': 'online', 'versionURI': edition_uri + '-derivative',
         'versionDependentURI': edition_uri},
    ])]})

    def version(title, **options):
        return mlds.task('mlds_release_version', title, package='SE edition (refusals)', member='SE', name='edition',
                         **options)

    sandbox.clear_log()
    run = mlds.run([
        dict(version('archive online (check)', archived=True), check_mode=True, ignore_errors=True),
        dict(version('archive online', archived=True), ignore_errors=True),
        dict(version('offline (check)', release_type='offline'), check_mode=True, ignore_errors=True),
        dict(version('offline', release_type='offline'), ignore_errors=True),
        dict(version('delete', state='absent', take_offline=True), ignore_errors=True),
    ], expect_failure=True)
    for task in ('archive online (check)', 'archive online'):
        msg = run.failure_message(task)
        assert 'Refusing to archive' in msg and 'online' in msg and 'force: true' in msg, msg
    for task in ('offline (check)', 'offline', 'delete'):
        msg = run.failure_message(task)
        assert 'other versions depend on' in msg and edition_uri in msg and 'force: true' in msg, msg
    assert sandbox.writes() == [], 'a refused change wrote to MLDS'

    forced = mlds.run([version('offline (forced)', release_type='offline', force=True)])
    assert forced.result('offline (forced)')['changed'] is True
    assert forced.result('offline (forced)')['version']['release_type'] == 'offline'
    again = mlds.run([version('archive offline', archived=True), version('archive offline again', archived=True)])
    assert again.result('archive offline')['changed'] is True
    assert again.result('archive offline again')['changed'] is False


def test_taking_a_version_online_can_wait_until_the_feed_lists_it(mlds, sandbox):  # pylint: disable=redefined-outer-name
    version_uri = 'http://snomed.info/sct/45991000052106/version/20261001'
    versions = [
        {'name': '2026-10-01', 'releaseType': 'offline', 'versionURI': version_uri,
         'files': [{'label': 'se-20261001.zip', 'primaryFile': True,
                    'storage': {'name': 'se/se-20261001.zip', 'size': 4099, 'seed': 261001, 'url_style': 'http'}}]},
        {'name': 'no uri', 'releaseType': 'offline'},
    ]
    sandbox.mlds_seed({'packages': [package_seed('SE feed (wait)', versions=versions,
                                                 releasePackageURI='http://snomed.info/sct/45991000052106')]})

    def version(title, name, **options):
        return mlds.task('mlds_release_version', title, package='SE feed (wait)', member='SE', name=name,
                         release_type='online', wait_for_feed=True, feed_timeout=30, **options)

    run = mlds.run([version('online', '2026-10-01'), dict(version('no uri', 'no uri'), ignore_errors=True)],
                   expect_failure=True)
    result = run.result('online')
    assert result['changed'] is True and result['in_feed'] is True, run.describe()
    feed = sandbox.fetch_bytes(sandbox.mlds_url.rstrip('/') + '/api/feed').decode('utf-8')
    assert version_uri in feed
    msg = run.failure_message('no uri')
    assert 'version has no version_uri' in msg and 'no files' in msg, msg
    again = mlds.run([version('online again', '2026-10-01')])
    assert again.result('online again')['changed'] is False and again.result('online again')['in_feed'] is True
