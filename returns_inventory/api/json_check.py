"""Text-only request bodies checked by their own JSON Schema, compiled (jsonschema-rs).

A grade's body is a few strings, and marshmallow's load of it cost more than its JSON parse.
For a schema whose every field keeps its value as sent (text, lists of text), a document its
JSON Schema accepts is exactly what marshmallow would load, its defaults added; so the JSON
Schema the OpenAPI description publishes for it (apispec's conversion) is compiled once and
asked first. A document it refuses goes on to marshmallow, which names every field at fault
in the problem document as for any other body. A schema that cannot be judged this way (a
field that converts, a rule its JSON Schema does not state) is refused when the endpoint is
declared, not guessed at.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs
from flask import current_app
from marshmallow import Schema, fields, missing, validate

from ..http.schemas import StrictSchema

# Rules apispec states in the JSON Schema (enum, minLength/maxLength or minItems/maxItems).
_STATED = (validate.OneOf, validate.Length)
# StrictSchema's own check looks at numbers, booleans and dates only: nothing in a text body.
_OWN_HOOKS = {"_numbers_whole_and_values_in_range"}


def _refuse(schema: Schema, why: str) -> None:
    raise TypeError(f"{type(schema).__name__} cannot be checked by its JSON Schema alone: {why}")


def _require_text_only(schema: Schema) -> None:
    if not isinstance(schema, StrictSchema):
        _refuse(schema, "not a StrictSchema (unknown fields must be refused)")
    hooks = {name for found in schema._hooks.values() for name, *_ in found}
    if hooks - _OWN_HOOKS:
        _refuse(schema, f"hooks {sorted(hooks - _OWN_HOOKS)}")
    for name, field in schema.load_fields.items():
        if field.data_key not in (None, name) or field.attribute not in (None, name):
            _refuse(schema, f"{name} is renamed")
        _require_text_field(schema, name, field)


def _require_text_field(schema: Schema, name: str, field: fields.Field) -> None:
    if field.allow_none or any(not isinstance(v, _STATED) for v in field.validators):
        _refuse(schema, f"{name} takes null or has a rule its JSON Schema does not state")
    if type(field) is fields.String:
        return
    if type(field) is fields.List:
        _require_text_field(schema, name, field.inner)
    else:
        _refuse(schema, f"{name} is a {type(field).__name__}, which converts what is sent")


class JsonCheck:
    """`loaded(document)`: what the schema would load, or None to let marshmallow judge it."""

    def __init__(self, schema: Schema):
        _require_text_only(schema)
        self.schema = schema
        self._defaults = [(name, field.load_default) for name, field in
                          schema.load_fields.items() if field.load_default is not missing]
        self._validator: Any = None

    def loaded(self, document: Any) -> dict | None:
        if not isinstance(document, dict):
            return None  # no body, or not an object: marshmallow words the refusal
        if self._validator is None:
            self._validator = jsonschema_rs.validator_for(self._json_schema())
        if not self._validator.is_valid(document):
            return None
        data = dict(document)
        for name, default in self._defaults:
            if name not in data:
                data[name] = default() if callable(default) else default
        return data

    def _json_schema(self) -> dict:
        """The schema as the OpenAPI document states it."""
        return current_app.extensions["ri.api"].ma_plugin.converter.schema2jsonschema(
            self.schema)
