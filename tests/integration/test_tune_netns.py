# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tune role and sysctl_tune through real ansible-playbook, each host a network namespace with
a private mount namespace: live values and files are checked against what the kernel reports there."""

import json
import os
import re

import pytest

from ansible_collections.netops.tcp.tests.integration.harness import ROOT

DROPIN = '/etc/sysctl.d/60-netops-tcp.conf'
MODULES = '/etc/modules-load.d/netops-tcp.conf'
FACT = '/etc/ansible/facts.d/netops_tcp.fact'
STATE = '/var/lib/netops-tcp/state.json'
PROFILES = [('web_frontend', 1), ('web_frontend', 2), ('lb_backend', 1), ('lb_backend', 2), ('ad_backend_incident', 1),
            ('ad_backend_incident', 2), ('ad_backend_incident', 4)]
HOST_GLOBAL = 'host-global: set it on the host, not inside a network namespace'
WATCHED = ['net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_max_tw_buckets', 'net.core.somaxconn', 'net.ipv4.tcp_rmem',
           'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_tw_reuse',
           'net.ipv4.tcp_syn_retries', 'net.ipv4.ip_local_reserved_ports']


def tune(host, *extra, **variables):
    args = ['-e', json.dumps(variables)] if variables else []
    proc = host.playbook(os.path.join(ROOT, 'tune-tcp.yml'), *(args + list(extra)))
    recap = re.search(r'changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', proc.stdout)
    return proc, (int(recap.group(1)), int(recap.group(3))) if recap else None


def profile_values(name, version, **params):
    import yaml
    with open(os.path.join(ROOT, 'profiles', name, 'v%d.yml' % version)) as handle:
        data = yaml.safe_load(handle)
    values = {}
    for key, spec in data['settings'].items():
        if spec.get('when') and not params.get(spec['when'], data['parameters'][spec['when']]['default']):
            continue  # set only when a boolean parameter asks for it
        value = spec['value']
        if isinstance(value, dict):
            value = params.get(value['parameter'], data['parameters'][value['parameter']]['default']) + value.get('offset', 0)
        values[key.replace('net.ipv4.ip_conntrack_max', 'net.netfilter.nf_conntrack_max')] = \
            ' '.join(str(v) for v in value) if isinstance(value, list) else str(value)
    return values


@pytest.mark.parametrize('name, version', PROFILES)
def test_every_profile_applies_reads_back_and_reruns_unchanged(isolated_hosts, name, version):
    host = isolated_hosts()[0]
    proc, recap = tune(host, tcp_tune_profile=name, tcp_tune_profile_version=version)
    assert proc.returncode == 0 and recap[1] == 0, proc.stdout[-3000:]
    record = json.loads(host.read(FACT))
    assert (record['profile'], record['version']) == (name, version)
    wanted = profile_values(name, version)
    for key, value in wanted.items():
        if key in record['applied']:
            assert host.sysctl(key) == value == record['applied'][key], key
        else:
            assert key in record['skipped'], key
    # What is skipped in a network namespace, and why.
    for key in ('net.ipv4.tcp_mem', 'net.ipv4.tcp_max_orphans', 'net.core.netdev_max_backlog'):
        if key in wanted:
            assert record['skipped'][key] == HOST_GLOBAL
    if 'net.ipv4.tcp_tw_recycle' in wanted:
        assert record['skipped']['net.ipv4.tcp_tw_recycle'].startswith('needs Linux <4.12; this kernel is ')
    dropin = host.read(DROPIN)
    assert dropin.startswith('# Managed by netops.tcp')
    assert '# profile: %s  version: %d  checksum: %s' % (name, version, record['checksum']) in dropin
    assert sorted(line.split(' = ')[0] for line in dropin.splitlines() if ' = ' in line and not line.startswith('#')) \
        == sorted(record['applied'])
    again, recap = tune(host, tcp_tune_profile=name, tcp_tune_profile_version=version)
    assert again.returncode == 0 and recap == (0, 0), again.stdout[-3000:]


def test_check_mode_changes_nothing_then_absent_restores(isolated_hosts):
    host = isolated_hosts()[0]
    before = host.snapshot(WATCHED, [DROPIN, FACT, STATE])
    proc, recap = tune(host, '--check', '--diff', tcp_tune_profile='ad_backend_incident', tcp_tune_profile_version=2)
    assert proc.returncode == 0 and recap[0] > 0, proc.stdout[-3000:]
    assert '+net.ipv4.tcp_fin_timeout = 15' in proc.stdout  # the diff shows the file to be written
    assert host.snapshot(WATCHED, [DROPIN, FACT, STATE]) == before
    proc, recap = tune(host, tcp_tune_profile='ad_backend_incident', tcp_tune_profile_version=2)
    assert proc.returncode == 0 and host.sysctl('net.ipv4.tcp_fin_timeout') == '15'
    proc, recap = tune(host, tcp_tune_state='absent')
    assert proc.returncode == 0 and recap[0] > 0, proc.stdout[-3000:]
    assert host.snapshot(WATCHED, [DROPIN, FACT, STATE]) == before  # originals back, files gone


def test_upgrade_v1_to_v2_restores_dropped_keys(isolated_hosts):
    host = isolated_hosts()[0]
    original_tw = host.sysctl('net.ipv4.tcp_max_tw_buckets')
    proc, _recap = tune(host, tcp_tune_profile='ad_backend_incident', tcp_tune_profile_version=1)
    # The incident list's 36000 is below this kernel's own limit: kept, and said so.
    assert proc.returncode == 0 and host.sysctl('net.ipv4.tcp_max_tw_buckets') == original_tw
    assert json.loads(host.read(FACT))['skipped']['net.ipv4.tcp_max_tw_buckets'] == (
        'keeps %s: 36000 would lower a capacity limit below what this host has; a profile only raises it '
        '(guards: {allow_lower: true} lowers it on purpose)' % original_tw)
    proc, _recap = tune(host, tcp_tune_profile='ad_backend_incident', tcp_tune_profile_version=1, tcp_tune_overrides={
        'net.ipv4.tcp_max_tw_buckets': {'value': 36000, 'guards': {'allow_lower': True}}})
    assert proc.returncode == 0 and host.sysctl('net.ipv4.tcp_max_tw_buckets') == '36000'
    proc, _recap = tune(host, tcp_tune_profile='ad_backend_incident', tcp_tune_profile_version=2)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert host.sysctl('net.ipv4.tcp_max_tw_buckets') == original_tw
    record = json.loads(host.read(FACT))
    assert record['version'] == 2 and 'net.ipv4.tcp_max_tw_buckets' not in record['applied']
    assert 'net.ipv4.tcp_max_tw_buckets' not in host.read(DROPIN)


def test_bad_override_fails_clearly_and_changes_nothing(isolated_hosts):
    host = isolated_hosts()[0]
    before = host.snapshot(WATCHED, [DROPIN, FACT, STATE])
    proc, recap = tune(host, tcp_tune_profile='web_frontend', tcp_tune_overrides={'net.ipv4.tcp_rmem': [8192, 4096, 16384]})
    assert proc.returncode != 0
    assert ('web_frontend@2 overrides: net.ipv4.tcp_rmem: 8192 4096 16384: values must not decrease '
            '(min <= default <= max)') in proc.stdout
    assert host.snapshot(WATCHED, [DROPIN, FACT, STATE]) == before


def test_listening_ports_in_a_wider_range_are_reserved(isolated_hosts, tmp_path):
    host = isolated_hosts()[0]
    listener = host.run('python3', '-c', 'pass')  # the namespace works
    assert listener.returncode == 0
    import subprocess
    import sys
    srv = subprocess.Popen(['nsenter', '-t', str(host.holder.pid), '-n', sys.executable, '-c',
                            'import socket,sys,time; s=socket.socket(); s.bind(("0.0.0.0", 8080)); s.listen(); '
                            'print("up", flush=True); time.sleep(600)'], stdout=subprocess.PIPE, text=True)
    try:
        assert srv.stdout.readline().strip() == 'up'
        proc, _recap = tune(host, tcp_tune_profile='ad_backend_incident', tcp_tune_profile_version=1)
        assert proc.returncode == 0, proc.stdout[-3000:]
        assert host.sysctl('net.ipv4.ip_local_port_range') == '1024 65000'
        assert host.sysctl('net.ipv4.ip_local_reserved_ports') == '8080'
        other = isolated_hosts()[0]
        srv2 = subprocess.Popen(['nsenter', '-t', str(other.holder.pid), '-n', sys.executable, '-c',
                                 'import socket,time; s=socket.socket(); s.bind(("0.0.0.0", 8080)); s.listen(); '
                                 'print("up", flush=True); time.sleep(600)'], stdout=subprocess.PIPE, text=True)
        try:
            assert srv2.stdout.readline().strip() == 'up'
            before = other.snapshot(WATCHED, [DROPIN, FACT, STATE])
            proc, _recap = tune(other, tcp_tune_profile='ad_backend_incident', tcp_tune_profile_version=1,
                                tcp_tune_reserve_listening_ports=False)
            assert proc.returncode != 0
            assert ('nothing was changed: net.ipv4.ip_local_port_range: 1024-65000 includes the listening ports 8080 '
                    'and reserve_listening_ports is off: outgoing connections could take them') in proc.stdout
            assert other.snapshot(WATCHED, [DROPIN, FACT, STATE]) == before
        finally:
            srv2.kill()
    finally:
        srv.kill()


def test_a_later_file_that_overrides_at_boot_is_reported(isolated_hosts):
    host = isolated_hosts()[0]
    host.run('sh', '-c', 'echo "net.ipv4.tcp_fin_timeout = 50" > /etc/sysctl.d/99-local.conf', check=True)
    proc, recap = tune(host, tcp_tune_profile='web_frontend')
    assert proc.returncode == 0 and recap[1] == 0, proc.stdout[-3000:]
    warning = ('net.ipv4.tcp_fin_timeout: /etc/sysctl.d/99-local.conf line 1 sets 50 after '
               '/etc/sysctl.d/60-netops-tcp.conf at boot, overriding it')
    assert warning in ' '.join(proc.stdout.split()) + ' '.join(proc.stderr.split())
    assert host.read('/etc/sysctl.d/99-local.conf') == 'net.ipv4.tcp_fin_timeout = 50\n'  # never edited
    assert host.sysctl('net.ipv4.tcp_fin_timeout') == '30'


def test_reviewed_versions_upgrade_and_give_back_what_they_drop(isolated_hosts):
    """web_frontend 1 -> 2 drops tcp_max_syn_backlog (consulted only with syncookies off); lb_backend
    2 with LVS direct routing, then without it; ad_backend_incident 3 -> 4 moves the port range's
    end to the other parity. Each key a version stops setting gets its original back."""
    host = isolated_hosts()[0]
    original = dict((k, host.sysctl(k)) for k in ('net.ipv4.tcp_max_syn_backlog', 'net.ipv4.conf.all.arp_ignore',
                                                  'net.ipv4.conf.all.arp_announce', 'net.ipv4.ip_local_port_range'))
    proc, _recap = tune(host, tcp_tune_profile='web_frontend', tcp_tune_profile_version=1)
    assert proc.returncode == 0 and host.sysctl('net.ipv4.tcp_max_syn_backlog') == '16384'
    proc, _recap = tune(host, tcp_tune_profile='web_frontend', tcp_tune_profile_version=2)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert host.sysctl('net.ipv4.tcp_max_syn_backlog') == original['net.ipv4.tcp_max_syn_backlog']
    assert 'net.ipv4.tcp_max_syn_backlog' not in host.read(DROPIN)
    assert 'net.ipv4.tcp_congestion_control' not in host.read(DROPIN)  # bbr only when asked

    proc, _recap = tune(host, tcp_tune_profile='lb_backend', tcp_tune_profile_version=2,
                        tcp_tune_profile_parameters={'lvs_direct_routing': True})
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert (host.sysctl('net.ipv4.conf.all.arp_ignore'), host.sysctl('net.ipv4.conf.all.arp_announce')) == ('1', '2')
    assert 'net.ipv4.conf.all.arp_ignore = 1\n' in host.read(DROPIN)
    proc, _recap = tune(host, tcp_tune_profile='lb_backend', tcp_tune_profile_version=2)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert host.sysctl('net.ipv4.conf.all.arp_ignore') == original['net.ipv4.conf.all.arp_ignore']
    assert host.sysctl('net.ipv4.conf.all.arp_announce') == original['net.ipv4.conf.all.arp_announce']

    proc, _recap = tune(host, tcp_tune_profile='ad_backend_incident', tcp_tune_profile_version=3)
    assert proc.returncode == 0 and host.sysctl('net.ipv4.ip_local_port_range') == '15000 65000'
    proc, _recap = tune(host, tcp_tune_profile='ad_backend_incident', tcp_tune_profile_version=4)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert host.sysctl('net.ipv4.ip_local_port_range') == '15000 64999'
    record = json.loads(host.read(FACT))
    assert (record['profile'], record['version']) == ('ad_backend_incident', 4)
    # A host over 4 GB keeps its conntrack maximum (read-only here anyway), and every key v4 applies is live.
    for key, value in record['applied'].items():
        assert host.sysctl(key) == value, key
    proc, _recap = tune(host, tcp_tune_state='absent')
    assert proc.returncode == 0 and dict((k, host.sysctl(k)) for k in original) == original


def audit_persistence(host):
    """The persistence findings the audit makes of this host, from its facts and record."""
    from ansible_collections.netops.tcp.plugins.module_utils.judge import _findings as findings
    facts = host.ansible('netops.tcp.sysctl_facts', {'include_sources': True})['ansible_facts']['tcp_sysctl']
    record = json.loads(host.read(FACT))
    return [f for f in findings.host_findings({}, facts, record, None, DROPIN in facts['boot_files'])
            if f['kind'] == 'persistence']


def test_a_conntrack_key_lists_nf_conntrack_to_load_before_systemd_sysctl(isolated_hosts):
    """ad_backend_incident v4 plus a conntrack timeout a network namespace can set (nf_conntrack_max is
    read-only there): the key is applied, so nf_conntrack is loaded, and tune-tcp.yml lists it in
    /etc/modules-load.d/netops-tcp.conf; the audit then finds nothing that a reboot would undo. With the
    file turned off, the run warns and the audit tells the value the key falls back to after a reboot."""
    from ansible_collections.netops.tcp.plugins.module_utils.gather import _sysctl as sysctl
    host = isolated_hosts()[0]
    key = 'net.netfilter.nf_conntrack_tcp_timeout_established'
    if host.read('/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established') is None:
        pytest.skip('nf_conntrack is not loaded on this machine')
    if sysctl.boot_modules(['nf_conntrack'], os.uname().release)['nf_conntrack']:
        pytest.skip('this machine loads nf_conntrack at boot: no modules file is needed')
    original = host.sysctl(key)
    assert original != '86400'
    before = host.snapshot([key], [DROPIN, MODULES, FACT, STATE])
    v4 = dict(tcp_tune_profile='ad_backend_incident', tcp_tune_profile_version=4, tcp_tune_overrides={key: 86400})

    proc, recap = tune(host, tcp_tune_modules_file='', **v4)
    assert proc.returncode == 0 and recap[1] == 0, proc.stdout[-3000:]
    assert host.read(MODULES) is None and host.sysctl(key) == '86400'
    assert ('%s: %s sets it, but nothing loads nf_conntrack at boot before systemd-sysctl' % (key, DROPIN)) in \
        ' '.join((proc.stdout + proc.stderr).split())
    found = [f for f in audit_persistence(host) if f['key'] == key]
    assert found and (found[0]['expected'], found[0]['actual']) == ('86400', '432000'), found
    assert found[0]['message'].startswith('%s will be 432000 after a reboot (the kernel\'s default: nothing loads '
                                          'nf_conntrack before systemd-sysctl' % key)

    proc, recap = tune(host, '--check', '--diff', **v4)
    assert proc.returncode == 0 and recap[0] > 0, proc.stdout[-3000:]
    assert '+nf_conntrack\n' in proc.stdout and host.read(MODULES) is None  # the diff shows it, nothing written
    proc, recap = tune(host, **v4)
    assert proc.returncode == 0 and recap[1] == 0, proc.stdout[-3000:]
    listing = host.read(MODULES)
    assert listing.startswith('# Managed by netops.tcp (sysctl_tune).')
    assert [line for line in listing.splitlines() if not line.startswith('#')] == ['nf_conntrack']
    assert '# nf_conntrack: %s\n' % key in listing
    record = json.loads(host.read(FACT))
    assert record['modules_file'] == MODULES and record['applied'][key] == '86400'
    assert audit_persistence(host) == []  # nf_conntrack loads before systemd-sysctl: the value holds at boot
    again, recap = tune(host, **v4)
    assert again.returncode == 0 and recap == (0, 0), again.stdout[-3000:]

    proc, recap = tune(host, tcp_tune_state='absent')
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert host.snapshot([key], [DROPIN, MODULES, FACT, STATE]) == before  # value back, files gone
