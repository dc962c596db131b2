# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reports written on a report host, over SSH: the audit's and the rollout's files land there, and the
private directory each writes into on the controller first is gone after the run, also when the copy
there failed or the wave failed. The controller's temporary directory is the test's own (TMPDIR), so
what is left in it is exactly what the run left."""

import json
import os

from ansible_collections.netops.tcp.tests.integration.harness import ROOT

REPORTS = '/var/lib/netops-tcp-reports'  # inside the report host's own /var/lib


def run(fleet, playbook, controller_tmp, **variables):
    return fleet.playbook(os.path.join(ROOT, playbook), '-e', json.dumps(variables), TMPDIR=str(controller_tmp))


def test_the_report_host_gets_the_files_and_the_controller_keeps_nothing_also_when_the_copy_fails(ssh_fleet, tmp_path):
    fleet = ssh_fleet(2)
    keeper = fleet.hosts[1]
    controller_tmp = tmp_path / 'controller-tmp'
    controller_tmp.mkdir()
    tuned = run(fleet, 'tune-tcp.yml', controller_tmp, tcp_tune_profile='web_frontend', tcp_tune_soak=1,
                tcp_tune_report_host=keeper.name, tcp_tune_report_dir=REPORTS + '/rollout')
    assert tuned.returncode == 0, tuned.stdout[-3000:]
    assert sorted(keeper.run('ls', REPORTS + '/rollout').stdout.split()) == ['rollout.html', 'rollout.json', 'rollout.md']
    audited = run(fleet, 'audit-tcp.yml', controller_tmp, tcp_audit_report_host=keeper.name,
                  tcp_audit_report_dir=REPORTS + '/fleet', tcp_audit_expected_profile='web_frontend')
    assert audited.returncode == 0, audited.stdout[-3000:]
    report = json.loads(keeper.read(REPORTS + '/fleet/report.json'))
    assert sorted(report['hosts']) == sorted(h.name for h in fleet.hosts)
    assert os.listdir(str(controller_tmp)) == []
    assert not os.path.exists(REPORTS)  # nothing on this machine's own /var/lib

    # A file where the report directory should be: the copy fails, the play with it, and the
    # private directories go all the same; the report host keeps what it had.
    keeper.run('sh', '-c', 'echo not a directory > %s/blocked' % REPORTS, check=True)
    before = keeper.run('sh', '-c', 'ls -lR --time-style=+ %s; cat %s/fleet/report.json' % (REPORTS, REPORTS)).stdout
    failed = run(fleet, 'audit-tcp.yml', controller_tmp, tcp_audit_report_host=keeper.name,
                 tcp_audit_report_dir=REPORTS + '/blocked/fleet', tcp_audit_expected_profile='web_frontend')
    assert failed.returncode == 2 and 'Put the report on the report host' in failed.stdout, failed.stdout[-3000:]
    rolled = run(fleet, 'tune-tcp.yml', controller_tmp, tcp_tune_profile='lb_backend', tcp_tune_soak=1,
                 tcp_tune_report_host=keeper.name, tcp_tune_report_dir=REPORTS + '/blocked/rollout')
    assert rolled.returncode == 2 and 'Copy the rollout report to the report host' in rolled.stdout, rolled.stdout[-3000:]
    assert os.listdir(str(controller_tmp)) == []
    assert keeper.run('sh', '-c', 'ls -lR --time-style=+ %s; cat %s/fleet/report.json' % (REPORTS, REPORTS)).stdout == before

    # A relative path cannot be put on a report host: refused before anything is fetched or written.
    relative = run(fleet, 'audit-tcp.yml', controller_tmp, tcp_audit_report_host=keeper.name,
                   tcp_audit_report_dir='reports', tcp_audit_merge=['slices/slice-*'])
    assert relative.returncode == 2, relative.stdout[-3000:]
    assert ("tcp_audit_report_host: the paths on %s must be absolute: ['reports', 'slices/slice-*']" % keeper.name
            in relative.stdout), relative.stdout[-3000:]
    assert os.listdir(str(controller_tmp)) == []
