# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import hashlib
import os

import pytest

from ansible_collections.netops.tcp.plugins.plugin_utils import _profile as profile
from ansible_collections.netops.tcp.plugins.module_utils.model._settings import SettingsError
from ansible_collections.netops.tcp.plugins.plugin_utils import _profiles as profiles

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
SHIPPED = os.path.join(ROOT, 'profiles')


def resolve(name, version='latest', dirs=(SHIPPED,), **kw):
    return profile.resolve(profiles.load, list(dirs), name, version, **kw)


def released():
    with open(os.path.join(SHIPPED, 'CHECKSUMS.sha256')) as handle:
        return dict(reversed(line.split()) for line in handle if line.strip())


def test_released_profiles_never_change():
    """A released version is immutable: its sha256 is recorded, and every version file is recorded."""
    listed = released()
    on_disk = sorted('%s/%s' % (d, f) for d in os.listdir(SHIPPED) if os.path.isdir(os.path.join(SHIPPED, d))
                     for f in os.listdir(os.path.join(SHIPPED, d)))
    assert on_disk == sorted(listed), 'add new versions to profiles/CHECKSUMS.sha256 (and never edit released ones)'
    for rel, digest in listed.items():
        with open(os.path.join(SHIPPED, rel), 'rb') as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == digest, '%s was edited after release: add a new version' % rel


@pytest.mark.parametrize('rel', sorted(released()))
def test_every_shipped_profile_resolves(rel):
    name, version = rel.split('/')
    resolved = resolve(name, int(version[1:-4]))
    assert resolved['name'] == name and resolved['settings']
    assert all(spec['rationale'] for spec in resolved['settings'].values())
    assert resolved['chain'][0]['sha256'] == released()[rel]


def test_incident_v1_is_verbatim_and_guarded():
    settings = resolve('ad_backend_incident', 1)['settings']
    assert len(settings) == 20  # the 22 source lines: two conntrack names and a repeated conntrack line are one key
    assert settings['net.netfilter.nf_conntrack_max']['value'] == 196608
    assert settings['net.ipv4.tcp_tw_recycle'] == {
        'value': 1, 'guards': {'kernel': '<4.12', 'unless': 'clients_behind_nat'},
        'rationale': settings['net.ipv4.tcp_tw_recycle']['rationale']}
    assert settings['net.ipv4.tcp_rmem']['value'] == [32768, 131072, 16777216]
    assert settings['net.ipv4.ip_local_port_range']['guards'] == {'reserve_listening_ports': True}


def test_latest_parameters_and_overrides_change_the_checksum():
    base = resolve('lb_backend')
    assert base['version'] == 2 and base['settings']['net.ipv4.tcp_keepalive_time']['value'] == 840
    tuned = resolve('lb_backend', parameters={'lb_idle_timeout': 350}, overrides={'net.core.somaxconn': 8192})
    assert tuned['settings']['net.ipv4.tcp_keepalive_time']['value'] == 290
    assert tuned['settings']['net.core.somaxconn']['value'] == 8192 and tuned['overrides'] == ['net.core.somaxconn']
    assert tuned['checksum'] != base['checksum'] and resolve('lb_backend')['checksum'] == base['checksum']


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


GOOD = 'name: {n}\nversion: {v}\nsettings:\n  net.ipv4.tcp_fin_timeout:\n    value: 30\n    rationale: r\n'


def test_users_profiles_extend_and_shadow(tmp_path):
    write(tmp_path / 'mine' / 'v1.yml', 'name: mine\nversion: 1\nextends: web_frontend@1\nsettings:\n'
          '  net.ipv4.tcp_fin_timeout: {value: 20, rationale: shorter}\n')
    resolved = resolve('mine', dirs=(str(tmp_path), SHIPPED))
    assert resolved['settings']['net.ipv4.tcp_fin_timeout']['value'] == 20
    assert resolved['settings']['net.core.somaxconn']['value'] == 16384  # from web_frontend@1
    assert [c['profile'] for c in resolved['chain']] == ['mine@1', 'web_frontend@1']


PROFILE_ERRORS = [
    ('nope', 1, None, "profile 'nope': not found in {d}, {s}"),
    ('web_frontend', 9, None, 'profile web_frontend: no version 9 (available: 1, 2)'),
    ('web_frontend', 0, None, 'profile version 0: must be a whole number from 1, or "latest"'),
    ('web_frontend', 'v1x', None, "profile version 'v1x': must be a whole number from 1, or \"latest\""),
    ('../etc', 1, None, "profile name '../etc': must be lower-case letters, digits and \"_\", starting with a letter (a name, not a path)"),
    ('Web', 1, None, "profile name 'Web': must be lower-case letters, digits and \"_\", starting with a letter (a name, not a path)"),
    ('dup', 1, 'name: dup\nversion: 1\nsettings:\n  net.core.somaxconn: {value: 1, rationale: a}\n  net.core.somaxconn: {value: 2, rationale: b}\n',
     '{d}/dup/v1.yml: net.core.somaxconn is written twice (line 5)'),
    ('alias', 1, 'name: alias\nversion: 1\nsettings:\n  net.ipv4.ip_conntrack_max: {value: 1, rationale: a}\n'
     '  net.netfilter.nf_conntrack_max: {value: 2, rationale: b}\n',
     'alias@1: net.netfilter.nf_conntrack_max is set twice (as net.ipv4.ip_conntrack_max and net.netfilter.nf_conntrack_max)'),
    ('unknown', 1, 'name: unknown\nversion: 1\nsettings:\n  net.ipv4.tcp_bogus: {value: 1, rationale: a}\n',
     'unknown@1: net.ipv4.tcp_bogus: not in the netops.tcp catalog (set allow_unknown_keys to use it)'),
    ('badtype', 1, 'name: badtype\nversion: 1\nsettings:\n  net.ipv4.tcp_syncookies: {value: "yes", rationale: a}\n',
     "badtype@1: net.ipv4.tcp_syncookies: 'yes' is not an integer (one integer expected)"),
    ('boolval', 1, 'name: boolval\nversion: 1\nsettings:\n  net.ipv4.tcp_syncookies: {value: true, rationale: a}\n',
     'boolval@1: net.ipv4.tcp_syncookies: True is not an integer'),
    ('arity', 1, 'name: arity\nversion: 1\nsettings:\n  net.ipv4.tcp_wmem: {value: [1, 2], rationale: a}\n',
     'arity@1: net.ipv4.tcp_wmem: [1, 2]: 2 values, 3 expected (min default max)'),
    ('minmax', 1, 'name: minmax\nversion: 1\nsettings:\n  net.ipv4.tcp_wmem: {value: [16384, 4096, 4194304], rationale: a}\n',
     'minmax@1: net.ipv4.tcp_wmem: 16384 4096 4194304: values must not decrease (min <= default <= max)'),
    ('range', 1, 'name: range\nversion: 1\nsettings:\n  net.ipv4.tcp_synack_retries: {value: 300, rationale: a}\n',
     'range@1: net.ipv4.tcp_synack_retries: 300 is out of range 0..255'),
    ('norat', 1, 'name: norat\nversion: 1\nsettings:\n  net.core.somaxconn: {value: 1}\n',
     'norat@1: net.core.somaxconn: every key needs a rationale'),
    ('wrongname', 1, 'name: other\nversion: 1\nsettings: {}\n',
     "wrongname@1 ({d}/wrongname/v1.yml): says name 'other' version 1; the file name says wrongname version 1"),
    ('cycle', 1, 'name: cycle\nversion: 1\nextends: cycle@1\nsettings: {}\n', 'profile cycle@1: extends itself (through cycle@1)'),
    ('badext', 1, 'name: badext\nversion: 1\nextends: web_frontend\nsettings: {}\n',
     "badext@1: extends 'web_frontend' must be \"name@version\""),
    ('extra', 1, 'name: extra\nversion: 1\nsettigns: {}\n', 'extra@1: unknown field settigns'),
    ('param', 1, 'name: param\nversion: 1\nsettings:\n  net.ipv4.tcp_keepalive_time: {value: {parameter: idle}, rationale: a}\n',
     "param@1: net.ipv4.tcp_keepalive_time: unknown parameter 'idle'"),
    ('when', 1, 'name: when\nversion: 1\nparameters: {n: {default: 3}}\nsettings:\n  net.core.somaxconn: {value: 1, rationale: a, when: n}\n',
     "when@1: net.core.somaxconn: when must name a boolean parameter of the profile ('n' is not one)"),
    ('guard', 1, 'name: guard\nversion: 1\nsettings:\n  net.core.somaxconn: {value: 1, rationale: a, guards: {kernel: "4.x"}}\n',
     "guard@1: net.core.somaxconn: invalid kernel version specifier '4.x': use clauses like '>=4.10' or '<4.12' separated by commas"),
]


@pytest.mark.parametrize('name, version, text, message', PROFILE_ERRORS, ids=[e[0] + str(e[1]) for e in PROFILE_ERRORS])
def test_profile_errors_name_profile_key_and_rule(tmp_path, name, version, text, message):
    if text:
        write(tmp_path / name / ('v%d.yml' % version), text)
    with pytest.raises(SettingsError) as exc:  # a ProfileError, or a SettingsError for a key inside the file
        resolve(name, version, dirs=(str(tmp_path), SHIPPED))
    assert str(exc.value) == message.format(d=tmp_path, s=SHIPPED)


def test_a_boolean_parameter_switches_the_keys_that_name_it():
    plain = resolve('lb_backend', 2)
    assert 'net.ipv4.conf.all.arp_ignore' not in plain['settings']
    dr = resolve('lb_backend', 2, parameters={'lvs_direct_routing': True})
    assert (dr['settings']['net.ipv4.conf.all.arp_ignore']['value'], dr['settings']['net.ipv4.conf.all.arp_announce']['value']) == (1, 2)
    assert 'when' not in dr['settings']['net.ipv4.conf.all.arp_ignore'] and dr['checksum'] != plain['checksum']
    assert 'net.ipv4.tcp_congestion_control' not in resolve('web_frontend', 2)['settings']
    bbr = resolve('web_frontend', 2, parameters={'bbr': True})['settings']
    assert (bbr['net.ipv4.tcp_congestion_control']['value'], bbr['net.core.default_qdisc']['value']) == ('bbr', 'fq')
    with pytest.raises(SettingsError) as exc:
        resolve('lb_backend', 2, parameters={'lvs_direct_routing': 1})
    assert str(exc.value) == 'lb_backend@2: parameter lvs_direct_routing: 1 is not true or false'


@pytest.mark.parametrize('kw, message', [
    ({'parameters': {'lb_idle': 3}}, 'lb_backend@1: unknown parameter lb_idle (declared: lb_idle_timeout)'),
    ({'parameters': {'lb_idle_timeout': 60}}, 'lb_backend@1: parameter lb_idle_timeout: 60 is below the minimum 120'),
    ({'overrides': {'net.ipv4.tcp_rmem': [8192, 4096, 16384]}},
     'lb_backend@1 overrides: net.ipv4.tcp_rmem: 8192 4096 16384: values must not decrease (min <= default <= max)'),
    ({'overrides': {'net.ipv4.tcp_ecn_fallback': 1}},
     'lb_backend@1 overrides: net.ipv4.tcp_ecn_fallback: not in the netops.tcp catalog (set allow_unknown_keys to use it)'),
    ({'overrides': {'net.ipv4.tcp_ecn_fallback': '1=2'}, 'allow_unknown_keys': True},
     "lb_backend@1 overrides: net.ipv4.tcp_ecn_fallback: '1=2' must be one value without newlines, \"=\", \"#\" or \";\""),
])
def test_parameter_and_override_errors(kw, message):
    with pytest.raises(SettingsError) as exc:
        resolve('lb_backend', 1, **kw)
    assert str(exc.value) == message


def test_symlink_out_of_a_profile_directory_is_ignored(tmp_path):
    outside = tmp_path / 'outside.yml'
    write(outside, GOOD.format(n='sneaky', v=1))
    (tmp_path / 'dir' / 'sneaky').mkdir(parents=True)
    os.symlink(str(outside), str(tmp_path / 'dir' / 'sneaky' / 'v1.yml'))
    with pytest.raises(profile.ProfileError, match="profile 'sneaky': not found"):
        resolve('sneaky', dirs=(str(tmp_path / 'dir'),))
