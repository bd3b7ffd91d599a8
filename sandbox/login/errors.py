"""Errors of the emulated Entra login endpoint: AAD's OAuth error with its AADSTS number."""

from __future__ import annotations


class LoginError(Exception):
    """An AAD error: HTTP status, OAuth error, AADSTS number and its description."""

    def __init__(self, status: int, error: str, code: int, description: str):
        super().__init__(description)
        self.status = status
        self.error = error
        self.code = code
        self.description = description


def invalid_client(code: int, description: str) -> LoginError:
    return LoginError(401, "invalid_client", code, description)


def missing(parameter: str) -> LoginError:
    return LoginError(400, "invalid_request", 900144, f"The request body must contain the following parameter: '{parameter}'.")
