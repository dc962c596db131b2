# Copyright: (c) 2026, netops.tcp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to netops.tcp: the base of the actions that run on the controller alone."""

from ansible.plugins.action import ActionBase


class ControllerAction(ActionBase):
    """Runs on the controller only: it needs no connection to the host it is delegated to.
    Subclasses set ARGUMENT_SPEC and call ``start``."""

    TRANSFERS_FILES = False
    _requires_connection = False
    ARGUMENT_SPEC = {}

    def start(self, tmp, task_vars):
        """(validated arguments, the result to fill, task_vars)."""
        _validation, args = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
        result = ActionBase.run(self, tmp, task_vars)
        return args, result, task_vars or {}
