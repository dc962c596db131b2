# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: a rollout wave's verdict, and the rollout report (JSON, Markdown, HTML).

A wave is the hosts of one ``serial`` batch. Each host that the change touched has four health
snapshots: a baseline window just before the change and a window of the same length after it.
A wave fails when any of its hosts got worse; then every host of it that the change touched is
put back, and the rollout stops before the next wave.
"""

from ansible_collections.netops.tcp.plugins.module_utils.common import _text as text
from ansible_collections.netops.tcp.plugins.module_utils.judge import _health as health
from ansible_collections.netops.tcp.plugins.plugin_utils import _page as page


def judge(wave, hosts, gate):
    """The verdict of wave number ``wave``.

    ``hosts``: {name: {'changed', 'profile_before', 'profile_after', 'applied', 'restored',
    'snapshots': [four health snapshots] or None, optionally 'not_measured': why the host was not}}. Returns {'wave', 'hosts': {name: the host's
    data with 'baseline', 'after', 'verdict', 'worse', 'reason'}, 'worse': [names], 'put_back':
    [names], 'msg'}."""
    judged = {}
    for name in sorted(hosts):
        data = hosts[name]
        entry = dict((k, data.get(k)) for k in ('changed', 'profile_before', 'profile_after'))
        entry['keys'] = sorted(set(s['key'] for s in (data.get('applied') or []) + (data.get('restored') or [])))
        entry.update(baseline=None, after=None, worse=[], reason=None)
        snaps = data.get('snapshots')
        if data.get('not_measured'):
            entry['verdict'] = 'not gated'
            entry['reason'] = data['not_measured']
        elif not data.get('changed'):
            entry['verdict'] = 'unchanged'
        elif not gate or not snaps:
            entry['verdict'] = 'not gated'
            entry['reason'] = 'the gate is off' if not gate else ('no health snapshots: it changed although the '
                                                                  'check before the change foresaw no change')
        else:
            entry['baseline'] = health.window(snaps[0], snaps[1])
            entry['after'] = health.window(snaps[2], snaps[3])
            entry.update(health.verdict(entry['baseline'], entry['after'], gate))
        judged[name] = entry
    worse = [n for n in sorted(judged) if judged[n]['verdict'] == 'worse']
    put_back = [n for n in sorted(judged) if judged[n]['changed']] if worse else []
    if worse:
        msg = 'wave %d got worse, so it was put back and the rollout stops: %s' % (wave, '; '.join(
            '%s: %s' % (n, ', '.join(health.describe_trip(t) for t in judged[n]['worse'])) for n in worse))
    else:
        counts = {}
        for entry in judged.values():
            counts[entry['verdict']] = counts.get(entry['verdict'], 0) + 1
        msg = 'wave %d (%d hosts) passed the gate: %s' % (wave, len(judged), ', '.join(
            '%d %s' % (counts[v], v) for v in sorted(counts)))
    return {'wave': wave, 'hosts': judged, 'worse': worse, 'put_back': put_back, 'msg': msg}


def rollout(waves, put_back, all_hosts, gate, soak, generated_at):
    """The report: ``waves`` [judge() results], ``put_back`` {name: sysctl_tune state=previous result}."""
    seen = set()
    out_waves = []
    for wave in sorted(waves, key=lambda w: w['wave']):
        hosts = {}
        for name, entry in wave['hosts'].items():
            seen.add(name)
            entry = dict(entry)
            if name in wave['put_back']:
                result = put_back.get(name) or {}
                entry['put_back'] = {
                    'failed': bool(result.get('failed')) if result else True,
                    'msg': result.get('msg') if result else 'the put back did not run',
                    'to_profile': result.get('profile_before'),
                    'keys': sorted(s['key'] for s in result.get('restored') or []),
                }
            hosts[name] = entry
        out_waves.append(dict(wave, hosts=hosts))
    stopped = [w['wave'] for w in out_waves if w['worse']]
    return {
        'generated_at': generated_at,
        'gate': gate,
        'soak': soak,
        'waves': out_waves,
        'stopped_at': stopped[0] if stopped else None,
        'not_reached': sorted(set(all_hosts) - seen),
        'hosts': len(seen),
    }


STATES_SHOWN = ('ESTABLISHED', 'TIME_WAIT', 'CLOSE_WAIT', 'SYN_RECV')


def _n(count, word):
    return '%d %s%s' % (count, word, '' if count == 1 else 's')


def _rates(win):
    """A window in a line: the rates that are not 0, the share retransmitted, the states at its end."""
    if not win:
        return ''
    states = ', '.join('%s %d' % (s, win['states'][s]) for s in STATES_SHOWN if win.get('states', {}).get(s))
    if win['reset']:
        return 'no rates: %s' % win['reset']
    parts = ['%s %s/s' % (name, value) for name, value in sorted(win['rates'].items()) if value]
    if win[health.RETRANSMIT] is not None:
        parts.append('retransmitted %.3f%%' % (100 * win[health.RETRANSMIT]))
    return '%s s: %s%s' % (win['seconds'], ', '.join(parts) or 'all 0', '; at its end %s' % states if states else '')


def _verdict_text(entry):
    if entry['verdict'] == 'worse':
        return 'worse: ' + '; '.join(health.describe_trip(t) for t in entry['worse'])
    return entry['verdict'] + (': ' + entry['reason'] if entry.get('reason') else '')


def _put_back_text(entry):
    back = entry.get('put_back')
    if not back:
        return ''
    if back['failed']:
        return 'could NOT put back: %s' % back['msg']
    return 'put back to %s (%s)' % (back['to_profile'] or 'the values from before any tuning',
                                    ', '.join(back['keys']) or 'files only')


def _status(rep):
    if rep['stopped_at']:
        return 'Stopped at wave %d: it got worse and was put back; %s not reached.' % (
            rep['stopped_at'], _n(len(rep['not_reached']), 'host'))
    return 'Rolled out in %s to %s%s.' % (
        _n(len(rep['waves']), 'wave'), _n(rep['hosts'], 'host'),
        '; %s not reached yet' % _n(len(rep['not_reached']), 'host') if rep['not_reached'] else '')


def markdown(rep):
    out = ['# TCP rollout', '', _status(rep), '',
           'Gate: %s; windows of %s s before and after the change.' % (
               ', '.join('%s above %s x baseline and %s%s' % (n, r['ratio'], r['floor'], health.unit(n))
                         for n, r in sorted(rep['gate'].items())) or 'off', rep['soak']), '']
    for wave in rep['waves']:
        out += ['## Wave %d: %s, %s' % (wave['wave'], _n(len(wave['hosts']), 'host'), 'worse, put back' if wave['worse'] else 'passed'),
                '', '| host | profile | keys changed | baseline | after | verdict | put back |',
                '| --- | --- | --- | --- | --- | --- | --- |']
        for name in sorted(wave['hosts']):
            e = wave['hosts'][name]
            out.append('| %s |' % ' | '.join(text.markdown(x) for x in (
                name, '%s -> %s' % (e['profile_before'] or 'none', e['profile_after'] or 'none'),
                ', '.join(e['keys']) or '-', _rates(e['baseline']), _rates(e['after']), _verdict_text(e),
                _put_back_text(e))))
        out.append('')
    if rep['not_reached']:
        out += ['Not reached: %s' % ', '.join(rep['not_reached']), '']
    return '\n'.join(out)


def html(rep):
    h = page.escape
    out = page.head('TCP rollout') + ['<p id="status">%s</p>' % h(_status(rep))]
    out.append('<p>Gate: %s; windows of %s s before and after the change.</p>' % (h(', '.join(
        '%s above %s x baseline and %s%s' % (n, r['ratio'], r['floor'], health.unit(n))
        for n, r in sorted(rep['gate'].items())) or 'off'), h(rep['soak'])))
    for wave in rep['waves']:
        out.append('<h2 id="wave-%d">Wave %d: %s %s</h2>' % (wave['wave'], wave['wave'], _n(len(wave['hosts']), 'host'), page.badge(
            'worse, put back', page.FAILED) if wave['worse'] else page.badge('passed', page.PASSED)))
        out.append('<table><tr><th>host</th><th>profile</th><th>keys changed</th><th>baseline</th><th>after</th>'
                   '<th>verdict</th><th>put back</th></tr>')
        for name in sorted(wave['hosts']):
            e = wave['hosts'][name]
            out.append('<tr>%s</tr>' % ''.join('<td>%s</td>' % h(x) for x in (
                name, '%s -> %s' % (e['profile_before'] or 'none', e['profile_after'] or 'none'),
                ', '.join(e['keys']) or '-', _rates(e['baseline']), _rates(e['after']), _verdict_text(e),
                _put_back_text(e))))
        out.append('</table>')
    if rep['not_reached']:
        out.append('<p>Not reached: %s</p>' % h(', '.join(rep['not_reached'])))
    out.append(page.foot())
    return '\n'.join(out) + '\n'
