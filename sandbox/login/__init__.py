"""Emulated Microsoft Entra ID login endpoint: the service (service.py), client authentication
(clients.py) and user sign-in (users.py)."""

from .service import LoginService

__all__ = ["LoginService"]
