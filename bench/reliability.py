"""Reliability figures of the main job, against a sandbox it starts itself.

    python bench/reliability.py [--strict] [--skip-sweep] [--skip-bad-inputs] [--skip-guard]

Prints three tables, the figures the tests assert case by case, so that they can be rerun:

- the fault sweep: for every request position of a first converge and of a rotation, a 429 and a 503
  there, and a kill right after every write (then a rerun): positions, cases, converged, failed, and the
  wall time (tests/integration/fault_sweep.py; --strict gives every fault its own tenant);
- the bad-input table: each bad role variable, the error the run ends with, and the writes it made before
  (tests/integration/bad_inputs.py);
- the removal guard: before remove_users is saved, and when it is already on (fail / disable), with the
  users modusCloud's scheduled sync removes an hour later.

A benchmark reports; the tests decide.
"""

import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests", "integration")]  # the sandbox and the test harness

from sandbox.launch import RunningSandbox, SandboxStartError  # noqa: E402 (needs the paths above)
from bad_inputs import run_bad_inputs  # noqa: E402
from fault_sweep import counts, sweep  # noqa: E402
from test_removal_guard import LEAVERS, add_leavers, remove_from_entra  # noqa: E402
from test_role import org_state, run_role, scheduled_sync, user_addresses  # noqa: E402


def print_sweep(sandbox, workdir, strict):
    figures, cases = sweep(sandbox, workdir, strict=strict, log=lambda text: print("  " + text, flush=True))
    print(
        "\nFault sweep (%s): %d tenants, %d playbook runs, %.0f s"
        % ("strict" if strict else "429 and 503 paired per tenant", figures["tenants"], figures["runs"], figures["seconds"]["total"])
    )
    print("%-10s %-6s %9s %6s %9s %6s" % ("job", "fault", "positions", "cases", "converged", "failed"))
    for job, kinds in sorted(counts(cases).items()):
        for kind, (total, good) in sorted(kinds.items()):
            positions = figures["writes"][job] if kind == "kill" else figures["positions"][job]
            print("%-10s %-6s %9d %6d %9d %6d" % (job, kind, positions, total, good, total - good))
    for case in cases:
        if case.problems:
            print("  FAILED %s: %s" % (case.describe(), "; ".join(case.problems)))


def print_bad_inputs(sandbox, workdir):
    started = time.monotonic()
    _, rows = run_bad_inputs(sandbox, workdir, prefix="bench")
    print(
        "\nBad inputs: %d, %d refused before any write naming the variable (%.0f s)"
        % (len(rows), sum(not row["problems"] for row in rows), time.monotonic() - started)
    )
    print("%-52s %6s  %s" % ("input", "writes", "error"))
    for row in rows:
        text = row["message"].replace("Preflight refused the run before any write: ", "")
        print("%-52s %6d  %s%s" % (row["case"][:52], row["writes"], text[:150], "" if not row["problems"] else "  <- " + "; ".join(row["problems"])))


def guard_case(sandbox, workdir, name, already_on, action):
    sandbox.reset()
    settings = {"azure_user_sync_remove_users": True, "azure_user_sync_max_removals": LEAVERS - 1}
    leavers = add_leavers(sandbox)
    first = run_role(sandbox, workdir, extra=settings if already_on else None)
    if first.returncode != 0:
        return (name, "setup failed", "-", "-")
    remove_from_entra(sandbox, leavers)
    writes = sandbox.stats()["writes"]
    run = run_role(sandbox, workdir, extra=dict(settings, azure_user_sync_removal_guard=action))
    written = sandbox.stats()["writes"] - writes
    sync = scheduled_sync(sandbox)
    removed = len(set(leavers) - user_addresses(org_state(sandbox)))
    outcome = "refused" if run.returncode else "completed"
    return (name, "%s, %d writes" % (outcome, written), "ok" if sync["ok"] else "failed: %s" % sync["error"], "%d of %d" % (removed, LEAVERS))


def print_guard(sandbox, workdir):
    print("\nRemoval guard: %d users gone from Entra, azure_user_sync_max_removals %d" % (LEAVERS, LEAVERS - 1))
    print("%-44s %-24s %-16s %s" % ("case", "role run", "scheduled sync", "removed by the service"))
    for name, already_on, action in (
        ("remove_users not yet saved", False, "fail"),
        ("remove_users already on, guard fail", True, "fail"),
        ("remove_users already on, guard disable", True, "disable"),
    ):
        print("%-44s %-24s %-16s %s" % guard_case(sandbox, workdir, name, already_on, action))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--strict", action="store_true", help="every fault of the sweep on a tenant of its own")
    for part in ("sweep", "bad-inputs", "guard"):
        parser.add_argument("--skip-" + part, action="store_true", help="do not run the %s part" % part)
    options = parser.parse_args()
    os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", os.path.join(ROOT, ".build", "collections"))
    with tempfile.TemporaryDirectory(prefix="bench-reliability-") as workdir:
        try:
            sandbox = RunningSandbox.start(workdir)
        except SandboxStartError as error:
            raise SystemExit(str(error))
        with sandbox:
            if not options.skip_sweep:
                print_sweep(sandbox, workdir, options.strict)
            if not options.skip_bad_inputs:
                sandbox.reset()
                print_bad_inputs(sandbox, workdir)
            if not options.skip_guard:
                print_guard(sandbox, workdir)


if __name__ == "__main__":
    main()
