"""Emulated Microsoft Graph v1.0: the router (service.py) and one module per resource."""

from .service import GraphService

__all__ = ["GraphService"]
