"""What higher domains may say about territorial writes (see `models.guards`)."""

from models.guards import Guards

# Called as fn(session, caller=, cell=) while a grid cell is being retired, under the locks it registered with; raise
# to refuse.
cell_retiring = Guards("a grid cell is being retired")
