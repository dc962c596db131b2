# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: carrying out a plan on a host, all or nothing.

``file_changes`` (a present or absent run) and ``put_back_previous`` (state=previous) list what a
run writes and removes: the drop-in, the modules file, the record, the directories the first
tuning created, the state last. ``execute`` then works in this order: every file is staged
(written and fsynced beside its target) and the values from before the first tuning are saved
durably before the first live write; the live values are written; the staged files are renamed
into place. A failure at any step puts back what was done and says so (``_undo``); a crash at any
step leaves a state from which a rerun or ``state=absent`` gives back exactly the values from
before any tuning. ``mismatches`` reads back what the kernel took.
"""

import errno
import os

from ansible_collections.netops.tcp.plugins.module_utils.model import _catalog as catalog
from ansible_collections.netops.tcp.plugins.module_utils.common import _files as files
from ansible_collections.netops.tcp.plugins.module_utils.apply._plan import Plan, TuneError, plan_put_back
from ansible_collections.netops.tcp.plugins.module_utils.apply._state import next_states, previous_of, render_state
from ansible_collections.netops.tcp.plugins.module_utils.apply._dropin import (
    loads_record, profile_label, record, render_dropin, render_modules, render_record)


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
    except OSError as exc:
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
        except OSError:
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
        except OSError:
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
        except OSError:
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
        old_rec = loads_record(old_text)
        ran = profile_label(old_rec)
        old_rec.pop('time', None)
        old_rec.setdefault('modules_file', None)  # a record from before modules files: naming none is the same
        changing = bool(plan.writes()) or any(c.old != c.new for c in changes)
        if changing or old_rec != rec:
            changes.append(Change(paths['fact_path'], old_text, render_record(rec, stamp)))
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


def mismatches(host, steps):
    """Written keys whose live value now differs from what was written."""
    found = []
    for key, step in steps:
        live = host.read(key)['raw']
        if live is None or not catalog.same(key, live, step['after']):
            found.append({'key': key, 'wanted': step['after'], 'live': live})
    return found
