"""Schemas of patrol records: input is loaded by marshmallow, output only documented by it."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import marshmallow as ma

from api.departments.schemas import sector_code
from api.errors import coded
from api.extensions import Schema
from api.fields import Day, Instant, coord_system_field, id_field, lat_field, lon_field, text_field
from api.geo_schemas import format_field
from api.pagination import CursorArgs, CursorMetaSchema
from api.territory.schemas import FeatureCollectionBase
from geo.coords import to_wgs84
from models.hazards.model import Kind, Severity, Status
from models.patrols.model import CheckInResult, PatrolKind, TravelMode

UUID_PATTERN = r"\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z"
MAX_POINTS = 20_000  # a day's walk at one fix every 5 s
MAX_CHECK_INS = 500
MAX_BATCH = 100
MAX_FINDINGS = 50
FLAG_CODES = ("implausible-speed", "outside-cells", "check-in-far", "track-gap")


def _enum(values: type, **kwargs: Any) -> ma.fields.Enum:
    return ma.fields.Enum(values, by_value=True, **kwargs)


def _ids(most: int, description: str, **kwargs: Any) -> ma.fields.List:
    return ma.fields.List(
        id_field(),
        validate=ma.validate.Length(max=most, error=coded("invalid", f"at most {most}")),
        metadata={"maxItems": most, "description": description},
        **kwargs,
    )


class FixSchema(Schema):
    at = Instant(required=True)
    lon = lon_field()
    lat = lat_field()
    accuracy_m = ma.fields.Float(
        allow_nan=False,
        validate=ma.validate.Range(0, 10_000, error=coded("invalid", "accuracy_m: 0 to 10,000")),
        metadata={"description": "the fix's accuracy in metres, as the phone reports it"},
    )


# the form of time phones send, read by datetime.fromisoformat as Instant reads it (any other form goes to Instant)
_PLAIN_INSTANT = re.compile(
    r"[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?(?:Z|[+-][01][0-9]:[0-5][0-9])"
)


class Fixes(ma.fields.List):
    """A track's fixes: a list of FixSchema, as the spec says, read by a fast path when every fix is plainly
    well-formed (numbers as JSON numbers within their ranges, a time of the right form, no other member): 300 fixes
    in a fraction of the time nested schemas take. Anything else is read by the nested schemas, whose errors the
    answer gives; both read the same fix to the same value."""

    _KEYS = frozenset({"at", "lon", "lat", "accuracy_m"})
    _REQUIRED = frozenset({"at", "lon", "lat"})

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(ma.fields.Nested(FixSchema), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        fast = self._plain(value)
        return fast if fast is not None else super()._deserialize(value, attr, data, **kwargs)

    def _plain(self, value: Any) -> list[dict[str, Any]] | None:
        if type(value) is not list:
            return None
        numbers, fixes = (int, float), []
        for item in value:
            if type(item) is not dict or not self._REQUIRED <= item.keys() <= self._KEYS:
                return None
            lon, lat, at = item["lon"], item["lat"], item["at"]
            if type(lon) not in numbers or type(lat) not in numbers or type(at) is not str:
                return None
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):  # (NaN fails too)
                return None
            fix = {"lon": float(lon), "lat": float(lat)}
            if "accuracy_m" in item:
                accuracy = item["accuracy_m"]
                if type(accuracy) not in numbers or not 0 <= accuracy <= 10_000:
                    return None
                fix["accuracy_m"] = float(accuracy)
            if not _PLAIN_INSTANT.fullmatch(at):
                return None
            try:
                moment = datetime.fromisoformat(at)
            except ValueError:  # (no 30 February)
                return None
            if not 2000 <= moment.year <= 2099:
                return None
            fix["at"] = moment
            fixes.append(fix)
        return fixes


class _Positioned(Schema):
    """lon and lat both or neither."""

    lon = ma.fields.Float(allow_nan=False, validate=ma.validate.Range(-180, 180), metadata={"example": 113.12})
    lat = ma.fields.Float(allow_nan=False, validate=ma.validate.Range(-90, 90), metadata={"example": 28.23})

    # (said with anyOf rather than dependentRequired, which draft-7 tools, the fuzzer's generator among them, skip)
    json_schema = {  # noqa: RUF012
        "anyOf": [{"required": ["lon", "lat"]}, {"not": {"anyOf": [{"required": ["lon"]}, {"required": ["lat"]}]}}]
    }

    @ma.validates_schema
    def _both_or_neither(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("lon" in data) != ("lat" in data):
            raise ma.ValidationError(coded("invalid", "give both lon and lat, or neither"), "lon")


class FindingSchema(_Positioned):
    """A hazard found: reported to the ledger with the record, by its rules (POST /hazards). Its source follows
    from the patrol's kind; at a check-in, its enterprise and time are the check-in's unless given."""

    description = text_field(2000, required=True, example="灭火器压力不足")
    kind = _enum(Kind, required=True)
    severity = _enum(Severity, required=True)
    place_description = text_field(200, example="G107国道青山桥下", description="where, away from any enterprise")
    sector = sector_code("default: the enterprise's")
    found_at = Instant(metadata={"description": "default: the check-in's time, or the patrol's end"})
    comment = text_field(2000, example="现场发现")


class RecordFindingSchema(FindingSchema):
    enterprise_id = id_field(metadata={"description": "where it was found (in your scope); or give "
                                       "place_description and a position"})  # fmt: skip


def _findings(schema: type) -> ma.fields.List:
    return ma.fields.List(
        ma.fields.Nested(schema),
        load_default=list,
        validate=ma.validate.Length(max=MAX_FINDINGS, error=coded("invalid", f"at most {MAX_FINDINGS} findings")),
        metadata={"maxItems": MAX_FINDINGS, "description": "hazards found: each reported to the ledger"},
    )


class CheckInSchema(_Positioned):
    enterprise_id = id_field(required=True)
    at = Instant(required=True)
    result = _enum(CheckInResult, required=True, metadata={
        "description": "normal 正常, hazards_found 发现隐患, entry_refused 拒绝检查, closed_down 已关停, "
        "suspended_but_producing 擅自复产"})  # fmt: skip
    notes = text_field(2000, example="消防通道畅通")
    findings = _findings(FindingSchema)


class PatrolUploadSchema(Schema):
    """One patrol record as the app recorded it offline; `coord_system` applies to every position in it."""

    uuid = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(UUID_PATTERN, error=coded("uuid-format", "a UUID, e.g. 9f1c...-...")),
        metadata={"example": "3f2b8c1e-7d4a-4b6e-9a2f-1c5d8e7f6a90", "description": "the record's identity, "
                  "made by the app when the patrol starts: the same UUID is the same record"},
    )  # fmt: skip
    kind = _enum(PatrolKind, required=True)
    officer_ids = _ids(50, "participating grid officers (default: the caller, if an officer)")
    user_ids = _ids(50, "participating users (department staff, leaders; default: the caller, if no officer)")
    cell_ids = _ids(50, "the cells patrolled, in your scope", required=True)
    started_at = Instant(required=True)
    ended_at = Instant(required=True)
    coord_system = coord_system_field()
    points = Fixes(
        load_default=list,
        validate=ma.validate.Length(max=MAX_POINTS, error=coded("invalid", f"at most {MAX_POINTS} points")),
        metadata={"maxItems": MAX_POINTS, "description": "the track's fixes, in any order"},
    )
    check_ins = ma.fields.List(
        ma.fields.Nested(CheckInSchema),
        load_default=list,
        validate=ma.validate.Length(max=MAX_CHECK_INS, error=coded("invalid", f"at most {MAX_CHECK_INS}")),
        metadata={"maxItems": MAX_CHECK_INS},
    )
    findings = _findings(RecordFindingSchema)
    travel_mode = _enum(TravelMode, metadata={"description": "how the patrol moved, for its speed check (default: "
                                              "walking for a grid patrol, driving otherwise)"})  # fmt: skip
    notes = text_field(2000, example="例行巡查")

    @ma.post_load
    def _to_wgs84(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        system = data.pop("coord_system")
        found = [f for c in data["check_ins"] for f in c["findings"]]
        for item in [*data["points"], *data["check_ins"], *data["findings"], *found]:
            if "lon" in item:
                lon, lat = to_wgs84(item["lon"], item["lat"], system)
                item["lon"], item["lat"] = round(lon, 7), round(lat, 7)
        return data


class BatchSchema(Schema):
    patrols = ma.fields.List(
        ma.fields.Dict(),
        required=True,
        validate=ma.validate.Length(min=1, max=MAX_BATCH, error=coded("invalid", f"1 to {MAX_BATCH} records")),
        metadata={"maxItems": MAX_BATCH, "description": "records as POST /patrols takes them (PatrolUpload), each "
                  "checked and stored on its own"},
    )  # fmt: skip


class CheckInOutSchema(Schema):
    id = ma.fields.Integer()
    patrol_id = ma.fields.Integer()
    enterprise_id = ma.fields.Integer()
    at = ma.fields.DateTime()
    lon = ma.fields.Float(allow_none=True)
    lat = ma.fields.Float(allow_none=True)
    result = _enum(CheckInResult)
    notes = ma.fields.String(allow_none=True)
    seq = ma.fields.Integer(metadata={"description": "its place in the record's check-ins, from 0"})
    distance_m = ma.fields.Float(allow_none=True, metadata={"description": "from its enterprise's location"})


class FlagSchema(Schema):
    code = ma.fields.String(metadata={"enum": list(FLAG_CODES)})
    detail = ma.fields.String()
    figures = ma.fields.Dict(metadata={"description": "the figures behind the flag (see docs/patrols.md)"})


class FindingOutSchema(Schema):
    hazard_id = ma.fields.Integer()
    number = ma.fields.String(metadata={"description": "the hazard's number in its township's ledger"})
    status = _enum(Status)
    severity = _enum(Severity)
    check_in_id = ma.fields.Integer(allow_none=True)
    check_in_seq = ma.fields.Integer(allow_none=True, metadata={"description": "its check-in's place in the record"})
    seq = ma.fields.Integer(metadata={"description": "its place among its check-in's (or the record's) findings"})


class PatrolSchema(Schema):
    id = ma.fields.Integer()
    uuid = ma.fields.String()
    kind = _enum(PatrolKind)
    officer_ids = ma.fields.List(ma.fields.Integer())
    user_ids = ma.fields.List(ma.fields.Integer())
    person_visits = ma.fields.Integer(metadata={"description": "人次: one per participant"})
    cell_ids = ma.fields.List(ma.fields.Integer())
    township_id = ma.fields.Integer(allow_none=True, metadata={"description": "its first cell's"})
    started_at = ma.fields.DateTime()
    ended_at = ma.fields.DateTime()
    distance_m = ma.fields.Float(metadata={"description": "the track's geodesic length"})
    travel_mode = _enum(TravelMode)
    share_inside = ma.fields.Float(allow_none=True, metadata={"description": "the share of the track's length "
                                                              "inside the patrol's cells"})  # fmt: skip
    flags = ma.fields.List(ma.fields.Nested(FlagSchema), metadata={"description": "plausibility: never a refusal"})
    notes = ma.fields.String(allow_none=True)
    recorded_by_user_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()
    check_ins = ma.fields.List(ma.fields.Nested(CheckInOutSchema), metadata={"description": "empty in lists"})
    findings = ma.fields.List(ma.fields.Nested(FindingOutSchema), metadata={"description": "empty in lists"})


class PatrolPageSchema(CursorMetaSchema):
    items = ma.fields.List(ma.fields.Nested(PatrolSchema))


class PatrolListArgs(CursorArgs):
    kind = _enum(PatrolKind)
    township_id = id_field()
    village_id = id_field(metadata={"description": "a patrol of one of its cells"})
    cell_id = id_field()
    officer_id = id_field(metadata={"description": "a participant"})
    recorded_by_user_id = id_field()
    started_from = Instant()
    started_before = Instant()
    flagged = ma.fields.Boolean(metadata={"description": "with (true) or without (false) any flag"})
    flag = ma.fields.String(validate=ma.validate.OneOf(FLAG_CODES), metadata={"enum": list(FLAG_CODES),
                            "description": "with this flag"})  # fmt: skip


class VisitSchema(CheckInOutSchema):
    patrol_uuid = ma.fields.String()
    kind = _enum(PatrolKind, metadata={"description": "the patrol's"})
    officer_ids = ma.fields.List(ma.fields.Integer(), metadata={"description": "the patrol's participants"})
    user_ids = ma.fields.List(ma.fields.Integer())
    person_visits = ma.fields.Integer(metadata={"description": "the patrol's (人次)"})


class VisitPageSchema(CursorMetaSchema):
    items = ma.fields.List(ma.fields.Nested(VisitSchema))


class VisitListArgs(CursorArgs):
    enterprise_id = id_field(metadata={"description": "an enterprise's visits"})
    officer_id = id_field(metadata={"description": "a participant of the patrol"})
    result = _enum(CheckInResult)
    at_from = Instant()
    at_before = Instant()


class FieldErrorOut(Schema):
    field = ma.fields.String(allow_none=True)
    pointer = ma.fields.String()
    code = ma.fields.String()
    detail = ma.fields.String()
    in_ = ma.fields.String(data_key="in")


class BatchOutcomeSchema(Schema):
    index = ma.fields.Integer(metadata={"description": "the record's place in the batch, from 0"})
    uuid = ma.fields.String(allow_none=True)
    outcome = ma.fields.String(metadata={"enum": ["created", "stored", "refused"]})
    id = ma.fields.Integer(allow_none=True, metadata={"description": "the patrol's id (created or stored)"})
    status = ma.fields.Integer(metadata={"description": "what POST /patrols would have answered for it"})
    code = ma.fields.String(allow_none=True, metadata={"description": "refused: the problem's code"})
    detail = ma.fields.String(allow_none=True)
    errors = ma.fields.List(ma.fields.Nested(FieldErrorOut))


class BatchAnswerSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(BatchOutcomeSchema), metadata={"description": "in the batch's order"})


class PhotoPlaceArgs(Schema):
    check_in = ma.fields.Integer(
        validate=ma.validate.Range(0, MAX_CHECK_INS - 1), metadata={"description": "a check-in's place in the record"}
    )
    finding = ma.fields.Integer(
        validate=ma.validate.Range(0, MAX_FINDINGS - 1),
        metadata={"description": "a finding's place among its check-in's findings (or the record's own)"},
    )


class PatrolPhotoSchema(Schema):
    id = ma.fields.Integer()
    patrol_id = ma.fields.Integer()
    check_in_id = ma.fields.Integer(allow_none=True)
    check_in_seq = ma.fields.Integer(allow_none=True, metadata={"description": "its check-in's place in the record"})
    hazard_id = ma.fields.Integer(allow_none=True, metadata={"description": "a finding's photo: its hazard"})
    hazard_photo_id = ma.fields.Integer(allow_none=True, metadata={"description": "the same photo in the ledger"})
    content_type = ma.fields.String(metadata={"example": "image/jpeg"})
    size = ma.fields.Integer(metadata={"description": "bytes"})
    sha256 = ma.fields.String()
    uploaded_by_user_id = ma.fields.Integer(allow_none=True)
    uploaded_at = ma.fields.DateTime()


class PatrolPhotosSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(PatrolPhotoSchema), metadata={"description": "oldest first"})


# ---- coverage --------------------------------------------------------------------------------------------------------


class CoverageArgs(Schema):
    from_ = Day(data_key="from", metadata={"description": "the period's first day, in the county (default: 29 days "
                                           "before `to`)"})  # fmt: skip
    to = Day(metadata={"description": "the period's last day (included; default: today)"})
    within_m = ma.fields.Float(
        load_default=50.0,
        allow_nan=False,
        validate=ma.validate.Range(5, 500, error=coded("invalid", "within_m: 5 to 500")),
        metadata={"description": "the distance from a track that counts as covered, in metres (default 50)"},
    )
    idle_days = ma.fields.Integer(
        load_default=7,
        validate=ma.validate.Range(1, 366, error=coded("invalid", "idle_days: 1 to 366")),
        metadata={"description": "a cell with no patrol started in this many days before the period's end is idle"},
    )
    format = format_field()

    @ma.validates_schema
    def _in_order(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if "from_" in data and "to" in data and data["from_"] > data["to"]:
            raise ma.ValidationError(coded("period-inverted", "from is on or before to"), "to")


class CoverageUnitSchema(Schema):
    level = ma.fields.String(metadata={"enum": ["township", "village", "cell"]})
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()


class OverdueVisitSchema(Schema):
    id = ma.fields.Integer(metadata={"description": "the enterprise"})
    name = ma.fields.String()
    risk_level = ma.fields.String(metadata={"enum": ["red", "orange", "yellow", "blue"]})
    last_visit_at = ma.fields.DateTime(allow_none=True, metadata={"description": "its last check-in, if any"})
    due_since = ma.fields.DateTime(allow_none=True, metadata={"description": "null: never visited"})


class CoverageEnterprisesSchema(Schema):
    total = ma.fields.Integer(metadata={"description": "operating (not closed) enterprises of the unit"})
    visited = ma.fields.Integer(metadata={"description": "checked in at during the period"})
    not_visited = ma.fields.Integer()
    not_visited_ids = ma.fields.List(ma.fields.Integer())
    overdue_for_visit = ma.fields.List(
        ma.fields.Nested(OverdueVisitSchema),
        metadata={"description": "not visited within their risk level's interval by the period's end"},
    )


class IdleCellSchema(Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    last_patrol_at = ma.fields.DateTime(allow_none=True, metadata={"description": "null: never patrolled"})


class OfficerFiguresSchema(Schema):
    officer_id = ma.fields.Integer()
    name = ma.fields.String(allow_none=True)
    patrols = ma.fields.Integer()
    distance_m = ma.fields.Float()
    check_ins = ma.fields.Integer()
    hazards_found = ma.fields.Integer()


class CoverageSchema(Schema):
    unit = ma.fields.Nested(CoverageUnitSchema)
    from_ = ma.fields.Date(data_key="from")
    to = ma.fields.Date()
    start = ma.fields.DateTime(metadata={"description": "the period's first instant (the county's midnight)"})
    end = ma.fields.DateTime(metadata={"description": "the instant after the period"})
    within_m = ma.fields.Float()
    patrols = ma.fields.Integer(metadata={"description": "patrols that name a cell of the unit, started in the period"})
    person_visits = ma.fields.Integer(metadata={"description": "人次: their participants, added up"})
    distance_m = ma.fields.Float(metadata={"description": "their tracks' length, added up"})
    check_ins = ma.fields.Integer()
    hazards_found = ma.fields.Integer(metadata={"description": "their findings (hazards reported with them)"})
    area_m2 = ma.fields.Float()
    covered_m2 = ma.fields.Float(metadata={"description": "the part of the unit within within_m of their tracks"})
    covered_share = ma.fields.Float(allow_none=True)
    enterprises = ma.fields.Nested(CoverageEnterprisesSchema)
    visit_policy_days = ma.fields.Dict(metadata={"description": "days between visits by risk level"})
    idle_days = ma.fields.Integer()
    idle_cells = ma.fields.List(ma.fields.Nested(IdleCellSchema))
    officers = ma.fields.List(ma.fields.Nested(OfficerFiguresSchema), metadata={"description": "most patrols first"})


class CoverageLayersSchema(FeatureCollectionBase):
    """Map layers: each feature's `layer` property is unit, covered, uncovered, enterprise or idle_cell."""

    figures = ma.fields.Nested(CoverageSchema, metadata={"description": "the JSON answer's figures"})
