"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test creates venvs without pip and bootstraps pip by running
~/.ansible/test/cache/get_pip_<pip version>.py with "pip install"-style arguments
(e.g. ``--disable-pip-version-check pip==24.2 --no-setuptools --no-wheel``).
Its download host is unreachable here, so scripts/sanity.sh copies this file
into that cache. It uses the pip that ensurepip bundles with the interpreter to
install the requested packages from PyPI.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys

import ensurepip

# get-pip.py's own options, not pip's: they say "do not install setuptools / wheel".
GET_PIP_OPTIONS = ('--no-setuptools', '--no-wheel')


def main():
    """Bootstrap pip into the running interpreter's environment."""
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_OPTIONS]
    bundled = sorted(glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), '_bundled', 'pip-*.whl')))

    if bundled:
        # pip runs straight from its wheel: one step, installs only what was asked for
        # (half the time of ensurepip followed by an upgrade, and no setuptools).
        subprocess.run([sys.executable, os.path.join(bundled[-1], 'pip'), 'install'] + args, check=True)
        return

    # Distributions that unbundle the wheels: the documented route.
    subprocess.run([sys.executable, '-m', 'ensurepip', '--default-pip'], check=True)
    subprocess.run([sys.executable, '-m', 'pip', 'install'] + args, check=True)
    if '--no-setuptools' in sys.argv:
        # ensurepip on Python < 3.12 also installs setuptools; ansible-test asked for none.
        subprocess.run([sys.executable, '-m', 'pip', 'uninstall', '--yes', '--quiet', 'setuptools'], check=True)


if __name__ == '__main__':
    main()
