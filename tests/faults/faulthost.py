# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake host for fault tests: a /proc tree and the module's files under one root; sysctl_tune runs
on it as a real process, so a SIGKILL really leaves what a crash leaves."""

import json
import os
import subprocess
import sys
import time

from ansible_collections.netops.tcp.plugins.module_utils.model import _catalog as catalog

from ansible_collections.netops.tcp.tests.unit.plugins.fakeproc import make_tree

MODULE = 'ansible_collections.netops.tcp.plugins.modules.sysctl_tune'
# With a key of nf_conntrack (writable in a child namespace): its module is listed in the modules file.
FIRST = {'net.ipv4.tcp_fin_timeout': 30, 'net.core.somaxconn': 8192, 'net.ipv4.tcp_rmem': [4096, 131072, 67108864],
         'net.ipv4.ip_local_reserved_ports': [8080, 8081, [9000, 9010]], 'net.ipv4.ip_local_port_range': [10000, 65000],
         'net.netfilter.nf_conntrack_tcp_timeout_established': 86400}
# An upgrade: changes two keys, drops four (they go back to their originals, and the modules file goes), adds two.
SECOND = {'net.ipv4.tcp_fin_timeout': 20, 'net.core.somaxconn': 16384, 'net.ipv4.tcp_keepalive_time': 600,
          'net.ipv4.tcp_max_tw_buckets': 50000}
SCENARIOS = {
    'first': (None, {'settings': FIRST}),
    'upgrade': ({'settings': FIRST}, {'settings': SECOND}),
    'absent': ({'settings': FIRST}, {'state': 'absent'}),
    'previous': ({'settings': FIRST}, {'state': 'previous'}),  # the rollout's put back of a first tuning
}


class Host:
    """A fake host: /proc tree plus the module's four files under one root."""

    def __init__(self, root):
        self.root = root
        self.proc = make_tree(root / 'proc', '6.18.44-fc-v657', initial=False)
        self.args = {'proc_path': self.proc, 'sysctl_file': str(root / 'etc' / 'sysctl.d' / '60-netops-tcp.conf'),
                     'modules_file': str(root / 'etc' / 'modules-load.d' / 'netops-tcp.conf'),
                     'state_dir': str(root / 'var' / 'lib' / 'netops-tcp'),
                     'fact_path': str(root / 'etc' / 'ansible' / 'facts.d' / 'netops_tcp.fact'), 'lock_timeout': 30}
        (root / 'etc' / 'sysctl.d').mkdir(parents=True)
        (root / 'var' / 'lib').mkdir(parents=True)
        (root / 'etc' / 'sysctl.d' / '10-vendor.conf').write_text('net.core.somaxconn = 1024\n')

    def start(self, args, fault=None, log=None, prefix=()):
        path = self.root.parent / ('%s-args-%d.json' % (self.root.name, time.monotonic_ns()))
        path.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': dict(self.args, **args)}))
        env = dict(os.environ, PYTHONPATH=os.environ['ANSIBLE_COLLECTIONS_PATH'])
        env.pop('NETOPS_TCP_FAULT', None)
        if fault:
            env['NETOPS_TCP_FAULT'] = fault
        if log:
            env['NETOPS_TCP_FAULT_LOG'] = str(log)
        return subprocess.Popen(list(prefix) + [sys.executable, '-m', MODULE, str(path)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)

    def run(self, args, fault=None, log=None, prefix=()):
        proc = self.start(args, fault, log, prefix)
        out, err = proc.communicate(timeout=120)
        result = json.loads(out) if out.strip() else None
        return proc.returncode, result, err

    def ok(self, args):
        code, result, err = self.run(args)
        assert code == 0, (result, err)
        return result

    def snapshot(self):
        """Every file's bytes and every directory under the root (the record without its time stamp,
        also where the state keeps it); /proc values as the kernel would print them."""
        found = {}
        for base, dirs, names in os.walk(str(self.root)):
            for name in dirs:
                found[os.path.join(base, name)] = 'directory'
            for name in names:
                path = os.path.join(base, name)
                with open(path, 'rb') as handle:
                    data = handle.read()
                if path.startswith(self.proc):
                    data = ' '.join(data.decode().split())
                elif name == 'netops_tcp.fact':
                    data = untimed(data)
                elif name == 'state.json' and b'"previous"' in data:  # it keeps the record it replaced
                    state = json.loads(data)
                    texts = state['previous']['files']
                    for kept in [k for k in texts if k.endswith('netops_tcp.fact') and texts[k]]:
                        texts[kept] = untimed(texts[kept])
                    data = state
                found[path] = data
        return found

    def live(self, key):
        with open(os.path.join(self.proc, 'sys', *key.split('.'))) as handle:
            return ' '.join(handle.read().split())


def untimed(text):
    """A record without its time stamp: two hosts tuned alike differ only there."""
    record = json.loads(text)
    record.pop('time')
    return record


def prepared(tmp_path, name, scenario):
    host = Host(tmp_path / name)
    pristine = host.snapshot()
    if scenario[0]:
        host.ok(scenario[0])
    return host, pristine


def clean_outcome(tmp_path, scenario):
    host, _pristine = prepared(tmp_path, 'clean', scenario)
    host.ok(scenario[1])
    return rebased(host.snapshot(), host.root, tmp_path)


def rebased(snapshot, root, new_root):
    """A snapshot's paths and path-holding values moved from ``root`` to ``new_root``."""
    old, new = str(root), str(new_root)

    def move(value):
        if isinstance(value, bytes):
            return value.replace(old.encode(), new.encode())
        return json.loads(json.dumps(value).replace(old, new)) if isinstance(value, dict) else value

    return dict((p.replace(old, new, 1), move(v)) for p, v in snapshot.items())


def originals_only(host, pristine):
    """The state file, if any, holds nothing but values the host had before any tuning."""
    state = os.path.join(host.args['state_dir'], 'state.json')
    if not os.path.exists(state):
        return
    with open(state) as handle:
        saved = json.load(handle)
    for key, value in saved['originals'].items():
        path = os.path.join(host.proc, 'sys', *key.split('.'))
        assert catalog.same(key, value, pristine[path]), (key, value, pristine[path])


def recovers(host, pristine, spec, expected, tmp_path, rerun, label):
    """After a crash: the state holds only true originals; a rerun (when ``rerun``) reaches what a clean
    run reaches; state=absent then gives back the host from before any tuning, byte for byte."""
    originals_only(host, pristine)
    if rerun:
        host.ok(spec[1])
        assert host.snapshot() == rebased(expected, tmp_path, host.root), label
    host.ok({'state': 'absent'})
    assert host.snapshot() == pristine, label
