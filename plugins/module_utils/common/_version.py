# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: the collection's version, for what modules record on a host.

Written by tools/version.py from galaxy.yml's version (the one source): do not edit it, change
galaxy.yml and run python tools/version.py. A unit test fails when the two differ.
"""

COLLECTION_VERSION = '0.1.0'
