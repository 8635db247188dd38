"""Webhooks are never sent to internal addresses (cloud metadata, loopback, private ranges)
unless the internal hosts setting lists them: refused at registration, and again at each send
after resolving the name, connecting only to the address that was checked.

No test here sends anything beyond loopback: names resolve through a pretend DNS, and a guard
refuses (and reports) any connection to another address.
"""

from __future__ import annotations

import pytest

from returns_inventory.integrations.webhook_http import AddressPolicy, post_json
from returns_inventory.services.stock import adjust_stock
from returns_inventory.services.webhooks import (
    DeliveryPolicy,
    deliver_due,
    fan_out,
    register_webhook,
)
from returns_inventory.settings import Settings, SettingsError
from tests.integration import webhook_support

POLICY = DeliveryPolicy(max_attempts=3, base_delay_seconds=10, timeout_seconds=5)

NAMES = {
    "metadata.attacker.example": ["169.254.169.254"],
    "localhost": ["127.0.0.1", "::1"],
    "intranet.example": ["10.1.2.3"],
    "erp.corp.example": ["10.20.1.5"],
    "half.attacker.example": [webhook_support.PUBLIC, "192.168.0.5"],
}


@pytest.fixture
def dns(monkeypatch):
    dns, guard = webhook_support.install(monkeypatch, NAMES)
    yield dns
    assert guard.refused == []


def change_stock(uow_factory) -> None:
    adjust_stock(uow_factory, sku="TEE-BLK", size="M", location="WH1", condition="sellable",
                 quantity=1, reason="count", actor="erp")


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.attacker.example/hook",
    "http://localhost:8080/hook",
    "http://127.0.0.1/hook",
    "http://[::1]/hook",
    "http://[::ffff:169.254.169.254]/hook",
    "http://0.0.0.0/hook",
    "https://intranet.example/hook",
    "http://172.16.0.1/hook",
    "http://100.64.0.1/hook",
    "http://224.0.0.1/hook",
    "http://half.attacker.example/hook",
    "http://nowhere.invalid/hook",
])
@pytest.mark.usefixtures("dns")
def test_a_webhook_url_that_reaches_an_internal_address_is_refused_naming_url(
        client, auth, uow_factory, url):
    answer = client.post("/api/v1/webhooks", headers=auth("admin"), json={"url": url})
    assert answer.status_code == 422, answer.json
    assert answer.json["errors"][0]["field"] == "url"
    with uow_factory() as uow:
        assert uow.webhooks.list() == []


@pytest.mark.usefixtures("dns")
def test_a_public_endpoint_is_accepted_without_any_setting(client, auth):
    answer = client.post("/api/v1/webhooks", headers=auth("admin"),
                         json={"url": "https://erp.example/hook"})
    assert answer.status_code == 201


@pytest.mark.usefixtures("dns")
def test_the_internal_hosts_setting_lets_an_on_premise_erp_in_by_name_or_network(
        app, client, auth):
    app.extensions["ri.settings"] = app.extensions["ri.settings"].replace(
        webhook_allowed_internal_hosts=("ERP.corp.example", "10.1.0.0/16"))
    admin = auth("admin")
    for url in ("http://erp.corp.example/hook", "http://intranet.example/hook",
                "http://10.1.200.7:8443/hook"):
        assert client.post("/api/v1/webhooks", headers=admin,
                           json={"url": url}).status_code == 201, url
    for url in ("http://10.20.1.5/hook", "http://metadata.attacker.example/hook"):
        refused = client.post("/api/v1/webhooks", headers=admin, json={"url": url})
        assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "url"


@pytest.mark.usefixtures("catalogue")
def test_a_name_that_resolves_to_an_internal_address_at_send_time_is_not_sent_to(
        uow_factory, monkeypatch):
    # Public when registered; by the time the event is sent, the name points at the
    # metadata service (DNS rebinding). The send checks again and connects nowhere.
    _dns, guard = webhook_support.install(monkeypatch, {
        "erp.example": [[webhook_support.PUBLIC], ["169.254.169.254"]]})
    register_webhook(uow_factory, url="http://erp.example/hook", actor="admin")
    change_stock(uow_factory)
    fan_out(uow_factory)
    assert deliver_due(uow_factory, POLICY) == {"delivered": 0, "retrying": 1, "failed": 0}
    assert guard.refused == []
    with uow_factory() as uow:
        [delivery] = uow.webhooks.deliveries(status="pending", webhook_id=None, limit=10,
                                             after=None)
    assert delivery["last_error"].startswith("refused:")
    assert "169.254.169.254" in delivery["last_error"]


@pytest.mark.usefixtures("catalogue")
def test_the_send_connects_to_the_address_it_checked_not_to_a_second_lookup(
        uow_factory, monkeypatch, receiver):
    # An allowed on-premise name, looked up at registration and at the send's check; were
    # it looked up a third time to connect, that answer (an address the test guard refuses)
    # would be used.
    port = receiver.server.server_port
    dns, guard = webhook_support.install(monkeypatch, {
        "erp.corp.example": [["127.0.0.1"], ["127.0.0.1"], ["10.66.0.1"]]})
    on_premise = AddressPolicy(("erp.corp.example", "127.0.0.1"))
    register_webhook(uow_factory, url=f"http://erp.corp.example:{port}/erp/events",
                     actor="admin", addresses=on_premise)
    change_stock(uow_factory)
    fan_out(uow_factory)
    assert deliver_due(uow_factory, POLICY, addresses=on_premise)["delivered"] == 1
    assert guard.refused == [] and dns.lookups.count("erp.corp.example") == 2
    [(headers, _body)] = receiver.received
    assert headers["Host"] == f"erp.corp.example:{port}"  # the name, for the endpoint's vhost


def test_without_the_setting_not_even_loopback_is_sent_to(receiver, monkeypatch):
    webhook_support.install(monkeypatch)
    answer = post_json(receiver.url, b"{}", {"Content-Type": "application/json"}, 2)
    assert answer.status is None and answer.error.startswith("refused:")
    assert receiver.received == []
    allowed = post_json(receiver.url, b"{}", {"Content-Type": "application/json"}, 2,
                        addresses=AddressPolicy(("127.0.0.0/8",)))
    assert allowed.ok and len(receiver.received) == 1


def test_the_internal_hosts_setting_is_read_from_the_file_and_the_environment(tmp_path):
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "webhooks.toml").write_text(
        '[endpoints]\nallowed_internal_hosts = ["erp.corp.example", "10.0.0.0/8"]\n')
    env = {"RI_CONFIG_DIR": str(folder), "RI_INSTANCE_PATH": str(tmp_path)}
    assert Settings.load(env=env).webhook_allowed_internal_hosts == (
        "erp.corp.example", "10.0.0.0/8")
    overridden = Settings.load(env={**env, "RI_WEBHOOK_ALLOWED_INTERNAL_HOSTS": "a.lan, b.lan"})
    assert overridden.webhook_allowed_internal_hosts == ("a.lan", "b.lan")
    (folder / "webhooks.toml").write_text('[endpoints]\nallowed_internal_hosts = "10.0.0.1"\n')
    with pytest.raises(SettingsError, match="allowed_internal_hosts"):
        Settings.load(env=env)


def test_the_shipped_configuration_allows_no_internal_host(tmp_path):
    settings = Settings.load(env={"RI_INSTANCE_PATH": str(tmp_path)})
    assert settings.webhook_allowed_internal_hosts == ()
