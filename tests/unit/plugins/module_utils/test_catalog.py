# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import pytest

from ansible_collections.netops.tcp.plugins.module_utils.model import _catalog as catalog
from ansible_collections.netops.tcp.plugins.module_utils.model._kernel import KernelRelease


# Every key the design, the field notes' incident list and the shipped profiles name.
REQUIRED = [
    'net.ipv4.tcp_tw_recycle', 'net.ipv4.tcp_tw_reuse', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_max_tw_buckets',
    'net.ipv4.tcp_max_syn_backlog', 'net.ipv4.tcp_syncookies', 'net.ipv4.tcp_synack_retries',
    'net.ipv4.tcp_syn_retries', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_keepalive_probes',
    'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_retries2', 'net.ipv4.tcp_max_orphans', 'net.ipv4.tcp_mem',
    'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_local_reserved_ports',
    'net.core.somaxconn', 'net.core.netdev_max_backlog', 'net.netfilter.nf_conntrack_max',
    'net.ipv4.tcp_timestamps',
]


@pytest.mark.parametrize('key', REQUIRED)
def test_catalog_has_every_profile_key(key):
    assert catalog.lookup(key)['key'] == key


@pytest.mark.parametrize('entry', catalog.CATALOG.values(), ids=lambda e: e['key'])
def test_entries_are_well_formed(entry):
    assert entry['type'] in (catalog.INT, catalog.BOOL, catalog.VECTOR, catalog.PORT_RANGE,
                             catalog.PORT_LIST, catalog.STRING)
    assert entry['doc'].endswith('.') or entry['doc'].endswith(')')
    for version in [entry['added'], entry['removed'], entry['netns_readonly_since']]:
        if version:
            KernelRelease(version)
    for since, until in entry['netns']:
        assert since is None or KernelRelease(since)
        assert until is None or KernelRelease(until)
    for since, value, _note in entry['defaults']:
        KernelRelease(since)
        if value is not None:
            catalog.validate(entry['key'], value, entry)
    if entry['type'] == catalog.VECTOR:
        assert entry['length'] == 3


@pytest.mark.parametrize('alias', [
    'net.ipv4.ip_conntrack_max', 'net.ipv4.netfilter.ip_conntrack_max', 'net.nf_conntrack_max',
    'net/netfilter/nf_conntrack_max',
])
def test_conntrack_aliases_resolve_to_one_key(alias):
    assert catalog.canonical(alias) == 'net.netfilter.nf_conntrack_max'


@pytest.mark.parametrize('key, version, visible', [
    ('net.ipv4.tcp_tw_recycle', '4.10.17', False),   # global before 4.11
    ('net.ipv4.tcp_tw_recycle', '4.11.0', True),     # per-netns only in 4.11
    ('net.ipv4.tcp_tw_recycle', '4.12.0', False),    # removed
    ('net.ipv4.tcp_tw_reuse', '4.9.80', False),
    ('net.ipv4.tcp_tw_reuse', '4.10.17', True),
    ('net.ipv4.tcp_keepalive_time', '4.4.155', False),
    ('net.ipv4.tcp_keepalive_time', '4.5.0', True),
    ('net.ipv4.tcp_rmem', '4.14.5', False),
    ('net.ipv4.tcp_rmem', '4.15.0', True),
    ('net.ipv4.tcp_mem', '3.10.0-1160.el7.x86_64', True),
    ('net.ipv4.tcp_mem', '3.13.10', False),
    ('net.ipv4.tcp_max_orphans', '6.18.44', False),
    ('net.core.netdev_max_backlog', '5.15.0', False),
    ('net.core.somaxconn', '3.10.0', True),
    ('net.ipv4.ip_local_port_range', '3.11.0', False),
    ('net.ipv4.ip_local_port_range', '3.13.0', True),
    ('net.netfilter.nf_conntrack_max', '6.1.20', True),
    ('net.ipv4.tcp_tw_reuse_delay', '6.18.44', True),
    ('net.ipv4.tcp_rto_max_ms', '6.18.44', True),
])
def test_namespace_scope_by_kernel(key, version, visible):
    assert catalog.per_netns(catalog.lookup(key), KernelRelease(version)) is visible


@pytest.mark.parametrize('key, version, exists', [
    ('net.ipv4.tcp_tw_recycle', '4.11.0', True),
    ('net.ipv4.tcp_tw_recycle', '4.12.0-rc3', False),
    ('net.ipv4.ip_unprivileged_port_start', '4.10.17', False),
    ('net.core.default_qdisc', '3.11.0', False),
    ('net.core.default_qdisc', '3.13.0', True),
    ('net.ipv4.tcp_tw_reuse_delay', '6.13.12', False),
    ('net.ipv4.tcp_tw_reuse_delay', '6.14.0', True),
    ('net.ipv4.tcp_rto_max_ms', '6.14.11', False),
    ('net.ipv4.tcp_rto_max_ms', '6.15.0', True),
])
def test_existence_by_kernel(key, version, exists):
    assert catalog.exists_on(catalog.lookup(key), KernelRelease(version)) is exists


@pytest.mark.parametrize('key, version, value', [
    ('net.core.somaxconn', '4.19.0', 128),
    ('net.core.somaxconn', '5.4.0', 4096),
    ('net.ipv4.tcp_tw_reuse', '4.17.0', 0),
    ('net.ipv4.tcp_tw_reuse', '4.18.0', 2),
    ('net.ipv4.ip_local_port_range', '4.1.3', [32768, 61000]),
    ('net.ipv4.ip_local_port_range', '4.4.155', [32768, 60999]),
    ('net.ipv4.tcp_rmem', '4.19.78', [4096, 87380, 6291456]),
    ('net.ipv4.tcp_rmem', '4.20.0', [4096, 131072, 6291456]),
    ('net.ipv4.tcp_rmem', '6.15.9', [4096, 131072, 6291456]),
    ('net.ipv4.tcp_rmem', '6.16.0', [4096, 131072, 33554432]),
    ('net.ipv4.tcp_tw_reuse_delay', '6.14.0', 1000),
    ('net.ipv4.tcp_rto_max_ms', '6.15.0', 120000),
    ('net.ipv4.tcp_max_orphans', '6.18.0', None),  # the kernel sizes it from memory
])
def test_defaults_by_kernel(key, version, value):
    assert catalog.default_for(catalog.lookup(key), KernelRelease(version)) == value


GB = 1024 ** 3
MB = 1024 ** 2
BIG = {'ehash': 262144, 'mem_total': 16 * GB}   # a 16 GB server
SMALL = {'ehash': 8192, 'mem_total': 1 * GB}     # a 1 GB VM


@pytest.mark.parametrize('key, text, version, host, lower', [
    ('net.ipv4.tcp_rmem', '4096 131072 16777216', '6.16.0', BIG, (16777216, 33554432)),
    ('net.ipv4.tcp_rmem', '4096 131072 16777216', '6.15.9', BIG, None),    # raises the 6 MB of 4.20-6.15
    ('net.ipv4.tcp_rmem', '4096 131072 16777216', '6.16.0', SMALL, None),  # 1 GB/128 = 8 MB is this host's default
    ('net.ipv4.tcp_rmem', '4096 131072 4194304', '6.16.0', SMALL, (4194304, 7549747)),  # 90 % of 1 GB / 128
    ('net.ipv4.tcp_rmem', '4096 131072 33554432', '6.18.44', BIG, None),
    ('net.ipv4.tcp_rmem', '4096 131072 16777216', '6.18.44', {}, None),     # memory unknown: no verdict
    ('net.ipv4.tcp_wmem', '4096 16384 2097152', '6.1.0', BIG, (2097152, 4194304)),
    ('net.core.somaxconn', '1024', '5.4.0', {}, (1024, 4096)),             # the old "raise it to 1024" advice
    ('net.core.somaxconn', '1024', '5.3.18', {}, None),
    ('net.ipv4.tcp_fin_timeout', '15', '6.18.0', BIG, None),               # lower than 60 on purpose: not raise_only
    ('net.ipv4.tcp_max_tw_buckets', '36000', '6.1.0', BIG, (36000, 131072)),  # the field notes' incident value
    ('net.ipv4.tcp_max_tw_buckets', '6000', '6.1.0', SMALL, None),             # 4096 is this VM's default
    ('net.ipv4.tcp_max_syn_backlog', '1024', '6.1.0', BIG, (1024, 2048)),
    ('net.ipv4.tcp_max_syn_backlog', '1024', '5.3.0', BIG, None),
    ('net.netfilter.nf_conntrack_max', '196608', '6.1.0', BIG, (196608, 262144)),  # the incident's 196608
    ('net.netfilter.nf_conntrack_max', '196608', '5.10.0', BIG, (196608, 262144)),       # 4 x 65536 before 5.15
    ('net.netfilter.nf_conntrack_max', '196608', '6.1.0', dict(BIG, mem_total=2 * GB), None),  # 65536: a raise there
    ('net.netfilter.nf_conntrack_max', '196608', '6.1.0', SMALL, None),
])
def test_a_value_below_the_kernels_own_default(key, text, version, host, lower):
    value = catalog.parse(key, text)
    assert catalog.lowers(key, value, KernelRelease(version), host) == lower


def test_host_context_from_facts():
    def key(value):
        return {'available': True, 'value': value}
    facts = {'kernel': {'mem_total': 16 * GB},
             'keys': {'net.ipv4.tcp_ehash_entries': key(-262144), 'net.netfilter.nf_conntrack_buckets': key(65536),
                      'net.ipv4.tcp_mem': key([1, 2, 3])}}  # tunable: never taken for the kernel's own
    assert catalog.host_context(facts) == {'ehash': 262144, 'mem_total': 16 * GB}
    facts['kernel']['mem_total'] = float('inf')  # a hostile cache: ignored
    assert catalog.host_context(facts) == {'ehash': 262144, 'mem_total': None}
    assert catalog.host_context(None) == {'ehash': None, 'mem_total': None}


@pytest.mark.parametrize('release, mem_total, buckets', [
    ('5.10.0', 16 * GB, 65536), ('5.10.0', 2 * GB, 16384), ('5.10.0', GB, 8192),
    ('6.1.0', 16 * GB, 262144), ('6.1.0', 2 * GB, 65536), ('6.1.0', GB // 2, 4096), ('6.1.0', 64 * MB, 1024),
    ('7.3.4', 1007980544, 8192), ('5.10.0', 8 * MB, 512),  # a 1 GiB QEMU guest: 7690 rounded up to pages of heads
])
def test_conntrack_buckets_as_the_kernel_sizes_them(release, mem_total, buckets):
    assert catalog.conntrack_buckets(KernelRelease(release), mem_total) == buckets


@pytest.mark.parametrize('key, text, found', [
    ('net.ipv4.tcp_tw_recycle', '1', ['critical']),
    ('net.ipv4.tcp_timestamps', '0', ['warning']),
    ('net.ipv4.tcp_timestamps', '1', []),
    ('net.ipv4.tcp_syncookies', '0', ['warning']),
    ('net.ipv4.tcp_retries2', '5', ['warning']),
    ('net.ipv4.tcp_retries2', '8', []),
    ('net.ipv4.tcp_syn_retries', '1', ['warning']),
    ('net.ipv4.tcp_synack_retries', '1', ['warning']),
    ('net.ipv4.tcp_synack_retries', '2', []),
    ('net.ipv4.tcp_abort_on_overflow', '1', ['warning']),
    ('net.ipv4.tcp_sack', '0', ['warning']),
    ('net.ipv4.tcp_window_scaling', '0', ['warning']),
    ('net.ipv4.ip_local_port_range', '1024 65000', ['warning']),   # same parity: 65000 is never used by connect()
    ('net.ipv4.ip_local_port_range', '15000 65000', ['warning']),
    ('net.ipv4.ip_local_port_range', '32768 60999', []),
])
def test_risky_values_are_catalog_data(key, text, found):
    result = catalog.risky(key, catalog.parse(key, text))
    assert [severity for severity, _message, _expected in result] == found
    for _severity, message, _expected in result:
        assert catalog.normalise(text) in message or text in message


@pytest.mark.parametrize('key, raw, value', [
    ('net.ipv4.tcp_rmem', '4096\t131072\t6291456\n', [4096, 131072, 6291456]),
    ('net.ipv4.tcp_mem', '786432 1048576   1572864', [786432, 1048576, 1572864]),
    ('net.ipv4.ip_local_port_range', '32768\t60999', [32768, 60999]),
    ('net.ipv4.ip_local_reserved_ports', '8080,9000-9010\n', [[8080, 8080], [9000, 9010]]),
    ('net.ipv4.ip_local_reserved_ports', '\n', []),
    ('net.ipv4.tcp_fin_timeout', ' 30\n', 30),
    ('net.ipv4.tcp_congestion_control', 'bbr\n', 'bbr'),
])
def test_parse_normalises_whitespace_and_types(key, raw, value):
    assert catalog.parse(key, raw) == value


@pytest.mark.parametrize('key, raw, message', [
    ('net.ipv4.tcp_rmem', '4096 131072', "net.ipv4.tcp_rmem: '4096 131072' has 2 values, 3 expected (min default max)"),
    ('net.ipv4.tcp_fin_timeout', 'thirty', "net.ipv4.tcp_fin_timeout: 'thirty' is not an integer (one integer expected)"),
    ('net.ipv4.ip_local_port_range', '1024', "net.ipv4.ip_local_port_range: '1024' must be two ports, \"low high\""),
])
def test_parse_errors_name_key_and_rule(key, raw, message):
    with pytest.raises(catalog.CatalogError) as exc:
        catalog.parse(key, raw)
    assert str(exc.value) == message


@pytest.mark.parametrize('key, value, message', [
    ('net.ipv4.tcp_tw_recycle', 2, 'net.ipv4.tcp_tw_recycle: 2 must be 0 or 1'),
    ('net.ipv4.tcp_tw_recycle', True, 'net.ipv4.tcp_tw_recycle: True must be 0 or 1'),
    ('net.ipv4.tcp_tw_reuse', 3, 'net.ipv4.tcp_tw_reuse: 3 is out of range 0..2'),
    ('net.ipv4.tcp_syn_retries', 0, 'net.ipv4.tcp_syn_retries: 0 is out of range 1..127'),
    ('net.ipv4.tcp_synack_retries', 256, 'net.ipv4.tcp_synack_retries: 256 is out of range 0..255'),
    # The kernel's own limits, probed on 6.18: 1..60000 and 1000..120000 (ms).
    ('net.ipv4.tcp_tw_reuse_delay', 0, 'net.ipv4.tcp_tw_reuse_delay: 0 is out of range 1..60000'),
    ('net.ipv4.tcp_tw_reuse_delay', 60001, 'net.ipv4.tcp_tw_reuse_delay: 60001 is out of range 1..60000'),
    ('net.ipv4.tcp_rto_max_ms', 999, 'net.ipv4.tcp_rto_max_ms: 999 is out of range 1000..120000'),
    ('net.ipv4.tcp_rto_max_ms', 120001, 'net.ipv4.tcp_rto_max_ms: 120001 is out of range 1000..120000'),
    ('net.ipv4.tcp_rmem', [8192, 4096, 16384],
     'net.ipv4.tcp_rmem: 8192 4096 16384: values must not decrease (min <= default <= max)'),
    ('net.ipv4.tcp_wmem', [0, 4096, 16384], 'net.ipv4.tcp_wmem: 0 is out of range 1..2147483647'),
    ('net.ipv4.ip_local_port_range', [65000, 1024], 'net.ipv4.ip_local_port_range: 65000 1024: low must not be above high'),
    ('net.ipv4.ip_local_port_range', [0, 1024], 'net.ipv4.ip_local_port_range: 0 is out of range 1..65535'),
    ('net.ipv4.ip_local_reserved_ports', [[9010, 9000]], 'net.ipv4.ip_local_reserved_ports: range 9010-9000: low must not be above high'),
    ('net.ipv4.tcp_fin_timeout', '30', "net.ipv4.tcp_fin_timeout: '30' is not an integer"),
    ('net.ipv4.tcp_congestion_control', 'bbr\nnet.ipv4.tcp_syncookies=0',
     "net.ipv4.tcp_congestion_control: 'bbr\\nnet.ipv4.tcp_syncookies=0' must be one word of at most 15 characters"),
    ('net.ipv4.tcp_congestion_control', 'cubic#x', "net.ipv4.tcp_congestion_control: 'cubic#x' must be one word of at most 15 characters"),
])
def test_validate_errors_name_key_and_rule(key, value, message):
    with pytest.raises(catalog.CatalogError) as exc:
        catalog.validate(key, value)
    assert str(exc.value) == message


@pytest.mark.parametrize('key, value, text', [
    ('net.ipv4.tcp_rmem', [4096, 131072, 16777216], '4096 131072 16777216'),
    ('net.ipv4.ip_local_reserved_ports', [[8080, 8080], [9000, 9010]], '8080,9000-9010'),
    ('net.ipv4.tcp_fin_timeout', 30, '30'),
])
def test_format_round_trips(key, value, text):
    entry = catalog.lookup(key)
    assert catalog.format_value(value, entry) == text
    assert catalog.parse(key, text) == value


@pytest.mark.parametrize('key, parts', [
    ('net.ipv4.tcp_rmem', ['net', 'ipv4', 'tcp_rmem']),
    ('net/ipv4/tcp_rmem', ['net', 'ipv4', 'tcp_rmem']),
    ('net/ipv4/conf/eth0.100/rp_filter', ['net', 'ipv4', 'conf', 'eth0.100', 'rp_filter']),
    ('net.ipv4.conf.br-lan.rp_filter', ['net', 'ipv4', 'conf', 'br-lan', 'rp_filter']),
])
def test_split_key_accepts_sysctl_names(key, parts):
    assert catalog.split_key(key) == parts


@pytest.mark.parametrize('key', [
    '../../etc/shadow', 'net/../../../etc/shadow', 'net.ipv4..tcp_rmem', '/etc/passwd', 'net/ipv4/./tcp_rmem',
    'net.ipv4.tcp_rmem\n', 'net.ipv4.tcp rmem', 'net.ipv4.tcp_rmem=1', 'net/ipv4/conf/../../../../etc',
    'net.ipv4.*', '', 'net\x00ipv4',
])
def test_split_key_refuses_anything_that_could_leave_proc_sys(key):
    with pytest.raises(catalog.CatalogError) as exc:
        catalog.split_key(key)
    assert str(exc.value).startswith('sysctl key %r: ' % key)


def test_lookup_unknown_key_names_it():
    with pytest.raises(catalog.CatalogError) as exc:
        catalog.lookup('net.ipv4.tcp_made_up')
    assert str(exc.value) == "sysctl key 'net.ipv4.tcp_made_up': not in the netops.tcp catalog"


# The kernel prints port lists from a bitmap: sorted, adjacent and overlapping ranges joined.
SAME = [
    ('net.ipv4.ip_local_reserved_ports', '8080,8081', '8080-8081'),
    ('net.ipv4.ip_local_reserved_ports', '9005-9020,9000-9010,8080', '8080,9000-9020'),
    ('net.ipv4.ip_local_reserved_ports', '8080, 8082', '8080,8082'),
    ('net.ipv4.ip_local_reserved_ports', '', ''),
    ('net.ipv4.tcp_rmem', '4096\t131072  6291456', '4096 131072 6291456'),
    ('net.ipv4.ip_local_port_range', '32768\t60999', '32768 60999'),
    ('net.ipv4.tcp_fin_timeout', '030', '30'),
    ('net.ipv4.tcp_congestion_control', ' cubic ', 'cubic'),
    ('net.ipv4.not_in_catalog', 'a\t b', 'a b'),
]


@pytest.mark.parametrize('key, written, reported', SAME)
def test_one_definition_of_the_same_value(key, written, reported):
    assert catalog.canonical_text(key, written) == reported
    assert catalog.same(key, written, reported) and catalog.same(key, reported, written)


def test_different_values_are_not_the_same():
    assert not catalog.same('net.ipv4.ip_local_reserved_ports', '8080,8082', '8080-8082')
    assert not catalog.same('net.ipv4.tcp_rmem', '4096 131072 6291456', '4096 131072 6291457')
    # Text that does not parse is only the same as identical text.
    assert catalog.same('net.ipv4.tcp_fin_timeout', 'x', 'x') and not catalog.same('net.ipv4.tcp_fin_timeout', 'x', '30')


def test_merge_ranges():
    assert catalog.merge_ranges([[9000, 9010], [8080, 8080], [8081, 8081], [9011, 9011], [9005, 9006]]) == \
        [[8080, 8081], [9000, 9011]]
    assert catalog.format_value([[8081, 8081], [8080, 8080]], catalog.CATALOG['net.ipv4.ip_local_reserved_ports']) == '8080-8081'


CHECK_TEXT = [
    ('net.ipv4.tcp_fin_timeout', '30\nnet.ipv4.tcp_syncookies = 0',
     "net.ipv4.tcp_fin_timeout: '30\\nnet.ipv4.tcp_syncookies = 0' must be one line of text without \"=\", \"#\", \";\" "
     "or runs of spaces"),
    ('net.ipv4.tcp_fin_timeout', '0', 'net.ipv4.tcp_fin_timeout: 0 is out of range 1..2147483'),
    ('net.ipv4.tcp_rmem', '1 2', "net.ipv4.tcp_rmem: '1 2' has 2 values, 3 expected (min default max)"),
    ('net.ipv4.ip_conntrack_max', '1', "sysctl key 'net.ipv4.ip_conntrack_max': not a canonical name (net.netfilter.nf_conntrack_max)"),
    ('../../etc/shadow', '1', "sysctl key '../../etc/shadow': each part must be letters, digits, \"_\", \"-\" or \":\", and no "
                              "part may be empty, \".\" or \"..\" (keys are names under /proc/sys, not paths)"),
    ('net.ipv4.tcp_fin_timeout', 30, "net.ipv4.tcp_fin_timeout: 30 must be one line of text without \"=\", \"#\", \";\" or runs of spaces"),
]


@pytest.mark.parametrize('key, text, message', CHECK_TEXT)
def test_saved_text_is_checked_as_strictly_as_input(key, text, message):
    with pytest.raises(catalog.CatalogError) as exc:
        catalog.check_text(key, text)
    assert str(exc.value) == message


def test_saved_text_comes_back_canonical():
    assert catalog.check_text('net.ipv4.ip_local_reserved_ports', '8080,8081') == '8080-8081'
    assert catalog.check_text('net.ipv4.not_in_catalog', 'abc') == 'abc'


@pytest.mark.parametrize('tool', ['catalog_doc.py', 'kernel_doc.py'])
def test_the_generated_docs_are_what_their_sources_give(tool):
    # docs/catalog.md from the catalog, docs/kernels.md from what the VM tier saw (tests/vm/observed).
    import subprocess  # pylint: disable=import-outside-toplevel
    import sys  # pylint: disable=import-outside-toplevel
    root = __file__.rsplit('/tests/', 1)[0]
    proc = subprocess.run([sys.executable, root + '/tools/' + tool, '--check'], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize('release, readonly', [('5.4.0', False), ('5.10.0', True), ('5.12.0', False), ('5.13.0', True),
                                               ('7.3.4', True)])
def test_conntrack_max_read_only_in_a_container_from_5_13_and_in_5_10_stable(release, readonly):
    # Debian's 5.10.0-32 refuses the write in a new network namespace (the VM tier, tests/vm).
    entry = catalog.lookup('net.netfilter.nf_conntrack_max')
    assert catalog.readonly_in_netns(entry, KernelRelease(release)) is readonly


def test_the_read_only_reason_names_the_stable_line_that_has_it():
    from ansible_collections.netops.tcp.plugins.module_utils.gather import _sysctl as sysctl  # pylint: disable=import-outside-toplevel
    entry = catalog.lookup('net.netfilter.nf_conntrack_max')
    assert sysctl.readonly_reason(entry, KernelRelease('5.10.0-32-cloud-amd64'), False) == (
        "read-only in a network namespace since Linux 5.13 (and in the 5.10 stable line): the value is the host's")
    assert sysctl.readonly_reason(entry, KernelRelease('6.1.0'), False) == (
        "read-only in a network namespace since Linux 5.13: the value is the host's")
