# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Open a known mix of TCP connections inside a throwaway network namespace.

Used by the integration tests, the benchmarks and the demo. It refuses to run in
the machine's initial network namespace: it changes a few namespaced sysctls
(port range, tw_reuse) and loads nftables rules, which must never touch the host.

    ip netns add demo
    ip netns exec demo python3 tools/loadgen.py --established 200 --time-wait 50 ...

It prints one JSON line when the mix is in place (pids, ports, what it opened),
then holds every socket until its standard input closes or it gets SIGTERM.

Steady traffic, for rollout tests: --rate N opens and closes N connections a second (the client
closes first, so each leaves a TIME_WAIT socket behind for 60 s); --burst N sends N connections
at once, every --burst-every seconds, to a listener with a backlog of 16 that drains its
queue only between bursts (ListenOverflows and ListenDrops climb at a steady pace).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time

# Each worker keeps at most this many descriptors: the per-process limit here is 20000.
FDS_PER_WORKER = 16000
# Listening ports sit below the namespace's ephemeral range so no client can take one.
BASE_PORT = 1200
EPHEMERAL_RANGE = '1500 65535'
QUEUE_BACKLOG = 8


def in_initial_netns():
    """True when this process shares the network namespace of PID 1 or sees host-global sysctls."""
    try:
        if os.readlink('/proc/self/ns/net') != os.readlink('/proc/1/ns/net'):
            return False
    except OSError:
        pass
    # Host-global knobs such as netdev_max_backlog exist only in the initial namespace.
    return os.path.exists('/proc/sys/net/core/netdev_max_backlog')


def write_ns_sysctl(key, value):
    with open('/proc/sys/' + key.replace('.', '/'), 'w') as handle:
        handle.write(value)


def listener(family, port, backlog=4096):
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    sock.bind(('::1' if family == socket.AF_INET6 else '127.0.0.1', port))
    sock.listen(backlog)
    return sock


def open_clients(family, addr, count, blocking=True):
    """``count`` client sockets connecting to ``addr`` (non-blocking ones may stay half-open)."""
    clients = []
    for _i in range(count):
        cli = socket.socket(family, socket.SOCK_STREAM)
        if blocking:
            cli.connect(addr)
        else:
            cli.setblocking(False)
            cli.connect_ex(addr)
        clients.append(cli)
    return clients


def connect_pairs(srv, count, batch=1000):
    """Connect and accept ``count`` pairs through listener ``srv``; return the sockets."""
    held = []
    while count > 0:
        step = min(batch, count)
        clients = open_clients(srv.family, srv.getsockname(), step)
        for cli in clients:
            conn = srv.accept()[0]
            held.append(cli)
            held.append(conn)
        count -= step
    return held


def make_time_wait(srv, count, batch=1000):
    """Each connection is closed by the client first, which leaves the client in TIME_WAIT."""
    while count > 0:
        step = min(batch, count)
        pairs = open_clients(srv.family, srv.getsockname(), step)
        accepted = [srv.accept()[0] for _i in range(step)]
        for cli in pairs:
            cli.close()
        for conn in accepted:
            conn.close()
        count -= step


def make_close_wait(srv, count, batch=1000):
    """The server side shuts down its half (FIN_WAIT2, still open); the client never closes (CLOSE_WAIT)."""
    held = connect_pairs(srv, count, batch)
    for conn in held[1::2]:
        conn.shutdown(socket.SHUT_WR)
    return held


def worker(job, ready):
    """Run one share of the mix and hold its sockets until the parent goes away."""
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    held = []
    srv = job['listener']
    held.append(srv)
    if job['kind'] == 'established':
        held += connect_pairs(srv, job['count'])
    elif job['kind'] == 'time_wait':
        make_time_wait(srv, job['count'])
    elif job['kind'] == 'close_wait':
        held += make_close_wait(srv, job['count'])
    ready.send(os.getpid())
    ready.close()
    # Wait until the parent closes its end (it died or was told to stop).
    try:
        os.read(job['hold_fd'], 1)
    except OSError:
        pass
    os._exit(0)


def split_jobs(kind, count, family, per_worker, port):
    jobs = []
    while count > 0:
        step = min(per_worker, count)
        jobs.append({'kind': kind, 'count': step, 'family': family, 'port': port})
        port += 1
        count -= step
    return jobs, port


def plan(args):
    """Turn socket counts into worker jobs (counts of pairs or connections)."""
    port = BASE_PORT
    jobs = []
    # ESTABLISHED sockets come in pairs, both ends in this namespace; a quarter over IPv6.
    pairs = args.established // 2
    pairs6 = pairs // 4
    for fam, n in ((4, pairs - pairs6), (6, pairs6)):
        more, port = split_jobs('established', n, fam, FDS_PER_WORKER // 2, port)
        jobs += more
    # TIME_WAIT needs no descriptors: one worker per 20000 keeps ports plentiful.
    more, port = split_jobs('time_wait', args.time_wait, 4, 20000, port)
    jobs += more
    more, port = split_jobs('close_wait', args.close_wait, 4, FDS_PER_WORKER // 2, port)
    jobs += more
    return jobs


def syn_recv_flood(count, port):
    """Half-open connections: nftables drops the client's final ACK, so the server stays in SYN_RECV."""
    if not count:
        return [], None
    srv = listener(socket.AF_INET, port, backlog=max(count * 2, 128))
    rules = (
        'table inet netops_loadgen {\n'
        ' chain input {\n'
        '  type filter hook input priority 0; policy accept;\n'
        '  tcp dport %d tcp flags & (syn | ack) == ack drop\n'
        ' }\n'
        '}\n' % port
    )
    subprocess.run(['nft', '-f', '-'], input=rules.encode(), check=True)
    return open_clients(socket.AF_INET, ('127.0.0.1', port), count, blocking=False), srv


def accept_queue(port, waiting):
    """A listener that never accepts: ``waiting`` connections sit in its accept queue."""
    srv = listener(socket.AF_INET, port, backlog=QUEUE_BACKLOG)
    return open_clients(socket.AF_INET, ('127.0.0.1', port), waiting, blocking=False), srv


BURST_BACKLOG = 16


def _die_with_parent():
    """The steady worker ends when the load generator does, even on SIGKILL (PR_SET_PDEATHSIG)."""
    import ctypes  # pylint: disable=import-outside-toplevel
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def steady(rate, burst, burst_every, port):
    """Run the steady traffic until killed: ``rate`` connections a second closed by the client,
    and ``burst`` connections every ``burst_every`` seconds onto a small-backlog listener."""
    _die_with_parent()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    srv = listener(socket.AF_INET, port) if rate else None
    burst_srv = listener(socket.AF_INET, port + 1, backlog=BURST_BACKLOG) if burst else None
    if burst_srv:
        burst_srv.setblocking(False)
    pending = []
    interval = 1.0 / rate if rate else None
    next_conn = next_burst = time.monotonic()
    while True:
        now = time.monotonic()
        if burst_srv and now >= next_burst:
            for cli in pending:
                cli.close()
            while True:  # drain what the queue took since the last burst
                try:
                    burst_srv.accept()[0].close()
                except OSError:
                    break
            pending = open_clients(socket.AF_INET, ('127.0.0.1', port + 1), burst, blocking=False)
            next_burst = now + burst_every
        if srv and now >= next_conn:
            make_time_wait(srv, 1)
            next_conn += interval
            if next_conn < now - 1:  # fell behind (a slow machine): do not try to catch up in a rush
                next_conn = now
            continue
        wake = min(t for t in (next_conn if srv else None, next_burst if burst_srv else None) if t is not None)
        time.sleep(max(0.0, min(wake - time.monotonic(), 0.05)))


def settle(timeout=5.0):
    """Wait until the kernel has finished the handshakes and closes we started."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        out = subprocess.run(['ss', '-tanH'], capture_output=True, text=True, check=True).stdout
        states = sorted(line.split(None, 1)[0] for line in out.splitlines() if line)
        if states == last:
            return
        last = states
        time.sleep(0.2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--established', type=int, default=0, help='ESTABLISHED sockets (both ends count)')
    parser.add_argument('--time-wait', type=int, default=0, help='TIME_WAIT sockets')
    parser.add_argument('--close-wait', type=int, default=0, help='CLOSE_WAIT sockets, each with its FIN_WAIT2 peer')
    parser.add_argument('--syn-recv', type=int, default=0, help='half-open SYN_RECV sockets (needs nft)')
    parser.add_argument('--queued', type=int, default=0,
                        help='connections left in the accept queue of a listener with backlog %d' % QUEUE_BACKLOG)
    parser.add_argument('--no-settle', action='store_true', help='do not wait for ss to show a stable picture')
    parser.add_argument('--rate', type=int, default=0, help='connections a second, closed client-first (TIME_WAIT), steadily')
    parser.add_argument('--burst', type=int, default=0, help='connections at once onto a listener with backlog %d' % BURST_BACKLOG)
    parser.add_argument('--burst-every', type=float, default=2.0, help='seconds between bursts')
    args = parser.parse_args(argv)

    if in_initial_netns():
        parser.error('refusing to run in the initial network namespace: use ip netns exec or unshare -n')
    subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)
    # Namespaced knobs only, in this throwaway namespace: every TIME_WAIT stays and ports are plenty.
    write_ns_sysctl('net.ipv4.ip_local_port_range', EPHEMERAL_RANGE)
    write_ns_sysctl('net.ipv4.tcp_tw_reuse', '0')
    write_ns_sysctl('net.ipv4.ip_unprivileged_port_start', '1024')

    jobs = plan(args)
    ctx = multiprocessing.get_context('fork')
    hold_r, hold_w = os.pipe()
    procs = []
    for job in jobs:
        # Bound before any worker connects, so every listening port is still free.
        job['listener'] = listener(socket.AF_INET6 if job['family'] == 6 else socket.AF_INET, job['port'])
        job['hold_fd'] = hold_r
        parent_end, child_end = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=worker, args=(job, child_end), daemon=True)
        proc.start()
        child_end.close()
        job['listener'].close()
        procs.append((proc, parent_end, job))
    os.close(hold_r)
    workers = []
    for _proc, parent_end, job in procs:
        try:
            pid = parent_end.recv()
        except EOFError:
            sys.exit('loadgen: the %(kind)s worker on port %(port)d failed (see its traceback above)' % job)
        workers.append(dict([(k, job[k]) for k in ('kind', 'count', 'family', 'port')], pid=pid))

    next_port = BASE_PORT + len(jobs)
    queue_port = next_port
    queued, queue_srv = accept_queue(queue_port, args.queued)
    syn_port = next_port + 1
    half_open, syn_srv = syn_recv_flood(args.syn_recv, syn_port)
    if not args.no_settle:
        settle()
    steady_port = next_port + 2
    steady_proc = None
    if args.rate or args.burst:
        steady_proc = ctx.Process(target=steady, args=(args.rate, args.burst, args.burst_every, steady_port), daemon=True)
        steady_proc.start()

    report = {
        'pid': os.getpid(),
        'workers': workers,
        'queue_listener': {'port': queue_port, 'backlog': QUEUE_BACKLOG, 'queued': args.queued},
        'syn_recv_listener': {'port': syn_port, 'half_open': args.syn_recv} if syn_srv else None,
        'steady': {'pid': steady_proc.pid, 'rate': args.rate, 'port': steady_port, 'burst': args.burst,
                   'burst_port': steady_port + 1, 'burst_every': args.burst_every} if steady_proc else None,
        'requested': {'established': args.established, 'time_wait': args.time_wait,
                      'close_wait': args.close_wait, 'syn_recv': args.syn_recv},
    }
    print(json.dumps(report), flush=True)

    def stop(*_):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        if sys.stdin is None:
            while True:
                signal.pause()
        while os.read(sys.stdin.fileno(), 4096):
            pass
    finally:
        os.close(hold_w)
        del queued, half_open, queue_srv, syn_srv
    return 0


if __name__ == '__main__':
    sys.exit(main())
