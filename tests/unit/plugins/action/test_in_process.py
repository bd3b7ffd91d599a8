"""The action plugins that run the collection's modules in the controller's worker (plugins/plugin_utils/_in_process.py)."""

import importlib
import importlib.util
import os
import sys

import pytest

from ansible_collections.moduscloud.azure_sync.plugins.plugin_utils import _in_process

PLUGINS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins")
MODULES = sorted(name[:-3] for name in os.listdir(os.path.join(PLUGINS, "modules")) if name.endswith(".py") and not name.startswith("_"))


@pytest.mark.parametrize("name", MODULES)
def test_every_module_has_an_action_plugin_that_runs_that_module(name):
    action = importlib.import_module("ansible_collections.moduscloud.azure_sync.plugins.action." + name)
    module = importlib.import_module("ansible_collections.moduscloud.azure_sync.plugins.modules." + name)
    assert issubclass(action.ActionModule, _in_process.InProcessModuleAction)
    assert action.ActionModule.MODULE is module


def test_the_secret_action_refuses_async_so_a_new_value_is_always_hidden():
    action = importlib.import_module("ansible_collections.moduscloud.azure_sync.plugins.action.azure_app_secret")
    assert action.ActionModule._supports_async is False


@pytest.mark.parametrize(
    "version, tested",
    [("2.19.14", True), ("2.19.0rc1", True), ("2.18.6", False), ("2.17.0", False), ("2.20.0", False), ("2.190.1", False)],
)
def test_only_a_tested_ansible_core_runs_modules_in_the_worker(version, tested):
    assert _in_process.core_is_tested(version) is tested


def test_the_installed_ansible_core_is_a_tested_one():
    """Otherwise the integration tests would exercise module processes only."""
    assert _in_process.core_is_tested()


def test_without_the_private_internals_the_base_still_loads_and_sends_every_task_to_a_module_process(monkeypatch):
    """ansible-core 2.21 has no ansible.vars.clean.remove_internal_keys: a newer core must not break the plugins."""
    source = _in_process.__file__
    monkeypatch.setitem(sys.modules, "ansible.vars.clean", None)  # what a core without the module looks like
    spec = importlib.util.spec_from_file_location("in_process_on_another_core", source)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    assert loaded.MISSING_INTERNALS
    assert issubclass(loaded.InProcessModuleAction, loaded.NormalAction)

    class Task(object):
        action = "moduscloud.azure_sync.moduscloud_sync_info"

    action = loaded.InProcessModuleAction.__new__(loaded.InProcessModuleAction)
    action._task = Task()
    action._templar = type("Templar", (), {"template": staticmethod(lambda value: value)})()
    assert "is not a version the collection runs modules in the worker with" in action.why_a_module_process({})
