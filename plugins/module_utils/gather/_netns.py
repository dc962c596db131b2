# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: the other network namespaces of a host, found, named and entered.

A namespace is found through the processes in it (``/proc/<pid>/ns/net``) and the names
``ip netns`` and podman bind-mount under ``/run/netns``; two paths with the same nsfs inode are
one namespace. It is entered by a helper thread only: setns(2) moves the calling thread, so the
module's own thread, and what it reads, stays where it is. Sockets opened in the thread (the
sock_diag dump) and files it opens under /proc/thread-self/net and /proc/sys belong to the
namespace entered.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import re
import socket
import stat
import struct
import threading
import time
import typing as t

from ansible_collections.netops.tcp.plugins.module_utils.common import _text as text
from ansible_collections.netops.tcp.plugins.module_utils.gather import _procfs as procfs
from ansible_collections.netops.tcp.plugins.module_utils.gather import _runtimes as runtimes
from ansible_collections.netops.tcp.plugins.module_utils.gather._census import Census, GatherError

CLONE_NEWNET = 0x40000000  # <linux/sched.h>
RUN_NETNS = '/run/netns'  # where ip-netns(8) and podman bind-mount named namespaces
# The per-thread view of /proc/net (Linux 3.17+): /proc/net is the thread group leader's.
THREAD_NET = '/proc/thread-self/net'
OWNER_PIDS = 16  # member processes whose cgroup is read to name a namespace's owner


# getsockopt(SO_NETNS_COOKIE) (asm-generic/socket.h; Linux 5.14, commit e8b9eab99232): a namespace's number
# for the boot, never given to another. Its nsfs inode is given again once it is freed, so on its own
# it cannot tell a container from the one started after it.
SO_NETNS_COOKIE = 71


class NamespaceError(Exception):
    pass


def cookie() -> int | None:
    """The cookie of the calling thread's network namespace, or None before Linux 5.14."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            return int(struct.unpack('=Q', sock.getsockopt(socket.SOL_SOCKET, SO_NETNS_COOKIE, 8))[0])
    except (OSError, struct.error):
        return None


def fresh_threads(release: str | None = None) -> bool:
    """Whether each namespace needs a thread of its own: before Linux 5.2 a thread's /proc/<tid>/net could
    keep showing the namespace it was in before a setns(2) (fixed by commit 1fde6f21d90f, "proc: fix
    /proc/net/* after setns(2)")."""
    found = re.match(r'(\d+)\.(\d+)', release or os.uname().release)
    return not found or (int(found.group(1)), int(found.group(2))) < (5, 2)


class Namespace:
    """One network namespace other than the module's: its nsfs inode, the processes in it, its
    /run/netns names, and a path that opens it."""

    def __init__(self, dev: int, inode: int) -> None:
        self.dev = dev
        self.inode = inode
        self.pids: list[int] = []
        self.names: list[str] = []  # /run/netns/<name>

    @property
    def ident(self) -> str:
        return 'net:[%d]' % self.inode

    def paths(self, proc_path: str = '/proc', run_netns: str = RUN_NETNS) -> list[str]:
        """Paths that open it: its names first (they outlive any process), then its processes'."""
        return ([os.path.join(run_netns, name) for name in self.names]
                + ['%s/%d/ns/net' % (proc_path, pid) for pid in self.pids[:OWNER_PIDS]])


def discover(proc_path: str = '/proc', run_netns: str = RUN_NETNS) -> tuple[list[Namespace], int]:
    """(every network namespace but this process's, sorted by inode; processes whose namespace could
    not be read). Processes in this process's namespace are not listed."""
    own = procfs.namespace_of(proc_path)
    if own is None:
        raise NamespaceError('cannot read %s/self/ns/net: is procfs mounted there?' % proc_path)
    found: dict[tuple[int, int], Namespace] = {}
    unreadable = 0
    try:
        pids = sorted(int(p) for p in os.listdir(proc_path) if p.isdigit())
    except OSError as exc:
        raise NamespaceError('cannot list %s: %s' % (proc_path, exc))
    for pid in pids:
        try:
            st = os.stat('%s/%d/ns/net' % (proc_path, pid))
        except OSError as exc:
            if exc.errno not in (errno.ENOENT, errno.ESRCH):  # gone meanwhile, or a zombie
                unreadable += 1
            continue
        key = (st.st_dev, st.st_ino)
        if key != own:
            found.setdefault(key, Namespace(*key)).pids.append(pid)
    try:
        names = sorted(os.listdir(run_netns))
    except OSError:
        names = []
    for name in names:
        try:
            st = os.stat(os.path.join(run_netns, name))
        except OSError:
            continue
        # A name whose mount is gone is an empty file of the tmpfs: not on nsfs, so not a namespace.
        if st.st_dev != own[0]:
            continue
        key = (st.st_dev, st.st_ino)
        if key != own:
            found.setdefault(key, Namespace(*key)).names.append(name)
    return sorted(found.values(), key=lambda ns: ns.inode), unreadable


_libc: t.Any = None


def setns(fd: int) -> None:
    """setns(2) of the calling thread into the network namespace ``fd`` (os.setns is Python 3.12+)."""
    if hasattr(os, 'setns'):
        os.setns(fd, CLONE_NEWNET)  # pylint: disable=no-member
        return
    global _libc  # pylint: disable=global-statement
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def _open(ns: Namespace, proc_path: str, run_netns: str) -> int:
    """A descriptor of the namespace, checked to be the one found (a pid may be reused meanwhile)."""
    last: OSError | None = None
    for path in ns.paths(proc_path, run_netns):
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, 'O_CLOEXEC', 0))
        except OSError as exc:
            last = exc
            continue
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) == (ns.dev, ns.inode):
            return fd
        os.close(fd)
    if last is not None and last.errno in (errno.EACCES, errno.EPERM):
        raise NamespaceError('cannot open it: %s (run as root)' % os.strerror(last.errno))
    raise NamespaceError('it is gone: no process or name holds it any more')


T = t.TypeVar('T')


def enter(ns: Namespace, proc_path: str = '/proc', run_netns: str = RUN_NETNS) -> None:
    """Move the calling thread (never the module's own: see in_thread) into ``ns``; NamespaceError
    when it cannot, the thread then left where it was."""
    fd = _open(ns, proc_path, run_netns)
    try:
        setns(fd)
    except OSError as exc:
        raise NamespaceError('cannot enter it: %s%s' % (
            os.strerror(exc.errno or 0), ' (needs CAP_SYS_ADMIN: run as root)' if exc.errno == errno.EPERM else ''))
    finally:
        os.close(fd)


def in_thread(work: t.Callable[[], T]) -> T:
    """``work()`` run in a helper thread, so that what it enters is left with the thread; its result, or
    its exception raised here."""
    outcome: dict[str, t.Any] = {}

    def run() -> None:
        try:
            outcome['value'] = work()
        except BaseException as exc:  # pylint: disable=broad-except
            outcome['error'] = exc

    thread = threading.Thread(target=run, name='netops-tcp-netns')
    thread.daemon = True
    thread.start()
    thread.join()
    if 'error' in outcome:
        raise outcome['error']
    return outcome['value']


def run_in(ns: Namespace, work: t.Callable[[], T], proc_path: str = '/proc', run_netns: str = RUN_NETNS) -> T:
    """``work()`` run in a helper thread that entered ``ns``; its result, or its exception raised here.
    NamespaceError when the namespace cannot be entered."""
    def enter_and_work() -> T:
        enter(ns, proc_path, run_netns)
        return work()
    return in_thread(enter_and_work)


def owner(ns: Namespace, proc_path: str = '/proc', state: runtimes.State | None = None) -> dict[str, t.Any]:
    """Who the namespace belongs to: the Kubernetes pod, the container, the systemd unit of its
    processes, its ``ip netns`` name, else its first process. ``label`` says it in a few words."""
    state = state or runtimes.State()
    found: dict[str, t.Any] = {'kind': 'process', 'runtime': None, 'container_ids': [],
                               'containers': [], 'pod': None, 'pod_uid': None, 'unit': None,
                               'netns': ns.names[0] if ns.names else None, 'pid': ns.pids[0] if ns.pids else None}
    containers: list[str] = []  # their names, the pod's sandbox (pause) left out
    for pid in ns.pids[:OWNER_PIDS]:
        cgroup = procfs.cgroup_path(procfs.read_text('%s/%d/cgroup' % (proc_path, pid)))
        where = procfs.belongs_to(cgroup)
        found['unit'] = found['unit'] or where['unit']
        found['pod_uid'] = found['pod_uid'] or where['pod']
        container = procfs.container_of(cgroup)
        if container:
            info = state.container(*container)
            found['runtime'] = found['runtime'] or info['runtime']
            if container[1][:12] not in found['container_ids']:
                found['container_ids'].append(container[1][:12])  # as podman ps and docker ps show them
            found['pod'] = found['pod'] or info.get('pod')
            found['pod_uid'] = found['pod_uid'] or info.get('pod_uid')
            if info.get('name') and info['name'] not in containers and not info.get('sandbox'):
                containers.append(info['name'])
    found['containers'] = containers[:OWNER_PIDS]
    if found['pod_uid'] and not found['pod']:
        found['pod'] = state.pod_name(found['pod_uid'])
    if found['pod'] or found['pod_uid']:
        found['kind'] = 'pod'
        found['label'] = 'pod %s' % (found['pod'] or found['pod_uid'])
    elif found['container_ids']:
        found['kind'] = 'container'
        found['label'] = '%s container %s' % (found['runtime'], ', '.join(containers[:2]) or found['container_ids'][0])
    elif found['unit'] and ns.pids:
        found['kind'] = 'unit'
        found['label'] = 'unit %s' % found['unit']
    elif found['netns']:
        found['kind'] = 'netns'
        found['label'] = 'netns %s' % found['netns']
    else:
        comm = (procfs.read_text('%s/%d/comm' % (proc_path, ns.pids[0])) or '?').strip() if ns.pids else '?'
        found['label'] = 'pid %s (%s)' % (found['pid'], comm)
    # Any local user can name a process, and root a unit or a netns: shown, never acted on by a terminal.
    found['label'] = text.visible(found['label'])
    return found


def resolve(selector: str) -> str:
    """A path selector as the id of the namespace it opens (stat once, not once a namespace), or as
    a name nothing matches; other selectors as they are."""
    if not selector.startswith('/'):
        return selector
    try:
        st = os.stat(selector)
    except OSError:
        return '/'
    return 'net:[%d]' % st.st_ino if stat.S_ISREG(st.st_mode) and st.st_dev == _nsfs_dev() else '/'


def _nsfs_dev() -> int | None:
    own = procfs.namespace_of('/proc')
    return own[0] if own else None


def matches(selector: str, ns: Namespace, who: dict[str, t.Any]) -> bool:
    """Whether a ``namespaces`` entry names ``ns``: its id (net:[inode]) or inode, a pid in it, a path
    that opens it, its ip netns name, its container's name or id (12 hex digits or more), its pod
    (namespace/name, name or uid) or its systemd unit."""
    if selector in (ns.ident, str(ns.inode)) or (selector.isdigit() and int(selector) in ns.pids):
        return True
    if selector.startswith('/'):
        return False  # resolved to its id first (``resolve``)
    if selector in ns.names or selector in (who.get('unit'), who.get('pod_uid'), who.get('pod')):
        return True
    pod = who.get('pod') or ''
    if pod and selector == pod.split('/', 1)[-1]:
        return True
    if selector in (who.get('containers') or ()):
        return True
    return len(selector) >= 12 and any(selector.startswith(ident) or ident.startswith(selector)
                                       for ident in who.get('container_ids') or ())


# What a namespace's census leaves out: host-wide figures (sockstat's orphan, alloc and mem count
# every namespace), conntrack (its count is the namespace's but its limit the host's, which the host's
# facts judge) and IPVS (a director is a host), the host's gathering stamps, and the split by family
# (kept small: 200 namespaces go into one host's facts).
_HOST_WIDE_SOCKSTAT = ('orphan', 'alloc', 'mem', 'mem_bytes')
NAMESPACE_SUBSETS = ('states', 'listeners', 'counters', 'sockstat', 'ephemeral_ports', 'processes')


# {key: value} of the settings a namespace has its own copy of, read in the calling thread's namespace
# (gather/_sysctl.namespace_settings, which audit_facts ships; tcp_facts stays without the catalog).
Settings = t.Callable[[], t.Dict[str, t.Any]]


def check_selector(selector: object, option: str = 'namespaces') -> str:
    """``selector`` when it can name a namespace (see ``matches``); NamespaceError saying why not."""
    if not isinstance(selector, str) or not selector.strip() or selector != selector.strip() or '\n' in selector:
        raise NamespaceError('%s: %r is not a name: give %s by id (net:[inode]), pid, path, ip netns name, container '
                             'name or id, pod or systemd unit' % (option, selector, 'all, or namespaces'
                                                                  if option == 'namespaces' else 'a namespace'))
    return selector


def find(selector: str, proc_path: str = '/proc', run_netns: str = RUN_NETNS,
         state: runtimes.State | None = None) -> tuple[Namespace, dict[str, t.Any]]:
    """(the one namespace ``selector`` names, its owner); NamespaceError when it names none or several."""
    check_selector(selector, 'namespace')
    state = state or runtimes.State()
    found = [(ns, owner(ns, proc_path, state)) for ns in discover(proc_path, run_netns)[0]]
    hits = [(ns, who) for ns, who in found if matches(resolve(selector), ns, who)]
    if not hits:
        raise NamespaceError('namespace: %r names no network namespace on this host (other than the module\'s own)'
                             % selector)
    if len(hits) > 1:
        raise NamespaceError('namespace: %r names %d network namespaces (%s): give one by its id'
                             % (selector, len(hits), ', '.join('%s %s' % (who['label'], ns.ident) for ns, who in hits)))
    return hits[0]


class Gathering:
    """The census of the namespaces ``selectors`` name ('all', or see ``matches``), each in a thread
    that entered it, with the census options of the host's (subsets, ports, top, process budget) and,
    given ``settings``, the namespace's settings that differ from this namespace's."""

    def __init__(self, selectors: t.Sequence[str], subsets: t.Iterable[str], ports: t.Iterable[int] | None = None,
                 top: int = 10, process_budget: float = 5.0, cmdline: bool = False, proc_path: str = '/proc',
                 run_netns: str = RUN_NETNS, state: runtimes.State | None = None, settings: Settings | None = None) -> None:
        if (proc_path.rstrip('/') or '/') != '/proc':
            raise NamespaceError('namespaces: the census of other network namespaces enters those of this host\'s '
                                 'processes; it needs proc_path=/proc, not %s' % proc_path)
        self.selectors = [check_selector(selector) for selector in selectors]
        self.subsets = set(subsets) & set(NAMESPACE_SUBSETS) | {'states'}
        self.ports, self.top, self.process_budget, self.cmdline = ports, top, process_budget, cmdline
        self.proc, self.run_netns = '/proc', run_netns
        self.state = state or runtimes.State()
        self.settings = settings
        self.warnings: list[str] = []
        self.deadline, self.unwalked = 0.0, 0  # set by gather

    def chosen(self) -> tuple[list[tuple[Namespace, dict[str, t.Any]]], int]:
        """([(namespace, owner)] the selectors name, sorted by inode; how many were found in all)."""
        found, unreadable = discover(self.proc, self.run_netns)
        if unreadable:
            self.warnings.append('namespaces: the network namespace of %d processes could not be read%s'
                                 % (unreadable, '' if os.geteuid() == 0 else ' (run as root to see them all)'))
        named = [(ns, owner(ns, self.proc, self.state)) for ns in found]
        if 'all' in self.selectors:
            return named, len(found)
        chosen = []
        for selector in self.selectors:
            hits = [item for item in named if matches(resolve(selector), *item)]
            if not hits:
                self.warnings.append('namespaces: no network namespace on this host matches %r' % selector)
            chosen += [item for item in hits if item not in chosen]
        return sorted(chosen, key=lambda item: item[0].inode), len(found)

    def gather(self) -> dict[str, t.Any]:
        """``ansible_facts.tcp.namespaces``: {requested, found, items}, each item a namespace's census with
        its id, owner and member processes and, given ``settings``, the settings whose value differs from
        this namespace's (``sysctls``); a namespace that cannot be read has ``error`` instead."""
        here = self.settings() if self.settings else None
        chosen, total = self.chosen()
        # process_budget holds for the walks of every namespace together, as for the host's one walk.
        self.deadline = time.monotonic() + self.process_budget
        self.unwalked = 0
        # One helper thread goes from namespace to namespace (setns from one to the next): a thread each
        # would cost as much again as the census of an idle namespace. Older kernels need one each.
        if fresh_threads():
            items = [in_thread(functools.partial(self._item, ns, who, here)) for ns, who in chosen]
        else:
            items = in_thread(lambda: [self._item(ns, who, here) for ns, who in chosen])
        if self.unwalked:
            self.warnings.append('namespaces: processes: the %s s budget ran out; the processes of %d namespaces '
                                 'were not read (process_budget)' % (self.process_budget, self.unwalked))
        result: dict[str, t.Any] = {'requested': self.selectors, 'found': total, 'items': items}
        if here is not None:
            result['keys'] = sorted(here)  # the settings compared: those this namespace has its own copy of
        return result

    def _item(self, ns: Namespace, who: dict[str, t.Any], here: dict[str, t.Any] | None) -> dict[str, t.Any]:
        """One namespace's item, gathered by the helper thread after it entered it."""
        item: dict[str, t.Any] = {'id': ns.ident, 'inode': ns.inode, 'cookie': None, 'owner': who,
                                  'members': len(ns.pids)}
        try:
            enter(ns, self.proc, self.run_netns)
            item['cookie'] = cookie()
            facts, warnings = self._census(ns)
        except Exception as exc:  # pylint: disable=broad-except
            # Whatever one namespace meets (gone, refused, a dump the kernel cut short, a file of another
            # shape), the others are still counted.
            known = isinstance(exc, (NamespaceError, GatherError, OSError))
            item['error'] = str(exc) if known else '%s: %s' % (type(exc).__name__, exc)
            self.warnings.append('namespaces: %s (%s) not gathered: %s' % (ns.ident, who['label'], item['error']))
            return item
        if here is not None:
            facts['sysctls'] = dict((k, v) for k, v in facts['sysctls'].items()
                                    if k not in here or v != here[k])  # typed: parsed the same way
        item.update(facts)
        self.warnings.extend('namespaces: %s (%s): %s' % (ns.ident, who['label'], w) for w in warnings)
        return item

    def _census(self, ns: Namespace) -> tuple[dict[str, t.Any], list[str]]:
        """The census of the namespace the calling thread entered."""
        subsets, left = self.subsets, self.deadline - time.monotonic()
        if 'processes' in subsets and left <= 0:
            subsets, self.unwalked = subsets - {'processes'}, self.unwalked + 1
        census = Census(self.proc, 'auto', subsets, self.ports, self.top, left, self.cmdline,
                        net_path=THREAD_NET, members=ns.pids, netns=(ns.dev, ns.inode))
        facts = census.gather()
        for stamp in ('gather_subset', 'gathered_at', 'states_by_family'):
            facts.pop(stamp, None)
        for table in (facts.get('sockstat') or {}).values():
            for name in _HOST_WIDE_SOCKSTAT:
                table.pop(name, None)
        if self.settings:
            facts['sysctls'] = self.settings()
        return facts, census.warnings
