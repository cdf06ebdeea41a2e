"""24-hour holiday duty (24小时值班): the official holiday calendar, duty periods, rosters, checks, who is on duty.

This package holds the holiday calendar so far (`models.duty.calendar`); duty periods and rosters come next.
"""
