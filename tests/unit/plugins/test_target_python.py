# -*- coding: utf-8 -*-
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
