# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each module ships to a host, as ansible-core's module packer (AnsiballZ) builds it.

    python tools/payload.py [--json] [COLLECTIONS_ROOT]

For each module of netops.tcp: the payload's size as sent (the wrapper with its deflated zip), and
the files of this collection inside it with their source size. COLLECTIONS_ROOT holds
ansible_collections/netops/tcp (default: the tree this checkout sits in, or a link to this
checkout in a temporary directory removed afterwards).
"""

import argparse
import ast
import base64
import io
import json
import os
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PREFIX = 'ansible_collections/netops/tcp/'


def payloads(collections_root):
    """{module: {'bytes': payload size, 'files': {path in the collection: source bytes}}}, None for a
    module the packer does not build (an action plugin's documentation stub)."""
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
    _AnsibleCollectionFinder(paths=[collections_root])._install()
    from ansible.executor.module_common import modify_module
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    modules = os.path.join(collections_root, PREFIX, 'plugins', 'modules')
    found = {}
    for entry in sorted(os.listdir(modules)):
        if not entry.endswith('.py') or entry.startswith('_'):
            continue
        name = entry[:-3]
        built = modify_module(module_name='netops.tcp.' + name, module_path=os.path.join(modules, entry),
                              module_args={}, templar=Templar(loader=DataLoader()),
                              task_vars={'ansible_python_interpreter': '/usr/bin/python3'},
                              module_compression='ZIP_DEFLATED')
        zipped = _zip_data(built.b_module_data)
        if zipped is None:
            found[name] = None
            continue
        with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
            ours = dict((info.filename[len(PREFIX):], info.file_size) for info in archive.infolist()
                        if info.filename.startswith(PREFIX) and not info.filename.endswith('__init__.py'))
        found[name] = {'bytes': len(built.b_module_data), 'files': ours}
    return found


def _zip_data(wrapper):
    """The zip inside an AnsiballZ wrapper (its ``zip_data=`` argument), None when there is none."""
    for node in ast.walk(ast.parse(wrapper)):
        if isinstance(node, ast.keyword) and node.arg == 'zip_data':
            return base64.b64decode(ast.literal_eval(node.value))
    return None


def link_checkout(base):
    """Make ``base`` a collections root holding this checkout as netops.tcp (a link); return it."""
    os.makedirs(os.path.join(base, 'ansible_collections', 'netops'))
    os.symlink(ROOT, os.path.join(base, PREFIX.rstrip('/')))
    return base


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', nargs='?')
    parser.add_argument('--json', action='store_true')
    args = parser.parse_args()
    parts = ROOT.split(os.sep)
    if args.root or parts[-3:-1] == ['ansible_collections', 'netops']:
        found = payloads(args.root or os.sep.join(parts[:-3]))
    else:
        with tempfile.TemporaryDirectory(prefix='netops-tcp-payload-') as base:
            found = payloads(link_checkout(base))
    if args.json:
        print(json.dumps(found, indent=1, sort_keys=True))
        return
    print('%-16s %9s %6s %9s  %s' % ('module', 'payload', 'files', 'source', 'module_utils of netops.tcp'))
    for name, built in sorted(found.items()):
        if built is None:
            print('%-16s %9s' % (name, 'action'))
            continue
        utils = sorted(path.split('module_utils/', 1)[1] for path in built['files'] if 'module_utils/' in path)
        print('%-16s %9d %6d %9d  %s' % (name, built['bytes'], len(built['files']), sum(built['files'].values()),
                                         ' '.join(utils)))


if __name__ == '__main__':
    main()
