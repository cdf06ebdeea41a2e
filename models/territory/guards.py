"""What higher domains may say about territorial writes (see `models.guards`)."""

from models.guards import Guards

# Called as fn(session, caller=, cell=) while a grid cell is being retired, under the locks it registered with; raise
# to refuse.
cell_retiring = Guards("a grid cell is being retired")

# Called as fn(session, caller=, level=, unit=, old_boundary=) after a unit was drawn (old_boundary None), redrawn or
# retired, inside that write and under the locks it registered with: higher domains re-derive what depends on where
# the boundaries run (an enterprise's cell, say).
boundary_changed = Guards("a boundary was drawn, redrawn or retired")
