# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the netops.tcp audit (documented in tcp_findings.yml and tcp_query.yml beside this file)."""

from ansible.errors import AnsibleFilterError

from ansible_collections.netops.tcp.plugins.module_utils.judge import _findings as findings
from ansible_collections.netops.tcp.plugins.plugin_utils._fleet import query


def tcp_findings(host, expected_profile=None, thresholds=None):
    """Findings of one host: ``host`` holds tcp, tcp_sysctl, record, dropin (whether the drop-in exists) and
    previous_counters (the host's counters in the last report, to tell a rise from a total since boot)."""
    try:
        return findings.host_findings(host.get('tcp'), host.get('tcp_sysctl'), host.get('record'), expected_profile or None,
                                      host.get('dropin'), thresholds, host.get('previous_counters'))
    except ValueError as exc:
        raise AnsibleFilterError('tcp_findings: %s' % exc)


def tcp_query(data, expression):
    """jmespath.search(expression, data): community.general.json_query's semantics, without needing that collection."""
    try:
        return query(data, expression)
    except ValueError as exc:
        raise AnsibleFilterError('tcp_query: %s' % exc)


class FilterModule:

    def filters(self):
        return {
            'tcp_findings': tcp_findings,
            'tcp_query': tcp_query,
        }
