# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs inside a test VM (python3 - KEYS_JSON): what the kernel shows of each sysctl, found by
reading and writing /proc/sys, independent of the collection's code.

For each key (its names in order: the catalog key, then aliases): the name found, the value in
the initial network namespace, and in a new network namespace (unshare(2)) whether it is there,
its value, whether the kernel takes a write of the same value (read-only or not) and, after a
write of a different value there, whether the initial namespace's value moved (shared) or not
(per namespace; the initial value is put back if it moved). Prints JSON.
"""

import ctypes
import json
import os
import sys

CLONE_NEWNET = 0x40000000


def path(name):
    return '/proc/sys/' + name.replace('.', '/')


def read(name):
    try:
        with open(path(name)) as handle:
            return ' '.join(handle.read().split())
    except OSError:
        return None


def write(name, text):
    """None when the kernel took the write, else the error's name."""
    try:
        fd = os.open(path(name), os.O_WRONLY)
    except OSError as exc:
        return os.strerror(exc.errno)
    try:
        os.write(fd, (text + '\n').encode())
        return None
    except OSError as exc:
        return os.strerror(exc.errno)
    finally:
        os.close(fd)


def other_value(spec, text):
    """A valid value other than ``text`` for the isolation check, or None."""
    kind, low, high = spec['type'], spec['min'], spec['max']
    if kind in ('int', 'bool'):
        value = int(text)
        if kind == 'bool':
            return str(1 - value)
        if high is None or value + 1 <= high:
            return str(value + 1)
        return str(value - 1) if low is None or value - 1 >= low else None
    if kind == 'vector':
        parts = [int(p) for p in text.split()]
        return ' '.join(str(p) for p in parts[:-1] + [parts[-1] + 4096])
    if kind == 'port_range':
        low_port, high_port = (int(p) for p in text.split())
        return '%d %d' % (low_port, high_port - 2)
    if kind == 'port_list':
        return '' if text else '40000'
    if spec['key'] == 'net.ipv4.tcp_congestion_control':
        return 'reno' if text != 'reno' else 'cubic'
    return None


def unshare_net():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), 'unshare(CLONE_NEWNET)')


def child(specs, found, out):
    unshare_net()
    seen = {}
    for spec in specs:
        name = found.get(spec['key'])
        if not name:
            continue
        raw = read(name)
        info = {'visible': raw is not None, 'raw': raw, 'write_error': None, 'other': None}
        if raw is not None:
            info['write_error'] = write(name, raw)
            other = other_value(spec, raw) if info['write_error'] is None else None
            if other is not None:
                error = write(name, other)
                info['other'] = other if error is None else None
                info['other_error'] = error
        seen[spec['key']] = info
    os.write(out, json.dumps(seen).encode())
    os.close(out)


def main():
    specs = json.loads(sys.argv[1])
    found, initial = {}, {}
    for spec in specs:
        for name in spec['names']:
            raw = read(name)
            if raw is not None:
                found[spec['key']], initial[spec['key']] = name, raw
                break
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(reader)
        try:
            child(specs, found, writer)
        finally:
            os._exit(0)
    os.close(writer)
    chunks = []
    while True:
        chunk = os.read(reader, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.waitpid(pid, 0)
    in_child = json.loads(b''.join(chunks) or b'{}')
    result = {}
    for spec in specs:
        key = spec['key']
        info = {'name': found.get(key), 'initial': initial.get(key), 'child': in_child.get(key)}
        if info['child'] and info['child'].get('other') is not None:
            after = read(found[key])
            info['child']['shared'] = after != initial[key]
            if after != initial[key]:
                write(found[key], initial[key])
        result[key] = info
    with open('/proc/meminfo') as handle:
        mem_total = [int(line.split()[1]) * 1024 for line in handle if line.startswith('MemTotal:')][0]
    print(json.dumps({'release': os.uname().release, 'mem_total': mem_total, 'keys': result}))


if __name__ == '__main__':
    main()
