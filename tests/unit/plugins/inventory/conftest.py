"""The inventory plugin runs in the controller process (see ansible_process in tests/unit/plugins/conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def ansible_process(monkeypatch):
    import ansible._internal  # noqa: F401 -- marks the process as the controller, as ansible-inventory's is
    from ansible.module_utils import _internal

    monkeypatch.setattr(_internal, "is_controller", True)
