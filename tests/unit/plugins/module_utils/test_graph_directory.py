"""MemberPace: the group member reads keep under Graph's throttling budget once Graph has shown where it is."""

from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_directory import (
    BUDGET_WINDOW,
    LEARN_AFTER,
    MEMBER_SHARE,
    MemberPace,
)


class Clock(object):
    def __init__(self):
        self.now = 1000.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def send(pace, clock, count, admitted=None, throttled=False):
    entry = pace.admit(count, clock.sleep)
    pace.answered(entry, count if admitted is None else admitted, throttled)


def test_reads_are_not_paced_before_graph_throttles_them():
    clock = Clock()
    pace = MemberPace(clock)
    for _batch in range(100):
        send(pace, clock, 20)
    assert pace.limit is None and clock.slept == []


def test_a_429_after_few_of_our_reads_teaches_nothing():
    clock = Clock()
    pace = MemberPace(clock)
    send(pace, clock, 20, admitted=19, throttled=True)
    assert pace.limit is None
    send(pace, clock, 20)
    assert clock.slept == []


def test_after_graph_throttles_them_the_reads_wait_for_room_under_a_share_of_what_it_admitted():
    clock = Clock()
    pace = MemberPace(clock)
    for _batch in range(LEARN_AFTER // 20):
        send(pace, clock, 20)
        clock.now += 0.1
    send(pace, clock, 20, admitted=10, throttled=True)
    used = (LEARN_AFTER // 20) * 20 + 10
    assert pace.limit == int(used * MEMBER_SHARE)
    # The window holds more than the limit: the next batch waits until enough of the oldest reads left it.
    before = clock.now
    send(pace, clock, 20)
    assert len(clock.slept) == 1 and 0 < clock.slept[0] <= BUDGET_WINDOW
    assert clock.now - before == clock.slept[0]
    # A window later every earlier read has left it: no wait.
    clock.now += BUDGET_WINDOW
    send(pace, clock, 20)
    assert len(clock.slept) == 1


def test_a_later_429_lowers_the_limit_and_never_raises_it():
    clock = Clock()
    pace = MemberPace(clock)
    send(pace, clock, LEARN_AFTER * 2, throttled=True)
    first = pace.limit
    assert first == int(LEARN_AFTER * 2 * MEMBER_SHARE)
    clock.now += BUDGET_WINDOW + 1
    send(pace, clock, LEARN_AFTER, throttled=True)
    assert pace.limit == int(LEARN_AFTER * MEMBER_SHARE) < first
    clock.now += BUDGET_WINDOW + 1
    send(pace, clock, LEARN_AFTER * 3, throttled=True)
    assert pace.limit == int(LEARN_AFTER * MEMBER_SHARE)


def test_graph_saying_most_of_the_budget_is_spent_sets_the_limit_before_any_429():
    clock = Clock()
    pace = MemberPace(clock)
    send(pace, clock, 20)
    pace.answered(pace.admit(20, clock.sleep), 20, False, spent=0.9)
    assert pace.limit is None  # 40 of our reads: someone else spent the budget
    pace.answered(pace.admit(LEARN_AFTER, clock.sleep), LEARN_AFTER, False, spent=0.85)
    used = 40 + LEARN_AFTER
    assert pace.limit == int(used * MEMBER_SHARE / 0.85)
    first = pace.limit
    pace.answered(pace.admit(20, clock.sleep), 20, False, spent=1.5)
    assert pace.limit == first  # the warning sets the limit once; only a 429 lowers it
    clock.now += BUDGET_WINDOW + 1
    send(pace, clock, LEARN_AFTER, throttled=True)
    assert pace.limit == int(LEARN_AFTER * MEMBER_SHARE) < first
