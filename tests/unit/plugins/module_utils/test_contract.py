"""The contract check's report never carries a value of the service, only shapes."""

import json

from ansible_collections.moduscloud.azure_sync.plugins.module_utils import _contract_report as contract
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._moduscloud_wire import WIRE_TABLE

ANSWER = {
    "users": [
        {
            "primary_email": "jane@contoso.example",
            "uid": 100002,
            "alias_emails": ["j@contoso.example"],
            "is_active": True,
            "odin_settings": {"can_impersonate": False},
            "ratio": 0.5,
            "note": None,
        }
    ],
    "by_address": {"jane@contoso.example": {"uid": 1}},
}


def test_a_shape_names_keys_and_json_types_but_no_value():
    seen = contract.shape(ANSWER)
    assert "jane" not in seen and "contoso" not in seen and "100002" not in seen
    assert "primary_email: string" in seen and "uid: integer" in seen and "alias_emails: list[string]" in seen
    assert "is_active: boolean" in seen and "ratio: number" in seen and "note: null" in seen
    assert "<1 keys that are not field names>" in seen  # an address used as a key is hidden


def test_a_date_shows_only_its_form():
    assert contract.date_form("2028-01-01") == "string 9999-99-99"
    assert contract.date_form("2026-06-30T18:15:00Z") == "string 9999-99-99T99:99:99Z"
    assert contract.date_form("Jun 30 2026") == "string AAA 99 9999"
    assert contract.date_form(1830297600) == "integer"


def test_the_report_has_one_row_per_wire_table_row_and_markdown_names_the_differing_ones():
    report = contract.Report()
    report.judge("settings.booleans", False, "read: string true/false")
    report.judge("path.org", True, "an object")
    data = report.as_data()
    assert [row["row"] for row in data["rows"]] == [entry.term for entry in WIRE_TABLE]
    assert data["differing_rows"] == ["settings.booleans"] and data["counts"]["as assumed"] == 1
    markdown = report.markdown()
    assert "| settings.booleans | `JSON boolean`" in markdown and "| differs | read: string true/false |" in markdown
    json.dumps(data)  # JSON-able as it is
