# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real kernels in QEMU virtual machines, reached by Ansible over SSH as a fleet host is.

scripts/vm-image.sh builds the disk (one Debian 13 root) and the kernels (Debian's 5.10, 6.1, 6.12
and 7.3 lines) once; each VM here runs on its own qcow2 overlay, so what a test changes, reboots
included, dies with the VM. SSH reaches the guest through QEMU's user-mode network (restrict=on:
the guest reaches nothing), forwarded to a port on 127.0.0.1.
"""

import fcntl
import json
import os
import shlex
import shutil
import socket
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VM_CACHE = os.environ.get('NETOPS_VM_CACHE') or os.path.join(
    os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache'), 'netops.tcp', 'vm')
KEY = os.path.join(VM_CACHE, 'id_ed25519')
# 1 GiB, but 6.12 with 5 GiB: above 4 GB the kernel sizes its tables larger (conntrack 262144 buckets,
# the established hash), so the catalog's computed defaults and the decisions that keep a capacity
# limit higher than a profile's are checked for real too.
MEMORY_MB = {'6.12': 5120}
DEFAULT_MEMORY_MB = 1024
BOOT_TIMEOUT = 420      # seconds to SSH after a (re)boot; about 100-140 s under emulation here
KVM_PROBE_TIMEOUT = 90  # a stock kernel under a working KVM reaches SSH in well under this


def releases():
    """{line: release} of the kernels in the image, e.g. {'5.10': '5.10.0-32-cloud-amd64', ...}."""
    found = {}
    for release in sorted(os.listdir(os.path.join(VM_CACHE, 'boot'))):
        major, minor = release.split('.')[:2]
        found['%s.%s' % (major, minor.split('-')[0])] = release
    return found


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def ssh_options(port, control_dir):
    return ['-i', KEY, '-p', str(port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
            '-o', 'LogLevel=ERROR', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=15',
            '-o', 'ControlMaster=auto', '-o', 'ControlPersist=120',
            '-o', 'ControlPath=%s/%%C' % control_dir]


class VMError(RuntimeError):
    pass


class VM:
    """One guest: ``start()`` boots it, ``sh()`` runs a shell command as root, ``reboot()`` reboots it
    for real, ``playbook()`` runs ansible-playbook against it over SSH with pipelining."""

    def __init__(self, line, workdir, accel=None):
        self.line = line
        self.release = releases()[line]
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.control = os.path.join(workdir, 'cp')
        os.makedirs(self.control, exist_ok=True)
        self.console = os.path.join(workdir, 'console.log')
        self.accel = accel or acceleration()
        self.port = None
        self.proc = None
        self.errors = None
        self.boots = 0

    def start(self, timeout=BOOT_TIMEOUT):
        disk = os.path.join(self.workdir, 'disk.qcow2')
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', os.path.join(VM_CACHE, 'base.img'),
                        '-F', 'raw', disk], check=True)
        self.port = free_port()
        memory = MEMORY_MB.get(self.line, DEFAULT_MEMORY_MB)
        self.errors = open(os.path.join(self.workdir, 'qemu.err'), 'w')
        self.proc = subprocess.Popen(qemu_command(self.release, disk, self.port, self.console, self.accel, memory),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.errors)
        try:
            self.wait_for_ssh(timeout)
        except BaseException:
            self.stop()  # no QEMU left behind by a boot that failed
            raise
        self.boots += 1
        return self

    def wait_for_ssh(self, timeout, old_boot=None):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise VMError('%s: QEMU exited (%s): %s' % (self.line, self.proc.returncode, self.tail()))
            if self.accel == 'kvm' and 'KVM internal error' in self._qemu_errors():
                raise VMError('%s: KVM cannot run this kernel: %s' % (self.line, self._qemu_errors()[:300]))
            proc = self.sh('cat /proc/sys/kernel/random/boot_id', check=False, timeout=30)
            if proc.returncode == 0 and proc.stdout.strip() and proc.stdout.strip() != old_boot:
                return proc.stdout.strip()
            time.sleep(3)
        raise VMError('%s: no SSH after %d s: %s' % (self.line, timeout, self.tail()))

    def _qemu_errors(self):
        try:
            with open(os.path.join(self.workdir, 'qemu.err')) as handle:
                return handle.read()
        except OSError:
            return ''

    def tail(self, size=2000):
        try:
            with open(self.console, 'rb') as handle:
                handle.seek(0, os.SEEK_END)
                handle.seek(max(0, handle.tell() - size))
                return handle.read().decode('utf-8', 'replace')
        except OSError:
            return '(no console)'

    def sh(self, command, check=True, timeout=600, input=None):  # pylint: disable=redefined-builtin
        proc = subprocess.run(['ssh'] + ssh_options(self.port, self.control) + ['root@127.0.0.1', command],
                              capture_output=True, text=True, timeout=timeout, input=input, check=False)
        if check and proc.returncode != 0:
            raise VMError('%s: %r failed (%d): %s%s'
                          % (self.line, command, proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:]))
        return proc

    def python(self, script, *args, **kw):
        """Run a Python script file of the tests in the guest; its stdout parsed as JSON."""
        with open(script) as handle:
            proc = self.sh('python3 - %s' % ' '.join(shlex.quote(a) for a in args), input=handle.read(), **kw)
        return json.loads(proc.stdout)

    def read(self, path):
        return self.sh('cat %s' % shlex.quote(path)).stdout

    def write(self, path, text, mode='0644'):
        quoted = shlex.quote(path)
        self.sh('mkdir -p %s && cat > %s && chmod %s %s' % (shlex.quote(os.path.dirname(path)), quoted, mode, quoted),
                input=text)

    def sysctl(self, key):
        return ' '.join(self.read('/proc/sys/' + key.replace('.', '/')).split())

    def _close_master(self):
        """End the SSH connection master: after a reboot or a stop it talks to a guest that is gone."""
        subprocess.run(['ssh'] + ssh_options(self.port, self.control) + ['-O', 'exit', 'root@127.0.0.1'],
                       capture_output=True, check=False)

    def reboot(self, timeout=BOOT_TIMEOUT):
        """A real reboot (systemctl reboot): returns once SSH answers from the new boot."""
        old = self.sh('cat /proc/sys/kernel/random/boot_id').stdout.strip()
        try:
            self.sh('systemctl reboot', check=False, timeout=30)
        except subprocess.TimeoutExpired:
            pass  # the connection went down with the guest
        self._close_master()
        time.sleep(10)
        self.wait_for_ssh(timeout, old_boot=old)
        self.boots += 1

    def inventory(self):
        path = os.path.join(self.workdir, 'inventory.yml')
        host = {'ansible_host': '127.0.0.1', 'ansible_port': self.port, 'ansible_user': 'root',
                'ansible_ssh_private_key_file': KEY, 'ansible_python_interpreter': '/usr/bin/python3',
                'ansible_ssh_common_args': '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null '
                                           '-o LogLevel=ERROR'}
        with open(path, 'w') as handle:
            json.dump({'all': {'hosts': {self.name: host}}}, handle)
        return path

    @property
    def name(self):
        return 'vm%s' % self.line.replace('.', '_')

    def env(self):
        return dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_HOST_KEY_CHECKING='0', ANSIBLE_PIPELINING='1',
                    ANSIBLE_SSH_CONTROL_PATH_DIR=os.path.join(self.control, 'ansible'), ANSIBLE_FORKS='1',
                    ANSIBLE_TIMEOUT='60', ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default',
                    ANSIBLE_DEPRECATION_WARNINGS='0')

    def playbook(self, path, *extra, **variables):
        argv = ['ansible-playbook', '-i', self.inventory(), path] + list(extra)
        if variables:
            argv += ['-e', json.dumps(variables)]
        return subprocess.run(argv, capture_output=True, text=True, env=self.env(), cwd=ROOT, timeout=1800, check=False)

    def module(self, name, args=None, check=True):
        """One module run over SSH (ansible ad hoc): its result."""
        env = dict(self.env(), ANSIBLE_LOAD_CALLBACK_PLUGINS='1', ANSIBLE_STDOUT_CALLBACK='oneline')
        proc = subprocess.run(['ansible', '-i', self.inventory(), self.name, '-m', name, '-a', json.dumps(args or {})],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=900, check=False)
        lines = [x for x in proc.stdout.splitlines() if x.startswith(self.name + ' | ')]
        if not lines:
            raise VMError('%s: no result from ansible: %s %s' % (self.line, proc.stdout[-2000:], proc.stderr[-2000:]))
        status, _sep, payload = lines[-1].partition(' => ')
        if check and ('FAILED' in status or 'UNREACHABLE' in status):
            raise VMError('%s: %s failed: %s' % (self.line, name, lines[-1][:2000]))
        return json.loads(payload)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                self.sh('systemctl poweroff', check=False, timeout=20)
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.errors:
            self.errors.close()
        if self.port:
            self._close_master()
        try:
            os.unlink(os.path.join(self.workdir, 'disk.qcow2'))
        except OSError:
            pass


def qemu_command(release, disk, port, console, accel, memory=DEFAULT_MEMORY_MB):
    boot = os.path.join(VM_CACHE, 'boot', release)
    cpu = ['-accel', 'kvm', '-cpu', 'host'] if accel == 'kvm' else ['-accel', 'tcg,tb-size=256', '-cpu', 'max']
    return ['qemu-system-x86_64'] + cpu + [
        '-m', str(memory), '-smp', '1', '-nodefaults', '-display', 'none',
        '-serial', 'file:%s' % console, '-kernel', os.path.join(boot, 'vmlinuz'),
        '-initrd', os.path.join(boot, 'initrd.img'),
        '-append', 'root=/dev/vda rw console=ttyS0 net.ifnames=0 panic=-1',
        '-drive', 'file=%s,if=virtio,format=qcow2,cache=unsafe' % disk,
        '-nic', 'user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:%d-:22' % port]


def acceleration():
    """'kvm' where /dev/kvm runs a stock Debian kernel, else 'tcg' (software emulation).

    A /dev/kvm is not proof: on these machines it is PVM, which runs only guest kernels built for
    it. The answer of one real boot under it is cached per host kernel and QEMU."""
    forced = os.environ.get('NETOPS_VM_ACCEL')
    if forced:
        return forced
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        return 'tcg'
    qemu = subprocess.run(['qemu-system-x86_64', '--version'], capture_output=True, text=True, check=False).stdout.split('\n')[0]
    verdict = os.path.join(VM_CACHE, 'accel-%s-%s' % (os.uname().release, ''.join(qemu.split()[3:4]) or 'qemu'))
    with open(os.path.join(VM_CACHE, 'accel.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the tier's two processes probe once between them
        try:
            with open(verdict) as handle:
                return handle.read().strip()
        except OSError:
            pass
        answer = _probe_kvm()
        with open(verdict, 'w') as handle:
            handle.write(answer + '\n')
        return answer


def _probe_kvm():
    line = sorted(releases())[0]
    probe = VM(line, os.path.join(VM_CACHE, 'kvm-probe'), accel='kvm')
    try:
        probe.start(timeout=KVM_PROBE_TIMEOUT)
        answer = 'kvm'
    except VMError:
        answer = 'tcg'
    finally:
        if probe.proc and probe.proc.poll() is None:
            probe.proc.kill()
            probe.proc.wait()
        probe.stop()
        shutil.rmtree(probe.workdir, ignore_errors=True)
    return answer
