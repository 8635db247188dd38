"""The API's blueprint: flask-smorest's, with one rule for arguments nobody declared."""

from __future__ import annotations

import flask_smorest
from webargs.flaskparser import FlaskParser


class StrictParser(FlaskParser):
    # webargs drops unknown query parameters by default; a misspelt filter (`from` for
    # `since`) would then answer 200 with unfiltered data. Like unknown body fields, they are
    # a 422 naming the parameter (the schemas refuse unknown fields).
    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": None,
        "querystring": None,
    }


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = StrictParser()
