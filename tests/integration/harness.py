# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for tests that run the collection through real ansible inside throwaway network namespaces."""

import collections
import json
import os
import subprocess
import sys

from ansible_collections.netops.tcp.tests.ss_names import SS_NAMES, STATES

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOADGEN = os.path.join(ROOT, 'tools', 'loadgen.py')


class Namespace:
    def __init__(self, name, workdir):
        self.name = name
        self.python = os.path.join(workdir, 'python-%s' % name)
        with open(self.python, 'w') as handle:
            handle.write('#!/bin/sh\nexec ip netns exec %s %s "$@"\n' % (name, sys.executable))
        os.chmod(self.python, 0o755)
        self.inventory = os.path.join(workdir, 'hosts-%s.ini' % name)
        with open(self.inventory, 'w') as handle:
            handle.write('[netns]\n%s ansible_connection=local ansible_python_interpreter=%s\n' % (name, self.python))

    def run(self, *argv, check=False):
        return subprocess.run(['ip', 'netns', 'exec', self.name] + list(argv), capture_output=True, text=True, check=check)

    def ss_states(self, *extra):
        """{state: count} from `ss -tanH` inside the namespace, all eleven states present."""
        out = self.run('ss', '-tanH', *extra, check=True).stdout
        counts = collections.Counter(SS_NAMES[line.split()[0]] for line in out.splitlines() if line.strip())
        return dict((s, counts.get(s, 0)) for s in STATES)

    def ansible(self, module, args=None, expect_failure=False):
        """Run one module through ad-hoc ansible inside the namespace; return its result dict."""
        env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS='1', ANSIBLE_STDOUT_CALLBACK='oneline',
                   ANSIBLE_NOCOLOR='1', ANSIBLE_DEPRECATION_WARNINGS='0')
        cmd = ['ansible', self.name, '-i', self.inventory, '-m', module]
        if args is not None:
            cmd += ['-a', json.dumps(args)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
        line = [x for x in proc.stdout.splitlines() if x.startswith(self.name + ' | ')]
        assert line, 'no result from ansible:\n%s\n%s' % (proc.stdout, proc.stderr)
        status, _sep, payload = line[-1].partition(' => ')
        assert ('FAILED' in status) is expect_failure, line[-1][:2000]
        return json.loads(payload)

    def playbook(self, path, *extra):
        env = dict(os.environ, ANSIBLE_NOCOLOR='1')
        return subprocess.run(['ansible-playbook', '-i', self.inventory, path] + list(extra),
                              capture_output=True, text=True, env=env, timeout=300, check=False)


class IsolatedHost(Namespace):
    """A network namespace plus a private mount namespace whose /etc and /var/lib are overlays on
    a tmpfs: the modules write their real paths (/etc/sysctl.d, /etc/ansible/facts.d,
    /var/lib/netops-tcp) and the machine's own files never change."""

    def __init__(self, name, workdir):
        Namespace.__init__(self, name, workdir)
        self.scratch = os.path.join(workdir, 'mnt-%s' % name)
        os.makedirs(self.scratch)
        script = (
            'set -e; mount -t tmpfs tmpfs {s}; '
            'for d in etc var/lib; do n=$(echo $d | tr / _); mkdir -p {s}/$n-up {s}/$n-work; '
            'mount -t overlay overlay -o lowerdir=/$d,upperdir={s}/$n-up,workdir={s}/$n-work /$d; done; '
            'echo ready; exec sleep 100000'
        ).format(s=self.scratch)
        self.holder = subprocess.Popen(['ip', 'netns', 'exec', name, 'unshare', '-m', '--propagation', 'private',
                                        'sh', '-c', script], stdout=subprocess.PIPE, text=True)
        assert self.holder.stdout.readline().strip() == 'ready', 'the mount namespace did not come up'
        with open(self.python, 'w') as handle:
            handle.write('#!/bin/sh\nexec nsenter -t %d -n -m %s "$@"\n' % (self.holder.pid, sys.executable))

    def run(self, *argv, check=False):
        return subprocess.run(['nsenter', '-t', str(self.holder.pid), '-n', '-m'] + list(argv),
                              capture_output=True, text=True, check=check)

    def read(self, path):
        proc = self.run('cat', path)
        return proc.stdout if proc.returncode == 0 else None

    def sysctl(self, key):
        return ' '.join(self.run('sysctl', '-n', key, check=True).stdout.split())

    def snapshot(self, keys, paths):
        """Live values of ``keys`` and the bytes of ``paths``, to prove nothing changed."""
        live = dict((k, ' '.join(self.run('sysctl', '-n', k).stdout.split())) for k in keys)
        return live, dict((p, self.read(p)) for p in paths)

    def close(self):
        self.holder.kill()
        self.holder.wait()
