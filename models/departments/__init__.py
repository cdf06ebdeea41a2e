"""The county's supervising departments (行业主管部门/监管部门) and the sectors (行业领域) each supervises."""

from models.departments.model import Department, Sector

__all__ = ["Department", "Sector"]
