# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for tests that run the collection through real ansible inside throwaway network namespaces."""

import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid

from ansible_collections.netops.tcp.tests.ss_names import SS_NAMES, STATES

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOADGEN = os.path.join(ROOT, 'tools', 'loadgen.py')


def quiet_rollout(report_dir):
    """Inventory variables of the test fleets: no rollout windows unless a test asks for them
    (-e tcp_tune_soak=N overrides this), and the rollout report in the test's own directory."""
    return 'tcp_tune_soak=0\ntcp_tune_report_dir=%s\n' % report_dir


class Namespace:
    def __init__(self, name, workdir):
        self.name = name
        self.python = os.path.join(workdir, 'python-%s' % name)
        with open(self.python, 'w') as handle:
            handle.write('#!/bin/sh\nexec ip netns exec %s %s "$@"\n' % (name, sys.executable))
        os.chmod(self.python, 0o755)
        self.inventory = os.path.join(workdir, 'hosts-%s.ini' % name)
        with open(self.inventory, 'w') as handle:
            handle.write('[netns]\n%s ansible_connection=local ansible_python_interpreter=%s\n[all:vars]\n%s'
                         % (name, self.python, quiet_rollout(os.path.join(workdir, 'tcp-tune-report-' + name))))

    def run(self, *argv, check=False):
        return subprocess.run(['ip', 'netns', 'exec', self.name] + list(argv), capture_output=True, text=True, check=check)

    def ss_states(self, *extra):
        """{state: count} from `ss -tanH` inside the namespace, all eleven states present."""
        out = self.run('ss', '-tanH', *extra, check=True).stdout
        counts = collections.Counter(SS_NAMES[line.split()[0]] for line in out.splitlines() if line.strip())
        return dict((s, counts.get(s, 0)) for s in STATES)

    def ansible(self, module, args=None, expect_failure=False, extra=()):
        """Run one module through ad-hoc ansible inside the namespace (``extra``: more options, such
        as --check); return its result dict."""
        env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS='1', ANSIBLE_STDOUT_CALLBACK='oneline',
                   ANSIBLE_NOCOLOR='1', ANSIBLE_DEPRECATION_WARNINGS='0')
        cmd = ['ansible', self.name, '-i', self.inventory, '-m', module] + list(extra)
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

    def run(self, *argv, check=False, input=None):  # pylint: disable=redefined-builtin
        return subprocess.run(['nsenter', '-t', str(self.holder.pid), '-n', '-m'] + list(argv),
                              capture_output=True, text=True, check=check, input=input)

    def read(self, path):
        proc = self.run('cat', path)
        return proc.stdout if proc.returncode == 0 else None

    def sysctl(self, key):
        return ' '.join(self.run('sysctl', '-n', key, check=True).stdout.split())

    def snapshot(self, keys, paths):
        """Live values of ``keys`` and the bytes of ``paths``, to prove nothing changed."""
        live = dict((k, ' '.join(self.run('sysctl', '-n', k).stdout.split())) for k in keys)
        return live, dict((p, self.read(p)) for p in paths)

    def loadgen(self, *argv):
        """tools/loadgen.py in this host's network namespace; its report. It stops with the host."""
        proc = subprocess.Popen(['nsenter', '-t', str(self.holder.pid), '-n', sys.executable, LOADGEN] + list(argv),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.loads = getattr(self, 'loads', []) + [proc]
        line = proc.stdout.readline()
        assert line, 'loadgen failed to start'
        return json.loads(line)

    def close(self):
        for proc in getattr(self, 'loads', []):
            proc.stdin.close()
            proc.wait(timeout=30)
        self.holder.kill()
        self.holder.wait()


HUB_ADDRESS = '198.18.0.1'  # the benchmarking range (RFC 2544): only namespaces the test made itself


def mitogen():
    """Environment that runs ansible under Mitogen's mitogen_linear strategy (PyPI mitogen)."""
    import ansible_mitogen  # pylint: disable=import-outside-toplevel
    return {'ANSIBLE_STRATEGY_PLUGINS': os.path.join(os.path.dirname(ansible_mitogen.__file__), 'plugins', 'strategy'),
            'ANSIBLE_STRATEGY': 'mitogen_linear'}


class SshFleet:
    """IsolatedHosts reached over SSH, as a fleet is: each runs its own sshd (key auth as root,
    /usr/bin/python3) on 198.18.0.N inside its own network and mount namespaces; a hub namespace
    bridges them and the controller runs there. Nothing is added to this machine's own network
    namespace. ``close`` ends every process left in those namespaces, the controller's
    ControlPersist masters included, and each fleet has its own control-path directory."""

    def __init__(self, workdir, hosts):
        self.workdir = workdir
        self.hosts = hosts
        self.hub = 'netops-hub-%s' % uuid.uuid4().hex[:6]
        self.sshd = []
        self.control_dirs = []

        def run(*argv):
            subprocess.run(list(argv), check=True, capture_output=True)

        run('ip', 'netns', 'add', self.hub)
        run('ip', '-n', self.hub, 'link', 'set', 'lo', 'up')
        run('ip', '-n', self.hub, 'link', 'add', 'br0', 'type', 'bridge')
        run('ip', '-n', self.hub, 'addr', 'add', HUB_ADDRESS + '/15', 'dev', 'br0')
        run('ip', '-n', self.hub, 'link', 'set', 'br0', 'up')
        self.key = os.path.join(workdir, 'id_ed25519')
        host_key = os.path.join(workdir, 'ssh_host_ed25519_key')
        for path in (self.key, host_key):
            if not os.path.exists(path):
                run('ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', path)
        authorized = os.path.join(workdir, 'authorized_keys')
        with open(self.key + '.pub') as src, open(authorized, 'w') as dst:
            dst.write(src.read())
        lines = ['[fleet]\n']
        for number, host in enumerate(hosts, 2):
            host.address = '198.18.0.%d' % number
            outside, inside = 'vh%s' % uuid.uuid4().hex[:8], 'eth0'
            run('ip', '-n', self.hub, 'link', 'add', outside, 'type', 'veth', 'peer', 'name', inside, 'netns', host.name)
            run('ip', '-n', self.hub, 'link', 'set', outside, 'master', 'br0', 'up')
            run('ip', '-n', host.name, 'addr', 'add', host.address + '/15', 'dev', inside)
            run('ip', '-n', host.name, 'link', 'set', inside, 'up')
            config = os.path.join(workdir, 'sshd-%s.conf' % host.name)
            with open(config, 'w') as handle:
                handle.write('ListenAddress %s\nHostKey %s\nAuthorizedKeysFile %s\nPermitRootLogin prohibit-password\n'
                             'PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n'
                             'PidFile %s\nSubsystem sftp /usr/lib/openssh/sftp-server\n'
                             % (host.address, host_key, authorized, os.path.join(workdir, 'sshd-%s.pid' % host.name)))
            os.makedirs('/run/sshd', exist_ok=True)  # sshd's privilege-separation directory
            self.sshd.append(subprocess.Popen(['nsenter', '-t', str(host.holder.pid), '-n', '-m', '/usr/sbin/sshd', '-D',
                                               '-e', '-f', config], stderr=subprocess.DEVNULL))
            lines.append('%s ansible_host=%s ansible_user=root ansible_ssh_private_key_file=%s '
                         'ansible_python_interpreter=/usr/bin/python3\n' % (host.name, host.address, self.key))
        self.inventory = os.path.join(workdir, 'ssh-hosts-%s.ini' % self.hub)
        with open(self.inventory, 'w') as handle:
            handle.write(''.join(lines))
            handle.write('[fleet:vars]\n' + quiet_rollout(os.path.join(workdir, 'tcp-tune-report-' + self.hub)))
            handle.write('ansible_ssh_common_args=-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR\n')
        for host in hosts:
            self._wait_for(host.address)

    def _wait_for(self, address, seconds=20):
        probe = ('import socket,sys,time\nend = time.time() + %d\nwhile time.time() < end:\n    try:\n'
                 '        socket.create_connection(("%s", 22), 1).close(); sys.exit(0)\n'
                 '    except OSError:\n        time.sleep(0.1)\nsys.exit(1)\n' % (seconds, address))
        subprocess.run(['ip', 'netns', 'exec', self.hub, sys.executable, '-c', probe], check=True)

    def env(self, pipelining=False, **extra):
        # A control-path directory of its own per run (a short path: sockets have a 108-byte limit).
        control = tempfile.mkdtemp(prefix='netops-cp-')
        self.control_dirs.append(control)
        env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_HOST_KEY_CHECKING='0',
                   ANSIBLE_PIPELINING='1' if pipelining else '0', ANSIBLE_SSH_CONTROL_PATH_DIR=control)
        env.update(extra)
        return env

    def playbook(self, path, *extra, **kw):
        return subprocess.run(['ip', 'netns', 'exec', self.hub, 'ansible-playbook', '-i', self.inventory, path] + list(extra),
                              capture_output=True, text=True, env=self.env(**kw), timeout=600, check=False)

    def ansible(self, *argv, **kw):
        return subprocess.run(['ip', 'netns', 'exec', self.hub, 'ansible', 'fleet', '-i', self.inventory] + list(argv),
                              capture_output=True, text=True, env=self.env(**kw), timeout=600, check=False)

    def close(self):
        for namespace in [h.name for h in self.hosts] + [self.hub]:
            pids = subprocess.run(['ip', 'netns', 'pids', namespace], capture_output=True, text=True, check=False).stdout.split()
            for pid in pids:
                if int(pid) not in [h.holder.pid for h in self.hosts]:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except OSError:
                        pass
        for proc in self.sshd:
            proc.wait()
        for control in self.control_dirs:
            shutil.rmtree(control, ignore_errors=True)
        subprocess.run(['ip', 'netns', 'del', self.hub], check=False)


def cached_example_fleet(web, lb, workdir, extra_hosts=''):
    """The example inventory (examples/inventory) over two IsolatedHosts, web tuned with web_frontend and
    lb with lb_backend then drifted by hand (tcp_keepalive_time 7000), their facts gathered into the
    inventory's jsonfile cache. Returns (inventory directory, environment to run ansible there)."""
    for host, profile in ((web, 'web_frontend'), (lb, 'lb_backend')):
        proc = host.playbook(os.path.join(ROOT, 'tune-tcp.yml'), '--limit', host.name, '-e', 'tcp_tune_profile=' + profile)
        assert proc.returncode == 0, proc.stdout[-3000:]
    lb.run('sysctl', '-qw', 'net.ipv4.tcp_keepalive_time=7000', check=True)
    inventory = os.path.join(workdir, 'inventory')
    shutil.copytree(os.path.join(ROOT, 'examples', 'inventory'), inventory)
    with open(web.inventory) as src, open(os.path.join(inventory, 'hosts.yml'), 'w') as dst:
        dst.write(extra_hosts + src.read())  # our namespace hosts instead of the examples (extra ones ungrouped, first)
    play = os.path.join(workdir, 'gather.yml')
    with open(play, 'w') as handle:
        handle.write('- hosts: all\n  gather_facts: true\n  tasks: []\n')
    env = dict(os.environ, ANSIBLE_NOCOLOR='1')
    env.pop('ANSIBLE_CONFIG', None)
    gather = subprocess.run(['ansible-playbook', play, '--limit', '%s,%s' % (web.name, lb.name)], cwd=inventory, env=env,
                            capture_output=True, text=True, check=False)
    assert gather.returncode == 0, gather.stdout[-3000:] + gather.stderr[-2000:]
    return inventory, env
