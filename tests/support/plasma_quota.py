"""The quotas role's plasma-quota script (a file without .py, as the role installs it), loaded as a module so that
tests can call its functions."""

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "roles" / "quotas" / "files" / "plasma-quota"
_loader = importlib.machinery.SourceFileLoader("plasma_quota", str(SCRIPT))
plasma_quota = importlib.util.module_from_spec(importlib.util.spec_from_loader("plasma_quota", _loader))
sys.modules["plasma_quota"] = plasma_quota  # dataclasses look their module up there
_loader.exec_module(plasma_quota)
