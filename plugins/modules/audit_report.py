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
  - Works a host at a time; its facts are read, judged, written to the report files and dropped, so
    memory holds the summary and the 1,000 worst hosts, not the fleet (O(source=cache) reads each
    host's cache entry as it comes to it).
  - Writes C(report.json) (every host, one a line), C(report.xml) (JUnit, every host), C(report.md)
    (the summary and the 20 worst hosts) and a self-contained C(report.html) (the summary, charts
    over every host, and the 1,000 worst hosts) into O(dest) on the controller (an action plugin;
    nothing runs on the hosts). A file that would not change is not written again.
  - Each host's entry names its kernel release (C(kernel), from C(ansible_facts.tcp_sysctl.kernel.release),
    else setup's C(ansible_facts.kernel)); the summary counts the hosts per kernel (C(kernels)).
  - Returns the summary, the findings at or above O(fail_on) (so a play can fail on them) and, with
    O(query), a jmespath query over the whole report; every host's entry is in C(report.json).
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
        hosts without cached TCP facts, or whose entry cannot be decoded, get an C(unaudited) finding
        and facts older than O(max_age) a C(stale) one, with their age. A cache that cannot be read at
        all (a backend that is down) fails the task, naming it.
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
    description: The least severity counted in RV(failing_count) and listed in RV(failing).
    type: str
    choices: [none, info, warning, critical]
    default: none
  query:
    description:
      - A jmespath expression over the report (C(hosts) and C(summary), as in C(report.json)); its result
        is RV(query). Same semantics as C(community.general.json_query) and the
        P(netops.tcp.tcp_query#filter) filter. One that does not parse fails the task before anything is
        written; one that fails on the report (a function given the wrong type) fails it once the report is written.
      - The one part of the audit that holds every host's entry at once (a few KB a host).
    type: str
    default: ''
  merge:
    description:
      - Report directories of an audit run in slices (AWX job slicing splits the inventory into N jobs, each
        writing its own report), merged into one report in O(dest) instead of auditing any host. Each
        C(report.json) is read a line at a time beside the others, so the merged files are the ones a single
        run over all their hosts writes, byte for byte; the slices' findings and counter rises are kept as judged.
      - A host in two reports, a report without its summary (cut short), or a line that is not a host's entry
        fails the task naming the file and the line, and nothing is written.
      - Each element is a directory or a glob pattern (C(/srv/tcp-audit/run-1/slice-*)) standing for the
        directories it matches, in name order; a pattern that matches none fails.
      - Exclusive with O(hosts); O(source), O(expected_profile), the thresholds and O(previous) are not used.
    type: list
    elements: path
    default: []
  previous:
    description:
      - The directory whose C(report.json) is the last audit, whose counters the rises since the last audit are
        judged against; by default O(dest)'s own.
      - A slice of a sliced audit writes into a directory of its own that has no last report; giving it the last
        merged fleet report's directory judges its hosts as a single recurring run over the fleet does.
      - None there is a first run (counters judged since boot, as information).
    type: path
  stats_hosts:
    description: How many of the worst hosts with findings RV(stats) lists (0 to 1000); the others are counted.
    type: int
    default: 20
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

- name: The same from the fact cache, returning the keys that drifted anywhere
  netops.tcp.audit_report:
    source: cache
    hosts: "{{ groups['all'] }}"
    dest: /var/tmp/tcp-audit
    query: "hosts.* | [].findings[?kind=='drift'][].key"
  run_once: true
  delegate_to: localhost

- name: One fleet report from the reports of three slices of a sliced job
  netops.tcp.audit_report:
    merge: [/srv/tcp-audit/slice-0, /srv/tcp-audit/slice-1, /srv/tcp-audit/slice-2]
    dest: /srv/tcp-audit/fleet
  run_once: true
  delegate_to: localhost
  register: merged

- name: The summary as the job's artifacts (AWX shows them; workflows branch on them)
  ansible.builtin.set_stats:
    aggregate: false
    data:
      netops_tcp_audit: "{{ merged.stats }}"
'''

RETURN = r'''
dest:
  description: The report directory.
  returned: always
  type: str
summary:
  description:
    - The fleet at a glance, as in C(report.json). Every host's entry (its C(record), C(expected) profile,
      C(kernel), C(states), C(counters) and C(findings)) is in C(report.json), not in the result.
    - C(hosts) counts the hosts, C(findings) the findings per severity, C(kinds) per kind; C(profiles) names
      the hosts per running profile and C(hosts_with_findings) the hosts with any.
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
  description: The first 100 findings at or above O(fail_on), in host name order, each with its C(host).
  returned: always
  type: list
  elements: dict
failing_count:
  description: How many findings are at or above O(fail_on) (0 with V(none)).
  returned: always
  type: int
stats:
  description:
    - The audit in a few hundred bytes, for C(ansible.builtin.set_stats) (the audit role hands it on as
      C(netops_tcp_audit)). C(findings) and C(kinds) count the findings per severity and kind, C(profiles)
      the hosts per running profile; C(worst) lists the O(stats_hosts) worst hosts with findings (most
      severe, then most findings), each with its worst C(severity), its number of C(findings) and their
      C(kinds), and C(worst_not_listed) counts the others; C(report) gives O(dest) and the C(sha256) of
      C(report.json).
  returned: always
  type: dict
  sample:
    hosts: 3
    hosts_with_findings: 1
    findings: {critical: 0, warning: 1, info: 0}
    kinds: {drift: 1}
    profiles: {web_frontend@2: 3}
    fail_on: none
    failing_count: 0
    worst: [{host: web-2, severity: warning, findings: 1, kinds: [drift]}]
    worst_not_listed: 0
    report: {dest: /var/tmp/tcp-audit, sha256: 9f2c...}
query:
  description: What O(query) selects; null when it selects nothing.
  returned: when O(query) is given
  type: raw
'''
