# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A SYN flood with spoofed sources, inside a throwaway network namespace (tests only).

    ip netns exec demo python3 tools/synflood.py --port 8080 --count 3000

Sends ``--count`` SYNs through a raw socket to 10.99.0.1:``--port`` (a listener on 0.0.0.0 or that
address takes them), each from its own address
in 198.51.100.0/24 (TEST-NET-2, RFC 5737) and a random port, as a flood from forged sources does.
The namespace routes that block through a veth (added here) whose far end answers nobody's ARP,
so the listener's SYN-ACKs go nowhere: its SYN queue fills with requests that only time out, and the
kernel answers the rest with SYN cookies (or drops them with tcp_syncookies=0). It refuses to run
in the machine's initial network namespace. Prints one JSON line: what it sent.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import struct
import subprocess
import sys
import time

from loadgen import in_initial_netns  # the same refusal as the load generator's, beside it in tools/

SOURCES = '198.51.100.0/24'
TARGET = '10.99.0.1'  # this host's address on the veth towards the forged sources


def checksum(data):
    if len(data) % 2:
        data += b'\0'
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


def syn(src, dst, sport, dport):
    """An IPv4 packet carrying one SYN with an MSS option, checksums filled in."""
    options = struct.pack('!BBH', 2, 4, 1460)
    tcp = struct.pack('!HHIIBBHHH', sport, dport, random.getrandbits(32), 0, (20 + len(options)) // 4 << 4, 0x02,
                      65535, 0, 0) + options
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack('!H', checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), random.getrandbits(16), 0, 64, socket.IPPROTO_TCP, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    return ip[:10] + struct.pack('!H', checksum(ip)) + ip[12:] + tcp


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--count', type=int, default=1000)
    parser.add_argument('--rate', type=float, default=0, help='SYNs a second (0: as fast as it can)')
    args = parser.parse_args()
    if in_initial_netns():
        sys.exit('synflood.py runs only inside a throwaway network namespace (ip netns exec NAME ...)')
    # The forged sources sit behind a veth whose far end nobody answers ARP on: the kernel has a route
    # to answer by (without one it drops the SYN before any SYN-ACK) and its SYN-ACKs go nowhere. The
    # target is that veth's address: a loopback source may not leave through it.
    if subprocess.run(['ip', 'link', 'show', 'nowhere'], capture_output=True, check=False).returncode:
        subprocess.run(['ip', 'link', 'add', 'nowhere', 'type', 'veth', 'peer', 'name', 'nowhere-end'], check=True)
        subprocess.run(['ip', 'addr', 'add', TARGET + '/24', 'dev', 'nowhere'], check=True)
        for device in ('nowhere', 'nowhere-end'):
            subprocess.run(['ip', 'link', 'set', device, 'up'], check=True)
        subprocess.run(['ip', 'route', 'replace', SOURCES, 'dev', 'nowhere'], check=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    start = time.monotonic()
    for number in range(args.count):
        src = '198.51.100.%d' % (number % 254 + 1)
        sock.sendto(syn(src, TARGET, 1024 + (number * 7919) % 64000, args.port), (TARGET, 0))
        if args.rate:
            delay = start + (number + 1) / args.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    sock.close()
    print(json.dumps({'sent': args.count, 'target': TARGET, 'port': args.port, 'sources': SOURCES,
                      'seconds': round(time.monotonic() - start, 3)}), flush=True)


if __name__ == '__main__':
    main()
