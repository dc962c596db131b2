#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: audit_report
short_description: Write the netops.tcp fleet audit report on the controller
version_added: 0.1.0
description:
  - Builds the fleet report from every host's audit (findings, profile, states) and writes
    C(report.json), C(report.md), C(report.xml) (JUnit) and a self-contained C(report.html) into
    O(dest) on the controller, in the controller process (an action plugin; nothing runs on the hosts).
  - Returns the report and the findings at or above O(fail_on), so a play can fail on them.
author:
  - netops.tcp contributors (@netops-tcp)
extends_documentation_fragment:
  - netops.tcp.attributes
attributes:
  action:
    support: full
    description: Runs on the controller as an action plugin.
  check_mode:
    support: full
    details: Reports what would change and writes nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  hosts:
    description: Host name to its audit (C(findings), C(profile), C(states), C(expected)).
    type: dict
    required: true
  dest:
    description: Directory for the four files, created when missing.
    type: path
    required: true
  fail_on:
    description: The least severity returned in RV(failing).
    type: str
    choices: [none, info, warning, critical]
    default: none
'''

EXAMPLES = r'''
- name: Write the report
  netops.tcp.audit_report:
    hosts: "{{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars, 'audit'))) }}"
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
  description: The fleet report (as in report.json).
  returned: always
  type: dict
failing:
  description: Findings at or above O(fail_on), each with its C(host).
  returned: always
  type: list
  elements: dict
'''
