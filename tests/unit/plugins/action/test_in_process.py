"""The action plugins that run the collection's modules in the controller's worker (plugins/plugin_utils/_in_process.py)."""

import contextlib
import importlib
import importlib.util
import io
import logging
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
    [
        ("2.19.14", True),
        ("2.19.0rc1", True),
        ("2.20.0", True),
        ("2.21.5", True),
        ("2.18.6", False),
        ("2.17.0", False),
        ("2.22.0", False),
        ("2.190.1", False),
    ],
)
def test_only_a_tested_ansible_core_runs_modules_in_the_worker(version, tested):
    assert _in_process.core_is_tested(version) is tested


def test_the_installed_ansible_core_is_a_tested_one():
    """Otherwise the integration tests would exercise module processes only."""
    assert _in_process.core_is_tested()


def load_afresh(monkeypatch, missing):
    """_in_process loaded again as on a core without the module `missing`."""
    monkeypatch.setitem(sys.modules, missing, None)  # what a core without the module looks like
    spec = importlib.util.spec_from_file_location("in_process_on_another_core", _in_process.__file__)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def test_without_remove_internal_keys_the_base_uses_the_result_object_of_ansible_core_2_21(monkeypatch):
    loaded = load_afresh(monkeypatch, "ansible.vars.clean")
    assert loaded.MISSING_INTERNALS is None and loaded.remove_internal_keys is None

    class Parsed(object):
        cleaned = False

        def remove_internal_keys(self):
            self.cleaned = True

        def as_result_dict(self, for_round_trip=False):
            return {"cleaned": self.cleaned, "for_round_trip": for_round_trip}

    assert loaded._as_execute_module_returns(Parsed()) == {"cleaned": True, "for_round_trip": True}


def test_without_the_private_internals_the_base_still_loads_and_sends_every_task_to_a_module_process(monkeypatch):
    """A newer core may lack or have moved any of them: it must not break the plugins."""
    loaded = load_afresh(monkeypatch, "ansible.executor.interpreter_discovery")
    assert loaded.MISSING_INTERNALS
    assert issubclass(loaded.InProcessModuleAction, loaded.NormalAction)

    class Task(object):
        action = "moduscloud.azure_sync.moduscloud_sync_info"

    action = loaded.InProcessModuleAction.__new__(loaded.InProcessModuleAction)
    action._task = Task()
    action._templar = type("Templar", (), {"template": staticmethod(lambda value: value)})()
    assert "is not a version the collection runs modules in the worker with" in action.why_a_module_process({})


def an_eligible_action():
    """An action whose task would run in the worker, up to the interpreter lookup."""
    task = type("Task", (), {"action": "moduscloud.azure_sync.azure_domain_info", "async_val": 0, "delegate_to": None})()
    action = _in_process.InProcessModuleAction.__new__(_in_process.InProcessModuleAction)
    action._task = task
    action._templar = type("Templar", (), {"template": staticmethod(lambda value: value)})()
    action._connection = type("Connection", (), {"transport": "local"})()
    action._play_context = type("PlayContext", (), {"become": False})()
    action._compute_environment_string = lambda: ""
    action.MODULE = importlib.import_module("ansible_collections.moduscloud.azure_sync.plugins.modules.azure_domain_info")
    return action


@pytest.mark.parametrize("error", [TypeError("an unexpected keyword argument"), AttributeError("no _get_shebang"), ImportError("moved")])
def test_a_failing_private_interpreter_lookup_sends_the_task_to_a_module_process(monkeypatch, error):
    """ansible-core's _get_shebang or _extract_interpreter changed: the task runs as a module process, not fails."""

    def changed(*args, **kwargs):
        raise error

    monkeypatch.setattr(_in_process.module_common, "_get_shebang", changed)
    reason = an_eligible_action().why_a_module_process({"ansible_python_interpreter": sys.executable})
    assert reason == "ansible-core's interpreter resolution failed here (%s: %s)" % (type(error).__name__, error)


def test_the_interpreter_lookup_itself_lets_a_task_run_in_the_worker(monkeypatch):
    monkeypatch.setattr(_in_process.module_common, "_get_shebang", lambda *args, **kwargs: ("#!" + sys.executable, sys.executable))
    assert an_eligible_action().why_a_module_process({}) is None


@pytest.mark.parametrize("error", [TypeError("an unexpected keyword argument"), AttributeError("no get_module_encoder")])
def test_a_failing_private_argument_encoder_sends_the_task_to_a_module_process(monkeypatch, error):
    """ansible-core's module argument encoder changed: before main() runs, the task runs as a module process."""

    def changed(*args, **kwargs):
        raise error

    def main():
        raise AssertionError("main() ran in the worker")

    monkeypatch.setattr(_in_process.module_common, "_get_shebang", lambda *args, **kwargs: ("#!" + sys.executable, sys.executable))
    monkeypatch.setattr(_in_process.module_json, "get_module_encoder", changed)
    monkeypatch.setattr(_in_process.ActionBase, "run", lambda self, tmp=None, task_vars=None: {})
    monkeypatch.setattr(_in_process.NormalAction, "run", lambda self, tmp=None, task_vars=None: {"ran": "as a module process"})
    action = an_eligible_action()
    action._task.args = {}
    action._update_module_args = lambda name, args, task_vars: None
    action.MODULE = type("Module", (), {"__file__": action.MODULE.__file__, "main": staticmethod(main)})
    assert action.run(task_vars={}) == {"ran": "as a module process"}


def test_a_failing_private_exception_report_after_main_ran_fails_the_task_saying_so(monkeypatch):
    """main() has run (and may have written): no module process again, but a failure that names both errors."""

    def changed(exception, profile):
        raise TypeError("an unexpected keyword argument")

    def main():
        raise RuntimeError("a bug in the module")

    monkeypatch.setattr(_in_process, "report_exception", changed)
    with pytest.raises(_in_process.AnsibleActionFail) as failure:
        _in_process._main_exit_code(main)
    message = str(failure.value)
    assert "The module failed in the controller's worker (RuntimeError: a bug in the module)" in message
    assert "could not report that as a module process would (TypeError: an unexpected keyword argument)" in message
    assert "moduscloud_azure_sync_in_process: false" in message


def test_library_log_records_in_the_worker_reach_none_of_the_controllers_handlers():
    """With ANSIBLE_LOG_PATH, ansible-core puts a handler on the root logger; a module process has none."""
    records = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    root = logging.getLogger()
    handler, saved_level = Collect(), root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        with _in_process._as_a_fresh_process(b"{}"), contextlib.redirect_stderr(io.StringIO()):
            logging.getLogger("msal.application").warning("a token was acquired")
            logging.getLogger("urllib3.connectionpool").info("a connection")
        logging.getLogger("ansible").info("the controller's own record")
        assert records == ["the controller's own record"]
        assert handler in root.handlers and root.level == logging.INFO
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_level)
