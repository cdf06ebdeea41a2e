"""Two leaders at the same moment: the checks and the write they guard cannot interleave."""

from __future__ import annotations

from collections.abc import Callable

from tests import factories as f
from tests.factories import API, race


def test_two_overlapping_cells_drawn_at_the_same_moment_cannot_both_be_created(app, client):
    village = f.village(client, f.township(client)["id"])

    def draw(code: str, box: tuple) -> Callable:
        body = {"village_id": village["id"], "code": code, "name": code, "boundary": f.rect(*box)}
        return lambda c: c.post(f"{API}/grid-cells", json=body)

    for attempt in range(3):
        answers = race(
            client,
            draw(f"{f.VILLAGE_CODE}{attempt * 2 + 1:03d}", (0, attempt * 600, 500, attempt * 600 + 500)),
            draw(f"{f.VILLAGE_CODE}{attempt * 2 + 2:03d}", (100, attempt * 600 + 100, 600, attempt * 600 + 550)),
        )
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [201, 422], [a.get_json() for a in answers]
        refused = next(a for a in answers if a.status_code == 422)
        assert refused.get_json()["code"] == "overlaps-sibling"
    cells = client.get(f"{API}/grid-cells?village_id={village['id']}&count=true").get_json()
    assert cells["total"] == 3


def test_two_edits_from_the_same_version_end_with_one_winner_and_one_412(app, client):
    township = f.township(client)

    def rename(name: str) -> Callable:
        return lambda c: c.patch(f"{API}/townships/{township['id']}", json={"name": name}, headers={"If-Match": '"1"'})

    answers = race(client, rename("甲镇"), rename("乙镇"))
    assert sorted(a.status_code for a in answers) == [200, 412]
    winner = next(a for a in answers if a.status_code == 200).get_json()
    now = client.get(f"{API}/townships/{township['id']}").get_json()
    assert now["name"] == winner["name"] and now["version"] == 2
