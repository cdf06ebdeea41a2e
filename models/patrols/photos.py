"""Photos sent after their record, by the record's UUID (an app uploads the record first, its photos when the network
allows): of the patrol, of one of its check-ins, or of one of its findings (then the hazard's photo too, in the
ledger: `models.hazards.photos.add_photo`). The app names a check-in and a finding by their places in the record it
sent, from 0. The same image sent again to the same place is the same photo. Each public function is one
transaction (a finding's photo: the hazard's, then the patrol's)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import locks
from models.base import utcnow, write_transaction
from models.errors import Forbidden, NotFound, RuleViolation
from models.files import FileStore
from models.hazards.photos import add_photo, photo_type
from models.patrols.model import Patrol, PatrolCheckIn, PatrolFinding, PatrolPhoto
from models.patrols.service import RECORDERS
from models.reads import read_rows
from models.roles import Caller
from models.scope import row_in_scope, scope_clauses, scope_values

PHOTO_SELECT = select(
    PatrolPhoto.id, PatrolPhoto.patrol_id, PatrolPhoto.check_in_id, PatrolCheckIn.seq.label("check_in_seq"),
    PatrolPhoto.hazard_id, PatrolPhoto.hazard_photo_id, PatrolPhoto.content_type, PatrolPhoto.size,
    PatrolPhoto.sha256, PatrolPhoto.uploaded_by_user_id, PatrolPhoto.uploaded_at,
).outerjoin(PatrolCheckIn, PatrolCheckIn.id == PatrolPhoto.check_in_id)  # fmt: skip


def _place(
    session: Session, patrol_id: int, check_in: int | None, finding: int | None
) -> tuple[int | None, int | None]:
    """The check-in's id and the finding's hazard id that the record's places name (422 if it has no such)."""
    check_in_id = None
    if check_in is not None:
        check_in_id = session.scalar(
            select(PatrolCheckIn.id).where(PatrolCheckIn.patrol_id == patrol_id, PatrolCheckIn.seq == check_in)
        )
        if check_in_id is None:
            raise RuleViolation(f"the record has no check-in {check_in} (they count from 0)",
                                code="check-in-not-found", pointer="/check_in")  # fmt: skip
    if finding is None:
        return check_in_id, None
    hazard_id = session.scalar(
        select(PatrolFinding.hazard_id).where(
            PatrolFinding.patrol_id == patrol_id, PatrolFinding.seq == finding,
            PatrolFinding.check_in_id.is_(None) if check_in_id is None else PatrolFinding.check_in_id == check_in_id,
        )
    )  # fmt: skip
    if hazard_id is None:
        where = f"check-in {check_in}" if check_in is not None else "the record (away from its check-ins)"
        raise RuleViolation(f"{where} has no finding {finding} (they count from 0)", code="finding-not-found",
                            pointer="/finding")  # fmt: skip
    return check_in_id, hazard_id


def add_patrol_photo(
    session: Session,
    *,
    caller: Caller,
    store: FileStore,
    uuid: str,
    data: bytes,
    check_in: int | None = None,
    finding: int | None = None,
) -> tuple[dict[str, Any], bool]:
    """Keep a photo of the record with this UUID (or of its check-in, or finding); answers its row and whether it
    is new. A record not (yet) stored, or out of the caller's scope, is 404: the app sends the record first."""
    kind = photo_type(data)
    if kind is None:
        raise RuleViolation("a photo is a JPEG, PNG, WebP or HEIC image", code="photo-type", pointer="/file")
    if caller.role not in RECORDERS:
        raise Forbidden(f"a {caller.role.label} may not add photos")
    uuid = uuid.lower()
    patrol_id = session.scalar(
        select(Patrol.id).where(Patrol.uuid == uuid, *scope_clauses(caller, Patrol)), scope_values(caller)
    )
    if patrol_id is None:
        raise NotFound(f"no patrol record with UUID {uuid} in your scope: upload the record first, then its photos")
    check_in_id, hazard_id = _place(session, patrol_id, check_in, finding)
    session.rollback()  # (the reads above end: the writes below take their own transactions)
    hazard_photo_id = None
    if hazard_id is not None:
        hazard_photo, _new = add_photo(session, caller=caller, store=store, hazard_id=hazard_id, data=data)
        hazard_photo_id, digest = hazard_photo["id"], hazard_photo["sha256"]
    else:
        digest = store.put(data)  # before the record: a record never names a file that is not there
    write_transaction(session, locks.patrol(uuid))
    existing = session.scalar(
        select(PatrolPhoto.id).where(
            PatrolPhoto.patrol_id == patrol_id, PatrolPhoto.sha256 == digest,
            PatrolPhoto.check_in_id.is_(None) if check_in_id is None else PatrolPhoto.check_in_id == check_in_id,
            PatrolPhoto.hazard_id.is_(None) if hazard_id is None else PatrolPhoto.hazard_id == hazard_id,
        )
    )  # fmt: skip
    if existing is not None:
        session.rollback()
        return _row(session, patrol_id, existing), False
    photo = PatrolPhoto(patrol_id=patrol_id, check_in_id=check_in_id, hazard_id=hazard_id,
                        hazard_photo_id=hazard_photo_id, sha256=digest, content_type=kind, size=len(data),
                        uploaded_by_user_id=caller.user_id, uploaded_at=utcnow())  # fmt: skip
    session.add(photo)
    session.commit()
    return _row(session, patrol_id, photo.id), True


def _row(session: Session, patrol_id: int, photo_id: int) -> dict[str, Any]:
    rows = read_rows(session, PHOTO_SELECT.where(PatrolPhoto.patrol_id == patrol_id, PatrolPhoto.id == photo_id))
    if not rows:
        raise NotFound(f"patrol {patrol_id} has no photo with id {photo_id}")
    return rows[0]


def patrol_photos(session: Session, *, caller: Caller, patrol_id: int) -> list[dict[str, Any]]:
    """The patrol's photos, oldest first (404 out of scope)."""
    row_in_scope(session, caller=caller, stmt=select(Patrol.id), model=Patrol, record_id=patrol_id, what="patrol")
    return read_rows(session, PHOTO_SELECT.where(PatrolPhoto.patrol_id == patrol_id).order_by(PatrolPhoto.id))


def patrol_photo(session: Session, *, caller: Caller, patrol_id: int, photo_id: int) -> dict[str, Any]:
    """One photo of the patrol (404 out of scope)."""
    row_in_scope(session, caller=caller, stmt=select(Patrol.id), model=Patrol, record_id=patrol_id, what="patrol")
    return _row(session, patrol_id, photo_id)
