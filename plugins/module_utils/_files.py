# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: files that must survive a crash, and one run at a time per host.

A file is replaced by writing a temporary file beside it, fsyncing it, renaming it over the
target and fsyncing the directory: after a crash the target holds either all of the old
bytes or all of the new. Temporary files are named after their target (``.NAME.tmp-XXXX``,
never ``*.conf``, so systemd-sysctl ignores them) and a later run holding the lock removes
any a crash left behind.

``checkpoint`` marks the points where a crash or an I/O error can happen; it does nothing
unless the test-only environment variable NETOPS_TCP_FAULT asks it to kill the process,
raise an I/O error or pause there (tests/faults/).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import errno
import fcntl
import json
import os
import signal
import tempfile
import time

LOCK_NAME = 'lock'
_steps = [0]


def checkpoint(label):
    """A step of the apply path. Test hook, inert unless NETOPS_TCP_FAULT is ``ACTION@N``:
    ``kill@N`` (SIGKILL at the Nth step), ``error@N`` (an I/O error there), ``pause@N:PATH``
    (create PATH.paused, wait for PATH.resume), ``count@0`` (no fault). With NETOPS_TCP_FAULT_LOG
    each step is appended to that file as ``N label``."""
    spec = os.environ.get('NETOPS_TCP_FAULT')
    if not spec:
        return
    _steps[0] += 1
    log = os.environ.get('NETOPS_TCP_FAULT_LOG')
    if log:
        with open(log, 'a') as handle:
            handle.write('%d %s\n' % (_steps[0], label))
    action, _sep, rest = spec.partition('@')
    number, _sep, arg = rest.partition(':')
    if int(number) != _steps[0]:
        return
    if action == 'kill':
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == 'error':
        raise OSError(errno.EIO, 'injected I/O error at step %d (%s)' % (_steps[0], label))
    elif action == 'pause':
        open(arg + '.paused', 'w').close()
        deadline = time.time() + 120
        while not os.path.exists(arg + '.resume') and time.time() < deadline:
            time.sleep(0.01)


def describe(exc):
    return exc.strerror or str(exc) if isinstance(exc, EnvironmentError) else str(exc)


def read_text(path, errors='strict', quiet=False):
    """The file's text (UTF-8; ``errors`` as for bytes.decode), or None when it does not exist.

    Other errors raise (an unreadable file is not an absent one), unless ``quiet``: /proc files
    that vanish or refuse a read are simply not there. The one reader of the collection.
    """
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT or quiet:
            return None
        raise
    return data.decode('utf-8', errors)


def missing_dirs(directory):
    """``directory`` and its parents that do not exist, outermost first."""
    missing = []
    while directory and not os.path.isdir(directory):
        missing.append(directory)
        directory = os.path.dirname(directory)
    return list(reversed(missing))


def make_dirs(directory, mode=0o755):
    """Create ``directory`` and missing parents; return the ones created, outermost first."""
    created = []
    try:
        for path in missing_dirs(directory):
            checkpoint('mkdir %s' % path)
            try:
                os.mkdir(path, mode)
            except OSError as exc:
                if exc.errno != errno.EEXIST:  # another run made it a moment ago: not ours to remove
                    raise
                continue
            created.append(path)
    except BaseException:
        for path in reversed(created):
            os.rmdir(path)
        raise
    return created


def remove_dir(path):
    """Remove a directory this collection created, if it is empty now; True when removed."""
    checkpoint('rmdir %s' % path)
    try:
        os.rmdir(path)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTEMPTY, errno.EEXIST, errno.EBUSY):
            return False
        raise
    return True


def fsync_dir(directory):
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_prefix(path):
    return '.%s.tmp-' % os.path.basename(path)


def remove_stale_temps(path):
    """Remove temporary files a crashed run left for ``path`` (call with the lock held)."""
    directory, prefix = os.path.dirname(path), temp_prefix(path)
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    removed = []
    for name in names:
        if name.startswith(prefix):
            try:
                os.remove(os.path.join(directory, name))
                removed.append(os.path.join(directory, name))
            except OSError:
                pass
    return removed


def stage(path, text, mode=0o644):
    """Write ``text`` to a temporary file beside ``path`` and fsync it; return its name.
    Nothing visible changes until ``rename``. On a failure the temporary file is removed."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=temp_prefix(path))
    try:
        try:
            checkpoint('write %s' % path)
            data = text.encode('utf-8')
            while data:
                data = data[os.write(fd, data):]
            os.fchmod(fd, mode)
            checkpoint('fsync %s' % path)
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        discard(tmp)
        raise
    return tmp


def rename(tmp, path):
    checkpoint('rename %s' % path)
    os.rename(tmp, path)


def sync_dir_of(path):
    """fsync the directory holding ``path``: the rename or removal there is durable."""
    checkpoint('fsync directory of %s' % path)
    fsync_dir(os.path.dirname(path))


def discard(tmp):
    try:
        os.remove(tmp)
    except OSError:
        pass


def replace(path, text, mode=0o644, sync=True):
    """Replace ``path`` with ``text`` (stage, rename), durably unless ``sync`` is false: then the
    caller syncs the directory (``sync_dir_of``) and a failure there means the new file is in place."""
    tmp = stage(path, text, mode)
    try:
        rename(tmp, path)
    except BaseException:
        discard(tmp)
        raise
    if sync:
        sync_dir_of(path)


def remove(path, sync=True):
    """Remove ``path`` (durably unless ``sync`` is false); True when there was one."""
    checkpoint('remove %s' % path)
    try:
        os.remove(path)
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return False
        raise
    if sync:
        sync_dir_of(path)
    return True


def put_back(path, text, mode=0o644):
    """Make ``path`` hold ``text`` again (None: no file)."""
    if text is None:
        remove(path)
    else:
        replace(path, text, mode)


class LockTimeout(Exception):
    pass


class Lock:
    """An exclusive flock(2) on ``DIRECTORY/lock``: one netops.tcp run at a time on a host.

    The kernel drops the lock when its holder dies, so a crash never leaves a stale lock. The
    holder writes its pid and start time into the file for the message a waiting run gives.
    ``shared`` (check mode) takes a shared lock only when the file exists and writes nothing.
    """

    def __init__(self, directory, timeout, shared=False, started=None):
        self.directory = directory
        self.path = os.path.join(directory, LOCK_NAME)
        self.timeout = timeout
        self.shared = shared
        self.started = started or datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
        self.fd = None
        self.created = []

    def acquire(self):
        deadline = time.time() + self.timeout
        while True:
            fd = self._open()
            if fd is None:
                return self
            try:
                fcntl.flock(fd, (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
            except (IOError, OSError) as exc:
                os.close(fd)
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.time() >= deadline:
                    raise LockTimeout(self._busy_message())
                time.sleep(0.05)
                continue
            # The holder before us may have removed the file (state=absent): lock the one on the path.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except OSError:
                same = False
            if not same:
                os.close(fd)
                continue
            self.fd = fd
            if not self.shared:
                self._write_holder()
            checkpoint('locked %s' % self.path)
            return self

    def _open(self):
        if self.shared:
            try:
                return os.open(self.path, os.O_RDONLY)
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    return None
                raise
        while True:
            self.created += make_dirs(self.directory, 0o700)
            try:
                return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                # A run that just finished state=absent removed the directory between the two calls.
                if exc.errno != errno.ENOENT:
                    raise

    def _write_holder(self):
        data = json.dumps({'pid': os.getpid(), 'started': self.started}).encode()
        try:
            os.pwrite(self.fd, data, 0)
            os.ftruncate(self.fd, len(data))
        except OSError:
            pass  # a full disk: the lock holds all the same, only the holder goes unnamed

    def holder(self):
        try:
            with open(self.path) as handle:
                info = json.load(handle)
            return 'pid %d, started %s' % (info['pid'], info['started'])
        except (IOError, OSError, ValueError, KeyError, TypeError):
            return 'holder unknown'

    def _busy_message(self):
        return ('another netops.tcp run holds the lock %s (%s); waited %s s and changed nothing. '
                'Run again when it has finished, or raise lock_timeout' % (self.path, self.holder(), self.timeout))

    def release(self, remove_file=False, remove_dir=False):
        """Unlock. With ``remove_file`` (nothing is saved any more) the lock file goes too, and the
        directory when it is empty and this run created it (or ``remove_dir``)."""
        if self.fd is None:
            return
        if not self.shared:
            try:
                os.ftruncate(self.fd, 0)  # the holder is gone: no stale pid for the next message
            except OSError:
                pass
        if remove_file and not self.shared:
            try:
                os.remove(self.path)
                if remove_dir or self.created:
                    for directory in reversed(self.created or [self.directory]):
                        os.rmdir(directory)
            except OSError:
                pass
        os.close(self.fd)
        self.fd = None
