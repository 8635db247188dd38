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

from .auth import READ, open_endpoint_to, requires_role
from .schemas import ProblemSchema

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

# status -> (component name, description): answers any protected operation can give ...
EVERY_OPERATION = {
    401: ("Unauthorized", "No valid bearer token was sent."),
    403: ("Forbidden", "The token's role may not call this operation."),
    500: ("ServerError", "The server failed; nothing was applied. Safe to retry."),
}
# ... and those only a change can give.
CHANGES = {
    404: ("NotFound", "Something the request names (item, location, kind) does not exist."),
    409: ("Conflict", "Not enough stock, or a request with this Idempotency-Key is running."),
    413: ("ContentTooLarge", "The body is larger than this endpoint accepts."),
    422: ("ValidationFailed",
          "A field is missing or wrong (see `errors`), or the Idempotency-Key was used for a "
          "different request."),
}


class ServiceApi(Api):
    ERROR_SCHEMA = ProblemSchema
    # Errors are listed per status by ProblemResponses instead of one vague "default".
    DEFAULT_ERROR_RESPONSE_NAME = None


class ProblemResponses(BasePlugin):
    """Adds the problem answers, and Idempotency-Key on changes, to every documented operation."""

    def init_spec(self, spec) -> None:
        spec.components.schema("Problem", schema=ProblemSchema)
        for name, description in [*EVERY_OPERATION.values(), *CHANGES.values()]:
            spec.components.response(
                name, {"description": description, "content": {PROBLEM: {"schema": "Problem"}}}
            )
        spec.components.parameter("IdempotencyKey", "header", {
            "name": "Idempotency-Key", "required": False, "schema": {"type": "string",
                                                                    "maxLength": 255},
            "description": "Send the same key again with the same body to get the stored "
                           "answer (header Idempotent-Replayed: true) without applying twice.",
        })

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        for method, operation in (operations or {}).items():
            if operation.get("security") == []:
                continue  # the health checks need no token and give none of these
            responses = operation.setdefault("responses", {})
            wanted = dict(EVERY_OPERATION)
            if method in MUTATING:
                wanted.update(CHANGES)
                operation.setdefault("parameters", []).append("IdempotencyKey")
                for status, response in responses.items():
                    if str(status).startswith("2") and isinstance(response, dict):
                        response.setdefault("headers", {})["Idempotent-Replayed"] = {
                            "description": "`true` when this is the stored answer to a retry",
                            "schema": {"type": "string", "enum": ["true"]},
                        }
            elif 422 in responses or "422" in responses:
                wanted[422] = CHANGES[422]  # query arguments can be wrong too
            for status, (name, _) in wanted.items():
                responses.pop(status, None)  # flask-smorest's own 422 has the wrong shape
                responses[str(status)] = name


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

