# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalog, the profiles, persistence across real reboots and the IPVS census on Debian's real
kernels (5.10, 6.1, 6.12, 7.3), each in a QEMU VM reached by Ansible over SSH.

Ground truth is what each kernel shows: /proc/sys read and written in the VM and in a new network
namespace in it (sysctl_probe.py, none of the collection's code), values after a real reboot,
`ipvsadm -Lnc` and the connections the test itself holds open.
"""

import json
import os

import pytest

from ansible_collections.netops.tcp.plugins.module_utils.model import _catalog as catalog
from ansible_collections.netops.tcp.plugins.module_utils.model._kernel import KernelRelease
from ansible_collections.netops.tcp.tests.vm.harness import ROOT, VM_CACHE

HERE = os.path.dirname(os.path.abspath(__file__))
OBSERVED = os.path.join(HERE, 'observed')
PROFILES = [(name, int(version[1:-4])) for name in sorted(os.listdir(os.path.join(ROOT, 'profiles')))
            if os.path.isdir(os.path.join(ROOT, 'profiles', name))
            for version in sorted(os.listdir(os.path.join(ROOT, 'profiles', name))) if version.endswith('.yml')]
DROPIN = '/etc/sysctl.d/60-netops-tcp.conf'
FACT = '/etc/ansible/facts.d/netops_tcp.fact'
MODULES_FILE = '/etc/modules-load.d/netops-tcp.conf'
# Relative error allowed where the catalog says its default is an estimate (buffer maximums sized
# by the kernel from free buffer pages, estimated from MemTotal).
ESTIMATE = 0.05


def probe(vm):
    """What the kernel shows of every catalog key (sysctl_probe.py), nf_conntrack loaded first."""
    vm.sh('modprobe nf_conntrack')
    specs = [{'key': key, 'names': catalog.names(entry), 'type': entry['type'], 'min': entry['min'],
              'max': entry['max']} for key, entry in sorted(catalog.CATALOG.items())]
    return vm.python(os.path.join(HERE, 'sysctl_probe.py'), json.dumps(specs))


def host_of(observed):
    ehash = observed['keys']['net.ipv4.tcp_ehash_entries']['initial']
    return {'ehash': abs(int(ehash)) if ehash else None, 'mem_total': observed['mem_total']}


def claims(entry, release, host):
    """What the catalog says a kernel of ``release`` shows of ``entry`` on this host."""
    exists = catalog.exists_on(entry, release)
    readonly_child = entry['read_only'] or catalog.readonly_in_netns(entry, release)
    visible_child = exists and (catalog.per_netns(entry, release) or readonly_child and bool(entry['netns_readonly_since']))
    return {'exists': exists, 'visible_child': visible_child, 'readonly_child': readonly_child if visible_child else None,
            'default': catalog.kernel_default(entry, release, host) if exists else None}


def same_default(entry, claimed, raw):
    value = catalog.parse(entry['key'], raw, entry)
    if entry['computed'] in ('rmem', 'wmem'):  # the maximum is an estimate
        return value[:2] == claimed[:2] and abs(value[2] - claimed[2]) <= ESTIMATE * claimed[2]
    return value == claimed


def contradictions(observed):
    """Every catalog claim this kernel contradicts, one line each naming key, kernel and both values."""
    release = KernelRelease(observed['release'])
    host = host_of(observed)
    found = []
    for key, entry in sorted(catalog.CATALOG.items()):
        seen, claim = observed['keys'][key], claims(entry, release, host)
        where = '%s on Linux %s' % (key, observed['release'])
        if claim['exists'] != (seen['name'] is not None):
            found.append('%s: the catalog says it %s, the kernel %s' % (
                where, 'exists' if claim['exists'] else 'does not exist',
                'has it (%s = %s)' % (seen['name'], seen['initial']) if seen['name'] else 'has no such file'))
            continue
        if not claim['exists']:
            continue
        if claim['default'] is not None and not same_default(entry, claim['default'], seen['initial']):
            found.append('%s: the catalog gives the default %s, the kernel has %s' % (
                where, catalog.format_value(claim['default'], entry), seen['initial']))
        child = seen['child'] or {}
        if claim['visible_child'] != bool(child.get('visible')):
            found.append('%s: the catalog says a new network namespace %s it, the kernel %s' % (
                where, 'sees' if claim['visible_child'] else 'does not see', 'shows it' if child.get('visible') else 'hides it'))
            continue
        if not claim['visible_child']:
            continue
        readonly = child.get('write_error') is not None
        if claim['readonly_child'] != readonly:
            found.append('%s: the catalog says it is %s in a new network namespace, the kernel %s' % (
                where, 'read-only' if claim['readonly_child'] else 'writable',
                'refuses a write (%s)' % child['write_error'] if readonly else 'takes a write'))
        if child.get('shared'):
            found.append('%s: the catalog says each network namespace has its own, but writing %s in a new one '
                         'changed the initial namespace\'s value' % (where, child['other']))
        if claim['default'] is not None and not same_default(entry, claim['default'], child['raw']):
            found.append('%s: the catalog gives the default %s, a new network namespace has %s' % (
                where, catalog.format_value(claim['default'], entry), child['raw']))
    return found


def record_of(observed):
    """The part of an observation the docs show and the repository keeps (tests/vm/observed)."""
    keys = {}
    for key, seen in sorted(observed['keys'].items()):
        child = seen['child'] or {}
        keys[key] = {'initial': seen['initial'], 'name': seen['name'] if seen['name'] != key else None,
                     'child': None if not child.get('visible') else
                     {'value': child['raw'], 'read_only': child.get('write_error') is not None,
                      'own': None if child.get('other') is None else not child.get('shared')}}
    return {'release': observed['release'], 'mem_total': observed['mem_total'], 'keys': keys}


def test_catalog_claims_hold_on_the_real_kernel(vm):
    observed = probe(vm)
    assert KernelRelease(observed['release']) >= vm.line
    record = record_of(observed)
    path = os.path.join(OBSERVED, '%s.json' % vm.line)
    if os.environ.get('NETOPS_VM_RECORD'):
        with open(path, 'w') as handle:
            json.dump(record, handle, indent=1, sort_keys=True)
            handle.write('\n')
    problems = contradictions(observed)
    assert not problems, '\n'.join(problems)
    # docs/kernels.md is generated from the kept observations: they must be this kernel's.
    with open(path) as handle:
        kept = json.load(handle)
    assert kept['keys'] == record['keys'], (
        'Linux %s shows other values than tests/vm/observed/%s.json (%s): rerun with NETOPS_VM_RECORD=1, then '
        'python tools/kernel_doc.py' % (observed['release'], vm.line, kept['release']))


def read_live(text):
    return dict(line.split('=', 1) for line in text.splitlines() if '=' in line)


def expected_decision(key, spec, release, live, clients_behind_nat=True):
    """(apply / unchanged / skip, the start of the skip's reason) for one profile setting, from what
    the kernel showed before any profile."""
    entry = catalog.lookup(key)
    guards = spec.get('guards') or {}
    if guards.get('kernel') and not release.matches(guards['kernel']):
        return 'skip', 'needs Linux %s; this kernel is %s' % (guards['kernel'], release)
    if guards.get('unless') == 'clients_behind_nat' and clients_behind_nat:
        return 'skip', 'clients may be behind NAT'
    if not live.get(key):
        return 'skip', ''  # absent here: the reason is sysctl_facts' (tested with the fake trees)
    wanted = catalog.parse(key, catalog.format_value(spec['value'], entry), entry)
    now = catalog.parse(key, live[key], entry)
    if wanted == now:
        return 'unchanged', None
    if entry['raise_only'] and not guards.get('allow_lower') and catalog.capacity(entry, wanted) < catalog.capacity(entry, now):
        return 'skip', 'keeps %s' % catalog.capacity(entry, now)
    return 'apply', None


def decisions_of(result):
    made = dict((item['key'], ('apply', None)) for item in result['applied'])
    made.update((key, ('unchanged', None)) for key in result['unchanged'])
    made.update((key, ('skip', reason)) for key, reason in result['skipped_keys'].items())
    return made


def test_every_profile_decides_applies_and_gives_back(vm, tmp_path):
    keys = sorted(catalog.CATALOG)
    out = tmp_path / 'results.json'
    proc = vm.playbook(os.path.join(HERE, 'profiles.yml'), vm_profiles=[{'name': n, 'version': v} for n, v in PROFILES],
                       vm_keys=keys, vm_results=str(out))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    results = json.loads(out.read_text())
    release = KernelRelease(vm.release)
    initial = read_live(results['initial'])
    table = []
    for cycle in results['cycles']:
        label = '%s@%s on Linux %s' % (cycle['name'], cycle['version'], vm.release)
        made = decisions_of(cycle['apply'])
        wanted = dict((key, expected_decision(key, spec, release, initial)) for key, spec in cycle['settings'].items())
        assert dict((k, d) for k, (d, _r) in made.items()) == dict((k, d) for k, (d, _r) in wanted.items()), label
        for key, (decision, reason) in wanted.items():
            if decision == 'skip':
                assert made[key][1] and made[key][1].startswith(reason), (label, key, made[key][1])
        live = read_live(cycle['live'])
        for item in cycle['apply']['applied']:  # the kernel reports exactly what the profile sets
            key, spec = item['key'], cycle['settings'][item['key']]
            assert live[key] == catalog.format_value(spec['value'], catalog.get(key)), (label, key)
        assert not cycle['apply']['mismatches'], label
        assert not cycle['rerun']['changed'] and not cycle['rerun']['applied'], label
        assert read_live(cycle['after']) == initial, label  # the kernel's own values back
        table.append({'profile': '%s@%s' % (cycle['name'], cycle['version']),
                      'decisions': dict((k, d) for k, (d, _r) in made.items()), 'reasons': cycle['apply']['skipped_keys']})
    # For people: the decisions per kernel, kept beside the image (results/decisions-LINE.json).
    os.makedirs(os.path.join(VM_CACHE, 'results'), exist_ok=True)
    with open(os.path.join(VM_CACHE, 'results', 'decisions-%s.json' % vm.line), 'w') as handle:
        json.dump({'release': vm.release, 'profiles': table}, handle, indent=1)


def test_ipvs_census_equals_ipvsadm_on_real_ipvs(vm):
    """A virtual service in NAT mode in front of a real server in a network namespace of the VM;
    connections from the VM through the virtual address: 8 held open, 4 closed."""
    vm.write('/root/ipvs_traffic.py', open(os.path.join(HERE, 'ipvs_traffic.py')).read())
    vm.sh('modprobe ip_vs && ip netns add rs && ip link add vh type veth peer name vr netns rs'
          ' && ip addr add 10.77.0.1/24 dev vh && ip link set vh up && ip -n rs link set lo up'
          ' && ip -n rs addr add 10.77.0.2/24 dev vr && ip -n rs link set vr up'
          ' && ip -n rs route add default via 10.77.0.1'
          ' && ipvsadm -A -t 10.77.0.100:80 -s rr && ipvsadm -a -t 10.77.0.100:80 -r 10.77.0.2:8080 -m'
          ' && (setsid ip netns exec rs python3 /root/ipvs_traffic.py server 8080 >/dev/null 2>&1 &) && sleep 2')
    vm.sh('setsid python3 /root/ipvs_traffic.py client 10.77.0.100 80 8 4 > /root/client.out 2>&1 &'
          ' for i in $(seq 30); do grep -q ready /root/client.out && exit 0; sleep 1; done; cat /root/client.out; exit 1')
    for _attempt in range(3):  # entries of closed connections move on: take a census between two equal listings
        before = vm.sh('ipvsadm -Lnc').stdout
        facts = vm.module('netops.tcp.tcp_facts', {'gather_subset': ['min', 'ipvs']})['ansible_facts']['tcp']['ipvs']
        if vm.sh('ipvsadm -Lnc').stdout == before:
            break
    rows = [line.split() for line in before.splitlines() if line.startswith('TCP ')]
    states = dict((state, sum(1 for row in rows if row[2] == state)) for state in facts['states'])
    assert facts['loaded'] is True
    assert (facts['total'], facts['states']) == (len(rows), states), before
    assert states['ESTABLISHED'] == 8 and len(rows) == 12, before
    assert facts['real_servers'] == [{'server': '10.77.0.2:8080', 'connections': 12}]
    vm.sh("pkill -f '[i]pvs_traffic.py'; ipvsadm -C; ip netns del rs; ip link del vh 2>/dev/null; true")


def tune(vm, tmp_path, **variables):
    """tune-tcp.yml as operators run it, without the measuring windows (nothing to measure here)."""
    variables = dict({'tcp_tune_soak': 0, 'tcp_tune_report_dir': str(tmp_path / 'rollout')}, **variables)
    proc = vm.playbook(os.path.join(ROOT, 'tune-tcp.yml'), **variables)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return proc


def audit(vm, tmp_path, name, version):
    """audit-tcp.yml expecting profile ``name``@``version``: this host's entry of report.json."""
    report = tmp_path / ('audit-%d' % vm.boots)
    proc = vm.playbook(os.path.join(ROOT, 'audit-tcp.yml'), tcp_audit_expected_profile=name,
                       tcp_audit_expected_version=version, tcp_audit_report_dir=str(report))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    with open(str(report / 'report.json')) as handle:
        data = json.load(handle)
    return data['hosts'][vm.name]


def of_kinds(host, *kinds):
    return [f for f in host['findings'] if f['kind'] in kinds]


@pytest.mark.kernels('5.10', '7.3')
def test_a_tuned_host_keeps_its_tuning_across_a_real_reboot(vm, tmp_path):
    """The incident profile (nf_conntrack_max among its keys) through tune-tcp.yml, then a real reboot:
    the drop-in and the modules-load.d file the role wrote bring every value back."""
    vm.sh('modprobe nf_conntrack')
    tune(vm, tmp_path, tcp_tune_profile='ad_backend_incident', tcp_tune_profile_version=4)
    record = json.loads(vm.read(FACT))
    assert 'net.netfilter.nf_conntrack_max' in record['applied']
    assert 'nf_conntrack' in vm.read(MODULES_FILE).split()
    before = audit(vm, tmp_path, 'ad_backend_incident', 4)
    assert not of_kinds(before, 'drift', 'persistence', 'unmanaged', 'outdated'), before['findings']
    vm.reboot()
    assert vm.sh('lsmod').stdout.count('nf_conntrack ') == 1
    after = audit(vm, tmp_path, 'ad_backend_incident', 4)
    assert after['kernel'] == vm.release
    assert not of_kinds(after, 'drift', 'persistence', 'unmanaged', 'outdated'), after['findings']
    for key, value in record['applied'].items():
        assert vm.sysctl(key) == value, key
    # tcp_tune_state=absent after the reboot: the kernel's own values (what it showed at its first
    # boot, tests/vm/observed) and none of the files.
    tune(vm, tmp_path, tcp_tune_state='absent')
    with open(os.path.join(OBSERVED, '%s.json' % vm.line)) as handle:
        own = json.load(handle)['keys']
    assert dict((key, vm.sysctl(key)) for key in record['applied']) == dict((key, own[key]['initial']) for key in record['applied'])
    assert vm.sh('ls %s %s %s' % (DROPIN, MODULES_FILE, FACT), check=False).stdout == ''


@pytest.mark.kernels('6.1', '6.12')
def test_the_audit_predicts_what_a_real_reboot_gives(vm, tmp_path):
    """Three ways a tuned value does not come back, set up after tuning: a later sysctl.d file, TuneD
    as a real service with a profile setting a key (sysctl.d not re-applied after it), and
    nf_conntrack loaded only after systemd-sysctl. The audit's prediction before the reboot must be
    what the kernel shows after it."""
    vm.sh('modprobe nf_conntrack')
    # A conntrack maximum above the kernel's own on any of these guests (6.12 has 262144 with 5 GiB).
    tune(vm, tmp_path, tcp_tune_profile='ad_backend_incident', tcp_tune_profile_version=4,
         tcp_tune_overrides={'net.netfilter.nf_conntrack_max': {'value': 524288}})
    record = json.loads(vm.read(FACT))
    assert {'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_time', 'net.netfilter.nf_conntrack_max'} <= set(record['applied'])
    vm.write('/etc/sysctl.d/90-later.conf', 'net.ipv4.tcp_fin_timeout = 45\n')
    vm.write('/etc/tuned/profiles/netops-vm/tuned.conf',
             '[main]\nsummary=netops.tcp VM test\n\n[sysctl]\nnet.ipv4.tcp_keepalive_time=900\n')
    vm.write('/etc/tuned/active_profile', 'netops-vm\n')
    vm.write('/etc/tuned/profile_mode', 'manual\n')
    vm.sh("sed -i 's/^#* *reapply_sysctl *=.*/reapply_sysctl = 0/' /etc/tuned/tuned-main.conf"
          " && grep -q '^reapply_sysctl = 0' /etc/tuned/tuned-main.conf && systemctl enable tuned.service")
    vm.sh('rm %s' % MODULES_FILE)  # as if someone removed it: a firewall loads nf_conntrack later
    before = audit(vm, tmp_path, 'ad_backend_incident', 4)
    predicted = dict((f['key'], f['actual']) for f in of_kinds(before, 'persistence'))
    assert set(predicted) == {'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_time', 'net.netfilter.nf_conntrack_max'}
    vm.reboot()
    vm.sh('for i in $(seq 120); do tuned-adm active 2>/dev/null | grep -q netops-vm && exit 0; sleep 2; done; exit 1')
    assert not vm.sh('lsmod').stdout.count('nf_conntrack ')  # nothing loaded it at boot
    vm.sh('modprobe nf_conntrack')
    shown = dict((key, vm.sysctl(key)) for key in predicted)
    assert shown == predicted
    for key, value in record['applied'].items():
        if key not in predicted:
            assert vm.sysctl(key) == value, key
    drift = dict((f['key'], f['actual']) for f in of_kinds(audit(vm, tmp_path, 'ad_backend_incident', 4), 'drift'))
    assert drift == predicted
