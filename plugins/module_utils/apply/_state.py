# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: ``state.json``, what a host keeps between runs (under ``DEFAULT_STATE_DIR``).

The values from before the first tuning (``originals``), the keys the last run set (``managed``),
the directories the first tuning created, what ``state=previous`` gives back (``previous``) and
whether a run stopped half way (``incomplete``). ``parse_state`` validates it as strictly as
input (a damaged state is never taken as none); ``next_states`` and ``previous_of`` say what a
run saves before its first live write and after its last step.
"""

import json
import os

from ansible_collections.netops.tcp.plugins.module_utils.model import _catalog as catalog
from ansible_collections.netops.tcp.plugins.module_utils.apply._plan import TuneError

DEFAULT_STATE_DIR = '/var/lib/netops-tcp'
STATE_FORMAT = 1


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
