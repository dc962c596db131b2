# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: parsers for /proc/net files.

Every parser takes text (or lines) and returns what it could read plus a list of
problems: malformed or truncated content gives partial results and a sentence per
problem, never an exception.
"""

from __future__ import annotations

import bisect
import errno
import os
import re
import socket
import struct
import time
import typing as t
from array import array

from ansible_collections.netops.tcp.plugins.module_utils.common import _files as files

_U32 = struct.Struct('=I')


def read_text(path: str) -> str | None:
    """A /proc file's text, or None when it does not exist or cannot be read. No size bound: the
    kernel's files grow with what they list (/proc/net/tcp, ip_vs_conn)."""
    return files.read_text(path, errors='replace', quiet=True, limit=None)


def _raw_address(text: str) -> bytes:
    """Raw network-order bytes of a /proc/net/tcp address field (hex of native u32 words)."""
    if len(text) == 8:
        return _U32.pack(int(text, 16)) + b'\0' * 12
    if len(text) == 32:
        return b''.join(_U32.pack(int(text[i:i + 8], 16)) for i in range(0, 32, 8))
    raise ValueError('address of %d hex digits' % len(text))


def tcp_rows(text: str, family: int, visit: t.Callable[..., object], name: str) -> list[str]:
    """Call ``visit`` for each socket row of /proc/net/tcp or tcp6, like inet_diag's Decoder.

    ``visit(family, state, sport, dport, src, dst, rqueue, wqueue, uid, inode)``; ``wqueue``
    is None for LISTEN rows (procfs does not show the backlog). Returns the problems found.
    """
    problems: list[str] = []
    bad = 0
    first_bad = None
    lines = text.split('\n')
    for number, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        try:
            fields = line.split()
            local, remote, state, queues = fields[1], fields[2], int(fields[3], 16), fields[4]
            uid, inode = int(fields[7]), int(fields[9])
            src, sport = local.split(':')
            dst, dport = remote.split(':')
            tx, rx = queues.split(':')
            rqueue = int(rx, 16)
            wqueue = None if state == 10 else int(tx, 16)
            row = (family, state, int(sport, 16), int(dport, 16), _raw_address(src), _raw_address(dst),
                   rqueue, wqueue, uid, inode)
            if not 1 <= state <= 11:
                raise ValueError('state %d' % state)
        except (IndexError, ValueError) as exc:
            bad += 1
            if first_bad is None:
                first_bad = 'line %d (%s)' % (number, exc)
            continue
        visit(*row)
    if bad:
        problems.append('%s: skipped %d malformed line(s), first at %s' % (name, bad, first_bad))
    if lines and lines[0] and not lines[0].lstrip().startswith('sl'):
        problems.append('%s: unexpected header %r' % (name, lines[0][:60]))
    return problems


def paired_counters(text: str, name: str) -> tuple[dict[str, dict[str, int]], list[str]]:
    """Parse /proc/net/netstat or /proc/net/snmp: 'Prefix: names' lines followed by 'Prefix: values'."""
    result: dict[str, dict[str, int]] = {}
    problems: list[str] = []
    lines = [line for line in text.split('\n') if line.strip()]
    i = 0
    while i < len(lines):
        head = lines[i].split()
        if i + 1 >= len(lines):
            problems.append('%s: %s has no line of values (truncated?)' % (name, head[0] if head else 'a header'))
            break
        values = lines[i + 1].split()
        if not head or not values or head[0] != values[0] or not head[0].endswith(':'):
            problems.append('%s: line %d does not pair with the next one; skipped' % (name, i + 1))
            i += 1
            continue
        prefix = head[0][:-1]
        table = result.setdefault(prefix, {})
        if len(head) != len(values):
            problems.append('%s: %s has %d names but %d values; kept the pairs that line up'
                            % (name, prefix, len(head) - 1, len(values) - 1))
        for key, value in zip(head[1:], values[1:]):
            try:
                table[key] = int(value)
            except ValueError:
                problems.append('%s: %s %s is not a number: %r' % (name, prefix, key, value))
        i += 2
    return result, problems


def sockstat(text: str, name: str) -> tuple[dict[str, dict[str, int]], list[str]]:
    """Parse /proc/net/sockstat or sockstat6: 'TCP: inuse 5 orphan 0 tw 3 alloc 9 mem 1' lines."""
    result: dict[str, dict[str, int]] = {}
    problems: list[str] = []
    for line in text.split('\n'):
        if not line.strip():
            continue
        label, sep, rest = line.partition(':')
        fields = rest.split()
        if not sep or len(fields) % 2:
            problems.append('%s: cannot read %r' % (name, line[:60]))
            continue
        table = result.setdefault(label.strip(), {})
        for key, value in zip(fields[0::2], fields[1::2]):
            try:
                table[key] = int(value)
            except ValueError:
                problems.append('%s: %s %s is not a number: %r' % (name, label.strip(), key, value))
    return result, problems


IPVS_STATES = ('NONE', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT', 'TIME_WAIT', 'CLOSE',
               'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'SYNACK')


def ipvs_connections(text: str, name: str = 'ip_vs_conn', top: int = 10) -> tuple[dict[str, t.Any], list[str]]:
    """The ``ipvsadm -Lnc`` census from /proc/net/ip_vs_conn: TCP connections by state and by real server."""
    states = dict((s, 0) for s in IPVS_STATES)
    servers: dict[str, int] = {}
    problems: list[str] = []
    bad = 0
    total = 0
    for line in text.split('\n')[1:]:
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 8:
            bad += 1
            continue
        if fields[0] != 'TCP':
            continue
        state = fields[7]
        if state not in states:
            bad += 1
            continue
        states[state] += 1
        total += 1
        try:
            server = '%s:%d' % (_ipvs_address(fields[5]), int(fields[6], 16))
        except ValueError:
            bad += 1
            continue
        servers[server] = servers.get(server, 0) + 1
    if bad:
        problems.append('%s: skipped %d malformed line(s)' % (name, bad))
    busiest = sorted(servers.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return {
        'total': total,
        'states': states,
        'real_servers': [{'server': s, 'connections': n} for s, n in busiest],
    }, problems


def _ipvs_address(text: str) -> str:
    if len(text) == 8:
        return socket.inet_ntop(socket.AF_INET, struct.pack('>I', int(text, 16)))
    return text.strip('[]')


class SocketStates:
    """The state of each socket that processes may hold, looked up by inode: 8 bytes a socket.

    Filled during the socket walk (``add``), then sorted in pieces of CHUNK (``freeze``), so
    the sorting never holds more than one piece as Python objects; a lookup bisects each piece.
    """

    CHUNK = 1 << 16

    def __init__(self) -> None:
        self.keys = array('Q')  # inode << 4 | state
        self.pieces: list[array[int]] = []

    def add(self, inode: int, state: int) -> None:
        if inode:  # TIME_WAIT, SYN_RECV and orphans have none: nobody holds them
            self.keys.append(inode << 4 | state)

    def freeze(self) -> SocketStates:
        keys, self.keys = self.keys, array('Q')
        for start in range(0, len(keys), self.CHUNK):
            self.pieces.append(array('Q', sorted(keys[start:start + self.CHUNK])))
        del keys
        return self

    def __len__(self) -> int:
        return sum(len(piece) for piece in self.pieces)

    def state(self, inode: int) -> int:
        """The socket's state number, or 0 when it is not in the table."""
        low = inode << 4
        for piece in self.pieces:
            i = bisect.bisect_left(piece, low)
            if i < len(piece) and piece[i] >> 4 == inode:
                return piece[i] & 15
        return 0

    def counts(self) -> dict[int, int]:
        """{state number: sockets} in the table."""
        found: dict[int, int] = {}
        for piece in self.pieces:
            for key in piece:
                found[key & 15] = found.get(key & 15, 0) + 1
        return found


class ProcessWalk:
    """Who holds the sockets of a ``SocketStates``: each process's /proc/<pid>/fd links, read
    through the directory's descriptor, within ``budget`` seconds.

    Keeps, per process, a count per state, so memory grows with the processes that hold sockets,
    not with the sockets. ``stopped`` says how far it got when the budget ran out; ``unreadable``
    counts the processes whose descriptors could not be read (another user's, without root).
    """

    def __init__(self, proc_path: str, sockets: SocketStates, budget: float, netns: tuple[int, int] | None = None,
                 pids: t.Sequence[int] | None = None) -> None:
        self.proc = proc_path
        self.pids = pids  # the processes to read (a namespace's members), or None for every one
        self.sockets = sockets
        self.budget = budget
        self.netns = netns  # (st_dev, st_ino) of the network namespace dumped: others' processes are skipped
        self.held: dict[int, list[int]] = {}  # pid: [sockets per state number]
        self.processes = self.read = self.descriptors = self.unreadable = 0
        self.stopped: str | None = None

    def run(self, clock: t.Callable[[], float] = time.monotonic) -> ProcessWalk:
        deadline = clock() + self.budget
        try:
            pids = list(self.pids) if self.pids is not None else [int(p) for p in os.listdir(self.proc) if p.isdigit()]
        except OSError:
            return self
        self.processes = len(pids)
        for pid in pids:
            if clock() > deadline:
                break
            if not self._process(pid, deadline, clock):
                break
            self.read += 1
        if self.read < self.processes:
            self.stopped = ('stopped after the %s s budget: read the descriptors of %d of %d processes (%d '
                            'descriptors); the counts are partial'
                            % (self.budget, self.read, self.processes, self.descriptors))
        return self

    def _process(self, pid: int, deadline: float, clock: t.Callable[[], float]) -> bool:
        """Count one process's sockets; False when the budget ran out in it."""
        if self.netns and namespace_of(self.proc, pid) not in (self.netns, None):
            return True  # its sockets are another namespace's (a container's): none of them is in the dump
        try:
            dir_fd = os.open('%s/%d/fd' % (self.proc, pid), os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            if exc.errno != errno.ENOENT:  # gone meanwhile: nothing to count
                self.unreadable += 1
            return True
        try:
            try:
                names = os.listdir(dir_fd)
            except OSError as exc:
                if exc.errno == errno.ENOENT:  # it exited between the open and the listing
                    return True
                raise
            counts: list[int] | None = None
            for number, name in enumerate(names):
                if not number & 1023 and number and clock() > deadline:
                    self.descriptors += number
                    return False
                try:
                    target = os.readlink(name, dir_fd=dir_fd)
                except OSError:
                    continue
                if target.startswith('socket:['):
                    state = self.sockets.state(int(target[8:-1]))
                    if state:
                        counts = counts or [0] * 16
                        counts[state] += 1
            self.descriptors += len(names)
        except OSError:
            self.unreadable += 1
            return True
        finally:
            os.close(dir_fd)
        if counts:
            self.held[pid] = counts
        return True

    def top(self, state: int, count: int) -> list[tuple[int, int]]:
        """[(pid, sockets)] of the ``count`` processes holding most sockets in ``state``."""
        holders = [(pid, counts[state]) for pid, counts in self.held.items() if counts[state]]
        return sorted(holders, key=lambda item: (-item[1], item[0]))[:count]

    def attributed(self) -> dict[int, int]:
        """{state number: sockets} the walk found a holder for."""
        total: dict[int, int] = {}
        for counts in self.held.values():
            for state, n in enumerate(counts):
                if n:
                    total[state] = total.get(state, 0) + n
        return total


def namespace_of(proc_path: str, pid: int | str = 'self', kind: str = 'net') -> tuple[int, int] | None:
    """(st_dev, st_ino) of a process's namespace, or None when it cannot be told."""
    try:
        st = os.stat('%s/%s/ns/%s' % (proc_path, pid, kind))
    except OSError:
        return None
    return st.st_dev, st.st_ino


HIDEPID = {'0': None, 'off': None, '1': 'noaccess', 'noaccess': 'noaccess', '2': 'invisible', 'invisible': 'invisible',
           '4': 'ptraceable', 'ptraceable': 'ptraceable'}


def hidepid(mountinfo: str | None, mount_point: str) -> str | None:
    """The ``hidepid`` of the procfs mounted at ``mount_point`` (noaccess, invisible, ptraceable),
    from /proc/self/mountinfo's text; None when it hides nothing or is not found."""
    found = None
    for line in (mountinfo or '').splitlines():
        fields = line.split(' ')
        if len(fields) < 5 or ' - ' not in line:
            continue
        point = fields[4].replace('\\040', ' ')
        fstype, _source, options = (line.split(' - ', 1)[1].split(' ') + ['', '', ''])[:3]
        if point == mount_point and fstype == 'proc':
            found = None  # the last mount on a point is the one seen
            for option in options.split(','):
                if option.startswith('hidepid='):
                    found = HIDEPID.get(option[8:], option[8:])
    return found


# Systemd names the cgroup of a container "<runtime>-<64 hex>.scope"; cgroupfs drivers use a
# directory of the runtime's name with the id beneath it.
_CONTAINER = re.compile(r'(?:^|/)(?:(libpod|docker|cri-containerd|crio)-([0-9a-f]{64})\.scope'
                        r'|(libpod|docker|crio)[-/]([0-9a-f]{64})$)')
_RUNTIMES = {'libpod': 'podman', 'docker': 'docker', 'cri-containerd': 'containerd', 'crio': 'cri-o'}
_POD = re.compile(r'kubepods.*?pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})')
_UNIT = re.compile(r'[^/]+\.(?:service|scope|socket|mount|swap|slice)$')


def cgroup_path(text: str | None) -> str | None:
    """The process's cgroup: the unified hierarchy's path (``0::``), else systemd's v1 one."""
    v1 = None
    for line in (text or '').splitlines():
        parts = line.split(':', 2)
        if len(parts) != 3:
            continue
        if parts[0] == '0' and parts[1] == '' and parts[2] not in ('', '/'):
            return parts[2]
        if parts[1] == 'name=systemd':
            v1 = parts[2]
    return v1


def belongs_to(cgroup: str | None) -> dict[str, str | None]:
    """{'unit', 'container', 'pod'} named by a cgroup path, each None when it names none: the
    systemd unit (the innermost ``*.service``/``*.scope``...), the container as
    ``runtime:id`` (12 hex digits, as ``podman ps`` shows it), the Kubernetes pod's uid."""
    cgroup = (cgroup or '').rstrip('/')
    # A container's own processes may sit in a sub-group of its scope (podman's "/container").
    parts = [part for part in cgroup.split('/') if part]
    unit = next((part for part in reversed(parts) if _UNIT.match(part) and not part.endswith('.slice')), None)
    found = container_of(cgroup)
    pod = _POD.search(cgroup)
    return {'unit': unit, 'container': '%s:%s' % (found[0], found[1][:12]) if found else None,
            'pod': pod.group(1).replace('_', '-') if pod else None}


def container_of(cgroup: str | None) -> tuple[str, str] | None:
    """(runtime, the container's 64-hex id) a cgroup path names, innermost first, or None."""
    parts = [part for part in (cgroup or '').split('/') if part]
    for index in range(len(parts), 0, -1):
        match = _CONTAINER.search('/'.join(parts[:index]))
        if match:
            runtime, ident = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
            return _RUNTIMES[runtime], ident
    return None


_SECRET = re.compile(r'pass(?:word|wd|phrase)?|pwd|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|'
                     r'credential|auth|session|cookie|signature|bearer|jwt|dsn|(?:^|[-_.])key(?:$|[-_])', re.I)
# Flags whose next argument is a credential in common tools: curl -u/--user and -H (headers carry
# tokens), redis-cli -a, sshpass and mysql -p.
_SECRET_FLAGS = frozenset(['-u', '--user', '-a', '-p', '-H', '--header', '--proxy-user'])
# A URL's password runs to the last "@" before the host: it may hold "/" or "@" itself.
_USERINFO = re.compile(r'(://[^/\s:@]*):[^\s]*@')
_SCHEME_TOKEN = re.compile(r'(?i)\b(bearer|basic|token)(\s+|=)\S+')
REDACTED = '<redacted>'


def _redact_pairs(text: str) -> str:
    """``name=value`` pairs in a ;/,-separated text (connection strings, --set=a.password=x): the value
    of each pair whose name looks like a secret, the name taken up to the last "=" of the pair."""
    parts = re.split(r'([;,])', text)
    for index, part in enumerate(parts):
        name, sep, _value = part.rpartition('=')
        if sep and _SECRET.search(name.lstrip('-').split('=')[-1]):
            parts[index] = name + '=' + REDACTED
    return ''.join(parts)


def redact_cmdline(argv: t.Iterable[str]) -> list[str]:
    """A command line (its arguments) with the values that look like secrets replaced: after ``=``
    when the name before it says password, token, secret, key, auth...; the argument after such a
    flag or after -u, --user, -a, -p, -H; a URL's password; a Bearer or Basic token. It cannot know
    every secret (a bare argument, ``-pSECRET``)."""
    out = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        arg = _SCHEME_TOKEN.sub(r'\1\2%s' % REDACTED, _USERINFO.sub(r'\1:%s@' % REDACTED, arg))
        flag = arg.startswith('-') and '=' not in arg
        if flag and (arg in _SECRET_FLAGS or _SECRET.search(arg.lstrip('-'))):
            hide_next = True
        elif arg.split('=', 1)[0] in _SECRET_FLAGS and '=' in arg:  # -p=secret
            arg = arg.split('=', 1)[0] + '=' + REDACTED
        else:
            arg = _redact_pairs(arg)
        out.append(arg)
    return out


def process_identity(proc_path: str, pid: int, cmdline: bool = False, cmdline_length: int = 200) -> dict[str, t.Any] | None:
    """pid, name (comm), executable and the unit, container or pod the process belongs to; with
    ``cmdline`` its redacted command line too. None when the process is gone."""
    base = '%s/%d' % (proc_path, pid)
    comm = read_text(base + '/comm')
    if comm is None:
        return None
    try:
        exe = os.readlink(base + '/exe')
    except OSError:
        exe = None  # a kernel thread, or not ours to see
    info: dict[str, t.Any] = {'pid': pid, 'name': comm.rstrip('\n'), 'exe': exe}
    info.update(belongs_to(cgroup_path(read_text(base + '/cgroup'))))
    if cmdline:
        raw = read_text(base + '/cmdline') or ''
        info['cmdline'] = ' '.join(redact_cmdline(raw.rstrip('\0').split('\0')))[:cmdline_length]
    return info
