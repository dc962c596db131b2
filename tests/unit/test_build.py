# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tarball `ansible-galaxy collection build` makes holds what users need and nothing a checkout
collects (venvs, the docs build, caches, reports, Molecule, developer tools): galaxy.yml's build_ignore."""

import os
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

from ansible_collections.netops.tcp.tests.unit.checkout import ROOT
from ansible_collections.netops.tcp.tests.unit.checkout import tracked as tracked_files


# Everything at the top of the tarball: the two files the build writes and what users get.
SHIPPED = {
    'MANIFEST.json', 'FILES.json',
    'README.md', 'CHANGELOG.rst', 'COPYING', '.ansible-lint',  # the Galaxy importer lints with our config
    'meta', 'plugins', 'roles', 'playbooks', 'profiles',
    'audit-tcp.yml', 'metrics-tcp.yml', 'tune-tcp.yml',
    'docs', 'examples', 'prometheus', 'changelogs',
    'execution-environment.yml', 'requirements.txt',
    'tests',  # ansible-test sanity and the Galaxy importer read tests/sanity/ignore-*.txt
}
# Shipped when the checkout has it (the README's developer notes are moving out to it).
SHIPPED_IF_TRACKED = {'CONTRIBUTING.md'}

# Tracked, but for developers only.
LEFT_OUT = ['molecule', 'scripts', 'tools', 'bench', '.ci', '.gitignore', 'requirements-test.txt', 'requirements-docs.txt']

# What a checkout collects, planted in the copy before the build.
JUNK = [
    '.venv/bin/python', '.venv-docs/lib/x.py', 'venv/x', 'build/docs/html/index.html', '.cache/x',
    '.pytest_cache/v/cache/nodeids', 'tests/.pytest_cache/x', '.hypothesis/examples/x', 'tests/unit/.hypothesis/x',
    '.mypy_cache/x.json', 'plugins/.mypy_cache/x', '.ruff_cache/x', '.nox/x', '.coverage', 'htmlcov/index.html',
    'tests/output/junit/x.xml', 'collections/ansible_collections/x', 'tcp-audit-report/report.json',
    'tcp-tune-report/rollout.json', 'examples/inventory/facts-cache/web1', 'changelogs/.plugin-cache.yaml',
    'netops-tcp-0.0.1.tar.gz', 'plugins/modules/__pycache__/x.cpython-311.pyc', 'plugins/modules/x.pyc',
    'roles/tune/tasks/main.yml.swp', 'roles/tune/tasks/main.yml~', 'plugins/x.py.orig', 'plugins/x.py.rej',
    '.DS_Store', 'roles/.DS_Store', '.idea/workspace.xml', '.vscode/settings.json', '.git',
    'ruff.toml', 'pyproject.toml', 'mypy.ini', '.yamllint', 'noxfile.py', 'antsibull-nox.toml', '.pre-commit-config.yaml',
]


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    """(names in the tarball, tracked files) of a build from a copy of the tracked files plus JUNK."""
    tracked = tracked_files()
    src = tmp_path_factory.mktemp('checkout') / 'ansible_collections' / 'netops' / 'tcp'
    for name in tracked:
        os.makedirs(os.path.dirname(str(src / name)), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, name), str(src / name))
    for name in JUNK:
        if name in tracked:  # a lint config the checkout has (pyproject.toml, .yamllint): tracked, never shipped
            continue
        os.makedirs(os.path.dirname(str(src / name)), exist_ok=True)
        (src / name).write_text('junk\n')
    out = tmp_path_factory.mktemp('out')
    galaxy = os.path.join(os.path.dirname(sys.executable), 'ansible-galaxy')
    proc = subprocess.run([galaxy, 'collection', 'build', '--output-path', str(out), str(src)],
                          capture_output=True, text=True, check=False, env=dict(os.environ, ANSIBLE_NOCOLOR='1'))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    version = yaml.safe_load((src / 'galaxy.yml').read_text())['version']
    with tarfile.open(str(out / ('netops-tcp-%s.tar.gz' % version))) as tar:
        return [member.name for member in tar.getmembers()], tracked


def test_the_tarball_holds_exactly_the_shipped_top_level_entries(built):
    names, tracked = built
    top = set(name.split('/', 1)[0] for name in names)
    assert top == SHIPPED | (SHIPPED_IF_TRACKED & set(tracked))


def test_no_junk_and_no_developer_files(built):
    names, _tracked = built
    for junk in JUNK + LEFT_OUT:
        assert [n for n in names if n == junk or n.startswith(junk + '/')] == [], junk
    for part in ('.pytest_cache', '.hypothesis', '.mypy_cache', '__pycache__', '.DS_Store'):
        assert [n for n in names if part in n.split('/')] == [], part
    assert [n for n in names if n.endswith(('.pyc', '.swp', '~', '.orig', '.rej', '.tar.gz'))] == []


def test_every_tracked_file_of_a_shipped_entry_is_in_it(built):
    names, tracked = built
    ignored = ('tests/output/',)
    wanted = sorted(n for n in tracked if n.split('/', 1)[0] in SHIPPED and not n.startswith(ignored))
    assert sorted(set(wanted) - set(names)) == []
    # The ones users run, by name.
    for name in ('meta/runtime.yml', 'plugins/modules/tcp_health_info.py', 'plugins/module_utils/common/_version.py',
                 'plugins/doc_fragments/_attributes.py', 'roles/tune/tasks/main.yml', 'profiles/CHECKSUMS.sha256',
                 'tests/sanity/ignore-2.19.txt', 'examples/inventory/hosts.yml'):
        assert name in names
