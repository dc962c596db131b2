#!/usr/bin/python
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: tcp_metrics
short_description: Write the host's TCP health and profile state for node_exporter's textfile collector
version_added: 0.1.0
description:
  - Reads what the audit reads (as M(netops.tcp.audit_facts) does, in one module run), works out the
    host's findings the way the audit does (M(netops.tcp.audit_report)), and writes them with the
    TCP health it saw to C(<textfile_dir>/netops_tcp.prom) in Prometheus's text exposition format,
    which node_exporter's textfile collector exposes with its own metrics.
  - The file is replaced atomically (a temporary file beside it that node_exporter does not read,
    fsync, rename), so a scrape never sees half a file and a failed write leaves the last file as it
    was.
  - "What it holds (all names start with C(netops_tcp_), no timestamps): C(managed); C(profile_info)
    (profile, version, checksum, expected); C(profile_applied_timestamp_seconds); C(findings) by
    kind and severity, every kind written, zeros too; C(finding) per sysctl key for drift,
    persistence and risky findings; C(connections) by state; C(close_wait_connections) by process
    name (the 5 names holding most); C(listen_accept_queue) and C(listen_backlog) by port (the 10
    fullest ports); C(time_wait_max); and the trouble counters as C(_total) counters
    (C(time_wait_overflows_total), C(listen_overflows_total), C(listen_drops_total),
    C(syncookies_sent_total), C(syncookies_failed_total), C(aborts_on_memory_total),
    C(resets_sent_total), C(retransmitted_segments_total), C(sent_segments_total))."
  - "With O(namespaces), the host's other network namespaces too: C(namespaces) (how many were read) and, for
    the 10 with the most severe findings, then the most sockets, C(namespace_connections) by state,
    C(namespace_findings) and C(namespace_snmp_total) by kernel counter name, each labelled
    with the namespace's C(id) (C(net:[inode])), C(namespace) (the pod, container, unit or C(ip netns)
    name that holds it) and, on Linux 5.14 and later, C(cookie). Their findings count in C(findings) with
    the host's own. The rises of a namespace's counters are judged since the last file for those 10; for
    the others, since the namespace was created (info)."
  - Counter-based findings (TIME_WAIT overflows, listen overflows) count the rise since the file was
    last written, read back from it; without one, since boot.
  - Used by the C(netops.tcp.metrics) role, from C(metrics-tcp.yml) or from each audit.
author:
  - netops.tcp contributors (@netops-tcp)
extends_documentation_fragment:
  - netops.tcp._attributes
  - netops.tcp._audit
attributes:
  check_mode:
    support: full
    details: Works everything out and reports whether the file would change; writes nothing.
  diff_mode:
    support: full
    details: The file's text before and after.
  platform:
    platforms: linux
options:
  textfile_dir:
    description:
      - node_exporter's textfile directory (its C(--collector.textfile.directory)); made when missing.
      - "Refused when another user than root owns it, when its group or everyone may write it without the
        sticky bit, or when the way to it goes through a symbolic link in a directory another user can change
        (on Debian the exporter's account owns C(/var/lib/prometheus)). The directory is then used through
        its descriptor. The file there is read only when it is a regular file of at most 1 MiB, without
        following a link: a FIFO, a device or a link there fails the task and is left as it was."
    type: path
    default: /var/lib/prometheus/node-exporter
  expected_profile:
    description:
      - The profile the host should run; empty checks it against the profile its record names.
    type: str
    default: ''
  expected_version:
    description:
      - The version of O(expected_profile) (a number; the role resolves V(latest) on the controller).
    type: int
  thresholds:
    description: Limits for the health findings, as for M(netops.tcp.audit_report).
    type: dict
    default: {}
  gather_subset:
    description:
      - The TCP facts to gather, as for M(netops.tcp.tcp_facts). V(processes) names the processes
        that hold CLOSE_WAIT sockets but walks every process's descriptors.
    type: list
    elements: str
    default: [all, processes]
seealso:
  - module: netops.tcp.audit_facts
  - module: netops.tcp.audit_report
  - name: node_exporter's textfile collector
    description: How node_exporter exposes files of metrics.
    link: https://github.com/prometheus/node_exporter#textfile-collector
'''

EXAMPLES = r'''
- name: Export the host's TCP health for node_exporter, checked against web_frontend version 1
  netops.tcp.tcp_metrics:
    expected_profile: web_frontend
    expected_version: 1

- name: Against the profile each host records, into another textfile directory
  netops.tcp.tcp_metrics:
    textfile_dir: /var/lib/node_exporter/textfile
'''

RETURN = r'''
dest:
  description: The file written (or that would be written in check mode).
  returned: always
  type: str
  sample: /var/lib/prometheus/node-exporter/netops_tcp.prom
expected:
  description: The profile the host was checked against, as C(name@version), or null.
  returned: always
  type: str
  sample: web_frontend@1
findings:
  description: The host's findings, as the audit reports them (kind, severity, key, expected, actual, message).
  returned: always
  type: list
  elements: dict
series:
  description: How many series the file holds.
  returned: always
  type: int
  sample: 64
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netops.tcp.plugins.module_utils.gather import _host as audit
from ansible_collections.netops.tcp.plugins.module_utils.common import _files as files
from ansible_collections.netops.tcp.plugins.module_utils.judge import _findings as findings
from ansible_collections.netops.tcp.plugins.module_utils.judge import _metrics as metrics
from ansible_collections.netops.tcp.plugins.module_utils.judge import _audit as host_audit


def main():
    module = AnsibleModule(
        argument_spec=dict(
            textfile_dir=dict(type='path', default='/var/lib/prometheus/node-exporter'),
            expected_profile=dict(type='str', default=''),
            expected_version=dict(type='int'),
            thresholds=dict(type='dict', default={}),
            gather_subset=dict(type='list', elements='str', default=['all', 'processes']),
            **audit.ARGUMENT_SPEC
        ),
        supports_check_mode=True,
    )
    p = module.params
    if p['expected_profile'] and p['expected_version'] is None:
        module.fail_json(msg='expected_version: give the version of expected_profile %s (a number)' % p['expected_profile'])
    try:
        findings.check_thresholds(p['thresholds'])
    except ValueError as exc:
        module.fail_json(msg='thresholds: %s' % exc)
    path = os.path.join(p['textfile_dir'], metrics.FILE_NAME)
    # The textfile directory's parent may belong to the exporter's account (Debian): what is there is
    # read and replaced through a directory that account cannot redirect, and read as untrusted.
    directory = None
    try:
        directory = files.Directory.open(p['textfile_dir'])
        old = directory.read(metrics.FILE_NAME, errors='replace', limit=metrics.READ_LIMIT) if directory else None
    except files.Refused as exc:
        module.fail_json(msg='textfile_dir: %s; nothing was written' % files.describe(exc))
    except OSError as exc:
        old = None  # rewritten whole; the findings then count counters since boot
        module.warn('%s cannot be read (%s): it is written anew' % (path, files.describe(exc)))
    facts = audit.gather_or_fail(module)

    def expected_for(record):
        if p['expected_profile']:
            return {'name': p['expected_profile'], 'version': p['expected_version']}
        if record and record.get('profile'):
            return {'name': record['profile'], 'version': record.get('version')}
        return None

    host = host_audit.audit({'host': facts}, expected_for, p['thresholds'],
                            {'hosts': {'host': {'counters': metrics.previous_counters(old),
                                                'namespaces': metrics.previous_namespace_counters(old)}}})['host']
    text = metrics.render(facts['tcp'], facts['tcp_sysctl'], host['record'], host['findings'], host['expected'])
    changed = text != old
    if changed and not module.check_mode:
        try:
            directory = directory or files.Directory.open(p['textfile_dir'], create=True)
            directory.replace(metrics.FILE_NAME, text, 0o644, sync=False)
        except files.Refused as exc:
            module.fail_json(msg='textfile_dir: %s; nothing was written' % files.describe(exc))
        except OSError as exc:
            module.fail_json(msg='cannot write %s: %s; the file there is as it was' % (path, files.describe(exc)))
        try:
            directory.sync(metrics.FILE_NAME)
        except OSError as exc:  # the new file is in place; a power cut could still lose it
            module.warn('%s is written, but its directory could not be synced: %s' % (path, files.describe(exc)))
    result = dict(changed=changed, dest=path, expected=host['expected'], findings=host['findings'],
                  series=sum(1 for line in text.splitlines() if not line.startswith('#')))
    if module._diff:
        result['diff'] = {'before': old or '', 'after': text, 'before_header': path, 'after_header': path}
    module.exit_json(**result)


if __name__ == '__main__':
    main()
