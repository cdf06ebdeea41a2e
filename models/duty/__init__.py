"""24-hour holiday duty (24小时值班): the official holiday calendar, duty periods, rosters, checks, who is on duty.

Built so far: the holiday calendar (`calendar`), duty periods (`periods`), rosters (`rosters`, read by `roster_reads`,
their people in `people`).
"""
