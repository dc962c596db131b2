# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TuneD as another owner, with Debian's real tuned package: a namespace host whose (overlaid) /etc
selects its network-throughput profile, which sets tcp_rmem in its [sysctl] section. The daemon
never runs: it would tune this machine's CPUs and disks. What it would write at boot is read from
its files, as `tuned-adm active` reads the active profile without the daemon."""

import json
import os
import re

from ansible_collections.netops.tcp.tests.integration.harness import ROOT

PROFILE = '/usr/lib/tuned/network-throughput/tuned.conf'
DROPIN = '/etc/sysctl.d/60-netops-tcp.conf'
RMEM = 'net.ipv4.tcp_rmem'
OURS = '4096 131072 67108864'


def tuned_line(key):
    """(line number, value) of ``key`` in the package's profile: the ground truth."""
    with open(PROFILE) as handle:
        for number, line in enumerate(handle, 1):
            if line.startswith(key + '='):
                return number, line.split('=', 1)[1].strip().strip('"')
    raise AssertionError('%s is not in %s' % (key, PROFILE))


def select(host, reapply):
    host.run('sh', '-c', 'mkdir -p /etc/systemd/system/multi-user.target.wants && '
             'ln -sfn /lib/systemd/system/tuned.service /etc/systemd/system/multi-user.target.wants/tuned.service && '
             'echo network-throughput > /etc/tuned/active_profile && '
             'sed -i "s/^reapply_sysctl *=.*/reapply_sysctl = %d/" /etc/tuned/tuned-main.conf' % reapply, check=True)


def test_tuned_is_named_as_a_writer_by_facts_tune_and_audit(isolated_hosts, tmp_path):
    host = isolated_hosts()[0]
    select(host, reapply=0)
    line, value = tuned_line(RMEM)
    facts = host.ansible('netops.tcp.sysctl_facts', {'include_sources': True})['ansible_facts']['tcp_sysctl']
    # Without its daemon, tuned-adm names the profile TuneD applies when it starts ("Preset profile").
    adm = re.search(r'(?:Current active|Preset) profile: (.+)', host.run('tuned-adm', 'active').stdout)
    assert facts['tuned']['profiles'] == adm.group(1).split() == ['network-throughput']
    assert facts['tuned']['files'] == ['/usr/lib/tuned/throughput-performance/tuned.conf', PROFILE]  # include= first
    assert (facts['tuned']['enabled'], facts['tuned']['reapply_sysctl']) == (True, False)
    source = facts['sources'][RMEM]
    assert (source['boot_owner'], source['boot_value'], source['boot_file']) == ('tuned', value, PROFILE)
    assert source['writers'][-1]['line'] == line

    # Tuning warns before it writes; the value is live, the drop-in written, TuneD's file untouched.
    before = host.read(PROFILE)
    # A 64 MB receive maximum (v2's 16 MB is below this kernel's own 32 MB: it would be kept, not written).
    tune = host.playbook(os.path.join(ROOT, 'tune-tcp.yml'), '-e', json.dumps({
        'tcp_tune_profile': 'ad_backend_incident', 'tcp_tune_profile_version': 2,
        'tcp_tune_overrides': {RMEM: OURS}}))
    assert tune.returncode == 0, tune.stdout[-3000:]
    out = ' '.join((tune.stdout + tune.stderr).split())
    assert ('%s: TuneD profile network-throughput (%s line %d) sets %s after %s at boot, overriding it'
            % (RMEM, PROFILE, line, value, DROPIN)) in out
    assert 'net.ipv4.tcp_wmem: TuneD' not in out  # TuneD sets the same value v2 does: nothing is overridden
    assert host.sysctl(RMEM) == OURS and '%s = %s' % (RMEM, OURS) in host.read(DROPIN)
    assert host.read(PROFILE) == before

    def persistence():
        audit = host.playbook(os.path.join(ROOT, 'audit-tcp.yml'), '-e', json.dumps({'tcp_audit_report_dir': str(tmp_path)}))
        assert audit.returncode == 0, audit.stdout[-3000:]
        report = json.loads((tmp_path / 'report.json').read_text())
        return [f for f in report['hosts'][host.name]['findings'] if f['kind'] == 'persistence']

    assert persistence() == [{
        'kind': 'persistence', 'severity': 'warning', 'key': RMEM, 'expected': OURS, 'actual': value,
        'message': "%s will be %s after a reboot (set by TuneD profile network-throughput, %s line %d, after the "
                   "sysctl.d files), not %s: remove it from that profile's [sysctl] section, or let TuneD re-apply "
                   "sysctl.d (reapply_sysctl = 1 in /etc/tuned/tuned-main.conf)." % (RMEM, value, PROFILE, line, OURS)}]

    # With reapply_sysctl on (TuneD's default), TuneD writes the drop-in's values again after its own.
    select(host, reapply=1)
    facts = host.ansible('netops.tcp.sysctl_facts', {'include_sources': True})['ansible_facts']['tcp_sysctl']
    source = facts['sources'][RMEM]
    assert [w['owner'] for w in source['writers']] == ['systemd-sysctl', 'tuned', 'tuned reapply_sysctl']
    assert (source['boot_owner'], source['boot_value'], source['boot_file']) == (
        'tuned reapply_sysctl', OURS, DROPIN)
    assert persistence() == []
    assert re.search(r'reapply_sysctl = 1', host.read('/etc/tuned/tuned-main.conf'))
