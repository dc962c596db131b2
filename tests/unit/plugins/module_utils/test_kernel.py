# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import pytest

from ansible_collections.netops.tcp.plugins.module_utils.model._kernel import (
    KernelRelease, KernelVersionError, parse_spec, read_release)


@pytest.mark.parametrize('release, version, local, prerelease', [
    ('3.10.0-1160.el7.x86_64', (3, 10, 0), '1160.el7.x86_64', None),
    ('4.19.0-26-amd64', (4, 19, 0), '26-amd64', None),
    ('5.15.0-1051-aws', (5, 15, 0), '1051-aws', None),
    ('6.18.44-fc-v657', (6, 18, 44), 'fc-v657', None),
    ('4.9.0-rc3', (4, 9, 0), 'rc3', 'rc3'),
    ('4.12', (4, 12, 0), '', None),
    ('6.1.0+', (6, 1, 0), '', None),
    ('5.4.0-150-generic\n', (5, 4, 0), '150-generic', None),
])
def test_parses_real_releases(release, version, local, prerelease):
    parsed = KernelRelease(release)
    assert parsed.version == version
    assert parsed.local == local
    assert parsed.prerelease == prerelease


@pytest.mark.parametrize('bad', ['', 'linux', 'v4.9', '-5.10', None])
def test_rejects_unparseable_release(bad):
    with pytest.raises(KernelVersionError, match='cannot parse kernel release'):
        KernelRelease(bad)


@pytest.mark.parametrize('release, other, lt, eq', [
    ('3.10.0-1160.el7.x86_64', '4.12', True, False),
    ('4.11.0', '4.12', True, False),
    ('4.12.0-rc3', '4.12', False, True),  # an rc counts as its final version
    ('4.12.1', '4.12', False, False),
    ('4.19.0-26-amd64', '4.19.0', False, True),
    ('6.18.44-fc-v657', '6.2', False, False),
    ('5.9.0', '5.10', True, False),       # numeric, not lexical
])
def test_compares_numerically(release, other, lt, eq):
    parsed = KernelRelease(release)
    assert (parsed < other) is lt
    assert (parsed == other) is eq
    assert (parsed >= other) is (not lt)


@pytest.mark.parametrize('spec, release, expected', [
    ('<4.12', '3.10.0-1160.el7.x86_64', True),
    ('<4.12', '4.11.12', True),
    ('<4.12', '4.12.0-rc1', False),
    ('>=4.10,<4.12', '4.10.0', True),
    ('>=4.10, <4.12', '4.9.80', False),
    ('>=5.13', '5.15.0-1051-aws', True),
    ('4.19', '4.19.0-26-amd64', True),
    ('!=4.19', '4.19.0-26-amd64', False),
])
def test_matches_specifiers(spec, release, expected):
    assert KernelRelease(release).matches(spec) is expected


@pytest.mark.parametrize('spec', ['~4.12', '<', '>=4.x', '4.12;rm -rf /', '>=4.10 <4.12'])
def test_rejects_bad_specifiers(spec):
    with pytest.raises(KernelVersionError) as exc:
        parse_spec(spec)
    assert str(exc.value) == (
        "invalid kernel version specifier %r: use clauses like '>=4.10' or '<4.12' separated by commas" % spec)


def test_reads_release_from_proc_path(tmp_path):
    (tmp_path / 'sys' / 'kernel').mkdir(parents=True)
    (tmp_path / 'sys' / 'kernel' / 'osrelease').write_text('4.19.0-26-amd64\n')
    assert read_release(str(tmp_path)) == '4.19.0-26-amd64'
