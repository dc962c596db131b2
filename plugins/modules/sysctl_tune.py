#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: sysctl_tune
short_description: Apply TCP sysctl settings safely - guarded, transactional, persistent, reversible
version_added: 0.1.0
description:
  - Applies a set of sysctl settings (usually a profile resolved by the M(netops.tcp.tcp_profile)
    lookup) in one call.
  - Validates everything first (key names, types, ranges, guards); bad input fails with a message
    naming the key and the rule, and nothing is written.
  - Decides per key, before writing, to apply it, leave it (already right) or skip it with a
    reason a person understands (removed in this kernel, host-global inside a network namespace,
    read-only here, a kernel or NAT guard).
  - Writes live values as one transaction (a failure puts back the keys already written), then an
    atomic drop-in file (never C(/etc/sysctl.conf)), and records what the host runs in a local fact.
  - Saves the values a host had before its first tuning; O(state=absent) puts them back. Keys that
    a new profile version no longer sets get their original values back.
author:
  - netops.tcp contributors (@netops-tcp)
extends_documentation_fragment:
  - netops.tcp.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Live values and the drop-in file, before and after.
  platform:
    platforms: linux
options:
  settings:
    description:
      - Sysctl names to values. A value is a number, a list (vectors and port ranges), a string as
        C(/proc/sys) shows it, or a mapping with C(value) and C(guards) (C(kernel), C(unless),
        C(reserve_listening_ports)).
      - The C(settings) of a resolved profile can be passed as they are.
    type: dict
    default: {}
  state:
    description: V(present) applies O(settings); V(absent) restores the values saved before the first tuning and removes the files.
    type: str
    choices: [present, absent]
    default: present
  persist:
    description: Write the drop-in file so the values survive a reboot.
    type: bool
    default: true
  sysctl_file:
    description: The drop-in file. It is written whole; other files are never edited.
    type: path
    default: /etc/sysctl.d/60-netops-tcp.conf
  profile:
    description: Profile metadata to record (C(name), C(version), C(checksum)), as the lookup returns it.
    type: dict
    default: {}
  clients_behind_nat:
    description: Whether clients may reach the host through NAT. Keys guarded with C(unless=clients_behind_nat) are skipped when true.
    type: bool
    default: true
  on_unavailable:
    description: What to do with a key this host cannot set (absent, host-global, read-only).
    type: str
    choices: [skip, fail]
    default: skip
  reserve_listening_ports:
    description:
      - When a port range guarded with C(reserve_listening_ports) would cover ports the host listens on,
        add them to C(net.ipv4.ip_local_reserved_ports). When false, refuse such a range.
    type: bool
    default: true
  state_dir:
    description: Where the values before the first tuning are kept.
    type: path
    default: /var/lib/netops-tcp
  fact_path:
    description: The local fact file recording what the host runs (read by setup as C(ansible_local.netops_tcp)).
    type: path
    default: /etc/ansible/facts.d/netops_tcp.fact
  backup:
    description: Keep a time-stamped copy of the drop-in file before changing it.
    type: bool
    default: false
  allow_unknown_keys:
    description: Accept keys outside the netops.tcp catalog (values are still checked for safe characters).
    type: bool
    default: false
  proc_path:
    description: Where procfs is mounted (a fixture tree in tests).
    type: path
    default: /proc
seealso:
  - module: netops.tcp.sysctl_facts
'''

EXAMPLES = r'''
- name: Apply the web_frontend profile
  netops.tcp.sysctl_tune:
    settings: "{{ profile.settings }}"
    profile: "{{ profile }}"
  vars:
    profile: "{{ lookup('netops.tcp.tcp_profile', 'web_frontend') }}"

- name: Two keys, live only
  netops.tcp.sysctl_tune:
    settings:
      net.ipv4.tcp_fin_timeout: 30
      net.ipv4.tcp_rmem: [4096, 131072, 16777216]
    persist: false

- name: Put back the values from before the first tuning
  netops.tcp.sysctl_tune:
    state: absent
'''

RETURN = r'''
applied:
  description: Keys written now, with the live value before and after.
  returned: always
  type: list
  elements: dict
  sample: [{key: net.ipv4.tcp_fin_timeout, before: "60", after: "30"}]
unchanged:
  description: Keys that already had the wanted value.
  returned: always
  type: list
  elements: str
skipped_keys:
  description:
    - Keys left alone, with the reason. (Not C(skipped), which Ansible reads as "the task was skipped".)
  returned: always
  type: dict
  sample: {net.ipv4.tcp_mem: "host-global: set it on the host, not inside a network namespace"}
restored:
  description: Keys put back to their value from before the first tuning.
  returned: always
  type: list
  elements: dict
sysctl_file:
  description: The drop-in file, or null when not persisted.
  returned: always
  type: str
backup_file:
  description: The copy of the previous drop-in file.
  returned: when backup is true and the file changed
  type: str
mismatches:
  description:
    - Keys whose live value, read back after writing, differs from what was written (the kernel
      clamped or ignored it). Empty when all is well; the tune role fails on any.
  returned: always
  type: list
  elements: dict
  sample: [{key: net.core.somaxconn, wanted: "100000", live: "65535"}]
record:
  description: What the host now runs (the local fact).
  returned: when state is present
  type: dict
'''

import datetime
import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netops.tcp.plugins.module_utils import _tune as tune
from ansible_collections.netops.tcp.plugins.module_utils._catalog import CatalogError
from ansible_collections.netops.tcp.plugins.module_utils._profile import ProfileError

COLLECTION_VERSION = '0.1.0'


def read_text(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def write_atomic(module, path, text, mode=0o644):
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.netops-tcp-')
    with os.fdopen(fd, 'w') as handle:
        handle.write(text)
    os.chmod(tmp, mode)
    module.atomic_move(tmp, path)


def remove(path):
    if os.path.exists(path):
        os.remove(path)
        return True
    return False


def live_text(steps, field):
    return ''.join('%s = %s\n' % (step['name'], step[field]) for _key, step in steps)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            settings=dict(type='dict', default={}),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            persist=dict(type='bool', default=True),
            sysctl_file=dict(type='path', default=tune.DEFAULT_FILE),
            profile=dict(type='dict', default={}),
            clients_behind_nat=dict(type='bool', default=True),
            on_unavailable=dict(type='str', choices=['skip', 'fail'], default='skip'),
            reserve_listening_ports=dict(type='bool', default=True),
            state_dir=dict(type='path', default=tune.DEFAULT_STATE_DIR),
            fact_path=dict(type='path', default=tune.DEFAULT_FACT),
            backup=dict(type='bool', default=False),
            allow_unknown_keys=dict(type='bool', default=False),
            proc_path=dict(type='path', default='/proc'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    for option in ('sysctl_file', 'state_dir', 'fact_path'):
        if not os.path.isabs(p[option]):
            module.fail_json(msg='%s: %r must be an absolute path' % (option, p[option]))
    try:
        settings = tune.normalise_settings(p['settings'], p['allow_unknown_keys']) if p['state'] == 'present' else {}
        host = tune.Host(p['proc_path'])
    except (ProfileError, CatalogError) as exc:
        module.fail_json(msg=str(exc))
    except (IOError, OSError) as exc:
        module.fail_json(msg='cannot read the kernel release under %s: %s' % (p['proc_path'], exc))

    state_file = os.path.join(p['state_dir'], 'state.json')
    saved = tune.read_json(state_file) or {'originals': {}, 'managed': []}
    # Keys not in settings go back to their originals: the ones the last run managed, or with
    # state=absent every key ever saved.
    managed = saved['managed'] if p['state'] == 'present' else list(saved['originals'])
    plan = tune.decide(host, settings, p['clients_behind_nat'], p['on_unavailable'], p['reserve_listening_ports'],
                       saved['originals'], managed)
    if plan.errors:
        module.fail_json(msg='nothing was changed: ' + '; '.join(plan.errors), skipped_keys=plan.skipped)

    result = dict(changed=False, applied=[], unchanged=sorted(plan.unchanged), skipped_keys=plan.skipped, restored=[],
                  mismatches=[],
                  sysctl_file=p['sysctl_file'] if p['persist'] and p['state'] == 'present' else None)
    files = []  # (path, old text, new text or None to remove)
    if p['state'] == 'present':
        new_saved = {
            'originals': dict(saved['originals']),
            'managed': sorted(plan.in_effect()),
        }
        for key, step in plan.apply.items():
            new_saved['originals'].setdefault(key, step['before'])
        if p['persist']:
            files.append((p['sysctl_file'], read_text(p['sysctl_file']), tune.render_dropin(p['sysctl_file'], p['profile'], plan)))
        files.append((state_file, read_text(state_file), json.dumps(new_saved, indent=1, sort_keys=True) + '\n'))
        rec = tune.record(p['profile'], plan, p['sysctl_file'], p['persist'], COLLECTION_VERSION)
        old_rec = tune.read_json(p['fact_path']) or {}
        old_rec.pop('time', None)
        if old_rec != rec or any(old != new for _path, old, new in files) or plan.writes():
            rec_out = dict(rec, time=datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))
            files.append((p['fact_path'], read_text(p['fact_path']), json.dumps(rec_out, indent=1, sort_keys=True) + '\n'))
        result['record'] = rec
        if p['persist']:
            result['warnings_later_files'] = tune.later_overrides(sorted(plan.in_effect()), p['sysctl_file'])
    else:
        # The originals go back (decided above); then our files go.
        for path in (p['sysctl_file'], p['fact_path'], state_file):
            old = read_text(path)
            if old is not None:
                files.append((path, old, None))

    file_changes = [(path, old, new) for path, old, new in files if old != new]
    writes = plan.writes()
    result['applied'] = [{'key': k, 'before': s['before'], 'after': s['after']} for k, s in writes if k in plan.apply]
    result['restored'] = [{'key': k, 'before': s['before'], 'after': s['after']} for k, s in writes if k in plan.restore]
    result['changed'] = bool(writes or file_changes)
    if module._diff:
        result['diff'] = [{'before_header': 'live sysctl values', 'after_header': 'live sysctl values',
                           'before': live_text(writes, 'before'), 'after': live_text(writes, 'after')}]
        for path, old, new in file_changes:
            if path == p['sysctl_file']:
                result['diff'].append({'before_header': path, 'after_header': path, 'before': old or '', 'after': new or ''})

    if not module.check_mode and result['changed']:
        try:
            tune.apply_live(host, plan)
        except tune.TuneError as exc:
            module.fail_json(msg=str(exc), skipped_keys=plan.skipped)
        # Read back what the kernel now reports: it may clamp or refuse a value silently.
        result['mismatches'] = tune.mismatches(host, writes)
        for path, old, new in file_changes:
            if new is None:
                remove(path)
            else:
                if p['backup'] and path == p['sysctl_file'] and old is not None:
                    result['backup_file'] = module.backup_local(path)
                write_atomic(module, path, new, 0o600 if path == state_file else 0o644)
    for warning in result.pop('warnings_later_files', []):
        module.warn(warning)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
