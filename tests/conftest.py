# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make ``ansible_collections.netops.tcp`` importable when pytest runs from a plain checkout."""

import hashlib
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _collections_root():
    parts = ROOT.split(os.sep)
    if parts[-3:-1] == ['ansible_collections', 'netops'] and parts[-1] == 'tcp':
        return os.sep.join(parts[:-3])
    # One link per checkout: two checkouts testing at once (a CI clone beside a working tree) must
    # not take each other's code through a shared link.
    base = os.path.join(tempfile.gettempdir(), 'netops-tcp-pytest-%d-%s' % (
        os.getuid(), hashlib.sha1(ROOT.encode()).hexdigest()[:10]))
    link = os.path.join(base, 'ansible_collections', 'netops', 'tcp')
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if os.path.realpath(link) != ROOT:
        tmp = '%s.%d' % (link, os.getpid())
        os.symlink(ROOT, tmp)
        os.replace(tmp, link)
    return base


sys.path.insert(0, _collections_root())
# Integration tests run ansible as a process: let it find this checkout as netops.tcp, with the
# ansible of the interpreter running the tests.
os.environ['ANSIBLE_COLLECTIONS_PATH'] = sys.path[0]
os.environ['PATH'] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', '')
