"""Emulated modusCloud admin API (Proofpoint Essentials API v1) and its scheduled Azure AD sync."""

from .service import ModusCloudService
from .variants import QUESTIONS, VARIANTS, parse_variants

__all__ = ["ModusCloudService", "QUESTIONS", "VARIANTS", "parse_variants"]
