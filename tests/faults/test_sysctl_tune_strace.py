# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sysctl_tune under faults injected by strace at the system calls themselves, no hook in the code:
SIGKILL at the Nth call of every syscall that changes something (write, pwrite64, ftruncate, rename,
fsync, mkdir, unlink, rmdir), and an errno (ENOSPC, EROFS, EIO) returned there instead.
After a kill, state=absent (straight away, or after a rerun that must reach what a clean run
reaches) gives back the host from before any tuning; after an errno the run fails and the host
is exactly as before it."""

import collections
import re

import pytest

from ansible_collections.netops.tcp.tests.faults.faulthost import SCENARIOS, clean_outcome, prepared, rebased, recovers


SYSCALLS = ('write', 'pwrite64', 'ftruncate', 'rename', 'fsync', 'mkdir', 'unlink', 'rmdir')
ERRNO = {'write': 'ENOSPC', 'pwrite64': 'ENOSPC', 'ftruncate': 'EROFS', 'rename': 'EROFS', 'fsync': 'EIO',
         'mkdir': 'ENOSPC', 'unlink': 'EROFS', 'rmdir': 'EROFS'}


def calls(tmp_path, scenario):
    """Each changing syscall of a clean run: (name, its number among calls of that name, the path of a
    /proc/sys file it writes or None)."""
    host, _pristine = prepared(tmp_path, 'strace-count', scenario)
    out = tmp_path / 'strace.out'
    code, _result, err = host.run(scenario[1], prefix=['strace', '-qq', '-y', '-o', str(out),
                                                       '-e', 'trace=' + ','.join(SYSCALLS)])
    assert code == 0, err
    seen = collections.Counter()
    points = []
    for line in out.read_text().splitlines():
        match = re.match(r'(\w+)\((?:\d+<([^>]*)>)?', line)
        if match and match.group(1) in SYSCALLS:
            seen[match.group(1)] += 1
            if match.group(1) == 'write' and not (match.group(2) or '').startswith('/'):
                continue  # the result written to stdout: not a change to the host
            target = match.group(2) if match.group(1) == 'write' and '/proc/sys/' in (match.group(2) or '') else None
            points.append((match.group(1), seen[match.group(1)], target and target.replace(str(host.root), '{root}')))
    return points


def as_the_kernel_leaves_it(host, target, before):
    """A /proc/sys value is replaced atomically by the kernel: a write killed on entry leaves the old
    value. The fixture file was opened with O_TRUNC (as sysctl(8) opens /proc/sys, where it is a
    no-op), so put the old value back as the kernel would show it."""
    if target:
        path = target.format(root=host.root)
        with open(path, 'w') as handle:
            handle.write(before[path] + '\n')


def inject(name, number, what):
    return ['strace', '-qq', '-o', '/dev/null', '-e', 'trace=' + name, '-e', 'inject=%s:%s:when=%d' % (name, what, number)]


@pytest.mark.parametrize('scenario', ['first', 'absent', 'previous'])
def test_killed_at_every_changing_syscall(tmp_path, scenario):
    spec = SCENARIOS[scenario]
    points = calls(tmp_path, spec)
    assert len(points) >= 10, points
    expected = clean_outcome(tmp_path, spec)
    for name, number, target in points:
        for then_absent in (False, True) if scenario == 'first' else (True,):
            label = 'kill-%s-%d-%s' % (name, number, 'absent' if then_absent else 'rerun')
            host, pristine = prepared(tmp_path, label, spec)
            before = host.snapshot()
            code, _result, err = host.run(spec[1], prefix=inject(name, number, 'signal=KILL'))
            assert code in (-9, 137), (label, code, err)
            as_the_kernel_leaves_it(host, target, before)
            recovers(host, pristine, spec, expected, tmp_path, not then_absent, label)


@pytest.mark.parametrize('scenario', ['first', 'absent', 'previous'])
def test_an_errno_at_every_changing_syscall_fails_cleanly(tmp_path, scenario):
    spec = SCENARIOS[scenario]
    expected = clean_outcome(tmp_path, spec)
    for name, number, target in calls(tmp_path, spec):
        label = 'errno-%s-%d' % (name, number)
        host, _pristine = prepared(tmp_path, label, spec)
        before = host.snapshot()
        code, result, err = host.run(spec[1], prefix=inject(name, number, 'error=' + ERRNO[name]))
        as_the_kernel_leaves_it(host, target, before)  # the refused write changed nothing
        if code == 0:
            # Only the lock's own bookkeeping failed (writing or clearing the holder's name, removing the
            # lock file and its directory once nothing is saved): best effort, the run itself completed.
            assert name in ('pwrite64', 'ftruncate', 'unlink', 'rmdir'), (label, result)
            lock_dir = host.args['state_dir']
            got = dict((p, v) for p, v in host.snapshot().items() if not p.startswith(lock_dir))
            assert got == dict((p, v) for p, v in rebased(expected, tmp_path, host.root).items()
                               if not p.startswith(lock_dir)), label
            continue
        assert code == 1 and 'could NOT' not in result.get('msg', ''), (label, code, result, err[-2000:])
        assert host.snapshot() == before, (label, result)
