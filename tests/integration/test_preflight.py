"""Bad role input fails in the preflight, before any write, naming the variable, the value and what is
allowed: one playbook run, one sandbox tenant per bad input (see bad_inputs.py)."""

from bad_inputs import BAD_INPUTS, run_bad_inputs
from test_role import assert_no_secret


def test_every_bad_input_fails_before_any_write_naming_the_variable(sandbox, tmp_path):
    sandbox.reset()
    run, rows = run_bad_inputs(sandbox, tmp_path)
    assert len(rows) == len(BAD_INPUTS)
    assert_no_secret(run.output)
    wrong = ["%s: %s (message: %s)" % (row["case"], "; ".join(row["problems"]), row["message"][:400]) for row in rows if row["problems"]]
    assert not wrong, "%d of %d bad inputs were not refused properly:\n%s" % (len(wrong), len(rows), "\n".join(wrong))
