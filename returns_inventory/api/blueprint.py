"""The API's blueprint: flask-smorest's, with one rule for arguments nobody declared."""

from __future__ import annotations

from typing import ClassVar

import flask_smorest
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import UnsupportedMediaType

from .json_check import JsonCheck


class StrictParser(FlaskParser):
    # webargs drops unknown query parameters by default; a misspelt filter (`from` for
    # `since`) would then answer 200 with unfiltered data. Like unknown body fields, they are
    # a 422 naming the parameter (the schemas refuse unknown fields).
    DEFAULT_UNKNOWN_BY_LOCATION: ClassVar[dict] = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": None,
        "querystring": None,
    }

    def _raw_load_json(self, req):
        # webargs reads a body of another type as no body at all, so a JSON document sent as
        # text/plain answered "Missing data" for every field; say what is wrong instead.
        if not is_json_request(req) and (
            req.content_length or "chunked" in req.headers.get("Transfer-Encoding", "").lower()
        ):
            raise UnsupportedMediaType(
                f"this endpoint takes an application/json body, not {req.mimetype or 'none'}"
            )
        return super()._raw_load_json(req)

    def _process_location_data(self, location_data, schema, req, location, unknown, validators):
        # A text-only body its JSON Schema accepts is loaded as it is (api/json_check.py).
        check = _CHECKS.get(id(schema))
        if check is not None and location == "json" and not validators:
            loaded = check.loaded(location_data)
            if loaded is not None:
                return loaded
        return super()._process_location_data(location_data, schema, req, location, unknown,
                                              validators)


_CHECKS: dict[int, JsonCheck] = {}


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = StrictParser()

    def arguments(self, schema, *, json_check: bool = False, **kwargs):
        """flask-smorest's, and `json_check=True` for a text-only body that a grader's
        station sends for every unit: checked by its JSON Schema first (api/json_check.py)."""
        # Given a class, webargs builds a schema on every request; marshmallow schemas keep
        # no per-call state, so each endpoint's one instance serves every request.
        if isinstance(schema, type):
            schema = schema()
        if json_check:
            _CHECKS[id(schema)] = JsonCheck(schema)
        if kwargs.get("location", "json") == "json":
            # A body of optional fields may be left out (it reads as {}): say so.
            kwargs.setdefault("required", any(f.required for f in schema.fields.values()))
        return super().arguments(schema, **kwargs)
