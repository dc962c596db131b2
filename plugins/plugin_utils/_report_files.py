# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp, controller only: the audit's report directory, written a host at a time.

report.json holds one host per line (``{"hosts": {`` / ``"name": {...},`` ... / ``},`` / ``"summary": ...}``),
so the next audit reads the last one's entries a line at a time, in name order, beside its own hosts
(``Previous``), and neither audit holds the fleet. Each file is written into a temporary file beside
it while hashed (``Output``) and put in place only when it differs from the file there. The reports of
an audit run in slices (AWX job slicing) are merged back into one by reading their report.json files
side by side, a host at a time (``partial_entries``)."""

import hashlib
import json
import os
import tempfile
import time

from ansible_collections.netops.tcp.plugins.module_utils.common._files import READ_LIMIT, temp_prefix
from ansible_collections.netops.tcp.plugins.module_utils.judge._findings import SEVERITIES

from ansible_collections.netops.tcp.plugins.plugin_utils import _report as report

NAMES = ('report.json', 'report.md', 'report.xml', 'report.html')
HEAD = '{"hosts": {\n'
LINE_LIMIT = 16 * 1024 * 1024   # one host's entry is a few KB; a longer line is skipped
CHUNK = 1 << 20
STALE = 3600  # seconds without a write after which a temporary report file is a killed run's


def host_line(name, entry, first):
    """One host's line of report.json."""
    return ('' if first else ',\n') + json.dumps(name) + ': ' + json.dumps(entry, sort_keys=True)


def tail(summary):
    return '\n},\n"summary": %s}\n' % json.dumps(summary, sort_keys=True)


def chunks(handle):
    """The rest of a binary file, CHUNK bytes at a time."""
    return iter(lambda: handle.read(CHUNK), b'')


def remove_stale_temps(directory):
    """Remove the temporary report files a killed run left in ``directory`` (a ``files.Directory``): those
    not written for STALE seconds. A running audit writes its own all along, so it keeps them."""
    prefixes = tuple(temp_prefix(name) for name in NAMES)
    now = time.time()
    for entry in os.listdir(directory.fd):
        if entry.startswith(prefixes):
            try:
                if now - os.stat(entry, dir_fd=directory.fd, follow_symlinks=False).st_mtime > STALE:
                    os.remove(entry, dir_fd=directory.fd)
            except OSError:
                pass  # gone already, or not ours to remove: the next run tries again


def digest_of(directory, name):
    """sha256 of the file ``name`` in ``directory`` (a ``files.Directory`` or None), None when there is none."""
    handle = directory.open_read(name) if directory else None
    if handle is None:
        return None
    found = hashlib.sha256()
    with handle:
        for chunk in chunks(handle):
            found.update(chunk)
    return found.hexdigest()


def _bad_entry(entry):
    """What keeps ``entry`` from being a host's entry the fleet summary can count, or None."""
    if not isinstance(entry, dict) or not isinstance(entry.get('findings'), list):
        return 'the entry is not a mapping with a list of findings'
    for item in entry['findings']:
        if not (isinstance(item, dict) and item.get('severity') in SEVERITIES and isinstance(item.get('kind'), str)
                and isinstance(item.get('message'), str) and isinstance(item.get('key', 0), (str, type(None)))):
            return 'a finding without a kind, key and message, or with a severity other than %s' % ', '.join(SEVERITIES)
    states = entry.get('states') or {}
    if not isinstance(states, dict) or not all(isinstance(n, int) and not isinstance(n, bool) for n in states.values()):
        return 'states that are not counts of sockets'
    if not isinstance(entry.get('record'), (dict, type(None))) or not isinstance(entry.get('kernel'), (str, type(None))):
        return 'a record that is not a mapping or a kernel release that is not text'
    return None


def partial_entries(handle, shown):
    """(name, entry) of every host in an open report.json (binary), a line at a time, in name order.
    A merged report must hold every host of the slices exactly as judged there, so nothing is skipped:
    ValueError names ``shown``, the line and the rule a line breaks (also a report cut short)."""
    number = 1
    if handle.readline(LINE_LIMIT) != HEAD.encode():
        raise ValueError('%s: not a report.json of netops.tcp.audit_report (its first line is not %r)' % (shown, HEAD.strip()))
    last = None
    while True:
        line = handle.readline(LINE_LIMIT)
        number += 1
        if not line.endswith(b'\n'):
            raise ValueError('%s line %d: cut short or longer than %d bytes' % (shown, number, LINE_LIMIT))
        text = line.decode('utf-8', 'replace').strip()
        if text in ('', '},'):
            if text == '},':
                break
            continue
        try:
            item = json.loads('{%s}' % text.rstrip(','))
        except (ValueError, RecursionError):
            item = None
        if not isinstance(item, dict) or len(item) != 1:
            raise ValueError('%s line %d: not one host\'s entry ("name": {...})' % (shown, number))
        [(name, entry)] = item.items()
        problem = _bad_entry(entry)
        if problem:
            raise ValueError('%s line %d: host %s: %s' % (shown, number, name, problem))
        if last is not None and name <= last:
            raise ValueError('%s line %d: host %s comes after %s: the hosts are not in name order' % (shown, number, name, last))
        last = name
        yield name, entry
    rest = handle.readline(LINE_LIMIT)
    if not (rest.startswith(b'"summary": ') and rest.endswith(b'}\n')):
        raise ValueError('%s line %d: no summary after the hosts (a report cut short)' % (shown, number + 1))


class Previous:
    """The last audit's report.json (an open binary file or None), read once: ``get(name)`` gives a
    host's entry for names asked in ascending order, ``digest()`` the whole file's sha256. A
    report.json of an older release (indented JSON) is read whole once and only its counters kept."""

    @classmethod
    def open(cls, directory):
        """The last report.json in ``directory`` (a ``files.Directory`` or None)."""
        handle = directory.open_read('report.json') if directory else None
        try:
            return cls(handle)
        except BaseException:
            if handle:
                handle.close()
            raise

    def __init__(self, handle):
        self.handle, self.hash = handle, hashlib.sha256()
        self._next = None          # (name, entry) read ahead
        self._old = None           # {name: {'counters': ...}} of an older report
        self._done = handle is None
        if handle is not None and self._line() != HEAD.encode():
            self.handle.seek(0)
            data = self.handle.read(READ_LIMIT + 1)
            self.hash = hashlib.sha256(data)
            self._old = self._older(data) if len(data) <= READ_LIMIT else {}
            self._done = True

    def _line(self):
        line = self.handle.readline(LINE_LIMIT)
        self.hash.update(line)
        return line

    @staticmethod
    def _older(data):
        """{name: {'counters': ...}} of a report read whole; {} when it is not one."""
        try:
            hosts = json.loads(data.decode('utf-8', 'replace')).get('hosts')
        except (ValueError, AttributeError, RecursionError):
            return {}
        return dict((k, {'counters': v.get('counters')}) for k, v in hosts.items() if isinstance(v, dict)) \
            if isinstance(hosts, dict) else {}

    def _advance(self):
        """The next host line's (name, entry), or None at the end of the hosts (or of what is ours)."""
        while not self._done:
            line = self._line()
            if len(line) == LINE_LIMIT and not line.endswith(b'\n'):
                while line and not line.endswith(b'\n'):  # one host's huge entry: skipped, not the rest
                    line = self._line()
                continue
            text = line.decode('utf-8', 'replace').strip()
            if not line.endswith(b'\n') or not text.startswith('"'):
                self._done = True  # the hosts' end, or not ours: no more entries
                break
            try:
                item = json.loads('{%s}' % text.rstrip(','))
            except (ValueError, RecursionError):
                continue
            if len(item) == 1:
                return next(iter(item.items()))
        return None

    def get(self, name):
        if self._old is not None:
            return self._old.get(name)
        if self._next is None:
            self._next = self._advance()
        while self._next is not None and self._next[0] < name:
            self._next = self._advance()
        if self._next is not None and self._next[0] == name:
            entry, self._next = self._next[1], None
            return entry if isinstance(entry, dict) else None
        return None

    def digest(self):
        if self.handle is None:
            return None
        for chunk in chunks(self.handle):
            self.hash.update(chunk)
        return self.hash.hexdigest()


class Output:
    """One report file written a piece at a time (``write``): into a new temporary file beside it in
    ``directory``, or, when ``directory`` is None (check mode), only hashed (into an anonymous
    temporary file too with ``keep``, for ``load``). ``seal`` says whether it differs from the file
    there, ``commit`` puts it in place, ``abandon`` removes what was not put in place."""

    def __init__(self, directory, name, keep=False):
        self.directory, self.name, self.hash, self.tmp = directory, name, hashlib.sha256(), None
        if directory:
            self.handle, self.tmp = directory.create_temp(name)
        else:
            self.handle = tempfile.TemporaryFile() if keep else None

    def write(self, text):
        self.write_bytes(text.encode('utf-8'))

    def write_bytes(self, data):
        self.hash.update(data)
        if self.handle:
            self.handle.write(data)

    def load(self):
        """What was written, parsed as JSON (the whole file in memory)."""
        self.handle.seek(0)
        try:
            return json.load(self.handle)
        finally:
            self.handle.seek(0, os.SEEK_END)

    def seal(self, existing):
        """Whether what was written differs from the file there (``existing``: its sha256 or None); the
        temporary file is then on disk (fsynced), waiting for ``commit``."""
        changed = self.hash.hexdigest() != existing
        if self.tmp:
            self.handle.flush()
            if changed:
                os.fsync(self.handle.fileno())
            self.handle.close()
            self.handle = None
        return changed

    def commit(self):
        if self.tmp:
            self.directory.commit(self.tmp, self.name)
            self.tmp = None

    def abandon(self):
        """Close, and remove the temporary file if it was not put in place (after a failure)."""
        if self.handle:
            self.handle.close()
            self.handle = None
        if self.tmp:
            self.directory.discard(self.tmp)
            self.tmp = None


class ReportFiles:
    """The four report files of one audit in ``directory`` (a ``files.Directory``; None in check mode:
    then they are only hashed). ``host(name, entry)`` appends a host to report.json and report.xml (its
    body: the JUnit head counts the whole fleet, so it is written last); ``end(fleet)`` ends
    report.json with the summary; ``finish(fleet, existing)`` writes report.xml, report.md and
    report.html, puts every file that changed in place and returns their names. With ``keep``,
    ``report()`` gives the whole report.json parsed (for a query) between ``end`` and ``finish``."""

    def __init__(self, directory, keep=False):
        self.directory, self.first = directory, True
        self.json = Output(directory, 'report.json', keep)
        self.xml_body = None
        try:
            self.xml_body = tempfile.TemporaryFile()
            self.json.write(HEAD)
        except BaseException:
            self.close()
            raise

    def host(self, name, entry):
        self.json.write(host_line(name, entry, self.first))
        self.first = False
        self.xml_body.write(report.junit_suite(name, entry).encode('utf-8'))

    def end(self, fleet):
        """report.json's end: the summary."""
        self.json.write(tail(fleet.summary))

    def report(self):
        return self.json.load()

    def digest(self):
        """sha256 of report.json as written (after ``end``): the checksum the job's artifacts carry."""
        return self.json.hash.hexdigest()

    def finish(self, fleet, existing):
        """``existing``: {file name: sha256 of the file there, or None}. Every file is written before any is
        put in place: a failure while writing (a full disk) leaves the last report as it was; a rename
        that fails leaves the files renamed before it new, the others as they were."""
        outputs = [self.json]
        try:
            xml = Output(self.directory, 'report.xml')
            outputs.append(xml)
            xml.write(report.junit_head(fleet.testcases, fleet.failures))
            self.xml_body.seek(0)
            for chunk in chunks(self.xml_body):
                xml.write_bytes(chunk)
            xml.write(report.JUNIT_TAIL)
            for name, render in (('report.md', report.markdown), ('report.html', report.html)):
                out = Output(self.directory, name)
                outputs.append(out)
                out.write(render(fleet))
            changed = [out for out in outputs if out.seal(existing.get(out.name))]
            for out in changed:
                out.commit()
            return [out.name for out in changed]
        finally:
            for out in outputs:
                out.abandon()

    def close(self):
        self.json.abandon()
        if self.xml_body:
            self.xml_body.close()
