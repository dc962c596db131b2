# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import errno
import socket
import struct

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.netops.tcp.plugins.module_utils.gather import _inet_diag as diag

HDR = struct.Struct('=IHHII')


def data_message(state, sport=80, dport=40000, src='10.0.0.1', dst='10.0.0.2', rqueue=0, wqueue=0,
                 inode=1234, attr_bytes=0):
    """An inet_diag_msg as the kernel sends it, with ``attr_bytes`` of route attributes after it."""
    body = struct.pack('=BBBB', socket.AF_INET, state, 0, 0)
    body += struct.pack('>HH', sport, dport) + socket.inet_aton(src) + b'\0' * 12 + socket.inet_aton(dst) + b'\0' * 12
    body += struct.pack('=I', 0) + struct.pack('=II', 0, 0)          # if, cookie
    body += struct.pack('=IIIII', 0, rqueue, wqueue, 0, inode)     # expires, rqueue, wqueue, uid, inode
    length = HDR.size + len(body) + attr_bytes
    msg = HDR.pack(length, diag.SOCK_DIAG_BY_FAMILY, 2, 1, 0) + body + b'\xee' * attr_bytes
    return msg + b'\0' * (-len(msg) % 4)


def done():
    return HDR.pack(20, diag.NLMSG_DONE, 2, 1, 0) + struct.pack('=i', 0)


def error(code):
    return HDR.pack(36, diag.NLMSG_ERROR, 0, 1, 0) + struct.pack('=i', -code) + b'\0' * 16


class FakeSocket:
    def __init__(self, datagrams):
        self.datagrams = list(datagrams)
        self.sent = []

    def send(self, data):
        self.sent.append(data)

    def recv_into(self, buf):
        data = self.datagrams.pop(0)
        buf[:len(data)] = data
        return len(data)

    def close(self):
        pass


def count(datagrams):
    counter = diag.StateCounter()
    sock = FakeSocket(datagrams)
    diag.dump(socket.AF_INET, diag.ALL_STATES, counter, sock=sock)
    return counter.counts, sock


def test_request_layout_matches_uapi():
    _counts, sock = count([done()])
    req = sock.sent[0]
    assert len(req) == 16 + 56
    length, mtype, flags, _seq, _pid = HDR.unpack_from(req)
    assert (length, mtype, flags) == (72, 20, 0x301)
    family, proto, ext, _pad, states = struct.unpack_from('=BBBBI', req, 16)
    assert (family, proto, ext, states) == (socket.AF_INET, socket.IPPROTO_TCP, 0, 0xFFE)


def test_counts_states_across_datagrams_with_done_after_data():
    first = b''.join(data_message(1, attr_bytes=n % 7) for n in range(30))
    last = data_message(6) + data_message(10) + done()  # DONE shares the last datagram
    counts, _sock = count([first, last])
    assert counts[1] == 30 and counts[6] == 1 and counts[10] == 1
    assert sum(counts) == 32


def test_done_alone_in_its_datagram():
    counts, _sock = count([data_message(8), done()])
    assert counts[8] == 1 and sum(counts) == 1


@pytest.mark.parametrize('code, message', [
    (errno.ENOENT, 'sock_diag does not support this request: No such file or directory'),
    (errno.EPERM, 'sock_diag dump failed: Operation not permitted'),
])
def test_error_message_raises_unavailable(code, message):
    with pytest.raises(diag.NetlinkUnavailable) as exc:
        count([error(code)])
    assert str(exc.value) == message


def test_truncated_trailer_is_reported():
    with pytest.raises(diag.NetlinkUnavailable, match='truncated'):
        count([data_message(1) + done()[:8]])


def test_decoder_reads_ports_addresses_and_queues():
    seen = []
    sock = FakeSocket([data_message(10, sport=8080, dport=0, src='127.0.0.1', dst='0.0.0.0',
                                    rqueue=9, wqueue=8, inode=555, attr_bytes=5) + done()])
    diag.dump(socket.AF_INET, 1 << diag.LISTEN, diag.Decoder(lambda *row: seen.append(row)), sock=sock)
    family, state, sport, dport, src, dst, rqueue, wqueue, _uid, inode = seen[0]
    assert (family, state, sport, dport, rqueue, wqueue, inode) == (socket.AF_INET, 10, 8080, 0, 9, 8, 555)
    assert diag.address(family, src) == '127.0.0.1'


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 11), st.integers(0, 40)), max_size=300),
       st.integers(1, 5))
def test_counts_equal_what_was_sent_however_split(sockets, chunks):
    messages = [data_message(state, attr_bytes=attrs) for state, attrs in sockets]
    size = max(1, len(messages) // chunks)
    datagrams = [b''.join(messages[i:i + size]) for i in range(0, len(messages), size)]
    datagrams = datagrams or [b'']
    datagrams[-1] += done()
    counts, _sock = count(datagrams)
    for state in range(1, 12):
        assert counts[state] == sum(1 for s, _a in sockets if s == state)


def test_real_dump_of_this_namespace_sees_a_listener():
    """A real netlink dump (no privilege needed) finds a socket this test opens."""
    srv = socket.socket()
    srv.bind(('127.0.0.1', 0))
    srv.listen(7)
    port = srv.getsockname()[1]
    try:
        seen = []
        diag.dump(socket.AF_INET, 1 << diag.LISTEN, diag.Decoder(lambda *row: seen.append(row)))
        mine = [row for row in seen if row[2] == port]
        assert len(mine) == 1 and mine[0][7] == 7
    finally:
        srv.close()
