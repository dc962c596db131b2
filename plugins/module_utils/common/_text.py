# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: text from hosts, made safe for each grammar the collection writes.

Host text (process names, host names, values, messages that quote them) can hold anything a
local user can put there: control characters, markup, bidirectional overrides, lone surrogates
from a JSON fact cache. ``visible`` shows the characters that would break or mislead a reader as
escapes (``\\x01``, ``\\u202e``); each writer then escapes for its own grammar: ``markdown``
(CommonMark with GFM tables), ``html``, ``xml_text`` / ``xml_attr`` (XML 1.0) and
``prom_label`` (Prometheus's text exposition format).
"""

from __future__ import annotations

import re
from html import escape as _html_escape
from xml.sax.saxutils import escape as _xml_escape, quoteattr as _xml_quoteattr

# C0 controls but tab and newline, DEL and C1 controls, format characters that reorder or hide
# text (bidirectional controls, zero-width characters, variation selectors, the BOM, the tag
# characters of "ASCII smuggling"), line and paragraph separators, surrogates (not text; a UTF-8
# encoder refuses them) and the two non-characters XML 1.0 forbids.
_UNSAFE = re.compile('[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f'
                     '\ufe00-\ufe0f\ufeff\ufff9-\ufffb\ufffe\uffff\ud800-\udfff\U000e0000-\U000e007f]')


def _show(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return '\\x%02x' % code if code < 0x100 else '\\u%04x' % code


def visible(value: object) -> str:
    """``value`` as text whose every character shows itself: the unsafe ones become escapes."""
    return _UNSAFE.sub(_show, '' if value is None else str(value))


# What can open markup in CommonMark and GFM tables: backslash, code, emphasis (``_`` only where it
# is not inside a word, where it cannot), links and images, raw HTML and autolinks, entities,
# strikethrough and the cell separator.
_MARKDOWN = re.compile(r'[\\`*\[\]<&|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])')


def markdown(value: object) -> str:
    """Host text for a Markdown table cell or heading: one line, every markup character escaped."""
    return _MARKDOWN.sub(lambda m: '\\' + m.group(0), visible(value).replace('\n', ' ').replace('\t', ' '))


def html(value: object) -> str:
    """Host text for HTML element content or a quoted attribute."""
    return _html_escape(visible(value), quote=True)


def xml_text(value: object) -> str:
    """Host text for XML 1.0 element content."""
    return _xml_escape(visible(value))


def xml_attr(value: object) -> str:
    """Host text as a quoted XML 1.0 attribute value (quotes included)."""
    return _xml_quoteattr(visible(value))


def prom_label(value: object) -> str:
    """Host text for a Prometheus label value (inside its double quotes)."""
    return visible(value).replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')
