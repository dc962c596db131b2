#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: tune_rollout
short_description: The tune role's rollout gate and rollout report, on the controller
version_added: 0.1.0
description:
  - Used by the P(netops.tcp.tune#role) role once per wave (a C(serial) batch); it reads what the role registered per
    host (C(__tcp_tune_result), the four C(__tcp_tune_health_N) snapshots of M(netops.tcp.tcp_health_info), the put back),
    so it is not meant to be called on its own.
  - With O(phase=gate), works out each host's counter rates over the baseline window (just before the change) and the
    window of the same length after it, and the wave's verdict. A host is worse when a counter's new rate is above its
    floor and above ratio times its baseline rate; then every host of the wave that the change touched is to be put back.
    A window across a reboot or a new network namespace has no rates; such a host is C(unmeasured) and does not stop
    the rollout.
  - With O(dest), writes C(rollout.json), C(rollout.md) and a self-contained C(rollout.html) there, in either phase.
    They give per wave and host the profile before and after, the keys changed, the baseline and after rates, the
    verdict and what was put back. The role writes them with the gate, and again after a put back (O(phase=report)).
author:
  - netops.tcp contributors (@netops-tcp)
extends_documentation_fragment:
  - netops.tcp._attributes
  - netops.tcp._attributes.controller
attributes:
  check_mode:
    support: none
    details: The role skips the gate and the report in check mode.
  platform:
    platforms: all
options:
  phase:
    description: V(gate) judges the current wave; V(report) writes the report of every wave so far.
    type: str
    choices: [gate, report]
    required: true
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
# The tune role's tasks, in short (see roles/tune/tasks/main.yml):
- name: Gate the wave and write the report
  netops.tcp.tune_rollout:
    phase: gate
    gate: "{{ tcp_tune_gate }}"
    soak: "{{ tcp_tune_soak }}"
    dest: tcp-tune-report
  run_once: true
  register: __tcp_tune_wave

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
'''
