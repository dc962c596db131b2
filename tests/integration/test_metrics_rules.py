# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shipped alert rules: valid for Prometheus, each alert proven by `promtool test rules`, and
every netops_tcp_ series they use is one the textfile export writes."""

import os
import re
import subprocess

import yaml

from ansible_collections.netops.tcp.tests.integration.harness import ROOT
from ansible_collections.netops.tcp.tests.integration.test_metrics_netns import tool
from ansible_collections.netops.tcp.tests.unit.plugins.module_utils.test_metrics import drifted_host, export

RULES = os.path.join(ROOT, 'prometheus', 'netops_tcp.rules.yml')
TESTS = os.path.join(ROOT, 'tests', 'prometheus', 'netops_tcp.rules.test.yml')


def promtool(*argv):
    proc = subprocess.run([tool('promtool')] + list(argv), capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def alerts():
    with open(RULES) as handle:
        return [rule for group in yaml.safe_load(handle)['groups'] for rule in group['rules']]


def test_the_rules_are_valid_and_their_tests_pass():
    assert 'SUCCESS: %d rules found' % len(alerts()) in promtool('check', 'rules', RULES)
    assert 'SUCCESS' in promtool('test', 'rules', TESTS)


def test_every_alert_has_a_test_that_fires_it():
    with open(TESTS) as handle:
        tests = yaml.safe_load(handle)['tests']
    fired = set(check['alertname'] for test in tests for check in test['alert_rule_test'] if check['exp_alerts'])
    assert fired == set(rule['alert'] for rule in alerts())


def test_the_rules_use_only_series_the_export_writes():
    written = set(re.findall(r'^# TYPE (netops_tcp_\w+) ', export(drifted_host())[0], re.M))
    used = set(name for rule in alerts() for name in re.findall(r'netops_tcp_\w+', rule['expr']))
    assert used and used <= written, used - written
