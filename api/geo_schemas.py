"""The schemas every spatial question shares, whatever it asks about (enterprises, hazards): a point asked about, a
radius with a limit, the answer's format, and the answer's `position` and `truncated`."""

from __future__ import annotations

import marshmallow as ma

from api.errors import coded
from api.extensions import Schema
from api.fields import coord_system_field, lat_field, lon_field
from api.territory.schemas import FeatureCollectionBase

MAX_RADIUS_M = 50_000  # a county is some 50 km across
MAP_PAGE_CAP = 1000  # features in a map's page


def format_field() -> ma.fields.String:
    return ma.fields.String(
        validate=ma.validate.OneOf(["json", "geojson"]),
        metadata={"description": "geojson: a FeatureCollection (or send Accept: application/geo+json)"},
    )


class AtPointArgs(Schema):
    """A point asked about, in the system the phone reports (answered in WGS-84)."""

    lon = lon_field()
    lat = lat_field()
    coord_system = coord_system_field()


class RadiusArgs(AtPointArgs):
    radius_m = ma.fields.Float(
        load_default=500.0,
        allow_nan=False,
        validate=ma.validate.Range(
            0, MAX_RADIUS_M, error=coded("radius-out-of-range", f"radius_m: 0 to {MAX_RADIUS_M} metres")
        ),
        metadata={"description": f"geodesic metres, at most {MAX_RADIUS_M} (default 500)"},
    )
    limit = ma.fields.Integer(
        load_default=50,
        validate=ma.validate.Range(1, 500, error=coded("invalid", "limit: 1 to 500")),
        metadata={"description": "at most this many, the nearest (default 50, at most 500); `truncated` says if more"},
    )


class PlaceSchema(Schema):
    lon = ma.fields.Float()
    lat = ma.fields.Float()
    coord_system = ma.fields.String(metadata={"example": "wgs84"})


def position_out() -> ma.fields.Nested:
    return ma.fields.Nested(PlaceSchema, metadata={"description": "the point asked about, in WGS-84"})


def truncated_out() -> ma.fields.Boolean:
    return ma.fields.Boolean(metadata={"description": "within-radius: more lie within the radius than `limit`"})


class NearbyFeaturesBase(FeatureCollectionBase):
    """Features near a point, nearest first."""

    position = position_out()
    truncated = truncated_out()
