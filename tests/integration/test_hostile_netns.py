# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nothing secret leaves a host, and no data on a host can break, hang or mislead a run.

Everything hostile is planted by an unprivileged local user (``nobody``, through setpriv) inside
throwaway namespace hosts (their own network and mount namespaces, /etc and /var/lib on a tmpfs):
services with secrets on their command lines, processes named with markup and control
characters, links, FIFOs and devices where the collection reads and writes as root, a /proc
mounted with hidepid, and thousands of descriptors to walk. Nothing changes outside those hosts.
"""

import binascii
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from markdown_it import MarkdownIt

from ansible_collections.netops.tcp.plugins.module_utils.common import _text as text
from ansible_collections.netops.tcp.tests.integration.harness import ROOT
from ansible_collections.netops.tcp.tests.integration.test_metrics_netns import PROM, TEXTFILE_DIR, NodeExporter, tool
from ansible_collections.netops.tcp.tests.integration.test_report_html import CHROMIUM
from ansible_collections.netops.tcp.tests.unit.plugins.module_utils.test_text import Page

NOBODY = 65534
HELPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'hostile_process.py')
SECRETS = ('hunter2-db', 'tok-9f8e7d', 'pw-in-url')
TIMEOUT = 120  # a hang fails the test instead of the suite


def hostile(host, comm, *argv, **kw):
    """Start hostile_process.py inside ``host`` (as nobody unless ``root``); its pid. It stops with the host."""
    user = [] if kw.get('root') else ['setpriv', '--reuid=%d' % NOBODY, '--regid=%d' % NOBODY, '--clear-groups']
    proc = subprocess.Popen(['nsenter', '-t', str(host.holder.pid), '-n', '-m'] + user +
                            ['/usr/bin/python3', HELPER, '--comm', binascii.hexlify(comm).decode()] + list(argv),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    host.loads = getattr(host, 'loads', []) + [proc]
    line = proc.stdout.readline()
    assert line.startswith('ready '), 'the hostile process did not start'
    return int(line.split()[1])


def as_nobody(host, *argv):
    return host.run('setpriv', '--reuid=%d' % NOBODY, '--regid=%d' % NOBODY, '--clear-groups', *argv)


def listing(host, directory):
    """What is in ``directory`` inside the host: each entry's type, link target, size, owner, and
    the checksum of every regular file."""
    entries = host.run('find', directory, '-printf', '%p %y %l %s %U\n', check=True).stdout
    sums = host.run('find', directory, '-type', 'f', '-exec', 'sha256sum', '{}', '+', check=True).stdout
    return entries, sums


def playbook(host, path, *extra, **kw):
    env = dict(os.environ, ANSIBLE_NOCOLOR='1')
    return subprocess.run(['ansible-playbook', '-i', host.inventory, path] + list(extra), capture_output=True, text=True,
                          env=env, timeout=TIMEOUT, check=False, **kw)


def test_no_command_line_leaves_the_host(isolated_hosts, tmp_path):
    """A service started with secrets on its command line, as such services are: the normal gathering
    playbook, the example inventory's fact cache, the audit's reports and the metrics never carry
    them; the opt-in command line comes redacted."""
    host = isolated_hosts()[0]
    pid = hostile(host, b'leaky-svc', '--close-wait', '3', '--db-password=hunter2-db', '--api-token', 'tok-9f8e7d',
                  'postgres://app:pw-in-url@db/x')
    assert all(s in host.read('/proc/%d/cmdline' % pid) for s in SECRETS)  # they are there to be taken

    inventory = tmp_path / 'inventory'
    shutil.copytree(os.path.join(ROOT, 'examples', 'inventory'), str(inventory))
    with open(host.inventory) as src:
        (inventory / 'hosts.yml').write_text(src.read())
    env = dict(os.environ, ANSIBLE_NOCOLOR='1')
    env.pop('ANSIBLE_CONFIG', None)
    gather = subprocess.run(['ansible-playbook', os.path.join(ROOT, 'playbooks', 'gather_tcp_facts.yml'), '-v'],
                            cwd=str(inventory), env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert gather.returncode == 0, gather.stdout[-3000:]
    cache = (inventory / 'facts-cache' / ('s1_' + host.name)).read_text()
    assert 'leaky-svc' in gather.stdout and 'leaky-svc' in cache  # the holder is named...
    python = host.run('readlink', '-f', '/usr/bin/python3', check=True).stdout.strip()
    assert '"exe": "%s"' % python in json.loads(cache)['__payload__'].replace('\\/', '/')
    assert 'cmdline' not in cache  # ...by name, executable and cgroup only

    report_dir = tmp_path / 'report'
    audit = playbook(host, os.path.join(ROOT, 'audit-tcp.yml'), '-e', 'tcp_audit_report_dir=%s' % report_dir,
                     '-e', '{"tcp_audit_thresholds": {"close_wait": 1}, "tcp_audit_metrics": true}')
    assert audit.returncode == 0, audit.stdout[-3000:]
    reports = dict((name, (report_dir / name).read_text()) for name in os.listdir(str(report_dir)))
    assert 'leaky-svc (pid %d, ' % pid in reports['report.md'] and 'leaky-svc' in host.read(PROM)

    opted = host.ansible('netops.tcp.tcp_facts', {'gather_subset': ['min', 'processes'], 'process_cmdline': True})
    row = [r for r in opted['ansible_facts']['tcp']['processes']['CLOSE_WAIT'] if r['pid'] == pid][0]
    assert row['cmdline'] == ('/usr/bin/python3 %s --comm %s --close-wait 3 --db-password=<redacted> --api-token '
                              '<redacted> postgres://app:<redacted>@db/x' % (HELPER, binascii.hexlify(b'leaky-svc').decode()))
    for secret in SECRETS:
        for where, found in [('gather output', gather.stdout), ('fact cache', cache), ('audit output', audit.stdout),
                             ('metrics', host.read(PROM)), ('opt-in facts', json.dumps(opted))] + list(reports.items()):
            assert secret not in found, '%s leaked into the %s' % (secret, where)


# Up to 15 bytes each, as the kernel keeps them; three, as the CLOSE_WAIT finding names three.
NAMES = (b'\x01<script>\r', b'-->\xe2\x80\xa8<!--|', b'\xff\xfe<b>*_`[x](y)')


def test_process_names_of_markup_and_control_characters_break_no_report(isolated_hosts, tmp_path):
    host = isolated_hosts()[0]
    for number, name in enumerate(NAMES):
        hostile(host, name, '--close-wait', str(4 - number))
    shown = [text.visible(name.decode('utf-8', 'replace')) for name in NAMES]
    report_dir = tmp_path / 'report'
    audit = playbook(host, os.path.join(ROOT, 'audit-tcp.yml'), '-e', 'tcp_audit_report_dir=%s' % report_dir,
                     '-e', '{"tcp_audit_thresholds": {"close_wait": 1}, "tcp_audit_metrics": true}')
    assert audit.returncode == 0, audit.stdout[-3000:]
    message = json.loads((report_dir / 'report.json').read_text())['hosts'][host.name]['findings']
    message = [f['message'] for f in message if f['kind'] == 'close_wait'][0]

    junit = ET.parse(str(report_dir / 'report.xml')).getroot()  # well-formed: a CI system reads every host
    failure = [f.get('message') for f in junit.iter('failure') if 'CLOSE_WAIT' in f.get('message')][0]
    assert failure == text.visible(message) and all('%s (pid' % name in failure for name in shown)

    rendered = MarkdownIt('commonmark').enable('table').render((report_dir / 'report.md').read_text())
    page = Page(rendered)
    assert set(page.tags) <= {'h1', 'h2', 'p', 'table', 'thead', 'tbody', 'tr', 'th', 'td'}, set(page.tags)
    assert all('%s (pid' % name in page.text for name in shown)

    profile = '--user-data-dir=%s' % (tmp_path / 'chromium')
    dom = subprocess.run(CHROMIUM + [profile, '--dump-dom', (report_dir / 'report.html').as_uri()], check=True,
                         capture_output=True, text=True, timeout=TIMEOUT).stdout
    page = Page(dom)
    assert '<title>TCP audit</title>' in dom and page.tags.count('script') == 1 and 'b' not in page.tags
    assert all('%s (pid' % name in page.text for name in shown)

    exported = host.read(PROM)
    check = subprocess.run([tool('promtool'), 'check', 'metrics'], input=exported, capture_output=True, text=True,
                           check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    host.exporter = exporter = NodeExporter(host)
    try:
        scraped = exporter.scrape()
    finally:
        exporter.close()
    assert 'node_textfile_scrape_error 0' in scraped
    labels = re.findall(r'^netops_tcp_close_wait_connections\{process="((?:[^"\\]|\\.)*)"\} (\d+)$', scraped, re.M)
    unescaped = sorted((re.sub(r'\\(.)', lambda m: {'n': '\n'}.get(m.group(1), m.group(1)), raw), int(n))
                       for raw, n in labels)
    assert unescaped == sorted(zip(shown, (4, 3, 2)))


def prometheus_layout(host):
    """Debian's: /var/lib/prometheus belongs to the exporter's account (nobody here), the textfile
    directory in it to root; and a root-only file worth stealing."""
    host.run('mkdir', '-p', TEXTFILE_DIR, check=True)
    host.run('chown', '%d:%d' % (NOBODY, NOBODY), os.path.dirname(TEXTFILE_DIR), check=True)
    host.run('sh', '-c', 'umask 077; echo root-only-secret > /etc/netops-secret', check=True)


def metrics_refused(host, *extra):
    """tcp_metrics's failure message (with --diff), within TIMEOUT."""
    result = host.ansible('netops.tcp.tcp_metrics', expect_failure=True, extra=('--diff',) + extra)
    assert 'root-only-secret' not in json.dumps(result)
    return result['msg']


@pytest.mark.parametrize('plant, expected', [
    # The account swaps the textfile directory for a link to where root writes...
    ('mv {d} {d}.away && ln -s /etc {d}',
     'textfile_dir: {d} is a symbolic link in /var/lib/prometheus, which another user can change: not followed; '
     'nothing was written'),
    # ...or for a directory of its own, holding a link to a root-only file, a FIFO or a device.
    ('mv {d} {d}.away && mkdir {d} && ln -s /etc/netops-secret {d}/netops_tcp.prom',
     'textfile_dir: {d} belongs to uid 65534, not to root or this user: refused as a destination (its owner could put '
     'a link or a file of its own where this run writes); nothing was written'),
    ('mv {d} {d}.away && mkdir {d} && mkfifo {d}/netops_tcp.prom',
     'textfile_dir: {d} belongs to uid 65534, not to root or this user: refused as a destination (its owner could put '
     'a link or a file of its own where this run writes); nothing was written'),
], ids=['directory-link', 'own-directory-link-to-secret', 'own-directory-fifo'])
def test_what_the_exporter_account_plants_is_refused(isolated_hosts, plant, expected):
    host = isolated_hosts()[0]
    prometheus_layout(host)
    as_nobody(host, 'sh', '-c', plant.format(d=TEXTFILE_DIR)).check_returncode()
    before = listing(host, '/var/lib/prometheus'), listing(host, '/etc')
    assert metrics_refused(host) == expected.format(d=TEXTFILE_DIR)
    assert (listing(host, '/var/lib/prometheus'), listing(host, '/etc')) == before  # byte for byte, nothing new


@pytest.mark.parametrize('plant, what', [
    ('mkfifo {p}', 'a FIFO (named pipe), not a regular file: not read'),
    ('ln -s /dev/zero {p}', 'a symbolic link, not a regular file: not read (links are not followed there)'),
    ('ln -s /etc/netops-secret {p}', 'a symbolic link, not a regular file: not read (links are not followed there)'),
    ('head -c 1048577 /dev/zero | tr "\\0" "#" > {p}', None),
], ids=['fifo', 'link-to-dev-zero', 'link-to-secret', 'oversized'])
def test_what_sits_at_the_metrics_path_is_read_only_if_it_is_a_regular_file_of_bounded_size(isolated_hosts, plant, what):
    """In root's own textfile directory (planted by root here: the exporter's account cannot write
    there, which the test above covers), anything but a regular file of at most 1 MiB is refused:
    no hang, no endless read, no root-only content in --diff."""
    host = isolated_hosts()[0]
    prometheus_layout(host)
    host.run('sh', '-c', plant.format(p=PROM), check=True)
    before = listing(host, TEXTFILE_DIR)
    what = what or 'larger than 1048576 bytes: not read'
    assert metrics_refused(host) == 'textfile_dir: %s is %s; nothing was written' % (PROM, what)
    assert listing(host, TEXTFILE_DIR) == before


def test_the_audit_report_destination(isolated_hosts, tmp_path):
    """On the controller: a FIFO where report.json goes does not hang the audit, and a destination
    another user owns is refused; both leave it as it was."""
    host = isolated_hosts()[0]
    dest = tmp_path / 'report'
    dest.mkdir()
    os.mkfifo(str(dest / 'report.json'))
    run = playbook(host, os.path.join(ROOT, 'audit-tcp.yml'), '-e', 'tcp_audit_report_dir=%s' % dest)
    assert run.returncode != 0
    assert ('audit_report: dest: %s/report.json is a FIFO (named pipe), not a regular file: not read; nothing was '
            'written' % dest) in run.stdout, run.stdout[-2000:]
    assert os.listdir(str(dest)) == ['report.json']
    os.remove(str(dest / 'report.json'))
    os.chown(str(dest), NOBODY, NOBODY)
    run = playbook(host, os.path.join(ROOT, 'audit-tcp.yml'), '-e', 'tcp_audit_report_dir=%s' % dest)
    assert run.returncode != 0 and os.listdir(str(dest)) == []
    assert ('audit_report: dest: %s belongs to uid 65534, not to root or this user: refused as a destination' % dest
            in run.stdout), run.stdout[-2000:]


def kernel_at_least(major, minor):
    return tuple(int(x) for x in re.match(r'(\d+)\.(\d+)', os.uname().release).groups()) >= (major, minor)


def run_module(host, module, args, nobody=False):
    """Run a module of the collection inside ``host`` with the system's python3, as root or as
    nobody (as a run without become would): its result, warnings included."""
    site = [p for p in sys.path if p.endswith('site-packages') and p.startswith(sys.prefix)][0]
    user = ['setpriv', '--reuid=%d' % NOBODY, '--regid=%d' % NOBODY, '--clear-groups'] if nobody else []
    proc = host.run('env', 'PYTHONPATH=%s:%s' % (os.environ['ANSIBLE_COLLECTIONS_PATH'], site), *user, '/usr/bin/python3',
                    '-m', 'ansible_collections.netops.tcp.plugins.modules.' + module,
                    input=json.dumps({'ANSIBLE_MODULE_ARGS': args}))
    result = json.loads(proc.stdout)
    # ansible-core 2.19 returns warnings as structured events, earlier ones as strings
    result['warnings'] = [w['event']['msg'] if isinstance(w, dict) else w for w in result.get('warnings', [])]
    return result


@pytest.mark.skipif(not kernel_at_least(5, 8), reason='before Linux 5.8 a second proc mount shares the first one\'s '
                    'options: hidepid would change the machine\'s /proc')
def test_processes_under_hidepid_say_what_a_non_root_run_cannot_see(isolated_hosts):
    host = isolated_hosts()[0]
    root_pid = hostile(host, b'root-svc', '--close-wait', '4', root=True)
    own_pid = hostile(host, b'own-svc', '--close-wait', '2')
    with open('/proc/self/mountinfo') as handle:
        ours = [line for line in handle if ' /proc ' in line]
    host.run('mount', '-t', 'proc', '-o', 'hidepid=invisible', 'proc', '/proc', check=True)  # the host's own mount namespace
    args = {'gather_subset': ['min', 'processes']}
    seen = run_module(host, 'tcp_facts', args, nobody=True)
    assert [(r['pid'], r['name'], r['sockets']) for r in seen['ansible_facts']['tcp']['processes']['CLOSE_WAIT']] == [
        (own_pid, 'own-svc', 2)]
    assert ('processes: /proc is mounted with hidepid=invisible, so this run (uid 65534, not root) sees only its own '
            'processes; sockets without a holder: 4 CLOSE_WAIT, 1 LISTEN. Run as root (become) to name them all') \
        in seen['warnings']
    as_root = run_module(host, 'tcp_facts', args)
    assert [(r['pid'], r['sockets']) for r in as_root['ansible_facts']['tcp']['processes']['CLOSE_WAIT']] == [
        (root_pid, 4), (own_pid, 2)]
    assert as_root['warnings'] == []
    with open('/proc/self/mountinfo') as handle:
        assert [line for line in handle if ' /proc ' in line] == ours  # this machine's /proc is as it was


def test_the_process_walk_stops_at_its_budget(isolated_hosts):
    """Ten processes of another user with 19,000 descriptors each: the walk stops at its budget and
    says how far it got; with the default budget it reads them all and names the holder."""
    host = isolated_hosts()[0]
    for _i in range(10):
        hostile(host, b'fd-hog', '--fds', '19000')
    holder = hostile(host, b'holder', '--close-wait', '5')
    short = run_module(host, 'tcp_facts', {'gather_subset': ['min', 'processes'], 'process_budget': 0.05})
    assert short['ansible_facts']['tcp']['states']['CLOSE_WAIT'] == 5 and len(short['warnings']) == 1
    match = re.match(r'^processes: stopped after the 0\.05 s budget: read the descriptors of (\d+) of (\d+) processes '
                     r'\((\d+) descriptors\); the counts are partial \(process_budget\)$', short['warnings'][0])
    assert match and int(match.group(1)) < int(match.group(2)), short['warnings']
    whole = run_module(host, 'tcp_facts', {'gather_subset': ['min', 'processes']})
    assert whole['warnings'] == []
    assert [(r['pid'], r['name'], r['sockets']) for r in whole['ansible_facts']['tcp']['processes']['CLOSE_WAIT']] == [
        (holder, 'holder', 5)]
    bad = host.ansible('netops.tcp.tcp_facts', {'process_budget': 0}, expect_failure=True)
    assert bad['msg'] == 'process_budget: must be a number of seconds above 0, got 0.0'
