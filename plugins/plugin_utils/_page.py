# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp, controller only: the shell of the self-contained HTML pages (the audit's
report.html, the rollout's rollout.html) and what they draw with: the head and its style, the end,
SVG bar charts and the colours of connection states and severities.

Nothing here reaches the network: the pages' Content-Security-Policy allows inline style and script only.
Every label drawn is host text and is escaped here."""

from ansible_collections.netops.tcp.plugins.module_utils.common import _text as text

STATE_COLOURS = {
    'ESTABLISHED': '#2e7d32', 'SYN_SENT': '#9e9d24', 'SYN_RECV': '#f9a825', 'FIN_WAIT1': '#6a1b9a',
    'FIN_WAIT2': '#8e24aa', 'TIME_WAIT': '#1565c0', 'CLOSE': '#757575', 'CLOSE_WAIT': '#c62828',
    'LAST_ACK': '#ad1457', 'LISTEN': '#00838f', 'CLOSING': '#4e342e',
}
SEVERITY_COLOURS = {'critical': '#c62828', 'warning': '#ef6c00', 'info': '#1565c0'}
PASSED = '#2e7d32'  # a badge that says all is well
FAILED = '#c62828'  # a badge that says something got worse

escape = text.html  # host text: names, messages and values can hold anything


def head(title):
    """The lines that open a page in the reports' style, up to its ``<h1>`` title."""
    return ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
            'script-src \'unsafe-inline\'">',
            '<title>%s</title><style>' % escape(title),
            'body{font:14px sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 20px}',
            'td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f3f3f3}',
            '.sev{color:#fff;padding:1px 6px;border-radius:3px}.ok{color:#2e7d32}.legend span{margin-right:12px}',
            '.swatch{display:inline-block;width:10px;height:10px;margin-right:4px}.chart text{font:12px sans-serif}',
            'form{margin:8px 0}select{margin-right:12px}</style></head><body>',
            '<h1>%s</h1>' % escape(title)]


def foot(script=None):
    """The line that closes a page, after the page's own inline ``script`` if it has one (never host text)."""
    return ('<script>%s</script>' % script if script else '') + '</body></html>'


def badge(label, colour):
    """A coloured label: a severity, a verdict."""
    return '<span class="sev" style="background:%s">%s</span>' % (colour, escape(label))


def state_bar(name, states):
    """An inline SVG bar of one host's connection states, widths proportional to counts."""
    total = sum(states.values()) or 1
    x = 0.0
    parts = []
    for state, colour in STATE_COLOURS.items():
        count = states.get(state, 0)
        if not count:
            continue
        width = 600.0 * count / total
        parts.append('<rect x="%.1f" y="0" width="%.1f" height="18" fill="%s"><title>%s %s: %d</title></rect>'
                     % (x, width, colour, escape(name), state, count))
        x += width
    return '<svg class="bar" width="600" height="18" role="img" aria-label="%s">%s</svg>' % (escape(name), ''.join(parts))


def state_legend():
    """The colour of each connection state, in the order the bars draw them."""
    return '<p class="legend">%s</p>' % ''.join(
        '<span><i class="swatch" style="background:%s"></i>%s</span>' % (c, s) for s, c in STATE_COLOURS.items())


def bars(rows, colour_of, width=420):
    """Horizontal SVG bars: [(label, value)], the longest the widest; ``colour_of(label)`` their fill."""
    top = max([v for _l, v in rows] or [1]) or 1
    out = ['<svg class="chart" width="%d" height="%d" role="img">' % (width + 320, 20 * len(rows) + 4)]
    for i, (label, value) in enumerate(rows):
        y = 20 * i + 2
        length = width * value / top
        out.append('<text x="0" y="%d">%s</text><rect x="200" y="%d" width="%.1f" height="14" fill="%s"></rect>'
                   '<text x="%.1f" y="%d">%s</text>' % (y + 12, escape(label), y, length, colour_of(label), 205 + length, y + 12, value))
    out.append('</svg>')
    return ''.join(out)


def percentile(values, fraction):
    """The value at ``fraction`` (0 to 1) of sorted ``values``; 0 when there are none."""
    return values[min(len(values) - 1, int(fraction * len(values)))] if values else 0
