# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The metrics as Prometheus sees them: Debian's node_exporter runs inside a namespace host with its
textfile collector on, metrics-tcp.yml writes netops_tcp.prom there, and the test scrapes /metrics
over HTTP. Ground truth: `ss` for the connections and who holds them, /proc/sys for the values,
`promtool check metrics` for the format."""

import collections
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from ansible_collections.netops.tcp.tests.integration.harness import ROOT
from ansible_collections.netops.tcp.tests.unit.plugins.module_utils.test_metrics import series

TEXTFILE_DIR = '/var/lib/prometheus/node-exporter'
PROM = TEXTFILE_DIR + '/netops_tcp.prom'
FIN = 'net.ipv4.tcp_fin_timeout'
SCRAPE = ('import sys, urllib.request\n'
          'sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:9100/metrics", timeout=10).read().decode())\n')


def tool(name):
    found = shutil.which(name)
    assert found, '%s is missing: scripts/bootstrap.sh extracts it from Debian\'s package' % name
    return found


class NodeExporter:
    """Debian's prometheus-node-exporter inside ``host`` (its network and mount namespaces), on
    127.0.0.1:9100 there, with the textfile collector reading Debian's directory."""

    def __init__(self, host):
        self.host = host
        self.proc = subprocess.Popen(['nsenter', '-t', str(host.holder.pid), '-n', '-m', tool('prometheus-node-exporter'),
                                      '--web.listen-address=127.0.0.1:9100',
                                      '--collector.textfile.directory=' + TEXTFILE_DIR],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 20
        while self.host.run(sys.executable, '-c', SCRAPE).returncode != 0:
            assert self.proc.poll() is None and time.time() < deadline, 'node_exporter did not start: %s' % (
                self.proc.stderr.read() if self.proc.poll() is not None else 'no answer in 20 s')
            time.sleep(0.2)

    def scrape(self):
        return self.host.run(sys.executable, '-c', SCRAPE, check=True).stdout

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def exporter_host(isolated_hosts):
    host = isolated_hosts()[0]
    yield host
    if getattr(host, 'exporter', None):
        host.exporter.close()


def scraped_values(scraped):
    """{series: float} of our series in a scrape (node_exporter prints 1796229906 as 1.796229906e+09)."""
    return dict((k, float(v)) for k, v in series(ours(scraped)).items())


def ours(scraped):
    """Our families from a scrape, HELP and TYPE lines included (for promtool)."""
    return ''.join(line + '\n' for line in scraped.splitlines() if re.match(r'^(# (HELP|TYPE) )?netops_tcp_', line))


def close_wait_by_process(host):
    """{process name: CLOSE_WAIT sockets} from `ss -tanpH state close-wait`."""
    counts = collections.Counter()
    for line in host.run('ss', '-tanpH', 'state', 'close-wait', check=True).stdout.splitlines():
        counts.update(re.findall(r'\(\("([^"]+)"', line))
    return dict(counts)


def test_node_exporter_serves_drift_and_a_close_wait_leak_then_the_drift_is_gone(exporter_host):
    host = exporter_host
    # A leak (the peer closed, nobody calls close()); loadgen sets its namespace's sysctls first.
    load = host.loadgen('--close-wait', '1200', '--queued', '5')
    tune = host.playbook(os.path.join(ROOT, 'tune-tcp.yml'), '-e', 'tcp_tune_profile=web_frontend')
    assert tune.returncode == 0, tune.stdout[-3000:]
    host.run('sysctl', '-w', '%s=45' % FIN, check=True)  # someone changes it by hand
    host.exporter = NodeExporter(host)
    assert 'netops_tcp_' not in host.exporter.scrape()

    run = host.playbook(os.path.join(ROOT, 'metrics-tcp.yml'), '-e', 'tcp_metrics_expected_profile=web_frontend')
    assert run.returncode == 0, run.stdout[-3000:]
    scraped = host.exporter.scrape()
    got = scraped_values(scraped)
    record = json.loads(host.read('/etc/ansible/facts.d/netops_tcp.fact'))
    assert got['netops_tcp_profile_info{checksum="%s",expected="web_frontend@2",profile="web_frontend",version="2"}'
               % record['checksum']] == 1
    assert got['netops_tcp_profile_applied_timestamp_seconds'] == int(
        subprocess.check_output(['date', '-u', '-d', record['time'], '+%s']))
    assert host.sysctl(FIN) == '45'
    assert got['netops_tcp_finding{key="%s",kind="drift",severity="warning"}' % FIN] == 1
    assert got['netops_tcp_findings{kind="drift",severity="warning"}'] == 1
    assert got['netops_tcp_findings{kind="close_wait",severity="warning"}'] == 1
    assert got['netops_tcp_findings{kind="persistence",severity="warning"}'] == 0
    states = host.ss_states()
    assert states['CLOSE_WAIT'] == 1200
    assert got['netops_tcp_connections{state="CLOSE_WAIT"}'] == 1200
    holders = close_wait_by_process(host)
    assert dict((re.match(r'netops_tcp_close_wait_connections\{process="(.*)"\}', k).group(1), v)
                for k, v in got.items() if k.startswith('netops_tcp_close_wait_connections')) == holders
    port = load['queue_listener']['port']
    assert (got['netops_tcp_listen_accept_queue{port="%d"}' % port], got['netops_tcp_listen_backlog{port="%d"}' % port]) \
        == (5, load['queue_listener']['backlog'])
    assert got['netops_tcp_time_wait_max'] == int(host.sysctl('net.ipv4.tcp_max_tw_buckets'))
    # node_exporter read the file without error; its mtime is served too.
    assert re.search(r'^node_textfile_scrape_error 0$', scraped, re.M)
    assert re.search(r'^node_textfile_mtime_seconds\{file="[^"]*netops_tcp\.prom"\} ', scraped, re.M)
    check = subprocess.run([tool('promtool'), 'check', 'metrics'], input=ours(scraped), capture_output=True, text=True,
                           check=False)
    assert check.returncode == 0 and not (check.stdout + check.stderr).strip(), check.stdout + check.stderr
    print('scraped from %s:\n%s' % (host.name, ours(scraped)))  # the closing note's excerpt (pytest -s)

    # The drift goes with the next tuning; the next export says so.
    assert host.playbook(os.path.join(ROOT, 'tune-tcp.yml'), '-e', 'tcp_tune_profile=web_frontend').returncode == 0
    assert host.sysctl(FIN) == '30'
    assert host.playbook(os.path.join(ROOT, 'metrics-tcp.yml'), '-e',
                         'tcp_metrics_expected_profile=web_frontend').returncode == 0
    got = scraped_values(host.exporter.scrape())
    assert got['netops_tcp_findings{kind="drift",severity="warning"}'] == 0
    assert not [k for k in got if k.startswith('netops_tcp_finding{') and 'kind="drift"' in k]
    assert got['netops_tcp_connections{state="CLOSE_WAIT"}'] == 1200  # the leak is still there


def test_check_mode_writes_nothing_and_bad_input_fails_naming_it(isolated_hosts):
    host = isolated_hosts()[0]
    check = host.ansible('netops.tcp.tcp_metrics', extra=['--check'])
    assert check['changed'] and check['dest'] == PROM and host.read(PROM) is None
    assert host.run('test', '-e', TEXTFILE_DIR).returncode == 1  # not even the directory
    result = host.ansible('netops.tcp.tcp_metrics')
    assert result['changed'] and result['expected'] is None
    before = host.read(PROM)
    assert series(before)['netops_tcp_managed'] == '0' and result['series'] == len(series(before))
    assert host.run('stat', '-c', '%a', PROM, check=True).stdout.strip() == '644'
    failed = host.ansible('netops.tcp.tcp_metrics', {'expected_profile': 'web_frontend'}, expect_failure=True)
    assert failed['msg'] == 'expected_version: give the version of expected_profile web_frontend (a number)'
    bad = host.ansible('netops.tcp.tcp_metrics', {'thresholds': {'close_wiat': 5}}, expect_failure=True)
    assert bad['msg'] == ('thresholds: unknown threshold close_wiat (known: close_wait, closing, conntrack_ratio, '
                          'ephemeral_ratio, fin_timeout_min, orphan_ratio, retransmit_ratio, syn_cookies, time_wait_ratio)')
    worse = host.ansible('netops.tcp.tcp_metrics', {'thresholds': {'close_wait': 'many'}}, expect_failure=True)
    assert worse['msg'] == "thresholds: threshold close_wait: 'many' is not a number of zero or more"
    host.run('touch', '/var/lib/not-a-dir', check=True)
    wrong = host.ansible('netops.tcp.tcp_metrics', {'textfile_dir': '/var/lib/not-a-dir'}, expect_failure=True)
    assert wrong['msg'] == 'textfile_dir: /var/lib/not-a-dir is a regular file, not a directory; nothing was written'
    assert host.read(PROM) == before
    # The role refuses an unknown profile on the controller, before any host runs anything.
    run = host.playbook(os.path.join(ROOT, 'metrics-tcp.yml'), '-e', 'tcp_metrics_expected_profile=web_fronted')
    assert run.returncode != 0 and 'web_fronted' in run.stdout, run.stdout[-2000:]
    assert host.read(PROM) == before


def test_a_crash_or_an_io_error_at_any_step_leaves_the_last_file_whole(isolated_hosts, monkeypatch, tmp_path):
    """Killed or failed at each step of the write, the file is the last one byte for byte or the new
    one whole, and no other *.prom file is left for node_exporter to read."""
    host = isolated_hosts()[0]
    tw_max = '/proc/sys/net/ipv4/tcp_max_tw_buckets'  # exported as netops_tcp_time_wait_max: each run's file differs
    host.ansible('netops.tcp.tcp_metrics')
    log = tmp_path / 'steps.log'
    monkeypatch.setenv('NETOPS_TCP_FAULT', 'count@0')
    monkeypatch.setenv('NETOPS_TCP_FAULT_LOG', str(log))
    host.run('sh', '-c', 'echo 1000 > %s' % tw_max, check=True)
    host.ansible('netops.tcp.tcp_metrics')
    steps = [line.split(' ', 1)[1] for line in log.read_text().splitlines()]
    assert steps == ['write ' + PROM, 'fsync ' + PROM, 'rename ' + PROM, 'fsync directory of ' + PROM]
    monkeypatch.delenv('NETOPS_TCP_FAULT_LOG')
    env = dict(os.environ, ANSIBLE_NOCOLOR='1')
    value = 1000
    for number in range(1, len(steps) + 1):
        for action in ('kill', 'error'):
            value += 1
            host.run('sh', '-c', 'rm -f %s/.netops_tcp.prom.tmp-*; echo %d > %s' % (TEXTFILE_DIR, value, tw_max), check=True)
            before = host.read(PROM)
            env['NETOPS_TCP_FAULT'] = '%s@%d' % (action, number)
            proc = subprocess.run(['ansible', host.name, '-i', host.inventory, '-m', 'netops.tcp.tcp_metrics'],
                                  capture_output=True, text=True, env=env, timeout=300, check=False)
            after = host.read(PROM)
            left = host.run('ls', '-A', TEXTFILE_DIR, check=True).stdout.split()
            assert [n for n in left if n.endswith('.prom')] == ['netops_tcp.prom'], (action, number, left)
            if number == 4:  # after the rename: the new file is whole
                assert series(after)['netops_tcp_time_wait_max'] == str(value), (action, number)
            else:
                assert after == before, (action, number)
            if action == 'error':
                assert left == ['netops_tcp.prom'], (number, left)  # its temporary file is gone too
                assert (proc.returncode == 0) == (number == 4), proc.stdout[-2000:]
                if number == 4:
                    assert 'is written, but its directory could not be synced: injected I/O error' in proc.stderr
                else:
                    assert 'cannot write %s: injected I/O error at step %d' % (PROM, number) in proc.stdout
            else:
                assert proc.returncode != 0, proc.stdout[-2000:]


def test_an_audit_writes_the_same_findings_as_metrics(isolated_hosts, tmp_path):
    """tcp_audit_metrics: the audit's report and each host's file agree, finding for finding."""
    hosts = isolated_hosts(2)
    tune = hosts[0].playbook(os.path.join(ROOT, 'tune-tcp.yml'), '-e', 'tcp_tune_profile=web_frontend',
                             '--limit', hosts[0].name)
    assert tune.returncode == 0, tune.stdout[-3000:]
    hosts[0].run('sysctl', '-w', '%s=2' % FIN, check=True)  # drift, and risky; the other host was never tuned
    audit = hosts[0].playbook(os.path.join(ROOT, 'audit-tcp.yml'), '-e', json.dumps({
        'tcp_audit_metrics': True, 'tcp_audit_expected_profile': 'web_frontend',
        'tcp_audit_report_dir': str(tmp_path / 'report')}))
    assert audit.returncode == 0, audit.stdout[-3000:]
    with open(tmp_path / 'report' / 'report.json') as handle:
        report = json.load(handle)
    for host in hosts:
        got = series(host.read(PROM))
        expected = collections.Counter((f['kind'], f['severity']) for f in report['hosts'][host.name]['findings'])
        assert dict((k, int(v)) for k, v in got.items() if k.startswith('netops_tcp_findings{') and v != '0') == dict(
            ('netops_tcp_findings{kind="%s",severity="%s"}' % kv, n) for kv, n in expected.items())
    kinds = [f['kind'] for f in report['hosts'][hosts[0].name]['findings']]
    assert 'drift' in kinds and 'risky' in kinds and kinds.count('unmanaged') == 0
    assert [f['kind'] for f in report['hosts'][hosts[1].name]['findings']] == ['unmanaged']


def test_two_runs_at_once_each_leave_a_whole_file(isolated_hosts, tmp_path):
    """A run paused just before its rename while another run writes: both renames land, the last
    one wins whole, and no temporary file is left."""
    host = isolated_hosts()[0]
    tw_max = '/proc/sys/net/ipv4/tcp_max_tw_buckets'
    gate = str(tmp_path / 'gate')
    host.run('sh', '-c', 'echo 1111 > %s' % tw_max, check=True)
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', NETOPS_TCP_FAULT='pause@3:' + gate)  # step 3: the rename
    first = subprocess.Popen(['ansible', host.name, '-i', host.inventory, '-m', 'netops.tcp.tcp_metrics'],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 60
    while not os.path.exists(gate + '.paused'):
        assert time.time() < deadline and first.poll() is None, 'the first run never reached its rename'
        time.sleep(0.05)
    host.run('sh', '-c', 'echo 2222 > %s' % tw_max, check=True)
    host.ansible('netops.tcp.tcp_metrics')
    assert series(host.read(PROM))['netops_tcp_time_wait_max'] == '2222'
    open(gate + '.resume', 'w').close()
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, out + err
    assert series(host.read(PROM))['netops_tcp_time_wait_max'] == '1111'  # the paused run's, whole
    assert host.run('ls', '-A', TEXTFILE_DIR, check=True).stdout.split() == ['netops_tcp.prom']
