# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTML page shell the audit's and the rollout's pages draw with, and its public names."""

import ast
import glob
import os

from ansible_collections.netops.tcp.plugins.plugin_utils import _page as page

PLUGINS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))),
                       'plugins')


def test_a_page_opens_with_its_escaped_title_and_reaches_no_network():
    lines = page.head('<b>x</b>')
    assert lines[0] == '<!DOCTYPE html>' and lines[-1] == '<h1>&lt;b&gt;x&lt;/b&gt;</h1>'
    assert "default-src 'none'" in lines[2] and '<title>&lt;b&gt;x&lt;/b&gt;</title>' in lines[3]
    assert page.foot() == '</body></html>'
    assert page.foot('go();') == '<script>go();</script></body></html>'


def test_charts_escape_their_labels_and_scale_to_the_largest():
    chart = page.bars([('<i>', 10), ('b', 5)], lambda label: '#123456')
    assert '&lt;i&gt;' in chart and '<i>' not in chart
    assert 'width="420.0"' in chart and 'width="210.0"' in chart
    assert page.bars([], lambda label: 'red') == '<svg class="chart" width="740" height="4" role="img"></svg>'
    states = page.state_bar('h<1>', {'ESTABLISHED': 3, 'TIME_WAIT': 1, 'CLOSE_WAIT': 0})
    assert states.count('<rect') == 2 and 'width="450.0"' in states and 'x="450.0"' in states
    assert 'aria-label="h&lt;1&gt;"' in states
    assert page.badge('2 <critical>', page.SEVERITY_COLOURS['critical']) == (
        '<span class="sev" style="background:#c62828">2 &lt;critical&gt;</span>')
    assert page.percentile([], 0.5) == 0 and page.percentile([1, 2, 3, 4], 0.5) == 3 and page.percentile([1, 2], 1) == 2


def private_uses(path):
    """``alias._name`` where alias is a module of this collection the file imported: another module's private
    name (as _rollout once took _report._h, with a pylint disable)."""
    with open(path) as handle:
        tree = ast.parse(handle.read(), filename=path)
    aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or '').startswith('ansible_collections.netops.tcp.'):
            aliases.update(a.asname or a.name for a in node.names)
    return sorted('%s.%s' % (node.value.id, node.attr) for node in ast.walk(tree)
                  if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                  and node.attr.startswith('_') and not node.attr.startswith('__'))


def test_controller_code_uses_only_public_names_of_the_modules_it_imports():
    files = sorted(glob.glob(os.path.join(PLUGINS, 'plugin_utils', '*.py')) + glob.glob(os.path.join(PLUGINS, 'action', '*.py')))
    assert len(files) >= 8
    found = dict((os.path.relpath(f, PLUGINS), private_uses(f)) for f in files)
    assert dict((f, uses) for f, uses in found.items() if uses) == {}
