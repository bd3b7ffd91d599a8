"""The exemption_query_matches filter: the same selection the modules save and report, usable in a play."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.moduscloud.azure_sync.plugins.filter.exemption_query import FilterModule

USERS = [
    {"mail": "Svc-Scanner@Contoso.com", "userPrincipalName": "svc-scanner@contoso.com", "department": "IT"},
    {"mail": "sales@contoso.com", "userPrincipalName": "sales@contoso.com", "department": "Shared mailboxes"},
    {"mail": "adele@contoso.com", "userPrincipalName": "adele@contoso.com", "department": None},
    {"mail": None, "userPrincipalName": "svc-nomail@contoso.com", "department": "IT"},
]
matches = FilterModule().filters()["exemption_query_matches"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("[?department == 'Shared mailboxes']", ["sales@contoso.com"]),
        ("[?starts_with(userPrincipalName, 'svc-')]", ["svc-scanner@contoso.com"]),  # the one without mail is left out
        ("[?department == 'IT'].mail", ["svc-scanner@contoso.com"]),  # addresses, lower-cased; null dropped
        ("[?department && contains(department, 'mail')] | [0]", None),  # one object is not a list
        ("[?department == 'Nobody']", []),
    ],
)
def test_the_rule_selects_users_or_addresses(query, expected):
    if expected is None:
        with pytest.raises(AnsibleFilterError, match="must select a list of users or addresses, got an object"):
            matches(USERS, query)
    else:
        assert matches(USERS, query) == expected


def test_a_bad_expression_fails_with_jmespaths_message_and_what_is_allowed():
    with pytest.raises(AnsibleFilterError) as failure:
        matches([], "[?department == ")
    message = str(failure.value)
    assert "exemption_query '[?department == ' is not a valid JMESPath expression: " in message
    assert "Incomplete expression" in message and "[?department=='Shared mailboxes']" in message


def test_a_function_on_a_missing_field_says_how_to_guard_it():
    with pytest.raises(AnsibleFilterError, match=r"guard it, as in \[\?jobTitle && contains"):
        matches(USERS, "[?contains(department, 'mail')]")


@pytest.mark.parametrize("users, query", [({"mail": "a@b.c"}, "[]"), ([], ""), ([], None)])
def test_the_input_must_be_a_list_and_the_query_given(users, query):
    with pytest.raises(AnsibleFilterError, match="exemption_query_matches"):
        matches(users, query)
