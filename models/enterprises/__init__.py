"""Enterprises (生产经营单位): their register, their derived place, and the spatial questions about them."""

from models.enterprises.model import Enterprise, EnterpriseDepartment, KeyLevel, RiskLevel, Scale, Status

__all__ = ["Enterprise", "EnterpriseDepartment", "KeyLevel", "RiskLevel", "Scale", "Status"]
