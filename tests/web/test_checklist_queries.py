"""The number of SQL statements of a tick and of the checklist page does not depend on the number of
items or of branches (everything is loaded or aggregated in a fixed number of queries)."""
from sqlalchemy import event

from portal.extensions import db
from portal.models import Criterion, Item, Subject

from ..checklist_helpers import current_year, items
from ..factories import BranchFactory


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, *args):
        self.count += 1


def count(client, method, url, **kwargs) -> int:
    counter = QueryCounter()
    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        response = client.open(url, method=method, **kwargs)
        assert response.status_code < 400
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    return counter.count


def measure(client, branch):
    item = items(Subject.BRANCH)[0]
    token = client.csrf_token()
    tick = count(client, "POST", f"/checklist/branch/{branch.id}/items/{item.id}/result",
                 data={"result": "met" if measure.flip else "partly"},
                 headers={"HX-Request": "true", "X-CSRFToken": token})
    measure.flip = not measure.flip
    page = count(client, "GET", f"/checklist/branch/{branch.id}")
    return tick, page


measure.flip = True


def test_query_counts_are_constant(client, secretary, branch):
    client.login(secretary)
    measure(client, branch)  # first write creates the assessment; measure from the second on
    before = measure(client, branch)
    criterion = db.session.get(Criterion, items(Subject.BRANCH)[0].criterion_id)
    for n in range(12):  # more items ...
        db.session.add(Item(criterion_id=criterion.id, year_id=current_year().id, position=200 + n, text=f"新增{n}"))
    for _ in range(15):  # ... and more branches
        BranchFactory()
    db.session.commit()
    after = measure(client, branch)
    assert after == before


def test_a_tick_reads_the_checklist_once(client, secretary, branch):
    """Issue 14: a tick's answer reuses the items its check read, and names the item's criterion without reading
    it again: 9 statements counted in-process on SQLite, including the BEGIN (20 before h14page, 18 before
    h14tick2, 10 before h14tick3): the person with the current year, the checklist's owner and assessment, its
    items with their answers, the answer's upsert, its tallies' upsert (returning the rows written: no read back),
    the assessment's time, the audit event and the branch's summary of that year. The answer is drawn from what the
    tick wrote and read (no second transaction). On PostgreSQL the answer is read locked, and the answer's row and
    tallies after the commit (12)."""
    client.login(secretary)
    measure(client, branch)  # first write creates the assessment
    tick, _page = measure(client, branch)
    expected = 9 if db.engine.dialect.name == "sqlite" else 12  # (PostgreSQL's BEGIN is no statement)
    assert tick <= expected
    # The same answer again changes nothing: the transaction ends keeping what it read, and the answer reads the
    # row and the tallies (in a second transaction on SQLite).
    item = items(Subject.BRANCH)[0]
    again = count(client, "POST", f"/checklist/branch/{branch.id}/items/{item.id}/result",
                  data={"result": "partly" if measure.flip else "met"},
                  headers={"HX-Request": "true", "X-CSRFToken": client.csrf_token()})
    assert again <= 7


def test_a_result_sent_with_a_new_note_reads_the_items_once_more(client, secretary, branch):
    """A result click that carries a changed note saves the note (its own transaction), then the result in a second
    one, which reads the items with their answers again (the note as saved) and draws the answer from what it wrote:
    nothing is read after its commit (h14tick4; main at ea9876b: 23 statements here)."""
    client.login(secretary)
    measure(client, branch)  # first write creates the assessment
    item = items(Subject.BRANCH)[1]
    statements = count(client, "POST", f"/checklist/branch/{branch.id}/items/{item.id}/result",
                       data={"result": "met", "note": "有会议记录", "note_version": "0"},
                       headers={"HX-Request": "true", "X-CSRFToken": client.csrf_token()})
    if db.engine.dialect.name == "sqlite":
        assert statements <= 22, statements
    page = client.get(f"/checklist/branch/{branch.id}").get_data(as_text=True)
    assert "有会议记录" in page
