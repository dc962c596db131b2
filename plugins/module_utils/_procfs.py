# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: parsers for /proc/net files.

Every parser takes text (or lines) and returns what it could read plus a list of
problems: malformed or truncated content gives partial results and a sentence per
problem, never an exception.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import struct

from ansible_collections.netops.tcp.plugins.module_utils import _files as files

_U32 = struct.Struct('=I')


def read_text(path):
    """A /proc file's text, or None when it does not exist or cannot be read."""
    return files.read_text(path, errors='replace', quiet=True)


def _raw_address(text):
    """Raw network-order bytes of a /proc/net/tcp address field (hex of native u32 words)."""
    if len(text) == 8:
        return _U32.pack(int(text, 16)) + b'\0' * 12
    if len(text) == 32:
        return b''.join(_U32.pack(int(text[i:i + 8], 16)) for i in range(0, 32, 8))
    raise ValueError('address of %d hex digits' % len(text))


def tcp_rows(text, family, visit, name):
    """Call ``visit`` for each socket row of /proc/net/tcp or tcp6, like inet_diag's Decoder.

    ``visit(family, state, sport, dport, src, dst, rqueue, wqueue, uid, inode)``; ``wqueue``
    is None for LISTEN rows (procfs does not show the backlog). Returns the problems found.
    """
    problems = []
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


def paired_counters(text, name):
    """Parse /proc/net/netstat or /proc/net/snmp: 'Prefix: names' lines followed by 'Prefix: values'."""
    result = {}
    problems = []
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


def sockstat(text, name):
    """Parse /proc/net/sockstat or sockstat6: 'TCP: inuse 5 orphan 0 tw 3 alloc 9 mem 1' lines."""
    result = {}
    problems = []
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


def ipvs_connections(text, name='ip_vs_conn', top=10):
    """The ``ipvsadm -Lnc`` census from /proc/net/ip_vs_conn: TCP connections by state and by real server."""
    states = dict((s, 0) for s in IPVS_STATES)
    servers = {}
    problems = []
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


def _ipvs_address(text):
    if len(text) == 8:
        return socket.inet_ntop(socket.AF_INET, struct.pack('>I', int(text, 16)))
    return text.strip('[]')


def socket_inodes(proc_path, wanted):
    """Map socket inode -> pid for the inodes in ``wanted`` by reading /proc/<pid>/fd links.

    Processes that vanish or whose fds cannot be read are skipped (returns the count).
    """
    owners = {}
    unreadable = 0
    try:
        pids = [p for p in os.listdir(proc_path) if p.isdigit()]
    except OSError:
        return owners, 0
    for pid in pids:
        fd_dir = '%s/%s/fd' % (proc_path, pid)
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            unreadable += 1
            continue
        for fd in fds:
            try:
                target = os.readlink('%s/%s' % (fd_dir, fd))
            except OSError:
                continue
            if target.startswith('socket:['):
                inode = int(target[8:-1])
                if inode in wanted:
                    owners[inode] = int(pid)
    return owners, unreadable


def process_name(proc_path, pid):
    """(comm, cmdline) of a process, or (None, None) when it is gone."""
    comm = read_text('%s/%d/comm' % (proc_path, pid))
    cmdline = read_text('%s/%d/cmdline' % (proc_path, pid))
    if comm is None:
        return None, None
    return comm.strip(), (cmdline or '').replace('\0', ' ').strip()[:200]
