"""Run one module file as its own process, the way Ansible would, and report what the OS saw of it.

Usage: python launch_module.py REPORT.json MODULE.py ARGS.json
ARGS.json is {"ANSIBLE_MODULE_ARGS": {...}}. The module's JSON result goes to stdout as usual;
REPORT.json gets the process's peak RSS and I/O counters, read at interpreter exit.
"""

from __future__ import annotations

import atexit
import json
import resource
import runpy
import sys


def _report(path):
    with open('/proc/self/io', encoding='ascii') as handle:
        counters = dict(line.split(': ') for line in handle.read().splitlines())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump({'maxrss_kib': usage.ru_maxrss, 'rchar': int(counters['rchar']), 'wchar': int(counters['wchar']),
                   'user_seconds': usage.ru_utime, 'system_seconds': usage.ru_stime}, handle)


def main():
    report, module, args = sys.argv[1:4]
    atexit.register(_report, report)
    sys.argv = [module, args]
    runpy.run_path(module, run_name='__main__')


if __name__ == '__main__':
    main()
