"""The modusCloud port: /api/v1 handed to the emulator in sandbox/moduscloud/ when it is installed, and
modusCloud's error envelope for what it cannot answer (the rest of the sandbox runs without the emulator)."""

from __future__ import annotations

import json

from .web import Request, Response

MODUSCLOUD_PREFIX = "/api/v1"


def moduscloud_class():
    """The modusCloud emulator lives in its own module; the rest of the sandbox runs without it."""
    try:
        from .moduscloud import ModusCloudService
    except ModuleNotFoundError as error:
        if error.name != f"{__package__}.moduscloud":
            raise
        return None
    return ModusCloudService


def _moduscloud_error(status: int, message: str, identifier: str, headers: dict | None = None) -> Response:
    """An error in modusCloud's envelope, as compact JSON like every modusCloud answer."""
    body = json.dumps({"errors": [{"status": status, "error_message": message, "identifier": identifier}]}, separators=(",", ":")).encode()
    return Response(status, body, {"Content-Type": "application/json", **(headers or {})})


class ModusCloudGateway:
    """Hands /api/v1 on the modusCloud port to the emulator written in sandbox/moduscloud/."""

    def __init__(self, sandbox):
        self.sandbox = sandbox

    def handle(self, request: Request) -> Response:
        service = self.sandbox.moduscloud
        if service is None:
            return _moduscloud_error(503, "the modusCloud emulator (sandbox/moduscloud/) is not installed", "")
        if not (request.path + "/").startswith(MODUSCLOUD_PREFIX + "/"):
            return _moduscloud_error(404, "not found", request.path)
        status, headers, body = service.handle(request.method, request.path, request.query, request.headers, request.body)
        return Response(status, body, dict(headers))

    def fault_response(self, rule, request: Request) -> Response:
        headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else {}
        message = rule.message or f"injected fault: HTTP {rule.status}"
        return _moduscloud_error(rule.status, message, rule.code or "", headers)
