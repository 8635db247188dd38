"""Security headers on every answer: what a browser may load, frame, sniff and tell others."""

from __future__ import annotations

from flask import Response, current_app

from ..extensions import policies, settings

# Scripts and styles come only from our own files: no inline <script>, no style attributes,
# no eval. The pages, the station and the API docs are written to need nothing more (the
# chart is SVG with presentation attributes; the heat map uses classes). Images may be data:
# URLs, which Swagger UI's stylesheet uses for its icons.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
# A year, the usual HSTS lifetime; subdomains are left out: they may not all be ours.
HSTS = "max-age=31536000"


def content_security_policy() -> str:
    """The policy, with the hosts item pictures may come from (config/grading.toml)."""
    hosts = policies().grading.image_hosts
    if not hosts:
        return CONTENT_SECURITY_POLICY
    allowed = " ".join(f"https://{host}" for host in hosts)
    return CONTENT_SECURITY_POLICY.replace("img-src 'self' data:",
                                           f"img-src 'self' data: {allowed}")


def _wanted() -> tuple[tuple[str, str, str], ...]:
    """(name, its lower case, value) of every header to set, worked out once per app: the
    policy and settings they come from are read once per app too."""
    found = current_app.extensions.get("ri.security_headers")
    if found is None:
        wanted = [
            ("Content-Security-Policy", content_security_policy()),
            ("X-Frame-Options", "DENY"),  # for browsers predating frame-ancestors
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "same-origin"),
        ]
        if settings().secure_cookies:
            wanted.append(("Strict-Transport-Security", HSTS))
        found = tuple((name, name.lower(), value) for name, value in wanted)
        current_app.extensions["ri.security_headers"] = found
    return found


def add_security_headers(response: Response) -> Response:
    """Set on every response, pages and API alike (a header the view set stays: it may ask
    for stricter)."""
    headers = response.headers
    # One look at the headers set, rather than a scan of them per header (setdefault's).
    present = {name.lower() for name, _ in headers.items()}
    headers.extend([(name, value) for name, lower, value in _wanted() if lower not in present])
    return response
