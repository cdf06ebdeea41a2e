"""Photos of patrol records over HTTP: sent after their record by its UUID (multipart), listed, and the image."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Response
from flask.views import MethodView

from api.auth import current_caller
from api.db import db
from api.hazards.photos import IMAGE, NOT_MULTIPART, store, upload
from api.hazards.schemas import PhotoUploadSchema
from api.patrols import schemas as s
from api.patrols.resources import READ_NOTE, WRITE_NOTE, patrols
from api.responses import json_response
from models.patrols.photos import add_patrol_photo, patrol_photo, patrol_photos
from models.patrols.service import RECORDERS
from models.roles import ALL_ROLES


@patrols.route("/by-uuid/<uuid:record_uuid>/photos")
class PatrolPhotoUpload(MethodView):
    @patrols.access(*sorted(RECORDERS), note=f"{WRITE_NOTE} The record is in the caller's scope.")
    @upload
    @patrols.idempotent()
    @patrols.arguments(s.PhotoPlaceArgs, location="query")
    @patrols.arguments(PhotoUploadSchema, location="files")
    @patrols.response(201, s.PatrolPhotoSchema)
    @patrols.alt_response(200, schema=s.PatrolPhotoSchema, description="the same image was sent to the same place")
    @patrols.problem(404, "no record with this UUID in your scope (yet): send the record first")
    @patrols.problem(413, "the photo is over its size limit (10 MB unless configured)")
    @patrols.problem(415, NOT_MULTIPART)
    def post(self, place: dict[str, Any], files: dict[str, Any], record_uuid: UUID) -> Any:
        """Send a photo of a patrol record, by its UUID

        After the record (until then 404: the app keeps the photo and sends it again later). `multipart/form-data`,
        field `file`: a JPEG, PNG, WebP or HEIC image (told by its bytes), at most 10 MB (PHOTO_MAX_BYTES). Of the
        patrol; of a check-in (`check_in`: its place in the record's check-ins, from 0); or of a finding
        (`finding`: its place among its check-in's findings, or with no `check_in` among the record's own): a
        finding's photo is also its hazard's, in the ledger (`hazard_photo_id`). The same image sent again to the
        same place is the same photo (200 instead of 201).
        """
        row, new = add_patrol_photo(db.session(), caller=current_caller(), store=store(), uuid=str(record_uuid),
                                    data=files["file"].read(), **place)  # fmt: skip
        return json_response(row, 201 if new else 200)


@patrols.route("/<int:patrol_id>/photos")
class PatrolPhotos(MethodView):
    @patrols.access(*ALL_ROLES, note=READ_NOTE)
    @patrols.response(200, s.PatrolPhotosSchema)
    @patrols.problem(404, "no such patrol in your scope")
    def get(self, patrol_id: int) -> Any:
        """A patrol's photos

        Their descriptions, oldest first; each image at `.../photos/{photo_id}`.
        """
        return json_response({"items": patrol_photos(db.session(), caller=current_caller(), patrol_id=patrol_id)})


@patrols.route("/<int:patrol_id>/photos/<int:photo_id>")
class PatrolPhotoImage(MethodView):
    @patrols.access(*ALL_ROLES, note=READ_NOTE)
    @patrols.response(200, IMAGE, content_type="image/jpeg", description="the image, in its own type")
    @patrols.alt_response(200, schema=IMAGE, content_type="image/png", success=True, description="a PNG")
    @patrols.alt_response(200, schema=IMAGE, content_type="image/webp", success=True, description="a WebP")
    @patrols.alt_response(200, schema=IMAGE, content_type="image/heic", success=True, description="a HEIC")
    @patrols.alt_response(200, schema=IMAGE, content_type="image/heif", success=True, description="a HEIF")
    @patrols.problem(404, "no such patrol or photo in your scope")
    def get(self, patrol_id: int, photo_id: int) -> Any:
        """A photo of a patrol

        The image itself (Content-Type: its type), only to a caller who may see the patrol.
        """
        row = patrol_photo(db.session(), caller=current_caller(), patrol_id=patrol_id, photo_id=photo_id)
        return Response(store().get(row["sha256"]), mimetype=row["content_type"],
                        headers={"Cache-Control": "private, max-age=86400"})  # fmt: skip
