"""Who may take which step of a hazard's life, and what each step asks for: the rules, apart from the writes.

Who (each in their scope): A administrator, L township leader, O grid officer, D department staff.

| step | from | to | who |
|---|---|---|---|
| report | | reported | A L O D |
| plan (五落实) | reported, rectifying | (same) | A L D |
| start_rectification | reported | rectifying | A L D |
| rectify_on_the_spot (general only) | reported | pending_acceptance | A L O D |
| rectified | rectifying | pending_acceptance | A L O D |
| accept | pending_acceptance | closed | general: A L O D; major: A D |
| reject (复查) | pending_acceptance | rectifying | as accept |
| void | reported, rectifying, pending_acceptance | voided | A L |

Beside the states (any open state unless said; see `models.hazards.followup`):

| step | when | who |
|---|---|---|
| refer (移交) | no referral pending | A L |
| accept_referral, return_referral | a referral pending | A, D of the department referred to |
| record_interim_measures (临时性保障措施) | | A L O D |
| request_extension (延期) | rectifying, a deadline set, none pending; overdue: interim measures first | A L O D |
| approve_extension, refuse_extension | an extension pending | A L D, not the requester |
| list (挂牌督办) | a major hazard, not listed | A |
| supervision_visit (现场督办) | listed | A D |

The acceptor (accept or reject) is never the user who signed the rectification. A major hazard starts rectification
only with its five implementations complete.
"""

from __future__ import annotations

from typing import Any

from models.errors import Conflict, Forbidden
from models.hazards.model import (
    FIVE_IMPLEMENTATIONS,
    IN_PLACE,
    TRANSITIONS,
    Action,
    Hazard,
    ReferralStatus,
    Severity,
    Status,
)
from models.roles import Caller, Role

_EVERYONE_WHO_WORKS = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_LEADER, Role.GRID_OFFICER, Role.DEPARTMENT_STAFF})
_DECIDERS = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_LEADER, Role.DEPARTMENT_STAFF})
LEADERS = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_LEADER})

ACTION_ROLES: dict[Action, frozenset[Role]] = {
    Action.REPORT: _EVERYONE_WHO_WORKS,
    Action.PLAN: _DECIDERS,
    Action.START_RECTIFICATION: _DECIDERS,
    Action.RECTIFY_ON_THE_SPOT: _EVERYONE_WHO_WORKS,
    Action.RECTIFIED: _EVERYONE_WHO_WORKS,
    Action.ACCEPT: _EVERYONE_WHO_WORKS,
    Action.REJECT: _EVERYONE_WHO_WORKS,
    Action.VOID: LEADERS,
    Action.REFER: LEADERS,
    Action.ACCEPT_REFERRAL: frozenset({Role.COUNTY_ADMIN, Role.DEPARTMENT_STAFF}),
    Action.RETURN_REFERRAL: frozenset({Role.COUNTY_ADMIN, Role.DEPARTMENT_STAFF}),
    Action.RECORD_INTERIM_MEASURES: _EVERYONE_WHO_WORKS,
    Action.REQUEST_EXTENSION: _EVERYONE_WHO_WORKS,
    Action.APPROVE_EXTENSION: _DECIDERS,
    Action.REFUSE_EXTENSION: _DECIDERS,
    Action.LIST: frozenset({Role.COUNTY_ADMIN}),
    Action.SUPERVISION_VISIT: frozenset({Role.COUNTY_ADMIN, Role.DEPARTMENT_STAFF}),
}
# A major hazard is accepted (or sent back) by the county or a supervising department only.
MAJOR_ACCEPTORS = frozenset({Role.COUNTY_ADMIN, Role.DEPARTMENT_STAFF})


def _of(hazard: Any, key: str) -> Any:
    return getattr(hazard, key) if isinstance(hazard, Hazard) else hazard[key]


# When a step beside the states may be taken, besides the state (IN_PLACE).
_WHEN: dict[Action, Any] = {
    Action.REFER: lambda h: _of(h, "referral_status") != ReferralStatus.PENDING,
    Action.ACCEPT_REFERRAL: lambda h: _of(h, "referral_status") == ReferralStatus.PENDING,
    Action.RETURN_REFERRAL: lambda h: _of(h, "referral_status") == ReferralStatus.PENDING,
    Action.REQUEST_EXTENSION: lambda h: _of(h, "deadline") is not None and _of(h, "extension_deadline") is None,
    Action.APPROVE_EXTENSION: lambda h: _of(h, "extension_deadline") is not None,
    Action.REFUSE_EXTENSION: lambda h: _of(h, "extension_deadline") is not None,
    Action.LIST: lambda h: _of(h, "severity") == Severity.MAJOR and _of(h, "listed_level") is None,
    Action.SUPERVISION_VISIT: lambda h: _of(h, "listed_level") is not None,
}


def next_actions(hazard: Any) -> list[str]:
    """The steps the hazard's state allows (whoever takes them), in the transition table's order, then those beside
    the states: what a client offers next. `hazard`: a Hazard or a row of all its columns."""
    status = Status(_of(hazard, "status"))
    allowed = [
        action
        for action in TRANSITIONS[status]
        if not (action is Action.RECTIFY_ON_THE_SPOT and _of(hazard, "severity") == Severity.MAJOR)
    ]
    allowed += [
        action
        for action, states in IN_PLACE.items()
        if status in states and (action not in _WHEN or _WHEN[action](hazard))
    ]
    return [action.value for action in allowed]


def check_allowed(hazard: Hazard, action: Action) -> None:
    """409 unless the hazard's state (and severity) allows the step; the problem lists what it allows."""
    allowed = next_actions(hazard)
    if action.value in allowed:
        return
    why = (
        "a major hazard is never rectified on the spot: it needs its five implementations and a rectification"
        if action is Action.RECTIFY_ON_THE_SPOT and hazard.severity == Severity.MAJOR
        else f"a hazard that is {hazard.status} cannot take the step {action.value}"
    )
    listed = ", ".join(allowed) if allowed else "nothing: its life is over"
    raise Conflict(
        f"{why}; from here it allows {listed}",
        code="transition-not-allowed",
        current_status=hazard.status,
        allowed=allowed,
    )


def check_signer(caller: Caller, hazard: Hazard | None, action: Action) -> None:
    """403 unless the caller's role may sign this step of this hazard (scope is checked by loading it)."""
    if caller.role not in ACTION_ROLES[action]:
        raise Forbidden(f"a {caller.role.label} may not sign the step {action.value}")
    if hazard is None or action not in (Action.ACCEPT, Action.REJECT):
        return
    if hazard.severity == Severity.MAJOR and caller.role not in MAJOR_ACCEPTORS:
        raise Forbidden(
            f"a major hazard is accepted by the county or by its supervising department, not by a {caller.role.label}",
            code="major-acceptor-required",
        )
    if caller.user_id is not None and caller.user_id == hazard.rectified_by_user_id:
        raise Forbidden(
            "the acceptor is never the rectifier: you signed this hazard's rectification, someone else accepts it",
            code="acceptor-is-rectifier",
        )


def missing_implementations(plan: dict[str, Any]) -> list[str]:
    """The parts of the five implementations not yet given, in their order."""
    return [key for key in FIVE_IMPLEMENTATIONS if plan.get(key) in (None, "")]
