# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write docs/catalog.md, the sysctl catalog as people read it, from plugins/module_utils/model/_catalog.py.

    python tools/catalog_doc.py          # rewrite docs/catalog.md
    python tools/catalog_doc.py --check  # fail when it is not what the catalog gives (a unit test runs this)
"""

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, 'docs', 'catalog.md')


def _catalog():
    sys.path.insert(0, os.path.join(ROOT, 'tests'))
    import conftest  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    from ansible_collections.netops.tcp.plugins.module_utils.model import _catalog as catalog  # pylint: disable=import-outside-toplevel
    return catalog


def _cell(text):
    return str(text).replace('|', '\\|').replace('\n', ' ')


def _scope(entry):
    if not entry['netns']:
        return 'host-global (absent in a container)'
    spans = []
    for since, until in entry['netns']:
        span = 'per namespace' + (' since %s' % since if since not in (None, '0') else '')
        spans.append(span + (' until %s' % until if until else ''))
    if entry['netns_readonly_since']:
        spans.append('read-only in a container%s%s' % (
            ' since %s' % entry['netns_readonly_since'] if entry['netns_readonly_since'] != '0' else '',
            ''.join(' (and %s stable)' % line for line in entry['netns_readonly_backports'])))
    return '; '.join(spans)


def _range(entry):
    if entry['type'] == 'bool':
        return '0..1'
    if entry['min'] is None and entry['max'] is None:
        return 'read-only' if entry['type'] == 'int' else ''
    return '%s..%s' % (entry['min'], entry['max'])


def _defaults(entry):
    parts = []
    for since, value, note in entry['defaults']:
        shown = ' '.join(str(v) for v in value) if isinstance(value, list) else ('' if value is None else str(value))
        text = ('%s: ' % since if since != '0' else '') + (shown or '')
        if note:
            text += (' (%s)' % note) if shown else note
        parts.append(text.strip())
    return '; '.join(parts)


def render():
    catalog = _catalog()
    lines = ['# The sysctl catalog', '',
             'Generated from `plugins/module_utils/model/_catalog.py` by `python tools/catalog_doc.py`; a unit test fails',
             'when this page and the catalog differ. Versions are the first mainline kernel that has the key or the',
             'change (distributions backport: netops.tcp probes `/proc/sys` first). "Limit" marks capacity limits a',
             'profile never lowers below what the host has (`guards: {allow_lower: true}` on purpose), and the audit',
             'flags live below the kernel\'s own default. Sources are in the catalog\'s text and in each profile\'s',
             'rationales.', '',
             '| key | type | range | defaults | added / removed | scope | limit | what it does |',
             '| --- | --- | --- | --- | --- | --- | --- | --- |']
    for key in sorted(catalog.CATALOG):
        entry = catalog.CATALOG[key]
        kind = entry['type'] + (' (%s)' % entry['unit'] if entry['unit'] else '')
        life = ' / '.join(x for x in (('added %s' % entry['added']) if entry['added'] else '',
                                      ('removed %s' % entry['removed']) if entry['removed'] else '') if x)
        lines.append('| `%s` | %s | %s | %s | %s | %s | %s | %s |' % (
            key, kind, _range(entry), _cell(_defaults(entry)), life, _scope(entry), 'yes' if entry['raise_only'] else '',
            _cell(entry['doc'])))
    lines += ['', '## Changes by kernel version', '']
    for key in sorted(catalog.CATALOG):
        for version, what in catalog.CATALOG[key]['changes']:
            lines.append('- `%s` %s: %s' % (key, version, _cell(what)))
    lines += ['', '## What the audit flags (`risky`), whoever set it', '']
    for key in sorted(catalog.CATALOG):
        for rule in catalog.CATALOG[key]['risky']:
            test = rule['test']
            when = {'eq': '= %s', 'lt': '< %s'}[test[0]] % test[1] if len(test) > 1 else 'ends of the same parity'
            message = _cell(rule['message'] % {'value': '<value>'})
            lines.append('- `%s` %s (%s): %s' % (key, when, rule['severity'], message))
    lines += ['', '## Read before setting', '']
    for key in sorted(catalog.CATALOG):
        for risk in catalog.CATALOG[key]['risks']:
            lines.append('- `%s`: %s' % (key, _cell(risk)))
    return '\n'.join(lines) + '\n'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--check', action='store_true')
    args = parser.parse_args()
    text = render()
    if args.check:
        with open(DOC) as handle:
            if handle.read() != text:
                sys.exit('%s is not what the catalog gives: run python tools/catalog_doc.py' % DOC)
        return
    with open(DOC, 'w') as handle:
        handle.write(text)


if __name__ == '__main__':
    main()
