"""The hand-over lease and record on the application (tags), against an in-memory application."""

import copy
from datetime import timedelta

import pytest

from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _secret_plan as secrets
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._secret_lease import (
    HANDED_OVER_TAG,
    LEASE_TAG,
    check_lease,
    finish_hand_over,
    handed_over_key_id,
    lease_of,
    release_lease,
    take_lease,
)
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._secret_plan import (
    SecretError,
    plan_present,
    secrets_of,
    utc_now,
)

APP_ID = "4f1c0a7e-3b1d-4c55-9a61-2f7d0c5e8b21"


class FakeApps(object):
    """One application; update_application replaces fields; `meanwhile` runs during a sleep (another run)."""

    def __init__(self, tags=()):
        self.application = {"id": "obj-1", "appId": APP_ID, "tags": list(tags), "passwordCredentials": []}
        self.writes = []
        self.meanwhile = []
        self.slept = []

    def find_application(self, app_id=None, **_):
        assert app_id == APP_ID
        return copy.deepcopy(self.application)

    def update_application(self, object_id, body):
        assert object_id == "obj-1"
        self.writes.append(copy.deepcopy(body))
        self.application.update(copy.deepcopy(body))

    def sleep(self, seconds):
        self.slept.append(seconds)
        if self.meanwhile:
            self.meanwhile.pop(0)()


class Clock(object):
    def __init__(self, apps):
        self.now = 0.0
        self.apps = apps

    def __call__(self):
        return self.now + sum(self.apps.slept)


def lease_tag(holder, seconds):
    return "%s%s,%s" % (LEASE_TAG, holder, secrets.format_datetime(utc_now() + timedelta(seconds=seconds)))


def take(apps, holder, wait_timeout=0, waited_for=None):
    application, other = take_lease(apps, apps.find_application(app_id=APP_ID), holder, 600, wait_timeout,
                                    sleep=apps.sleep, clock=Clock(apps))
    assert other == waited_for
    return application


def test_a_free_application_is_leased_keeping_its_other_tags_and_the_hand_over_record():
    apps = FakeApps(tags=["HideApp", HANDED_OVER_TAG + "old-key"])
    application = take(apps, "run-a")
    assert lease_of(application).holder == "run-a"
    assert lease_of(application).expires > utc_now() + timedelta(seconds=590)
    assert "HideApp" in application["tags"] and handed_over_key_id(application) == "old-key"
    assert len(apps.writes) == 1


def test_an_unexpired_lease_of_another_run_is_waited_for_then_refused_naming_it_without_a_write():
    apps = FakeApps(tags=[lease_tag("run-b", 300)])
    with pytest.raises(SecretError) as caught:
        take(apps, "run-a", wait_timeout=12)
    assert "Another run (run-b) is handing a new client secret of application %s over" % APP_ID in str(caught.value)
    assert apps.writes == [] and sum(apps.slept) >= 12


def test_a_lease_released_while_waiting_is_taken():
    apps = FakeApps(tags=[lease_tag("run-b", 300)])
    apps.meanwhile.append(lambda: apps.update_application("obj-1", {"tags": [HANDED_OVER_TAG + "b-key"]}))
    application = take(apps, "run-a", wait_timeout=60, waited_for="run-b")
    assert lease_of(application).holder == "run-a" and handed_over_key_id(application) == "b-key"


def test_an_expired_lease_is_taken_over():
    apps = FakeApps(tags=[lease_tag("run-b", -5)])
    assert lease_of(take(apps, "run-a")).holder == "run-a"


def test_of_two_runs_that_both_wrote_only_the_last_writer_holds_the_lease():
    apps = FakeApps()
    # run-b reads the free application and writes its lease while run-a waits to read its own back.
    apps.meanwhile.append(lambda: apps.update_application("obj-1", {"tags": [lease_tag("run-b", 600)]}))
    with pytest.raises(SecretError) as caught:
        take(apps, "run-a", wait_timeout=0)
    assert "Another run (run-b)" in str(caught.value)
    assert lease_of(apps.application).holder == "run-b"


def test_the_hand_over_is_finished_only_by_the_holder_and_leaves_the_record():
    apps = FakeApps(tags=[lease_tag("run-b", 600)])
    with pytest.raises(SecretError) as caught:
        check_lease(apps.find_application(app_id=APP_ID), "run-a")
    assert "no longer held by this run (run-a) but by run-b" in str(caught.value)
    finish_hand_over(apps, apps.find_application(app_id=APP_ID), "run-b", "new-key")
    assert apps.application["tags"] == [HANDED_OVER_TAG + "new-key"]


def test_release_gives_up_only_this_runs_lease():
    apps = FakeApps(tags=[lease_tag("run-b", 600), HANDED_OVER_TAG + "k"])
    assert release_lease(apps, apps.find_application(app_id=APP_ID), "run-a") is False
    assert release_lease(apps, apps.find_application(app_id=APP_ID), "run-b") is True
    assert apps.application["tags"] == [HANDED_OVER_TAG + "k"]


def test_a_handed_over_secret_that_is_gone_means_a_dead_key_and_a_new_one():
    now = utc_now()
    application = {"passwordCredentials": [{"keyId": "other", "displayName": "d",
                                            "endDateTime": secrets.format_datetime(now + timedelta(days=300))}]}
    plan = plan_present(secrets_of(application), now, handed_over="handed")
    assert plan.create and "the secret last handed over (handed) no longer exists" in plan.reason
    assert not plan_present(secrets_of(application), now, handed_over="other").create
