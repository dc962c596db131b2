# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The VM tier: tests parametrized by kernel line (--kernel 5.10 --kernel 7.3, default all four),
run kernel after kernel on one VM each; scripts/vm.sh runs two such pytest processes at once."""

import os

import pytest

from ansible_collections.netops.tcp.tests.vm.harness import VM, VM_CACHE, acceleration, releases

_CURRENT = {}


def pytest_addoption(parser):
    parser.addoption('--kernel', action='append', default=[], help='kernel line to test (5.10, 6.1, 6.12, 7.3)')


def _lines(config):
    available = releases() if os.path.isdir(os.path.join(VM_CACHE, 'boot')) else {}
    wanted = config.getoption('kernel') or sorted(available, key=lambda line: tuple(int(p) for p in line.split('.')))
    missing = [line for line in wanted if line not in available]
    if missing:
        raise pytest.UsageError('no kernel %s in %s: run scripts/vm-image.sh (kernels there: %s)'
                                % (', '.join(missing), VM_CACHE, ', '.join(sorted(available)) or 'none'))
    return wanted


def pytest_report_header(config):
    if acceleration() == 'kvm':
        how = 'KVM'
    elif os.path.exists('/dev/kvm'):
        how = 'software emulation (TCG): /dev/kvm does not run a stock kernel here'
    else:
        how = 'software emulation (TCG): no /dev/kvm'
    return 'VM tier: kernels %s under %s' % (', '.join(_lines(config)), how)


def pytest_configure(config):
    config.addinivalue_line('markers', 'kernels(*lines): run only on these kernel lines')


def pytest_generate_tests(metafunc):
    if 'vm' in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker('kernels')
        lines = [line for line in _lines(metafunc.config) if not only or line in only.args]
        metafunc.parametrize('vm', lines, indirect=True, ids=lines)


def pytest_collection_modifyitems(config, items):
    """Kernel after kernel (each VM boots once), tests in file order within a kernel; a test whose
    kernels are none of those asked for is deselected (not an empty 'skipped' case)."""
    unasked = [item for item in items if 'vm' in getattr(item, 'fixturenames', ())
               and not isinstance(getattr(getattr(item, 'callspec', None), 'params', {}).get('vm'), str)]
    if unasked:
        config.hook.pytest_deselected(items=unasked)
        items[:] = [item for item in items if item not in unasked]
    if os.geteuid() != 0:
        for item in items:
            item.add_marker(pytest.mark.xfail(reason='needs root (QEMU, namespaces)', run=False, strict=True))
    order = {}

    def kernel(item):
        line = getattr(item, 'callspec', None) and item.callspec.params.get('vm')
        return order.setdefault(line, len(order))
    items.sort(key=kernel)


@pytest.fixture
def vm(request, tmp_path_factory):
    """The running VM of this kernel line: booted on first use, stopped when the next line starts."""
    line = request.param
    current = _CURRENT.get('vm')
    if current is None or current.line != line:
        if current is not None:
            current.stop()
        _CURRENT['vm'] = None
        print('\nbooting Linux %s (%s) under %s' % (line, releases()[line], acceleration()))
        _CURRENT['vm'] = VM(line, str(tmp_path_factory.mktemp('vm-%s' % line))).start()
    return _CURRENT['vm']


def pytest_sessionfinish(session):
    current = _CURRENT.pop('vm', None)
    if current is not None:
        current.stop()
