# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: deciding and applying sysctl settings on a host, safely.

Order of work: validate every input (nothing is read or written before), take the host's
lock, read and validate the saved state, read the host, decide per key (apply, unchanged,
skip with a reason, or fail), then ``execute``: every file is staged (written and fsynced
beside its target) and the values from before the first tuning are saved durably before the
first live write; the live values are written; the staged files are renamed into place. A
failure at any step puts back what was done and says so; a crash at any step leaves a state
from which a rerun or ``state=absent`` gives back exactly the values from before any tuning.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os

from ansible_collections.netops.tcp.plugins.module_utils.model import _catalog as catalog
from ansible_collections.netops.tcp.plugins.module_utils.gather import _census as census
from ansible_collections.netops.tcp.plugins.module_utils.common import _files as files
from ansible_collections.netops.tcp.plugins.module_utils.gather import _sysctl as sysctl
from ansible_collections.netops.tcp.plugins.module_utils.gather import _tuned as tuned
from ansible_collections.netops.tcp.plugins.module_utils.model._kernel import KernelRelease, read_release

DEFAULT_FILE = '/etc/sysctl.d/60-netops-tcp.conf'
DEFAULT_MODULES_FILE = '/etc/modules-load.d/netops-tcp.conf'
DEFAULT_STATE_DIR = '/var/lib/netops-tcp'
DEFAULT_FACT = '/etc/ansible/facts.d/netops_tcp.fact'
PORT_RANGE = 'net.ipv4.ip_local_port_range'
RESERVED = 'net.ipv4.ip_local_reserved_ports'
UNPRIVILEGED = 'net.ipv4.ip_unprivileged_port_start'
CONGESTION = 'net.ipv4.tcp_congestion_control'
ALLOWED_CONGESTION = 'net.ipv4.tcp_allowed_congestion_control'
STATE_FORMAT = 1


class TuneError(Exception):
    """A run that stopped; ``changed`` when something could not be put back."""

    def __init__(self, message, changed=False):
        Exception.__init__(self, message)
        self.changed = changed


class Host:
    """Reads and writes /proc/sys under ``proc_path`` (a fixture tree in tests)."""

    def __init__(self, proc_path='/proc'):
        self.proc = proc_path
        self.release_text = read_release(proc_path)
        self.release = KernelRelease(self.release_text)
        self.initial_netns = sysctl.initial_netns(proc_path)

    def read(self, key, entry=None):
        """What sysctl_facts says about ``key``, plus ``path``: the file a write goes to."""
        info, path = sysctl.read_key_at(self.proc, key, self.release, self.initial_netns, entry)
        return dict(info, path=path)

    def context(self):
        """What the kernel sized its computed defaults from here (catalog.host_context)."""
        if not hasattr(self, '_context'):
            ehash = self.read('net.ipv4.tcp_ehash_entries')
            self._context = catalog.host_context({
                'keys': {'net.ipv4.tcp_ehash_entries': ehash},
                'kernel': {'mem_total': sysctl.mem_total(self.proc)}})
        return self._context

    def write(self, step, text):
        """Write ``text`` to the file the step's key was read from."""
        files.checkpoint('write %s' % step['name'])
        sysctl.write_key(step['path'], text)

    def listening_ports(self):
        return census.listening_ports(self.proc)


def write_order(steps):
    """Steps in an order whose every intermediate state the kernel accepts (it refuses a port range
    starting below ip_unprivileged_port_start, and the reverse), listening ports reserved before the
    range widens over them and released only after it narrows; other keys by name."""
    by_key = dict(steps)
    rng, unpriv, reserved = by_key.get(PORT_RANGE), by_key.get(UNPRIVILEGED), by_key.get(RESERVED)
    group = []
    if rng:
        old_low, new_low = _low(rng['before']), _low(rng['after'])
        group = [PORT_RANGE]
        if unpriv:
            group.insert(0 if old_low is None or int(unpriv['after']) <= old_low else 1, UNPRIVILEGED)
        if reserved:
            group.insert(0 if None in (old_low, new_low) or new_low < old_low else len(group), RESERVED)
    else:
        group = [k for k in (UNPRIVILEGED, RESERVED) if k in by_key]
    rest = sorted(k for k in by_key if k not in group)
    return [(k, by_key[k]) for k in group + rest]


def _low(text):
    try:
        return catalog.parse(PORT_RANGE, text)[0]
    except catalog.CatalogError:
        return None


class Plan:
    def __init__(self):
        self.apply = {}      # key -> {'name', 'before', 'after'}
        self.unchanged = {}  # key -> {'name', 'value'}
        self.skipped = {}    # key -> reason
        self.restore = {}    # key -> {'name', 'before', 'after'}
        self.settled = set()  # keys no longer set whose live value is already the original
        self.errors = []

    def writes(self):
        return write_order(list(self.apply.items()) + list(self.restore.items()))

    def in_effect(self):
        """Key -> (name on this kernel, value text) for every key this host now runs from the settings."""
        result = dict((k, (v['name'], v['after'])) for k, v in self.apply.items())
        result.update((k, (v['name'], v['value'])) for k, v in self.unchanged.items())
        return result


def decide(host, settings, clients_behind_nat=True, on_unavailable='skip', reserve_listening_ports=True,
           originals=None, managed=()):
    """The plan for ``settings`` ({key: _settings.Setting}) on ``host``; restores managed keys not set any more."""
    plan = Plan()
    for key in sorted(settings):
        setting = settings[key]
        guards = setting.guards
        desired = setting.text
        if 'kernel' in guards and not host.release.matches(guards['kernel']):
            plan.skipped[key] = 'needs Linux %s; this kernel is %s' % (guards['kernel'], host.release)
            continue
        if guards.get('unless') == 'clients_behind_nat' and clients_behind_nat:
            plan.skipped[key] = ('clients may be behind NAT (clients_behind_nat is true): '
                                 'it would drop their connections')
            continue
        info = host.read(key, setting.entry)
        reason = info['reason']  # absent, read-only, or a live value that does not parse: left alone
        holds = setting.holds(info)
        if not reason and key == CONGESTION and not holds:
            reason = _congestion_refused(host, desired)
        if reason:
            if on_unavailable == 'fail':
                plan.errors.append('%s: cannot be set here: %s' % (key, reason))
            else:
                plan.skipped[key] = reason
            continue
        lower = _lowers(host, key, setting, info, originals)  # also when it holds: an earlier version's low value
        if lower:
            plan.skipped[key] = lower
        elif holds:
            plan.unchanged[key] = {'name': info['name'], 'value': desired}
        else:
            plan.apply[key] = {'name': info['name'], 'path': info['path'], 'before': info['raw'], 'after': desired}
    _port_range(host, settings, plan, reserve_listening_ports, originals or {})
    # Keys set before and not now, dropped from the profile or skipped by a guard on this host, get
    # their original values back.
    for key in sorted(set(managed) - set(plan.in_effect())):
        original = (originals or {}).get(key)
        info = host.read(key)
        if original is None or not info['available']:
            continue
        if not plan_put_back(plan, key, info, original):
            plan.skipped[key] = 'cannot put back the original value %s: %s' % (original, info['reason'])
    _unprivileged_start(host, plan)
    return plan


def _lowers(host, key, setting, info, originals):
    """Why a capacity limit (catalog raise_only) is left as the host has it: the setting is below the
    value from before the first tuning (else the live one) or below this kernel's own default here
    (an original saved before a kernel upgrade can be lower); None when it may be written."""
    entry = setting.entry
    if not entry or not entry['raise_only'] or setting.guards.get('allow_lower') or not info['available']:
        return None
    original = (originals or {}).get(key)
    try:
        have = catalog.capacity(entry, catalog.parse(key, original if original is not None else info['raw'], entry))
    except catalog.CatalogError:
        return None
    default = catalog.kernel_default(entry, host.release, host.context())
    own = catalog.capacity(entry, default) if default is not None else None
    want = catalog.capacity(entry, setting.value)
    if want >= max(have, own or 0):
        return None
    what = 'a maximum of ' if entry['type'] == catalog.VECTOR else ''
    whose = ('had before its first tuning' if original is not None else 'has') if have >= (own or 0) else \
        'gets by default from this kernel'
    return ('keeps %s%d: %s%d would lower a capacity limit below what this host %s; a profile only raises it '
            '(guards: {allow_lower: true} lowers it on purpose)' % (what, max(have, own or 0), what, want, whose))


def plan_put_back(plan, key, info, value):
    """Plan ``key`` (as ``info`` reads it) back to ``value``: settled when it holds it already,
    restored when writable; False when it cannot be written."""
    if info['available'] and catalog.same(key, info['raw'], value):
        plan.settled.add(key)
    elif info['writable']:
        plan.restore[key] = {'name': info['name'], 'path': info['path'], 'before': info['raw'], 'after': value}
    else:
        return False
    return True


def _congestion_refused(host, name):
    """Why a child network namespace cannot take congestion control ``name``, or None.

    There the kernel answers EPERM for any algorithm not in tcp_allowed_congestion_control.
    """
    if host.initial_netns:
        return None
    allowed = host.read(ALLOWED_CONGESTION)['raw']
    if allowed is None or name in allowed.split():
        return None
    return ('inside a network namespace the kernel takes only the algorithms in %s (%s)' % (ALLOWED_CONGESTION, allowed))


def _port_range(host, settings, plan, reserve, originals):
    """Listening ports the ephemeral port range covers, reserved or refused before anything is written.
    Ports reserved by an earlier run stay in effect (and in the drop-in) while the range does."""
    setting = settings.get(PORT_RANGE)
    effect = plan.in_effect().get(PORT_RANGE)
    if not setting or not setting.guards.get('reserve_listening_ports') or effect is None:
        return
    low, high = catalog.parse(PORT_RANGE, effect[1])
    reserved_setting = settings.get(RESERVED)
    info = host.read(RESERVED)
    current = catalog.parse(RESERVED, info['raw']) if info['available'] else []
    wanted = reserved_setting.value if reserved_setting else current
    taken = set()
    for first, last in wanted:
        taken.update(range(first, last + 1))
    exposed = sorted(p for p in host.listening_ports() if low <= p <= high and p not in taken)
    if not exposed:
        if not reserved_setting and RESERVED in originals and info['available']:
            plan.unchanged[RESERVED] = {'name': info['name'], 'value': catalog.canonical_text(RESERVED, info['raw'])}
        return
    ports = ', '.join(str(p) for p in exposed)
    if not reserve:
        plan.errors.append('%s: %d-%d includes the listening ports %s and reserve_listening_ports is off: '
                           'outgoing connections could take them' % (PORT_RANGE, low, high, ports))
        return
    if not (info['available'] and info['writable']):
        plan.errors.append('%s: %d-%d includes the listening ports %s, and they cannot be reserved: %s: %s'
                           % (PORT_RANGE, low, high, ports, RESERVED, info['reason']))
        return
    text = catalog.format_value([[p, p] for p in exposed] + [list(r) for r in wanted], catalog.CATALOG[RESERVED])
    plan.unchanged.pop(RESERVED, None)
    if catalog.same(RESERVED, info['raw'], text):
        plan.unchanged[RESERVED] = {'name': info['name'], 'value': text}
    else:
        plan.apply[RESERVED] = {'name': info['name'], 'path': info['path'], 'before': info['raw'], 'after': text}


def _unprivileged_start(host, plan):
    """Since 4.11 the kernel keeps ip_unprivileged_port_start <= the low end of the port range."""
    if host.release < '4.11':
        return
    steps = dict(plan.writes())
    if PORT_RANGE not in steps and UNPRIVILEGED not in steps:
        return
    low = steps[PORT_RANGE]['after'] if PORT_RANGE in steps else host.read(PORT_RANGE)['raw']
    unpriv = steps[UNPRIVILEGED]['after'] if UNPRIVILEGED in steps else host.read(UNPRIVILEGED)['raw']
    low = _low(low) if low is not None else None
    if low is None or unpriv is None or not unpriv.isdigit() or low >= int(unpriv):
        return  # a value that does not parse is left to the kernel to refuse
    if PORT_RANGE in steps:
        plan.errors.append('%s: low port %d is below %s (%s); the kernel refuses it' % (PORT_RANGE, low, UNPRIVILEGED, unpriv))
    else:
        plan.errors.append('%s: %s is above the low port %d of %s; the kernel refuses it' % (UNPRIVILEGED, unpriv, low, PORT_RANGE))


class StateError(Exception):
    pass


def parse_state(text, allow_unknown=False):
    """The saved state {'originals': {key: text}, 'managed': [key], 'created': [directory],
    'previous': None or {'values', 'files', 'state', 'profile'}}, validated as strictly as input
    (keys outside the catalog only with ``allow_unknown``).

    Raises StateError saying what is wrong: a damaged state is never taken as "no state".
    """
    if not text.strip():
        raise StateError('it is empty')
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise StateError('it is not valid JSON: %s' % exc)
    if not isinstance(data, dict):
        raise StateError('it is not a JSON object')
    if data.get('format', STATE_FORMAT) != STATE_FORMAT:
        raise StateError('format %r is not %d: written by another version of netops.tcp' % (data.get('format'), STATE_FORMAT))
    state = _parse_fields(data, allow_unknown)
    state['previous'] = _parse_previous(data.get('previous'), allow_unknown)
    if not isinstance(data.get('incomplete', False), bool):
        raise StateError("'incomplete' is not true or false")
    state['incomplete'] = data.get('incomplete', False)
    return state


def _parse_fields(data, allow_unknown, where=''):
    for field, kind in (('originals', dict), ('managed', list)):
        if not isinstance(data.get(field), kind):
            raise StateError('%r%s is %s' % (field, where, 'missing' if field not in data else 'not a %s' % kind.__name__))
    try:
        originals = dict((key, catalog.check_text(key, value)) for key, value in data['originals'].items())
        managed = [_state_key(key) for key in data['managed']]
    except catalog.CatalogError as exc:
        raise StateError('a saved value%s breaks a rule: %s' % (where, exc))
    unknown = sorted(k for k in set(originals) | set(managed) if catalog.get(k) is None)
    if unknown and not allow_unknown:
        raise StateError('%s: not in the netops.tcp catalog (set allow_unknown_keys if you tuned it with that)'
                         % ', '.join(unknown))
    created = data.get('created', [])
    if not isinstance(created, list) or not all(_is_directory_path(d) for d in created):
        raise StateError("'created'%s is not a list of absolute directory paths" % where)
    return {'originals': originals, 'managed': sorted(set(managed)), 'created': sorted(set(created))}


def _parse_previous(data, allow_unknown):
    """What the host ran before the last run that changed it: live values, file texts, state."""
    if data is None:
        return None
    where = " in 'previous'"
    if not isinstance(data, dict) or not isinstance(data.get('values'), dict) or not isinstance(data.get('files'), dict):
        raise StateError("'previous' is not an object with 'values' and 'files'")
    try:
        values = dict((_state_key(key), catalog.check_text(key, value)) for key, value in data['values'].items())
    except catalog.CatalogError as exc:
        raise StateError('a saved value%s breaks a rule: %s' % (where, exc))
    texts = data['files']
    if not all(_is_directory_path(path) and (text is None or isinstance(text, str)) for path, text in texts.items()):
        raise StateError("'files'%s is not a map of absolute paths to texts or null" % where)
    state = data.get('state')
    if state is not None:
        if not isinstance(state, dict):
            raise StateError("'state'%s is not an object or null" % where)
        state = _parse_fields(state, allow_unknown, where)
    profile = data.get('profile')
    if profile is not None and not isinstance(profile, str):
        raise StateError("'profile'%s is not a string or null" % where)
    return {'values': values, 'files': dict(texts), 'state': state, 'profile': profile}


def empty_state():
    return {'originals': {}, 'managed': [], 'created': [], 'previous': None, 'incomplete': False}


def _is_directory_path(path):
    return isinstance(path, str) and os.path.isabs(path) and os.path.normpath(path) == path and '\n' not in path


def _state_key(key):
    if not isinstance(key, str) or catalog.canonical(key) != key:
        raise catalog.CatalogError('sysctl key %r: not a canonical name' % (key,))
    return key


def render_state(state):
    state = dict(state, format=STATE_FORMAT)
    if state.get('previous') is None:
        state.pop('previous', None)
    if not state.get('incomplete'):
        state.pop('incomplete', None)
    return json.dumps(state, indent=1, sort_keys=True) + '\n'


def previous_of(saved, saved_text, plan, changes, profile):
    """What ``state=previous`` needs to give back the host as it is before this run: the live
    value of every key this run writes, the text (or absence) of every file it replaces, the
    state (None: no state, the first tuning), and the profile the host ran. After a crashed run
    (the saved state is incomplete) it is the host from before that run: what the crashed run
    saved wins, and what it did not touch is as it was."""
    now = {
        'values': dict((key, step['before']) for key, step in plan.writes()),
        'files': dict((c.path, c.old) for c in changes if not c.directory and c.old != c.new),
        'state': None if saved_text is None else dict((k, saved[k]) for k in ('originals', 'managed', 'created')),
        'profile': profile,
    }
    crashed = saved['previous'] if saved.get('incomplete') else None
    if not crashed:
        return now
    return dict(crashed, values=dict(now['values'], **crashed['values']), files=dict(now['files'], **crashed['files']))


def next_states(state, plan, new_dirs=()):
    """(state saved before the first live write, state after success) for a present run.

    Before: every key about to be written gets its live value saved as the original, unless one
    is saved already (a saved original is never replaced); ``managed`` covers old and new keys,
    so a crash at any later step leaves every changed key restorable; ``created`` adds the
    directories this run is about to create (state=absent removes them when empty). After:
    ``managed`` is what the host runs, and originals no longer needed (put back, or already
    back) are dropped. Raises TuneError when a live value cannot be saved as an original.
    """
    originals = dict(state['originals'])
    problems = []
    for key, step in sorted(plan.apply.items()):
        if key not in originals:
            try:
                originals[key] = catalog.check_text(key, step['before'])
            except catalog.CatalogError as exc:
                problems.append('%s: the live value cannot be kept as the original to put back: %s' % (key, exc))
    if problems:
        raise TuneError('nothing was changed: ' + '; '.join(problems))
    running = sorted(plan.in_effect())
    created = sorted(set(state['created']) | set(new_dirs))
    # 'incomplete' until the run's last step: a run after a crash knows the host is half way through one.
    before = {'originals': originals, 'managed': sorted(set(state['managed']) | set(running)), 'created': created,
              'incomplete': True}
    done = set(plan.restore) | plan.settled
    after = {'originals': dict((k, v) for k, v in originals.items() if k not in done), 'managed': running,
             'created': created}
    return before, after


class Change:
    """A file this run writes (``new`` text) or removes (``new`` None); ``old`` is its text now.
    With ``directory``, an empty directory of ours to remove."""

    def __init__(self, path, old, new, mode=0o644, directory=False):
        self.path, self.old, self.new, self.mode, self.directory = path, old, new, mode, directory


def _check_writable(directory):
    try:
        if os.statvfs(directory).f_flag & os.ST_RDONLY:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise
        return
    if not os.access(directory, os.W_OK):
        raise OSError(errno.EACCES, os.strerror(errno.EACCES))


def execute(host, plan, changes, state_path=None, state_old=None, state_before=None):
    """Carry out ``plan`` and ``changes`` (ordered; the state file last) all or nothing.

    1. ``state_before`` is saved durably (when it differs from ``state_old``);
    2. every new file is staged, directories to remove from are checked;
    3. the live values are written in ``plan.writes()`` order;
    4. staged files are renamed into place, removed files removed.
    A failure puts back, in reverse, the live values written, the files replaced and the state,
    removes what was staged or created, and raises TuneError naming the step, the error and what
    was put back.
    """
    staged, committed, written, created = [], [], [], []
    state_touched = False
    doing = None
    try:
        if state_path and state_before is not None and state_before != state_old:
            doing = 'saving the original values to %s' % state_path
            state_touched = True
            files.replace(state_path, state_before, 0o600)
        for change in changes:
            if change.new is None:
                doing = 'removing %s' % change.path
                _check_writable(os.path.dirname(change.path))
            else:
                doing = 'writing %s' % change.path
                created += files.make_dirs(os.path.dirname(change.path))
                staged.append((change, files.stage(change.path, change.new, change.mode)))
        for key, step in plan.writes():
            doing = 'writing %s = %s' % (key, step['after'])
            host.write(step, step['after'])
            written.append((key, step))
        tmps = dict((id(c), t) for c, t in staged)
        for change in changes:
            if change.path == state_path:
                state_touched = True
            if change.directory:
                doing = 'removing the directory %s' % change.path
                if not files.remove_dir(change.path):
                    continue
            elif change.new is None:
                doing = 'removing %s' % change.path
                if not files.remove(change.path, sync=False):
                    continue
            else:
                doing = 'renaming a staged file onto %s' % change.path
                files.rename(tmps.pop(id(change)), change.path)
            committed.append(change)
            doing = 'syncing the directory of %s' % change.path
            files.sync_dir_of(change.path)
        files.checkpoint('done')
    except (IOError, OSError) as exc:
        message = '%s failed: %s' % (doing, files.describe(exc))
        undone, complete = _undo(host, written, committed, staged, created, state_path, state_old, state_before,
                                 state_touched)
        raise TuneError(message + undone, changed=not complete)


def _undo(host, written, committed, staged, created, state_path, state_old, state_before, state_touched):
    """Put back what ``execute`` did, newest first; the text that says so."""
    failed = []
    for key, step in reversed(written):
        try:
            host.write(step, step['before'])
        except (IOError, OSError):
            failed.append(key)
    live_back = [k for k, _s in written if k not in failed]
    files_back = []
    for change in reversed(committed):
        if change.path == state_path:
            continue
        try:
            if change.directory:
                os.mkdir(change.path, 0o755)
            else:
                files.put_back(change.path, change.old, change.mode)
            files_back.append(change.path)
        except (IOError, OSError):
            failed.append(change.path)
    for _change, tmp in staged:
        files.discard(tmp)
    if state_touched:
        # While a live value could not be put back, the state must keep every original.
        target = state_old
        if state_before is not None and any(k in failed for k, _s in written):
            target = state_before
        try:
            files.put_back(state_path, target, 0o600)
        except (IOError, OSError):
            failed.append(state_path)
    for directory in reversed(created):
        try:
            os.rmdir(directory)
        except OSError:
            pass
    if not written and not files_back and not failed:
        return '; nothing was changed', True
    text = '; put back: %s' % (', '.join(live_back + files_back) if live_back or files_back else 'nothing had been written')
    if failed:
        text += '; could NOT put back: %s' % ', '.join(failed)
    return text, not failed


def file_changes(plan, saved, saved_text, paths, present, persist, profile, version, stamp, backup_name=None,
                 modules=None):
    """What this run writes and removes, in the order ``execute`` takes them.

    ``paths``: {'sysctl_file', 'modules_file' (None: not managed), 'fact_path', 'state_file'}.
    ``stamp``: the record's time. ``modules``: {module: keys} for the modules file (``modules_to_load``;
    none: the file goes). Returns (changes, state to save before the first live write or None, record
    or None, backup path or None, 'name@version' of the profile the record named before this run or None).
    Present: the drop-in and the modules file (when ``persist``), the record (when anything changes),
    then the state. Absent: the drop-in, the modules file and the record go, then the directories the
    first tuning created (when empty), then the state. A saved state that cannot take a live value
    raises TuneError.
    """
    changes, state_before, rec, backup_file, ran = [], None, None, None, None
    modules_file = paths.get('modules_file') or None
    if present:
        listing = persist and modules_file and modules
        new_dirs = files.missing_dirs(os.path.dirname(paths['fact_path']))
        if persist:
            new_dirs += files.missing_dirs(os.path.dirname(paths['sysctl_file']))
        if listing:
            new_dirs += files.missing_dirs(os.path.dirname(modules_file))
        before, after = next_states(saved, plan, new_dirs)
        if persist:
            changes.append(Change(paths['sysctl_file'], files.read_text(paths['sysctl_file']),
                                  render_dropin(paths['sysctl_file'], profile, plan)))
        if persist and modules_file:
            changes.append(Change(modules_file, files.read_text(modules_file),
                                  render_modules(modules) if listing else None))
        rec = record(profile, plan, paths['sysctl_file'], persist, version, modules_file if listing else None)
        old_text = files.read_text(paths['fact_path'])  # read once: compared, and kept to put back
        old_rec = _loads_record(old_text)
        ran = profile_label(old_rec)
        old_rec.pop('time', None)
        old_rec.setdefault('modules_file', None)  # a record from before modules files: naming none is the same
        changing = bool(plan.writes()) or any(c.old != c.new for c in changes)
        if changing or old_rec != rec:
            changes.append(Change(paths['fact_path'], old_text,
                                  json.dumps(dict(rec, time=stamp), indent=1, sort_keys=True) + '\n'))
            changing = changing or changes[-1].old != changes[-1].new
        # Saved before the first live write too: after a crash, state=previous still gives back this host.
        # A run that changes no value and no file keeps the last change's.
        before['previous'] = after['previous'] = (previous_of(saved, saved_text, plan, changes, ran) if changing
                                                  else saved.get('previous'))
        state_before = render_state(before)
        changes.append(Change(paths['state_file'], saved_text, render_state(after), 0o600))
    else:
        for path in (paths['sysctl_file'], modules_file, paths['fact_path']):
            old = files.read_text(path) if path else None
            if old is not None:
                changes.append(Change(path, old, None))
        for directory in sorted(saved['created'], reverse=True):
            if os.path.isdir(directory):
                changes.append(Change(directory, 'directory', None, directory=True))
        if saved_text is not None:
            changes.append(Change(paths['state_file'], saved_text, None))
    changes = [c for c in changes if c.old != c.new]
    if backup_name:
        for change in changes:
            if change.path == paths['sysctl_file'] and change.old is not None:
                backup_file = '%s.%s' % (change.path, backup_name)
                changes.insert(0, Change(backup_file, None, change.old))
                break
    return changes, state_before, rec, backup_file, ran


def put_back_previous(host, saved, saved_text, paths):
    """(plan, changes) that give back the host as it was before the last run that changed it:
    its live values, its drop-in and record byte for byte (or their absence), and its state
    (none after undoing the first tuning, whose directories then go when empty). A value that
    cannot be written back, or a file the options no longer name, raises TuneError."""
    previous = saved['previous']
    plan = Plan()
    problems = []
    for key, value in sorted(previous['values'].items()):
        info = host.read(key)
        if not plan_put_back(plan, key, info, value):
            problems.append('%s: cannot be put back to %s: %s' % (key, value, info['reason']))
    named = [(o, paths[o]) for o in ('sysctl_file', 'modules_file', 'fact_path') if paths.get(o)]
    ours = [path for _o, path in named]
    strangers = sorted(p for p in previous['files'] if p not in ours)
    if strangers:
        options = [o for o, _p in named]
        problems.append('%s: not the %s or %s of this run (%s); run with the options of the change to put back'
                        % (', '.join(strangers), ', '.join(options[:-1]), options[-1], ', '.join(ours)))
    if problems:
        raise TuneError('nothing was changed: ' + '; '.join(problems))
    # In the order of the other runs: the drop-in, the modules file, the record, the directories, the state.
    changes = [Change(path, files.read_text(path), previous['files'][path]) for path in ours if path in previous['files']]
    earlier = previous['state']
    for directory in sorted(set(saved['created']) - set(earlier['created'] if earlier else ()), reverse=True):
        if os.path.isdir(directory):
            changes.append(Change(directory, 'directory', None, directory=True))
    changes.append(Change(paths['state_file'], saved_text, render_state(earlier) if earlier else None, 0o600))
    return plan, [c for c in changes if c.old != c.new]


def _loads_record(text):
    """The record as a dict; {} when there is none or it is not a mapping (it is rewritten)."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        data = {}
    return dict(data) if isinstance(data, dict) else {}


def profile_label(rec):
    """'name@version' of the profile a record names, or None."""
    return '%s@%s' % (rec['profile'], rec.get('version')) if rec.get('profile') else None


def mismatches(host, steps):
    """Written keys whose live value now differs from what was written."""
    found = []
    for key, step in steps:
        live = host.read(key)['raw']
        if live is None or not catalog.same(key, live, step['after']):
            found.append({'key': key, 'wanted': step['after'], 'live': live})
    return found


def render_dropin(path, profile, plan):
    meta = tuple(profile.get(field) or '-' for field in ('name', 'version', 'checksum'))
    lines = [
        '# Managed by netops.tcp (sysctl_tune). Do not edit: changes are overwritten.',
        '# profile: %s  version: %s  checksum: %s' % meta,
    ]
    for key in sorted(plan.skipped):
        lines.append('# skipped %s: %s' % (key, plan.skipped[key]))
    effect = plan.in_effect()
    for key in sorted(effect):
        name, value = effect[key]
        lines.append('%s = %s' % (name, value))
    return '\n'.join(lines) + '\n'


def render_modules(modules):
    """The modules-load.d file: ``modules`` ({module: [keys]}), one a line, each after a comment
    naming the keys of the drop-in that need it. Only catalog names go in (no path, no input)."""
    lines = [
        '# Managed by netops.tcp (sysctl_tune). Do not edit: changes are overwritten.',
        '# Kernel modules that keys of the netops.tcp sysctl drop-in need: loaded at boot by',
        '# systemd-modules-load before systemd-sysctl applies the drop-in. Without them systemd-sysctl',
        '# skips those keys and the kernel\'s defaults come back (sysctl.d(5)).',
    ]
    for module in sorted(modules):
        lines.append('# %s: %s' % (module, ', '.join(sorted(modules[module]))))
        lines.append(module)
    return '\n'.join(lines) + '\n'


def record(profile, plan, sysctl_file, persist, version, modules_file=None):
    """The local fact (``ansible_local.netops_tcp``), without its time stamp. ``modules_file``: the
    modules-load.d file written with the drop-in, or None."""
    return {
        'profile': profile.get('name'),
        'version': profile.get('version'),
        'checksum': profile.get('checksum'),
        'applied': dict((k, v) for k, (_n, v) in sorted(plan.in_effect().items())),
        'skipped': dict(sorted(plan.skipped.items())),
        'sysctl_file': sysctl_file if persist else None,
        'modules_file': modules_file,
        'collection_version': version,
    }


def _same_text(key, first, second):
    try:
        return catalog.same(key, first, second)
    except catalog.CatalogError:
        return False  # e.g. TuneD's ">8192": only if it raises the value


def later_overrides(values, our_file, root='/'):
    """Warnings for keys that another owner sets again at boot after the drop-in ``our_file``
    (which will hold ``values``, {key: value}): a later sysctl.d file, TuneD's active profile."""
    writes, _problems = sysctl.boot_writes(sorted(values), root, tuned.state(root), ours=(our_file, values))
    ours = os.path.realpath(our_file)
    warnings = []
    for key in sorted(writes):
        found = writes[key]
        last = max([i for i, w in enumerate(found) if os.path.realpath(w['file']) == ours] or [-1])
        told = set()
        for write in found[last + 1:]:
            if os.path.realpath(write['file']) == ours or (write['file'], write['line']) in told \
                    or _same_text(key, write['value'], values[key]):
                continue  # ours, told already, or the same value: nothing is overridden
            told.add((write['file'], write['line']))
            if write['owner'] == 'tuned':
                warnings.append('%s: TuneD profile %s (%s line %d) sets %s after %s at boot, overriding it%s'
                                % (key, write['profile'], write['file'], write['line'], write['value'], our_file,
                                   ' (when its condition holds)' if write['conditional'] else ''))
            else:
                warnings.append('%s: %s line %d sets %s after %s at boot, overriding it'
                                % (key, write['file'], write['line'], write['value'], our_file))
    return warnings


def modules_to_load(values, release_text, modules_file=None, root='/'):
    """{module: [keys]}: the kernel modules that keys of ``values`` (the keys in effect: their module
    is loaded now) need before systemd-sysctl at boot and that nothing but ``modules_file`` (ours,
    not counted) loads there: no other modules-load.d file lists them or a module that needs them,
    and they are not built into the kernel (sysctl.boot_modules). Nothing is loaded here."""
    by_module = {}
    for key in sorted(values):
        module = (catalog.get(key) or {}).get('module')
        if module:
            by_module.setdefault(module, []).append(key)
    loaded = sysctl.boot_modules(sorted(by_module), release_text, root, ours=modules_file)
    return dict((module, keys) for module, keys in by_module.items() if not loaded[module])


def unloaded_modules(values, release_text, our_file, root='/'):
    """Warnings for keys of ``values`` that the drop-in sets but whose kernel module nothing loads
    at boot before systemd-sysctl (modules-load.d): the line is skipped then (sysctl.d(5)). For a
    run that writes no modules file (modules_file disabled)."""
    return ['%s: %s sets it, but nothing loads %s at boot before systemd-sysctl: after a reboot the kernel\'s default '
            'comes back. List %s in /etc/modules-load.d/' % (', '.join(keys), our_file, module, module)
            for module, keys in sorted(modules_to_load(values, release_text, None, root).items())]


def modules_file_unread(modules_file, root='/'):
    """A warning when systemd-modules-load will not read ``modules_file`` at boot (not a .conf file of
    a modules-load.d directory, or masked by a file of the same name in an earlier one), else None."""
    read = [os.path.normpath(p) for p in sysctl.modules_load_files(root, modules_file)]
    if os.path.normpath(modules_file) in read:
        return None
    return ('modules_file: systemd-modules-load does not read %s at boot (it reads the .conf files of %s, a name in an '
            'earlier directory masking the same name in later ones): the modules it lists are not loaded before '
            'systemd-sysctl' % (modules_file, ', '.join(sysctl.MODULES_LOAD_DIRS)))
