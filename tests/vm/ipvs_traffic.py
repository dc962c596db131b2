# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs inside a test VM. ``server PORT``: accept and hold every connection. ``client HOST PORT
OPEN CLOSED``: open OPEN + CLOSED connections through the virtual service, close CLOSED of them,
print "ready" and hold the rest until killed."""

import socket
import sys
import time


def server(port):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(('0.0.0.0', port))
    listener.listen(128)
    held = []
    while True:
        conn, _peer = listener.accept()
        held.append(conn)


def client(host, port, held, closed):
    conns = [socket.create_connection((host, port), timeout=10) for _count in range(held + closed)]
    for conn in conns[held:]:
        conn.close()
    time.sleep(2)
    print('ready', flush=True)
    while True:
        time.sleep(60)


if __name__ == '__main__':
    if sys.argv[1] == 'server':
        server(int(sys.argv[2]))
    else:
        client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
