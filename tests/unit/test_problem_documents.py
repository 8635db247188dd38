"""Validation messages become a flat list of {field, reason} that a client can show."""

from __future__ import annotations

from returns_inventory.http.problems import _field_errors


def test_a_location_wrapper_is_dropped_and_fields_keep_their_name():
    messages = {"json": {"sku": ["Missing data for required field."]}}
    assert _field_errors(messages) == [
        {"field": "sku", "reason": "Missing data for required field."}]


def test_nested_fields_and_list_items_get_dotted_and_indexed_paths():
    messages = {"json": {"lines": {0: {"quantity": ["Not a valid integer."]}},
                         "address": {"city": ["Too long.", "Not allowed."]}}}
    assert _field_errors(messages) == [
        {"field": "lines.0.quantity", "reason": "Not a valid integer."},
        {"field": "address.city", "reason": "Too long."},
        {"field": "address.city", "reason": "Not allowed."},
    ]


def test_errors_of_several_locations_are_all_reported():
    messages = {"query": {"limit": ["Too big."]}, "headers": {"X-Thing": ["Bad."]}}
    assert {e["field"] for e in _field_errors(messages)} == {"limit", "X-Thing"}


def test_a_message_about_the_whole_body_names_the_body():
    assert _field_errors({"json": {"_schema": ["Invalid input type."]}}) == [
        {"field": "body", "reason": "Invalid input type."}]
    # Inside the body, marshmallow's key for "the object as a whole" names that object.
    assert _field_errors({"json": {"lines": {0: {"_schema": ["Invalid input type."]}}}}) == [
        {"field": "lines.0", "reason": "Invalid input type."}]
    assert _field_errors(["Invalid input type."]) == [
        {"field": "body", "reason": "Invalid input type."}]


def test_a_list_of_row_errors_is_indexed():
    assert _field_errors({"json": [{"sku": ["bad"]}, {}]}) == [
        {"field": "[0].sku", "reason": "bad"}]
