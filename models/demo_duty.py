"""The demo county's holiday duty: the 2027 holiday calendar entered as a county administrator would type it (the
package holds 2026 at most; the demo's days are plausible, not the State Council's: its notice prevails), and two
duty periods proposed from the calendar and announced by the demo administrator: the 2026 National Day (from the
package's calendar) and the 2027 Spring Festival (from the entered one), for every township and department.
Then the units' rosters for both (see `models.demo_duty_rosters`).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.accounts.model import User
from models.demo_duty_rosters import load_demo_rosters
from models.departments.model import Department
from models.duty.calendar import enter_year
from models.duty.model import HolidayYear
from models.duty.periods import create_period, propose_period
from models.roles import Caller, Role

DEMO_NOTICE = "国务院办公厅关于2027年部分节假日安排的通知（演示数据，以国务院通知为准）"
DEMO_2027 = [  # (holiday, first day off, last day off, working days)
    ("new_years_day", date(2027, 1, 1), date(2027, 1, 3), []),
    ("spring_festival", date(2027, 2, 6), date(2027, 2, 14), [date(2027, 2, 20)]),
    ("tomb_sweeping_day", date(2027, 4, 3), date(2027, 4, 5), []),
    ("labour_day", date(2027, 5, 1), date(2027, 5, 5), [date(2027, 4, 25)]),
    ("dragon_boat_festival", date(2027, 6, 9), date(2027, 6, 11), []),
    ("mid_autumn_festival", date(2027, 9, 15), date(2027, 9, 17), []),
    ("national_day", date(2027, 10, 1), date(2027, 10, 7), [date(2027, 9, 26), date(2027, 10, 9)]),
]
PERIODS = ((2026, "national_day"), (2027, "spring_festival"))
DESK_PHONE = "0731-55550000"  # the county office's duty desk (安委办值班室)


def load_demo_duty(session: Session) -> dict[str, int]:
    """Enter the demo 2027 calendar (unless a 2027 is there) and announce the demo periods, as the demo administrator
    (the first active county administrator). Answers the counts."""
    admin = session.scalar(
        select(User).where(User.role == Role.COUNTY_ADMIN.value, User.deactivated_at.is_(None)).order_by(User.id)
    )
    if admin is None:
        return {}
    caller = Caller(user_id=admin.id, username=admin.username, role=Role.COUNTY_ADMIN)
    session.info["actor"] = caller
    if session.get(HolidayYear, 2027) is None:
        holidays = [{"holiday": h, "from": a, "to": b, "working_days": w} for h, a, b, w in DEMO_2027]
        enter_year(session, caller=caller, year=2027, notice=DEMO_NOTICE, holidays=holidays)
    desk = session.scalar(select(Department.id).order_by(Department.id))  # the 应急管理局 holds the county office
    for year, holiday in PERIODS:
        proposal = propose_period(session, caller=caller, year=year, holiday=holiday)
        create_period(session, caller=caller, **proposal | {"desk_phone": DESK_PHONE, "desk_department_id": desk})
    return {"holiday_years": 1, "duty_periods": len(PERIODS)} | load_demo_rosters(session, caller=caller)
