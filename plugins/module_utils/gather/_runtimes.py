# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: a container's name and Kubernetes pod from the runtimes' own state files.

No API socket and no command: podman, Docker, containerd and CRI-O keep what names a container
in files under their state directories, readable by root. Each file is read once a run, without
following links, with a bound; one that is missing, too large or not JSON names nothing.
"""

from __future__ import annotations

import json
import os
import re
import typing as t

from ansible_collections.netops.tcp.plugins.module_utils.common import _files as files
from ansible_collections.netops.tcp.plugins.module_utils.common import _text as text

STATE_LIMIT = 64 * 1024 * 1024  # containers.json lists every container of the host
CONFIG_LIMIT = 4 * 1024 * 1024
NAME_LENGTH = 253  # a Kubernetes object name's longest; container names are cut there too

# containers/storage (podman, CRI-O): graphroot and runroot, unless storage.conf moves them
# (containers/storage types/options.go). Containers are listed in <root>/<driver>-containers/
# containers.json, those of `podman run --rm` in volatile-containers.json beside it (store.go,
# containers.go); each one's OCI bundle is <that directory>/<id>/userdata/config.json.
STORAGE_CONFS = ('/etc/containers/storage.conf', '/usr/share/containers/storage.conf')
GRAPHROOT = '/var/lib/containers/storage'
RUNROOT = '/run/containers/storage'
LISTS = ('containers.json', 'volatile-containers.json')
DOCKER_ROOT = '/var/lib/docker'  # <data-root>/containers/<id>/config.v2.json, "Name": "/name" (moby daemon/names.go)
# The kubelet names each pod's log directory <namespace>_<name>_<uid> (kuberuntime BuildPodLogsDirectory);
# nothing under /var/lib/kubelet/pods/<uid> names the pod.
POD_LOGS = '/var/log/pods'
# containerd's runtime v2 bundles (config.json holds the CRI's annotations), per containerd namespace.
CONTAINERD_TASKS = ('/run/containerd/io.containerd.runtime.v2.task', '/run/containerd/io.containerd.runtime.v1.linux')
CONTAINERD_NAMESPACES = ('k8s.io', 'moby', 'default')

# Pod annotations: containerd's CRI plugin (internal/cri/annotations, pkg/cri/annotations before 2.0),
# then the kubelet's labels, which CRI-O copies into its annotations and dockershim kept as labels.
_POD_KEYS = (('io.kubernetes.cri.sandbox-namespace', 'io.kubernetes.cri.sandbox-name', 'io.kubernetes.cri.sandbox-uid'),
             ('io.kubernetes.pod.namespace', 'io.kubernetes.pod.name', 'io.kubernetes.pod.uid'))
_NAME_KEYS = ('io.kubernetes.cri.container-name', 'io.kubernetes.container.name')
_SANDBOX = (('io.kubernetes.cri.container-type', 'sandbox'), ('io.kubernetes.cri-o.ContainerType', 'sandbox'),
            ('io.kubernetes.docker.type', 'podsandbox'))
_STORAGE_SETTING = re.compile(r'^\s*(graphroot|runroot)\s*=\s*"([^"]+)"', re.M)


def _text(value: object) -> str | None:
    """Host text kept as a name: a non-empty string cut to NAME_LENGTH, every character visible."""
    return text.visible(value[:NAME_LENGTH]) if isinstance(value, str) and value else None


def _json(path: str, limit: int = CONFIG_LIMIT) -> t.Any:
    try:
        text = files.read_text(path, follow=False, limit=limit)
        return json.loads(text) if text is not None else None
    except (OSError, ValueError, RecursionError):
        return None


def from_annotations(annotations: object) -> dict[str, t.Any]:
    """{'name', 'pod' ("namespace/name"), 'pod_uid', 'sandbox'} the CRI annotations (or dockershim
    labels) of a container say; {} when they say nothing."""
    if not isinstance(annotations, dict):
        return {}
    found: dict[str, t.Any] = {}
    for namespace_key, name_key, uid_key in _POD_KEYS:
        namespace, name = _text(annotations.get(namespace_key)), _text(annotations.get(name_key))
        if name:
            found['pod'] = '%s/%s' % (namespace, name) if namespace else name
            found['pod_uid'] = _text(annotations.get(uid_key))
            break
    for key in _NAME_KEYS:
        if _text(annotations.get(key)):
            found['name'] = _text(annotations.get(key))
            break
    found['sandbox'] = any(annotations.get(key) == value for key, value in _SANDBOX)
    return found


class State:
    """The runtimes' state under ``root``, read as needed and kept for the run."""

    def __init__(self, root: str = '/') -> None:
        self.root = root
        self._storage: list[str] | None = None
        self._names: dict[str, str] | None = None
        self._pods: dict[str, str] | None = None

    def _path(self, path: str) -> str:
        return os.path.join(self.root, path.lstrip('/'))

    def storage(self) -> list[str]:
        """containers/storage's <driver>-containers directories, under its graphroot and runroot."""
        if self._storage is None:
            roots = {'graphroot': GRAPHROOT, 'runroot': RUNROOT}
            for conf in STORAGE_CONFS:
                try:
                    settings = files.read_text(self._path(conf), errors='replace', follow=False, limit=CONFIG_LIMIT)
                except OSError:
                    settings = None
                if settings is not None:
                    roots.update(_STORAGE_SETTING.findall(settings))
                    break
            found: list[str] = []
            for root in (roots['graphroot'], roots['runroot']):
                try:
                    names = sorted(os.listdir(self._path(root)))
                except OSError:
                    continue
                found += [os.path.join(root, name) for name in names if name.endswith('-containers')]
            self._storage = found
        return self._storage

    def storage_names(self) -> dict[str, str]:
        """{container id: its first name} of containers/storage's lists (podman, CRI-O)."""
        if self._names is None:
            self._names = {}
            for directory in self.storage():
                for name in LISTS:
                    listed = _json(self._path(os.path.join(directory, name)), STATE_LIMIT)
                    for item in listed if isinstance(listed, list) else []:
                        if not isinstance(item, dict):
                            continue
                        names = item.get('names')
                        if isinstance(item.get('id'), str) and isinstance(names, list) and names and _text(names[0]):
                            self._names[item['id']] = _text(names[0])  # type: ignore[assignment]
        return self._names

    def pod_name(self, uid: str) -> str | None:
        """"namespace/name" of the pod ``uid``, from the kubelet's pod log directories."""
        if self._pods is None:
            self._pods = {}
            try:
                names = os.listdir(self._path(POD_LOGS))
            except OSError:
                names = []
            for name in names:
                parts = name.split('_')
                if len(parts) == 3 and all(parts):
                    self._pods[parts[2]] = _text('%s/%s' % (parts[0], parts[1]))  # type: ignore[assignment]
        return self._pods.get(uid)

    def container(self, runtime: str, ident: str) -> dict[str, t.Any]:
        """{'runtime', 'name', 'pod', 'pod_uid', 'sandbox'} of a container (64 hex digits), each None or
        False when its runtime's files do not say (or say it in a shape they never have)."""
        found: dict[str, t.Any] = {'runtime': runtime, 'name': None, 'pod': None, 'pod_uid': None, 'sandbox': False}
        if not re.match(r'^[0-9a-f]{64}$', ident):
            return found
        try:
            return self._container(dict(found), runtime, ident)
        except Exception:  # pylint: disable=broad-except
            return found  # a runtime's file of another shape: the container stays unnamed, the census goes on

    def _container(self, found: dict[str, t.Any], runtime: str, ident: str) -> dict[str, t.Any]:
        if runtime in ('podman', 'cri-o'):
            found['name'] = self.storage_names().get(ident)
            for directory in self.storage():
                config = _json(self._path(os.path.join(directory, ident, 'userdata', 'config.json')))
                if isinstance(config, dict):
                    found.update(from_annotations(config.get('annotations')))
                    break
        elif runtime == 'docker':
            config = _json(self._path(os.path.join(DOCKER_ROOT, 'containers', ident, 'config.v2.json')))
            if isinstance(config, dict):
                found['name'] = _text(config.get('Name'))
                found['name'] = found['name'].lstrip('/') if found['name'] else None
                labels = config.get('Config')
                found.update(from_annotations(labels.get('Labels') if isinstance(labels, dict) else None))
        elif runtime == 'containerd':
            for tasks in CONTAINERD_TASKS:
                for namespace in CONTAINERD_NAMESPACES:
                    config = _json(self._path(os.path.join(tasks, namespace, ident, 'config.json')))
                    if isinstance(config, dict):
                        found.update(from_annotations(config.get('annotations')))
                        return found
        return found
