#!/usr/bin/python
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: tcp_health_info
short_description: Take a TCP health snapshot (trouble counters, connection states, a clock) for rates over a window
version_added: 0.1.0
description:
  - Reads the TcpExt and Tcp counters that show trouble (the same as M(netops.tcp.tcp_facts) returns under
    C(counters), with C(InSegs) and C(OutSegs)), counts the connection states, and notes when and where it read
    them - the monotonic clock, the boot id and the network namespace - so two snapshots give per-second rates
    and a window across a reboot or a new network namespace is known as one.
  - With O(since) and O(window) it first waits until O(window) seconds have passed since that earlier snapshot, so
    windows are as long as asked whatever the controller's overhead (no wait when the host rebooted or its network
    namespace is another one since, as that window has no rates anyway).
  - The tune role takes four per host in a rollout wave - the baseline window before the change, the same length
    after it - and its gate compares the rates. It sets no facts, so it leaves C(ansible_facts.tcp) as it was.
author:
  - netops.tcp contributors (@netops-tcp)
extends_documentation_fragment:
  - netops.tcp._attributes
  - netops.tcp._attributes.read_only
options:
  since:
    description: The C(clock) of an earlier snapshot of this host (C(health.clock) of its result).
    type: dict
  window:
    description: With O(since), seconds after that snapshot to take this one; the module waits for the rest.
    type: float
    default: 0
  proc_path:
    description:
      - Where procfs is mounted (a fixture tree in tests). The connection states then come from procfs files.
    type: path
    default: /proc
seealso:
  - module: netops.tcp.tcp_facts
  - module: netops.tcp.sysctl_tune
'''

EXAMPLES = r'''
- name: Start of a window
  netops.tcp.tcp_health_info:
  register: first

- name: End of the window, a minute after its start
  netops.tcp.tcp_health_info:
    since: "{{ first.health.clock }}"
    window: 60
  register: second

- name: TIME_WAIT overflows per second over that minute
  ansible.builtin.debug:
    msg: >-
      {{ (second.health.counters.TCPTimeWaitOverflow - first.health.counters.TCPTimeWaitOverflow)
         / (second.health.clock.monotonic - first.health.clock.monotonic) }}
'''

RETURN = r'''
health:
  description: The snapshot.
  returned: success
  type: dict
  contains:
    counters:
      description: TcpExt and Tcp counters by the kernel's names.
      type: dict
      sample: {TCPTimeWaitOverflow: 0, ListenOverflows: 0, RetransSegs: 12, OutSegs: 48210}
    states:
      description: Sockets per TCP state.
      type: dict
      sample: {ESTABLISHED: 12, TIME_WAIT: 3050, LISTEN: 4}
    clock:
      description:
        - C(monotonic) seconds (the system's monotonic clock, the same for every process of a boot), C(boot_id) and
          C(netns) (the network namespace whose counters these are).
      type: dict
      sample: {monotonic: 81234.5, boot_id: 7f1c0f9e-4f1b-4a8e-9a55-1b2f0c3d4e5f, netns: "net:[4026531840]"}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netops.tcp.plugins.module_utils.judge import _health as health
from ansible_collections.netops.tcp.plugins.module_utils.gather._census import Census, GatherError


def main():
    module = AnsibleModule(argument_spec=dict(since=dict(type='dict'), window=dict(type='float', default=0),
                                              proc_path=dict(type='path', default='/proc')),
                           supports_check_mode=True)
    proc, since, window = module.params['proc_path'], module.params['since'], module.params['window']
    if window < 0:
        module.fail_json(msg='window: %s must be 0 or more seconds' % window)
    if since is not None and not isinstance(since.get('monotonic'), (int, float)):
        module.fail_json(msg="since: %r is not a snapshot's clock (no number 'monotonic')" % (since,))
    census = Census(proc, 'auto', {'states', 'counters'})
    try:
        if since and window:
            health.wait_until(since, window, proc)
        when = health.clock(proc)
        facts = census.gather()
    except GatherError as exc:
        module.fail_json(msg=str(exc))
    for warning in census.warnings:
        module.warn(warning)
    module.exit_json(changed=False, health={'counters': facts['counters'], 'states': facts['states'], 'clock': when})


if __name__ == '__main__':
    main()
