#!/usr/bin/python
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: tune_rollout
short_description: The tune role's rollout gate and rollout report, on the controller
version_added: 0.1.0
description:
  - Used by the P(netops.tcp.tune#role) role once per measured wave (a C(serial) batch), so it is not meant to be called
    on its own. The role runs it only when the run measures (O(gate) not empty, C(tcp_tune_soak) above 0,
    C(tcp_tune_state=present), not check mode); a run that measures nothing writes no rollout report.
  - With O(phase=gate), works out each host's counter rates over the baseline window (just before the change) and the
    window of the same length after it, and the wave's verdict. A host is worse when a counter's new rate is above its
    floor and above ratio times its baseline rate; then every host of the wave that the change touched is to be put back.
    A window across a reboot or a new network namespace has no rates; such a host is C(unmeasured) and does not stop
    the rollout.
  - With O(dest), writes C(rollout.json), C(rollout.md) and a self-contained C(rollout.html) there, in either phase.
    They give per wave and host the profile before and after, the keys changed, the baseline and after rates, the
    verdict and what was put back. The role writes them with the gate, and again after a put back (O(phase=report)).
  - "B(The rollout's data). Besides its options, the action reads one variable per host, C(__tcp_tune_rollout), which
    the role sets and nothing else reads. Before the gate, on every host of the wave (C(ansible_play_batch)), it holds
    C(changed) (the change touched the host), C(profile_before) and C(profile_after) (C(name@version) or null),
    C(applied) and C(restored) (M(netops.tcp.sysctl_tune)'s lists, each setting with its C(key)) and C(snapshots)
    (the C(health) of the four M(netops.tcp.tcp_health_info) snapshots: the baseline window's start and end, then the after
    window's; null when the host was not measured)."
  - After the gate the role adds C(wave), this action's O(phase=gate) result for the host's wave (C(wave), C(hosts),
    C(worse), C(put_back), C(msg)); the report of later waves reads every wave from it. After a put back it adds
    C(put_back), M(netops.tcp.sysctl_tune)'s C(state=previous) result on the host (also when it failed).
  - With O(phase=summary), sums the run up so far for C(ansible.builtin.set_stats) (RV(stats)); it reads each play host's
    M(netops.tcp.sysctl_tune) result as the role registers it, C(__tcp_tune_result), and the waves from
    C(__tcp_tune_rollout); it runs in check mode too and writes nothing.
  - A host of the wave without C(__tcp_tune_rollout) ran none of the rollout's steps (its C(tcp_tune_soak), C(tcp_tune_gate)
    or C(tcp_tune_state) differ, or the role did not run on it); it is V(not gated), with that reason, and never put back.
    A wave where no host has it (role and action disagree on its name), or a host whose C(__tcp_tune_rollout) lacks one
    of these keys, fails the gate with a message naming the host and what is missing.
author:
  - netops.tcp contributors (@netops-tcp)
extends_documentation_fragment:
  - netops.tcp._attributes
  - netops.tcp._attributes.controller
attributes:
  check_mode:
    support: partial
    details: The role skips the gate and the report in check mode; O(phase=summary) runs in check mode.
  platform:
    platforms: all
options:
  phase:
    description:
      - V(gate) judges the current wave; V(report) writes the report of every wave so far; V(summary) returns RV(stats).
    type: str
    choices: [gate, report, summary]
    required: true
  profile:
    description: With O(phase=summary), the profile applied (C(name@version)) or the state, as RV(stats) names it.
    type: str
    default: ''
  gate:
    description:
      - Counter to C({ratio, floor}); floors are per second, except C(retransmit_ratio) (retransmitted segments over
        segments sent). Counters are C(ListenOverflows), C(ListenDrops), C(TCPTimeWaitOverflow), C(TCPAbortOnMemory),
        C(OutRsts), C(SyncookiesSent) and C(retransmit_ratio). A rule missing a field takes the role's default for it.
      - An empty mapping turns the gate off.
    type: dict
    default: {}
  soak:
    description: The window length in seconds, for the report.
    type: int
    default: 0
  dest:
    description: The report directory on the controller; needed with O(phase=report).
    type: path
seealso:
  - module: netops.tcp.tcp_health_info
  - module: netops.tcp.sysctl_tune
'''

EXAMPLES = r'''
# The tune role's tasks, in short (see roles/tune/tasks/rollout_gate.yml and stop.yml):
- name: Hand the host's change and windows to the gate
  ansible.builtin.set_fact:
    __tcp_tune_rollout:
      changed: "{{ __tcp_tune_result is changed }}"
      profile_before: "{{ __tcp_tune_result.profile_before }}"
      profile_after: "{{ __tcp_tune_profile.name ~ '@' ~ __tcp_tune_profile.version }}"
      applied: "{{ __tcp_tune_result.applied }}"
      restored: "{{ __tcp_tune_result.restored }}"
      snapshots: "{{ [__tcp_tune_health_0.health, __tcp_tune_health_1.health, __tcp_tune_health_2.health, __tcp_tune_health_3.health] }}"

- name: Gate the wave and write the report
  netops.tcp.tune_rollout:
    phase: gate
    gate: "{{ tcp_tune_gate }}"
    soak: "{{ tcp_tune_soak }}"
    dest: tcp-tune-report
  run_once: true
  register: __tcp_tune_wave

- name: Keep the wave's verdict with its hosts
  ansible.builtin.set_fact:
    __tcp_tune_rollout: "{{ __tcp_tune_rollout | combine({'wave': __tcp_tune_wave}) }}"

- name: Write the report again after the put back
  netops.tcp.tune_rollout:
    phase: report
    gate: "{{ tcp_tune_gate }}"
    soak: "{{ tcp_tune_soak }}"
    dest: tcp-tune-report
  run_once: true
'''

RETURN = r'''
wave:
  description: The wave's number (O(phase=gate)).
  returned: with phase=gate
  type: int
hosts:
  description: Per host of the wave, its verdict (V(pass), V(worse), V(unmeasured), V(unchanged), V(not gated)), the
    counters that got worse, and the baseline and after windows.
  returned: with phase=gate
  type: dict
worse:
  description: The hosts that got worse.
  returned: with phase=gate
  type: list
  elements: str
put_back:
  description: The hosts to put back (those the change touched, when any host got worse).
  returned: with phase=gate
  type: list
  elements: str
msg:
  description: The wave's verdict in a sentence, naming each counter, its baseline and its new rate.
  returned: with phase=gate
  type: str
dest:
  description: The report directory.
  returned: with dest
  type: str
rollout:
  description: The report (as in rollout.json).
  returned: with phase=report
  type: dict
stats:
  description:
    - The run so far in a few hundred bytes (O(phase=summary)). C(hosts) counts the play's hosts; C(changed),
      C(unchanged), C(failed) (failed or unreachable) and C(not_reached) split them; C(changed_hosts),
      C(failed_hosts) and C(mismatched_hosts) (the kernel reported other values than were written) name the
      first 20 of each in name order; C(applied_keys) counts per key the hosts it was applied on.
    - C(rollout) is null when the run measured nothing; else C(waves) judged, C(stopped_at) (the wave that got
      worse, or null), C(worse_hosts), C(put_back) (hosts put back) and C(report) (its C(dest) and the C(sha256)
      of C(rollout.json)).
  returned: with phase=summary
  type: dict
  sample:
    profile: web_frontend@2
    check_mode: false
    hosts: 3
    changed: 2
    unchanged: 1
    failed: 0
    not_reached: 0
    changed_hosts: [web-1, web-2]
    failed_hosts: []
    mismatched_hosts: []
    applied_keys: {net.ipv4.tcp_fin_timeout: 2}
    rollout: {waves: 2, stopped_at: null, worse_hosts: [], put_back: 0, report: {dest: /srv/tcp-tune, sha256: 4be1...}}
'''
