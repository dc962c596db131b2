# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: Linux kernel release parsing and version specifiers.

Handles what ``uname -r`` prints in the wild: ``3.10.0-1160.el7.x86_64``,
``4.19.0-26-amd64``, ``5.15.0-1051-aws``, ``6.18.44-fc-v657``, ``4.9.0-rc3``.
A release candidate counts as its final version: features are merged before rc1,
so ``4.12.0-rc3`` already lacks what 4.12 removed.
"""

from __future__ import annotations

import re
import typing as t

Version = t.Tuple[int, int, int]
# What a comparison or as_version takes: a KernelRelease, a version tuple or text such as '4.12'.
VersionLike = t.Union['KernelRelease', t.Tuple[int, ...], str]

_RELEASE = re.compile(r'^\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?(.*)$')
_SPEC = re.compile(r'^\s*(>=|<=|==|!=|>|<)?\s*(\d+(?:\.\d+){0,2})\s*$')


class KernelVersionError(ValueError):
    pass


class KernelRelease:
    """A parsed release: ``version`` is (major, minor, patch); ``local`` is the rest."""

    __slots__ = ('release', 'version', 'local', 'prerelease')

    def __init__(self, release: str) -> None:
        match = _RELEASE.match(release or '')
        if not match:
            raise KernelVersionError("cannot parse kernel release %r: expected MAJOR[.MINOR[.PATCH]][-extra]" % (release,))
        self.release: str = release.strip()
        self.version: Version = (int(match.group(1)), int(match.group(2) or 0), int(match.group(3) or 0))
        self.local: str = match.group(4).lstrip('-.+_~')
        rc = re.match(r'^rc(\d+)\b', self.local)
        self.prerelease: str | None = rc.group(0) if rc else None

    def __repr__(self) -> str:
        return 'KernelRelease(%r)' % self.release

    def __str__(self) -> str:
        return '%d.%d.%d' % self.version

    def _key(self, other: object) -> tuple[Version, Version]:
        return self.version, as_version(other)

    def __eq__(self, other: object) -> bool:
        a, b = self._key(other)
        return a == b

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __lt__(self, other: VersionLike) -> bool:
        a, b = self._key(other)
        return a < b

    def __le__(self, other: VersionLike) -> bool:
        a, b = self._key(other)
        return a <= b

    def __gt__(self, other: VersionLike) -> bool:
        a, b = self._key(other)
        return a > b

    def __ge__(self, other: VersionLike) -> bool:
        a, b = self._key(other)
        return a >= b

    def __hash__(self) -> int:
        return hash(self.version)

    def matches(self, spec: object) -> bool:
        """True when this release satisfies ``spec``: comma-separated clauses such as ``>=4.10,<4.12``."""
        for op, version in parse_spec(spec):
            if not _OPS[op](self.version, version):
                return False
        return True


_OPS: dict[str, t.Callable[[Version, Version], bool]] = {
    '>=': lambda a, b: a >= b,
    '<=': lambda a, b: a <= b,
    '==': lambda a, b: a == b,
    '!=': lambda a, b: a != b,
    '>': lambda a, b: a > b,
    '<': lambda a, b: a < b,
}


def as_version(value: object) -> Version:
    """(major, minor, patch) from a KernelRelease, a tuple or a string such as '4.12'."""
    if isinstance(value, KernelRelease):
        return value.version
    if isinstance(value, tuple):
        return t.cast(Version, tuple(value) + (0,) * (3 - len(value)))
    return KernelRelease(str(value)).version


def parse_spec(spec: object) -> list[tuple[str, Version]]:
    """Parse ``'<4.12'`` or ``'>=4.10, <4.12'`` into [(op, version)]; a bare version means '=='."""
    clauses = []
    for part in str(spec).split(','):
        match = _SPEC.match(part)
        if not match:
            raise KernelVersionError(
                "invalid kernel version specifier %r: use clauses like '>=4.10' or '<4.12' separated by commas" % (spec,))
        clauses.append((match.group(1) or '==', as_version(match.group(2))))
    return clauses


def read_release(proc_path: str = '/proc') -> str:
    """The running kernel's release, from proc_path (so a fixture tree or a host's /proc mounted elsewhere works)."""
    with open(proc_path.rstrip('/') + '/sys/kernel/osrelease') as handle:
        return handle.read().strip()
