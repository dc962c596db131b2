# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection run as AWX runs it: each job through ansible-runner as receptor drives it
(transmit here, worker inside the execution environment image that scripts/ee.sh builds, process
back here), against the SSH fleet (hosts with their own sshd in network namespaces). The job's
private data directory is laid out as AWX lays it out (project, inventory, env/ssh_key given to
ssh-agent, env/extravars, the fact cache in artifacts/<ident>/fact_cache); the container runs as
the image's user (1000) and joins the fleet's hub network namespace to reach the hosts. Each test
reads what AWX stores of a job: the status and rc, the job events, and the set_stats artifacts of
the playbook_on_stats event; and checks them against the hosts themselves (sysctl inside each, ss,
the report files byte for byte). ansible-navigator runs the audit in the same image too."""

import glob
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys

import pytest

from ansible_collections.netops.tcp.plugins.module_utils.gather._host import DEFAULT_FACT
from ansible_collections.netops.tcp.tests.integration.harness import ROOT

IMAGE = subprocess.run(  # NETOPS_TCP_EE_IMAGE names another
    ['bash', os.path.join(ROOT, 'scripts', 'ee.sh'), '--print-image'], capture_output=True, text=True, check=True).stdout.strip()
RUNNER = os.path.join(os.path.dirname(sys.executable), 'ansible-runner')
FIN = 'net.ipv4.tcp_fin_timeout'
EE_USER = 1000  # ansible-builder's default user: the files the job writes on a volume are its
PLAYBOOKS = {
    'tune.yml': '- name: Tune\n  ansible.builtin.import_playbook: netops.tcp.tune_tcp\n',
    'audit.yml': '- name: Audit\n  ansible.builtin.import_playbook: netops.tcp.audit_tcp\n',
    'metrics.yml': '- name: Metrics\n  ansible.builtin.import_playbook: netops.tcp.metrics_tcp\n',
    'gather.yml': '- name: Gather facts into the fact cache\n  hosts: all\n  gather_facts: true\n  tasks: []\n',
}


@pytest.fixture(autouse=True, scope='module')
def ee_image():
    """The image must be there, built from this checkout: `scripts/test.sh pytest` builds it first."""
    if subprocess.run(['podman', 'image', 'exists', IMAGE], check=False).returncode:
        pytest.fail('%s is not built: run scripts/ee.sh (scripts/test.sh pytest does)' % IMAGE)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class Result:
    """What AWX keeps of a job: artifacts/<ident>/status, rc, job_events/*.json and stdout."""

    def __init__(self, artifacts, proc):
        self.dir, self.proc = artifacts, proc

        def read(name):
            path = os.path.join(artifacts, name)
            return open(path).read().strip() if os.path.exists(path) else None
        self.status, self.rc, self.stdout = read('status'), read('rc'), read('stdout') or ''
        self.events = []
        for path in glob.glob(os.path.join(artifacts, 'job_events', '*.json')):
            with open(path) as handle:
                self.events.append(json.load(handle))
        self.events.sort(key=lambda e: e['counter'])
        stats = [e for e in self.events if e['event'] == 'playbook_on_stats']
        self.artifacts = stats[0]['event_data'].get('artifact_data') if stats else None

    def where(self):
        return 'status %s rc %s\n%s\n%s' % (self.status, self.rc, self.stdout[-4000:], self.proc.stderr[-2000:])

    def task_events(self, task, event=None):
        """The events of the task named ``task`` (runner_on_ok, runner_on_failed, ...), one per host."""
        return [e for e in self.events if e.get('event_data', {}).get('task') == task and
                (event is None or e['event'] == event)]


class Job:
    """A private data directory as AWX lays out a job's, over the hosts of ``fleet`` (or some of them:
    a slice's inventory holds only its hosts), run in the EE from the fleet's hub namespace."""

    def __init__(self, tmp_path, fleet, name, hosts=None):
        self.fleet, self.dir, self.count, self.facts = fleet, str(tmp_path / name), 0, None
        hosts = fleet.hosts if hosts is None else hosts
        for sub in ('project', 'inventory', 'env', 'artifacts'):
            os.makedirs(os.path.join(self.dir, sub))
        for name, text in PLAYBOOKS.items():
            with open(os.path.join(self.dir, 'project', name), 'w') as handle:
                handle.write('---\n' + text)
        with open(os.path.join(self.dir, 'inventory', 'hosts'), 'w') as handle:
            handle.write('[fleet]\n' + ''.join('%s ansible_host=%s\n' % (h.name, h.address) for h in hosts))
            # Under all: a report host named by its address alone (outside a slice's inventory) gets them too.
            handle.write('[all:vars]\nansible_user=root\nansible_python_interpreter=/usr/bin/python3\n'
                         'ansible_ssh_common_args=-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null '
                         '-o LogLevel=ERROR\n')
        shutil.copy(fleet.key, os.path.join(self.dir, 'env', 'ssh_key'))  # the worker gives it to ssh-agent
        os.chmod(os.path.join(self.dir, 'env', 'ssh_key'), 0o600)

    def run(self, playbook, extravars=None, check=False, volumes=(), fact_cache=False):
        """The job as AWX runs it through receptor: `ansible-runner transmit` packs the private data
        directory, `ansible-runner worker` runs it inside the EE container (as the image's user),
        `ansible-runner process` unpacks the stream of events and artifacts back into the directory.
        With ``fact_cache`` the job uses AWX's fact cache: the facts the last such job left are
        written into this job's artifacts/<ident>/fact_cache, the jsonfile cache ansible reads."""
        self.count += 1
        ident = 'job-%d' % self.count
        envvars = {'ANSIBLE_HOST_KEY_CHECKING': 'False'}
        if fact_cache:
            cache = os.path.join(self.dir, 'artifacts', ident, 'fact_cache')
            if self.facts:
                shutil.copytree(self.facts, cache)
            envvars.update(ANSIBLE_CACHE_PLUGIN='jsonfile',
                           ANSIBLE_CACHE_PLUGIN_CONNECTION='/runner/artifacts/%s/fact_cache' % ident,
                           ANSIBLE_FACTS_MODULES='ansible.builtin.setup,netops.tcp.audit_facts')
            self.facts = cache
        with open(os.path.join(self.dir, 'env', 'extravars'), 'w') as handle:
            json.dump(dict({'tcp_tune_soak': 0}, **(extravars or {})), handle)
        with open(os.path.join(self.dir, 'env', 'envvars'), 'w') as handle:
            json.dump(envvars, handle)
        # A check job's options, in env/cmdline as runner reads them (a file: it stays for the next job
        # unless taken away).
        cmdline = os.path.join(self.dir, 'env', 'cmdline')
        if check:
            with open(cmdline, 'w') as handle:
                handle.write('--check --diff')
        elif os.path.exists(cmdline):
            os.remove(cmdline)
        transmit = [RUNNER, 'transmit', self.dir, '-p', playbook, '--ident', ident]
        # The container joins the hub's network namespace (not `ip netns exec`, whose fresh /sys has
        # no cgroup mount for the container runtime).
        worker = ['podman', 'run', '--rm', '-i', '--network=ns:/run/netns/%s' % self.fleet.hub]
        for mount in volumes:
            worker += ['-v', mount]
        worker += [IMAGE, 'ansible-runner', 'worker', '--private-data-dir=/runner']
        process = [RUNNER, 'process', self.dir, '--ident', ident]
        script = ' | '.join(' '.join(shlex.quote(a) for a in cmd) for cmd in (transmit, worker, process))
        proc = subprocess.run(['bash', '-o', 'pipefail', '-c', script], capture_output=True, text=True,
                              timeout=300, check=False)
        return Result(os.path.join(self.dir, 'artifacts', ident), proc)


def volume(tmp_path, name='reports'):
    """A host directory for a job's volume, owned by the EE's user as a volume for it would be."""
    path = tmp_path / name
    path.mkdir()
    os.chown(str(path), EE_USER, 0)
    return path


def test_tune_in_check_mode_then_for_real_gives_the_summary_as_the_jobs_artifacts(ssh_fleet, tmp_path):
    fleet = ssh_fleet(2)
    job = Job(tmp_path, fleet, 'tune')
    before = dict((h.name, h.sysctl(FIN)) for h in fleet.hosts)
    assert set(before.values()) == {'60'}
    check = job.run('tune.yml', {'tcp_tune_profile': 'web_frontend'}, check=True)
    assert (check.status, check.rc) == ('successful', '0'), check.where()
    applied = check.task_events('Apply the profile', 'runner_on_ok')
    assert sorted(e['event_data']['host'] for e in applied) == sorted(before)
    assert all(e['event_data']['res']['changed'] for e in applied)
    summary = check.artifacts['netops_tcp_tune']
    assert (summary['check_mode'], summary['profile'], summary['hosts'], summary['changed'], summary['failed']) == (
        True, 'web_frontend@2', 2, 2, 0)
    assert summary['applied_keys'][FIN] == 2 and summary['rollout'] is None
    assert dict((h.name, h.sysctl(FIN)) for h in fleet.hosts) == before  # check mode changed nothing
    assert all(h.read(DEFAULT_FACT) is None for h in fleet.hosts)

    real = job.run('tune.yml', {'tcp_tune_profile': 'web_frontend'})
    assert (real.status, real.rc) == ('successful', '0'), real.where()
    summary = real.artifacts['netops_tcp_tune']
    assert (summary['check_mode'], summary['changed'], summary['changed_hosts']) == (
        False, 2, sorted(h.name for h in fleet.hosts))
    assert summary['applied_keys'][FIN] == 2 and summary['mismatched_hosts'] == []
    for host in fleet.hosts:
        assert host.sysctl(FIN) == '30'
        assert json.loads(host.read(DEFAULT_FACT))['profile'] == 'web_frontend'
    again = job.run('tune.yml', {'tcp_tune_profile': 'web_frontend'})
    assert (again.status, again.artifacts['netops_tcp_tune']['changed'], again.artifacts['netops_tcp_tune']['unchanged']) == (
        'successful', 0, 2)

    # A rollout that measures writes its report to a volume; the artifacts name it with its checksum.
    # Two hosts go in two waves (the canary, then 10% rounded up); the last wave's summary is the run's.
    reports = volume(tmp_path)
    rollout = job.run('tune.yml', {'tcp_tune_profile': 'lb_backend', 'tcp_tune_soak': 1,
                                   'tcp_tune_report_dir': '/reports/rollout'}, volumes=['%s:/reports:Z' % reports])
    assert (rollout.status, rollout.rc) == ('successful', '0'), rollout.where()
    summary = rollout.artifacts['netops_tcp_tune']
    written = (reports / 'rollout' / 'rollout.json').read_bytes()
    assert (summary['profile'], summary['changed']) == ('lb_backend@2', 2)
    assert summary['rollout'] == {'waves': 2, 'stopped_at': None, 'worse_hosts': [], 'put_back': 0,
                                  'report': {'host': 'localhost', 'dest': '/reports/rollout', 'sha256': sha256(written)}}
    waves = json.loads(written)['waves']
    assert [len(w['hosts']) for w in waves] == [1, 1]
    assert sorted(name for w in waves for name in w['hosts']) == sorted(h.name for h in fleet.hosts)

    # The same to a report host (by address, outside the inventory): each wave's report lands there.
    keeper, remote = fleet.hosts[1], '/var/lib/netops-tcp-reports/rollout'
    shipped = job.run('tune.yml', {'tcp_tune_profile': 'web_frontend', 'tcp_tune_soak': 1,
                                   'tcp_tune_report_dir': remote, 'tcp_tune_report_host': keeper.address})
    assert (shipped.status, shipped.rc) == ('successful', '0'), shipped.where()
    there = keeper.read(remote + '/rollout.json')
    assert shipped.artifacts['netops_tcp_tune']['rollout']['report'] == {
        'host': keeper.address, 'dest': remote, 'sha256': sha256(there.encode())}
    assert len(json.loads(there)['waves']) == 2 and fleet.hosts[0].read(remote + '/rollout.json') is None
    assert not os.path.exists(remote)  # the host's own /var/lib, not this machine's
    assert sorted(keeper.run('ls', remote).stdout.split()) == ['rollout.html', 'rollout.json', 'rollout.md']

    # A wave that fails still sums up the run as far as it went: the canary failed, the rest not reached.
    broken = job.run('tune.yml', {'tcp_tune_profile': 'web_frontend', 'tcp_tune_profile_version': 99})
    assert (broken.status, broken.rc) == ('failed', '2'), broken.where()
    summary = broken.artifacts['netops_tcp_tune']
    assert (summary['profile'], summary['hosts'], summary['changed'], summary['failed'], summary['not_reached']) == (
        'web_frontend@99', 2, 0, 1, 1)
    assert summary['failed_hosts'] == [broken.task_events('Resolve the profile on the controller',
                                                          'runner_on_failed')[0]['event_data']['host']]
    assert all(h.sysctl(FIN) == '30' for h in fleet.hosts)  # web_frontend, as the run before left them


def test_audit_live_to_a_volume_and_a_report_host_fails_on_drift_with_the_summary_kept(ssh_fleet, tmp_path):
    fleet = ssh_fleet(2)
    tuned = Job(tmp_path, fleet, 'tune').run('tune.yml', {'tcp_tune_profile': 'web_frontend'})
    assert tuned.status == 'successful', tuned.where()
    drifted, other = fleet.hosts
    drifted.run('sysctl', '-qw', '%s=45' % FIN, check=True)
    reports = volume(tmp_path)
    job = Job(tmp_path, fleet, 'audit')
    audit = job.run('audit.yml', {'tcp_audit_report_dir': '/reports/live', 'tcp_audit_expected_profile': 'web_frontend',
                                  'tcp_audit_fail_on': 'warning'}, volumes=['%s:/reports:Z' % reports])
    # The play fails on the drift, as CI wants; the summary is in the artifacts all the same.
    assert (audit.status, audit.rc) == ('failed', '2'), audit.where()
    failed = audit.task_events('Summary, query and findings at or above warning', 'runner_on_failed')
    assert len(failed) == 1 and '1 findings at or above warning, on [%r]' % drifted.name in failed[0]['event_data']['res']['msg']
    stats = audit.artifacts['netops_tcp_audit']
    written = (reports / 'live' / 'report.json').read_bytes()
    assert stats['report'] == {'host': 'localhost', 'dest': '/reports/live', 'sha256': sha256(written)}
    assert (stats['hosts'], stats['hosts_with_findings'], stats['failing_count']) == (2, 1, 1)
    assert stats['worst'] == [{'host': drifted.name, 'severity': 'warning', 'findings': 1, 'kinds': ['drift']}]
    finding = json.loads(written)['hosts'][drifted.name]['findings'][0]
    assert (finding['key'], finding['actual'], finding['expected']) == (FIN, drifted.sysctl(FIN), '30')
    assert os.stat(str(reports / 'live' / 'report.json')).st_uid == EE_USER

    # The same audit to a report host: the files land there, the job's container keeps nothing.
    remote = '/var/lib/netops-tcp-reports/fleet'
    shipped = job.run('audit.yml', {'tcp_audit_report_dir': remote, 'tcp_audit_report_host': other.name,
                                    'tcp_audit_expected_profile': 'web_frontend'})
    assert (shipped.status, shipped.rc) == ('successful', '0'), shipped.where()
    stats = shipped.artifacts['netops_tcp_audit']
    there = other.read(remote + '/report.json')
    assert stats['report'] == {'host': other.name, 'dest': remote, 'sha256': sha256(there.encode())}
    assert sorted(other.run('ls', remote).stdout.split()) == ['report.html', 'report.json', 'report.md', 'report.xml']
    assert json.loads(there)['hosts'][drifted.name]['findings'][0]['actual'] == '45'
    assert drifted.read(remote + '/report.json') is None

    # Check mode reads the last report from there all the same and copies nothing back.
    drifted.run('sysctl', '-qw', '%s=30' % FIN, check=True)
    checked = job.run('audit.yml', {'tcp_audit_report_dir': remote, 'tcp_audit_report_host': other.name,
                                    'tcp_audit_expected_profile': 'web_frontend'}, check=True)
    assert (checked.status, checked.rc) == ('successful', '0'), checked.where()
    assert checked.artifacts['netops_tcp_audit']['hosts_with_findings'] == 0
    assert other.read(remote + '/report.json') == there
    assert not checked.task_events('Put the report on the report host', 'runner_on_ok')


def test_audit_from_the_jobs_fact_cache_and_metrics_in_the_ee(ssh_fleet, tmp_path):
    fleet = ssh_fleet(2)
    job = Job(tmp_path, fleet, 'cache')
    gather = job.run('gather.yml', fact_cache=True)
    assert (gather.status, gather.rc) == ('successful', '0'), gather.where()
    # One jsonfile per host, named with core's cache schema prefix (s1_, since ansible-core 2.19).
    assert sorted(os.listdir(os.path.join(gather.dir, 'fact_cache'))) == sorted('s1_' + h.name for h in fleet.hosts)
    for host in fleet.hosts:  # the next job contacts no host: a change now is not seen
        host.run('sysctl', '-qw', '%s=45' % FIN, check=True)
    reports = volume(tmp_path)
    audit = job.run('audit.yml', {'tcp_audit_source': 'cache', 'tcp_audit_hosts': 'fleet',
                                  'tcp_audit_report_dir': '/reports/cache'}, volumes=['%s:/reports:Z' % reports],
                    fact_cache=True)
    assert (audit.status, audit.rc) == ('successful', '0'), audit.where()
    assert all(e['event_data']['host'] == 'localhost' for e in audit.events if e['event'].startswith('runner_on_'))
    stats = audit.artifacts['netops_tcp_audit']
    report = json.loads((reports / 'cache' / 'report.json').read_bytes())
    assert stats['hosts'] == 2 and sorted(report['hosts']) == sorted(h.name for h in fleet.hosts)
    for host in fleet.hosts:
        entry = report['hosts'][host.name]
        assert entry['kernel'] == os.uname().release and entry['findings'] == []  # 60 cached: unmanaged, no drift

    metrics = job.run('metrics.yml')
    assert (metrics.status, metrics.rc) == ('successful', '0'), metrics.where()
    for host in fleet.hosts:
        lines = host.read('/var/lib/prometheus/node-exporter/netops_tcp.prom').splitlines()
        listening = [line.split()[1] for line in lines if line.startswith('netops_tcp_connections{state="LISTEN"} ')]
        assert listening == [str(host.ss_states()['LISTEN'])] == ['1']  # its sshd


def test_three_slices_on_a_report_host_merged_are_the_report_of_one_run(ssh_fleet, tmp_path):
    fleet = ssh_fleet(4)
    tuned = Job(tmp_path, fleet, 'tune').run('tune.yml', {'tcp_tune_profile': 'web_frontend'})
    assert tuned.status == 'successful', tuned.where()
    for host in fleet.hosts[1::2]:
        host.run('sysctl', '-qw', '%s=45' % FIN, check=True)
    keeper = fleet.hosts[0]  # the report host, named by its address as a host outside the inventory is
    common = {'tcp_audit_expected_profile': 'web_frontend', 'tcp_audit_report_host': keeper.address}
    # AWX job slicing: N jobs, each with an inventory of its hosts only and the same extra vars; each
    # slice's report goes to a directory of its own (awx_job_id in AWX).
    for number in range(3):
        part = Job(tmp_path, fleet, 'slice-%d' % number, hosts=fleet.hosts[number::3])
        run = part.run('audit.yml', dict(common, tcp_audit_report_dir='/var/lib/netops-tcp-reports/run-1/slice-%d' % (100 + number)))
        assert run.status == 'successful', run.where()
        assert run.artifacts['netops_tcp_audit']['hosts'] == len(fleet.hosts[number::3])
    reports = volume(tmp_path)
    whole = Job(tmp_path, fleet, 'whole').run('audit.yml', {'tcp_audit_expected_profile': 'web_frontend',
                                                            'tcp_audit_report_dir': '/reports/whole'},
                                              volumes=['%s:/reports:Z' % reports])
    assert whole.status == 'successful', whole.where()
    merge = Job(tmp_path, fleet, 'merge', hosts=[])
    merged = merge.run('audit.yml', dict(common, tcp_audit_report_dir='/var/lib/netops-tcp-reports/fleet',
                                         tcp_audit_merge=['/var/lib/netops-tcp-reports/run-1/slice-*']))
    assert (merged.status, merged.rc) == ('successful', '0'), merged.where()
    assert not [e for e in merged.events if e['event'] == 'runner_on_ok' and e['event_data']['host'] != 'localhost']
    fetched = merged.task_events("Bring each slice's report.json from the report host", 'runner_item_on_ok')
    assert sorted(e['event_data']['res']['item'] for e in fetched) == [
        '/var/lib/netops-tcp-reports/run-1/slice-%d' % n for n in (100, 101, 102)]
    text = keeper.read('/var/lib/netops-tcp-reports/fleet/report.json')
    one, fleet_report = json.loads((reports / 'whole' / 'report.json').read_bytes()), json.loads(text)
    # Live figures (the sockets of the job's own SSH sessions, counters) move between two runs; the
    # judged parts do not, and every summary count is the same.
    assert fleet_report['summary'] == one['summary']
    assert sorted(fleet_report['hosts']) == sorted(one['hosts']) == sorted(h.name for h in fleet.hosts)
    for name, entry in one['hosts'].items():
        assert fleet_report['hosts'][name]['findings'] == entry['findings'], name
        assert fleet_report['hosts'][name]['record'] == entry['record'], name
    stats, unsliced = merged.artifacts['netops_tcp_audit'], whole.artifacts['netops_tcp_audit']
    assert stats['report'] == {'host': keeper.address, 'dest': '/var/lib/netops-tcp-reports/fleet', 'sha256': sha256(text.encode())}
    assert dict(stats, report=None) == dict(unsliced, report=None)
    assert [w['host'] for w in stats['worst']] == sorted(h.name for h in fleet.hosts[1::2])
    assert not os.path.exists('/var/lib/netops-tcp-reports')  # the report host's own /var/lib, not this machine's


NAVIGATOR_MOUNTS = """set -e
# ansible-navigator wants a /dev/mqueue; this machine has none. Inside this mount namespace alone:
# /dev as an overlay (its new directory lands in the test's upper layer) with the mounts it hides
# (pts, shm) bound back, and a POSIX message queue file system on /dev/mqueue.
mkdir -p "$1/orig"
mount --rbind /dev "$1/orig"
mount -t overlay overlay -o lowerdir=/dev,upperdir="$1/up",workdir="$1/work" /dev
for sub in pts shm; do mount --rbind "$1/orig/$sub" "/dev/$sub"; done
mkdir -p /dev/mqueue
mount -t mqueue mqueue /dev/mqueue
shift
exec "$@"
"""


def test_ansible_navigator_runs_the_audit_in_the_ee_and_its_artifact_says_what_failed(ssh_fleet, tmp_path):
    fleet = ssh_fleet(2)
    tuned = Job(tmp_path, fleet, 'tune').run('tune.yml', {'tcp_tune_profile': 'web_frontend'})
    assert tuned.status == 'successful', tuned.where()
    drifted = fleet.hosts[0]
    drifted.run('sysctl', '-qw', '%s=45' % FIN, check=True)
    job = Job(tmp_path, fleet, 'navigator')
    with open(os.path.join(job.dir, 'inventory', 'hosts'), 'a') as handle:
        handle.write('ansible_ssh_private_key_file=/keys/id\n')  # under [all:vars], the last section
    os.makedirs(str(tmp_path / 'keys'))
    shutil.copy(fleet.key, str(tmp_path / 'keys' / 'id'))
    reports, layers = volume(tmp_path), tmp_path / 'dev'
    for layer in ('up', 'work'):
        (layers / layer).mkdir(parents=True)
    artifact, mqueue = tmp_path / 'audit-artifact.json', os.path.exists('/dev/mqueue')
    navigator = [os.path.join(os.path.dirname(sys.executable), 'ansible-navigator'), 'run', 'project/audit.yml',
                 '-i', 'inventory/hosts', '--mode', 'stdout', '--eei', IMAGE, '--pull-policy', 'never', '--ce', 'podman',
                 '--co=--network=ns:/run/netns/%s' % fleet.hub, '--eev', '%s:/reports:Z' % reports,
                 '--eev', '%s:/keys:Z' % (tmp_path / 'keys'), '--pae', 'true', '--pas', str(artifact),
                 '--lf', str(tmp_path / 'navigator.log'),
                 '-e', json.dumps({'tcp_audit_report_dir': '/reports/fleet', 'tcp_audit_expected_profile': 'web_frontend',
                                   'tcp_audit_fail_on': 'warning'})]
    # navigator hands ANSIBLE_* variables on to the EE: none of this machine's (its collections path).
    outside = dict((k, v) for k, v in os.environ.items() if not k.startswith('ANSIBLE_'))
    proc = subprocess.run(['unshare', '-m', '--propagation', 'private', 'sh', '-c', NAVIGATOR_MOUNTS, 'mounts',
                           str(layers)] + navigator, cwd=job.dir, capture_output=True, text=True, timeout=300,
                          check=False, env=dict(outside, HOME=str(tmp_path), ANSIBLE_HOST_KEY_CHECKING='False'))
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert os.path.exists('/dev/mqueue') == mqueue  # this machine's /dev as it was
    report = json.loads((reports / 'fleet' / 'report.json').read_bytes())
    assert sorted(report['hosts']) == sorted(h.name for h in fleet.hosts)
    finding = report['hosts'][drifted.name]['findings'][0]
    assert (finding['key'], finding['actual'], finding['expected']) == (FIN, '45', '30')
    played = json.loads(artifact.read_text())
    assert played['status'] == 'failed'
    failed = [t for play in played['plays'] for t in play['tasks']
              if t['task'] == 'Summary, query and findings at or above warning']
    assert [(t['host'], t['__result']) for t in failed] == [(drifted.name, 'Failed')]
    assert failed[0]['res']['msg'].startswith('1 findings at or above warning, on [%r]' % drifted.name)
