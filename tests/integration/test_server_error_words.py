"""What a 500 says must be true of the request it answers."""

from __future__ import annotations


def _explode():
    raise RuntimeError("boom")


def test_a_server_failure_answering_a_read_does_not_speak_of_a_change(app, client, auth):
    app.get("/api/v1/explode")(_explode)
    for method in ("get", "head"):
        response = getattr(client, method)("/api/v1/explode", headers=auth())
        assert response.status_code == 500
    body = client.get("/api/v1/explode", headers=auth()).get_json()
    assert "not applied" not in body["detail"]
    assert "retry" in body["detail"]


def test_a_server_failure_answering_a_change_says_it_was_not_applied(app, client, auth):
    app.post("/api/v1/explode")(_explode)
    body = client.post("/api/v1/explode", headers=auth()).get_json()
    assert body["status"] == 500
    assert body["detail"] == "the server failed; the change was not applied"
