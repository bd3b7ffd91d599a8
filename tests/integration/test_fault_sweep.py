"""Every request of the main job survives one transient fault, and a kill after any write is repaired.

The positions come from the sandbox's journal of an undisturbed reference run, so the sweep grows with
the job. For each position of a first converge and of a rotation: a single 429 (Retry-After 0) and a
single 503 there each converge, in the same run, to the reference's final state; a run killed right after
the write at that position, then rerun, converges to it too (one application, one secret, no user lost),
and modusCloud's scheduled sync then succeeds with the key each organization holds. All the tenants of a
sweep run in one ansible-playbook run (see fault_sweep.py); its wall time is printed. To keep the suite
fast, a tenant carries the 429 at one position and the 503 at another (bench/reliability.py --strict gives
every fault its own tenant). It is the suite's longest test: about 110 tenant runs of the role in two
playbook runs with forks 8, plus the reruns of the killed tenants.
"""

from fault_sweep import counts, sweep


def test_one_fault_at_any_request_and_a_kill_after_any_write_converge(sandbox, tmp_path, capsys):
    sandbox.reset()
    figures, cases = sweep(sandbox, tmp_path)
    with capsys.disabled():
        print("\nfault sweep: %s; %s" % (figures, counts(cases)))
    assert figures["positions"]["converge"] >= 20 and figures["writes"]["converge"] >= 5
    assert figures["positions"]["rotation"] >= 10
    failed = ["%s: %s" % (case.describe(), "; ".join(case.problems)) for case in cases if case.problems]
    assert not failed, "%d of %d cases did not converge:\n%s" % (len(failed), len(cases), "\n".join(failed))
