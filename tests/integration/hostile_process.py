# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an unprivileged local user can do to a host's TCP facts: a process with a name of its
choosing (``--comm``, hex of the bytes, as /proc/self/comm takes them), secrets on its command
line (any extra arguments), CLOSE_WAIT sockets it holds, and descriptors by the thousand.

    hostile_process.py --comm 013c7363726970743e --close-wait 5 --fds 19000 --db-password=hunter2

Stdlib only, Python 3.8+: the tests run it as ``nobody`` with the system's python3. It prints
one line, ``ready <pid>``, when all is in place, and holds it until its standard input closes.
"""

import argparse
import binascii
import os
import socket
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--comm', default='')
    parser.add_argument('--close-wait', type=int, default=0)
    parser.add_argument('--fds', type=int, default=0)
    args, _secrets = parser.parse_known_args()
    if args.comm:
        with open('/proc/self/comm', 'wb') as handle:
            handle.write(binascii.unhexlify(args.comm))
    held = []
    if args.close_wait:
        server = socket.socket()
        server.bind(('127.0.0.1', 0))
        server.listen(args.close_wait)
        held.append(server)
        for _i in range(args.close_wait):
            client = socket.create_connection(server.getsockname())
            held.append(server.accept()[0])
            client.close()  # the peer closes; the accepted end stays in CLOSE_WAIT, held here
    held += [os.open('/dev/null', os.O_RDONLY) for _i in range(args.fds)]
    print('ready %d' % os.getpid(), flush=True)
    sys.stdin.read()


if __name__ == '__main__':
    main()
