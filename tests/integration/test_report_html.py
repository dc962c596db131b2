# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit's and the rollout's HTML reports render in headless Chromium, offline, with host text shown as text."""

import re
import struct
import subprocess

from ansible_collections.netops.tcp.plugins.module_utils.judge import _health as health
from ansible_collections.netops.tcp.plugins.plugin_utils import _fleet as fleet_summary
from ansible_collections.netops.tcp.plugins.plugin_utils import _report as report
from ansible_collections.netops.tcp.plugins.plugin_utils import _rollout as rollout

CHROMIUM = ['chromium', '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
            '--disable-background-networking', '--disable-component-update', '--disable-sync']
HOSTS = {
    'web-1': {'record': {'profile': 'web_frontend', 'version': 1}, 'findings': [], 'kernel': '6.1.0-50-cloud-amd64',
              'states': {'ESTABLISHED': 89782, 'SYN_RECV': 7314, 'CLOSE_WAIT': 1122, 'FIN_WAIT1': 2074, 'TIME_WAIT': 1443}},
    'lvs-1': {'record': {'profile': 'lb_backend', 'version': 1}, 'states': {'TIME_WAIT': 113083, 'ESTABLISHED': 1539},
              'findings': [{'kind': 'time_wait', 'severity': 'warning', 'key': 'net.ipv4.tcp_max_tw_buckets',
                            'expected': '< 90%', 'actual': 113083, 'message': '113083 TIME_WAIT sockets'}]},
    '<script>document.title="pwned"</script>': {
        'record': None, 'states': {'ESTABLISHED': 5}, 'kernel': '6.1<script>document.title="k"</script>\u202e|x',
        'findings': [{'kind': 'drift', 'severity': 'critical', 'key': 'net.ipv4.tcp_fin_timeout', 'expected': '30',
                      'actual': '<img src=x onerror="document.title=1">', 'message': 'drifted'}]},
}


def test_report_renders_and_host_text_stays_text(tmp_path):
    page = tmp_path / 'report.html'
    page.write_text(report.html(fleet_summary.fleet(HOSTS)))
    profile = ['--user-data-dir=%s' % (tmp_path / 'chromium')]
    shot = tmp_path / 'report.png'
    subprocess.run(CHROMIUM + profile + ['--window-size=1280,1200', '--screenshot=%s' % shot, page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    data = shot.read_bytes()
    assert data[:8] == b'\x89PNG\r\n\x1a\n'
    assert struct.unpack('>II', data[16:24]) == (1280, 1200)
    dom = subprocess.run(CHROMIUM + profile + ['--dump-dom', page.as_uri()], check=True, capture_output=True,
                         text=True, timeout=120).stdout
    assert '<title>TCP audit</title>' in dom  # no injected script ran and renamed the page
    assert '&lt;script&gt;document.title="pwned"&lt;/script&gt;' in dom
    assert len(re.findall(r'<svg class="bar"', dom)) == 3
    assert 'lvs-1' in dom and 'web_frontend@1' in dom
    assert '<td>6.1&lt;script&gt;document.title="k"&lt;/script&gt;\\u202e|x</td><td>1</td>' in dom  # kernels table
    assert dom.count('<td>6.1.0-50-cloud-amd64</td>') == 2 and dom.count('<td>-</td>') == 1  # hosts table, lvs-1 unknown


def fleet_of(size):
    """A fleet report of ``size`` hosts: one in ten drifted, one in fifty with a SYN flood."""
    hosts = {}
    for i in range(size):
        findings = []
        if i % 10 == 0:
            findings.append({'kind': 'drift', 'severity': 'warning', 'key': 'net.ipv4.tcp_fin_timeout', 'expected': '30',
                             'actual': '45', 'message': 'drifted'})
        if i % 50 == 0:
            findings.insert(0, {'kind': 'syn_flood', 'severity': 'critical', 'key': None, 'expected': '< 1000',
                                'actual': 7314, 'message': 'SYN flood'})
        hosts['host-%05d' % i] = {'record': {'profile': 'web_frontend' if i % 3 else 'lb_backend', 'version': 1},
                                  'states': {'ESTABLISHED': 1000 + i, 'TIME_WAIT': 50 * (i % 7)}, 'findings': findings}
    return fleet_summary.fleet(hosts)


def test_a_fleet_of_5000_hosts_is_one_page_of_the_1000_worst_with_working_filters(tmp_path):
    page = tmp_path / 'report.html'
    page.write_text(report.html(fleet_of(5000)))
    assert page.stat().st_size < 1024 * 1024
    profile = ['--user-data-dir=%s' % (tmp_path / 'chromium')]
    shot = tmp_path / 'report.png'
    subprocess.run(CHROMIUM + profile + ['--window-size=1280,1600', '--screenshot=%s' % shot, page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    assert shot.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    dom = subprocess.run(CHROMIUM + profile + ['--dump-dom', page.as_uri() + '#severity=critical&kind=&profile='],
                         check=True, capture_output=True, text=True, timeout=120).stdout
    assert '100 of 1000 hosts shown' in dom  # the filter script ran on the address's choice
    assert 'The 1000 worst of 5000 hosts; every host is in report.json and report.xml.' in dom
    rows = re.findall(r'<tr data-severity="(\w+)"[^>]*?(style="display: none;")?>', dom)
    assert len(rows) == 1000 and [r[0] for r in rows[:100]] == ['critical'] * 100  # worst first
    assert [r[0] for r in rows[100:500]] == ['warning'] * 400  # then the other 400 drifted hosts
    assert all(hidden for severity, hidden in rows if severity != 'critical')
    assert '<svg class="bar"' not in dom  # fleet charts instead of 5000 bars
    assert 'Findings per kind' in dom and 'id="state-distribution"' in dom
    md = report.markdown(fleet_of(5000))
    assert md.count('\n## ') == 20 and 'The 20 worst hosts; every host is in report.json and report.xml.' in md


def test_the_rollout_page_renders_and_host_text_stays_text(tmp_path):
    def snap(at, overflow=0):
        return {'counters': {'TCPTimeWaitOverflow': overflow}, 'states': {'TIME_WAIT': 64},
                'clock': {'monotonic': at, 'boot_id': 'b', 'netns': 'n'}}
    evil = '<img src=x onerror="document.title=1">'
    wave = rollout.judge(1, {evil: {'changed': True, 'profile_before': None, 'profile_after': 'tight_tw@1',
                                    'applied': [{'key': 'net.ipv4.tcp_max_tw_buckets', 'before': '262144', 'after': '64'}],
                                    'snapshots': [snap(0), snap(10), snap(20), snap(30, 900)]}},
                         health.check_gate(health.DEFAULT_GATE))
    page = tmp_path / 'rollout.html'
    page.write_text(rollout.html(rollout.rollout([wave], {}, [evil, 'web-2'], health.DEFAULT_GATE, 10, 'now')))
    profile = ['--user-data-dir=%s' % (tmp_path / 'chromium')]
    dom = subprocess.run(CHROMIUM + profile + ['--dump-dom', page.as_uri()], check=True, capture_output=True,
                         text=True, timeout=120).stdout
    assert '<title>TCP rollout</title>' in dom and '&lt;img src=x onerror="document.title=1"&gt;' in dom
    assert 'Stopped at wave 1: it got worse and was put back; 1 host not reached.' in dom
    assert 'TCPTimeWaitOverflow went from 0.0/s (baseline) to 90.0/s' in dom
