# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checkout the unit tests run from: its root and the files git tracks in it."""

import os
import subprocess

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def tracked():
    """The tracked files that exist (paths relative to ROOT); skips the test outside a git checkout."""
    try:
        out = subprocess.run(['git', 'ls-files', '-z'], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip('not a git checkout')
    return [name for name in out.decode().split('\0') if name and os.path.isfile(os.path.join(ROOT, name))]


def load_yaml(name):
    """A YAML file of the checkout (path relative to ROOT), parsed."""
    with open(os.path.join(ROOT, name)) as handle:
        return yaml.safe_load(handle)
