# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: what an audit reads from one host, for audit_facts and tcp_metrics."""

from __future__ import annotations

import json
import typing as t

from ansible_collections.netops.tcp.plugins.module_utils.common import _files as files
from ansible_collections.netops.tcp.plugins.module_utils.gather import _netns as netns
from ansible_collections.netops.tcp.plugins.module_utils.gather import _sysctl as sysctl
from ansible_collections.netops.tcp.plugins.module_utils.model._catalog import CatalogError
from ansible_collections.netops.tcp.plugins.module_utils.gather._census import Census, GatherError, parse_subsets
from ansible_collections.netops.tcp.plugins.module_utils.model._kernel import KernelRelease, KernelVersionError


# Where sysctl_tune writes the host's record (ansible_local.netops_tcp) and the audit reads it: the one
# place the path is set (tests/unit/test_one_source.py checks the copies documentation must hold).
DEFAULT_FACT = '/etc/ansible/facts.d/netops_tcp.fact'

# The options of the modules that read what an audit reads (documented in doc_fragments/_audit.py).
ARGUMENT_SPEC = dict(
    fact_path=dict(type='path', default=DEFAULT_FACT),
    proc_path=dict(type='path', default='/proc'),
    root=dict(type='path', default='/'),
    namespaces=dict(type='list', elements='str', default=[]),
)


class AuditError(Exception):
    pass


def read_record(path: str) -> t.Any:
    """The host's record, None when there is none, or {'error': ...} when it cannot be read as JSON."""
    try:
        text = files.read_text(path)
        return json.loads(text) if text is not None else None
    except (OSError, ValueError) as exc:
        return {'error': '%s: %s' % (path, files.describe(exc))}


def gather(gather_subset: list[str] | None, fact_path: str, proc_path: str = '/proc', root: str = '/',
           namespaces: list[str] | None = None) -> tuple[dict[str, t.Any], list[str]]:
    """({'tcp', 'tcp_sysctl' (with sources), 'tcp_record'}, warnings); AuditError when it cannot. With
    ``namespaces``, ``tcp.namespaces`` holds the census of the other network namespaces they name."""
    try:
        subsets = parse_subsets(gather_subset)
        subsets.add('states')
        gathering = netns.Gathering(namespaces, subsets, proc_path=proc_path) if namespaces else None
        census = Census(proc_path, 'auto', subsets)
        tcp = census.gather()
        tcp_sysctl, problems = sysctl.gather_with_sources(proc_path, root=root)
        if gathering:
            release = KernelRelease(tcp_sysctl['kernel']['release'])
            gathering.settings = lambda: sysctl.namespace_settings(release)
            tcp['namespaces'] = gathering.gather()
            problems += gathering.warnings
    except (GatherError, CatalogError, KernelVersionError, netns.NamespaceError) as exc:
        raise AuditError(str(exc))
    except OSError as exc:
        raise AuditError('cannot read the kernel release under %s: %s' % (proc_path, exc))
    return {'tcp': tcp, 'tcp_sysctl': tcp_sysctl, 'tcp_record': read_record(fact_path)}, census.warnings + problems


def gather_or_fail(module: t.Any) -> dict[str, t.Any]:
    """``gather`` with the module's parameters (ARGUMENT_SPEC and gather_subset): the facts, its
    warnings passed on, or the task failed with the reason."""
    p = module.params
    try:
        facts, warnings = gather(p['gather_subset'], p['fact_path'], p['proc_path'], p['root'], p['namespaces'])
    except AuditError as exc:
        module.fail_json(msg=str(exc))
    for warning in warnings:
        module.warn(warning)
    return facts
