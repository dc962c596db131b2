# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for tests that run the collection through real ansible inside throwaway network namespaces."""

import collections
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOADGEN = os.path.join(ROOT, 'tools', 'loadgen.py')
SS_NAMES = {'ESTAB': 'ESTABLISHED', 'SYN-SENT': 'SYN_SENT', 'SYN-RECV': 'SYN_RECV', 'FIN-WAIT-1': 'FIN_WAIT1',
            'FIN-WAIT-2': 'FIN_WAIT2', 'TIME-WAIT': 'TIME_WAIT', 'UNCONN': 'CLOSE', 'CLOSE-WAIT': 'CLOSE_WAIT',
            'LAST-ACK': 'LAST_ACK', 'LISTEN': 'LISTEN', 'CLOSING': 'CLOSING'}
STATES = list(dict.fromkeys(SS_NAMES.values()))


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
