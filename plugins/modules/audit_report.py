#!/usr/bin/python
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: audit_report
short_description: Audit the fleet's TCP stacks and write the report, on the controller
version_added: 0.1.0
description:
  - Works out every host's findings from the facts already gathered (C(ansible_facts.tcp) from
    M(netops.tcp.tcp_facts), C(ansible_facts.tcp_sysctl) from M(netops.tcp.sysctl_facts) with
    C(include_sources), and the record in C(ansible_facts.ansible_local)), in one task for the
    whole fleet. Each expected profile version is resolved once and the previous C(report.json)
    is read once (a counter's rise since the last audit is told from a total since boot).
  - Writes C(report.json), C(report.md), C(report.xml) (JUnit) and a self-contained C(report.html)
    into O(dest) on the controller (an action plugin; nothing runs on the hosts).
  - Each host's entry names its kernel release (C(kernel), from C(ansible_facts.tcp_sysctl.kernel.release),
    else setup's C(ansible_facts.kernel)); the summary counts the hosts per kernel (C(kernels)).
  - Returns the report and the findings at or above O(fail_on), so a play can fail on them.
author:
  - netops.tcp contributors (@netops-tcp)
extends_documentation_fragment:
  - netops.tcp._attributes
  - netops.tcp._attributes.controller
attributes:
  check_mode:
    support: full
    details: Reports what would change and writes nothing.
  platform:
    platforms: posix
options:
  hosts:
    description: The hosts to audit. Default the play's hosts that are still running (C(ansible_play_hosts)).
    type: list
    elements: str
  expected_profile:
    description: The profile every host should run. Empty, each host is compared with what its record says it runs.
    type: str
    default: ''
  expected_version:
    description: The version of O(expected_profile), a number or V(latest).
    type: raw
    default: latest
  profile_paths:
    description: Directories with your own profiles, searched before the collection's.
    type: list
    elements: path
    default: []
  profile_parameters:
    description: Values for the expected profile's parameters.
    type: dict
    default: {}
  thresholds:
    description:
      - Limits of the health findings (C(close_wait), C(closing), C(syn_cookies), C(time_wait_ratio),
        C(orphan_ratio), C(conntrack_ratio), C(ephemeral_ratio), C(fin_timeout_min), C(retransmit_ratio));
        unknown names fail, and so does C(syn_recv) of earlier versions, with what replaced it.
    type: dict
    default: {}
  record_name:
    description:
      - The name of the record under C(ansible_local) (the fact file's name without C(.fact)), read when
        the facts hold no C(tcp_record) (M(netops.tcp.audit_facts) returns it).
    type: str
    default: netops_tcp
  source:
    description:
      - V(live) when the facts were gathered in this run; V(cache) when they come from the fact cache
        (the play then runs on localhost and O(hosts) names the inventory's hosts). From the cache,
        hosts without cached TCP facts get an C(unaudited) finding and facts older than O(max_age) a
        C(stale) one, with their age.
    type: str
    choices: [live, cache]
    default: live
  max_age:
    description: With O(source=cache), the age in seconds past which cached facts are C(stale).
    type: int
    default: 86400
  dest:
    description:
      - Directory for the four files, created when missing.
      - Refused when another user than root or the one running owns it, when its group or everyone
        may write it without the sticky bit, or when the way to it goes through a symbolic link in a
        directory another user can change. The last report there is read without following links,
        and only when it is a regular file.
    type: path
    required: true
  fail_on:
    description: The least severity returned in RV(failing).
    type: str
    choices: [none, info, warning, critical]
    default: none
'''

EXAMPLES = r'''
- name: Gather what the audit reads
  netops.tcp.tcp_facts:
    gather_subset: [all, processes]

- name: Gather the sysctls and where they come from at boot
  netops.tcp.sysctl_facts:
    include_sources: true

- name: Read the hosts' records (ansible_local.netops_tcp)
  ansible.builtin.setup:
    gather_subset: ['!all', '!min', local]

- name: Audit against web_frontend and write the report
  netops.tcp.audit_report:
    expected_profile: web_frontend
    dest: /var/tmp/tcp-audit
    fail_on: warning
  run_once: true
  register: report
'''

RETURN = r'''
dest:
  description: The report directory.
  returned: always
  type: str
report:
  description:
    - The fleet report (as in report.json).
    - C(hosts) maps each host to its C(record), C(expected) profile, C(kernel), C(states), C(counters) and C(findings).
    - C(summary) counts the hosts, the C(findings) per severity and the C(kinds), names the hosts per running
      profile (C(profiles)) and the C(hosts_with_findings), and counts the hosts per kernel release.
  returned: always
  type: dict
  contains:
    hosts:
      description: Each host's entry, by name.
      returned: always
      type: dict
      sample:
        web-1:
          record: {profile: web_frontend, version: 2}
          expected: web_frontend@2
          kernel: 6.1.0-50-cloud-amd64
          states: {ESTABLISHED: 1200, TIME_WAIT: 310}
          counters: {ListenOverflows: 0}
          findings: []
    summary:
      description:
        - The fleet at a glance.
        - C(kernels) counts the hosts per kernel release (as C(uname -r) prints it); C(kernels_unknown) counts
          the hosts whose facts do not name their kernel (unreachable, failed, or no facts in the cache).
      returned: always
      type: dict
      sample:
        hosts: 15
        findings: {critical: 0, warning: 1, info: 0}
        kinds: {drift: 1}
        profiles: {web_frontend@2: [web-1, web-2]}
        kernels: {6.1.0-50-cloud-amd64: 12, 5.10.0-32-cloud-amd64: 2}
        kernels_unknown: 1
        hosts_with_findings: [web-2]
failing:
  description: Findings at or above O(fail_on), each with its C(host).
  returned: always
  type: list
  elements: dict
'''
