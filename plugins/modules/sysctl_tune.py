#!/usr/bin/python
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
module: sysctl_tune
short_description: Apply TCP sysctl settings safely - guarded, transactional, persistent, reversible
version_added: 0.1.0
description:
  - Applies a set of sysctl settings (usually a profile resolved by the P(netops.tcp.tcp_profile#lookup)
    lookup) in one call.
  - Validates everything first (key names, types, ranges, guards); bad input fails with a message
    naming the key and the rule, and nothing is written.
  - Decides per key, before writing, to apply it, leave it (already right) or skip it with a
    reason a person understands (removed in this kernel, host-global inside a network namespace,
    read-only here, a kernel or NAT guard).
  - Writes live values as one transaction (a failure puts back the keys already written), then an
    atomic drop-in file (never C(/etc/sysctl.conf)), and records what the host runs in a local fact.
  - A key of the drop-in that a kernel module brings (C(net.netfilter.nf_conntrack_*) comes with
    C(nf_conntrack)) applies at boot only when the module is loaded before systemd-sysctl runs
    (sysctl.d(5)). For the keys it applies, the module lists such modules in O(modules_file), read by
    systemd-modules-load before systemd-sysctl, unless something else loads them at boot already
    (another modules-load.d file listing them or a module that needs them, or a module built into the
    kernel). It never loads a module itself.
  - Saves the values a host had before its first tuning; O(state=absent) puts them back. Keys that
    a new profile version no longer sets get their original values back.
  - Safe under faults. One run at a time per host (a lock in O(state_dir)). The originals are saved
    durably (write, fsync, rename, fsync the directory) before the first live write, and a saved
    original is never replaced. Every file is staged before the first live write, so a read-only or
    full filesystem fails the task with nothing changed. A failure after the first live write puts
    back the live values and files and says what it put back. A crash at any step leaves a host
    from which a rerun, or O(state=absent), gives back exactly the values from before any tuning.
  - Compares values the way the kernel reports them (port lists merged, whitespace, integers), so
    a value the kernel re-formats is not a change.
author:
  - netops.tcp contributors (@netops-tcp)
extends_documentation_fragment:
  - netops.tcp._attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Live values, the drop-in file and the modules file, before and after.
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
    description:
      - V(present) applies O(settings); V(absent) restores the values saved before the first tuning and removes the files.
      - V(previous) undoes the last run that changed the host, even one that crashed half way. The live values, the
        drop-in and the record become byte for byte what they were before it (the previous profile version, or the
        values from before the first tuning if it was the first). It undoes one change; run again, it does nothing.
        The tune role uses it to put back a rollout wave that failed its health gate.
    type: str
    choices: [present, absent, previous]
    default: present
  persist:
    description: Write the drop-in file (and the modules file when one is needed) so the values survive a reboot.
    type: bool
    default: true
  sysctl_file:
    description: The drop-in file. It is written whole; other files are never edited.
    type: path
    default: /etc/sysctl.d/60-netops-tcp.conf
  modules_file:
    description:
      - The modules-load.d file that makes the kernel modules of applied keys load at boot before
        systemd-sysctl applies the drop-in, one module a line after a comment naming the keys that need it.
      - Written whole and atomically with the drop-in, in the same transaction, when O(persist) is true and
        an applied key's module is loaded at boot by nothing else; removed when no applied key needs it any
        more, with O(state=absent), and by O(state=previous) when the host had none before. Other files are
        never edited.
      - It must be a C(.conf) file of a directory systemd-modules-load reads (C(/etc/modules-load.d)
        and others; modules-load.d(5)), or the task warns that it is not read at boot.
      - An empty string turns it off; then the task warns about each such key instead.
    type: path
    default: /etc/modules-load.d/netops-tcp.conf
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
    description: Keep a time-stamped copy of the drop-in file before changing it (not of the modules file).
    type: bool
    default: false
  allow_unknown_keys:
    description: Accept keys outside the netops.tcp catalog (values are still checked for safe characters).
    type: bool
    default: false
  lock_timeout:
    description:
      - Seconds to wait for another netops.tcp run on the same host (same O(state_dir)) to finish.
        Then the task fails naming the lock file and the holder's pid and start time, and changes nothing.
    type: int
    default: 60
  reset_state:
    description:
      - When the state file in O(state_dir) is damaged (empty, truncated, not the expected JSON, a saved
        value breaking a rule), the task fails and changes nothing, since it holds the values to put back.
      - V(true) sets the damaged file aside as C(state.json.damaged-TIME) and starts over, taking the
        current live values as the originals. Use it only when no good copy of the file exists.
    type: bool
    default: false
  proc_path:
    description: Where procfs is mounted (a fixture tree in tests).
    type: path
    default: /proc
  namespace:
    description:
      - Tune another network namespace of the host instead of the module's own, named as
        O(netops.tcp.tcp_facts#module:namespaces) names them (a container or pod name, a container id,
        an C(ip netns) name, a pid in it, a path such as C(/run/netns/NAME), or C(net:[inode])); it must
        name exactly one. The module enters it from a helper thread (C(setns(2)), needs root).
      - The same guards, validation, transaction, read-back and undo as for the host. Keys a namespace does
        not have of its own (host-global, such as C(net.core.netdev_max_backlog)) are skipped with that
        reason; V(absent) and V(previous) put its values back.
      - Its originals, lock and record are kept apart, in C(<state_dir>/netns/cookie-<cookie>/) (Linux 5.14
        and later, where the kernel numbers each namespace once for the boot) or C(<state_dir>/netns/net-<inode>/)
        (before; the kernel gives a freed inode to the next namespace, so a container started after a tuned one
        ended may find its state), the record as C(netops_tcp.fact) there. Those of namespaces that are gone are
        not removed. Nothing is persisted, so O(persist), O(sysctl_file) and O(modules_file) are not
        used. A namespace's settings end with it, and a restarted container gets a new one. Set them in the
        container's or pod's own configuration to keep them.
    type: str
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

- name: Undo the last change (for example the upgrade to a profile version that hurt)
  netops.tcp.sysctl_tune:
    state: previous

- name: Apply the profile's per-namespace settings inside the container named web (live only)
  netops.tcp.sysctl_tune:
    settings: "{{ lookup('netops.tcp.tcp_profile', 'web_frontend').settings }}"
    namespace: web

- name: Put the container's values back as they were
  netops.tcp.sysctl_tune:
    state: absent
    namespace: web
'''

RETURN = r'''
namespace:
  description:
    - With O(namespace), the namespace tuned, its C(id) (C(net:[inode])), C(cookie) (null before Linux 5.14),
      C(owner) (as in tcp_facts) and C(state_dir), where its originals and record are kept.
  returned: when O(namespace) is given
  type: dict
  sample: {id: 'net:[4026532178]', cookie: 4097, state_dir: /var/lib/netops-tcp/netns/cookie-4097,
           owner: {kind: container, label: podman container web, containers: [web]}}
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
  description: Keys put back to their value from before the first tuning (V(absent)) or the last change (V(previous)).
  returned: always
  type: list
  elements: dict
profile_before:
  description: V(name@version) of the profile the host ran before this run (V(present)) or before the change put back
    (V(previous)); null when none, or with V(absent).
  returned: always
  type: str
  sample: web_frontend@1
sysctl_file:
  description: The drop-in file, or null when not persisted.
  returned: always
  type: str
modules_file:
  description:
    - The modules-load.d file listing the kernel modules the applied keys need at boot, or null when none
      is written (nothing needs one, O(persist) is false, O(modules_file) is empty, or O(state) is not V(present)).
  returned: always
  type: str
  sample: /etc/modules-load.d/netops-tcp.conf
listed_modules:
  description:
    - The kernel modules listed in RV(modules_file), each with the applied keys that need it; empty when none.
  returned: always
  type: dict
  sample: {nf_conntrack: [net.netfilter.nf_conntrack_max]}
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
  description:
    - What the host now runs (the local fact), with C(sysctl_file) and C(modules_file) (null when not written).
  returned: when state is present
  type: dict
'''

import datetime
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netops.tcp.plugins.module_utils.common import _files as files
from ansible_collections.netops.tcp.plugins.module_utils.model import _settings
from ansible_collections.netops.tcp.plugins.module_utils.apply import _dropin as dropin
from ansible_collections.netops.tcp.plugins.module_utils.apply import _plan as planning
from ansible_collections.netops.tcp.plugins.module_utils.apply import _state as statefile
from ansible_collections.netops.tcp.plugins.module_utils.apply import _transaction as transaction
from ansible_collections.netops.tcp.plugins.module_utils.gather import _netns as netns
from ansible_collections.netops.tcp.plugins.module_utils.model._catalog import CatalogError
from ansible_collections.netops.tcp.plugins.module_utils.model._kernel import KernelVersionError
from ansible_collections.netops.tcp.plugins.module_utils.common._version import COLLECTION_VERSION


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def live_text(steps, field):
    return ''.join('%s = %s\n' % (step['name'], step[field]) for _key, step in steps)


def read_state(module, path, reset, allow_unknown):
    """(state, its text) from the state file; a damaged one fails unless ``reset``."""
    try:
        text = files.read_text(path)
        return (statefile.parse_state(text, allow_unknown) if text is not None else statefile.empty_state()), text
    except (OSError, UnicodeDecodeError, statefile.StateError) as exc:
        problem = files.describe(exc)
    if not reset:
        module.fail_json(msg='%s cannot be used (%s). It holds the values from before the first tuning, so nothing '
                             'was changed. Put back a good copy of it, or run with reset_state=true to set it aside '
                             'and take the current live values as the originals.' % (path, problem))
    aside = '%s.damaged-%s' % (path, now().strftime('%Y%m%dT%H%M%SZ'))
    module.warn('%s was damaged (%s): set aside as %s; the current live values are taken as the originals'
                % (path, problem, aside))
    if not module.check_mode:
        try:
            os.rename(path, aside)
            files.fsync_dir(os.path.dirname(path))
        except OSError as exc:
            module.fail_json(msg='cannot set %s aside: %s; nothing was changed' % (path, files.describe(exc)))
    return statefile.empty_state(), None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            settings=dict(type='dict', default={}),
            state=dict(type='str', choices=['present', 'absent', 'previous'], default='present'),
            persist=dict(type='bool', default=True),
            sysctl_file=dict(type='path', default=dropin.DEFAULT_FILE),
            modules_file=dict(type='path', default=dropin.DEFAULT_MODULES_FILE),
            profile=dict(type='dict', default={}),
            clients_behind_nat=dict(type='bool', default=True),
            on_unavailable=dict(type='str', choices=['skip', 'fail'], default='skip'),
            reserve_listening_ports=dict(type='bool', default=True),
            state_dir=dict(type='path', default=statefile.DEFAULT_STATE_DIR),
            fact_path=dict(type='path', default=dropin.DEFAULT_FACT),
            backup=dict(type='bool', default=False),
            allow_unknown_keys=dict(type='bool', default=False),
            lock_timeout=dict(type='int', default=60),
            reset_state=dict(type='bool', default=False),
            proc_path=dict(type='path', default='/proc'),
            namespace=dict(type='str'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    started = now()
    target = None
    if p['namespace']:
        # Another network namespace: its own state directory and record, nothing persisted (see DOCUMENTATION).
        try:
            if (p['proc_path'].rstrip('/') or '/') != '/proc':
                raise netns.NamespaceError('namespace: entering a namespace needs proc_path=/proc, not %s' % p['proc_path'])
            target, who = netns.find(p['namespace'])
            number = netns.in_thread(lambda: (netns.enter(target), netns.cookie())[1])
        except netns.NamespaceError as exc:
            module.fail_json(msg=str(exc))
        # By its cookie (never given again) where the kernel has one: a freed inode goes to the next namespace.
        p['state_dir'] = os.path.join(p['state_dir'], 'netns', 'cookie-%d' % number if number is not None
                                      else 'net-%d' % target.inode)
        p['fact_path'] = os.path.join(p['state_dir'], 'netops_tcp.fact')
        # The host's drop-in and modules file are the host's: never written, removed or cleaned from here.
        p['persist'], p['sysctl_file'], p['modules_file'] = False, None, None
    for option in ('sysctl_file', 'modules_file', 'state_dir', 'fact_path'):
        if p[option] is None:
            continue  # not used with namespace
        if (p[option] or option != 'modules_file') and not os.path.isabs(p[option]):
            module.fail_json(msg='%s: %r must be an absolute path' % (option, p[option]))
    if p['lock_timeout'] < 0:
        module.fail_json(msg='lock_timeout: %d must be 0 or more seconds' % p['lock_timeout'])
    # Where root writes must be a place nobody else can redirect (a link, a file of theirs).
    for option, directory in (('sysctl_file', os.path.dirname(p['sysctl_file'] or '')),
                              ('modules_file', os.path.dirname(p['modules_file'] or '')), ('state_dir', p['state_dir']),
                              ('fact_path', os.path.dirname(p['fact_path']))):
        if not directory:
            continue  # modules_file turned off
        try:
            files.check_destination(directory)
        except files.Refused as exc:
            module.fail_json(msg='%s: %s; nothing was changed' % (option, files.describe(exc)))
        except OSError:
            pass  # an unreadable path: the run itself meets it and says so
    present = p['state'] == 'present'
    try:
        settings = _settings.normalise(p['settings'], p['allow_unknown_keys']) if present else {}
        host = planning.Host(p['proc_path'])
    except (_settings.SettingsError, CatalogError, KernelVersionError) as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg='cannot read the kernel release under %s: %s' % (p['proc_path'], exc))

    state_file = os.path.join(p['state_dir'], 'state.json')
    lock = files.Lock(p['state_dir'], p['lock_timeout'], shared=module.check_mode,
                      started=started.strftime('%Y-%m-%dT%H:%M:%SZ'))
    try:
        lock.acquire()
    except files.LockTimeout as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        lock.release(remove_file=not os.path.exists(state_file))
        module.fail_json(msg='cannot lock %s: %s; nothing was changed' % (lock.path, files.describe(exc)))
    result, error = None, None
    try:
        if not module.check_mode:
            for path in (p['sysctl_file'], p['modules_file'], p['fact_path'], state_file):
                if path:
                    files.remove_stale_temps(path)  # a crashed run's; we hold the lock
        if target is None:
            result = run(module, p, host, settings, state_file, started)
        else:
            def inside():
                netns.enter(target)
                return dict(run(module, p, planning.Host(p['proc_path'], netns.THREAD_NET), settings, state_file, started),
                            namespace={'id': target.ident, 'cookie': number, 'owner': who, 'state_dir': p['state_dir']})
            result = netns.in_thread(inside)
    except netns.NamespaceError as exc:
        error = 'namespace %s: %s; nothing was changed' % (p['namespace'], exc)
    except OSError as exc:
        # A file of ours that cannot be read (not one that is absent): nothing was written yet.
        error = 'cannot read %s: %s; nothing was changed' % (exc.filename, files.describe(exc))
    finally:
        # Nothing saved (a first run that failed, or state=absent done): no lock file is left either.
        lock.release(remove_file=not os.path.exists(state_file), remove_dir=not present)
    if result is None:
        module.fail_json(msg=error)
    for warning in result.pop('warnings_later_files', []):
        module.warn(warning)
    if result.pop('failed', False):
        module.fail_json(**result)
    module.exit_json(**result)


def run(module, p, host, settings, state_file, started):
    """Decide and, outside check mode, carry out; the result (``failed`` set on a failure)."""
    present = p['state'] == 'present'
    saved, saved_text = read_state(module, state_file, p['reset_state'], p['allow_unknown_keys'])
    paths = dict(sysctl_file=p['sysctl_file'], modules_file=p['modules_file'] or None, fact_path=p['fact_path'],
                 state_file=state_file)
    if p['state'] == 'previous':
        return put_back(module, host, saved, saved_text, paths)
    # Keys not in settings go back to their originals: the ones the last run managed, or with
    # state=absent every key with a saved original.
    managed = saved['managed'] if present else list(saved['originals'])
    plan = planning.decide(host, settings, p['clients_behind_nat'], p['on_unavailable'], p['reserve_listening_ports'],
                           saved['originals'], managed)
    if plan.errors:
        return dict(failed=True, msg='nothing was changed: ' + '; '.join(plan.errors), skipped_keys=plan.skipped)

    result = dict(changed=False, applied=[], unchanged=sorted(plan.unchanged), skipped_keys=plan.skipped, restored=[],
                  mismatches=[], sysctl_file=p['sysctl_file'] if p['persist'] and present else None,
                  modules_file=None, listed_modules={})
    values = dict((k, v) for k, (_n, v) in plan.in_effect().items())
    # Modules of keys in effect (so loaded now) that nothing but our file loads at boot: listed in it.
    modules = dropin.modules_to_load(values, host.release_text, paths['modules_file']) \
        if present and p['persist'] and paths['modules_file'] else {}
    try:
        changes, state_before, rec, backup_file, result['profile_before'] = transaction.file_changes(
            plan, saved, saved_text, paths, present, p['persist'], p['profile'], COLLECTION_VERSION,
            started.strftime('%Y-%m-%dT%H:%M:%SZ'),
            '%s.%s' % (os.getpid(), started.strftime('%Y-%m-%d@%H:%M:%S~')) if p['backup'] else None, modules)
    except planning.TuneError as exc:
        return dict(failed=True, msg=str(exc), skipped_keys=plan.skipped)
    if present:
        result['record'] = rec
        if p['persist']:
            warnings = dropin.later_overrides(values, p['sysctl_file'])
            if not paths['modules_file']:
                warnings += dropin.unloaded_modules(values, host.release_text, p['sysctl_file'])
            elif modules:
                result.update(modules_file=paths['modules_file'], listed_modules=modules)
                unread = dropin.modules_file_unread(paths['modules_file'])
                warnings += [unread] if unread else []
            result['warnings_later_files'] = warnings
    if backup_file and not module.check_mode:
        result['backup_file'] = backup_file

    result['applied'] = [{'key': k, 'before': s['before'], 'after': s['after']} for k, s in plan.writes() if k in plan.apply]
    return carry_out(module, host, plan, changes, result, state_file, saved_text, state_before)


def put_back(module, host, saved, saved_text, paths):
    """state=previous: give back the host as it was before the last run that changed it."""
    result = dict(changed=False, applied=[], unchanged=[], skipped_keys={}, restored=[], mismatches=[],
                  sysctl_file=None, modules_file=None, listed_modules={}, profile_before=None)
    if saved['previous'] is None:
        result['msg'] = 'nothing to put back: %s records no change' % paths['state_file']
        return result
    result['profile_before'] = saved['previous']['profile']
    try:
        plan, changes = transaction.put_back_previous(host, saved, saved_text, paths)
    except planning.TuneError as exc:
        return dict(result, failed=True, msg=str(exc))
    result['unchanged'] = sorted(plan.settled)
    return carry_out(module, host, plan, changes, result, paths['state_file'], saved_text, None)


def carry_out(module, host, plan, changes, result, state_file, saved_text, state_before):
    """Diff, then (outside check mode) execute and read back."""
    writes = plan.writes()
    result['restored'] = [{'key': k, 'before': s['before'], 'after': s['after']} for k, s in writes if k in plan.restore]
    result['changed'] = bool(writes or changes)
    if module._diff:
        result['diff'] = [{'before_header': 'live sysctl values', 'after_header': 'live sysctl values',
                           'before': live_text(writes, 'before'), 'after': live_text(writes, 'after')}]
        for change in changes:
            if change.path in (module.params['sysctl_file'], module.params['modules_file']):
                result['diff'].append({'before_header': change.path, 'after_header': change.path,
                                       'before': change.old or '', 'after': change.new or ''})
    if module.check_mode or not result['changed']:
        return result
    try:
        transaction.execute(host, plan, changes, state_file, saved_text, state_before)
    except planning.TuneError as exc:
        result.update(failed=True, msg=str(exc), changed=exc.changed)
        result.pop('backup_file', None)
        return result
    # Read back what the kernel now reports: it may clamp or refuse a value silently.
    result['mismatches'] = transaction.mismatches(host, writes)
    return result


if __name__ == '__main__':
    main()
