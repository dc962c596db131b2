# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The TCP troubles of the field notes, made for real inside a namespace host (tests only).

    trouble.py listen PORT BACKLOG          a listener that never accepts
    trouble.py fin-wait1 PORT COUNT          COUNT connections closed by us towards a peer that stopped
                                             reading: each stays an orphan in FIN_WAIT1, its FIN queued
                                             behind data the peer's zero window holds back
    trouble.py transfer PORT MEGABYTES       a server that reads, and a client that sends that much to it

Stdlib only. Prints ``up`` when in place (``done`` after a transfer) and holds its sockets until
its standard input closes.
"""

import socket
import sys


def listener(port, backlog, rcvbuf=None):
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # inherited by accepted sockets
    sock.bind(('0.0.0.0', port))
    sock.listen(backlog)
    return sock


def fin_wait1(port, count):
    """Accepted ends that never read (a small receive buffer fills fast), and client ends that write
    until the window closes, then close: their FIN waits behind the unsent data."""
    server = listener(port, count, rcvbuf=4096)
    held = [server]
    for _i in range(count):
        client = socket.create_connection(('127.0.0.1', port))
        held.append(server.accept()[0])
        client.setblocking(False)
        try:
            while True:
                client.send(b'x' * 65536)
        except BlockingIOError:
            pass
        client.close()
    return held


def transfer(port, megabytes):
    import threading  # pylint: disable=import-outside-toplevel
    server = listener(port, 1)
    total = megabytes * 1024 * 1024

    def drain():
        conn = server.accept()[0]
        while conn.recv(1 << 20):
            pass
        conn.close()

    thread = threading.Thread(target=drain)
    thread.start()
    client = socket.create_connection(('127.0.0.1', port))
    block = b'y' * 65536
    for _i in range(total // len(block)):
        client.sendall(block)
    client.close()
    thread.join()
    return [server]


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == 'listen':
        held = [listener(port, int(sys.argv[3]))]
    elif mode == 'fin-wait1':
        held = fin_wait1(port, int(sys.argv[3]))
    else:
        held = transfer(port, int(sys.argv[3]))
    print('done' if mode == 'transfer' else 'up', flush=True)
    sys.stdin.read()
    del held


if __name__ == '__main__':
    main()
