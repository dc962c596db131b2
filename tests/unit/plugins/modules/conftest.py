# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import json

import pytest
from ansible.module_utils import _internal
from ansible.module_utils.common import warnings
from ansible.module_utils.testing import patch_module_args


@pytest.fixture
def run_module(capsys, monkeypatch):
    """Run a module's main() with ``args``; return (exit code, parsed JSON result)."""
    def run(main, args):
        # Warnings are process-global in AnsibleModule; each run starts clean, as a real module does.
        monkeypatch.setattr(warnings, '_global_warnings', {})
        # Once a controller-side plugin was imported (the lookup tests), warnings go to Display instead.
        monkeypatch.setattr(_internal, 'is_controller', False)
        with patch_module_args(args):
            with pytest.raises(SystemExit) as exc:
                main()
        return exc.value.code, json.loads(capsys.readouterr().out)
    return run
