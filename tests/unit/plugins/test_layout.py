# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where code runs is where it lives.

plugins/module_utils holds what the hosts run (modules import it, AnsiballZ ships it);
plugins/plugin_utils what only the controller runs. The imports go one way: nothing under
module_utils imports controller code, and inside module_utils each area imports only itself and the
areas below it. What each module ships is measured with ansible-core's own packer (tools/payload.py).
"""

import ast
import glob
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PLUGINS = os.path.join(ROOT, 'plugins')
PACKAGE = 'ansible_collections.netops.tcp.plugins.'
# The areas of module_utils, lowest first: an area may import itself and those before it.
AREAS = ('common', 'model', 'gather', ('apply', 'judge'))
RANK = dict((area, rank) for rank, group in enumerate(AREAS) for area in ((group,) if isinstance(group, str) else group))
# What each module may ship of this collection (its own file and the module_utils it imports), in bytes
# of source; the packer's measure on 2026-12-03 after the split and the type hints, with room for growth but not
# for a renderer or another area's weight (tcp_metrics shipped the 16 KB HTML report renderer before).
# The census of other network namespaces (gather/_netns.py, _runtimes.py, and the bounded reader of
# common/_files.py and the escapes of common/_text.py that the runtimes' files need) added about 60 KB
# to tcp_facts (123 KB) and 20 KB to the others (audit_facts 197 KB, sysctl_tune 266 KB, tcp_metrics 276 KB).
PAYLOAD_LIMITS = {
    'tcp_facts': 130000,
    'tcp_health_info': 95000,
    'sysctl_facts': 120000,
    'audit_facts': 205000,
    'sysctl_tune': 275000,
    'tcp_metrics': 285000,
}


def _python_files(*parts):
    return sorted(glob.glob(os.path.join(PLUGINS, *parts + ('**', '*.py')), recursive=True))


def imported(path):
    """The netops.tcp modules a file imports, as paths under plugins/ without '.py' (e.g. 'module_utils/gather/_census')."""
    with open(path) as handle:
        tree = ast.parse(handle.read(), filename=path)
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PACKAGE):
            base = node.module[len(PACKAGE):].replace('.', '/')
            # "from package import _module" names a module; "from package._module import name" a name in it
            names = [base + '/' + alias.name if os.path.exists(os.path.join(PLUGINS, base, alias.name + '.py')) else base
                     for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name[len(PACKAGE):].replace('.', '/') for alias in node.names if alias.name.startswith(PACKAGE)]
        found.update(names)
    return found


def _rel(path):
    return os.path.relpath(path, PLUGINS)[:-3]


TARGET = _python_files('module_utils')


def test_module_utils_has_areas_and_every_file_is_in_one():
    areas = set(os.path.relpath(path, PLUGINS).split(os.sep)[1] for path in TARGET)
    assert areas == set(RANK)
    assert len(TARGET) >= 15


@pytest.mark.parametrize('path', TARGET, ids=_rel)
def test_host_code_imports_only_host_code_in_one_direction(path):
    area = _rel(path).split('/')[1]
    for name in imported(path):
        assert name.startswith('module_utils/'), '%s imports %s: code the hosts run must not need the controller' % (_rel(path), name)
        other = name.split('/')[1]
        assert RANK[other] < RANK[area] or other == area, \
            '%s (area %s) imports %s: module_utils areas import only themselves and %s' % (
                _rel(path), area, name, ', '.join(a for a in RANK if RANK[a] < RANK[area]) or 'nothing else')
        assert os.path.exists(os.path.join(PLUGINS, name + '.py')), '%s imports %s, which does not exist' % (_rel(path), name)


def test_host_code_has_no_import_cycle():
    graph = dict((_rel(path), imported(path)) for path in TARGET)
    state = {}

    def visit(node, trail):
        if state.get(node) == 'done':
            return
        assert state.get(node) != 'open', 'import cycle: %s' % ' -> '.join(trail + [node])
        state[node] = 'open'
        for child in sorted(graph.get(node, ())):
            visit(child, trail + [node])
        state[node] = 'done'

    for node in sorted(graph):
        visit(node, [])


def test_controller_code_lives_in_plugin_utils():
    """What only the controller runs (profiles, the fact cache and its groups, the fleet report, its files
    and renderers, the rollout) is not under module_utils, where every module's payload could pick it up."""
    host_side = set(_rel(path) for path in TARGET)
    for name in ('_profile', '_profiles', '_rollout', '_controller', '_cache', '_groups', '_fleet', '_report_files'):
        assert 'plugin_utils/' + name in set(_rel(path) for path in _python_files('plugin_utils'))
        assert not any(path.endswith('/' + name) for path in host_side)
    renderers = [(path, node.name) for path in TARGET if not path.endswith('_text.py')
                 for node in ast.parse(open(path).read()).body
                 if isinstance(node, ast.FunctionDef) and node.name in ('html', 'markdown', 'junit')]
    assert not renderers, 'report renderers under module_utils: %s' % renderers


@pytest.fixture(scope='module')
def packed():
    """tools/payload.py's measure: ansible-core's packer building every module."""
    out = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'payload.py'), '--json'],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def test_every_module_is_measured(packed):
    built = set(name for name, entry in packed.items() if entry is not None)
    assert built == set(PAYLOAD_LIMITS)


@pytest.mark.parametrize('module', sorted(PAYLOAD_LIMITS))
def test_each_module_ships_only_host_code_under_its_limit(packed, module):
    files = packed[module]['files']
    size = sum(files.values())
    assert size <= PAYLOAD_LIMITS[module], '%s ships %d bytes of netops.tcp source, over its limit of %d: %s' % (
        module, size, PAYLOAD_LIMITS[module], ', '.join(sorted(files)))
    assert all(path.startswith(('plugins/module_utils/', 'plugins/modules/')) for path in files), sorted(files)


@pytest.mark.parametrize('module', sorted(PAYLOAD_LIMITS))
def test_the_import_walk_finds_what_the_packer_ships(packed, module):
    """The walk above is the packer's own view: the same files, so what the layout test checks is what ships."""
    todo, seen = ['modules/' + module], set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(imported(os.path.join(PLUGINS, name + '.py')))
    assert set('plugins/%s.py' % name for name in seen) == set(packed[module]['files'])
