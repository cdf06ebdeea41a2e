"""Everything spatial: engines per backend, GeoJSON in and out, measures, index-backed predicates.

`geo` imports neither `api` nor `models`.
"""

SRID = 4326
