"""What higher domains may say about departmental writes (see `models.guards`)."""

from models.guards import Guards

# Called as fn(session, caller=, department=) while a department is being retired, under the locks it registered
# with; raise to refuse.
department_retiring = Guards("a department is being retired")

# Called as fn(session, caller=, department=) after a department was added, retired or changed (its sectors, say),
# in the same transaction: enterprises re-derive their default supervisors.
department_sectors_changed = Guards("a department's sectors changed")
