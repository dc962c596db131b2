# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: a stdlib-only NETLINK_SOCK_DIAG (inet_diag) dump of TCP sockets.

Layouts from uapi/linux/inet_diag.h and netlink.h. Messages are walked in place in one
reusable buffer: nothing per socket is kept unless a caller asks for it, so memory stays
flat however many sockets there are.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import sys
import typing as t

# A walk over the messages of one datagram (see dump): (buf, words, start, end) -> offset.
WalkFn = t.Callable[[bytearray, memoryview, int, int], int]

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
# Kernel dump skbs are sized from the reader's buffer and capped near 32 KiB; a
# larger buffer lets one recv take several of them when the reader falls behind.
RECV_BUFFER = 1 << 18

# Kernel state numbers are the index + 1 (include/net/tcp_states.h).
TCP_STATES = (
    'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT',
    'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING',
)
STATE_NUMBER = dict((name, number) for number, name in enumerate(TCP_STATES, 1))
ALL_STATES = sum(1 << n for n in range(1, len(TCP_STATES) + 1))
LISTEN = STATE_NUMBER['LISTEN']
SYN_RECV = STATE_NUMBER['SYN_RECV']
TIME_WAIT = STATE_NUMBER['TIME_WAIT']

_NLMSGHDR = struct.Struct('=IHHII')
_REQ_V2 = struct.Struct('=BBBBI')
_ERRNO = struct.Struct('=i')
# inet_diag_msg after the netlink header: family, state, timer, retrans; sockid; expires, rqueue, wqueue, uid, inode.
_DIAG_MSG = struct.Struct('>BBBBHH16s16s')
_QUEUES = struct.Struct('=IIII')
HDR_LEN = _NLMSGHDR.size
SOCKID_OFFSET = HDR_LEN + 4
RQUEUE_OFFSET = HDR_LEN + 56
# nlmsg_type is the first u16 of the second native u32 word of nlmsghdr.
TYPE_MASK = 0xFFFF if sys.byteorder == 'little' else 0xFFFF0000
DATA_TYPE = SOCK_DIAG_BY_FAMILY if sys.byteorder == 'little' else SOCK_DIAG_BY_FAMILY << 16
# Offsets from the start of a message, for walks that read fields in place.
STATE_OFFSET = HDR_LEN + 1
SPORT_OFFSET = SOCKID_OFFSET          # big-endian u16, then dport, then src[16], dst[16]
DPORT_OFFSET = SOCKID_OFFSET + 2
ADDRESSES_END = SOCKID_OFFSET + 36
INODE_WORD = (RQUEUE_OFFSET + 12) >> 2


class NetlinkUnavailable(Exception):
    """The kernel refused or does not support a sock_diag dump; callers fall back to procfs."""


def _request(family: int, states: int, seq: int) -> bytes:
    body = _REQ_V2.pack(family, socket.IPPROTO_TCP, 0, 0, states) + b'\0' * 48
    return _NLMSGHDR.pack(HDR_LEN + len(body), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, seq, 0) + body


def open_socket() -> socket.socket:
    try:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)
    except (OSError, AttributeError) as exc:
        raise NetlinkUnavailable('cannot open a NETLINK_SOCK_DIAG socket: %s' % exc)
    try:
        sock.bind((0, 0))
    except OSError as exc:
        sock.close()
        raise NetlinkUnavailable('cannot bind the NETLINK_SOCK_DIAG socket: %s' % exc)
    return sock


def dump(family: int, states: int, walk: WalkFn, sock: socket.socket | None = None, buf: bytearray | None = None) -> None:
    """Run one dump of ``family`` sockets in ``states`` (bitmask of 1 << state).

    ``walk(buf, words, start, end)`` steps through the messages of one datagram held
    in ``buf[start:end]`` (``words`` is the same memory as native u32) and returns the
    offset of the first message that is not SOCK_DIAG_BY_FAMILY, or ``end``. The kernel
    ends a dump with NLMSG_DONE (or NLMSG_ERROR), after the last data message.
    """
    own = sock is None
    if sock is None:
        sock = open_socket()
    if buf is None:
        buf = bytearray(RECV_BUFFER)
    words = memoryview(buf).cast('I')
    try:
        try:
            sock.send(_request(family, states, 1))
        except OSError as exc:
            raise NetlinkUnavailable('sock_diag request refused: %s' % exc)
        recv_into = sock.recv_into
        while True:
            try:
                n = recv_into(buf)
            except OSError as exc:
                raise NetlinkUnavailable('sock_diag dump failed: %s' % exc)
            stop = walk(buf, words, 0, n)
            if stop >= n:
                continue
            if n - stop < HDR_LEN:
                raise NetlinkUnavailable('sock_diag dump returned a truncated message')
            mtype = _NLMSGHDR.unpack_from(buf, stop)[1]
            if mtype == NLMSG_DONE:
                return
            if mtype == NLMSG_ERROR:
                err = -_ERRNO.unpack_from(buf, stop + HDR_LEN)[0]
                if err in (errno.ENOENT, errno.EOPNOTSUPP, errno.EPROTONOSUPPORT, errno.EINVAL):
                    raise NetlinkUnavailable('sock_diag does not support this request: %s' % os.strerror(err))
                raise NetlinkUnavailable('sock_diag dump failed: %s' % os.strerror(err))
            raise NetlinkUnavailable('unexpected netlink message type %d' % mtype)
    finally:
        words.release()
        if own:
            sock.close()


class StateCounter:
    """Counts sockets per kernel state number; the cheapest walk, used for the census."""

    def __init__(self) -> None:
        self.counts = [0] * 256

    def __call__(self, buf: bytearray, words: memoryview, off: int, end: int) -> int:
        counts = self.counts
        type_mask, data_type, state_at = TYPE_MASK, DATA_TYPE, STATE_OFFSET
        while off < end:
            w = off >> 2
            if words[w + 1] & type_mask != data_type:
                return off
            counts[buf[off + state_at]] += 1
            off += ((words[w] + 3) & ~3) or end  # a zero length would never advance
        return end


class Decoder:
    """Decodes every message and hands it to ``visit`` (for small dumps such as LISTEN).

    ``visit(family, state, sport, dport, src, dst, rqueue, wqueue, uid, inode)``; ports
    are numbers, addresses the raw 16-byte fields (see ``address``).
    """

    def __init__(self, visit: t.Callable[..., object]) -> None:
        self.visit = visit

    def __call__(self, buf: bytearray, words: memoryview, off: int, end: int) -> int:
        visit = self.visit
        while off < end:
            w = off >> 2
            if words[w + 1] & TYPE_MASK != DATA_TYPE:
                return off
            family, state, _timer, _retrans, sport, dport, src, dst = _DIAG_MSG.unpack_from(buf, off + HDR_LEN)
            rqueue, wqueue, uid, inode = _QUEUES.unpack_from(buf, off + RQUEUE_OFFSET)
            visit(family, state, sport, dport, src, dst, rqueue, wqueue, uid, inode)
            off += ((words[w] + 3) & ~3) or end  # a zero length would never advance
        return end


def address(family: int, raw: bytes) -> str:
    """Text form of the 16-byte address field of an inet_diag sockid."""
    if family == socket.AF_INET:
        return socket.inet_ntop(socket.AF_INET, raw[:4])
    return socket.inet_ntop(socket.AF_INET6, raw)
