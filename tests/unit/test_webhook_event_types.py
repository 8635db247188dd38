"""The event types a webhook may subscribe to are exactly the ones the services write."""

from __future__ import annotations

import ast
from pathlib import Path

import returns_inventory
from returns_inventory.services.webhooks import EVENT_TYPES


def _written_event_types() -> set[str]:
    found = set()
    for path in Path(returns_inventory.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "add" and isinstance(node.func.value, ast.Attribute)
                    and node.func.value.attr == "events"):
                first = node.args[0]
                assert isinstance(first, ast.Constant), f"{path}: event type must be a literal"
                found.add(first.value)
    return found


def test_webhooks_can_subscribe_to_every_event_the_services_write_and_no_other():
    assert _written_event_types() == EVENT_TYPES
