"""Photos of hazards: uploaded to a hazard in the caller's scope, kept in the file store, named by the steps that
rest on them (a rectification on the spot rests on at least one). Each public function is one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import locks
from models.base import utcnow, write_transaction
from models.errors import Forbidden, NotFound, RuleViolation
from models.files import FileStore
from models.hazards.model import Action, HazardPhoto
from models.hazards.queries import get_hazard, hazard_row
from models.hazards.rules import ACTION_ROLES
from models.reads import read_rows
from models.roles import Caller

# What a photo may be, by its first bytes (a phone's camera: JPEG, HEIC; a screenshot: PNG; WebP)
_KINDS = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"WEBP", 8, "image/webp"),
    (b"ftypheic", 4, "image/heic"),
    (b"ftypheix", 4, "image/heic"),
    (b"ftypmif1", 4, "image/heif"),
)
PHOTO_SELECT = select(
    HazardPhoto.id, HazardPhoto.hazard_id, HazardPhoto.step_id, HazardPhoto.content_type, HazardPhoto.size,
    HazardPhoto.sha256, HazardPhoto.uploaded_by_user_id, HazardPhoto.uploaded_at,
)  # fmt: skip


def photo_type(data: bytes) -> str | None:
    """The image type of these bytes (by their signature, not by what the client says), or None."""
    for signature, offset, kind in _KINDS:
        if data[offset : offset + len(signature)] == signature and (kind != "image/webp" or data[:4] == b"RIFF"):
            return kind
    return None


def add_photo(session: Session, *, caller: Caller, store: FileStore, hazard_id: int, data: bytes) -> tuple[Any, bool]:
    """Keep a photo of the hazard; the same bytes sent again (a retried upload) are the same photo. Answers the
    photo's row and whether it is new."""
    kind = photo_type(data)
    if kind is None:
        raise RuleViolation("a photo is a JPEG, PNG, WebP or HEIC image", code="photo-type", pointer="/file")
    if caller.role not in ACTION_ROLES[Action.REPORT]:
        raise Forbidden(f"a {caller.role.label} may not add photos")
    digest = store.put(data)  # before the record: a record never names a file that is not there
    write_transaction(session, locks.hazard(hazard_id))
    hazard = get_hazard(session, caller=caller, hazard_id=hazard_id)
    existing = session.scalar(
        select(HazardPhoto).where(HazardPhoto.hazard_id == hazard.id, HazardPhoto.sha256 == digest)
    )
    if existing is not None:
        session.rollback()
        return photo_row(session, caller=caller, hazard_id=hazard_id, photo_id=existing.id), False
    photo = HazardPhoto(hazard_id=hazard.id, content_type=kind, size=len(data),
                        sha256=digest, uploaded_by_user_id=caller.user_id, uploaded_at=utcnow())  # fmt: skip
    session.add(photo)
    session.commit()
    return photo_row(session, caller=caller, hazard_id=hazard_id, photo_id=photo.id), True


def photos_of(session: Session, *, caller: Caller, hazard_id: int) -> list[dict[str, Any]]:
    hazard_row(session, caller=caller, hazard_id=hazard_id)  # 404 out of scope
    return read_rows(session, PHOTO_SELECT.where(HazardPhoto.hazard_id == hazard_id).order_by(HazardPhoto.id))


def photo_row(session: Session, *, caller: Caller, hazard_id: int, photo_id: int) -> dict[str, Any]:
    hazard_row(session, caller=caller, hazard_id=hazard_id)
    rows = read_rows(session, PHOTO_SELECT.where(HazardPhoto.hazard_id == hazard_id, HazardPhoto.id == photo_id))
    if not rows:
        raise NotFound(f"hazard {hazard_id} has no photo with id {photo_id}")
    return rows[0]


def attach_photos(session: Session, *, caller: Caller, hazard_id: int, step_id: int, photo_ids: list[int]) -> None:
    """Name these photos of the hazard (not yet resting on another step) as the evidence of a step, inside its
    transaction."""
    wanted = sorted(set(photo_ids))
    photos = session.scalars(
        select(HazardPhoto).where(HazardPhoto.hazard_id == hazard_id, HazardPhoto.id.in_(wanted))
    ).all()
    free = {p.id for p in photos if p.step_id is None}
    missing = [i for i in wanted if i not in free]
    if missing:
        raise RuleViolation(
            f"no photo of this hazard with id {', '.join(map(str, missing))} that no other step rests on: upload "
            "it first (POST .../photos)",
            code="photo-not-found",
            pointer="/photo_ids",
        )
    for photo in photos:
        photo.step_id = step_id
