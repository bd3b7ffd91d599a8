# -*- coding: utf-8 -*-
# Copyright: contributors to the moduscloud.azure_sync collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The base of the collection's action plugins: a module's main() runs in the controller's worker process
when a module process would run on this machine with this very Python anyway, else as a module process."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import io
import json
import locale
import logging
import os
import sys
import warnings
from collections.abc import Sequence

# The strategy loads an action plugin's class in ansible-playbook's main process before it forks the task's
# worker, so what the action plugins import at their top (ansible's module basics, the module, its module_utils
# and, through them, requests) is imported once per run and every worker inherits it.
from ansible.errors import AnsibleActionFail
from ansible.module_utils import basic
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.plugins.action.normal import ActionModule as NormalAction
from ansible.release import __version__ as ANSIBLE_CORE_VERSION
from ansible.utils.display import Display

# Private parts of ansible-core 2.19 to 2.21 that running a module in the worker needs. Another ansible-core may
# lack or have moved any of them: then this file still loads, and every task runs its module as a process.
try:
    from ansible.executor import module_common
    from ansible.executor.interpreter_discovery import InterpreterDiscoveryRequiredError
    from ansible.module_utils import _internal as module_internal
    from ansible.module_utils._internal._ansiballz._loader import _handle_exception as report_exception
    from ansible.module_utils.common import json as module_json
    from ansible.module_utils.common import warnings as module_warnings
    from ansible.utils.vars import merge_hash

    MISSING_INTERNALS = None
except ImportError as error:
    MISSING_INTERNALS = str(error)

# The one interface that moved between the tested cores: 2.19 and 2.20 parse a module's output into a dict
# that ansible.vars.clean.remove_internal_keys() cleans; 2.21 parses it into a UnifiedTaskResult (without
# that function) that cleans itself. See _as_execute_module_returns().
try:
    from ansible.vars.clean import remove_internal_keys
except ImportError:  # ansible-core 2.21
    remove_internal_keys = None

display = Display()

# The variable that forces module processes (`false`); read from the task's variables, default true.
SWITCH = "moduscloud_azure_sync_in_process"
# The ansible-core versions (major.minor) whose private interfaces this file uses and the tests cover
# (tests/integration/test_in_process.py and test_other_cores.py run on each); any other version runs every
# module as its own process.
TESTED_CORE = ("2.19", "2.20", "2.21")
LOCAL_CONNECTIONS = ("local",)
# The serialization profile ansible-core gives a module that declares none (ours declare none).
PROFILE = "legacy"
# What a call of one of those private interfaces raises when it changed under us. Before main() runs, the task then
# runs its module as a process instead of failing; after, the failure says so (see _main_exit_code).
CHANGED_INTERFACE = (TypeError, AttributeError, ImportError)


def core_is_tested(version=ANSIBLE_CORE_VERSION):
    return ".".join(version.split(".")[:2]) in TESTED_CORE


class InProcessModuleAction(NormalAction):
    """Runs `MODULE` (the module file, imported) in this worker when eligible; otherwise as ansible's normal
    action does. A subclass sets `MODULE` and nothing else, unless it post-processes the result."""

    MODULE = None

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars if task_vars is not None else {}
        reason = self.why_a_module_process(task_vars)
        if reason:
            display.vvv("%s runs as a module process: %s" % (self._task.action, reason))
            return super(InProcessModuleAction, self).run(tmp, task_vars)
        result = ActionBase.run(self, tmp, task_vars)
        try:
            arguments = self._module_arguments(task_vars)
        except CHANGED_INTERFACE as error:
            display.vvv("%s runs as a module process: ansible-core's argument encoding failed here (%s: %s)" % (self._task.action, type(error).__name__, error))
            return super(InProcessModuleAction, self).run(tmp, task_vars)
        display.vvv("%s runs in the controller's worker process %d, from %s" % (self._task.action, os.getpid(), self.MODULE.__file__))
        return merge_hash(result, self._run_in_process(arguments))

    def why_a_module_process(self, task_vars):
        """Why this task must run the module as its own process, or None when it can run in this worker."""
        try:
            enabled = boolean(self._templar.template(task_vars.get(SWITCH, True)), strict=True)
        except TypeError:
            raise AnsibleActionFail("%s must be a boolean" % SWITCH)
        if not enabled:
            return "%s is false" % SWITCH
        if not core_is_tested() or MISSING_INTERNALS:
            return "ansible-core %s is not a version the collection runs modules in the worker with" % ANSIBLE_CORE_VERSION
        if self._connection.transport not in LOCAL_CONNECTIONS:  # the connection after delegation
            return "connection %s" % self._connection.transport
        if self._play_context.become:
            return "become"
        if self._task.async_val:
            return "async"
        if self._compute_environment_string():
            return "the task sets an environment"
        try:
            interpreter = self._module_interpreter(task_vars)
        except CHANGED_INTERFACE as error:
            # A private interface of ansible-core that changed under us: never a failed task, a module process.
            return "ansible-core's interpreter resolution failed here (%s: %s)" % (type(error).__name__, error)
        if interpreter is None:
            return "the Python interpreter is to be discovered"
        if interpreter != sys.executable:
            return "interpreter %s is not ansible-playbook's %s" % (interpreter, sys.executable)
        return None

    def _module_interpreter(self, task_vars):
        """The Python a module process would run under, resolved as ActionBase._configure_module() resolves it
        (the delegated host's variables when delegating), or None when it would have to discover one."""
        use_vars = task_vars.get("ansible_delegated_vars")[self._task.delegate_to] if self._task.delegate_to else task_vars
        with open(self.MODULE.__file__, "rb") as source:
            interpreter, args = module_common._extract_interpreter(source.readline())
        remote_is_local = bool(getattr(self._connection, "_remote_is_local", False))
        try:
            return module_common._get_shebang(interpreter or "/usr/bin/python", use_vars, self._templar, args, remote_is_local=remote_is_local)[1]
        except InterpreterDiscoveryRequiredError:
            return None

    def _module_arguments(self, task_vars):
        """The module's arguments as a module process would get them (ANSIBLE_MODULE_ARGS, encoded)."""
        module_args = dict(self._task.args)
        self._update_module_args(self._task.action, module_args, task_vars)
        encoder = module_json.get_module_encoder(PROFILE, module_json.Direction.CONTROLLER_TO_MODULE)
        return json.dumps({"ANSIBLE_MODULE_ARGS": module_args}, cls=encoder).encode()

    def _run_in_process(self, arguments):
        """What _execute_module() returns for the module, from its main() run here with `arguments`."""
        stdout, stderr = io.StringIO(), io.StringIO()
        with _as_a_fresh_process(arguments), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            rc = _main_exit_code(self.MODULE.main)
        data = self._parse_returned_data({"rc": rc, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}, PROFILE)
        return _as_execute_module_returns(data)


def _main_exit_code(main):
    """Runs a module's main() as the AnsiballZ wrapper does: its exit code; an exception reported on stdout (or, when
    ansible-core's private report of it fails, raised as the task's failure: main() ran, so no module process)."""
    try:
        try:
            main()
            raise RuntimeError("New-style module did not handle its own exit.")
        except Exception as exception:  # not BaseException: modules exit by SystemExit
            try:
                report_exception(exception, PROFILE)
            except CHANGED_INTERFACE as error:
                raise AnsibleActionFail(
                    "The module failed in the controller's worker (%s: %s), and ansible-core %s could not report that as"
                    " a module process would (%s: %s). It ran, so check what it changed; %s: false runs the collection's"
                    " modules as their own processes." % (type(exception).__name__, exception, ANSIBLE_CORE_VERSION, type(error).__name__, error, SWITCH),
                    orig_exc=exception,
                )
    except SystemExit as exit_:
        if exit_.code is None:
            return 0
        return exit_.code if isinstance(exit_.code, int) else 1


def _as_execute_module_returns(data):
    """The post-processing ActionBase._execute_module() gives a module's parsed result (`data`, what
    ActionBase._parse_returned_data() returned: a dict up to ansible-core 2.20, a UnifiedTaskResult on 2.21)."""
    if remove_internal_keys is None:  # ansible-core 2.21
        data.remove_internal_keys()
        return data.as_result_dict(for_round_trip=True)
    data.pop("_ansible_suppress_tmpdir_delete", None)
    if "results" in data and (not isinstance(data["results"], Sequence) or isinstance(data["results"], str)):
        data["ansible_module_results"] = data.pop("results")
        display.warning("Found internal 'results' key in module return, renamed to 'ansible_module_results'.")
    remove_internal_keys(data)
    for stream in ("stdout", "stderr"):
        if stream in data and stream + "_lines" not in data:
            data[stream + "_lines"] = (data.get(stream) or "").splitlines()
    return data


@contextlib.contextmanager
def _as_a_fresh_process(arguments):
    """The process-wide state a module process starts with, and everything a module may change in it put back
    afterwards: ansible's argument buffer and warnings, the environment, working directory, umask, locale,
    Python's warning filters and the root logger. The worker runs one task, but a `loop:` runs main() once per
    item. ansible's module_utils are told they run in a module, not on the controller: a module's warnings then
    go into its result, as a module process's do, instead of straight to the controller's display.
    The root logger has no handlers and level WARNING, as in a module process: with ANSIBLE_LOG_PATH set,
    ansible-core gives it a handler on the log file, which must not receive msal's or urllib3's records."""
    saved_is_controller = module_internal.is_controller
    saved_arguments = basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, getattr(basic, "_PARSED_MODULE_ARGS", None)
    saved_environment = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_umask = os.umask(0o022)
    os.umask(saved_umask)
    saved_locale = locale.setlocale(locale.LC_ALL)
    root_logger = logging.getLogger()
    saved_logging = list(root_logger.handlers), root_logger.level
    del root_logger.handlers[:]
    root_logger.setLevel(logging.WARNING)
    basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE = arguments, PROFILE
    module_internal.is_controller = False
    module_warnings._global_warnings.clear()
    module_warnings._global_deprecations.clear()
    try:
        with warnings.catch_warnings():
            yield
    finally:
        module_internal.is_controller = saved_is_controller
        basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, basic._PARSED_MODULE_ARGS = saved_arguments
        module_warnings._global_warnings.clear()
        module_warnings._global_deprecations.clear()
        if os.environ != saved_environment:
            os.environ.clear()
            os.environ.update(saved_environment)
        os.chdir(saved_cwd)
        os.umask(saved_umask)
        locale.setlocale(locale.LC_ALL, saved_locale)
        root_logger.handlers[:] = saved_logging[0]
        root_logger.setLevel(saved_logging[1])
