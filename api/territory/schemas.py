"""Schemas of townships, villages and grid cells: input is loaded by marshmallow, output only documented by it."""

from __future__ import annotations

import marshmallow as ma

from api.errors import coded
from api.extensions import PatchSchema, Schema
from api.fields import AreaGeometry, GeoJSONObject, id_field, text_field
from api.pagination import CursorArgs, CursorMetaSchema, PageArgs, PageMetaSchema
from geo.coords import CoordSystem


def _code_field(digits: int, what: str) -> ma.fields.String:
    return ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(
            rf"\A[0-9]{{{digits}}}\Z", error=coded("code-format", f"a {what} code is exactly {digits} digits")
        ),
        metadata={"description": f"{digits}-digit division code", "example": "430199101001001"[:digits]},
    )


def _name_field(required: bool) -> ma.fields.String:
    return text_field(100, required=required, what="name", example="青山镇")


# ---- output -----------------------------------------------------------------------------------------------------


class PointSchema(Schema):
    type = ma.fields.String(metadata={"example": "Point"})
    coordinates = ma.fields.List(ma.fields.Float(), metadata={"example": [113.005, 28.005]})


class UnitSchema(Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    boundary = GeoJSONObject()
    area_m2 = ma.fields.Float(metadata={"description": "geodesic area on the WGS-84 ellipsoid, m²"})
    centroid = ma.fields.Nested(PointSchema)
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    retired_at = ma.fields.DateTime(allow_none=True, metadata={"description": "null while the unit is active"})
    version = ma.fields.Integer(metadata={"description": "bumped on every change; the ETag is its quoted value"})


class TownshipSchema(UnitSchema):
    pass


class VillageSchema(UnitSchema):
    township_id = ma.fields.Integer()


class GridCellSchema(UnitSchema):
    village_id = ma.fields.Integer()
    township_id = ma.fields.Integer()


class FeatureCollectionBase(Schema):
    type = ma.fields.String(metadata={"example": "FeatureCollection"})
    features = ma.fields.List(
        ma.fields.Dict(),
        metadata={"description": "Features: `id`, `geometry` (the boundary) and the other fields as `properties`"},
    )


class FeatureCollectionSchema(FeatureCollectionBase, CursorMetaSchema):
    """A page of features, paged by cursor."""


class FeatureCollectionPageSchema(FeatureCollectionBase, PageMetaSchema):
    """A page of features, paged by page number."""


def page_schema(item: type[Schema], meta: type[Schema] = CursorMetaSchema) -> type[Schema]:
    name = item.__name__.replace("Schema", "PageSchema")
    return type(name, (meta,), {"items": ma.fields.List(ma.fields.Nested(item))})


TownshipPageSchema = page_schema(TownshipSchema, PageMetaSchema)
VillagePageSchema = page_schema(VillageSchema)
GridCellPageSchema = page_schema(GridCellSchema)


class UnitRefSchema(Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()


class PositionSchema(Schema):
    lon = ma.fields.Float()
    lat = ma.fields.Float()
    coord_system = ma.fields.String(metadata={"example": "wgs84"})


class LocatedCellSchema(GridCellSchema):
    village = ma.fields.Nested(UnitRefSchema)
    township = ma.fields.Nested(UnitRefSchema)
    position = ma.fields.Nested(PositionSchema, metadata={"description": "the point looked up, in WGS-84"})


class CoverageGapsSchema(Schema):
    village_id = ma.fields.Integer()
    village_code = ma.fields.String()
    village_area_m2 = ma.fields.Float()
    cell_count = ma.fields.Integer(metadata={"description": "active cells of the village"})
    gap_area_m2 = ma.fields.Float()
    covered_ratio = ma.fields.Float(metadata={"description": "1 - gap_area_m2 / village_area_m2"})
    tolerance_m = ma.fields.Float(metadata={"description": "gaps nowhere wider than this are ignored"})
    gaps = GeoJSONObject(allow_none=True, metadata={"description": "uncovered area (WGS-84), null when none"})


# ---- input ------------------------------------------------------------------------------------------------------


class TownshipCreateSchema(Schema):
    code = _code_field(9, "township")
    name = _name_field(required=True)
    boundary = AreaGeometry(required=True)


class VillageCreateSchema(Schema):
    township_id = id_field(required=True)
    code = _code_field(12, "village")
    name = _name_field(required=True)
    boundary = AreaGeometry(required=True)


class GridCellCreateSchema(Schema):
    village_id = id_field(required=True)
    code = _code_field(15, "grid cell")
    name = _name_field(required=True)
    boundary = AreaGeometry(required=True)


class UnitPatchSchema(PatchSchema):
    """Code and parent never change; redraw or rename only."""

    name = _name_field(required=False)
    boundary = AreaGeometry()


class _UnitFilters(Schema):
    name = ma.fields.String(metadata={"description": "part of the name, case-insensitive"})
    code = ma.fields.String(
        validate=ma.validate.Regexp(r"\A[0-9]{1,15}\Z", error=coded("code-format", "code prefix is 1 to 15 digits")),
        metadata={"description": "code prefix"},
    )
    include_retired = ma.fields.Boolean(load_default=False)
    format = ma.fields.String(
        validate=ma.validate.OneOf(["json", "geojson"]),
        metadata={"description": "geojson for a FeatureCollection (or send Accept: application/geo+json)"},
    )


class TownshipListArgs(_UnitFilters, PageArgs):
    """Townships are few: paged by page number, with a total."""


class VillageListArgs(_UnitFilters, CursorArgs):
    township_id = id_field()


class GridCellListArgs(_UnitFilters, CursorArgs):
    township_id = id_field()
    village_id = id_field()
    has_owner = ma.fields.Boolean(
        metadata={"description": "true: cells with a current owner (网格长); false: cells without one (a to-do list)"}
    )


class LocateArgs(Schema):
    lon = ma.fields.Float(required=True, validate=ma.validate.Range(-180, 180), metadata={"example": 113.0})
    lat = ma.fields.Float(required=True, validate=ma.validate.Range(-90, 90), metadata={"example": 28.0})
    coord_system = ma.fields.Enum(
        CoordSystem,
        by_value=True,
        load_default=CoordSystem.WGS84,
        metadata={"description": "wgs84 (GPS), gcj02 (Amap, Tencent) or bd09 (Baidu)"},
    )
