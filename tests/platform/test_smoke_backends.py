"""The two backends are real: SpatiaLite is loaded, PostGIS is installed."""

from sqlalchemy import text


def test_the_spatial_extension_is_loaded(app, session, backend):
    version_sql = "SELECT spatialite_version()" if backend == "sqlite" else "SELECT postgis_lib_version()"
    assert session.execute(text(version_sql)).scalar()
