#!/usr/bin/python
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: tcp_facts
short_description: Gather TCP connection-state facts, fast, even with hundreds of thousands of sockets
version_added: 0.1.0
description:
  - Counts TCP sockets per state (IPv4 and IPv6) with one NETLINK_SOCK_DIAG (inet_diag) dump per
    address family, the way C(ss) does, and falls back to C(/proc/net/tcp) and C(/proc/net/tcp6)
    when netlink is unavailable or refused.
  - Adds listeners with their accept-queue depth and backlog, the TCP counters that diagnose
    trouble, C(/proc/net/sockstat), conntrack usage, ephemeral port usage per remote peer and, on
    request, the processes that hold sockets per state and the LVS (IPVS) connection census.
  - Works as a facts module in C(ansible_facts_modules) next to M(ansible.builtin.setup).
  - Counts the sockets of the network namespace the module runs in; with O(namespaces), those of the
    host's other network namespaces too (containers, pods, C(ip netns)), each entered from a helper
    thread with C(setns(2)) and counted with the same dump, found through C(/proc/*/ns/net) and
    C(/run/netns) and named after the container, pod, systemd unit or C(ip netns) name that holds it.
author:
  - netops.tcp contributors (@netops-tcp)
extends_documentation_fragment:
  - netops.tcp._attributes
  - netops.tcp._attributes.facts
  - netops.tcp._attributes.read_only
options:
  gather_subset:
    description:
      - What to gather. V(all) means the default set (everything but V(processes) and V(ipvs)),
        V(min) means V(states) only. Prefix a name with V(!) to leave it out.
      - V(states) is always gathered.
    type: list
    elements: str
    default: [all]
  ports:
    description:
      - Ports to break down by state, as local port and as remote port.
    type: list
    elements: int
    default: []
  top:
    description:
      - How many entries to keep in top lists (busiest peers, processes per state, IPVS real servers).
    type: int
    default: 10
  backend:
    description:
      - Where the socket census comes from. V(auto) uses netlink and falls back to procfs.
    type: str
    choices: [auto, netlink, procfs]
    default: auto
  process_budget:
    description:
      - Seconds the V(processes) subset may spend reading the descriptors of every process (it
        reads one link per open file). Past it the walk stops with a warning that says how many
        processes it read; the counts are then partial.
    type: float
    default: 5.0
  process_cmdline:
    description:
      - Add each named process's command line (V(processes) subset), with the values that look
        like secrets replaced by C(<redacted>) (after C(=) or after a flag whose name says password,
        token, secret, key, auth..., also inside C(;)- or C(,)-separated C(name=value) lists; the
        argument after C(-u), C(--user), C(-a), C(-p), C(-H); the password of a URL; a Bearer or Basic
        token). Off by default, since command lines carry secrets and facts end up in fact caches and logs.
      - "Redaction cannot know every secret (a bare argument, C(mysql -pSECRET)). When you turn this on,
        treat the result as sensitive (C(no_log: true) on the task) and keep it out of fact caches."
    type: bool
    default: false
  proc_path:
    description:
      - Where procfs is mounted, like node_exporter's C(--path.procfs). Read a host's /proc mounted
        elsewhere, or a fixture tree in tests.
      - With a path other than C(/proc) the socket census comes from procfs files under that path,
        since netlink only sees the module's own network namespace.
    type: path
    default: /proc
  namespaces:
    description:
      - The host's other network namespaces to count as well, under C(ansible_facts.tcp.namespaces).
        V(all) takes every one; otherwise each entry names one by its id (C(net:[inode])) or inode, a
        pid in it, a path that opens it (C(/run/netns/NAME), C(/proc/PID/ns/net)), its C(ip netns) name,
        its container's name or id (12 hex digits or more), its Kubernetes pod (C(namespace/name), name
        or uid) or its systemd unit. An entry that names nothing here gives a warning.
      - Each namespace gets the subsets O(gather_subset) asks for but C(conntrack) and C(ipvs), with the
        same O(ports) and O(top), always from netlink (O(backend) is the host's). Its processes are the ones in it, so the
        V(processes) walk reads only theirs; O(process_budget) holds for the walks of all the namespaces
        together (past it, the rest are counted without naming their processes, with a warning).
      - Needs root (entering a namespace takes C(CAP_SYS_ADMIN)) and O(proc_path=/proc).
    type: list
    elements: str
    default: []
notes:
  - "What leaves the host: counts, listeners, counters, peers' addresses and, with V(processes), each
    named process's pid, name (C(comm)), executable, and the systemd unit, container (C(runtime:id))
    or Kubernetes pod uid from its cgroup. Never a command line unless O(process_cmdline)."
  - Run as root to name every process. Without root, other users' processes cannot be inspected, and
    with C(/proc) mounted C(hidepid=invisible) they are not even listed; a warning then says so and
    counts the sockets left without a holder.
  - Counts are a snapshot taken while the kernel walks its socket tables; like C(ss), they are not atomic.
  - In a non-initial network namespace, C(sockstat.tcp.orphan), C(alloc) and C(mem) are host-wide figures
    (the census of O(namespaces) leaves them out).
  - "Names come from the runtimes' own files, read without an API call: containers/storage's
    C(containers.json) (podman, CRI-O), Docker's C(config.v2.json), and the CRI annotations in the
    OCI bundle's C(config.json) (containerd, CRI-O) for the pod's namespace, name and uid."
seealso:
  - module: netops.tcp.sysctl_facts
'''

EXAMPLES = r'''
- name: Gather TCP facts
  netops.tcp.tcp_facts:

- name: Show connection states
  ansible.builtin.debug:
    var: ansible_facts.tcp.states

- name: Find who leaks CLOSE_WAIT sockets, with a breakdown for the web ports
  netops.tcp.tcp_facts:
    gather_subset: [all, processes]
    ports: [80, 443]

- name: Census of an LVS director
  netops.tcp.tcp_facts:
    gather_subset: [min, ipvs]

- name: The TCP trouble of every container and pod on the host too
  netops.tcp.tcp_facts:
    gather_subset: [all, processes]
    namespaces: [all]

- name: The namespaces that hold CLOSE_WAIT sockets, and who they belong to
  ansible.builtin.debug:
    msg: "{{ ansible_facts.tcp.namespaces['items'] | selectattr('states.CLOSE_WAIT', 'defined')
             | selectattr('states.CLOSE_WAIT', 'gt', 0) | map(attribute='owner.label') | list }}"

# In an inventory (group_vars/all.yml), to get TCP facts with every gather_facts:
# ansible_facts_modules: [ansible.builtin.setup, netops.tcp.tcp_facts]
'''

RETURN = r'''
ansible_facts:
  description: Facts added under C(tcp).
  returned: always
  type: complex
  contains:
    tcp:
      description: The TCP picture of the host (its current network namespace).
      returned: always
      type: dict
      sample:
        source: netlink
        gather_subset: [conntrack, counters, ephemeral_ports, listeners, sockstat, states]
        gathered_at: '2026-12-01T20:30:00Z'
        total: 170012
        states: {ESTABLISHED: 100000, SYN_SENT: 0, SYN_RECV: 0, FIN_WAIT1: 0, FIN_WAIT2: 5000,
                 TIME_WAIT: 60000, CLOSE: 0, CLOSE_WAIT: 5000, LAST_ACK: 0, LISTEN: 12, CLOSING: 0}
        states_by_family:
          ipv4: {ESTABLISHED: 75000, LISTEN: 9}
          ipv6: {ESTABLISHED: 25000, LISTEN: 3}
        listeners:
          - {family: ipv4, address: 0.0.0.0, port: 80, accept_queue: 0, backlog: 4096,
             accept_queue_full: false, syn_recv: 3, inode: 25078}
        counters: {ListenOverflows: 0, ListenDrops: 0, TCPTimeWaitOverflow: 0, CurrEstab: 105000}
        sockstat:
          tcp: {inuse: 110012, orphan: 0, tw: 60000, alloc: 110020, mem: 12, mem_bytes: 49152}
          tcp6: {inuse: 25003}
          sockets: {used: 110100}
        conntrack: {loaded: true, count: 120, max: 262144, usage: 0.0005}
        ephemeral_ports:
          range: [32768, 60999]
          size: 28232
          reserved: "8080"
          in_use: 65000
          busiest_peers:
            - {peer: 10.0.0.5, port: 3306, connections: 2500, usage: 0.0886}
        processes:
          CLOSE_WAIT:
            - {pid: 2211, name: java, exe: /usr/lib/jvm/java-17-openjdk-amd64/bin/java, unit: tomcat9.service,
               container: null, pod: null, sockets: 1122}
    namespaces:
      description:
        - With O(namespaces), the census of the other network namespaces. C(found) counts every one
          on the host, C(items) holds those asked for, sorted by inode, each with the keys of the host's
          census above that apply to a namespace (no C(states_by_family), C(conntrack), C(ipvs), nor
          sockstat's host-wide C(orphan), C(alloc), C(mem)), and C(id), C(inode), C(cookie) (the kernel's
          number for the namespace, never given to another, Linux 5.14 and later; else null), C(owner) (C(kind) pod,
          container, unit, netns or process; C(label), a few words naming it), C(members) (its processes)
          and, from M(netops.tcp.audit_facts), C(sysctls), the per-namespace settings of C(keys) whose value
          there differs from the module's own namespace. A namespace that could not be read has C(error)
          instead of the census.
      returned: when O(namespaces) is given
      type: dict
      sample:
        requested: [all]
        found: 1
        keys: [net.core.somaxconn, net.ipv4.ip_local_port_range, net.ipv4.tcp_tw_reuse]
        items:
          - id: 'net:[4026532178]'
            inode: 4026532178
            owner: {kind: container, label: podman container web, runtime: podman, container_ids: [640d3d52ccca],
                    containers: [web], pod: null, pod_uid: null, unit: null, netns: netns-0f7deeb0, pid: 19061}
            members: 3
            source: netlink
            total: 1204
            states: {ESTABLISHED: 2, CLOSE_WAIT: 1200, LISTEN: 2}
            counters: {ListenOverflows: 0, TCPTimeWaitOverflow: 0}
            sysctls: {net.core.somaxconn: 4096}
'''

from ansible_collections.netops.tcp.plugins.module_utils.gather._census import Census, EarlyDump, GatherError, parse_subsets

# Run as a module, start the kernel's socket dump now: it proceeds in a thread while
# AnsibleModule loads. Imported by a tool (docs, sanity), nothing starts.
EARLY = EarlyDump.start() if __name__ == '__main__' else None

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.netops.tcp.plugins.module_utils.gather._netns import Gathering, NamespaceError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            gather_subset=dict(type='list', elements='str', default=['all']),
            ports=dict(type='list', elements='int', default=[]),
            top=dict(type='int', default=10),
            backend=dict(type='str', choices=['auto', 'netlink', 'procfs'], default='auto'),
            proc_path=dict(type='path', default='/proc'),
            process_budget=dict(type='float', default=5.0),
            process_cmdline=dict(type='bool', default=False),
            namespaces=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    bad_ports = [p for p in params['ports'] if not 0 < p < 65536]
    if bad_ports:
        module.fail_json(msg='ports: %s out of range 1..65535' % ', '.join(str(p) for p in bad_ports))
    if params['top'] < 1:
        module.fail_json(msg='top: must be at least 1, got %d' % params['top'])
    if not params['process_budget'] > 0:
        module.fail_json(msg='process_budget: must be a number of seconds above 0, got %s' % params['process_budget'])
    try:
        subsets = parse_subsets(params['gather_subset'])
        subsets.add('states')
        gathering = Gathering(params['namespaces'], subsets, params['ports'], params['top'], params['process_budget'],
                              params['process_cmdline'], params['proc_path']) if params['namespaces'] else None
        census = Census(params['proc_path'], params['backend'], subsets, params['ports'], params['top'],
                        params['process_budget'], params['process_cmdline'])
        facts = census.gather(EARLY)
        if gathering:
            facts['namespaces'] = gathering.gather()
    except (GatherError, NamespaceError) as exc:
        module.fail_json(msg=str(exc))
    for warning in census.warnings + (gathering.warnings if gathering else []):
        module.warn(warning)
    module.exit_json(changed=False, ansible_facts={'tcp': facts})


if __name__ == '__main__':
    main()
