# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: the TCP census behind ``ansible_facts.tcp``.

One dump of every socket per address family (netlink, or /proc/net/tcp{,6}) feeds
the state counts and, when asked, the per-socket details. Only aggregates are
kept while walking, so memory does not grow with the number of sockets.
"""

from __future__ import annotations

import os
import socket
import struct
import sys
import threading
import time
import typing as t

from ansible_collections.netops.tcp.plugins.module_utils.gather import _inet_diag as diag
from ansible_collections.netops.tcp.plugins.module_utils.gather import _procfs as procfs

STATES = diag.TCP_STATES
FAMILIES = ((socket.AF_INET, 'ipv4', 'tcp'), (socket.AF_INET6, 'ipv6', 'tcp6'))

SUBSETS = ('states', 'listeners', 'counters', 'sockstat', 'conntrack', 'ephemeral_ports', 'processes', 'ipvs')
DEFAULT_SUBSETS = ('states', 'listeners', 'counters', 'sockstat', 'conntrack', 'ephemeral_ports')

# TcpExt / Tcp counters that diagnose trouble (names as the kernel prints them).
TCPEXT_COUNTERS = (
    'ListenOverflows', 'ListenDrops', 'SyncookiesSent', 'SyncookiesRecv', 'SyncookiesFailed',
    'TCPReqQFullDoCookies', 'TCPReqQFullDrop', 'TCPTimeWaitOverflow', 'TW', 'TWRecycled', 'TWKilled',
    'TCPAbortOnMemory', 'TCPAbortOnTimeout', 'TCPAbortOnData', 'TCPAbortOnClose', 'TCPAbortOnLinger',
    'TCPAbortFailed', 'TCPMemoryPressures', 'TCPBacklogDrop', 'TCPRcvQDrop', 'TCPSynRetrans', 'TCPTimeouts',
)
TCP_COUNTERS = (
    'CurrEstab', 'ActiveOpens', 'PassiveOpens', 'AttemptFails', 'EstabResets', 'InSegs', 'OutSegs', 'InErrs', 'OutRsts',
    'RetransSegs',
)


# Seconds the process walk may take (it reads every descriptor of every process); past it, it
# stops and says how far it got.
PROCESS_BUDGET = 5.0

# What the socket walk must collect (Census.plan): need_detail, ephemeral range, ports, inode states.
Plan = t.Tuple[bool, t.Optional[t.Tuple[int, ...]], t.Tuple[int, ...], t.Optional[t.FrozenSet[int]]]
# The socket walk's result per family: (label, a Walk or, for state counts only, a StateCounter).
PerFamily = t.List[t.Tuple[str, t.Union['Walk', diag.StateCounter]]]


class GatherError(Exception):
    pass


def parse_subsets(requested: t.Iterable[str] | None) -> set[str]:
    """The set of subsets for ``gather_subset`` values ('all', 'min', names, '!name')."""
    chosen: set[str] = set()
    excluded: set[str] = set()
    valid = set(SUBSETS) | {'all', 'min'}
    for item in requested or ['all']:
        name = item[1:] if item.startswith('!') else item
        if name not in valid:
            raise GatherError('gather_subset: unknown value %r; valid values are %s (prefix a name with ! to exclude it)'
                              % (item, ', '.join(sorted(valid))))
        names = {'all': set(DEFAULT_SUBSETS), 'min': {'states'}}.get(name, {name})
        (excluded if item.startswith('!') else chosen).update(names)
    if not chosen and excluded:
        chosen = set(DEFAULT_SUBSETS)
    return chosen - excluded


class Walk:
    """Aggregates per socket of one address family, for the subsets that need more than state counts.

    ``netlink`` walks raw inet_diag messages in place (the fast path); ``row`` takes one
    decoded /proc/net/tcp row. Both keep the same aggregates. Ephemeral-port users are
    keyed by the raw (peer port, local address, peer address) bytes: each such triple can
    use every port of the range once.
    """

    def __init__(self, family: int, ephemeral: t.Sequence[int] | None = None, ports: t.Iterable[int] | None = None,
                 inode_states: t.Collection[int] | None = None, inodes: procfs.SocketStates | None = None) -> None:
        self.family = family
        self.counts = [0] * 256
        self.syn_recv: dict[int, int] = {}
        self.ephemeral = ephemeral or (1, 0)  # an empty range when not asked for
        self.peers: dict[bytes, int] = {}
        self.peers_time_wait: dict[bytes, int] = {}  # of self.peers, those in TIME_WAIT (tcp_tw_reuse can take their ports)
        self.ephemeral_in_use = 0
        self.ports = dict((p, ([0] * 16, [0] * 16)) for p in (ports or ()))
        self.inode_states: t.Collection[int] = inode_states or ()
        # The census's SocketStates, one table for both families' walks.
        self.inodes = inodes if inodes is not None else procfs.SocketStates()
        self.listening: list[tuple[t.Any, ...]] = []  # decoded LISTEN rows (procfs only; netlink dumps LISTEN on its own, with backlogs)

    def netlink(self, buf: bytearray, words: memoryview, off: int, end: int) -> int:
        counts, syn_recv, peers, ports, tw_peers = self.counts, self.syn_recv, self.peers, self.ports, self.peers_time_wait
        inode_states, add_inode = self.inode_states, self.inodes.add
        low, high = self.ephemeral
        # Locals, not module attributes: this loop runs once per socket.
        type_mask, data_type, listen, syn_recv_state, time_wait = (diag.TYPE_MASK, diag.DATA_TYPE, diag.LISTEN,
                                                                   diag.SYN_RECV, diag.TIME_WAIT)
        state_at, sport_at, dport_at = diag.STATE_OFFSET, diag.SPORT_OFFSET, diag.DPORT_OFFSET
        key_len, inode_word = diag.ADDRESSES_END - diag.DPORT_OFFSET, diag.INODE_WORD
        view = memoryview(buf)
        in_use = 0
        try:
            while off < end:
                w = off >> 2
                if words[w + 1] & type_mask != data_type:
                    return off
                state = buf[off + state_at]
                counts[state] += 1
                sport = buf[off + sport_at] << 8 | buf[off + sport_at + 1]
                if state == syn_recv_state:
                    syn_recv[sport] = syn_recv.get(sport, 0) + 1
                if low <= sport <= high and state != listen:
                    in_use += 1
                    key = view[off + dport_at:off + dport_at + key_len].tobytes()
                    peers[key] = peers.get(key, 0) + 1
                    if state == time_wait:
                        tw_peers[key] = tw_peers.get(key, 0) + 1
                if ports:
                    dport = buf[off + dport_at] << 8 | buf[off + dport_at + 1]
                    if sport in ports:
                        ports[sport][0][state] += 1
                    if dport in ports:
                        ports[dport][1][state] += 1
                if state in inode_states:
                    add_inode(words[w + inode_word], state)
                off += ((words[w] + 3) & ~3) or end
            return end
        finally:
            self.ephemeral_in_use += in_use
            view.release()

    def row(self, family: int, state: int, sport: int, dport: int, src: bytes, dst: bytes, rqueue: int, wqueue: int | None,
            uid: int, inode: int) -> None:
        self.counts[state] += 1
        if state == diag.LISTEN:
            self.listening.append((family, state, sport, dport, src, dst, rqueue, wqueue, uid, inode))
        if state == diag.SYN_RECV:
            self.syn_recv[sport] = self.syn_recv.get(sport, 0) + 1
        if self.ephemeral[0] <= sport <= self.ephemeral[1] and state != diag.LISTEN:
            self.ephemeral_in_use += 1
            key = struct.pack('>H', dport) + src + dst
            self.peers[key] = self.peers.get(key, 0) + 1
            if state == diag.TIME_WAIT:
                self.peers_time_wait[key] = self.peers_time_wait.get(key, 0) + 1
        if self.ports:
            if sport in self.ports:
                self.ports[sport][0][state] += 1
            if dport in self.ports:
                self.ports[dport][1][state] += 1
        if state in self.inode_states:
            self.inodes.add(inode, state)


def state_dict(counts: t.Sequence[int]) -> dict[str, int]:
    return dict((name, counts[number]) for number, name in enumerate(STATES, 1))


def dump_listeners(visit: t.Callable[..., object]) -> None:
    """Every LISTEN socket of this network namespace, decoded, to ``visit`` (one netlink dump per
    family, the kernel filtering by state): the listeners fact and sysctl_tune's reservations."""
    for family, _label, _name in FAMILIES:
        diag.dump(family, 1 << diag.LISTEN, diag.Decoder(visit))


def listening_ports(proc_path: str = '/proc', net_path: str | None = None) -> set[int]:
    """The ports this network namespace listens on: a netlink LISTEN dump, or the LISTEN rows of
    /proc/net/tcp{,6} under another proc_path (or without netlink; ``net_path``: the /proc/net of
    the namespace the calling thread entered). sysctl_tune reserves them."""
    ports: set[int] = set()

    def visit(_family: int, state: int, sport: int, *_rest: object) -> None:
        if state == diag.LISTEN:
            ports.add(sport)

    proc = proc_path.rstrip('/') or '/'
    if proc == '/proc':
        try:
            dump_listeners(visit)
            return ports
        except diag.NetlinkUnavailable:
            ports.clear()
    for family, _label, name in FAMILIES:
        text = procfs.read_text(os.path.join(net_path or os.path.join(proc, 'net'), name))
        if text:
            procfs.tcp_rows(text, family, visit, name)
    return ports


class Census:
    """Gathers ``ansible_facts.tcp`` for the chosen subsets."""

    def __init__(self, proc_path: str = '/proc', backend: str = 'auto', subsets: t.Iterable[str] = DEFAULT_SUBSETS,
                 ports: t.Iterable[int] | None = None, top: int = 10, process_budget: float = PROCESS_BUDGET,
                 cmdline: bool = False, net_path: str | None = None, members: t.Sequence[int] | None = None,
                 netns: tuple[int, int] | None = None) -> None:
        self.proc = proc_path.rstrip('/') or '/'
        # Another namespace's census runs in a thread that entered it (gather/_netns.py): its net/
        # files are /proc/thread-self/net's, and only its member processes can hold its sockets.
        self.net = net_path or os.path.join(self.proc, 'net')
        self.members = members
        self.netns = netns
        self.backend = backend
        self.subsets = set(subsets)
        self.ports = sorted(set(ports or ()))
        self.top = top
        self.process_budget = process_budget
        self.cmdline = cmdline
        self.socket_table = procfs.SocketStates()  # inode -> state of the sockets processes may hold
        self.warnings: list[str] = []
        self.source: str | None = None  # how gather walked the sockets

    # -- helpers ---------------------------------------------------------
    def _read(self, rel: str) -> str | None:
        if rel.startswith('net/'):
            return procfs.read_text(os.path.join(self.net, rel[4:]))
        return procfs.read_text(os.path.join(self.proc, rel))

    def _sys_int_list(self, rel: str) -> list[int] | None:
        text = self._read(os.path.join('sys', rel))
        if text is None:
            return None
        try:
            return [int(v) for v in text.split()]
        except ValueError:
            self.warnings.append('%s: unexpected value %r' % (rel, text.strip()[:40]))
            return None

    def _use_netlink(self) -> bool:
        if self.backend == 'procfs':
            return False
        if self.proc != '/proc':
            if self.backend == 'netlink':
                raise GatherError('backend=netlink reads the sockets of this process\'s network namespace; '
                                  'with proc_path=%s use backend=auto or procfs' % self.proc)
            return False
        return True

    # -- the socket census -----------------------------------------------
    def plan(self) -> Plan:
        """What the socket walk must collect: (need_detail, ephemeral range, ports, inode states)."""
        need_detail = bool({'listeners', 'ephemeral_ports', 'processes'} & self.subsets or self.ports)
        ephemeral = None
        if 'ephemeral_ports' in self.subsets:
            rng = self._sys_int_list('net/ipv4/ip_local_port_range')
            ephemeral = tuple(rng) if rng and len(rng) == 2 else None
        inode_states = frozenset(range(1, 12)) if 'processes' in self.subsets else None
        return need_detail, ephemeral, tuple(self.ports), inode_states

    def sockets(self, early: EarlyDump | None = None) -> tuple[PerFamily, tuple[int, ...] | None, str]:
        """Walk every socket once; returns (walk or counts per family, ephemeral range, source).

        ``early`` is an EarlyDump started before the options were known; its walk is
        used when it collected exactly what this census needs.
        """
        plan = self.plan()
        need_detail, ephemeral, _ports, inode_states = plan
        if self._use_netlink():
            per_family = early.take(plan) if early else None
            if per_family is not None:
                return per_family, ephemeral, 'netlink'
            try:
                per_family = self._netlink(need_detail, ephemeral, inode_states)
                return per_family, ephemeral, 'netlink'
            except diag.NetlinkUnavailable as exc:
                if self.backend == 'netlink':
                    raise GatherError('backend=netlink: %s' % exc)
                self.warnings.append('netlink sock_diag unavailable (%s); counted from /proc/net/tcp instead' % exc)
                fallback = 'procfs (netlink unavailable: %s)' % exc
        else:
            fallback = 'procfs'
        return self._procfs(ephemeral, inode_states), ephemeral, fallback

    def _netlink(self, need_detail: bool, ephemeral: t.Sequence[int] | None, inode_states: t.Collection[int] | None) -> PerFamily:
        sock = diag.open_socket()
        buf = bytearray(diag.RECV_BUFFER)
        results: PerFamily = []
        try:
            for family, label, _name in FAMILIES:
                if need_detail:
                    walk = Walk(family, ephemeral, self.ports, inode_states, self.socket_table)
                    diag.dump(family, diag.ALL_STATES, walk.netlink, sock, buf)
                    results.append((label, walk))
                else:
                    counter = diag.StateCounter()
                    diag.dump(family, diag.ALL_STATES, counter, sock, buf)
                    results.append((label, counter))
        finally:
            sock.close()
        return results

    def _procfs(self, ephemeral: t.Sequence[int] | None, inode_states: t.Collection[int] | None) -> PerFamily:
        results: PerFamily = []
        self.socket_table = procfs.SocketStates()  # nothing a failed netlink walk left
        for family, label, name in FAMILIES:
            walk = Walk(family, ephemeral, self.ports, inode_states, self.socket_table)
            text = self._read('net/' + name)
            if text is None:
                if family == socket.AF_INET:
                    self.warnings.append('%s/%s is missing: no IPv4 census' % (self.net, name))
            else:
                self.warnings.extend(procfs.tcp_rows(text, family, walk.row, '%s/%s' % (self.net, name)))
            results.append((label, walk))
        return results

    def listeners(self, syn_recv: dict[int, int], walks: list[Walk]) -> list[dict[str, t.Any]]:
        """LISTEN sockets with accept-queue depth and backlog: a netlink LISTEN dump (cheap), or
        the LISTEN rows the procfs walk kept."""
        found: list[dict[str, t.Any]] = []

        def visit(family: int, state: int, sport: int, dport: int, src: bytes, dst: bytes, rqueue: int, wqueue: int | None,
                  uid: int, inode: int) -> None:
            found.append({
                'family': 'ipv4' if family == socket.AF_INET else 'ipv6',
                'address': diag.address(family, src),
                'port': sport,
                'accept_queue': rqueue,
                'backlog': wqueue,
                'accept_queue_full': wqueue is not None and rqueue > wqueue,
                'syn_recv': syn_recv.get(sport, 0),
                'inode': inode,
            })

        if self.source == 'netlink':
            dump_listeners(visit)
        else:
            for walk in walks:
                for row in walk.listening:
                    visit(*row)
        found.sort(key=lambda item: (item['port'], item['family'], item['address']))
        return found

    # -- the whole picture -----------------------------------------------
    def gather(self, early: EarlyDump | None = None) -> dict[str, t.Any]:
        if not os.path.isdir(self.net):
            raise GatherError('proc_path: %s has no net/ directory; is procfs mounted there?' % self.proc)
        # When: an audit from the fact cache tells old facts from fresh ones.
        facts: dict[str, t.Any] = {'gather_subset': sorted(self.subsets), 'gathered_at': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}
        per_family, ephemeral, self.source = self.sockets(early)
        facts['source'] = self.source
        total = [0] * 16
        by_family: dict[str, dict[str, int]] = {}
        syn_recv: dict[int, int] = {}
        for label, walk in per_family:
            by_family[label] = state_dict(walk.counts)
            for i in range(16):
                total[i] += walk.counts[i]
            for port, n in getattr(walk, 'syn_recv', {}).items():
                syn_recv[port] = syn_recv.get(port, 0) + n
        facts['states'] = state_dict(total)
        facts['states_by_family'] = by_family
        facts['total'] = sum(total[1:12])
        walks = [w for _label, w in per_family if isinstance(w, Walk)]
        if 'listeners' in self.subsets:
            facts['listeners'] = self.listeners(syn_recv, walks)
        if self.ports:
            facts['ports'] = self.port_breakdown(walks)
        if 'ephemeral_ports' in self.subsets:
            facts['ephemeral_ports'] = self.ephemeral_ports(walks, ephemeral)
        if 'processes' in self.subsets:
            facts['processes'] = self.processes()
        if 'counters' in self.subsets:
            facts['counters'] = self.counters()
        if 'sockstat' in self.subsets:
            facts['sockstat'] = self.sockstat()
        if 'conntrack' in self.subsets:
            facts['conntrack'] = self.conntrack()
        if 'ipvs' in self.subsets:
            facts['ipvs'] = self.ipvs()
        return facts

    def port_breakdown(self, walks: list[Walk]) -> dict[str, dict[str, dict[str, int]]]:
        result = {}
        for port in self.ports:
            local = [0] * 16
            remote = [0] * 16
            for walk in walks:
                for i in range(16):
                    local[i] += walk.ports[port][0][i]
                    remote[i] += walk.ports[port][1][i]
            result[str(port)] = {'local': state_dict(local), 'remote': state_dict(remote)}
        return result

    def ephemeral_ports(self, walks: list[Walk], ephemeral: t.Sequence[int] | None) -> dict[str, t.Any]:
        info: dict[str, t.Any] = {'range': list(ephemeral) if ephemeral else None}
        if not ephemeral:
            self.warnings.append('net.ipv4.ip_local_port_range is unreadable: no ephemeral port figures')
            return info
        size = ephemeral[1] - ephemeral[0] + 1
        reserved = self._read('sys/net/ipv4/ip_local_reserved_ports')
        peers: dict[tuple[int, bytes], int] = {}
        time_wait: dict[tuple[int, bytes], int] = {}
        for walk in walks:
            for key, n in walk.peers.items():
                peers[(walk.family, key)] = n
                time_wait[(walk.family, key)] = walk.peers_time_wait.get(key, 0)
        busiest = sorted(peers.items(), key=lambda kv: (-kv[1], kv[0]))[:self.top]
        info.update({
            'size': size,
            'reserved': reserved.strip() if reserved is not None else None,
            'in_use': sum(w.ephemeral_in_use for w in walks),
            'busiest_peers': [{
                'peer': diag.address(family, key[18:34]),
                'port': key[0] << 8 | key[1],
                'local_address': diag.address(family, key[2:18]),
                'connections': n,
                'time_wait': time_wait[(family, key)],
                'usage': round(n / float(size), 4),
            } for (family, key), n in busiest],
        })
        return info

    def processes(self) -> dict[str, list[dict[str, t.Any]]]:
        """Per state, the processes holding most sockets in it: pid, name, executable, the unit,
        container or pod they belong to (never the command line unless ``cmdline``)."""
        sockets = self.socket_table.freeze()
        # The dump is this process's network namespace (netlink, /proc/net): only processes in it hold
        # those sockets, bar one passed across or made before a setns(2). Others' are not read.
        netns = self.netns or (procfs.namespace_of(self.proc) if self.proc == '/proc' else None)
        holders = procfs.ProcessWalk(self.proc, sockets, self.process_budget, netns, self.members).run()
        if holders.stopped:
            self.warnings.append('processes: %s (process_budget)' % holders.stopped)
        self._hidden(holders, sockets)
        result: dict[str, list[dict[str, t.Any]]] = {}
        for number, name in enumerate(STATES, 1):
            rows = []
            for pid, n in holders.top(number, self.top):
                info = procfs.process_identity(self.proc, pid, self.cmdline)
                if info is not None:
                    info['sockets'] = n
                    rows.append(info)
            if rows:
                result[name] = rows
        return result

    def _hidden(self, holders: procfs.ProcessWalk, sockets: procfs.SocketStates) -> None:
        """Say what a run that is not root cannot see (hidepid, other users' descriptors)."""
        if os.geteuid() == 0:
            return
        missing = sockets.counts()
        for state, n in holders.attributed().items():
            missing[state] = missing.get(state, 0) - n
        unnamed = ', '.join('%d %s' % (n, STATES[state - 1]) for state, n in sorted(missing.items()) if n > 0)
        hidden = procfs.hidepid(procfs.read_text('/proc/self/mountinfo'), os.path.realpath(self.proc))
        if hidden:
            self.warnings.append('processes: %s is mounted with hidepid=%s, so this run (uid %d, not root) sees only '
                                 'its own processes; sockets without a holder: %s. Run as root (become) to name them all'
                                 % (self.proc, hidden, os.geteuid(), unnamed or 'none'))
        elif holders.unreadable:
            self.warnings.append('processes: %d processes could not be inspected (run as root to see them all); '
                                 'sockets without a holder: %s' % (holders.unreadable, unnamed or 'none'))

    def counters(self) -> dict[str, int]:
        result = {}
        for rel, prefix, wanted in (('net/netstat', 'TcpExt', TCPEXT_COUNTERS), ('net/snmp', 'Tcp', TCP_COUNTERS)):
            text = self._read(rel)
            if text is None:
                self.warnings.append('%s/%s is missing: no %s counters' % (self.net, rel[4:], prefix))
                continue
            tables, problems = procfs.paired_counters(text, rel)
            self.warnings.extend(problems)
            table = tables.get(prefix, {})
            for name in wanted:
                if name in table:
                    result[name] = table[name]
        return result

    def sockstat(self) -> dict[str, dict[str, int]]:
        result = {}
        for rel in ('net/sockstat', 'net/sockstat6'):
            text = self._read(rel)
            if text is None:
                continue
            tables, problems = procfs.sockstat(text, rel)
            self.warnings.extend(problems)
            for label, table in tables.items():
                if label in ('TCP', 'TCP6', 'sockets'):
                    result[label.lower()] = table
        if 'tcp' in result and 'mem' in result['tcp']:
            result['tcp']['mem_bytes'] = result['tcp']['mem'] * os.sysconf('SC_PAGE_SIZE')
        return result

    def conntrack(self) -> dict[str, t.Any]:
        count = self._sys_int_list('net/netfilter/nf_conntrack_count')
        limit = self._sys_int_list('net/netfilter/nf_conntrack_max')
        if count is None:
            return {'loaded': False}
        info: dict[str, t.Any] = {'loaded': True, 'count': count[0], 'max': limit[0] if limit else None}
        if limit and limit[0]:
            info['usage'] = round(count[0] / float(limit[0]), 4)
        return info

    def ipvs(self) -> dict[str, t.Any]:
        text = self._read('net/ip_vs_conn')
        if text is None:
            return {'loaded': False}
        info, problems = procfs.ipvs_connections(text, 'ip_vs_conn', self.top)
        self.warnings.extend(problems)
        info['loaded'] = True
        return info


class EarlyDump:
    """The default census's socket walk, run in a thread while the module is still loading.

    The kernel builds a dump inside recv(), with the GIL released, so on a second core it
    overlaps the import of AnsibleModule (which costs about as much). Only the netlink
    path is tried; anything unexpected is left for the normal path to meet and report.
    """

    def __init__(self) -> None:
        self.census = Census(subsets=set(DEFAULT_SUBSETS) | {'states'})
        self.plan: Plan | None = None
        self.result: PerFamily | None = None
        self.thread = threading.Thread(target=self._run, name='netops-tcp-early-dump')
        self.thread.daemon = True
        self.switch_interval: float | None = None

    @classmethod
    def start(cls) -> EarlyDump:
        early = cls()
        # Hand the GIL over quickly when a recv() returns, or the import starves the walk.
        early.switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(0.0002)
        early.thread.start()
        return early

    def _run(self) -> None:
        try:
            plan = self.plan = self.census.plan()
            self.result = self.census._netlink(plan[0], plan[1], plan[3])  # pylint: disable=protected-access
        except Exception:  # pylint: disable=broad-except
            self.result = None  # the normal path will meet the same problem and report it

    def take(self, plan: Plan) -> PerFamily | None:
        """The walk, if it was made with ``plan``; otherwise None."""
        self.thread.join()
        if self.switch_interval is not None:
            sys.setswitchinterval(self.switch_interval)
        return self.result if plan == self.plan else None
