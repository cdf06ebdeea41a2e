"""Fields shared by all resources; the one GeoJSON field lives here."""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma

from api.errors import coded
from geo.errors import GeometryError
from geo.geojson import MAX_VERTICES, parse_areal

_POLYGON_EXAMPLE = {
    "type": "Polygon",
    "coordinates": [[[113.0, 28.0], [113.01, 28.0], [113.01, 28.01], [113.0, 28.01], [113.0, 28.0]]],
}


class AreaGeometry(ma.fields.Field):
    """A GeoJSON Polygon or MultiPolygon (RFC 7946: WGS-84, [longitude, latitude]), loaded as a valid shapely geometry.

    Each rule broken is a field error whose code names it: geojson-malformed, geometry-type-not-allowed,
    coordinates-out-of-range, ring-too-few-positions, ring-not-closed, too-many-vertices,
    geometry-self-intersection, geometry-invalid.
    """

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            "type": "object",
            "description": "GeoJSON Polygon or MultiPolygon, WGS-84 [longitude, latitude], rings closed, "
            f"valid (no self-intersection), at most {MAX_VERTICES} vertices",
            "example": _POLYGON_EXAMPLE,
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        try:
            return parse_areal(value)
        except GeometryError as exc:
            raise ma.ValidationError(coded(exc.code, exc.message)) from exc


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


class Instant(ma.fields.AwareDateTime):
    """An ISO 8601 time with its offset (`2026-11-23T08:00:00+08:00`) in the years 2000 to 2099; a time without an
    offset is refused, and so is one outside those years (no record of this system lies there)."""

    default_error_messages = {  # noqa: RUF012
        "invalid": coded("time-format", "an ISO 8601 time is expected, e.g. 2026-11-23T08:00:00+08:00"),
        "invalid_awareness": coded("time-without-offset", "give the time with its offset, e.g. +08:00 or Z"),
        "format": coded("time-format", "an ISO 8601 time is expected"),
    }

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"example": "2026-11-23T08:00:00+08:00", **kwargs.pop("metadata", {})}
        super().__init__(format="iso", metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        moment = super()._deserialize(value, attr, data, **kwargs)
        if not 2000 <= moment.year <= 2099:  # checked on the wall clock: converting year 1 to UTC would overflow
            raise ma.ValidationError(coded("time-out-of-range", "a time lies in the years 2000 to 2099"))
        return moment


_MOBILE = re.compile(r"1[3-9][0-9]{9}")


class Mobile(ma.fields.String):
    """A mainland China mobile number: 11 digits starting 13-19. Spaces, dashes and a +86 / 0086 prefix are
    accepted and dropped, so the number is stored (and unique) in one form."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            "example": "13800138000",
            "description": "mainland mobile number, 11 digits",
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


def text_field(
    max_length: int, *, required: bool = False, allow_none: bool = False, **metadata: Any
) -> ma.fields.String:
    """A trimmed, non-blank string of at most `max_length` characters."""
    return ma.fields.String(
        required=required,
        allow_none=allow_none,
        validate=ma.validate.And(
            ma.validate.Length(min=1, max=max_length, error=coded("length", f"1 to {max_length} characters")),
            ma.validate.Predicate("strip", error=coded("blank", "may not be blank")),
        ),
        metadata=metadata,
    )
