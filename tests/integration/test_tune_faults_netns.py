# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The apply path against a real kernel and real filesystems, each host a network namespace with a
private mount namespace: read-only and full filesystems under each of the module's files, every
catalog key a namespace can write swept over edge values and text the kernel re-formats, and
listening ports reserved through tune-tcp.yml and audited."""

import json
import os
import re
import subprocess
import sys

import pytest

from ansible_collections.netops.tcp.tests.integration.harness import ROOT

from ansible_collections.netops.tcp.plugins.module_utils.model import _catalog as catalog
from ansible_collections.netops.tcp.plugins.module_utils.judge import _findings as findings

DROPIN = '/etc/sysctl.d/60-netops-tcp.conf'
FACT = '/etc/ansible/facts.d/netops_tcp.fact'
STATE_DIR = '/var/lib/netops-tcp'
SETTINGS = {'net.ipv4.tcp_fin_timeout': 30, 'net.core.somaxconn': 8192, 'net.ipv4.tcp_keepalive_time': 600}
WATCHED = sorted(SETTINGS)


def picture(host, dirs=('/etc/sysctl.d', '/etc/ansible/facts.d', STATE_DIR)):
    """Live values, and every file (name and bytes) in the module's directories."""
    listing = {}
    for directory in dirs:
        out = host.run('sh', '-c', 'cd %s 2>/dev/null && for f in .* *; do [ -f "$f" ] && echo "$f" && '
                       'sha256sum < "$f"; done; true' % directory).stdout
        listing[directory] = out
    return dict((k, host.sysctl(k)) for k in WATCHED), listing


FAULTS = [
    ('/etc/sysctl.d', 'ro', 'writing %s failed: Read-only file system; nothing was changed' % DROPIN),
    ('/etc/sysctl.d', 'full', 'writing %s failed: No space left on device; nothing was changed' % DROPIN),
    ('/etc/ansible/facts.d', 'ro', 'writing %s failed: Read-only file system; nothing was changed' % FACT),
    ('/etc/ansible/facts.d', 'full', 'writing %s failed: No space left on device; nothing was changed' % FACT),
    (STATE_DIR, 'ro', 'cannot lock %s/lock: Read-only file system; nothing was changed' % STATE_DIR),
    (STATE_DIR, 'full', 'saving the original values to %s/state.json failed: No space left on device; nothing was '
                        'changed' % STATE_DIR),
]


def break_fs(host, directory, how):
    host.run('mkdir', '-p', directory, check=True)
    if how == 'ro':
        host.run('mount', '-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', directory, check=True)
    else:
        host.run('mount', '-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', directory, check=True)
        host.run('dd', 'if=/dev/zero', 'of=%s/.fill' % directory, 'bs=4k')  # fails when full, as meant
        assert host.run('sh', '-c', 'echo x > %s/.probe' % directory).returncode != 0


@pytest.mark.parametrize('directory, how, message', FAULTS, ids=['%s-%s' % (d, h) for d, h, _m in FAULTS])
def test_a_read_only_or_full_filesystem_fails_cleanly_and_a_later_run_keeps_the_originals(
        isolated_hosts, directory, how, message):
    host = isolated_hosts()[0]
    pristine = picture(host)
    break_fs(host, directory, how)
    broken = picture(host)
    result = host.ansible('netops.tcp.sysctl_tune', {'settings': SETTINGS}, expect_failure=True)
    assert result['msg'] == message
    assert picture(host) == broken  # live values and every file as they were: no temporary file either
    host.run('umount', directory, check=True)
    result = host.ansible('netops.tcp.sysctl_tune', {'settings': SETTINGS})
    assert result['changed'] and result['mismatches'] == []
    state = json.loads(host.read(STATE_DIR + '/state.json'))
    assert state['originals'] == pristine[0]  # the disk fixed, the originals are still the true ones
    host.ansible('netops.tcp.sysctl_tune', {'state': 'absent'})
    assert picture(host) == pristine


def test_absent_on_a_read_only_sysctl_d_changes_nothing(isolated_hosts):
    host = isolated_hosts()[0]
    host.ansible('netops.tcp.sysctl_tune', {'settings': SETTINGS})
    dropin = host.read(DROPIN)
    host.run('mount', '--bind', '-o', 'ro', '/etc/sysctl.d', '/etc/sysctl.d', check=True)
    tuned = picture(host)
    result = host.ansible('netops.tcp.sysctl_tune', {'state': 'absent'}, expect_failure=True)
    assert result['msg'] == 'removing %s failed: Read-only file system; nothing was changed' % DROPIN
    assert picture(host) == tuned and host.read(DROPIN) == dropin


def writable_keys(host):
    facts = host.ansible('netops.tcp.sysctl_facts')['ansible_facts']['tcp_sysctl']['keys']
    return dict((k, v) for k, v in facts.items() if v['available'] and v['writable'])


def rounds(allowed_cc):
    """Value sets over every writable catalog key: low edges, high edges, text the kernel re-formats."""
    low, high, text = {}, {}, {}
    for key, entry in catalog.CATALOG.items():
        kind, lo, hi = entry['type'], entry['min'], entry['max']
        if kind == catalog.BOOL:
            low[key], high[key], text[key] = 0, 1, '01'
        elif kind == catalog.INT and lo is not None:  # (read-only keys have no range)
            low[key], high[key], text[key] = lo, hi, '0%d' % (lo + 1)
        elif kind == catalog.VECTOR:
            low[key], high[key] = [lo] * 3, [hi] * 3
            text[key] = '%d\t%d   %d' % (lo + 4095, lo + 131071, lo + 6291455)
        elif kind == catalog.STRING:
            low[key], high[key], text[key] = allowed_cc[0], allowed_cc[-1], allowed_cc[0]
    # The port keys together: the kernel keeps ip_unprivileged_port_start <= the range's low end.
    low.update({'net.ipv4.ip_unprivileged_port_start': 0, 'net.ipv4.ip_local_port_range': [1, 1],
                'net.ipv4.ip_local_reserved_ports': [[0, 0]]})
    high.update({'net.ipv4.ip_unprivileged_port_start': 65535, 'net.ipv4.ip_local_port_range': [65535, 65535],
                 'net.ipv4.ip_local_reserved_ports': [65534, 65535]})
    text.update({'net.ipv4.ip_unprivileged_port_start': '1024', 'net.ipv4.ip_local_port_range': '10000\t  60001',
                 'net.ipv4.ip_local_reserved_ports': '9005-9020,9000-9010,8080,8081'})
    # Every edge on purpose, capacity limits lowered too.
    for values in (low, high, text):
        for key in values:
            if catalog.CATALOG[key]['raise_only']:
                values[key] = {'value': values[key], 'guards': {'allow_lower': True}}
    return [('low', low), ('high', high), ('text', text)]


def test_every_writable_key_round_trips_through_the_kernel(isolated_hosts):
    host = isolated_hosts()[0]
    keys = writable_keys(host)
    assert len(keys) >= 20, sorted(keys)
    fresh = dict((k, v['raw']) for k, v in keys.items())
    allowed_cc = host.sysctl('net.ipv4.tcp_allowed_congestion_control').split()
    for name, values in rounds(allowed_cc):
        settings = dict((k, v) for k, v in values.items() if k in keys)
        assert sorted(settings) == sorted(k for k in keys if catalog.get(k)), name
        result = host.ansible('netops.tcp.sysctl_tune', {'settings': settings})
        assert result['changed'] and result['mismatches'] == [], (name, result['mismatches'])
        for key, value in settings.items():
            value = value['value'] if isinstance(value, dict) else value
            wanted = catalog.canonical_text(key, value if isinstance(value, str) else
                                            catalog.format_value(_typed(key, value), catalog.CATALOG[key]))
            assert host.sysctl(key) == wanted, (name, key)
        again = host.ansible('netops.tcp.sysctl_tune', {'settings': settings})
        assert again['changed'] is False, (name, again['applied'])
        facts = host.ansible('netops.tcp.sysctl_facts', {'include_sources': True})['ansible_facts']['tcp_sysctl']
        record = json.loads(host.read(FACT))
        found = findings.profile_findings(record, None, facts['keys'], facts['sources'], DROPIN in facts['boot_files'])
        assert found == [], (name, found)
    host.ansible('netops.tcp.sysctl_tune', {'state': 'absent'})
    assert dict((k, host.sysctl(k)) for k in keys) == fresh


def test_a_congestion_control_a_namespace_may_not_set_is_skipped_with_the_reason(isolated_hosts):
    host = isolated_hosts()[0]
    allowed = host.sysctl('net.ipv4.tcp_allowed_congestion_control')
    refused = [a for a in host.sysctl('net.ipv4.tcp_available_congestion_control').split() if a not in allowed.split()]
    if not refused:
        pytest.skip('every loaded algorithm is allowed on this kernel (%s)' % allowed)
    assert host.run('sysctl', '-w', 'net.ipv4.tcp_congestion_control=%s' % refused[0]).returncode != 0  # EPERM
    before = host.sysctl('net.ipv4.tcp_congestion_control')
    result = host.ansible('netops.tcp.sysctl_tune', {'settings': {'net.ipv4.tcp_congestion_control': refused[0]}})
    assert result['skipped_keys'] == {'net.ipv4.tcp_congestion_control': (
        'inside a network namespace the kernel takes only the algorithms in '
        'net.ipv4.tcp_allowed_congestion_control (%s)' % allowed)}
    assert host.sysctl('net.ipv4.tcp_congestion_control') == before


def _typed(key, value):
    if catalog.CATALOG[key]['type'] == catalog.PORT_LIST:
        return [[v, v] if isinstance(v, int) else v for v in value]
    return value


def listen(host, ports):
    code = ('import socket,time\nsocks=[]\nfor p in %r:\n    s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, '
            'socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", p)); s.listen(); socks.append(s)\n'
            'print("up", flush=True)\ntime.sleep(600)\n' % (ports,))
    proc = subprocess.Popen(['nsenter', '-t', str(host.holder.pid), '-n', sys.executable, '-c', code],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == 'up'
    return proc


def test_adjacent_and_separate_listeners_are_reserved_rerun_unchanged_and_audited_without_drift(isolated_hosts, tmp_path):
    host = isolated_hosts()[0]
    watched = ['net.ipv4.ip_local_port_range', 'net.ipv4.ip_local_reserved_ports']
    before = host.snapshot(watched, [DROPIN, FACT, STATE_DIR + '/state.json'])
    server = listen(host, [8080, 8081, 9000, 22])
    try:
        variables = ['-e', 'tcp_tune_profile=ad_backend_incident', '-e', 'tcp_tune_profile_version=1']
        proc = host.playbook(os.path.join(ROOT, 'tune-tcp.yml'), *variables)
        assert proc.returncode == 0, proc.stdout[-3000:]  # the role's read-back check passed
        assert host.sysctl('net.ipv4.ip_local_port_range') == '1024 65000'
        assert host.sysctl('net.ipv4.ip_local_reserved_ports') == '8080-8081,9000'
        assert 'net.ipv4.ip_local_reserved_ports = 8080-8081,9000\n' in host.read(DROPIN)
        again = host.playbook(os.path.join(ROOT, 'tune-tcp.yml'), *variables)
        assert again.returncode == 0 and re.search(r'changed=0\s+unreachable=0\s+failed=0', again.stdout), \
            again.stdout[-3000:]
        assert 'net.ipv4.ip_local_reserved_ports = 8080-8081,9000\n' in host.read(DROPIN)  # kept on the rerun
        report_dir = tmp_path / 'report'
        audit = host.playbook(os.path.join(ROOT, 'audit-tcp.yml'), '-e', json.dumps({
            'tcp_audit_report_dir': str(report_dir)}))
        assert audit.returncode == 0, audit.stdout[-3000:]
        report = json.loads((report_dir / 'report.json').read_text())
        # No drift on the re-formatted port list, no listening port left in the range; what the incident
        # list sets verbatim is risky: a range whose ends have the same parity, fin_timeout 2, retries2 5,
        # SYN and SYN-ACK retries of 1 (its capacity limits below this kernel's were not applied at all).
        assert [(f['kind'], f['key']) for f in report['hosts'][host.name]['findings']] == [
            ('risky', 'net.ipv4.ip_local_port_range'), ('risky', 'net.ipv4.tcp_fin_timeout'),
            ('risky', 'net.ipv4.tcp_retries2'), ('risky', 'net.ipv4.tcp_syn_retries'),
            ('risky', 'net.ipv4.tcp_synack_retries')]
    finally:
        server.kill()
    proc = host.playbook(os.path.join(ROOT, 'tune-tcp.yml'), '-e', 'tcp_tune_state=absent')
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert host.snapshot(watched, [DROPIN, FACT, STATE_DIR + '/state.json']) == before
