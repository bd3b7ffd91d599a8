"""Where the collection's modules run (plugins/plugin_utils/_in_process.py), through ansible-playbook.

A module runs in the controller's worker process only when a module process would run on the controller with
ansible-playbook's own Python, and the switch `moduscloud_azure_sync_in_process` is not false; anything else
runs it as a module process. Both give the same results: the same data, the same failures (no traceback
either way), and nothing carried from one item of a loop to the next.
"""

import json
import os
import sys

import pytest

from playbook_harness import run_playbook, write_local_playbook
from test_other_cores import CORES, core_playbook

SWITCH = "moduscloud_azure_sync_in_process"
IN_WORKER = "runs in the controller's worker process"
AS_PROCESS = "runs as a module process: "


@pytest.fixture(params=("suite's",) + CORES, ids=lambda core: "core " + core)
def ansible_playbook(request):
    """The ansible-playbook of each tested ansible-core: the suite's own (None), then the newer ones' venvs."""
    return None if request.param == "suite's" else core_playbook(request.param)


def python_of(ansible_playbook):
    """The Python that runs `ansible_playbook` (None: the suite's), under the name `python3` of its venv."""
    return os.path.join(os.path.dirname(ansible_playbook or sys.executable), "python3")


def write_play(path, info, tasks, in_process=True):
    return write_local_playbook(path, info, tasks, name="Where modules run", sandbox=info, **{SWITCH: in_process})


def save(path, expression):
    return {"name": "Save the results", "ansible.builtin.copy": {"content": "{{ %s | to_json }}" % expression, "dest": str(path), "mode": "0600"}}


def where_each_task_ran(output):
    """For each task name in an output at -vvv: 'worker', or the reason it ran as a module process."""
    found = {}
    for section in output.split("\nTASK [")[1:]:
        name = section.split("]", 1)[0]
        if IN_WORKER in section:
            found[name] = "worker"
        elif AS_PROCESS in section:
            found[name] = section.split(AS_PROCESS, 1)[1].splitlines()[0]
    return found


def test_a_module_runs_in_the_worker_only_when_a_module_process_would_run_here_with_this_python(fresh_sandbox, tmp_path, ansible_playbook):
    info = fresh_sandbox.info
    # The same venv's Python under another name: a module process would run it, so it must not run in the worker.
    other_python = python_of(ansible_playbook)
    read = {"moduscloud.azure_sync.azure_domain_info": {}}
    tasks = [
        dict(read, name="default", register="default"),
        dict(read, name="delegated to localhost", register="delegated", delegate_to="localhost"),
        dict(read, name="switched off", register="off", vars={SWITCH: False}),
        dict(read, name="switched off by a string", register="off_string", vars={SWITCH: "no"}),
        dict(read, name="task environment", register="with_environment", environment={"SOMETHING": "1"}),
        dict(read, name="another interpreter", register="interpreter", vars={"ansible_python_interpreter": other_python}),
        # Discovery may find a Python without the collection's requirements (here a pyenv shim): only where it runs counts.
        dict(read, name="interpreter discovery", vars={"ansible_python_interpreter": "auto_silent"}, ignore_errors=True),
        dict(read, name="async", register="started", **{"async": 60, "poll": 1}),
        save(tmp_path / "results.json", "[default, delegated, off, off_string, with_environment, interpreter, started]"),
    ]
    run = run_playbook(write_play(tmp_path / "where.yml", info, tasks), tmp_path, verbosity=3, ansible_playbook=ansible_playbook)
    assert run.returncode == 0, run.output[-6000:]
    where = where_each_task_ran(run.output)
    assert where["default"] == "worker"
    assert where["delegated to localhost"] == "worker"
    assert where["switched off"] == SWITCH + " is false"
    assert where["switched off by a string"] == SWITCH + " is false"
    assert where["task environment"] == "the task sets an environment"
    assert where["another interpreter"].startswith("interpreter %s is not" % other_python)
    assert where["interpreter discovery"] == "the Python interpreter is to be discovered"
    assert where["async"] == "async"
    results = json.loads((tmp_path / "results.json").read_text())
    domains = [result.get("verified_domains") for result in results]
    assert domains[0] and domains == [domains[0]] * len(domains), domains
    assert not any(result.get("changed") for result in results[:-1])


def test_a_switch_that_is_not_a_boolean_fails_the_task(fresh_sandbox, tmp_path):
    tasks = [{"name": "read", "moduscloud.azure_sync.azure_domain_info": {}}]
    run = run_playbook(write_play(tmp_path / "bad.yml", fresh_sandbox.info, tasks, in_process="sometimes"), tmp_path)
    assert run.returncode != 0
    assert SWITCH + " must be a boolean" in run.output


def test_a_loop_in_the_worker_carries_no_result_from_one_item_to_the_next(fresh_sandbox, tmp_path):
    """The first item finds the application, the second finds none."""
    tasks = [
        {"name": "An application", "moduscloud.azure_sync.azure_app_registration": {"unique_name": "loop-app", "display_name": "Loop"}},
        {
            "name": "Look twice",
            "register": "looks",
            "moduscloud.azure_sync.azure_app_registration_info": {"unique_name": "{{ item }}"},
            "loop": ["loop-app", "no-such-app"],
        },
        save(tmp_path / "looks.json", "looks.results"),
    ]
    run = run_playbook(write_play(tmp_path / "loop.yml", fresh_sandbox.info, tasks), tmp_path, verbosity=3)
    assert run.returncode == 0, run.output[-6000:]
    assert where_each_task_ran(run.output)["Look twice"] == "worker"
    first, second = json.loads((tmp_path / "looks.json").read_text())
    assert [app["unique_name"] for app in first["applications"]] == ["loop-app"]
    assert second["applications"] == []


# A test-only module on the collection's base (library/ and action_plugins/ beside the playbook): it fails,
# raises, or warns and changes what a module may change in its process, and reports what it found on start.
PROBE_MODULE = '''#!/usr/bin/python
import logging
import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.warnings import get_warning_messages


def main():
    module = AnsibleModule(argument_spec=dict(password=dict(type="str", no_log=True), do=dict(type="str", required=True)))
    found = dict(warnings=list(get_warning_messages()), cwd=os.getcwd(), umask=os.umask(0o077), probe_env=os.environ.get("PROBE"))
    if module.params["do"] == "fail":
        module.fail_json(msg="the request was refused")
    if module.params["do"] == "raise":
        raise ValueError("something unexpected while handling the request")
    if module.params["do"] == "warn":
        module.warn("a warning of the first item")
        os.environ["PROBE"] = "set by the first item"
        os.chdir("/")
    if module.params["do"] == "log":
        logging.getLogger("msal.probe").warning("a library's log record")
    module.exit_json(found=found)


if __name__ == "__main__":
    main()
'''

PROBE_ACTION = """import importlib.util
import os

from ansible_collections.moduscloud.azure_sync.plugins.plugin_utils._in_process import InProcessModuleAction

_spec = importlib.util.spec_from_file_location("probe_module", os.path.join(os.path.dirname(os.path.dirname(__file__)), "library", "probe.py"))
probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe)


class ActionModule(InProcessModuleAction):
    MODULE = probe
"""


def add_probe(tmp_path):
    (tmp_path / "library").mkdir()
    (tmp_path / "library" / "probe.py").write_text(PROBE_MODULE)
    (tmp_path / "action_plugins").mkdir()
    (tmp_path / "action_plugins" / "probe.py").write_text(PROBE_ACTION)


def test_a_loop_in_the_worker_starts_each_item_as_a_fresh_module_process_would(fresh_sandbox, tmp_path, ansible_playbook):
    """Warnings, the environment, the working directory and the umask: the second item sees none of the first's."""
    add_probe(tmp_path)
    tasks = []
    for in_process in (True, False):
        name = "worker" if in_process else "process"
        tasks.append({"name": name, "probe": {"do": "{{ item }}"}, "loop": ["warn", "quiet"], "vars": {SWITCH: in_process}, "register": name})
    tasks.append(save(tmp_path / "probes.json", "[worker.results, process.results]"))
    run = run_playbook(write_play(tmp_path / "probe.yml", fresh_sandbox.info, tasks), tmp_path, verbosity=3, ansible_playbook=ansible_playbook)
    assert run.returncode == 0, run.output[-6000:]
    where = where_each_task_ran(run.output)
    assert (where["worker"], where["process"]) == ("worker", SWITCH + " is false")
    worker, process = json.loads((tmp_path / "probes.json").read_text())
    first, second = [result["found"] for result in worker]
    assert first == second
    assert first["warnings"] == [] and first["probe_env"] is None and first["cwd"] == str(tmp_path)
    assert [result["found"] for result in process] == [first, second]


def test_a_failure_and_an_exception_read_the_same_in_the_worker_as_in_a_module_process(fresh_sandbox, tmp_path, ansible_playbook):
    add_probe(tmp_path)
    password = "pa55-word-never-shown"
    tasks = []
    for in_process in (True, False):
        for do in ("fail", "raise"):
            name = "%s_%s" % ("worker" if in_process else "process", do)
            tasks.append({"name": name, "probe": {"password": password, "do": do}, "vars": {SWITCH: in_process}, "ignore_errors": True, "register": name})
    tasks.append(save(tmp_path / "failures.json", "[worker_fail, process_fail, worker_raise, process_raise]"))
    run = run_playbook(write_play(tmp_path / "boom.yml", fresh_sandbox.info, tasks), tmp_path, ansible_playbook=ansible_playbook)
    assert run.returncode == 0, run.output[-6000:]
    worker_fail, process_fail, worker_raise, process_raise = json.loads((tmp_path / "failures.json").read_text())
    assert worker_fail["failed"] and worker_fail["msg"] == process_fail["msg"] == "the request was refused"
    assert worker_raise["failed"] and worker_raise["msg"] == process_raise["msg"]
    assert "something unexpected while handling the request" in worker_raise["msg"]
    assert sorted(worker_raise) == sorted(process_raise)
    assert "Traceback" not in run.output
    assert password not in run.output


def test_a_library_log_record_in_the_worker_stays_out_of_the_ansible_log(fresh_sandbox, tmp_path):
    """With ANSIBLE_LOG_PATH, ansible-core puts a handler on the root logger; a module process never reaches it."""
    add_probe(tmp_path)
    log = tmp_path / "ansible.log"
    tasks = [{"name": "log", "probe": {"do": "log"}, "vars": {SWITCH: in_process}} for in_process in (True, False)]
    run = run_playbook(write_play(tmp_path / "log.yml", fresh_sandbox.info, tasks), tmp_path, verbosity=3, env={"ANSIBLE_LOG_PATH": str(log)})
    assert run.returncode == 0, run.output[-6000:]
    assert "TASK [log]" in log.read_text()
    assert "a library's log record" not in log.read_text()
