# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet audit on the controller, in one task: every host's findings from its facts (each expected
profile resolved once, the previous report read once), a host at a time, with the report files
written as it goes: memory holds the summary and the worst hosts, not the fleet's facts. With ``merge``
the entries come from the report.json of audits run in slices instead, read side by side in name
order: the merged report is the one a single run over all their hosts writes."""

import glob
import heapq
import os
import re
import time

from ansible.errors import AnsibleActionFail

from ansible_collections.netops.tcp.plugins.module_utils.common import _files as files
from ansible_collections.netops.tcp.plugins.module_utils.judge import _audit as host_audit
from ansible_collections.netops.tcp.plugins.module_utils.judge import _findings as findings
from ansible_collections.netops.tcp.plugins.module_utils.model._settings import SettingsError
from ansible_collections.netops.tcp.plugins.plugin_utils import _fleet as fleet_summary
from ansible_collections.netops.tcp.plugins.plugin_utils import _profiles as profiles
from ansible_collections.netops.tcp.plugins.plugin_utils import _report_files as report_files
from ansible_collections.netops.tcp.plugins.plugin_utils._cache import CachedFacts, Unreadable
from ansible_collections.netops.tcp.plugins.plugin_utils._controller import ControllerAction

MAGIC = re.compile(r'[*?[]')
SPEC = dict(
    hosts=dict(type='list', elements='str'),
    expected_profile=dict(type='str', default=''),
    expected_version=dict(type='raw', default='latest'),
    profile_paths=dict(type='list', elements='path', default=[]),
    profile_parameters=dict(type='dict', default={}),
    thresholds=dict(type='dict', default={}),
    record_name=dict(type='str', default='netops_tcp'),
    source=dict(type='str', choices=['live', 'cache'], default='live'),
    max_age=dict(type='int', default=86400),
    dest=dict(type='path', required=True),
    fail_on=dict(type='str', choices=['none', 'info', 'warning', 'critical'], default='none'),
    query=dict(type='str', default=''),
    merge=dict(type='list', elements='path', default=[]),
    stats_hosts=dict(type='int', default=20),
    previous=dict(type='path'),
)


def expand(paths):
    """``paths`` with each pattern (``*``, ``?``, ``[``) replaced by the directories it matches, in name
    order: the slices of a sliced job write to directories of a name the merge cannot know (AWX's
    awx_job_id). A pattern that matches none fails, naming it; a directory named twice counts once."""
    found = []
    for path in paths:
        matches = sorted(p for p in glob.glob(path) if os.path.isdir(p)) if MAGIC.search(path) else [path]
        if not matches:
            raise AnsibleActionFail('audit_report: merge: %s matches no directory' % path)
        found.extend(p for p in (os.path.abspath(m) for m in matches) if p not in found)
    return found


def _tagged(index, handle, shown):
    for name, entry in report_files.partial_entries(handle, shown + '/report.json'):
        yield name, index, entry


def _merged(handles, shown):
    """(name, entry) of every host of the partial reports (open report.json files of the directories
    ``shown``), in name order; a host in two of them fails, naming both."""
    streams = [_tagged(index, handle, shown[index]) for index, handle in enumerate(handles)]
    last = None
    for name, index, entry in heapq.merge(*streams, key=lambda item: (item[0], item[1])):
        if last is not None and name == last[0]:
            raise ValueError('host %s is in two partial reports, %s and %s: merge the reports of one sliced '
                             'audit, each host in one slice' % (name, shown[last[1]], shown[index]))
        last = (name, index)
        yield name, entry


class ActionModule(ControllerAction):

    ARGUMENT_SPEC = SPEC

    def run(self, tmp=None, task_vars=None):
        args, result, task_vars = self.start(tmp, task_vars)
        if args['merge'] and args['hosts'] is not None:
            raise AnsibleActionFail('audit_report: merge and hosts are exclusive: the merged report holds the hosts '
                                    'of the partial reports')
        if not 0 <= args['stats_hosts'] <= fleet_summary.KEPT:
            raise AnsibleActionFail('audit_report: stats_hosts: %d is not between 0 and %d'
                                    % (args['stats_hosts'], fleet_summary.KEPT))
        names = args['hosts'] if args['hosts'] is not None else task_vars.get('ansible_play_hosts', [])
        names = sorted(set(str(name) for name in names))
        if args['source'] == 'cache':
            facts_of = CachedFacts()
        else:
            hostvars = task_vars.get('hostvars', {})

            def facts_of(name):
                return dict(hostvars[name].get('ansible_facts') or {}) if name in hostvars else {}
        resolver = profiles.Resolver(args['profile_paths'], args['profile_parameters'])

        def expected_for(record):
            if args['expected_profile']:
                return resolver.get(args['expected_profile'], args['expected_version'])
            if record and record.get('profile'):
                return resolver.get(record['profile'], record.get('version') or 'latest')
            return None

        try:
            if not args['merge']:  # a merge judges nothing again
                expected_for(None)  # the profile every host should run: an unknown one fails the audit here
                findings.check_thresholds(args['thresholds'])
        except SettingsError as exc:
            raise AnsibleActionFail('audit_report: the expected profile: %s' % exc)
        except ValueError as exc:
            raise AnsibleActionFail('audit_report: thresholds: %s' % exc)
        try:
            if args['query']:
                fleet_summary.check_query(args['query'])  # a wrong expression fails before anything is written
        except ValueError as exc:
            raise AnsibleActionFail('audit_report: query: %s' % exc)
        dest = os.path.abspath(args['dest'])
        max_age = args['max_age'] if args['source'] == 'cache' else None
        fleet = fleet_summary.Fleet(args['fail_on'])
        directory = out = previous = None
        parts = []  # the partial reports' directories and files, the previous report's directory: closed at the end
        try:
            try:
                directory = files.Directory.open(dest, create=not self._task.check_mode)
                if directory and not self._task.check_mode:
                    report_files.remove_stale_temps(directory)
                # The last report.json gives the counters of the last audit, a host at a time; what is
                # there is read as untrusted, and a file that would not change is not written again.
                if args['previous'] is None:
                    previous = report_files.Previous.open(directory)
            except OSError as exc:
                raise AnsibleActionFail('audit_report: dest: %s; nothing was written' % files.describe(exc))
            if args['previous'] is not None:
                previous = self._previous(args['previous'], parts)
            try:
                out = report_files.ReportFiles(None if self._task.check_mode else directory, keep=bool(args['query']))
                now = time.time()

                def judged():
                    for name in names:  # one host's facts at a time: read, judged, written, dropped
                        try:
                            facts = facts_of(name)
                        except Unreadable as exc:
                            yield name, host_audit.unaudited('The cached facts of this host cannot be read (%s). '
                                                             'Gather facts again.' % exc)
                        else:
                            yield name, host_audit.entry(facts, expected_for, args['thresholds'], previous.get(name),
                                                         args['record_name'], args['source'], max_age, now)
                partials, shown = self._open_partials(args['merge'], parts) if args['merge'] else (None, None)
                try:
                    for name, entry in _merged(partials, shown) if partials else judged():
                        fleet.add(name, entry)
                        out.host(name, entry)
                except ValueError as exc:
                    raise AnsibleActionFail('audit_report: %s: %s; nothing was written'
                                            % ('merge' if partials else 'the audit', exc))
                # report.json was hashed as the counters were read from it: not read a second time.
                existing = dict((name, previous.digest() if name == 'report.json' and args['previous'] is None
                                 else report_files.digest_of(directory, name)) for name in report_files.NAMES)
                out.end(fleet)
                checksum = out.digest()
                report = out.report() if args['query'] else None  # the one step that holds every host
                changed = out.finish(fleet, existing)
            except OSError as exc:
                raise AnsibleActionFail('audit_report: cannot write the report in %s: %s' % (dest, files.describe(exc)))
            if args['query']:
                try:
                    result['query'] = fleet_summary.query(report, args['query'])
                except ValueError as exc:
                    raise AnsibleActionFail('audit_report: query: %s; the report is in %s' % (exc, dest))
        finally:
            for thing in [out, previous and previous.handle, directory] + parts:
                if thing:
                    thing.close()
        result.update(changed=bool(changed), dest=dest, summary=fleet.summary, failing=fleet.failing,
                      failing_count=fleet.failing_count,
                      stats=fleet_summary.stats(fleet, args['stats_hosts'], {'dest': dest, 'sha256': checksum}))
        return result

    @staticmethod
    def _previous(path, parts):
        """The last report.json of another directory than ``dest`` (a slice reads the last merged fleet
        report's counters), opened as ``dest``'s is; none there is an audit's first run."""
        where = os.path.abspath(path)
        try:
            directory = files.Directory.open(where)
            if directory:
                parts.append(directory)
            return report_files.Previous.open(directory)
        except OSError as exc:
            raise AnsibleActionFail('audit_report: previous: %s; nothing was written' % files.describe(exc))

    @staticmethod
    def _open_partials(paths, parts):
        """The report.json of each partial report directory, opened as ``dest``'s last report is (no link
        followed, a regular file only); each opened thing is added to ``parts``. Returns (handles, the
        directories in that order): a pattern stands for the directories it matches, in name order."""
        handles, where_all = [], []
        for where in expand(paths):
            try:
                directory = files.Directory.open(where)
                if directory:
                    parts.append(directory)
                handle = directory.open_read('report.json') if directory else None
            except OSError as exc:
                raise AnsibleActionFail('audit_report: merge: %s: %s' % (where, files.describe(exc)))
            if handle is None:
                raise AnsibleActionFail('audit_report: merge: %s has no report.json: every slice must have '
                                        'finished its audit' % where)
            parts.append(handle)
            handles.append(handle)
            where_all.append(where)
        return handles, where_all
