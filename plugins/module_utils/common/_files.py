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

from __future__ import annotations

import binascii
import datetime
import errno
import fcntl
import json
import os
import signal
import stat
import time
from typing import BinaryIO

LOCK_NAME = 'lock'
_steps: list[int] = [0]


def checkpoint(label: str) -> None:
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


def describe(exc: BaseException) -> str:
    return exc.strerror or str(exc) if isinstance(exc, EnvironmentError) else str(exc)


# Files of ours (state, drop-ins, records, reports) are far below this; a bigger one is not ours.
READ_LIMIT = 256 * 1024 * 1024
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | getattr(os, 'O_CLOEXEC', 0)


class Refused(EnvironmentError):
    """A path holds something the collection does not read or write there; the message names it."""

    def __init__(self, message: str) -> None:
        EnvironmentError.__init__(self, errno.EPERM, message)


def kind(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words."""
    for test, name in ((stat.S_ISLNK, 'a symbolic link'), (stat.S_ISFIFO, 'a FIFO (named pipe)'),
                       (stat.S_ISCHR, 'a character device'), (stat.S_ISBLK, 'a block device'),
                       (stat.S_ISSOCK, 'a socket'), (stat.S_ISDIR, 'a directory'), (stat.S_ISREG, 'a regular file')):
        if test(mode):
            return name
    return 'a file of unknown type'


def _open_regular(name: str, dir_fd: int | None, shown: str, follow: bool) -> int:
    """A read-only descriptor of the regular file ``name``; ``Refused`` for anything else."""
    st = os.stat(name, dir_fd=dir_fd, follow_symlinks=follow)  # look before opening: opening a device can act
    if not stat.S_ISREG(st.st_mode):
        raise Refused('%s is %s, not a regular file: not read%s' % (
            shown, kind(st.st_mode), ' (links are not followed there)' if stat.S_ISLNK(st.st_mode) else ''))
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0) | (0 if follow else os.O_NOFOLLOW),
                     dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow:  # swapped for a link since the look
            raise Refused('%s is a symbolic link, not a regular file: not read (links are not followed there)' % shown)
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise Refused('%s is %s, not a regular file: not read' % (shown, kind(mode)))
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read(name: str, dir_fd: int | None, shown: str, errors: str, follow: bool, limit: int | None) -> str:
    fd = _open_regular(name, dir_fd, shown, follow)
    chunks: list[bytes] = []
    size = 0
    try:
        while True:  # in pieces: /proc/sys refuses one huge read (ENOMEM)
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            size += len(chunk)
            if limit is not None and size > limit:
                raise Refused('%s is larger than %d bytes: not read' % (shown, limit))
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b''.join(chunks).decode('utf-8', errors)


def read_text(path: str, errors: str = 'strict', quiet: bool = False, follow: bool = True, limit: int | None = READ_LIMIT) -> str | None:
    """The file's text (UTF-8; ``errors`` as for bytes.decode), or None when it does not exist.

    Never hangs and never reads without end: anything but a regular file (a FIFO, a device, a
    socket) and a file larger than ``limit`` bytes (None: no bound, for /proc) are refused with
    ``Refused``, an EnvironmentError naming the path and what is there; unless ``follow``, a
    symbolic link is refused too. Other errors raise (an unreadable file is not an absent one),
    unless ``quiet``: /proc files that vanish or refuse a read are simply not there. The one
    reader of the collection (``Directory.read`` for files in a place others can write).
    """
    try:
        return _read(path, None, path, errors, follow, limit)
    except OSError as exc:
        if exc.errno == errno.ENOENT or quiet:
            return None
        raise


def missing_dirs(directory: str) -> list[str]:
    """``directory`` and its parents that do not exist, outermost first."""
    missing = []
    while directory and not os.path.isdir(directory):
        missing.append(directory)
        directory = os.path.dirname(directory)
    return list(reversed(missing))


def make_dirs(directory: str, mode: int = 0o755) -> list[str]:
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


def remove_dir(path: str) -> bool:
    """Remove a directory this collection created, if it is empty now; True when removed."""
    checkpoint('rmdir %s' % path)
    try:
        os.rmdir(path)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTEMPTY, errno.EEXIST, errno.EBUSY):
            return False
        raise
    return True


def fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_prefix(path: str) -> str:
    return '.%s.tmp-' % os.path.basename(path)


def remove_stale_temps(path: str) -> list[str]:
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


def _create_temp(path: str, dir_fd: int | None) -> tuple[int, str]:
    """(fd, name) of a new file beside ``path`` (relative to ``dir_fd`` when given), made with
    O_EXCL and O_NOFOLLOW: never a file or link that was there before."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0)
    for _attempt in range(100):
        name = os.path.join(os.path.dirname(path), temp_prefix(path) + binascii.hexlify(os.urandom(6)).decode())
        try:
            return os.open(name, flags, 0o600, dir_fd=dir_fd), name
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise
    raise OSError(errno.EEXIST, 'no unused temporary name beside %s' % path)


def stage(path: str, text: str, mode: int = 0o644, dir_fd: int | None = None, shown: str | None = None) -> str:
    """Write ``text`` to a temporary file beside ``path`` and fsync it; return its name.
    Nothing visible changes until ``rename``. On a failure the temporary file is removed.
    ``dir_fd``: ``path`` is relative to that directory (``Directory``); ``shown``: its full path."""
    fd, tmp = _create_temp(path, dir_fd)
    try:
        try:
            checkpoint('write %s' % (shown or path))
            data = text.encode('utf-8')
            while data:
                data = data[os.write(fd, data):]
            os.fchmod(fd, mode)
            checkpoint('fsync %s' % (shown or path))
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        discard(tmp, dir_fd)
        raise
    return tmp


def rename(tmp: str, path: str, dir_fd: int | None = None, shown: str | None = None) -> None:
    checkpoint('rename %s' % (shown or path))
    os.rename(tmp, path, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)


def sync_dir_of(path: str, dir_fd: int | None = None, shown: str | None = None) -> None:
    """fsync the directory holding ``path`` (or ``dir_fd``): the rename or removal there is durable."""
    checkpoint('fsync directory of %s' % (shown or path))
    if dir_fd is None:
        fsync_dir(os.path.dirname(path))
    else:
        os.fsync(dir_fd)


def discard(tmp: str, dir_fd: int | None = None) -> None:
    try:
        os.remove(tmp, dir_fd=dir_fd)
    except OSError:
        pass


def replace(path: str, text: str, mode: int = 0o644, sync: bool = True, dir_fd: int | None = None, shown: str | None = None) -> None:
    """Replace ``path`` with ``text`` (stage, rename), durably unless ``sync`` is false: then the
    caller syncs the directory (``sync_dir_of``) and a failure there means the new file is in place."""
    tmp = stage(path, text, mode, dir_fd, shown)
    try:
        rename(tmp, path, dir_fd, shown)
    except BaseException:
        discard(tmp, dir_fd)
        raise
    if sync:
        sync_dir_of(path, dir_fd, shown)


def remove(path: str, sync: bool = True) -> bool:
    """Remove ``path`` (durably unless ``sync`` is false); True when there was one."""
    checkpoint('remove %s' % path)
    try:
        os.remove(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return False
        raise
    if sync:
        sync_dir_of(path)
    return True


def put_back(path: str, text: str | None, mode: int = 0o644) -> None:
    """Make ``path`` hold ``text`` again (None: no file)."""
    if text is None:
        remove(path)
    else:
        replace(path, text, mode)


MAX_LINKS = 40  # as the kernel's path walk


def _others_can_write(st: os.stat_result) -> bool:
    """Whether a user other than root and this one can add, remove or rename entries here."""
    return st.st_uid not in (0, os.geteuid()) or bool(st.st_mode & 0o022)


def _trusted_destination(st: os.stat_result, shown: str) -> None:
    if st.st_uid not in (0, os.geteuid()):
        raise Refused('%s belongs to uid %d, not to root or this user: refused as a destination (its owner could '
                      'put a link or a file of its own where this run writes)' % (shown, st.st_uid))
    if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
        raise Refused('%s is writable by %s without the sticky bit: refused as a destination (any of them could '
                      'put a link or a file of their own where this run writes)'
                      % (shown, 'everyone' if st.st_mode & 0o002 else 'its group'))


def _ours(uid: int) -> bool:
    return uid in (0, os.geteuid())


def _walk(path: str, create: bool, mode: int, strict: bool = False) -> tuple[int, str, list[str]]:
    """(fd, path walked, directories created) of the directory ``path``, opened one component at a
    time with O_NOFOLLOW. A symbolic link is followed only where nobody but root and this user
    can have put it; a missing directory is made (``create``) under the one walked so far. With
    ``strict`` (a caller that will use the path, not the descriptor), every directory on the way
    must also be one nobody else can rename away: in a parent another user can change, only an
    entry of root or this user in a sticky directory of root or this user."""
    fd = os.open('/', _DIR_FLAGS)
    shown, links = '/', 0
    created: list[str] = []
    todo = [part for part in os.path.abspath(path).split('/') if part][::-1]
    try:
        while todo:
            name = todo.pop()
            here = os.path.normpath(os.path.join(shown, name))
            parent = os.fstat(fd)
            # Another user may replace an entry here: a sticky directory of root or ours protects the
            # entries of root and ours; any other directory protects nothing from its owner or writers.
            shared = _others_can_write(parent)
            guarded = bool(parent.st_mode & stat.S_ISVTX) and _ours(parent.st_uid)
            try:
                child = os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                if exc.errno == errno.ENOENT and create:
                    checkpoint('mkdir %s' % here)
                    try:
                        os.mkdir(name, mode, dir_fd=fd)
                        created.append(here)
                    except OSError as made:
                        if made.errno != errno.EEXIST:  # another run made it a moment ago: open that
                            raise
                    todo.append(name)
                    continue
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                if not stat.S_ISLNK(st.st_mode):
                    raise Refused('%s is %s, not a directory' % (here, kind(st.st_mode)))
                if shared and not (guarded and _ours(st.st_uid)):
                    raise Refused('%s is a symbolic link in %s, which another user can change: not followed' % (here, shown))
                links += 1
                if links > MAX_LINKS:
                    raise OSError(errno.ELOOP, 'too many symbolic links on the way to %s' % path)
                target = os.readlink(name, dir_fd=fd)
                again = os.stat(name, dir_fd=fd, follow_symlinks=False)
                if (again.st_dev, again.st_ino) != (st.st_dev, st.st_ino):
                    raise Refused('%s changed while it was read: not followed' % here)
                if target.startswith('/'):
                    os.close(fd)
                    fd, shown = os.open('/', _DIR_FLAGS), '/'
                todo.extend([part for part in target.split('/') if part][::-1])
                continue
            if strict and shared and not (guarded and _ours(os.fstat(child).st_uid)):
                os.close(child)
                raise Refused('%s is in %s, which another user can change: refused as a destination (they could '
                              'rename it away and put a link in its place)' % (here, shown))
            os.close(fd)
            fd, shown = child, here
        return fd, shown, created
    except BaseException:
        os.close(fd)
        raise


class Directory:
    """A directory this collection writes into, opened so that nobody else can redirect what it
    reads or writes there: reached without a symbolic link another user could have placed, owned by
    root or this user and writable by nobody else unless sticky (``Refused`` otherwise), and used
    through its descriptor, so renaming it or a parent away afterwards changes nothing. Files in it
    are read as untrusted (``read``: regular files only, links not followed, with a bound) and
    replaced atomically (``replace``)."""

    def __init__(self, fd: int, path: str, created: list[str]) -> None:
        self.fd: int | None = fd
        self.path, self.created = path, created
        self.shared = _others_can_write(os.fstat(fd))  # a sticky /tmp-like directory

    @classmethod
    def open(cls, path: str, create: bool = False, mode: int = 0o755, strict: bool = False) -> Directory | None:
        """The directory, or None when it does not exist and not ``create``."""
        try:
            fd, shown, created = _walk(path, create, mode, strict)
        except OSError as exc:
            if exc.errno == errno.ENOENT and not create:
                return None
            raise
        try:
            _trusted_destination(os.fstat(fd), shown)
        except BaseException:
            os.close(fd)
            raise
        return cls(fd, shown, created)

    def __enter__(self) -> Directory:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def join(self, name: str) -> str:
        return os.path.join(self.path, name)

    def read(self, name: str, errors: str = 'strict', limit: int | None = READ_LIMIT) -> str | None:
        """The text of the file ``name`` here, None when there is none; see ``read_text``. In a
        directory others can write (sticky), a file of another user, or a hard link to one, is not ours."""
        try:
            self._check_ours(name)
            return _read(name, self.fd, self.join(name), errors, False, limit)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None
            raise

    def open_read(self, name: str) -> BinaryIO | None:
        """The regular file ``name`` here opened for reading in binary (links not followed, the checks
        of ``read``), None when there is none: for a caller that reads it a piece at a time, with its own bounds."""
        try:
            self._check_ours(name)
            return os.fdopen(_open_regular(name, self.fd, self.join(name), False), 'rb')
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None
            raise

    def _check_ours(self, name: str) -> None:
        if self.shared:
            st = os.stat(name, dir_fd=self.fd, follow_symlinks=False)
            if not _ours(st.st_uid) or st.st_nlink > 1:
                raise Refused('%s belongs to uid %d%s in a directory others can write: not read as ours'
                              % (self.join(name), st.st_uid, ', with other links' if st.st_nlink > 1 else ''))

    def create_temp(self, name: str, mode: int = 0o644) -> tuple[BinaryIO, str]:
        """(file open for writing and reading, its name) of a new temporary file beside ``name`` here, for a
        caller that writes it a piece at a time, then puts it in place (``commit``) or removes it (``discard``)."""
        fd, tmp = _create_temp(name, self.fd)
        try:
            os.fchmod(fd, mode)
            return os.fdopen(fd, 'w+b'), tmp
        except BaseException:
            os.close(fd)
            discard(tmp, self.fd)
            raise

    def commit(self, tmp: str, name: str) -> None:
        """Put the written temporary file ``tmp`` (closed, fsynced by the caller) in place of ``name``, durably."""
        try:
            rename(tmp, name, self.fd, self.join(name))
        except BaseException:
            discard(tmp, self.fd)
            raise
        self.sync(name)

    def discard(self, tmp: str) -> None:
        discard(tmp, self.fd)

    def replace(self, name: str, text: str, mode: int = 0o644, sync: bool = True) -> None:
        replace(name, text, mode, sync, self.fd, self.join(name))

    def sync(self, name: str) -> None:
        sync_dir_of(name, self.fd, self.join(name))


def check_destination(path: str) -> None:
    """Refuse (``Refused``) a directory this run will write into by path, or the nearest existing one
    above it, that another user can redirect: itself, a link or any directory on the way (see
    ``Directory`` and ``_walk``'s strict walk)."""
    path = os.path.abspath(path)
    while True:
        directory = Directory.open(path, strict=True)
        if directory is not None:
            directory.close()
            return
        parent = os.path.dirname(path.rstrip('/'))
        if not parent or parent == path:
            return
        path = parent


class LockTimeout(Exception):
    pass


class Lock:
    """An exclusive flock(2) on ``DIRECTORY/lock``: one netops.tcp run at a time on a host.

    The kernel drops the lock when its holder dies, so a crash never leaves a stale lock. The
    holder writes its pid and start time into the file for the message a waiting run gives.
    ``shared`` (check mode) takes a shared lock only when the file exists and writes nothing.
    """

    def __init__(self, directory: str, timeout: float, shared: bool = False, started: str | None = None) -> None:
        self.directory = directory
        self.path = os.path.join(directory, LOCK_NAME)
        self.timeout = timeout
        self.shared = shared
        self.started = started or datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
        self.fd: int | None = None
        self.created: list[str] = []

    def acquire(self) -> Lock:
        deadline = time.time() + self.timeout
        while True:
            fd = self._open()
            if fd is None:
                return self
            try:
                fcntl.flock(fd, (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
            except OSError as exc:
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
                self._write_holder(fd)
            checkpoint('locked %s' % self.path)
            return self

    def _open(self) -> int | None:
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

    def _write_holder(self, fd: int) -> None:
        data = json.dumps({'pid': os.getpid(), 'started': self.started}).encode()
        try:
            os.pwrite(fd, data, 0)
            os.ftruncate(fd, len(data))
        except OSError:
            pass  # a full disk: the lock holds all the same, only the holder goes unnamed

    def holder(self) -> str:
        try:
            with open(self.path) as handle:
                info = json.load(handle)
            return 'pid %d, started %s' % (info['pid'], info['started'])
        except (OSError, ValueError, KeyError, TypeError):
            return 'holder unknown'

    def _busy_message(self) -> str:
        return ('another netops.tcp run holds the lock %s (%s); waited %s s and changed nothing. '
                'Run again when it has finished, or raise lock_timeout' % (self.path, self.holder(), self.timeout))

    def release(self, remove_file: bool = False, remove_dir: bool = False) -> None:
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
