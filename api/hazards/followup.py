"""The steps beside a hazard's states over HTTP (referral, interim measures, extensions, listed supervision): each a
POST with If-Match, like the steps of its life (`api.hazards.resources.step_view`)."""

from __future__ import annotations

from functools import partial

from api.hazards import schemas as s
from api.hazards.resources import step_view
from models.hazards.followup import (
    answer_extension,
    answer_referral,
    list_for_supervision,
    record_interim_measures,
    record_supervision_visit,
    refer,
    request_extension,
)
from models.hazards.model import Action

SCOPE = "In their scope."

step_view(
    Action.REFER, s.ReferSchema, "referral", "Refer to a department (移交)",
    "A township hands the hazard to a department that can enforce (by default the one supervising its enterprise or "
    "sector): its staff see it at once and accept it or send it back. Its state does not change.",
    "A township leader in their township; the county administrator.", refer,
)  # fmt: skip
step_view(
    Action.ACCEPT_REFERRAL, s.ReferralAnswerSchema, "referral-acceptance", "Accept a referral",
    "The department referred to takes the hazard on (403 `not-referred-to-you` for another department's staff).",
    "Department staff of the department referred to; the county administrator.",
    partial(answer_referral, accept=True),
)  # fmt: skip
step_view(
    Action.RETURN_REFERRAL, s.ReferralAnswerSchema, "referral-return", "Send a referral back",
    "With the reason; the department's staff no longer see the hazard unless it supervises it anyway.",
    "Department staff of the department referred to; the county administrator.",
    partial(answer_referral, accept=False),
)  # fmt: skip
step_view(
    Action.RECORD_INTERIM_MEASURES, s.InterimMeasuresSchema, "interim-measures",
    "Record interim safety measures (临时性保障措施)",
    "The measures in force while the hazard is open; an overdue hazard records them before it may be extended.",
    SCOPE, record_interim_measures,
)  # fmt: skip
step_view(
    Action.REQUEST_EXTENSION, s.ExtensionRequestSchema, "extension-request", "Request a later deadline (延期)",
    "A rectifying hazard: the new deadline and the reason; one request at a time. Overdue: interim measures first "
    "(422 `interim-measures-required`).",
    SCOPE, request_extension,
)  # fmt: skip
step_view(
    Action.APPROVE_EXTENSION, s.ExtensionAnswerSchema, "extension-approval", "Approve the extension",
    "The deadline becomes the one asked for. Never by the user who asked (403 `own-request`).",
    "A township leader, department staff or the county administrator, in their scope.",
    partial(answer_extension, approve=True),
)  # fmt: skip
step_view(
    Action.REFUSE_EXTENSION, s.ExtensionAnswerSchema, "extension-refusal", "Refuse the extension",
    "The deadline stays. Never by the user who asked (403 `own-request`).",
    "A township leader, department staff or the county administrator, in their scope.",
    partial(answer_extension, approve=False),
)  # fmt: skip
step_view(
    Action.LIST, s.ListingSchema, "listing", "List for supervision (挂牌督办)",
    "A major hazard put under the supervision of the county, city or province, with the body and its document; "
    "lifted when the hazard closes.",
    "The county administrator.", list_for_supervision,
)  # fmt: skip
step_view(
    Action.SUPERVISION_VISIT, s.SupervisionVisitSchema, "supervision-visits", "Record an on-site supervision visit",
    "To a listed hazard (现场督办): when, by whom, what was found.",
    "The county administrator, or department staff in their scope.", record_supervision_visit,
)  # fmt: skip
