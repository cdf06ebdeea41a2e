"""Derived places never go stale: drawing, redrawing or retiring a boundary moves exactly the enterprises whose
location changed side, in the same transaction, and nothing else. Both backends (see conftest.py)."""

from __future__ import annotations

from tests import factories as f
from tests.factories import API


def _get(client, enterprise):
    return f.ok(client.get(f"{API}/enterprises/{enterprise['id']}"))


def test_redrawing_a_cell_moves_exactly_the_enterprises_that_changed_side(client, world):
    stays = f.enterprise(client, 500, 200, 1)
    leaves = f.enterprise(client, 500, 800, 2)
    neighbour = f.enterprise(client, 1500, 500, 3)
    cell = f"grid-cells/{world['cA1']}"
    f.ok(client.patch(f"{API}/{cell}", json={"boundary": f.rect(0, 0, 1000, 500)}, headers=f.if_match(client, cell)))
    assert _get(client, stays)["cell_id"] == world["cA1"] and _get(client, stays)["version"] == 1
    left = _get(client, leaves)
    assert (left["cell_id"], left["village_id"], left["unassigned"], left["version"]) == (None, world["vA1"], True, 2)
    assert _get(client, neighbour)["version"] == 1
    events = f.ok(client.get(f"{API}/audit-events?entity_type=enterprises&entity_id={leaves['id']}"))["items"]
    assert events[0]["before"] == {"cell_id": world["cA1"], "updated_at": events[0]["before"]["updated_at"]}
    # drawn back: it returns
    f.ok(client.patch(f"{API}/{cell}", json={"boundary": f.rect(0, 0, 1000, 1000)}, headers=f.if_match(client, cell)))
    assert _get(client, leaves)["cell_id"] == world["cA1"]


def test_a_new_cell_takes_the_unassigned_enterprises_inside_it_and_a_retired_one_lets_go(client, world):
    waiting = f.enterprise(client, 500, 1500, 1)
    assert waiting["unassigned"] is True
    new_cell = f.cell(client, world["vA1"], code="430199101201003", box=(0, 1000, 1000, 2000))
    assert _get(client, waiting)["cell_id"] == new_cell["id"]
    in_ca2 = f.enterprise(client, 1500, 500, 2)
    path = f"grid-cells/{world['cA2']}/retire"
    f.ok(client.post(f"{API}/{path}", headers=f.if_match(client, f"grid-cells/{world['cA2']}")))
    gone = _get(client, in_ca2)
    assert (gone["cell_id"], gone["village_id"], gone["unassigned"]) == (None, world["vA1"], True)
    assert _get(client, waiting)["cell_id"] == new_cell["id"]


def test_a_refused_redraw_changes_no_enterprise(client, world):
    inside = f.enterprise(client, 500, 800, 1)
    cell = f"grid-cells/{world['cA1']}"
    overlapping = client.patch(
        f"{API}/{cell}", json={"boundary": f.rect(0, 0, 1500, 1000)}, headers=f.if_match(client, cell)
    )
    f.assert_problem(overlapping, 422, "overlaps-sibling")
    assert _get(client, inside)["version"] == 1
