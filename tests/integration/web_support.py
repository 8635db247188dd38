"""Helpers for tests of the web pages: people, logging in, the tokens a form carries."""

from __future__ import annotations

import re

from returns_inventory.services.users import create_user

PASSWORD = "correct horse battery"


def hidden(html: str, name: str) -> str:
    """The value of a hidden input in a rendered page."""
    found = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert found, f"no hidden field {name} in the page"
    return found.group(1)


def log_in(client, uow_factory, role: str = "grader", username: str | None = None):
    """Create a person with this role and log the test client in as them."""
    username = username or f"{role}1"
    create_user(uow_factory, username=username, role=role, password=PASSWORD,
                display_name=f"{role.title()} One")
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={
        "username": username, "password": PASSWORD, "csrf_token": hidden(page, "csrf_token"),
    })
    assert response.status_code == 303, response.get_data(as_text=True)
    return username
