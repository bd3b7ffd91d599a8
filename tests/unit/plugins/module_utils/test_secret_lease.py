"""The hand-over lease and record on the application (tags), through a GraphClient against FakeGraph."""

from datetime import timedelta

import pytest

from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _secret_lifetime
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._secret_lease import (
    check_lease,
    finish_hand_over,
    handed_over_key_id,
    lease_of,
    release_lease,
    take_lease,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._errors import SecretError
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_wire import TAG_WIRE
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._secret_lifetime import utc_now
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._secret_plan import plan_present, secrets_of

from ..modules.fake_graph import FakeGraph, client_of

APP_ID = "4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21"


class Tenant(object):
    """One application in a FakeGraph, read and written through a GraphClient as the module does; a sleep runs
    `meanwhile`'s next step (another run writing through a client of its own) and moves `clock` on."""

    def __init__(self, tags=()):
        self.fake = FakeGraph()
        self.object_id = self.fake.add_application("modusCloud", appId=APP_ID, tags=list(tags))["id"]
        self.graph = client_of(self.fake)
        self.other_run = client_of(self.fake)
        self.meanwhile = []
        self.slept = []

    @property
    def application(self):
        return self.fake.applications[self.object_id]

    @property
    def writes(self):
        return self.fake.writes

    def read(self):
        return self.graph.find_application(app_id=APP_ID)

    def other_run_writes(self, tags):
        self.meanwhile.append(lambda: self.other_run.update_application(self.object_id, {"tags": tags}))

    def sleep(self, seconds):
        self.slept.append(seconds)
        if self.meanwhile:
            self.meanwhile.pop(0)()

    def clock(self):
        return sum(self.slept)


def lease_tag(holder, seconds):
    return "%s%s,%s" % (TAG_WIRE["lease"], holder, _secret_lifetime.format_datetime(utc_now() + timedelta(seconds=seconds)))


def take(tenant, holder, wait_timeout=0, waited_for=None):
    application, other = take_lease(tenant.graph, tenant.read(), holder, 600, wait_timeout, sleep=tenant.sleep, clock=tenant.clock)
    assert other == waited_for
    return application


def test_a_free_application_is_leased_keeping_its_other_tags_and_the_hand_over_record():
    tenant = Tenant(tags=["HideApp", TAG_WIRE["handed_over_key"] + "old-key"])
    application = take(tenant, "run-a")
    assert lease_of(application).holder == "run-a"
    assert lease_of(application).expires > utc_now() + timedelta(seconds=590)
    assert "HideApp" in application["tags"] and handed_over_key_id(application) == "old-key"
    assert len(tenant.writes) == 1


def test_an_unexpired_lease_of_another_run_is_waited_for_then_refused_naming_it_without_a_write():
    tenant = Tenant(tags=[lease_tag("run-b", 300)])
    with pytest.raises(SecretError) as caught:
        take(tenant, "run-a", wait_timeout=12)
    assert "Another run (run-b) is handing a new client secret of application %s over" % APP_ID in str(caught.value)
    assert tenant.writes == [] and sum(tenant.slept) >= 12


def test_a_lease_released_while_waiting_is_taken():
    tenant = Tenant(tags=[lease_tag("run-b", 300)])
    tenant.other_run_writes([TAG_WIRE["handed_over_key"] + "b-key"])
    application = take(tenant, "run-a", wait_timeout=60, waited_for="run-b")
    assert lease_of(application).holder == "run-a" and handed_over_key_id(application) == "b-key"


def test_an_expired_lease_is_taken_over():
    tenant = Tenant(tags=[lease_tag("run-b", -5)])
    assert lease_of(take(tenant, "run-a")).holder == "run-a"


def test_of_two_runs_that_both_wrote_only_the_last_writer_holds_the_lease():
    tenant = Tenant()
    # run-b reads the free application and writes its lease while run-a waits to read its own back.
    tenant.other_run_writes([lease_tag("run-b", 600)])
    with pytest.raises(SecretError) as caught:
        take(tenant, "run-a", wait_timeout=0)
    assert "Another run (run-b)" in str(caught.value)
    assert lease_of(tenant.application).holder == "run-b"


def test_the_hand_over_is_finished_only_by_the_holder_and_leaves_the_record():
    tenant = Tenant(tags=[lease_tag("run-b", 600)])
    with pytest.raises(SecretError) as caught:
        check_lease(tenant.read(), "run-a")
    assert "no longer held by this run (run-a) but by run-b" in str(caught.value)
    finish_hand_over(tenant.graph, tenant.read(), "run-b", "new-key")
    assert tenant.application["tags"] == [TAG_WIRE["handed_over_key"] + "new-key"]


def test_release_gives_up_only_this_runs_lease():
    tenant = Tenant(tags=[lease_tag("run-b", 600), TAG_WIRE["handed_over_key"] + "k"])
    assert release_lease(tenant.graph, tenant.read(), "run-a") is False
    assert release_lease(tenant.graph, tenant.read(), "run-b") is True
    assert tenant.application["tags"] == [TAG_WIRE["handed_over_key"] + "k"]


def test_a_handed_over_secret_that_is_gone_means_a_dead_key_and_a_new_one():
    now = utc_now()
    application = {"passwordCredentials": [{"keyId": "other", "displayName": "d", "endDateTime": _secret_lifetime.format_datetime(now + timedelta(days=300))}]}
    plan = plan_present(secrets_of(application), now, handed_over="handed")
    assert plan.create and "the secret last handed over (handed) no longer exists" in plan.reason
    assert not plan_present(secrets_of(application), now, handed_over="other").create
