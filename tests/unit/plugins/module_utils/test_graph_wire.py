from ansible_collections.moduscloud.azure_sync.plugins.module_utils._graph_wire import (
    APPLICATION_FIELDS,
    APPLICATION_WIRE,
    TAG_WIRE,
    application_body,
    application_view,
    created_application,
    tag_records,
    tags_with_records,
    wanted_application,
)

APPLICATION = {
    "id": "obj-1",
    "appId": "app-1",
    "displayName": "modusCloud",
    "uniqueName": "modus-cloud-sync",
    "signInAudience": "AzureADMyOrg",
    "web": {
        "redirectUris": ["https://b.example/", "https://a.example/"],
        "homePageUrl": "",
        "logoutUrl": "https://a.example/logout",
        "redirectUriSettings": [{"uri": "https://a.example/", "index": None}],
    },
    "requiredResourceAccess": [],
}


def test_an_application_reads_as_its_option_names():
    assert application_view(APPLICATION) == {
        "app_id": "app-1",
        "object_id": "obj-1",
        "display_name": "modusCloud",
        "unique_name": "modus-cloud-sync",
        "sign_in_audience": "AzureADMyOrg",
        "redirect_uris": ["https://a.example/", "https://b.example/"],
        "home_page_url": None,
    }
    assert application_view({})["redirect_uris"] == []


def test_options_write_back_as_the_properties_they_were_read_from():
    fields = {
        "display_name": "renamed",
        "sign_in_audience": "AzureADMultipleOrgs",
        "redirect_uris": ["https://c.example/"],
        "home_page_url": "https://c.example/",
    }
    body = application_body(fields, current=APPLICATION)
    assert body == {
        "displayName": "renamed",
        "signInAudience": "AzureADMultipleOrgs",
        "web": {"redirectUris": ["https://c.example/"], "homePageUrl": "https://c.example/", "logoutUrl": "https://a.example/logout"},
    }
    assert application_view(dict(APPLICATION, **body))["display_name"] == "renamed"


def test_ids_and_the_unique_name_are_never_written_and_permissions_are_written_as_ids():
    resolved = {"api-1": {"application": {"Directory.Read.All": "role-1"}, "delegated": {}}}
    body = application_body({"app_id": "x", "object_id": "y", "unique_name": "z", "api_permissions": []}, resolved)
    assert body == {"requiredResourceAccess": [{"resourceAppId": "api-1", "resourceAccess": [{"id": "role-1", "type": "Role"}]}]}


def test_a_read_selects_every_property_of_the_table():
    selected = APPLICATION_FIELDS.split(",")
    assert set(field.graph.split(".")[0] for field in APPLICATION_WIRE) <= set(selected)
    assert {"passwordCredentials", "tags"} <= set(selected)


def test_what_a_task_wants_compares_with_what_a_read_gives():
    # The same URIs in another order, repeated, and an empty home page are no change against the read.
    params = {
        "display_name": "modusCloud",
        "sign_in_audience": "AzureADMyOrg",
        "redirect_uris": ["https://b.example/", "https://a.example/", "https://b.example/"],
        "home_page_url": "",
        "app_id": "ignored: Graph chooses it",
        "api_permissions": ["ignored: named through the tenant's APIs"],
    }
    wanted = wanted_application(params)
    view = application_view(APPLICATION)
    assert wanted == dict((option, view[option]) for option in wanted)
    assert set(wanted) == {"display_name", "sign_in_audience", "redirect_uris", "home_page_url"}
    assert "redirect_uris" not in wanted_application(dict(params, redirect_uris=None)), "an option left out is not managed"


def test_a_created_application_is_predicted_with_graphs_ids_unknown_and_every_option_empty():
    created = created_application("(known after apply)")
    assert created == {
        "app_id": "(known after apply)",
        "object_id": "(known after apply)",
        "unique_name": "(known after apply)",
        "display_name": None,
        "sign_in_audience": None,
        "redirect_uris": [],
        "home_page_url": None,
        "api_permissions": [],
    }


def test_the_collections_records_in_the_tags_replace_only_themselves():
    tags = ["HideApp", TAG_WIRE["lease"] + "run-a,2026-01-01T00:00:00Z", TAG_WIRE["handed_over_key"] + "old"]
    assert tag_records(tags) == {"lease": "run-a,2026-01-01T00:00:00Z", "handed_over_key": "old"}
    assert tags_with_records(tags, {"lease": None, "handed_over_key": "new"}) == ["HideApp", TAG_WIRE["handed_over_key"] + "new"]
    assert tag_records(["HideApp"]) == {}
