# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One source for each fact the collection states in several places, and a test for each copy
Ansible makes us keep.

- The record path: ``DEFAULT_FACT`` in plugins/module_utils/gather/_host.py. Module documentation,
  role defaults and argument specs must hold literals, so each copy is listed here and compared.
- The collection version: galaxy.yml's ``version``; hosts get it through the generated
  plugins/module_utils/common/_version.py (tools/version.py).
- The lowest ansible-core: meta/runtime.yml's ``requires_ansible``; the roles' ``min_ansible_version``
  and the README's claim follow it.
"""

import ast
import glob
import os
import re
import subprocess
import sys

import yaml

from ansible_collections.netops.tcp.tests.unit.checkout import ROOT, tracked
from ansible_collections.netops.tcp.tests.unit.checkout import load_yaml as _yaml
ROLES = ('audit', 'metrics', 'tune')

# Any local fact path written out (built so that this file does not hold one).
FACT_PATH = re.compile('/etc/ansible/facts' + r'\.d/[A-Za-z0-9_.-]*[A-Za-z0-9_]')

# The files other than prose (*.md, *.rst: docs may keep the path) that hold the record path as a
# literal, and why they cannot take it from DEFAULT_FACT. A new copy fails the test until listed here.
FACT_COPIES = {
    'plugins/doc_fragments/_audit.py': 'module documentation is static YAML (the default of audit_facts and tcp_metrics)',
    'plugins/modules/sysctl_tune.py': 'module documentation is static YAML (its argument spec uses the constant)',
    'roles/audit/defaults/main.yml': 'roles share no variables: each role default is a literal',
    'roles/metrics/defaults/main.yml': 'roles share no variables: each role default is a literal',
    'roles/tune/defaults/main.yml': 'roles share no variables: each role default is a literal (molecule/ reads this one)',
    'roles/audit/meta/argument_specs.yml': 'the documented default of the role variable (static YAML)',
    'roles/metrics/meta/argument_specs.yml': 'the documented default of the role variable (static YAML)',
    'roles/tune/meta/argument_specs.yml': 'the documented default of the role variable (static YAML)',
    'scripts/demo.sh': 'the demo shows the file a user finds on a host',
    # Tests that look at a real host check where the record lands, as a user would.
    'tests/integration/test_audit_facts_netns.py': 'test',
    'tests/integration/test_audit_netns.py': 'test',
    'tests/integration/test_metrics_netns.py': 'test',
    'tests/integration/test_rollout_netns.py': 'test',
    'tests/integration/test_ssh_netns.py': 'test',
    'tests/integration/test_tune_faults_netns.py': 'test',
    'tests/integration/test_tune_netns.py': 'test',
    'tests/vm/test_kernels.py': 'test',
}


def _default_fact():
    """(file, value): DEFAULT_FACT as assigned, once, with a literal under plugins/module_utils/."""
    found = []
    for path in sorted(glob.glob(os.path.join(ROOT, 'plugins', 'module_utils', '**', '*.py'), recursive=True)):
        with open(path) as handle:
            for node in ast.parse(handle.read()).body:
                if isinstance(node, ast.Assign) and [getattr(t, 'id', None) for t in node.targets] == ['DEFAULT_FACT'] \
                        and isinstance(node.value, ast.Constant):
                    found.append((os.path.relpath(path, ROOT), node.value.value))
    assert len(found) == 1, 'DEFAULT_FACT must be set with a literal once under plugins/module_utils/: %r' % found
    return found[0]


def _documentation(name):
    """The DOCUMENTATION string of a module or doc fragment, parsed."""
    with open(os.path.join(ROOT, name)) as handle:
        tree = ast.parse(handle.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and [getattr(t, 'id', None) for t in node.targets] == ['DOCUMENTATION']:
            return yaml.safe_load(ast.literal_eval(node.value))
    raise AssertionError('%s has no DOCUMENTATION' % name)


def test_every_literal_record_path_is_default_fact_and_listed():
    source, fact = _default_fact()
    assert source == 'plugins/module_utils/gather/_host.py'
    assert fact.startswith('/etc/ansible/facts.d/') and fact.endswith('.fact')
    holders, wrong = set(), []
    for name in tracked():
        if name in (source, 'tests/unit/test_one_source.py'):
            continue
        try:
            with open(os.path.join(ROOT, name), encoding='utf-8') as handle:
                text = handle.read()
        except UnicodeDecodeError:
            continue
        for match in FACT_PATH.finditer(text):
            if match.group(0) != fact:
                wrong.append('%s: %s' % (name, match.group(0)))
            if not name.endswith(('.md', '.rst')):
                holders.add(name)
    assert wrong == [], 'record paths other than DEFAULT_FACT (%s)' % fact
    assert sorted(holders - set(FACT_COPIES)) == [], 'new literal copies of the record path: take it from one place or list them'
    assert sorted(set(FACT_COPIES) - holders) == [], 'listed copies that are gone: drop them from FACT_COPIES'


def test_the_defaults_that_must_be_literals_are_default_fact():
    _source, fact = _default_fact()
    for role in ROLES:
        var = 'tcp_%s_fact_path' % role
        assert _yaml('roles/%s/defaults/main.yml' % role)[var] == fact
        assert _yaml('roles/%s/meta/argument_specs.yml' % role)['argument_specs']['main']['options'][var]['default'] == fact
    assert _documentation('plugins/doc_fragments/_audit.py')['options']['fact_path']['default'] == fact
    assert _documentation('plugins/modules/sysctl_tune.py')['options']['fact_path']['default'] == fact
    sys.path.insert(0, os.path.join(ROOT, 'tests'))
    import conftest  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    from ansible_collections.netops.tcp.plugins.module_utils.gather import _host  # pylint: disable=import-outside-toplevel
    assert _host.ARGUMENT_SPEC['fact_path']['default'] == fact


def test_the_molecule_playbooks_take_the_path_from_the_tune_role():
    lookup = "(lookup('ansible.builtin.file', playbook_dir ~ '/../../roles/tune/defaults/main.yml') | from_yaml).tcp_tune_fact_path"
    users = []
    for name in sorted(glob.glob(os.path.join(ROOT, 'molecule', '*', '*.yml'))):
        with open(name) as handle:
            text = handle.read()
        if '__fact_path' in text:
            users.append(os.path.relpath(name, ROOT))
            assert [play['vars']['__fact_path'] for play in yaml.safe_load(text)] == ['{{ %s }}' % lookup]
    assert users == ['molecule/default/side_effect.yml', 'molecule/default/verify.yml', 'molecule/lifecycle/converge.yml',
                     'molecule/lifecycle/verify.yml', 'molecule/rollout/verify.yml']


def test_the_version_modules_record_is_galaxy_yml_s():
    version = _yaml('galaxy.yml')['version']
    proc = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'version.py'), '--check'], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    sys.path.insert(0, os.path.join(ROOT, 'tests'))
    import conftest  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    from ansible_collections.netops.tcp.plugins.module_utils.common import _version  # pylint: disable=import-outside-toplevel
    from ansible_collections.netops.tcp.plugins.modules import sysctl_tune  # pylint: disable=import-outside-toplevel
    assert _version.COLLECTION_VERSION == version
    assert sysctl_tune.COLLECTION_VERSION is _version.COLLECTION_VERSION
    # No module keeps a version of its own.
    for name in glob.glob(os.path.join(ROOT, 'plugins', '**', '*.py'), recursive=True):
        if not name.endswith(os.path.join('common', '_version.py')):
            with open(name) as handle:
                assert not re.search(r'^COLLECTION_VERSION\s*=', handle.read(), re.M), name


def test_version_tool_fails_when_galaxy_yml_moves_on(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, 'tools'))
    import version as tool  # pylint: disable=import-outside-toplevel
    galaxy = tmp_path / 'galaxy.yml'
    galaxy.write_text('namespace: netops\nname: tcp\nversion: 1.2.3\n')
    assert tool.galaxy_version(str(galaxy)) == '1.2.3'
    assert "COLLECTION_VERSION = '1.2.3'\n" in tool.render('1.2.3')
    with open(tool.TARGET) as handle:
        assert handle.read() != tool.render('1.2.3')


def _minimum_core():
    """(major, minor) of meta/runtime.yml's requires_ansible, which must be a plain lower bound."""
    spec = _yaml('meta/runtime.yml')['requires_ansible']
    match = re.match(r'^>=(\d+)\.(\d+)\.(\d+)$', spec.replace(' ', ''))
    assert match, 'requires_ansible should be a lower bound >=X.Y.Z, not %r' % spec
    return spec, (int(match.group(1)), int(match.group(2)))


def test_one_minimum_ansible_core():
    spec, (major, minor) = _minimum_core()
    for role in ROLES:
        claimed = str(_yaml('roles/%s/meta/main.yml' % role)['galaxy_info']['min_ansible_version'])
        assert claimed == '%d.%d' % (major, minor), 'roles/%s/meta/main.yml says %s, meta/runtime.yml %s' % (role, claimed, spec)
    # galaxy.yml states none (Galaxy takes it from meta/runtime.yml).
    with open(os.path.join(ROOT, 'galaxy.yml')) as handle:
        assert not re.search(r'ansible(-core)?\s*[<>=]+\s*\d', handle.read())
    # What the docs claim meta/runtime.yml says.
    docs = ['README.md', 'CONTRIBUTING.md'] + glob.glob(os.path.join(ROOT, 'docs', '**', '*.*'), recursive=True)
    for name in [os.path.join(ROOT, d) for d in docs if os.path.isfile(os.path.join(ROOT, d)) and d.endswith(('.md', '.rst'))]:
        with open(name) as handle:
            for claim in re.findall(r'(?:requires_ansible|meta/runtime\.yml`* claims)[:\s`"\']*(>=\s*[\d.]+)', handle.read()):
                assert claim.replace(' ', '') == spec.replace(' ', ''), '%s claims %s' % (name, claim)
    # The README's first screen: "ansible-core X.Y or later".
    with open(os.path.join(ROOT, 'README.md')) as handle:
        claims = re.findall(r'ansible-core (\d+)\.(\d+) or later', handle.read())
    assert claims and all((int(a), int(b)) == (major, minor) for a, b in claims), claims
    # The ansible-core versions pinned to run the suite are supported ones.
    for name in ('requirements.txt', 'requirements-docs.txt', 'execution-environment.yml'):
        with open(os.path.join(ROOT, name)) as handle:
            for pinned in re.findall(r'ansible-core==(\d+)\.(\d+)', handle.read()):
                assert (int(pinned[0]), int(pinned[1])) >= (major, minor), '%s pins ansible-core %s.%s' % ((name,) + pinned)
