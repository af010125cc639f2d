"""Side-by-side benchmarks of the TRUD fetch path against what users would use instead.

Run through `make bench` (it builds the venv and stages the collection first). Starts the sandbox, measures
every method in the same run, repeated, and writes benchmarks/results/{results.json,report.md,chart.png}.
Exits non-zero when a target is missed, so it can be run as a check. Targets: issue 6 and DESIGN section 8.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

from benchmarks.file_server import SendfileServer  # noqa: E402  pylint: disable=wrong-import-position
from tests.sandbox.control import Sandbox  # noqa: E402  pylint: disable=wrong-import-position

COLLECTIONS = os.path.join(REPO, '.build')
MODULES = os.path.join(COLLECTIONS, 'ansible_collections', 'terminology', 'releases', 'plugins', 'modules')
BIN = os.path.dirname(sys.executable)
MIB = 1024 * 1024
ITEM = 1799
RESULTS = os.path.join(HERE, 'results')


def run_measured(cmd, env=None, stdout=subprocess.DEVNULL):
    """Wall seconds and peak RSS (KiB, from the OS via wait4) of one command; fails loudly on a non-zero exit."""
    # Start every measurement from a clean disk: the write-back of what the previous one wrote (and deleted)
    # would otherwise throttle this one's writes, and the order of the methods would decide the ratios.
    os.sync()
    started = time.monotonic()
    with subprocess.Popen(cmd, env=env, stdout=stdout, stderr=subprocess.PIPE) as proc:
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode('utf-8', 'replace')
    if proc.returncode:
        raise RuntimeError('%s exited %s: %s' % (cmd[:3], proc.returncode, err[-2000:]))
    return elapsed, usage.ru_maxrss


def summary(values):
    return {'median': statistics.median(values), 'min': min(values), 'max': max(values), 'runs': values}


class Bench:
    def __init__(self, sandbox, work, repeats):
        self.sandbox = sandbox
        self.work = work
        self.repeats = repeats
        self.env = dict((key, value) for key, value in os.environ.items()
                        if key not in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'))
        self.env.update(PYTHONPATH=COLLECTIONS, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
                        ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_INVENTORY_UNPARSED_WARNING='false')
        self.dest = os.path.join(work, 'dest')
        os.makedirs(self.dest, exist_ok=True)

    # -- the release under test -------------------------------------------------------------

    def release(self, size):
        self.sandbox.resize(ITEM, size)
        url = '%s/keys/%s/items/%d/releases?latest' % (self.sandbox.info['trud_base_url'], self.sandbox.api_key, ITEM)
        with urllib.request.urlopen(url) as response:
            release = json.load(response)['releases'][0]
        return release

    def clean_dest(self):
        shutil.rmtree(self.dest)
        os.makedirs(self.dest)

    def module_args(self, **extra):
        args = {'api_key': self.sandbox.api_key, 'base_url': self.sandbox.info['trud_base_url'], 'item': ITEM,
                'dest': self.dest, 'trusted_fingerprints': [self.sandbox.info['trud_fingerprint']],
                'maintenance_window_warning': False, 'retries': 1}
        args.update(extra)
        return self.args_file(args)

    def args_file(self, args):
        path = os.path.join(self.work, 'args.json')
        with open(path, 'w', encoding='utf-8') as handle:
            json.dump({'ANSIBLE_MODULE_ARGS': args}, handle)
        return path

    # -- one measurement each ---------------------------------------------------------------

    def curl_limit(self, url):
        return run_measured(['curl', '-sf', '-o', '/dev/null', url])[0]

    def curl_durable(self, url):
        target = os.path.join(self.work, 'curl.zip')
        seconds = run_measured(['sh', '-c', 'curl -sf -o "$1" "$2" && sync "$1"', 'sh', target, url])[0]
        os.unlink(target)
        return seconds

    def curl_sha256sum(self, url):
        target = os.path.join(self.work, 'curl.zip')
        seconds = run_measured(['sh', '-c', 'curl -sf -o "$1" "$2" && sha256sum "$1"', 'sh', target, url])[0]
        os.unlink(target)
        return seconds

    def module(self, report=None, module='trud_release_fetch', args=None, **extra):
        """The module's own process, started directly with an args file (no Ansible start-up cost)."""
        report = report or os.path.join(self.work, 'report.json')
        cmd = [sys.executable, os.path.join(HERE, 'launch_module.py'), report,
               os.path.join(MODULES, module + '.py'), self.module_args(**extra) if args is None else args]
        out = os.path.join(self.work, 'module.out')
        with open(out, 'wb') as handle:
            seconds, rss_kib = run_measured(cmd, env=self.env, stdout=handle)
        with open(out, encoding='utf-8') as handle:
            result = json.load(handle)
        if result.get('failed'):
            raise RuntimeError('module failed: %s' % result.get('msg'))
        with open(report, encoding='utf-8') as handle:
            counters = json.load(handle)
        return seconds, rss_kib, result, counters

    def archive_bytes_read(self, archive_name):
        """Bytes the module read from the archive file, counted by strace from the read calls on its descriptor."""
        log = os.path.join(self.work, 'strace.log')
        report = os.path.join(self.work, 'report.json')
        cmd = ['strace', '-f', '-y', '-qq', '-e', 'trace=read,pread64,readv,preadv,mmap', '-o', log,
               sys.executable, os.path.join(HERE, 'launch_module.py'), report,
               os.path.join(MODULES, 'trud_release_fetch.py'), self.module_args()]
        run_measured(cmd, env=self.env)
        pattern = re.compile(r'^\d+\s+(?:read|pread64|readv|preadv)\(\d+<[^>]*/%s>.*=\s+(\d+)$' % re.escape(archive_name))
        total = 0
        with open(log, encoding='utf-8', errors='replace') as handle:
            for line in handle:
                match = pattern.match(line.strip())
                if match:
                    total += int(match.group(1))
        return total

    def playbook(self, task, tasks=None, module_defaults=None):
        play = [{'name': 'Benchmark', 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks or [task]}]
        if module_defaults:
            play[0]['module_defaults'] = module_defaults
        path = os.path.join(self.work, 'play.yml')
        with open(path, 'w', encoding='utf-8') as handle:
            json.dump(play, handle)
        cmd = [os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
               '-e', 'ansible_python_interpreter=%s' % sys.executable, path]
        return run_measured(cmd, env=self.env)[0]

    def playbook_ours(self):
        with open(self.module_args(), encoding='utf-8') as handle:
            args = json.load(handle)['ANSIBLE_MODULE_ARGS']
        return self.playbook({'name': 'Fetch', 'terminology.releases.trud_release_fetch': args})

    def playbook_get_url(self, url, release):
        return self.playbook({'name': 'Fetch', 'ansible.builtin.get_url': {
            'url': url, 'dest': os.path.join(self.dest, release['archiveFileName']), 'mode': '0644',
            'checksum': 'sha256:%s' % release['archiveFileSha256'], 'timeout': 60}})

    # -- scenarios --------------------------------------------------------------------------

    def cold(self, size):
        release = self.release(size)
        url = release['archiveFileUrl']
        self.curl_limit(url)  # warm the sandbox's hash cache and the page cache once
        methods = ('curl_devnull', 'curl_durable', 'curl_sha256sum', 'module', 'playbook_module', 'playbook_get_url')
        times = dict((name, []) for name in methods)
        rss = []
        for _round in range(self.repeats):
            times['curl_devnull'].append(self.curl_limit(url))
            times['curl_durable'].append(self.curl_durable(url))
            times['curl_sha256sum'].append(self.curl_sha256sum(url))
            self.clean_dest()
            seconds, rss_kib, result, _counters = self.module()
            assert result['downloaded'] and result['sha256'] == release['archiveFileSha256'].lower()
            times['module'].append(seconds)
            rss.append(rss_kib)
            self.clean_dest()
            times['playbook_module'].append(self.playbook_ours())
            self.clean_dest()
            times['playbook_get_url'].append(self.playbook_get_url(url, release))
        return {'size': size, 'times': dict((name, summary(values)) for name, values in times.items()),
                'module_peak_rss_kib': max(rss)}

    def noop(self, size):
        release = self.release(size)
        self.clean_dest()
        self.module()  # the first fetch, not measured
        times, get_url_times, rchar = [], [], []
        # A no-op takes about half a second, with run-to-run noise near the 10% the flatness target allows:
        # three times the repeats (cheap at this length) keep the medians steady.
        for _round in range(3 * self.repeats):
            seconds, _rss, result, counters = self.module()
            assert not result['changed'] and not result['downloaded']
            times.append(seconds)
            rchar.append(counters['rchar'])
        for _round in range(self.repeats):
            get_url_times.append(self.playbook_get_url(release['archiveFileUrl'], release))
        ours_playbook = [self.playbook_ours() for _round in range(self.repeats)]
        return {'size': size, 'module_seconds': summary(times), 'module_rchar': summary(rchar),
                'archive_bytes_read': self.archive_bytes_read(release['archiveFileName']),
                'playbook_module_seconds': summary(ours_playbook), 'playbook_get_url_seconds': summary(get_url_times)}

    def mlds_noop(self):
        """Requests a no-op run makes over a package, a version and three files (the first run creates them)."""
        mlds = self.sandbox.info['mlds']
        staff = mlds['users']['staff_se']
        where = {'package': 'Benchmark Extension', 'member': 'SE'}
        tasks = [{'name': 'Package', 'terminology.releases.mlds_release_package': {'name': where['package'], 'member': 'SE'}},
                 {'name': 'Version', 'terminology.releases.mlds_release_version': dict(where, name='2026-11-01',
                                                                                       release_type='offline')}]
        for index in range(3):
            stored = self.sandbox.mlds_storage('bench/file%d.zip' % index, MIB, seed=index)
            tasks.append({'name': 'File %d' % index, 'terminology.releases.mlds_release_file': dict(
                where, version='2026-11-01', label='file%d.zip' % index, download_url=stored['url'],
                md5_hash=stored['md5'], file_size=stored['size'])})
        defaults = {'group/terminology.releases.mlds': {'url': mlds['url'], 'username': staff['username'],
                                                        'password': staff['password']}}
        self.playbook(None, tasks, defaults)
        self.sandbox.clear_log()
        seconds = self.playbook(None, tasks, defaults)
        api = [entry for entry in self.sandbox.log() if entry['path'].startswith('/api/')]
        methods = {}
        for entry in api:
            methods[entry['method']] = methods.get(entry['method'], 0) + 1
        return {'objects': '1 package, 1 version, 3 files', 'requests': len(api), 'by_method': methods,
                'writes': sum(count for method, count in methods.items() if method in ('POST', 'PUT', 'DELETE')),
                'playbook_seconds': seconds}

    def fleet_inventory(self, name, hosts, root):
        """An inventory file of N local hosts in group fleet, each with its own bench_root under root."""
        inventory = os.path.join(self.work, name + '.ini')
        with open(inventory, 'w', encoding='utf-8') as handle:
            handle.write('[fleet]\n')
            for index in range(hosts):
                handle.write('host%d ansible_connection=local ansible_python_interpreter=%s bench_root=%s/host%d\n'
                             % (index, sys.executable, root, index))
        return inventory

    def role_play(self, name, root, releases):
        """A one-play playbook running the role in controller mode against the sandbox's TRUD side."""
        return [{'name': name, 'hosts': 'fleet', 'gather_facts': False, 'roles': ['terminology.releases.release_sync'],
                 'vars': {'release_sync_root': '{{ bench_root }}', 'release_sync_fetch_mode': 'controller',
                          'release_sync_controller_cache': os.path.join(root, 'cache'),
                          'release_sync_trud_api_key': self.sandbox.api_key,
                          'release_sync_trud_base_url': self.sandbox.info['trud_base_url'],
                          'release_sync_trud_trusted_fingerprints': [self.sandbox.info['trud_fingerprint']],
                          'release_sync_trud_maintenance_window_warning': False,
                          'release_sync_releases': releases}}]

    def fanout(self, hosts, size):
        """The role in controller mode over N local hosts: upstream archive downloads (must be 1) and time per host."""
        self.release(size)
        root = os.path.join(self.work, 'fanout-%d' % hosts)
        inventory = self.fleet_inventory('fanout-%d' % hosts, hosts, root)
        play = self.role_play('Fan-out', root, [{'name': 'monolith', 'item': ITEM}])
        path = os.path.join(self.work, 'fanout.yml')
        with open(path, 'w', encoding='utf-8') as handle:
            json.dump(play, handle)
        self.sandbox.clear_log()
        cmd = [os.path.join(BIN, 'ansible-playbook'), '-i', inventory, '-f', '5', path]
        seconds = run_measured(cmd, env=self.env)[0]
        downloads = [entry for entry in self.sandbox.log() if entry['kind'] == 'archive' and entry['method'] == 'GET']
        shutil.rmtree(root)
        return {'hosts': hosts, 'size': size, 'seconds': seconds, 'seconds_per_host': seconds / hosts,
                'upstream_archive_downloads': len(downloads)}

    def noop_fleet(self, hosts=20, items=(101, 24)):
        """Issue 14: a no-op run of the role (controller mode, one release per item) over N local hosts, beside the
        floor, a play that runs one ansible.builtin.stat per release per host. Both with the same forks."""
        root = os.path.join(self.work, 'noop-fleet')
        inventory = self.fleet_inventory('noop-fleet', hosts, root)
        names = ['item%d' % item for item in items]
        role = self.role_play('No-op', root, [{'name': name, 'item': item} for name, item in zip(names, items)])
        floor = [{'name': 'Floor', 'hosts': 'fleet', 'gather_facts': False, 'tasks': [
            {'name': 'Stat %s' % name, 'ansible.builtin.stat': {'path': '{{ bench_root }}/%s/current' % name}}
            for name in names]}]
        plays = {}
        for label, play in (('role', role), ('floor', floor)):
            plays[label] = os.path.join(self.work, 'noop-fleet-%s.yml' % label)
            with open(plays[label], 'w', encoding='utf-8') as handle:
                json.dump(play, handle)

        def run(label):
            out = os.path.join(self.work, 'noop-fleet.out')
            with open(out, 'wb') as handle:
                seconds = run_measured([os.path.join(BIN, 'ansible-playbook'), '-i', inventory, '-f', '5', plays[label]],
                                       env=self.env, stdout=handle)[0]
            with open(out, encoding='utf-8', errors='replace') as handle:
                text = handle.read()
            changed = sum(int(value) for value in re.findall(r' changed=(\d+) ', text))
            return seconds, text.count('TASK ['), changed

        run('role')  # the first run fetches and copies; not measured
        role_times, floor_times, headers = [], [], None
        for _round in range(self.repeats):
            seconds, headers, changed = run('role')
            assert changed == 0, 'the no-op run changed something'
            role_times.append(seconds)
            floor_times.append(run('floor')[0])
        shutil.rmtree(root)
        return {'hosts': hosts, 'releases': len(items), 'role_seconds': summary(role_times),
                'floor_seconds': summary(floor_times), 'task_headers': headers,
                'ratio': ratio(statistics.median(role_times), statistics.median(floor_times))}

    def mirror(self, hosts=20, size=256 * MIB):
        """Issue 15: controller mode against mirror mode over N local hosts and one release (first rollout and no-op
        run), and three runs with disjoint --limit started together (AWX job slices) against one mirror. Reports the
        upstream archive downloads, the archive bytes served by the mirror and sent by the control node, and times."""
        sys.path.insert(0, os.path.join(REPO, 'tests', 'integration'))
        from trud_itest import serve_directory  # pylint: disable=import-outside-toplevel
        release = self.release(size)
        results = {'hosts': hosts, 'size': size}
        for mode in ('controller', 'mirror', 'slices'):
            root = os.path.join(self.work, 'mirror-bench-' + mode)
            store = os.path.join(root, 'store')
            os.makedirs(store)
            inventory = self.fleet_inventory('mirror-bench-' + mode, hosts, root)
            with open(inventory, 'a', encoding='utf-8') as handle:
                handle.write('[mirrors]\nmirror ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
            with serve_directory(store) as (url, served, _corrupt):
                play = self.role_play('Mirror bench', root, [{'name': 'monolith', 'item': ITEM}])
                if mode != 'controller':
                    play[0]['vars'].update(release_sync_fetch_mode='mirror', release_sync_mirror_host='mirror',
                                           release_sync_mirror_store=store, release_sync_mirror_url=url)
                path = os.path.join(self.work, 'mirror-bench.yml')
                with open(path, 'w', encoding='utf-8') as handle:
                    json.dump(play, handle)
                cmd = [os.path.join(BIN, 'ansible-playbook'), '-i', inventory, '-f', '5', path]
                self.sandbox.clear_log()
                if mode == 'slices':
                    limits = ['host%d' % index for index in range(hosts)]
                    started = time.monotonic()
                    processes = [subprocess.Popen(cmd + ['--limit', ','.join(limits[part::3])], env=self.env,
                                                  stdout=subprocess.DEVNULL) for part in range(3)]
                    codes = [process.wait() for process in processes]
                    assert codes == [0, 0, 0], codes
                    results['slices'] = {'runs': 3, 'seconds': time.monotonic() - started,
                                         'upstream_archive_downloads': len(self.upstream_downloads())}
                else:
                    first = run_measured(cmd, env=self.env)[0]
                    downloads = len(self.upstream_downloads())
                    archive_gets = [item for item in served if item.endswith('/' + release['archiveFileName'])]
                    noop = run_measured(cmd, env=self.env)[0]
                    results[mode] = {
                        'first_seconds': first, 'noop_seconds': noop, 'upstream_archive_downloads': downloads,
                        # Whole-file GETs of the archive (no resumes here), each of the archive's size.
                        'mirror_archive_bytes': len(archive_gets) * size,
                        'control_node_archive_bytes': hosts * size if mode == 'controller' else 0,
                        'noop_mirror_archive_requests': len([item for item in served
                                                             if item.endswith('/' + release['archiveFileName'])])
                        - len(archive_gets)}
            shutil.rmtree(root)
        return results

    def upstream_downloads(self):
        return [entry for entry in self.sandbox.log() if entry['kind'] == 'archive' and entry['method'] == 'GET']

    def lan(self, sizes=(64 * MIB, 512 * MIB)):
        """Issue 15 item 5: a pull from a mirror on the LAN. Files served with sendfile (benchmarks/file_server.py)
        to syndication_fetch, `curl -o file && sync` and curl + sha256sum, interleaved, at two sizes; the cost per
        byte is the difference between the sizes over the difference in bytes, so start-up and other fixed costs
        cancel out."""
        root = os.path.join(self.work, 'lan')
        os.makedirs(root, exist_ok=True)
        with SendfileServer(root) as server:
            feed = self.lan_files(root, server, sizes)
            methods = ('curl_durable', 'curl_sha256sum', 'module')
            times = dict(((name, size), []) for name in methods for size in sizes)
            for size in sizes:
                self.curl_limit(server.url('lan-%d.zip' % size))  # the files into the page cache once

            def module(url, size):
                self.clean_dest()
                seconds, _rss, result, _counters = self.module(module='syndication_fetch', args=self.args_file(
                    {'url': feed, 'identifier': 'urn:bench:lan-%d' % size, 'dest': self.dest, 'retries': 1}))
                assert result['downloaded'] and result['size'] == size
                return seconds

            run_method = {'curl_durable': lambda url, _size: self.curl_durable(url),
                          'curl_sha256sum': lambda url, _size: self.curl_sha256sum(url), 'module': module}
            for turn in range(self.repeats):
                # Each round starts with another method: what one leaves behind (a file read whole, dirty pages
                # written back) weighs on the next, so no method always follows the same one.
                order = methods[turn % len(methods):] + methods[:turn % len(methods)]
                for size in sizes:
                    url = server.url('lan-%d.zip' % size)
                    for name in order:
                        times[name, size].append(run_method[name](url, size))
        small, big = sizes
        per_byte = {}
        for name in methods:
            # The difference within each round (same load on the machine), then the median over the rounds.
            deltas = [late - early for early, late in zip(times[name, small], times[name, big])]
            per_byte[name] = summary([delta / (big - small) * 1e9 for delta in deltas])  # ns per byte
        self.clean_dest()
        return {'sizes': list(sizes), 'module': 'syndication_fetch', 'server': 'sendfile, loopback',
                'times': dict(('%s@%d' % (name, size // MIB), summary(values)) for (name, size), values in times.items()),
                'ns_per_byte': per_byte,
                'ratio_durable': ratio(per_byte['module']['median'], per_byte['curl_durable']['median']),
                'ratio_sha256sum': ratio(per_byte['module']['median'], per_byte['curl_sha256sum']['median'])}

    @staticmethod
    def lan_files(root, server, sizes):
        """Random archives of the sizes under root, and a feed over them (rendered by the collection's own
        renderer, as a mirror publishes it); returns the feed's URL."""
        sys.path.insert(0, COLLECTIONS)
        from ansible_collections.terminology.releases.plugins.module_utils._feed_render import (  # pylint: disable=import-outside-toplevel
            category, render_feed)
        entries = []
        for size in sizes:
            name = 'lan-%d.zip' % size
            digest = hashlib.sha256()
            with open(os.path.join(root, name), 'wb') as handle:
                for _block in range(size // MIB):
                    block = os.urandom(MIB)
                    digest.update(block)
                    handle.write(block)
            entries.append({'id': 'urn:bench:lan-%d:1' % size, 'title': name, 'updated': '2026-01-01T00:00:00Z',
                            'identifier': 'urn:bench:lan-%d' % size, 'version': str(size), 'file_url': server.url(name),
                            'length': size, 'sha256': digest.hexdigest(), 'md5': None,
                            'category': category('SCT_RF2_ALL')})
        meta = {'id': 'urn:bench:lan', 'title': 'LAN benchmark', 'updated': '2026-01-01T00:00:00Z'}
        with open(os.path.join(root, 'feed.xml'), 'wb') as handle:
            handle.write(render_feed(meta, entries))
        os.sync()
        return server.url('feed.xml')

    def resume(self, size):
        release = self.release(size)
        self.clean_dest()
        self.sandbox.clear_log()
        self.sandbox.add_faults({'kind': 'archive', 'type': 'drop_after', 'bytes': size // 2})
        _seconds, _rss, result, _counters = self.module()
        requests = [entry for entry in self.sandbox.log() if entry['kind'] == 'archive' and entry['method'] == 'GET']
        recovering = requests[-1]
        return {'size': size, 'requests': len(requests), 'recovering_range': recovering.get('range'),
                'recovering_bytes': recovering['bytes_sent'], 'recovering_fraction': recovering['bytes_sent'] / size,
                'bytes_resumed': result['bytes_resumed'], 'verified': result['sha256'] == release['archiveFileSha256'].lower()}


def machine_facts():
    mem = 0
    with open('/proc/meminfo', encoding='ascii') as handle:
        for line in handle:
            if line.startswith('MemTotal:'):
                mem = int(line.split()[1]) * 1024
    return {'cpus': os.cpu_count(), 'memory_bytes': mem, 'python': platform.python_version(),
            'platform': platform.platform(), 'machine': platform.machine(),
            'curl': subprocess.run(['curl', '--version'], capture_output=True, text=True, check=True).stdout.split('\n')[0],
            'date': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}


def ratio(numerator, denominator):
    return numerator / denominator if denominator else float('inf')


def check_targets(results):
    """[(target, measured, passed)] — issue 6 and DESIGN section 8."""
    checks = []
    cold = results['cold']
    big = cold[-1]
    t = dict((name, value['median']) for name, value in big['times'].items())
    size_label = '%d MiB' % (big['size'] // MIB)
    checks.append(('module <= 0.8x curl+sha256sum at %s (DESIGN; issue: 0.9x)' % size_label,
                   ratio(t['module'], t['curl_sha256sum']), ratio(t['module'], t['curl_sha256sum']) <= 0.8))
    checks.append(('module <= 1.15x durable line (curl -o file && sync) at %s (DESIGN)' % size_label,
                   ratio(t['module'], t['curl_durable']), ratio(t['module'], t['curl_durable']) <= 1.15))
    # The limit line writes nothing. When even `curl -o file && sync` needs more than 1.3x of it, no durable
    # download can meet the target on this machine: say so with that measurement, and judge the module against
    # the durable line's own target instead.
    durable_over_limit = ratio(t['curl_durable'], t['curl_devnull'])
    if durable_over_limit <= 1.3:
        checks.append(('module <= 1.3x limit line (curl -o /dev/null) at %s (issue)' % size_label,
                       ratio(t['module'], t['curl_devnull']), ratio(t['module'], t['curl_devnull']) <= 1.3))
    else:
        checks.append(('module <= 1.3x limit line at %s (issue): unattainable here, since curl -o file && sync '
                       'itself takes %.2fx the limit line; judged as module <= 1.15x the durable line'
                       % (size_label, durable_over_limit),
                       ratio(t['module'], t['curl_devnull']), ratio(t['module'], t['curl_durable']) <= 1.15))
    checks.append(('ansible-playbook: our task <= 0.8x get_url with checksum at %s' % size_label,
                   ratio(t['playbook_module'], t['playbook_get_url']), ratio(t['playbook_module'], t['playbook_get_url']) <= 0.8))
    peak = [entry['module_peak_rss_kib'] / 1024.0 for entry in cold]
    checks.append(('peak RSS < 64 MiB at every size (MiB, largest)', max(peak), max(peak) < 64))
    checks.append(('peak RSS flat in size (largest/smallest <= 1.2)', ratio(peak[-1], peak[0]), ratio(peak[-1], peak[0]) <= 1.2))
    noop = results['noop']
    read = max(entry['archive_bytes_read'] for entry in noop)
    checks.append(('no-op run reads 0 archive bytes (max over sizes)', read, read == 0))
    flat = ratio(noop[-1]['module_seconds']['median'], noop[0]['module_seconds']['median'])
    checks.append(('no-op module time flat (largest/smallest within 10%)', flat, 0.9 <= flat <= 1.1))
    mlds = results['mlds_noop']
    checks.append(('MLDS no-op over %s: reads only (writes; %d requests in all)' % (mlds['objects'], mlds['requests']),
                   mlds['writes'], mlds['writes'] == 0))
    for entry in results['fanout']:
        checks.append(('role, controller mode, %d host%s: upstream archive downloads == 1' % (entry['hosts'], '' if entry['hosts'] == 1 else 's'),
                       entry['upstream_archive_downloads'], entry['upstream_archive_downloads'] == 1))
    fleet = results.get('noop_fleet')
    if fleet:
        checks.append(('role no-op, %d releases over %d hosts: <= 2x the stat-per-release play (issue 14)'
                       % (fleet['releases'], fleet['hosts']), fleet['ratio'], fleet['ratio'] <= 2.0))
    if results.get('lan'):
        checks.append(lan_target(results['lan']))
    fraction = results['resume']['recovering_fraction']
    checks.append(('resume after a drop at 50%: recovering attempt <= 55% of the file', fraction,
                   fraction <= 0.55 and results['resume']['verified']))
    return checks


def lan_target(lan):
    """(target, measured, passed) of issue 15 item 5."""
    return ('LAN pull, %d->%d MiB: module cost per byte <= 1.15x curl -o file && sync (issue 15)'
            % (lan['sizes'][0] // MIB, lan['sizes'][1] // MIB), lan['ratio_durable'], lan['ratio_durable'] <= 1.15)


def render_lan(lan):
    """The LAN scenario's table (Markdown lines)."""
    small, big = (size // MIB for size in lan['sizes'])
    lines = ['Pull from a mirror on the LAN: %s served by a static server that sends files with sendfile, %s '
             'against curl. Cost per byte = (time at %d MiB - time at %d MiB) / %d MiB, per round, median (min-max).'
             % ('the files and the feed', lan['module'], big, small, big - small), '',
             '| method | %d MiB | %d MiB | cost per byte | vs curl -o file && sync |' % (small, big), '|---|---|---|---|---|']
    labels = (('curl_durable', 'curl -o file && sync'), ('curl_sha256sum', 'curl -o file && sha256sum file'),
              ('module', '%s (module process)' % lan['module']))
    durable = lan['ns_per_byte']['curl_durable']['median']
    for name, label in labels:
        cells = ['%.2f s' % lan['times']['%s@%d' % (name, size)]['median'] for size in (small, big)]
        cost = lan['ns_per_byte'][name]
        lines.append('| %s | %s | %.2f ns (%.2f-%.2f) | %.2fx |'
                     % (label, ' | '.join(cells), cost['median'], cost['min'], cost['max'], ratio(cost['median'], durable)))
    return lines


def render(results, checks):
    lines = ['# Fetch benchmarks', '', 'Measured on %(cpus)s CPUs, %(python)s, %(platform)s, %(date)s. '
             'Median of %(repeats)s runs (min-max).' % dict(results['machine'], repeats=results['repeats']), '',
             '| size | curl -o /dev/null | curl -o file && sync | curl + sha256sum | module process | playbook: module | playbook: get_url |',
             '|---|---|---|---|---|---|---|']
    for entry in results['cold']:
        cells = ['%.2f s (%.2f-%.2f)' % (entry['times'][name]['median'], entry['times'][name]['min'], entry['times'][name]['max'])
                 for name in ('curl_devnull', 'curl_durable', 'curl_sha256sum', 'module', 'playbook_module', 'playbook_get_url')]
        lines.append('| %d MiB | %s |' % (entry['size'] // MIB, ' | '.join(cells)))
    lines += ['', '| size | module peak RSS | no-op module time | no-op archive bytes read | no-op playbook: module | no-op playbook: get_url |',
              '|---|---|---|---|---|---|']
    for cold, noop in zip(results['cold'], results['noop']):
        lines.append('| %d MiB | %.1f MiB | %.3f s | %d | %.2f s | %.2f s |' % (
            cold['size'] // MIB, cold['module_peak_rss_kib'] / 1024.0, noop['module_seconds']['median'],
            noop['archive_bytes_read'], noop['playbook_module_seconds']['median'], noop['playbook_get_url_seconds']['median']))
    resume = results['resume']
    mlds = results['mlds_noop']
    lines += ['', 'MLDS no-op run over %s: %d requests (%s), %d writes.' % (
        mlds['objects'], mlds['requests'], ', '.join('%s %d' % item for item in sorted(mlds['by_method'].items())), mlds['writes'])]
    lines += ['', '| role, controller mode | wall time | per host | upstream archive downloads |', '|---|---|---|---|']
    for entry in results['fanout']:
        cells = (entry['hosts'], entry['size'] // MIB, entry['seconds'], entry['seconds_per_host'], entry['upstream_archive_downloads'])
        lines.append('| %d host%s, %d MiB | %.1f s | %.2f s | %d |' % ((cells[0], '' if cells[0] == 1 else 's') + cells[1:]))
    fleet = results.get('noop_fleet')
    if fleet:
        lines += ['', '| role no-op, controller mode | role | floor: one stat per release per host | ratio | task headers |',
                  '|---|---|---|---|---|',
                  '| %d releases, %d hosts | %.1f s (%.1f-%.1f) | %.1f s (%.1f-%.1f) | %.2fx | %d |' % (
                      fleet['releases'], fleet['hosts'], fleet['role_seconds']['median'], fleet['role_seconds']['min'],
                      fleet['role_seconds']['max'], fleet['floor_seconds']['median'], fleet['floor_seconds']['min'],
                      fleet['floor_seconds']['max'], fleet['ratio'], fleet['task_headers'])]
    mirror = results.get('mirror')
    if mirror:
        lines += ['', '| %d hosts, one %d MiB release | upstream archive downloads | archive bytes from the mirror | '
                  'archive bytes from the control node | first rollout | no-op run | archive requests in the no-op run |'
                  % (mirror['hosts'], mirror['size'] // MIB), '|---|---|---|---|---|---|---|']
        for mode in ('controller', 'mirror'):
            row = mirror[mode]
            lines.append('| %s mode | %d | %d MiB | %d MiB | %.1f s | %.1f s | %d |' % (
                mode, row['upstream_archive_downloads'], row['mirror_archive_bytes'] // MIB,
                row['control_node_archive_bytes'] // MIB, row['first_seconds'], row['noop_seconds'],
                row['noop_mirror_archive_requests']))
        lines += ['', 'Three runs with disjoint --limit started together against one mirror: %d upstream archive '
                  'download(s), %.1f s.' % (mirror['slices']['upstream_archive_downloads'], mirror['slices']['seconds'])]

    if results.get('lan'):
        lines += [''] + render_lan(results['lan'])
    lines += ['', 'Resume: connection dropped at 50%% of %d MiB; the recovering request asked for `%s` and received %.1f%% of '
              'the file.' % (resume['size'] // MIB, resume['recovering_range'], 100 * resume['recovering_fraction']), '',
              '| target | measured | result |', '|---|---|---|']
    for name, measured, passed in checks:
        lines.append('| %s | %.3f | %s |' % (name, measured, 'pass' if passed else '**MISSED**'))
    return '\n'.join(lines) + '\n'


def rst_grid(rows):
    """A reStructuredText grid table from rows of cells (the first row is the header)."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    rule = '+' + '+'.join('-' * (width + 2) for width in widths) + '+'
    lines = [rule]
    for number, row in enumerate(rows):
        lines.append('| ' + ' | '.join(cell.ljust(width) for cell, width in zip(row, widths)) + ' |')
        lines.append(rule.replace('-', '=') if number == 0 else rule)
    return lines


def to_rst(markdown):
    """The Markdown report as reStructuredText, for the docsite's performance page (tables become grid tables)."""
    lines, table = [], []
    for line in markdown.splitlines() + ['']:
        if line.startswith('|'):
            cells = [cell.strip() for cell in line.strip('|').split('|')]
            if not all(set(cell) <= set('-') for cell in cells):
                table.append([re.sub(r'`([^`]+)`', r'``\1``', cell) for cell in cells])
            continue
        if table:
            lines += rst_grid(table)
            table = []
        if line.startswith('# '):
            lines += [line[2:], '=' * len(line[2:])]
        else:
            lines.append(re.sub(r'`([^`]+)`', r'``\1``', line))
    return '\n'.join(lines).rstrip('\n') + '\n'


def chart(results, path):
    try:
        import matplotlib  # pylint: disable=import-outside-toplevel
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    except ImportError:
        return False
    sizes = [entry['size'] // MIB for entry in results['cold']]
    fig, axis = plt.subplots(figsize=(8, 5))
    labels = {'curl_devnull': 'limit: curl -o /dev/null', 'curl_durable': 'durable: curl -o file && sync',
              'curl_sha256sum': 'curl + sha256sum', 'module': 'trud_release_fetch (module process)',
              'playbook_get_url': 'ansible-playbook: get_url + checksum', 'playbook_module': 'ansible-playbook: trud_release_fetch'}
    for name, label in labels.items():
        axis.plot(sizes, [entry['times'][name]['median'] for entry in results['cold']], marker='o', label=label,
                  linestyle='--' if name.startswith('curl_d') else '-')
    axis.set_xlabel('archive size (MiB)')
    axis.set_ylabel('seconds (median)')
    axis.set_title('Verified fetch: time against size')
    axis.legend()
    axis.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--sizes', default='64,256,1024', help='archive sizes in MiB, comma-separated, ascending')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--out', default=RESULTS)
    parser.add_argument('--fanout', default='1,5,20', help='host counts for the role in controller mode')
    parser.add_argument('--noop-hosts', type=int, default=20, help='hosts of the role no-op scenario (issue 14)')
    parser.add_argument('--noop-fleet-only', action='store_true',
                        help='measure only the role no-op scenario and print it (results/ is left alone)')
    parser.add_argument('--mirror-only', action='store_true',
                        help='measure only the mirror scenario (issue 15) and print it (results/ is left alone)')
    parser.add_argument('--mirror-hosts', type=int, default=20, help='hosts of the mirror scenario (issue 15)')
    parser.add_argument('--lan-sizes', default='64,512', help='the two sizes (MiB) of the LAN pull scenario (issue 15)')
    parser.add_argument('--lan-only', action='store_true',
                        help='measure only the LAN pull scenario; writes OUT/lan.json and OUT/lan.md, not the full report')
    parser.add_argument('--render-only', action='store_true',
                        help='judge and render OUT/results.json again (after a change to the targets or the report)')
    options = parser.parse_args()
    if options.render_only:
        with open(os.path.join(options.out, 'results.json'), encoding='utf-8') as handle:
            return finish(json.load(handle), options.out)
    sizes = [int(value) * MIB for value in options.sizes.split(',')]
    if options.noop_fleet_only:
        with tempfile.TemporaryDirectory(prefix='terminology-bench-') as work, \
                Sandbox.start(state_dir=os.path.join(work, 'sandbox'), https=False) as sandbox:
            print(json.dumps(Bench(sandbox, work, options.repeats).noop_fleet(options.noop_hosts), indent=2))
        return 0
    if options.mirror_only:
        with tempfile.TemporaryDirectory(prefix='terminology-bench-') as work, \
                Sandbox.start(state_dir=os.path.join(work, 'sandbox'), https=False) as sandbox:
            print(json.dumps(Bench(sandbox, work, options.repeats).mirror(options.mirror_hosts, sizes[0]), indent=2))
        return 0
    lan_sizes = tuple(int(value) * MIB for value in options.lan_sizes.split(','))
    os.makedirs(options.out, exist_ok=True)
    if options.lan_only:
        with tempfile.TemporaryDirectory(prefix='terminology-bench-') as work:
            lan = Bench(None, work, options.repeats).lan(lan_sizes)
        return finish_lan(dict(lan, machine=machine_facts(), repeats=options.repeats), options.out)
    options.fanout = [int(value) for value in options.fanout.split(',')]
    with tempfile.TemporaryDirectory(prefix='terminology-bench-') as work, \
            Sandbox.start(state_dir=os.path.join(work, 'sandbox'), https=False) as sandbox:
        bench = Bench(sandbox, work, options.repeats)
        results = {'machine': machine_facts(), 'repeats': options.repeats, 'cold': [], 'noop': []}
        for size in sizes:
            print('cold fetch, %d MiB ...' % (size // MIB), flush=True)
            results['cold'].append(bench.cold(size))
            print('no-op rerun, %d MiB ...' % (size // MIB), flush=True)
            results['noop'].append(bench.noop(size))
        print('LAN pull from a sendfile server, %s MiB ...' % options.lan_sizes, flush=True)
        results['lan'] = bench.lan(lan_sizes)
        print('resume after a drop ...', flush=True)
        results['resume'] = bench.resume(sizes[-1])
        print('MLDS no-op run ...', flush=True)
        results['mlds_noop'] = bench.mlds_noop()
        results['fanout'] = []
        for hosts in options.fanout:
            print('role fan-out, %d hosts ...' % hosts, flush=True)
            results['fanout'].append(bench.fanout(hosts, sizes[0]))
        print('role no-op over %d hosts ...' % options.noop_hosts, flush=True)
        results['noop_fleet'] = bench.noop_fleet(options.noop_hosts)
        print('controller and mirror mode over %d hosts ...' % options.mirror_hosts, flush=True)
        results['mirror'] = bench.mirror(options.mirror_hosts, sizes[1] if len(sizes) > 1 else sizes[0])
    return finish(results, options.out)


def finish_lan(lan, out):
    """--lan-only: judge the one target, write lan.json and lan.md; 1 when it is missed."""
    name, measured, passed = lan_target(lan)
    lan['target'] = {'target': name, 'measured': measured, 'passed': passed}
    with open(os.path.join(out, 'lan.json'), 'w', encoding='utf-8') as handle:
        json.dump(lan, handle, indent=2)
    lines = ['# LAN pull benchmark', '', 'Measured on %(cpus)s CPUs, %(python)s, %(platform)s, %(date)s. '
             '%(repeats)s rounds.' % dict(lan['machine'], repeats=lan['repeats']), ''] + render_lan(lan)
    lines += ['', '| target | measured | result |', '|---|---|---|',
              '| %s | %.3f | %s |' % (name, measured, 'pass' if passed else '**MISSED**')]
    report = '\n'.join(lines) + '\n'
    with open(os.path.join(out, 'lan.md'), 'w', encoding='utf-8') as handle:
        handle.write(report)
    print(report)
    if not passed:
        print('MISSED: %s' % name, file=sys.stderr)
    return 0 if passed else 1


def finish(results, out):
    """Judge the targets, write results.json, report.md, report.rst and chart.png; 1 when a target is missed."""
    checks = check_targets(results)
    results['targets'] = [{'target': name, 'measured': measured, 'passed': passed} for name, measured, passed in checks]
    with open(os.path.join(out, 'results.json'), 'w', encoding='utf-8') as handle:
        json.dump(results, handle, indent=2)
    report = render(results, checks)
    with open(os.path.join(out, 'report.md'), 'w', encoding='utf-8') as handle:
        handle.write(report)
    with open(os.path.join(out, 'report.rst'), 'w', encoding='utf-8') as handle:
        handle.write(to_rst(report))
    chart(results, os.path.join(out, 'chart.png'))
    print(report)
    missed = [name for name, _measured, passed in checks if not passed]
    if missed:
        print('MISSED: %s' % '; '.join(missed), file=sys.stderr)
    return 1 if missed else 0


if __name__ == '__main__':
    sys.exit(main())
