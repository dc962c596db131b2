# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write plugins/module_utils/common/_version.py, the collection's version for the modules, from galaxy.yml.

galaxy.yml is the one source of the version, but it stays on the controller: a module runs on a host
from the files ansible-core packs (modules and module_utils), so the version is copied into a
module_utils file that sysctl_tune imports and records in the host's local fact.

    python tools/version.py          # rewrite plugins/module_utils/common/_version.py
    python tools/version.py --check  # fail when it is not galaxy.yml's version (a unit test runs this)
"""

import argparse
import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GALAXY = os.path.join(ROOT, 'galaxy.yml')
TARGET = os.path.join(ROOT, 'plugins', 'module_utils', 'common', '_version.py')

TEMPLATE = '''\
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: the collection's version, for what modules record on a host.

Written by tools/version.py from galaxy.yml's version (the one source): do not edit it, change
galaxy.yml and run python tools/version.py. A unit test fails when the two differ.
"""

COLLECTION_VERSION = %r
'''


def galaxy_version(path=GALAXY):
    with open(path) as handle:
        version = yaml.safe_load(handle)['version']
    if not isinstance(version, str):
        raise ValueError('%s: version must be a string, not %r' % (path, version))
    return version


def render(version):
    return TEMPLATE % version


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--check', action='store_true')
    args = parser.parse_args()
    text = render(galaxy_version())
    if args.check:
        try:
            with open(TARGET) as handle:
                current = handle.read()
        except FileNotFoundError:
            current = None
        if current != text:
            sys.exit('%s is not what galaxy.yml gives: run python tools/version.py' % TARGET)
        return
    with open(TARGET, 'w') as handle:
        handle.write(text)


if __name__ == '__main__':
    main()
