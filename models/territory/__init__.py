"""The territorial hierarchy: townships (乡镇/街道), villages (村/社区) and grid cells (网格)."""

from models.territory.model import (
    GRID_CELL,
    LEVELS,
    TOWNSHIP,
    VILLAGE,
    GridCell,
    Level,
    TerritorialUnit,
    Township,
    Village,
    child_level,
)

__all__ = [
    "GRID_CELL",
    "LEVELS",
    "TOWNSHIP",
    "VILLAGE",
    "GridCell",
    "Level",
    "TerritorialUnit",
    "Township",
    "Village",
    "child_level",
]
