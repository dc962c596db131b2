# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fake /proc trees for a kernel release, as an initial or a child network namespace sees it."""

import os

from ansible_collections.netops.tcp.plugins.module_utils.model import _catalog as catalog
from ansible_collections.netops.tcp.plugins.module_utils.model._kernel import KernelRelease

FALLBACK = {catalog.INT: '1000', catalog.BOOL: '0', catalog.VECTOR: '4096 16384 4194304',
            catalog.PORT_RANGE: '32768 60999', catalog.PORT_LIST: '', catalog.STRING: 'cubic'}


def make_tree(root, release, initial=True):
    """Every catalog key this kernel has (and a child namespace sees), at its default value."""
    rel = KernelRelease(release)
    (root / 'sys' / 'kernel').mkdir(parents=True, exist_ok=True)
    (root / 'sys' / 'kernel' / 'osrelease').write_text(release + '\n')
    (root / 'net').mkdir(exist_ok=True)
    for name in ('tcp', 'tcp6'):
        (root / 'net' / name).write_text('  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt'
                                         '   uid  timeout inode\n')
    for key, entry in catalog.CATALOG.items():
        if not catalog.exists_on(entry, rel) or not (initial or catalog.per_netns(entry, rel)):
            continue
        value = catalog.default_for(entry, rel)
        text = catalog.format_value(value, entry) if value is not None else FALLBACK[entry['type']]
        path = root / 'sys' / key.replace('.', '/')
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace(' ', '\t') + '\n')
        if not initial and catalog.readonly_in_netns(entry, rel):
            path.chmod(0o444)
    if initial:
        (root / 'sys' / 'net' / 'core' / 'netdev_max_backlog').write_text('1000\n')
    return str(root)


def snapshot(*roots):
    """Every file's bytes under ``roots``: proves a failed run changed nothing."""
    found = {}
    for root in roots:
        for base, _dirs, files in os.walk(str(root)):
            for name in files:
                path = os.path.join(base, name)
                with open(path, 'rb') as handle:
                    found[path] = handle.read()
    return found
