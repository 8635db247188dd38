"""What the schemas enforce beyond apispec's reading of them, written into the OpenAPI document.

apispec documents Range, Length and OneOf validators; the rules below live elsewhere (the
StrictSchema checks, field options), so without these a client generating valid-looking input
from the document would be refused, and money would be documented as the float it never is.
"""

from __future__ import annotations

from marshmallow import fields, validate
from werkzeug.routing import IntegerConverter

from ..http.schemas import DATE_PATTERN, bounds_of
from ..path_ids import INT32_MAX

# Decimal strings as marshmallow writes them with as_string (no exponent, no NaN).
DECIMAL = r"^-?[0-9]+(\.[0-9]+)?$"
UNSIGNED_DECIMAL = r"^[0-9]+(\.[0-9]+)?$"


def money_as_decimal_strings(self, field, ret, **kwargs) -> dict:
    """A Decimal sent as a string is documented as one: `type: string, format: decimal`."""
    if not (isinstance(field, fields.Decimal) and field.as_string):
        return {}
    ret.pop("minimum", None)  # a number keyword on a string would make the schema invalid
    ret.pop("maximum", None)
    ranges = [v for v in field.validators if isinstance(v, validate.Range)]
    unsigned = any(v.min is not None and v.min >= 0 for v in ranges)
    return {"type": "string", "format": "decimal",
            "pattern": UNSIGNED_DECIMAL if unsigned else DECIMAL}


def whole_numbers_in_range(self, field, ret, **kwargs) -> dict:
    """Integers carry the bounds StrictSchema enforces (32 or 64 bits) unless narrower ones."""
    bounds = bounds_of(field)
    if bounds is None:
        return {}
    low, high = bounds
    out = {"format": "int64" if high > 2**31 else "int32"}
    if "minimum" not in ret and low is not None:
        out["minimum"] = low
    if "maximum" not in ret and high is not None:
        out["maximum"] = high
    return out


def dates_in_range(self, field, ret, **kwargs) -> dict:
    """Dates StrictSchema accepts: years 1900 to 2999."""
    if isinstance(field, fields.Date):  # a date only; DateTime is no Date
        return {"pattern": DATE_PATTERN}
    return {}


def values_refused(self, field, ret, **kwargs) -> dict:
    """NoneOf validators (e.g. a quantity that must not be zero) as `not: {enum: [...]}`."""
    refused = [v for v in field.validators if isinstance(v, validate.NoneOf)]
    if not refused:
        return {}
    return {"not": {"enum": [value for v in refused for value in v.iterable]}}


def urls(self, field, ret, **kwargs) -> dict:
    """A URL field as JSON Schema knows it (`format: uri`), with the schemes it takes."""
    if not isinstance(field, fields.Url):
        return {}
    schemes = sorted({s for v in field.validators if isinstance(v, validate.URL)
                      for s in v.schemes} or {"http", "https"})
    return {"format": "uri", "pattern": "^(" + "|".join(schemes) + ")://[^/?#\\s]"}


def path_id(converter) -> dict:
    """The converter's own bounds (returns_inventory.path_ids): 32-bit keys, or 64-bit ones."""
    largest = converter.max if converter.max is not None else INT32_MAX
    schema = {"type": "integer", "format": "int32" if largest <= INT32_MAX else "int64",
              "minimum": 0, "maximum": largest}
    if converter.signed and converter.min is not None:
        schema["minimum"] = converter.min
    return schema


def init_api(api) -> None:
    converter = api.ma_plugin.converter
    for func in (money_as_decimal_strings, whole_numbers_in_range, dates_in_range,
                 values_refused, urls):
        converter.add_attribute_function(func)
    api.register_converter(IntegerConverter, path_id)
