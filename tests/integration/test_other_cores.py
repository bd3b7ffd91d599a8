"""The main playbook on the ansible-core versions newer than the one the suite runs on.

The suite's own venv has ansible-core 2.19 (the newest Python 3.11 runs). Users run newer cores, whose
private interfaces differ: the action plugins must run the modules in the controller's worker there too
(plugins/plugin_utils/_in_process.py, TESTED_CORE), and the role must converge, stay unchanged on a rerun
and plan without writing. The newest core's rerun runs every module as a process (the switch off), so that
way is covered on a newer core as well. Each core gets a venv of its own under .build/cores (made once,
then reused), with the collection's runtime requirements.
"""

import glob
import os
import shutil
import subprocess
import sys

import pytest
from ansible.release import __version__ as SUITE_CORE

from playbook_harness import COLLECTIONS, ROOT
from test_role import CONSOLE_URL, failure_text, org_state, our_apps, run_role, tenant_state

if COLLECTIONS not in sys.path:  # TESTED_CORE, read from the action plugins' base itself
    sys.path.insert(0, COLLECTIONS)
from ansible_collections.moduscloud.azure_sync.plugins.plugin_utils._in_process import TESTED_CORE  # noqa: E402

# Every tested core (plugins/plugin_utils/_in_process.py, TESTED_CORE, where the modules run) but the suite's own,
# oldest first, so that a core added there is tested here. ansible-core 2.20 and newer need Python 3.12+.
CORES = tuple(core for core in TESTED_CORE if core != ".".join(SUITE_CORE.split(".")[:2]))
PYTHONS = ("python3.12", "python3.13")
SWITCH = "moduscloud_azure_sync_in_process"


def newer_python():
    """A Python 3.12+ that runs: on PATH, or installed by pyenv (whose shims fail for versions not selected)."""
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates = [shutil.which(name) for name in PYTHONS]
    candidates += sorted(glob.glob(os.path.join(pyenv_root, "versions", "3.1[2-9]*", "bin", "python3")))
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys, venv; assert sys.version_info >= (3, 12)"], capture_output=True)
        if probe.returncode == 0:
            return candidate
    return None


def core_playbook(version):
    """ansible-playbook of ansible-core `version` (its newest patch release), installed on first use."""
    python = newer_python()
    if python is None:
        pytest.skip("ansible-core %s needs Python 3.12 or newer, and this machine has none (on PATH or from pyenv)" % version)
    venv = os.path.join(ROOT, ".build", "cores", version)
    installed = os.path.join(venv, ".installed")
    if not os.path.exists(installed):
        with open(os.path.join(ROOT, "requirements.txt")) as handle:
            runtime = [line.strip() for line in handle if line.strip() and not line.startswith(("#", "ansible-core"))]
        subprocess.run([python, "-m", "venv", "--clear", venv], check=True)
        pip = [os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--quiet", "ansible-core==%s.*" % version] + runtime
        subprocess.run(pip, check=True, timeout=600)
        open(installed, "w").close()
    return os.path.join(venv, "bin", "ansible-playbook")


@pytest.mark.parametrize("version", CORES)
def test_the_main_playbook_plans_converges_and_stays_unchanged_on_a_newer_core(fresh_sandbox, tmp_path, version):
    ansible_playbook = core_playbook(version)
    reported = subprocess.run([ansible_playbook, "--version"], capture_output=True, text=True, check=True).stdout
    assert reported.startswith("ansible-playbook [core %s." % version), reported

    writes = fresh_sandbox.stats()["writes"]
    plan = run_role(fresh_sandbox, tmp_path, check=True, ansible_playbook=ansible_playbook)
    assert plan.returncode == 0, failure_text(plan)
    assert fresh_sandbox.stats()["writes"] == writes, "the plan wrote"
    assert plan.total("changed") > 0, "the plan predicted no change on an empty tenant"

    applied = run_role(fresh_sandbox, tmp_path, ansible_playbook=ansible_playbook)
    assert applied.returncode == 0, failure_text(applied)
    assert "Traceback" not in applied.output
    # Every tested core runs the modules in the worker.
    assert "moduscloud.azure_sync.azure_app_registration runs in the controller's worker process" in applied.output
    assert "runs as a module process" not in applied.output
    [app] = our_apps(tenant_state(fresh_sandbox))
    assert app["web"]["redirectUris"] == [CONSOLE_URL]
    assert org_state(fresh_sandbox)["azure"]["application_id"] == app["appId"]

    writes = fresh_sandbox.stats()["writes"]
    as_processes = version == CORES[-1]
    again = run_role(fresh_sandbox, tmp_path, extra={SWITCH: not as_processes}, ansible_playbook=ansible_playbook)
    assert again.returncode == 0, failure_text(again)
    if as_processes:
        assert "runs in the controller's worker process" not in again.output
        assert "runs as a module process: %s is false" % SWITCH in again.output
    assert again.changed_tasks() == [] and again.total("changed") == 0
    assert fresh_sandbox.stats()["writes"] == writes, "the rerun wrote"
