import pytest
import requests
import yaml
from ansible import constants
from ansible.errors import AnsibleLookupError

from ansible_collections.moduscloud.azure_sync.plugins.lookup import graph_token
from ansible_collections.moduscloud.azure_sync.plugins.module_utils._auth_device_code import DEVICE_CODE_SCOPES

from ..module_utils.fake_transport import ScriptedAdapter

DISCOVERY = {
    "authorization_endpoint": "https://login.test/t1/oauth2/v2.0/authorize",
    "token_endpoint": "https://login.test/t1/oauth2/v2.0/token",
    "device_authorization_endpoint": "https://login.test/t1/oauth2/v2.0/devicecode",
    "issuer": "https://login.test/t1/v2.0",
}
TOKEN = {"access_token": "tok", "token_type": "Bearer", "expires_in": 3600}
OPTIONS = {"tenant_id": "t1", "client_id": "c1", "authority_host": "https://login.test", "graph_url": "https://graph.test"}


@pytest.fixture
def login(monkeypatch):
    """Script the sign-in host's answers; returns the adapter (its .calls record the requests)."""
    for name in (
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "AZURE_AUTHORITY_HOST",
        "AZURE_TENANT",
        "AZURE_SECRET",
        "AZURE_FEDERATED_TOKEN_FILE",
        "AZURE_SYNC_AUTH",
        "AZURE_SYNC_CA_PATH",
        "IDENTITY_ENDPOINT",
        "MSI_ENDPOINT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")  # no az: auth=auto must not find the Azure CLI

    def script(answers):
        adapter = ScriptedAdapter(answers)
        monkeypatch.setattr(requests.Session, "get_adapter", lambda session, url: adapter)
        return adapter

    return script


def lookup():
    """The plugin with its documented options registered, as the plugin loader would do."""
    name = "moduscloud.azure_sync.graph_token"
    options = yaml.safe_load(graph_token.DOCUMENTATION)["options"]
    constants.config.initialize_plugin_configuration_definitions("lookup", name, options)
    plugin = graph_token.LookupModule()
    plugin._load_name = name
    return plugin


def test_client_secret_from_the_environment_gives_one_token(login, monkeypatch):
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "Xy7~secret")
    adapter = login([(200, DISCOVERY), (200, TOKEN)])
    assert lookup().run([], variables={}, **OPTIONS) == ["tok"]
    assert "client_secret=Xy7~secret" in adapter.calls[1]["body"].replace("%7E", "~")


def test_device_code_shows_the_sign_in_message_on_the_controller_then_returns_the_token(login, monkeypatch):
    shown = []
    monkeypatch.setattr(graph_token.display, "display", shown.append)
    adapter = login(
        [
            (200, DISCOVERY),
            (
                200,
                {
                    "device_code": "dc",
                    "user_code": "ABCD-EFGH",
                    "verification_uri": "https://login.test/device",
                    "expires_in": 900,
                    "interval": 0,
                    "message": "To sign in, open https://login.test/device and enter the code ABCD-EFGH.",
                },
            ),
            (200, TOKEN),
        ]
    )
    assert lookup().run([], variables={}, device_code=True, **OPTIONS) == ["tok"]
    assert shown == ["To sign in, open https://login.test/device and enter the code ABCD-EFGH."]
    assert "device_code=dc" in adapter.calls[2]["body"]
    # Named scopes: a public client has no configured permissions, so ".default" would carry none.
    requested = requests.utils.unquote(adapter.calls[1]["body"].replace("+", " "))
    assert "https://graph.test/Application.ReadWrite.All" in requested and ".default" not in requested


def test_the_documented_device_code_scopes_are_the_ones_the_collection_needs():
    options = yaml.safe_load(graph_token.DOCUMENTATION)["options"]
    assert tuple(options["scopes"]["default"]) == DEVICE_CODE_SCOPES


def test_a_refused_sign_in_is_a_lookup_error_with_the_entra_code(login, monkeypatch):
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "Xy7~secret")
    login([(200, DISCOVERY), (401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."})])
    with pytest.raises(AnsibleLookupError) as caught:
        lookup().run([], variables={}, **OPTIONS)
    assert "invalid_client: AADSTS7000215" in str(caught.value)


def test_missing_credentials_are_named_before_any_request(login):
    adapter = login([])
    with pytest.raises(AnsibleLookupError) as caught:
        lookup().run([], variables={}, **OPTIONS)
    message = str(caught.value)
    assert "no sign-in method is possible" in message
    for tried in (
        "client_secret: no client_secret",
        "certificate: no client_certificate_path",
        "workload_identity: no federated_token_file",
        "managed_identity: no IDENTITY_ENDPOINT",
        "azure_cli: the Azure CLI (az) is not on PATH",
    ):
        assert tried in message
    assert adapter.calls == []


@pytest.mark.parametrize("device_code", [False, True], ids=["client_secret", "device_code"])
def test_a_ca_path_that_does_not_exist_fails_before_any_request(login, monkeypatch, tmp_path, device_code):
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "Xy7~secret")
    adapter = login([])
    missing = str(tmp_path / "no-such-ca.pem")
    with pytest.raises(AnsibleLookupError) as caught:
        lookup().run([], variables={}, device_code=device_code, ca_path=missing, **OPTIONS)
    assert str(caught.value).startswith("ca_path %s does not exist (or is not readable)" % missing)
    assert adapter.calls == []


def test_an_empty_certificate_path_in_the_environment_is_not_the_current_directory(login, monkeypatch):
    # AWX injects AZURE_CLIENT_CERTIFICATE_PATH="" with a client secret credential; a path option would make it
    # the current directory, and the secret and the "certificate" would then be mutually exclusive.
    monkeypatch.setenv("AZURE_CLIENT_CERTIFICATE_PATH", "")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "Xy7~secret")
    login([(200, DISCOVERY), (200, TOKEN)])
    assert lookup().run([], variables={}, **OPTIONS) == ["tok"]


def test_the_azure_rm_variables_sign_in(login, monkeypatch):
    monkeypatch.setenv("AZURE_TENANT", "t1")
    monkeypatch.setenv("AZURE_CLIENT_ID", "c1")
    monkeypatch.setenv("AZURE_SECRET", "Xy7~secret")
    adapter = login([(200, DISCOVERY), (200, TOKEN)])
    options = dict((name, value) for name, value in OPTIONS.items() if name not in ("tenant_id", "client_id"))
    assert lookup().run([], variables={}, **options) == ["tok"]
    assert adapter.calls[0]["url"].startswith("https://login.test/t1/")
