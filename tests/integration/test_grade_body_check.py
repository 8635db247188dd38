"""The grade's body is checked by its JSON Schema first (api/json_check.py): it must accept
exactly what marshmallow would load, load it the same, and leave every refusal to marshmallow
(whose problem documents name the field at fault)."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError, fields

from returns_inventory.api.json_check import JsonCheck
from returns_inventory.api.units import GradeIn
from returns_inventory.http.schemas import StrictSchema

BODIES = [
    {"grade": "A"},
    {"grade": "D", "defects": ["stain", "torn_seam"], "note": "left sleeve"},
    {"grade": "B", "defects": []},
    {"grade": "C", "note": "x" * 2000},
    {"grade": "C", "note": "x" * 2001},
    {"grade": "E"},
    {"grade": "a"},
    {"grade": None},
    {"grade": 1},
    {"grade": ["A"]},
    {},
    {"defects": ["stain"]},
    {"grade": "A", "defects": "stain"},
    {"grade": "A", "defects": [1]},
    {"grade": "A", "defects": None},
    {"grade": "A", "note": None},
    {"grade": "A", "note": 5},
    {"grade": "A", "reason": "unknown field"},
    ["grade", "A"],
    "A",
    None,
]


@pytest.mark.parametrize("body", BODIES)
def test_a_grade_body_is_accepted_and_loaded_exactly_as_marshmallow_would(app, body):
    schema = GradeIn()
    with app.app_context():
        loaded = JsonCheck(schema).loaded(body)
    try:
        expected = schema.load(body)
    except ValidationError:
        assert loaded is None  # refused: marshmallow answers, naming the field
    else:
        assert loaded == expected


def test_a_body_with_a_field_that_converts_what_is_sent_cannot_be_checked_this_way():
    class Counted(StrictSchema):
        sku = fields.String(required=True)
        quantity = fields.Integer(required=True)

    with pytest.raises(TypeError, match="quantity"):
        JsonCheck(Counted())
