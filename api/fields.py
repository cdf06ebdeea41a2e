"""Fields shared by all resources; the one GeoJSON field lives here."""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma

from api.errors import coded
from api.extensions import NOT_BLANK, Schema
from geo.coords import CoordSystem, to_wgs84
from geo.errors import GeometryError
from geo.geojson import AREAL_TYPES, MAX_VERTICES, REFERENCE_TYPES, parse_areal, parse_reference

_POLYGON_EXAMPLE = {
    "type": "Polygon",
    "coordinates": [[[113.0, 28.0], [113.01, 28.0], [113.01, 28.01], [113.0, 28.01], [113.0, 28.0]]],
}

# The JSON Schema of what `parse_areal` reads (RFC 7946 3.1.6 and 3.1.7). What a schema cannot say is checked on
# load and named by its code: ring-not-closed, too-many-vertices, geometry-self-intersection, geometry-invalid.
_POSITION = {
    "type": "array",
    "description": "[longitude, latitude], optionally with an altitude",
    "prefixItems": [
        {"type": "number", "minimum": -180, "maximum": 180},
        {"type": "number", "minimum": -90, "maximum": 90},
    ],
    "items": {"type": "number"},
    "minItems": 2,
    "maxItems": 3,
}
_RING = {
    "type": "array",
    "description": "a closed ring: at least 4 positions, the last one equal to the first",
    "items": _POSITION,
    "minItems": 4,
}
_POLYGON_RINGS = {
    "type": "array",
    "description": "the exterior ring, then any holes",
    "items": _RING,
    "minItems": 1,
}
_BBOX = {
    "type": "array",
    "description": "ignored: [west, south, east, north], with altitudes after south and north if any",
    "items": {"type": "number"},
    "oneOf": [{"minItems": 4, "maxItems": 4}, {"minItems": 6, "maxItems": 6}],
}
_AREAL_JSON_SCHEMA = [
    {
        "title": "Polygon",
        "type": "object",
        "properties": {"type": {"const": "Polygon"}, "coordinates": _POLYGON_RINGS, "bbox": _BBOX},
        "required": ["type", "coordinates"],
        "additionalProperties": False,
    },
    {
        "title": "MultiPolygon",
        "type": "object",
        "properties": {
            "type": {"const": "MultiPolygon"},
            "coordinates": {"type": "array", "items": _POLYGON_RINGS, "minItems": 1},
            "bbox": _BBOX,
        },
        "required": ["type", "coordinates"],
        "additionalProperties": False,
    },
]
_MEMBERS = frozenset(("type", "coordinates", "bbox"))
_LINE = {"type": "array", "description": "at least 2 positions", "items": _POSITION, "minItems": 2}


def _geometry_schema(gtype: str, coordinates: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": gtype,
        "type": "object",
        "properties": {"type": {"const": gtype}, "coordinates": coordinates, "bbox": _BBOX},
        "required": ["type", "coordinates"],
        "additionalProperties": False,
    }


_REFERENCE_JSON_SCHEMA = [
    _geometry_schema("Point", _POSITION),
    _geometry_schema("LineString", _LINE),
    _geometry_schema("MultiLineString", {"type": "array", "items": _LINE, "minItems": 1}),
    *_AREAL_JSON_SCHEMA,
]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class AreaGeometry(ma.fields.Field):
    """A GeoJSON Polygon or MultiPolygon (RFC 7946: WGS-84, [longitude, latitude]), loaded as a valid shapely geometry.

    Each rule broken is a field error whose code names it: unknown-field, geojson-malformed,
    geometry-type-not-allowed, coordinates-out-of-range, ring-too-few-positions, ring-not-closed, too-many-vertices,
    geometry-self-intersection, geometry-invalid. The spec gives the structure as a JSON Schema; the rest (a ring
    closes, does not cross itself...) only the server can tell.
    """

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            "type": "object",
            "oneOf": _AREAL_JSON_SCHEMA,
            "description": "GeoJSON Polygon or MultiPolygon, WGS-84 [longitude, latitude], rings closed, "
            f"valid (no self-intersection), at most {MAX_VERTICES} vertices",
            "example": _POLYGON_EXAMPLE,
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)

    types: tuple[str, ...] = AREAL_TYPES
    parse = staticmethod(parse_areal)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, dict) and value.get("type") in self.types:
            # Like every object of this API, a geometry has no members beyond its own (RFC 7946 would allow them).
            unknown = sorted(set(value) - _MEMBERS)
            if unknown:
                raise ma.ValidationError(
                    coded("unknown-field", f"a geometry has type, coordinates and bbox only, not {unknown[0]!r}")
                )
            bbox = value.get("bbox", [0, 0, 0, 0])
            if not (isinstance(bbox, list) and len(bbox) in (4, 6) and all(_is_number(c) for c in bbox)):
                raise ma.ValidationError(coded("geojson-malformed", "bbox is an array of 4 or 6 numbers"))
        try:
            return self.parse(value)
        except GeometryError as exc:
            raise ma.ValidationError(coded(exc.code, exc.message)) from exc


class ReferenceGeometry(AreaGeometry):
    """A GeoJSON Point, LineString, MultiLineString, Polygon or MultiPolygon (WGS-84) to measure from: a river, a
    pipeline, a planned road, an area. Loaded as a shapely geometry; the rules and codes of `AreaGeometry`."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            "type": "object",
            "oneOf": _REFERENCE_JSON_SCHEMA,
            "description": "GeoJSON Point, LineString, MultiLineString, Polygon or MultiPolygon, WGS-84 "
            f"[longitude, latitude], at most {MAX_VERTICES} vertices",
            "example": {"type": "LineString", "coordinates": [[113.0, 28.0], [113.02, 28.01]]},
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)

    types = REFERENCE_TYPES
    parse = staticmethod(parse_reference)


class GeoJSONObject(ma.fields.Dict):
    """A GeoJSON geometry on output (documentation only: lists are serialised without marshmallow)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(metadata={"description": "GeoJSON geometry, WGS-84", **kwargs.pop("metadata", {})}, **kwargs)


MAX_ID = 2**31 - 1  # ids are 32-bit integers on both backends


def id_field(**kwargs: Any) -> ma.fields.Integer:
    """The id of a record: a whole number from 1 to 2,147,483,647 (a larger one is a 422, never a database error)."""
    return ma.fields.Integer(
        validate=ma.validate.Range(
            min=1, max=MAX_ID, error=coded("id-out-of-range", f"an id is a whole number from 1 to {MAX_ID}")
        ),
        **kwargs,
    )


_DATE_2000_2099 = (
    "20[0-9]{2}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
    "|20(?:[02468][048]|[13579][26])-02-29"
)
# The form the spec promises (RFC 3339 in the years 2000 to 2099); `fromisoformat` reads it, and a little more.
INSTANT_PATTERN = (
    f"^(?:{_DATE_2000_2099})T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{{1,6}})?"
    "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
)


class Instant(ma.fields.AwareDateTime):
    """An ISO 8601 time with its offset (`2026-11-23T08:00:00+08:00`) in the years 2000 to 2099; a time without an
    offset is refused, and so is one outside those years (no record of this system lies there). The spec gives the
    form as a pattern."""

    default_error_messages = {  # noqa: RUF012
        "invalid": coded("time-format", "an ISO 8601 time is expected, e.g. 2026-11-23T08:00:00+08:00"),
        "invalid_awareness": coded("time-without-offset", "give the time with its offset, e.g. +08:00 or Z"),
        "format": coded("time-format", "an ISO 8601 time is expected"),
    }

    def __init__(self, **kwargs: Any) -> None:
        given = kwargs.pop("metadata", {})
        form = "ISO 8601 with its offset (Z or ±hh:mm), in the years 2000 to 2099"
        metadata = {
            "example": "2026-11-23T08:00:00+08:00",
            "pattern": INSTANT_PATTERN,
            **given,
            "description": f"{given['description']}; {form}" if "description" in given else form,
        }
        super().__init__(format="iso", metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        moment = super()._deserialize(value, attr, data, **kwargs)
        if not 2000 <= moment.year <= 2099:  # checked on the wall clock: converting year 1 to UTC would overflow
            raise ma.ValidationError(coded("time-out-of-range", "a time lies in the years 2000 to 2099"))
        return moment


_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# The forms the spec promises; the server reads a few more (any whitespace, anywhere).
MOBILE_PATTERN = "^(?:\\+86|0086)?[ ()-]*1[ ()-]*[3-9](?:[ ()-]*[0-9]){9}[ ()-]*$"


class Mobile(ma.fields.String):
    """A mainland China mobile number: 11 digits starting 13-19. Spaces, dashes, parentheses and a +86 / 0086 prefix
    are accepted and dropped, so the number is stored (and unique) in one form."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            "example": "13800138000",
            "description": "mainland mobile number, 11 digits starting 13 to 19; spaces, dashes, parentheses and a "
            "+86 or 0086 prefix are dropped",
            "pattern": MOBILE_PATTERN,
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        digits = re.sub(r"[\s\-()]", "", text)
        for prefix in ("+86", "0086"):
            if digits.startswith(prefix):
                digits = digits[len(prefix) :]
        if not _MOBILE.fullmatch(digits):
            raise ma.ValidationError(
                coded("mobile-format", f"{text!r} is not a mainland mobile number (11 digits, starting 13 to 19)")
            )
        return digits


# The rules of a text field, by what it is: (too long or empty, blank), `{n}` standing for the maximum length.
_TEXT_RULES = {
    "": (coded("length", "1 to {n} characters"), coded("blank", "may not be blank")),
    "name": (coded("name-length", "a name has 1 to {n} characters"), coded("name-blank", "a name cannot be blank")),
}


def text_field(
    max_length: int, *, required: bool = False, allow_none: bool = False, what: str = "", **metadata: Any
) -> ma.fields.String:
    """A non-blank string of at most `max_length` characters (the spec says both: lengths and a pattern).

    `what` picks the rules' codes: `name` for the names of territorial units (name-length, name-blank)."""
    length, blank = _TEXT_RULES[what]
    return ma.fields.String(
        required=required,
        allow_none=allow_none,
        validate=[
            ma.validate.Length(min=1, max=max_length, error=length.format(n=max_length)),
            ma.validate.Predicate("strip", error=blank),
        ],
        metadata={"pattern": NOT_BLANK, **metadata},
    )


class Day(ma.fields.Date):
    """A calendar day, ISO 8601 (`2027-06-30`), in the years 2000 to 2099 (the spec gives the form as a pattern)."""

    default_error_messages = {  # noqa: RUF012
        "invalid": coded("date-format", "an ISO 8601 day is expected, e.g. 2027-06-30"),
        "format": coded("date-format", "an ISO 8601 day is expected"),
    }

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"example": "2027-06-30", "pattern": f"^(?:{_DATE_2000_2099})$", **kwargs.pop("metadata", {})}
        super().__init__(format="iso", metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and not re.fullmatch(_DATE_2000_2099, value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


PHONE_PATTERN = r"\A\+?[0-9][0-9-]{4,18}[0-9]\Z"


def phone_field(**kwargs: Any) -> ma.fields.String:
    """A phone number, landline or mobile: 6 to 20 digits and dashes, a + in front allowed."""
    return ma.fields.String(
        validate=ma.validate.Regexp(
            PHONE_PATTERN, error=coded("phone-format", "a phone number: 6 to 20 digits and dashes, + in front allowed")
        ),
        metadata={"example": "0731-55551234", **kwargs.pop("metadata", {})},
        **kwargs,
    )


def lon_field(**kwargs: Any) -> ma.fields.Float:
    return ma.fields.Float(
        required=True,
        allow_nan=False,
        validate=ma.validate.Range(-180, 180, error=coded("coordinates-out-of-range", "longitude: -180 to 180")),
        metadata={"example": 113.1234567},
        **kwargs,
    )


def lat_field(**kwargs: Any) -> ma.fields.Float:
    return ma.fields.Float(
        required=True,
        allow_nan=False,
        validate=ma.validate.Range(-90, 90, error=coded("coordinates-out-of-range", "latitude: -90 to 90")),
        metadata={"example": 28.2345678},
        **kwargs,
    )


def coord_system_field() -> ma.fields.Enum:
    return ma.fields.Enum(
        CoordSystem,
        by_value=True,
        load_default=CoordSystem.WGS84,
        metadata={"description": "wgs84 (GPS, the default), gcj02 (Amap, Tencent) or bd09 (Baidu)"},
    )


class PositionInputSchema(Schema):
    """The one way a position comes in: longitude and latitude in the system the phone's map SDK reports (GPS:
    WGS-84; Amap and Tencent: GCJ-02; Baidu: BD-09), stored and answered in WGS-84. Loads as {"lon", "lat"} in
    WGS-84."""

    lon = lon_field()
    lat = lat_field()
    coord_system = coord_system_field()

    @ma.post_load
    def _to_wgs84(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, float]:
        lon, lat = to_wgs84(data["lon"], data["lat"], data["coord_system"])
        return {"lon": round(lon, 7), "lat": round(lat, 7)}


def position_field(**kwargs: Any) -> ma.fields.Nested:
    return ma.fields.Nested(
        PositionInputSchema,
        metadata={"description": "lon and lat, with the coordinate system they are in (default wgs84)"},
        **kwargs,
    )


_LON = r"-?(?:180(?:\.0{1,17})?|(?:1[0-7][0-9]|[0-9]{1,2})(?:\.[0-9]{1,17})?)"
_LAT = r"-?(?:90(?:\.0{1,17})?|[0-8]?[0-9](?:\.[0-9]{1,17})?)"
BBOX_PATTERN = rf"\A{_LON},{_LAT},{_LON},{_LAT}\Z"


def _a_box(value: str) -> None:
    try:
        west, south, east, north = map(float, value.split(","))
    except ValueError:
        return  # not a box at all: the pattern says so

    if west > east or south > north:
        raise ma.ValidationError(
            coded("bbox-inverted", "bbox is west,south,east,north: west <= east and south <= north")
        )


def bbox_field() -> ma.fields.String:
    """A map's view: west,south,east,north in WGS-84 degrees, in that order (the view parses it)."""
    return ma.fields.String(
        required=True,
        validate=[
            ma.validate.Regexp(
                BBOX_PATTERN, error=coded("bbox-format", "bbox is west,south,east,north in WGS-84 degrees")
            ),
            _a_box,
        ],
        metadata={"example": "113.0,28.0,113.05,28.03", "description": "west,south,east,north, WGS-84 degrees"},
    )
