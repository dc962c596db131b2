# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Modules and module_utils run on the managed hosts: ansible-core 2.19 supports Python 3.8 there.

Only Python 3.11 is on this machine, so sanity's compile test cannot check older targets;
parsing with the 3.8 grammar catches newer syntax in target code.
"""

import ast
import glob
import os

import pytest

PLUGINS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))), 'plugins')
TARGET_FILES = sorted(glob.glob(os.path.join(PLUGINS, 'modules', '*.py')) + glob.glob(os.path.join(PLUGINS, 'module_utils', '**', '*.py'), recursive=True))


def test_there_is_target_code():
    assert len(TARGET_FILES) >= 8


@pytest.mark.parametrize('path', TARGET_FILES, ids=lambda path: os.path.relpath(path, PLUGINS))
def test_parses_with_python_3_8_grammar(path):
    with open(path) as handle:
        ast.parse(handle.read(), filename=path, feature_version=(3, 8))


def _annotated(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs + [node.args.vararg, node.args.kwarg]
            if node.returns is not None or any(a is not None and a.annotation is not None for a in arguments):
                return True
    return False


@pytest.mark.parametrize('path', TARGET_FILES, ids=lambda path: os.path.relpath(path, PLUGINS))
def test_type_hints_are_not_evaluated(path):
    """Python 3.8 evaluates annotations such as ``list[str]`` or ``int | None`` at import and fails:
    target code with type hints imports ``from __future__ import annotations`` (mypy, run by
    scripts/test.sh lint for Python 3.8, checks what is evaluated: aliases, casts)."""
    with open(path) as handle:
        tree = ast.parse(handle.read(), filename=path)
    if _annotated(tree):
        assert any(isinstance(node, ast.ImportFrom) and node.module == '__future__' and any(a.name == 'annotations' for a in node.names)
                   for node in tree.body), 'type hints without from __future__ import annotations'


def test_the_core_is_typed():
    typed = []
    for path in TARGET_FILES:
        with open(path) as handle:
            if _annotated(ast.parse(handle.read(), filename=path)):
                typed.append(os.path.relpath(path, PLUGINS))
    # mypy's packages (pyproject.toml): module_utils/common, gather and model.
    assert len(typed) >= 11, typed
