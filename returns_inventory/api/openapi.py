"""The OpenAPI document and its Swagger UI page, served from our own files (works offline)."""

from __future__ import annotations

from pathlib import Path

from apispec import BasePlugin
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    render_template,
    send_from_directory,
    url_for,
)
from flask_smorest import Api
from swagger_ui_bundle import swagger_ui_path

from ..http.auth import READ, open_endpoint_to, requires_role
from ..http.schemas import ProblemSchema
from . import openapi_fields

API_PREFIX = "/api/v1"
ASSETS_PREFIX = f"{API_PREFIX}/docs/assets"
PROBLEM = "application/problem+json"
MUTATING = {"post", "put", "patch", "delete"}
# The files swagger_ui.html loads; nothing else from the bundle is served.
ASSETS = frozenset(
    {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
     "favicon-16x16.png", "favicon-32x32.png"}
)
# Our own: starts Swagger UI without an inline script (see web/headers.py).
OWN_ASSETS = Path(__file__).parent / "static"

# status -> (component name, description) of every problem an operation may answer with.
PROBLEMS = {
    400: ("BadRequest", "The Idempotency-Key header is longer than 255 characters."),
    401: ("Unauthorized", "No valid bearer token was sent."),
    403: ("Forbidden", "The token's role may not call this operation."),
    404: ("NotFound", "Something the request names (item, location, kind) does not exist."),
    409: ("Conflict", "Not enough stock, or a request with this Idempotency-Key is running."),
    413: ("ContentTooLarge", "The body is larger than this endpoint accepts."),
    415: ("UnsupportedMediaType", "The body is not the media type this endpoint takes."),
    422: ("ValidationFailed",
          "A field is missing or wrong (see `errors`), or the Idempotency-Key was used for a "
          "different request."),
    500: ("ServerError", "The server failed; nothing was applied. Safe to retry."),
}
# Which of them an operation can give follows from what it takes (see _problems_of): any
# protected operation ...
EVERY_OPERATION = (401, 403, 500)
# ... a change (the Idempotency-Key, the body limit, a conflict, something named not found) ...
CHANGES = (400, 404, 409, 413, 422)


class ServiceApi(Api):
    ERROR_SCHEMA = ProblemSchema
    # Errors are listed per status by ProblemResponses instead of one vague "default".
    DEFAULT_ERROR_RESPONSE_NAME = None


class ProblemResponses(BasePlugin):
    """Adds the problem answers, and Idempotency-Key on changes, to every documented operation."""

    def init_spec(self, spec) -> None:
        spec.components.schema("Problem", schema=ProblemSchema)
        for name, description in PROBLEMS.values():
            spec.components.response(
                name, {"description": description, "content": {PROBLEM: {"schema": "Problem"}}}
            )
        spec.components.parameter("IdempotencyKey", "header", {
            "name": "Idempotency-Key", "required": False, "schema": {"type": "string",
                                                                    "maxLength": 255},
            "description": "Send the same key again with the same body to get the stored "
                           "answer (header Idempotent-Replayed: true) without applying twice.",
        })

    def schema_helper(self, name, definition, **kwargs) -> dict | None:
        # Rules across fields (e.g. "either filter or ids") a schema states as OPENAPI.
        return getattr(kwargs.get("schema"), "OPENAPI", None)

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            if operation.get("security") != []:  # the health checks need no token
                if method in MUTATING:
                    operation.setdefault("parameters", []).append("IdempotencyKey")
                    _mark_replays(responses)
                for status in _problems_of(path, method, operation, responses):
                    declared = responses.pop(status, None) or responses.pop(str(status), None)
                    responses[str(status)] = _problem_response(status, declared)
            # Errors an operation declares itself (a 415, a 503) are problem documents too.
            for status, response in list(responses.items()):
                if str(status).isdigit() and int(status) >= 400:
                    responses[status] = _problem_response(int(status), response)


def _problems_of(path, method, operation, responses) -> list[int]:
    """The problem statuses this operation can answer with, from what it takes."""
    wanted = set(EVERY_OPERATION)
    if method in MUTATING:
        wanted.update(CHANGES)
    if "{" in (path or ""):
        wanted.add(404)  # the thing the path names may not exist
    if "requestBody" in operation and "application/json" in operation["requestBody"].get(
            "content", {}):
        wanted.add(415)  # a JSON body sent as another media type (blueprint.StrictParser)
    if 422 in responses or "422" in responses:
        wanted.add(422)  # flask-smorest's mark of an operation with arguments
    return sorted(wanted)


def _problem_response(status: int, declared):
    """The shared component, or the operation's own description with the problem schema."""
    if not isinstance(declared, dict) or not declared.get("description"):
        # Absent, or flask-smorest's own 422 (a name with the wrong shape behind it).
        return PROBLEMS[status][0] if status in PROBLEMS else declared
    content = declared.get("content") or {}
    if PROBLEM not in content:
        declared = {**declared, "content": {PROBLEM: {"schema": "Problem"}}}
    return declared


def _mark_replays(responses) -> None:
    for status, response in responses.items():
        if str(status).startswith("2") and isinstance(response, dict):
            response.setdefault("headers", {})["Idempotent-Replayed"] = {
                "description": "`true` when this is the stored answer to a retry",
                "schema": {"type": "string", "enum": ["true"]},
            }


assets = Blueprint("docs_assets", __name__, url_prefix=ASSETS_PREFIX, template_folder="templates")


@assets.get("/<path:filename>")
@requires_role(*READ)
def swagger_ui_asset(filename: str):
    """Swagger UI's scripts and styles, from the swagger-ui-bundle package (no CDN)."""
    if filename == "api-docs.js":
        return send_from_directory(OWN_ASSETS, filename, max_age=3600)
    if filename not in ASSETS:
        abort(404)
    return send_from_directory(swagger_ui_path, filename, max_age=86400)


def swagger_ui_page():
    """flask-smorest's Swagger UI page, less its inline script (which a CSP would refuse)."""
    return render_template(
        "api_docs.html", title=current_app.config["API_TITLE"],
        spec_url=url_for("api-docs.openapi_json"), assets=f"{ASSETS_PREFIX}/",
        config=current_app.config["OPENAPI_SWAGGER_UI_CONFIG"],
    )


def init_app(app: Flask) -> Api:
    app.config.update(
        API_TITLE="Returns & replenishment API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=f"{ASSETS_PREFIX}/",
        # No validator badge: it would fetch an image from validator.swagger.io.
        OPENAPI_SWAGGER_UI_CONFIG={"persistAuthorization": False, "tryItOutEnabled": False,
                                   "validatorUrl": None},
        API_SPEC_OPTIONS={
            "security": [{"bearer": []}],
            "info": {
                "description": (
                    "Every request needs `Authorization: Bearer <token>`. Requests that change "
                    "data accept an `Idempotency-Key` header. Errors are RFC 9457 problem "
                    "documents (`application/problem+json`)."
                )
            },
        },
    )
    api = ServiceApi(app, spec_kwargs={"extra_plugins": [ProblemResponses()]})
    openapi_fields.init_api(api)
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer",
                   "description": "`returns-inventory token create --name N --role R`"},
    )
    app.register_blueprint(assets)
    app.view_functions["api-docs.openapi_swagger_ui"] = swagger_ui_page
    # Every role may read the contract; a later web login session will open these too.
    for endpoint in ("api-docs.openapi_json", "api-docs.openapi_swagger_ui"):
        open_endpoint_to(app, endpoint, *READ)
    return api

