# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp, controller only: the configured fact cache, read a host at a time (the cache
audit in audit_report, the groups of the tcp_groups inventory plugin)."""

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.plugins.loader import cache_loader

REFRESH = 32  # hosts read through one cache plugin instance (0.1 ms to take): file caches keep every entry they read


class Unreadable(Exception):
    """A host's cache entry that the cache plugin cannot give back; the message says why."""


class CachedFacts:
    """``facts(name)``: a host's facts straight from the configured fact cache, {} when it has none (or
    they expired). No host is contacted, no host's other variables are worked out (hostvars would, at
    about 9 ms a host), and no more than REFRESH hosts' entries are held: the file cache plugins keep
    every entry they read for the life of the instance, so a new one is taken every REFRESH hosts.
    An entry the plugin cannot decode (ansible-core 2.19 refuses a string that is not valid UTF-8,
    which the executor wrote from a host's facts; a corrupt file) raises ``Unreadable`` for that host;
    a cache that cannot be read at all (a backend that is down) raises AnsibleError naming it."""

    def __init__(self):
        self.cache, self.used = None, 0

    def __call__(self, name):
        if self.cache is None or self.used >= REFRESH:
            self.cache, self.used = cache_loader.get(C.CACHE_PLUGIN), 0
        self.used += 1
        try:
            return dict(self.cache.get(name) or {})
        except KeyError:
            return {}
        except Exception as exc:  # pylint: disable=broad-except
            if _decoding(exc):
                raise Unreadable(' '.join(str(exc).split())[:300])
            raise AnsibleError('the fact cache (%s) cannot be read: %s' % (C.CACHE_PLUGIN, exc)) from exc


def _decoding(exc):
    """Whether ``exc`` or what it was raised from is a ValueError (a JSON or UTF-8 decoding error)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, ValueError):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False
