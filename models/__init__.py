"""Mapped classes and the rules that belong to them. `models` never imports `api`."""

from models.base import Base
from models.territory import GridCell, Township, Village

__all__ = ["Base", "GridCell", "Township", "Village"]
