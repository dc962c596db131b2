# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One set of hostile host text through every writer, each output read back by a real parser.

Process names reach the reports through the CLOSE_WAIT finding and the metrics through their
``process`` label; host names come from the inventory or a fact cache. Any local user can name a
process (``/proc/self/comm``), so each of these must come out as text, never as markup, and never
break the file's grammar. Integration tests add promtool, node_exporter and Chromium
(tests/integration/test_hostile_netns.py).
"""

import copy
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from ansible_collections.netops.tcp.plugins.module_utils.judge import _findings as findings
from ansible_collections.netops.tcp.plugins.module_utils.judge import _metrics as metrics
from ansible_collections.netops.tcp.plugins.plugin_utils import _fleet as fleet_summary
from ansible_collections.netops.tcp.plugins.plugin_utils import _report as report
from ansible_collections.netops.tcp.plugins.plugin_utils._report_files import NAMES
from ansible_collections.netops.tcp.plugins.plugin_utils import _rollout as rollout
from ansible_collections.netops.tcp.plugins.module_utils.common import _text as text
from ansible_collections.netops.tcp.tests.unit.plugins.module_utils.test_findings import WEB_V1, healthy_host
from ansible_collections.netops.tcp.tests.unit.plugins.plugin_utils.test_report import written
from ansible_collections.netops.tcp.tests.unit.plugins.plugin_utils.test_rollout import GATE, host as rollout_host, snap

HOSTILE = [
    '\x01\x02ctl', 'cr\rlf', '<script>alert(1)</script>', '<!--', '-->', 'quo"te\'s & &amp;', 'back\\slash\\',
    'line\u2028sep\u2029', 'rtl\u202eevil', 'lone\ud800surrogate', 'pi|pe', '*em* _u_ `c` [l](javascript:x) ![i](y) ~~s~~',
    'tab\tnew\nline', 'del\x7fc1\x85', 'bad\ufffdutf8', '\ufeffbom', '# heading', '&lt;b&gt;', 'tag\U000e0041smuggled',
]


def one_line(value):
    """What a reader sees of ``value`` in a one-line cell: visible, white space as spaces."""
    return text.visible(value).replace('\n', ' ').replace('\t', ' ')


def hostile_hosts():
    """{name: audit entry}: a host per hostile name, named by it, whose CLOSE_WAIT holder and kernel release
    have the same name."""
    hosts = {}
    for number, name in enumerate(HOSTILE):
        host = healthy_host()
        host['tcp']['states']['CLOSE_WAIT'] = 1500
        host['tcp']['processes'] = {'CLOSE_WAIT': [{'pid': 100 + number, 'name': name, 'sockets': 1500}]}
        found = findings.host_findings(host['tcp'], host['tcp_sysctl'], host['record'], WEB_V1, True)
        hosts[name] = {'record': host['record'], 'states': host['tcp']['states'], 'findings': found, 'kernel': name}
    return hosts


def hostile_fleet():
    return fleet_summary.fleet(hostile_hosts())


class Page(HTMLParser):
    """Every start tag and the text of an HTML document or fragment."""

    def __init__(self, markup):
        HTMLParser.__init__(self, convert_charrefs=True)
        self.tags, self.chunks = [], []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.chunks.append(data)

    @property
    def text(self):
        return ''.join(self.chunks)


def test_visible_escapes_what_breaks_or_misleads_and_keeps_the_rest():
    assert text.visible('\x01a\rb\u202ec\ud800d\x85') == '\\x01a\\x0db\\u202ec\\ud800d\\x85'
    assert text.visible('café 日本 tab\tnl\n') == 'café 日本 tab\tnl\n'
    assert text.visible('a\U000e0041\ufe0fb') == 'a\\ue0041\\ufe0fb'  # invisible tag characters, variation selectors
    assert text.visible(None) == '' and text.visible(42) == '42'


def test_junit_parses_with_every_name():
    root = ET.fromstring(written(hostile_hosts())['report.xml'])
    suites = dict((s.get('name'), s) for s in root.findall('testsuite'))
    assert set(suites) == set(text.visible(name) for name in HOSTILE)
    for name in HOSTILE:
        failure = suites[text.visible(name)].find("testcase/failure")
        assert 'Fix the code that leaks them: %s (pid' % text.visible(name) in failure.get('message')
        assert failure.get('message') == failure.text
        assert suites[text.visible(name)].find("properties/property[@name='kernel']").get('value') == text.visible(name)


def test_markdown_renders_host_text_as_text():
    rendered = MarkdownIt('commonmark').enable('table').render(report.markdown(hostile_fleet()))
    page = Page(rendered)
    assert set(page.tags) <= {'h1', 'h2', 'p', 'table', 'thead', 'tbody', 'tr', 'th', 'td'}, set(page.tags)
    for name in HOSTILE:
        assert 'Fix the code that leaks them: %s (pid' % one_line(name) in page.text, name
    headings = re.findall(r'<h2>(.*?)</h2>', rendered)
    assert sorted(Page(h).text for h in headings) == sorted(one_line(name).strip() for name in HOSTILE)
    kernels = re.findall(r'<p>Kernel: (.*?)</p>', rendered, re.S)
    assert sorted(Page(k).text for k in kernels) == sorted(one_line(name).strip() for name in HOSTILE)
    table = re.search(r'<th>kernel</th>.*?</table>', rendered, re.S).group(0)
    cells = [Page(c).text for c in re.findall(r'<tr>\s*<td>(.*?)</td>\s*<td[^>]*>1</td>', table, re.S)]
    assert sorted(cells) == sorted(one_line(name).strip() for name in HOSTILE)


def test_html_shows_host_text_as_text():
    page = Page(report.html(hostile_fleet()))
    assert page.tags.count('script') == 1  # the page's own filter script
    assert not set(page.tags) & {'a', 'img', 'iframe', 'b', 'em', 'code', 'del'}
    for name in HOSTILE:
        assert 'Fix the code that leaks them: %s (pid' % text.visible(name) in page.text
    markup = report.html(hostile_fleet())
    kernels = re.search(r'<table id="kernels">.*?</table>', markup, re.S).group(0)
    rows = re.findall(r'<tr><td>([^<]*)</td><td>1</td></tr>', kernels)  # no host text opens a tag
    in_hosts = re.findall(r'<tr data-[^>]*><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td>', markup)
    for cells in (rows, in_hosts):
        assert sorted(Page(c).text for c in cells) == sorted(text.visible(name) for name in HOSTILE)


def test_the_rollout_report_too():
    waves = [rollout.judge(1, dict((name, rollout_host(snaps=[snap(0), snap(10), snap(20), snap(30)])) for name in HOSTILE),
                           GATE)]
    rep = rollout.rollout(waves, {}, HOSTILE, GATE, 10, '2026-12-01T00:00:00Z')
    rendered = MarkdownIt('commonmark').enable('table').render(rollout.markdown(rep))
    page = Page(rendered)
    assert set(page.tags) <= {'h1', 'h2', 'p', 'table', 'thead', 'tbody', 'tr', 'th', 'td'}, set(page.tags)
    cells = [Page(c).text for c in re.findall(r'<tr>\s*<td>(.*?)</td>', rendered, re.S)]
    assert sorted(cells) == sorted(one_line(name).strip() for name in HOSTILE)
    page = Page(rollout.html(rep))
    assert 'script' not in page.tags
    assert all(text.visible(name) in page.text for name in HOSTILE)


LABEL = re.compile(r'process="((?:[^"\\]|\\.)*)"')


def test_metrics_labels_read_back_as_the_visible_name():
    for name in HOSTILE:
        host = healthy_host()
        host['tcp']['processes'] = {'CLOSE_WAIT': [{'pid': 1, 'name': name, 'sockets': 5}]}
        exported = metrics.render(host['tcp'], host['tcp_sysctl'], host['record'], [], 'web_frontend@1')
        exported.encode('utf-8')
        raw = LABEL.search(exported).group(1)
        assert '\n' not in raw
        value = re.sub(r'\\(.)', lambda m: {'n': '\n'}.get(m.group(1), m.group(1)), raw)
        assert value == text.visible(name)


@pytest.mark.parametrize('name', NAMES)
def test_every_report_file_encodes_and_the_json_keeps_the_facts(name):
    out = written(copy.deepcopy(hostile_hosts()))[name]
    out.encode('utf-8')  # a lone surrogate would raise here: the whole report would be lost
    if name == 'report.json':
        assert set(json.loads(out)['hosts']) == set(HOSTILE)  # the data file keeps the facts as they were
