"""Photos of hazards over HTTP: upload (multipart), list, and the image itself, each in the caller's scope."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask.views import MethodView

from api import content
from api.auth import current_caller
from api.db import db
from api.hazards import schemas as s
from api.hazards.resources import READ_NOTE, hazards
from api.responses import json_response
from models.files import file_store
from models.hazards.model import Action
from models.hazards.photos import add_photo, photo_row, photos_of
from models.hazards.rules import ACTION_ROLES
from models.roles import ALL_ROLES

NOT_MULTIPART = "the photo goes in a multipart/form-data body, field `file` (curl -F file=@photo.jpg)"
upload = content.upload(
    lambda: current_app.config["PHOTO_MAX_BYTES"], NOT_MULTIPART, "the photo is over its size limit (PHOTO_MAX_BYTES)"
)
IMAGE = {"type": "string", "format": "binary"}


def store() -> Any:
    return file_store(current_app.config["FILE_STORE"])


@hazards.route("/<int:hazard_id>/photos")
class HazardPhotos(MethodView):
    @hazards.access(*ALL_ROLES, note=READ_NOTE)
    @hazards.response(200, s.PhotosSchema)
    @hazards.problem(404, "no such hazard in your scope")
    def get(self, hazard_id: int) -> Any:
        """A hazard's photos

        Their descriptions, oldest first; each image at `.../photos/{photo_id}`.
        """
        return json_response({"items": photos_of(db.session(), caller=current_caller(), hazard_id=hazard_id)})

    @hazards.access(*sorted(ACTION_ROLES[Action.REPORT]), note="In their scope.")
    @upload
    @hazards.idempotent()
    @hazards.arguments(s.PhotoUploadSchema, location="files")
    @hazards.response(201, s.PhotoSchema)
    @hazards.alt_response(200, schema=s.PhotoSchema, description="the same image was uploaded to it before")
    @hazards.problem(404, "no such hazard in your scope")
    @hazards.problem(413, "the photo is over its size limit (10 MB unless configured)")
    @hazards.problem(415, NOT_MULTIPART)
    def post(self, files: dict[str, Any], hazard_id: int) -> Any:
        """Upload a photo of a hazard

        `multipart/form-data`, field `file`: a JPEG, PNG, WebP or HEIC image (told by its bytes; 422 `photo-type`
        otherwise), at most 10 MB (PHOTO_MAX_BYTES). The same image sent again to the same hazard is the same photo
        (200 instead of 201): a retried upload stores nothing twice. A step then names it in `photo_ids` (a
        rectification on the spot must).
        """
        data = files["file"].read()
        row, new = add_photo(db.session(), caller=current_caller(), store=store(), hazard_id=hazard_id, data=data)
        return json_response(row, 201 if new else 200)


@hazards.route("/<int:hazard_id>/photos/<int:photo_id>")
class HazardPhotoImage(MethodView):
    @hazards.access(*ALL_ROLES, note=READ_NOTE)
    @hazards.response(200, IMAGE, content_type="image/jpeg", description="the image, in its own type")
    @hazards.alt_response(200, schema=IMAGE, content_type="image/png", success=True, description="a PNG")
    @hazards.alt_response(200, schema=IMAGE, content_type="image/webp", success=True, description="a WebP")
    @hazards.alt_response(200, schema=IMAGE, content_type="image/heic", success=True, description="a HEIC")
    @hazards.alt_response(200, schema=IMAGE, content_type="image/heif", success=True, description="a HEIF")
    @hazards.problem(404, "no such hazard or photo in your scope")
    def get(self, hazard_id: int, photo_id: int) -> Any:
        """A photo of a hazard

        The image itself (Content-Type: its type), only to a caller who may see the hazard.
        """
        row = photo_row(db.session(), caller=current_caller(), hazard_id=hazard_id, photo_id=photo_id)
        data = store().get(row["sha256"])
        return Response(data, mimetype=row["content_type"], headers={"Cache-Control": "private, max-age=86400"})
