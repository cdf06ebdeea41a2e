"""Sectors and supervising departments: thin views over `models.departments`."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.auth import current_caller
from api.conditional import expected_version
from api.db import db
from api.departments import schemas as s
from api.extensions import Blueprint
from api.pagination import list_answer, split_paging
from api.responses import json_response, record_response
from models.departments.queries import department_listing, department_row, sectors
from models.departments.service import create_department, create_sector, retire_department, update_department
from models.roles import ALL_ROLES, Role

READ_NOTE = "Every role reads the county's sectors and departments."
WRITE_NOTE = "County administrators manage them."

sectors_blp = Blueprint(
    "sectors", __name__, url_prefix="/api/v1/sectors", description="Sectors (行业领域): data, not code"
)
departments = Blueprint(
    "departments",
    __name__,
    url_prefix="/api/v1/departments",
    description="Supervising departments (行业主管部门/监管部门): 管行业必须管安全",
)


def department_dict(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "active": row["retired_at"] is None}


def department_response(department_id: int, status: int = 200) -> Any:
    row = department_row(db.session(), caller=current_caller(), department_id=department_id)
    return record_response(
        department_dict(row), status, endpoint="departments.DepartmentItem", department_id=department_id
    )


@sectors_blp.route("")
class Sectors(MethodView):
    @sectors_blp.access(*ALL_ROLES, note=READ_NOTE)
    @sectors_blp.response(200, s.SectorListSchema)
    def get(self) -> Any:
        """List sectors

        Every sector in the order it was added, with the active departments that supervise it. A dozen or so:
        not paged.
        """
        return json_response({"items": sectors(db.session(), caller=current_caller())})

    @sectors_blp.access(Role.COUNTY_ADMIN, note=WRITE_NOTE)
    @sectors_blp.idempotent()
    @sectors_blp.arguments(s.SectorCreateSchema)
    @sectors_blp.response(201, s.SectorSchema)
    @sectors_blp.problem(409, "a sector with this code or name exists")
    def post(self, data: dict[str, Any]) -> Any:
        """Add a sector"""
        sector = create_sector(db.session(), caller=current_caller(), **data)
        body = {"code": sector.code, "name": sector.name, "name_en": sector.name_en, "department_ids": []}
        return json_response(body, 201)


@departments.route("")
class Departments(MethodView):
    @departments.access(*ALL_ROLES, note=READ_NOTE)
    @departments.query(s.DepartmentListArgs)
    @departments.response(200, s.DepartmentPageSchema)
    def get(self, **arguments: Any) -> Any:
        """List departments

        Active departments by code, paged by cursor; `include_retired=true` adds retired ones.
        """
        paging, filters = split_paging(arguments)
        listing = department_listing(caller=current_caller(), **filters)
        return json_response(list_answer(listing, paging, department_dict))

    @departments.access(Role.COUNTY_ADMIN, note=WRITE_NOTE)
    @departments.idempotent()
    @departments.arguments(s.DepartmentCreateSchema)
    @departments.response(201, s.DepartmentSchema)
    @departments.problem(409, "a department with this code or name exists (`existing_id`)")
    def post(self, data: dict[str, Any]) -> Any:
        """Add a department

        With the sectors it supervises: enterprises of those sectors take it as a supervising department.
        """
        department = create_department(db.session(), caller=current_caller(), **data)
        return department_response(department.id, 201)


@departments.route("/<int:department_id>")
class DepartmentItem(MethodView):
    @departments.access(*ALL_ROLES, note=READ_NOTE)
    @departments.response(200, s.DepartmentSchema)
    @departments.problem(404, "no such department")
    def get(self, department_id: int) -> Any:
        """Get a department"""
        return department_response(department_id)

    @departments.access(Role.COUNTY_ADMIN, note=WRITE_NOTE)
    @departments.arguments(s.DepartmentPatchSchema)
    @departments.response(200, s.DepartmentSchema)
    @departments.if_match()
    @departments.problem(404, "no such department")
    @departments.problem(409, "the department is retired, or the code or name is taken")
    def patch(self, data: dict[str, Any], department_id: int) -> Any:
        """Change a department

        Code, name, duty phone, and the sectors it supervises (the whole list).
        """
        update_department(
            db.session(),
            caller=current_caller(),
            department_id=department_id,
            expected_version=expected_version(),
            **data,
        )
        return department_response(department_id)


@departments.route("/<int:department_id>/retire")
class DepartmentRetirement(MethodView):
    @departments.access(Role.COUNTY_ADMIN, note=WRITE_NOTE)
    @departments.idempotent()
    @departments.response(200, s.DepartmentSchema)
    @departments.if_match()
    @departments.problem(404, "no such department")
    @departments.problem(409, "the department still has active staff accounts")
    def post(self, department_id: int) -> Any:
        """Retire a department

        It stays in the records and in the audit trail, and supervises nothing new. Refused while it has active
        staff accounts. Retiring twice is harmless.
        """
        retire_department(
            db.session(), caller=current_caller(), department_id=department_id, expected_version=expected_version()
        )
        return department_response(department_id)


BLUEPRINTS = (sectors_blp, departments)
