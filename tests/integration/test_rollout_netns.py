# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tune-tcp.yml rolls out in waves under real traffic: each host a network namespace with a private
mount namespace running the load generator (a steady connection rate that leaves TIME_WAIT behind,
and a small-backlog listener under bursts). A good profile rolls through every wave; a profile that
provably hurts fails at the canary, which is put back byte for byte while no other host is touched;
an idle host and a counter reset between the windows do not trip the gate."""

import json
import os
import re
import subprocess
import sys
import uuid

import pytest

from ansible_collections.netops.tcp.tests.integration.harness import ROOT

DROPIN = '/etc/sysctl.d/60-netops-tcp.conf'
FACT = '/etc/ansible/facts.d/netops_tcp.fact'
STATE = '/var/lib/netops-tcp/state.json'
SOAK = 3
KEYS = ['net.ipv4.tcp_max_tw_buckets', 'net.ipv4.tcp_fin_timeout', 'net.core.somaxconn', 'net.ipv4.tcp_tw_reuse',
        'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_syncookies',
        'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem']
# Far below the TIME_WAIT sockets the load keeps (its rate x 60 s): every new one overflows.
HURTS = ('---\nname: tight_tw\nversion: 1\ndescription: Caps TIME_WAIT far below what the load keeps.\n'
         'settings:\n  net.ipv4.tcp_max_tw_buckets:\n    value: 64\n    rationale: A bad idea, on purpose.\n'
         '    guards: {allow_lower: true}\n'
         '  net.ipv4.tcp_fin_timeout:\n    value: 20\n    rationale: Harmless.\n')


def rollout(hosts, tmp_path, waves, report='report', **variables):
    variables = dict({'tcp_tune_waves': waves, 'tcp_tune_soak': SOAK, 'tcp_tune_report_dir': str(tmp_path / report)},
                     **variables)
    proc = hosts[0].playbook(os.path.join(ROOT, 'tune-tcp.yml'), '-e', json.dumps(variables))
    with open(str(tmp_path / report / 'rollout.json')) as handle:
        return proc, json.load(handle)


def files_and_values(host):
    live, texts = host.snapshot(KEYS, [DROPIN, FACT, STATE])
    dirs = dict((d, host.run('test', '-e', d).returncode == 0) for d in ('/etc/ansible/facts.d', '/var/lib/netops-tcp'))
    return live, texts, dirs


def test_a_good_profile_rolls_through_every_wave_with_its_effect_measured(isolated_hosts, tmp_path):
    hosts = isolated_hosts(3)
    for host in hosts[:2]:  # the third stays idle
        # A bad value from before: the load keeps more TIME_WAIT sockets than 200, so they overflow.
        host.run('sysctl', '-qw', 'net.ipv4.tcp_max_tw_buckets=200', check=True)
        host.loadgen('--rate', '100', '--burst', '30', '--burst-every', '0.5')
    # Check mode measures nothing, gates nothing and writes no report.
    check = hosts[0].playbook(os.path.join(ROOT, 'tune-tcp.yml'), '--check', '-e', json.dumps(
        {'tcp_tune_waves': [1, 1, '100%'], 'tcp_tune_soak': SOAK, 'tcp_tune_report_dir': str(tmp_path / 'report-check')}))
    assert check.returncode == 0, check.stdout[-4000:]
    assert 'Health at' not in check.stdout
    # The rollout's two steps are skipped whole, once a wave: none of their tasks shows up.
    for banner in ('Measure before the change (the rollout)]',
                   'Measure after the change, judge the wave and write the rollout report (the rollout)]'):
        runs = check.stdout.split(banner)[1:]
        assert len(runs) == 3 and all(r.split('\n')[1].startswith('skipping: ') for r in runs), banner
    for banner in ('Baseline window before the change]', 'Window after the change]', 'Judge the wave against its baseline'):
        assert banner not in check.stdout, banner
    assert not (tmp_path / 'report-check').exists() and hosts[0].sysctl('net.core.somaxconn') != '16384'
    proc, rep = rollout(hosts, tmp_path, [1, 1, '100%'])
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert [len(w['hosts']) for w in rep['waves']] == [1, 1, 1] and rep['stopped_at'] is None and not rep['not_reached']
    for wave, host in zip(rep['waves'], hosts):
        entry = wave['hosts'][host.name]
        assert entry['verdict'] == 'pass' and not wave['worse'], entry
        assert entry['profile_before'] is None and entry['profile_after'] == 'web_frontend@2'
        assert 'net.core.somaxconn' in entry['keys']
        assert abs(entry['baseline']['seconds'] - SOAK) < 0.3 and abs(entry['after']['seconds'] - SOAK) < 0.3
        assert host.sysctl('net.core.somaxconn') == '16384'
    busy, idle = rep['waves'][0]['hosts'][hosts[0].name], rep['waves'][2]['hosts'][hosts[2].name]
    # The effect: web_frontend's tcp_max_tw_buckets (262144) ends the TIME_WAIT overflows.
    assert busy['baseline']['rates']['TCPTimeWaitOverflow'] > 20 and busy['after']['rates']['TCPTimeWaitOverflow'] == 0
    # The bursts overflow the small listener at a steady pace, before and after: no trip on a busy host.
    assert busy['baseline']['rates']['ListenOverflows'] > 5 and busy['after']['rates']['ListenOverflows'] > 5
    assert busy['after']['states'].get('TIME_WAIT', 0) > 50
    assert all(v == 0 for v in idle['baseline']['rates'].values()), idle
    report_md = (tmp_path / 'report' / 'rollout.md').read_text()
    assert report_md.startswith('# TCP rollout\n\nRolled out in 3 waves to 3 hosts.')
    assert '## Wave 1: 1 host, passed' in report_md and re.search(r'; at its end [^|]*TIME_WAIT \d+', report_md) and 'ListenOverflows' in report_md
    html = (tmp_path / 'report' / 'rollout.html').read_text()
    assert html.count('passed</span></h2>') == 3

    # Rerun: nothing changes, so no window is measured and the waves do not wait.
    proc, rep = rollout(hosts, tmp_path, [1, 1, '100%'], report='report-rerun')
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert all(e['verdict'] == 'unchanged' for w in rep['waves'] for e in w['hosts'].values())
    assert 'Health at' not in proc.stdout
    for banner in ('Baseline window before the change]', 'Window after the change]'):
        runs = proc.stdout.split(banner)[1:]
        assert len(runs) == 3 and all(r.split('\n')[1].startswith('skipping: ') for r in runs), banner


@pytest.mark.parametrize('earlier', [None, 'web_frontend'])
def test_a_profile_that_hurts_fails_at_the_canary_which_is_put_back_byte_for_byte(isolated_hosts, tmp_path, earlier):
    """On untuned hosts the canary goes back to its values from before any tuning; on hosts that run
    web_frontend, back to web_frontend@2 (the keys tight_tw drops were put back to their originals)."""
    hosts = isolated_hosts(3)
    for host in hosts:
        host.loadgen('--rate', '100')
    if earlier:
        proc = hosts[0].playbook(os.path.join(ROOT, 'tune-tcp.yml'), '-e', json.dumps(
            {'tcp_tune_profile': earlier, 'tcp_tune_waves': ['100%'], 'tcp_tune_soak': 0}))
        assert proc.returncode == 0, proc.stdout[-4000:]
    paths = tmp_path / 'profiles' / 'tight_tw'
    paths.mkdir(parents=True)
    (paths / 'v1.yml').write_text(HURTS)
    before = [files_and_values(h) for h in hosts]
    assert before[0][0]['net.ipv4.tcp_max_tw_buckets'] != '64'
    proc, rep = rollout(hosts, tmp_path, [1, '100%'], tcp_tune_profile='tight_tw',
                        tcp_tune_profile_paths=[str(tmp_path / 'profiles')])
    assert proc.returncode != 0
    canary = hosts[0].name
    trip = rep['waves'][0]['hosts'][canary]['worse'][0]
    assert trip['counter'] == 'TCPTimeWaitOverflow' and trip['baseline'] == 0.0 and trip['after'] > 20, trip
    message = ('wave 1 got worse, so it was put back and the rollout stops: %s: TCPTimeWaitOverflow went from 0.0/s '
               '(baseline) to %s/s, above 2.0 x the baseline and the floor 1.0/s' % (canary, trip['after']))
    assert message in proc.stdout, proc.stdout[-4000:]
    # The canary is as it was, byte for byte: live values, drop-in, record, directories; the state too
    # (after an earlier tuning it is that tuning's, without the change it undid).
    after = files_and_values(hosts[0])
    if earlier:
        state_then, state_now = json.loads(before[0][1].pop(STATE)), json.loads(after[1].pop(STATE))
        state_then.pop('previous')
        assert state_now == state_then
    assert after == before[0]
    # No other host was touched.
    assert [files_and_values(h) for h in hosts[1:]] == before[1:]
    recap = proc.stdout.split('PLAY RECAP')[1]
    assert canary in recap and not any(h.name in recap for h in hosts[1:])
    assert rep['stopped_at'] == 1 and rep['not_reached'] == sorted(h.name for h in hosts[1:])
    back = rep['waves'][0]['hosts'][canary]['put_back']
    assert not back['failed'] and back['to_profile'] == (earlier and earlier + '@2')
    report_md = (tmp_path / 'report' / 'rollout.md').read_text()
    assert 'Stopped at wave 1: it got worse and was put back; 2 hosts not reached.' in report_md
    if earlier:
        assert back['keys'][:3] == ['net.core.somaxconn', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl']
        assert 'net.ipv4.tcp_max_tw_buckets' in back['keys'] and 'put back to web_frontend@2 (' in report_md
    else:
        assert back['keys'] == ['net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_max_tw_buckets']
        assert ('put back to the values from before any tuning (net.ipv4.tcp_fin_timeout, net.ipv4.tcp_max_tw_buckets)'
                in report_md)


def test_a_counter_reset_between_the_windows_does_not_trip_the_gate(isolated_hosts, tmp_path):
    """The last snapshot is taken in a new network namespace (a restarted container or a rebooted
    host: its counters start again at zero): the window has no rates, and the rollout goes on."""
    host = isolated_hosts(1)[0]
    host.loadgen('--rate', '100')
    fresh = 'netops-it-%s' % uuid.uuid4().hex[:8]
    subprocess.run(['ip', 'netns', 'add', fresh], check=True)
    # The host's module runs are: plan, two snapshots, apply, two snapshots. From the sixth on, the
    # interpreter starts in the host's own mount namespace (its /etc and /var/lib) but the new network one.
    count = tmp_path / 'runs'
    with open(host.python, 'w') as handle:
        handle.write('#!/bin/sh\nn=$(( $(cat %s 2>/dev/null || echo 0) + 1 )); echo $n > %s\n'
                     'if [ $n -ge 6 ]; then exec nsenter --net=/run/netns/%s -t %d -m %s "$@"; fi\n'
                     'exec nsenter -t %d -n -m %s "$@"\n'
                     % (count, count, fresh, host.holder.pid, sys.executable, host.holder.pid, sys.executable))
    try:
        proc, rep = rollout([host], tmp_path, [1])
    finally:
        subprocess.run(['ip', 'netns', 'del', fresh], check=False)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert count.read_text().strip() == '6'
    entry = rep['waves'][0]['hosts'][host.name]
    assert entry['verdict'] == 'unmeasured'
    assert entry['reason'] == 'the after window has no rates: the network namespace is a new one (its counters start at zero)'
    assert entry['baseline']['rates']['OutRsts'] >= 0 and entry['after']['rates'] == {}
