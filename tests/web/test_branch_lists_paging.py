"""The two lists of every branch that page in SQL (issue #14, h14lists2): the branch grades of /grades (分类定级)
and a 报送 request's grid /submissions/<id>. Each page lists at most 50 branches in a fixed number of statements,
however big the district; the filters and pages show every branch exactly once; the summaries count every branch;
a confirmation or decision sent from a page leaves the other pages' records as they were and leads back to that
page; bad query parameters give a normal page."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select, update

from portal.extensions import db
from portal.models import Branch, BranchLevel, GradeRecord, Submission, SubmissionStatus
from portal.services import branch_choice, submissions

from ..appraisal_helpers import current_year
from ..dashboard_helpers import count_statements
from ..factories import BranchFactory, UnitFactory
from ..unit.test_campaign import make_request

GRADE_ROW = re.compile(r'<tr id="grade-(\d+)">')
GRID_ROW = re.compile(r'<tr id="submission-(\d+)">')
PER_PAGE = 50
LEVELS = [BranchLevel.ADVANCED, BranchLevel.ORDINARY, BranchLevel.LAGGING]


def _ids(pattern, response) -> list[int]:
    assert response.status_code == 200
    return [int(i) for i in pattern.findall(response.get_data(as_text=True))]


def _branches(n: int, start: int = 0) -> list[Branch]:
    made = []
    for i in range(start, start + n):
        unit = UnitFactory(name=f"分页{i:03d}号学校")
        made.append(BranchFactory(unit=unit, name=f"分页{i:03d}号学校党支部"))
    return made


def _grades_for(branches: list[Branch]) -> None:
    """A branch grade record per branch: proposals cycling 先进/一般/后进, every third confirmed as proposed."""
    year = current_year()
    for i, branch in enumerate(branches):
        level = LEVELS[i % 3]
        db.session.add(GradeRecord(year_id=year.id, branch_id=branch.id, proposed=level, composite=70.0 + i % 30,
                                   satisfaction=90.0, confirmed=level if i % 3 == 0 else None, reason=""))
    db.session.commit()


def _all_pages(client, url: str, pattern) -> list[int]:
    """The row ids of every page of `url` (which has no page yet), in order."""
    first = client.get(url)
    text = first.get_data(as_text=True)
    pages = int(m.group(1)) if (m := re.search(r"第 \d+ 页，共 (\d+) 页", text)) else 1
    ids = _ids(pattern, first)
    joiner = "&" if "?" in url else "?"
    for page in range(2, pages + 1):
        ids += _ids(pattern, client.get(f"{url}{joiner}page={page}"))
    return ids


def _records() -> dict[int, tuple]:
    return {r.id: (r.confirmed, r.reason, r.version, r.confirmed_by_id)
            for r in db.session.scalars(select(GradeRecord).where(GradeRecord.member_id.is_(None)))}


# --- /grades -------------------------------------------------------------------------------------------------

@pytest.fixture
def graded(app):
    branches = _branches(PER_PAGE + 17)
    _grades_for(branches)
    return branches


def test_grade_pages_and_filters_show_every_branch_once(client, leader, graded):
    client.login(leader)
    records = list(db.session.scalars(select(GradeRecord).where(GradeRecord.member_id.is_(None))))
    everything = _all_pages(client, "/grades", GRADE_ROW)
    assert len(everything) == len(set(everything)) == len(records)
    assert len(_ids(GRADE_ROW, client.get("/grades"))) == PER_PAGE
    for query, wanted in [
        ("grade=advanced", {r.id for r in records if r.grade == "advanced"}),
        ("state=unconfirmed", {r.id for r in records if r.confirmed is None}),
        ("state=confirmed&grade=advanced", {r.id for r in records if r.confirmed == "advanced"}),
        ("branch_q=%E5%88%86%E9%A1%B5", {r.id for r in records}),  # 分页: every one, on two pages
    ]:
        shown = _all_pages(client, f"/grades?{query}", GRADE_ROW)
        assert len(shown) == len(set(shown)) and set(shown) == wanted, query
    # The summary counts every branch of the year, whatever the page and the filters.
    text = client.get("/grades?grade=lagging&page=2").get_data(as_text=True)
    summary = text.split('id="grade-summary"', 1)[1].split("</ul>", 1)[0]
    counts = [int(n) for n in re.findall(r"<strong>(\d+)</strong>", summary)]
    in_force = [sum(1 for r in records if r.grade == level) for level in ("advanced", "ordinary", "lagging")]
    assert counts == [*in_force, sum(1 for r in records if r.confirmed is None)]
    assert 'href="/grades?state=unconfirmed"' in summary


def test_grade_summary_follows_the_branch_filter(client, leader, graded):
    """With a branch filter on, the summary counts the branches it leaves, and its links keep it (h14lists3)."""
    client.login(leader)
    extra = _branches(3, start=500)  # 分页500–502: another name, not matched by 分页0
    _grades_for(extra)
    records = {r.branch_id: r for r in db.session.scalars(select(GradeRecord).where(GradeRecord.member_id.is_(None)))}
    for query, branch_ids in [("branch_q=%E5%88%86%E9%A1%B50", [b.id for b in graded[:100] if "分页0" in b.name]),
                              (f"branch={graded[4].id}", [graded[4].id])]:
        text = client.get(f"/grades?{query}&grade=lagging").get_data(as_text=True)
        summary = text.split('id="grade-summary"', 1)[1].split("</ul>", 1)[0]
        counts = [int(n) for n in re.findall(r"<strong>(\d+)</strong>", summary)]
        chosen = [records[i] for i in branch_ids]
        in_force = [sum(1 for r in chosen if r.grade == level) for level in ("advanced", "ordinary", "lagging")]
        assert counts == [*in_force, sum(1 for r in chosen if r.confirmed is None)], query
        assert html.unescape(summary).count(f'/grades?{query}&') == 4
        assert f'href="/grades?{html.escape(query)}&amp;state=unconfirmed"' in summary
    nothing = client.get("/grades?branch_q=%E6%B2%A1%E6%9C%89").get_data(as_text=True)  # 没有: no branch
    assert "No branch matches." in nothing or "没有符合条件的支部" in nothing


def test_grade_pages_are_in_pinyin_order_and_keep_the_filters(client, leader, graded):
    client.login(leader)
    names = re.compile(r'<tr id="grade-\d+">\s*<th scope="row"><a [^>]*>([^<]+)</a>')
    shown = names.findall(client.get("/grades").get_data(as_text=True))
    shown += names.findall(client.get("/grades?page=2").get_data(as_text=True))
    assert shown == sorted(b.name for b in graded)
    text = client.get("/grades?state=unconfirmed&grade=ordinary").get_data(as_text=True)
    assert "第 1–" in text
    big = client.get("/grades?grade=ordinary&state=unconfirmed&branch_q=%E5%88%86").get_data(as_text=True)
    assert 'value="分"' in big  # the typed part of the name stays in the field


def test_a_confirmation_from_page_two_changes_that_record_only_and_leads_back(client, leader, graded):
    client.login(leader)
    url = "/grades?branch_q=%E5%88%86%E9%A1%B5&page=2"  # 分页: every branch, the second page
    text = client.get(url).get_data(as_text=True)
    record_id = _ids(GRADE_ROW, client.get(url))[0]
    form = re.search(rf'<form method="post" action="([^"]+)"[^>]*id="confirm-{record_id}"', text)
    action = html.unescape(form.group(1))
    assert action.startswith("/grades?") and "branch_q=%E5%88%86%E9%A1%B5" in action and "page=2" in action
    record = db.session.get(GradeRecord, record_id)
    before = _records()
    # The row's form sends that record's fields only: the record, its version, the grade and the reason.
    response = client.form_post(action, {"record": str(record.id), "version": str(record.version),
                                         "grade": record.proposed, "reason": ""})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/grades?") and "branch_q=%E5%88%86%E9%A1%B5" in location and "page=2" in location
    after = _records()
    db.session.refresh(record)
    assert record.confirmed == record.proposed and record.confirmed_by_id == leader.id
    assert {k: v for k, v in after.items() if k != record_id} == {k: v for k, v in before.items() if k != record_id}
    # A refusal shows the same page of the same list, the row's error beside it.
    other_id = _ids(GRADE_ROW, client.get(url))[1]
    other = db.session.get(GradeRecord, other_id)
    refused = client.form_post(action, {"record": str(other.id), "version": str(other.version),
                                        "grade": "lagging" if other.proposed != "lagging" else "ordinary",
                                        "reason": ""})
    assert refused.status_code == 422 and f'id="grade-error-{other.id}"' in refused.get_data(as_text=True)
    assert _records() == after


def test_grades_page_costs_the_same_for_a_bigger_district(client, leader, app):
    _grades_for(_branches(4))
    client.login(leader)
    client.get("/grades")
    few = {url: count_statements(client, url) for url in
           ("/grades", "/grades?page=2&grade=ordinary&state=unconfirmed", "/grades?branch_q=%E5%88%86")}
    _grades_for(_branches(branch_choice.MENU_MAX + PER_PAGE, start=4))
    for url, n in few.items():
        assert count_statements(client, url) == n, url
    assert len(_ids(GRADE_ROW, client.get("/grades"))) == PER_PAGE
    assert len(_ids(GRADE_ROW, client.get("/grades?page=99"))) == (branch_choice.MENU_MAX + PER_PAGE + 4) % PER_PAGE


BAD_GRADE_QUERIES = ["page=abc", "page=-1", "page=0", "page=" + "9" * 40, "page=" + "9" * 5000, "page=2.5",
                     "page=%EF%BC%92", "grade=bogus", "state=bogus", "branch=abc", "branch=-3", "year=abc",
                     "year=99999999999", "branch_q=%25", "branch_q=_", "branch_q=" + "分" * 500]


def test_bad_grade_query_parameters_give_a_normal_page(client, leader, graded):
    client.login(leader)
    for query in BAD_GRADE_QUERIES:
        response = client.get(f"/grades?{query}")
        assert response.status_code == 200, query
        assert len(_ids(GRADE_ROW, response)) in (0, PER_PAGE, len(graded) - PER_PAGE), query


def test_a_page_past_the_end_is_the_last_page(client, leader, graded):
    client.login(leader)
    last = _ids(GRADE_ROW, client.get("/grades?page=2"))
    assert _ids(GRADE_ROW, client.get("/grades?page=99999")) == last
    assert _ids(GRADE_ROW, client.get("/grades?page=" + "9" * 40)) == last
    assert len(last) == len(graded) - PER_PAGE


# --- /submissions/<id> -------------------------------------------------------------------------------------------

STATES = [(SubmissionStatus.PENDING, False), (SubmissionStatus.SUBMITTED, False), (SubmissionStatus.SUBMITTED, True),
          (SubmissionStatus.RETURNED, False), (SubmissionStatus.ACCEPTED, False)]


def _request_with_states(admin, n: int, start: int = 0):
    """A request to `n` new branches whose submissions cycle through pending, submitted, late, returned,
    accepted."""
    branches = _branches(n, start)
    request = make_request(admin, branches=branches, kind="general")
    ids = list(db.session.scalars(select(Submission.id).where(Submission.request_id == request.id)
                                  .order_by(Submission.branch_id)))
    for i, submission_id in enumerate(ids):
        status, late = STATES[i % len(STATES)]
        db.session.execute(update(Submission).where(Submission.id == submission_id).values(
            status=status, is_late=late, return_reason="缺少职务" if status == SubmissionStatus.RETURNED else ""))
    db.session.commit()
    return request


def test_grid_pages_and_filters_show_every_branch_once(client, admin):
    request = _request_with_states(admin, PER_PAGE + 13)
    client.login(admin)
    rows = submissions.grid(request)
    url = f"/submissions/{request.id}"
    everything = _all_pages(client, url, GRID_ROW)
    assert everything == [r.submission_id for r in rows]  # pinyin order, each once
    assert len(_ids(GRID_ROW, client.get(url))) == PER_PAGE
    for state in submissions.GRID_FILTERS:
        wanted = [r.submission_id for r in rows if r.state in (submissions.TO_DECIDE if state == "to_decide"
                                                               else (state,))]
        assert _all_pages(client, f"{url}?state={state}", GRID_ROW) == wanted, state
    one = rows[7]
    assert _ids(GRID_ROW, client.get(f"{url}?branch_q={one.branch_name[:5]}")) == [one.submission_id]
    # The summary counts every branch asked, on every page and under every filter.
    text = client.get(f"{url}?state=late").get_data(as_text=True)
    summary = text.split('id="grid-summary"', 1)[1].split("</ul>", 1)[0]
    counts = submissions.count_states(rows)
    for state, n in counts.items():
        assert re.search(rf'data-state="{state}">[^<]*</span> <strong>{n}</strong></a>', summary), state
    assert f'href="/submissions/{request.id}?state=late"' in summary


def test_a_decision_from_page_two_goes_back_to_it_and_the_counts_follow(client, admin):
    request = _request_with_states(admin, PER_PAGE + 13)
    client.login(admin)
    url = f"/submissions/{request.id}?branch_q=%E5%88%86%E9%A1%B5&page=2"  # 分页: every branch, the second page
    text = client.get(url).get_data(as_text=True)
    decidable = re.findall(r'<form method="post" action="/submission/(\d+)/accept([^"]*)"', text)
    first, query = int(decidable[0][0]), html.unescape(decidable[0][1])
    action = f"/submission/{first}/accept{query}"
    assert "branch_q=%E5%88%86%E9%A1%B5" in query and "page=2" in query
    before = {s.id: (s.status, s.version) for s in db.session.scalars(select(Submission))}
    submission = db.session.get(Submission, first)
    # htmx: the row, and the summary of every branch out of band
    response = client.form_post(action, {"version": str(submission.version)}, htmx=True)
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and fragment.lstrip().startswith(f'<tr id="submission-{first}"')
    counts = submissions.count_states(submissions.grid(request))
    assert 'hx-swap-oob="true"' in fragment
    assert re.search(rf'data-state="accepted">[^<]*</span> <strong>{counts["accepted"]}</strong></a>', fragment)
    after = {s.id: (s.status, s.version) for s in db.session.scalars(select(Submission))}
    assert {k: v for k, v in after.items() if k != first} == {k: v for k, v in before.items() if k != first}
    # a plain post: back to the page and the filter it was sent from
    second = int(decidable[1][0])
    version = db.session.get(Submission, second).version
    response = client.form_post(action.replace(f"/submission/{first}/", f"/submission/{second}/"),
                                {"version": str(version)})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith(f"/submissions/{request.id}?") and "branch_q=%E5%88%86%E9%A1%B5" in location
    assert "page=2" in location


def test_grid_costs_the_same_for_a_bigger_district(client, admin, app):
    small_request = _request_with_states(admin, 4)
    client.login(admin)
    urls = [f"/submissions/{small_request.id}", f"/submissions/{small_request.id}?state=to_decide&page=2",
            f"/submissions/{small_request.id}?branch_q=%E5%88%86"]
    client.get(urls[0])
    few = [count_statements(client, url) for url in urls]
    big_request = _request_with_states(admin, branch_choice.MENU_MAX + PER_PAGE, start=4)
    assert [count_statements(client, url.replace(f"/{small_request.id}", f"/{big_request.id}"))
            for url in urls] == few
    assert len(_ids(GRID_ROW, client.get(f"/submissions/{big_request.id}"))) == PER_PAGE
    submission = db.session.scalar(select(Submission).where(Submission.request_id == big_request.id,
                                                            Submission.status == SubmissionStatus.SUBMITTED))
    small_submission = db.session.scalar(select(Submission).where(Submission.request_id == small_request.id,
                                                                  Submission.status == SubmissionStatus.SUBMITTED))
    decide = [count_statements(client, f"/submission/{s.id}/accept", method="POST", data={"version": str(s.version)})
              for s in (small_submission, submission)]
    assert decide[0] == decide[1]


def test_bad_grid_query_parameters_give_a_normal_page(client, admin):
    request = _request_with_states(admin, PER_PAGE + 3)
    client.login(admin)
    for query in ["page=abc", "page=-1", "page=0", "page=" + "9" * 40, "page=" + "9" * 5000, "state=bogus",
                  "branch=abc", "branch=-1", "branch_q=%25", "page=3&state=late", "branch_q=" + "分" * 500]:
        response = client.get(f"/submissions/{request.id}?{query}")
        assert response.status_code == 200 and len(_ids(GRID_ROW, response)) <= PER_PAGE, query
    last = _ids(GRID_ROW, client.get(f"/submissions/{request.id}?page=2"))
    assert len(last) == 3
    assert _ids(GRID_ROW, client.get(f"/submissions/{request.id}?page=" + "9" * 40)) == last


def test_a_decision_that_leaves_the_filter_moves_the_next_row_up(client, admin):
    """On a page of 待审核, an inline decision takes its row out of the list: the answer removes it, adds the row that
    now ends the page (the first of page 2 before), and brings the range, the filter's count, the pager and the
    summary up to date; page 2 then starts where it should, nothing skipped (h14lists3)."""
    request = _request_with_states(admin, 140)  # 56 handed in (on time or late): two pages of 待审核
    client.login(admin)
    url = f"/submissions/{request.id}?state=to_decide"
    waiting = [r.submission_id for r in submissions.grid(request) if r.state in submissions.TO_DECIDE]
    assert len(waiting) == 56 and _ids(GRID_ROW, client.get(url)) == waiting[:PER_PAGE]
    decided = waiting[2]
    response = client.form_post(f"/submission/{decided}/accept?state=to_decide",
                                {"version": str(db.session.get(Submission, decided).version)}, htmx=True)
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="submission-{decided}"' not in fragment  # the row goes
    assert _ids(GRID_ROW, response) == [waiting[PER_PAGE]]  # the first of page 2 comes up, at the end
    assert '<hx-partial hx-target="#grid-body" hx-swap="beforeend">' in fragment
    assert f'<hx-partial hx-target="#submission-{decided}" hx-swap="delete">' in fragment
    assert re.search(r'id="grid-range" hx-swap-oob="true">第 1–50 个，共 55 个', fragment)
    assert re.search(r'<option value="to_decide" selected>[^<(]*\(55\)</option>', fragment)
    assert '<div id="grid-pager" hx-swap-oob="true">' in fragment and "第 1 页，共 2 页" in fragment
    assert '<div id="grid-summary" hx-swap-oob="true">' in fragment
    shown = [i for i in waiting[:PER_PAGE + 1] if i != decided]
    assert shown + _ids(GRID_ROW, client.get(url + "&page=2")) == [i for i in waiting if i != decided]
    # A decision that keeps its row in the list (no state filter) answers the row, and the filter's count follows.
    other = waiting[5]
    response = client.form_post(f"/submission/{other}/accept",
                                {"version": str(db.session.get(Submission, other).version)}, htmx=True)
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith(f'<tr id="submission-{other}"')
    assert re.search(r'<option value="to_decide" >[^<(]*\(54\)</option>', fragment)
    assert 'id="grid-pager"' not in fragment


def test_a_decision_that_empties_the_last_page_leads_to_the_list(client, admin):
    """The last row of the last page of 待审核 decided inline: that page is gone, so htmx is sent to the list's page
    (HX-Redirect), not given a row of another page."""
    request = _request_with_states(admin, 130)  # 52 handed in: page 2 holds two
    client.login(admin)
    waiting = [r.submission_id for r in submissions.grid(request) if r.state in submissions.TO_DECIDE]
    for decided in waiting[PER_PAGE:]:
        response = client.form_post(f"/submission/{decided}/accept?state=to_decide&page=2",
                                    {"version": str(db.session.get(Submission, decided).version)}, htmx=True)
    # Not a redirect status: the browser's fetch would follow it itself and htmx would swap the whole page into
    # the table (two <main>); htmx 4 reads HX-Redirect from any answer.
    assert response.status_code == 204 and "Location" not in response.headers
    assert response.headers.get("HX-Redirect") == f"/submissions/{request.id}?state=to_decide"



def test_the_grid_scrolls_inside_its_own_box(client, admin):
    """At 375 px the grid is wider than the screen: it scrolls in a .table-scroll as /grades does, not the page."""
    request = _request_with_states(admin, 3)
    client.login(admin)
    page = client.get(f"/submissions/{request.id}").get_data(as_text=True)
    assert re.search(r'<div class="table-scroll">\s*(\{#[^#]*#\}\s*)?<table class="data submission-grid" id="grid">',
                     page)



def test_a_plain_decision_that_empties_the_last_page_goes_back_to_the_list(client, admin):
    """Without htmx the same decision is a 303 to the page it was sent from (the list shows its last page)."""
    request = _request_with_states(admin, 130)
    client.login(admin)
    for decided in [r.submission_id for r in submissions.grid(request) if r.state in submissions.TO_DECIDE][PER_PAGE:]:
        response = client.form_post(f"/submission/{decided}/accept?state=to_decide&page=2",
                                    {"version": str(db.session.get(Submission, decided).version)})
    assert response.status_code == 303 and "page=2" in response.headers["Location"]
    assert len(_ids(GRID_ROW, client.get(response.headers["Location"]))) == PER_PAGE



def test_a_second_or_stale_decision_shows_the_row_as_it_is_now(client, admin):
    """Two clicks on 通过 send one decision (hx-sync drop on the row); a decision from an older tab, refused
    because the submission is no longer handed in, answers the row as it is now, or under 待审核 takes the row out
    like a decision that left the filter."""
    request = _request_with_states(admin, 10)
    client.login(admin)
    waiting = [r.submission_id for r in submissions.grid(request) if r.state in submissions.TO_DECIDE]
    page = client.get(f"/submissions/{request.id}").get_data(as_text=True)
    assert page.count('hx-disable="find button"') == 2 * len(waiting)
    first, second = waiting[0], waiting[1]
    version = str(db.session.get(Submission, first).version)
    assert client.form_post(f"/submission/{first}/accept", {"version": version}, htmx=True).status_code == 200
    response = client.form_post(f"/submission/{first}/accept", {"version": version}, htmx=True)
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith(f'<tr id="submission-{first}"')
    assert 'data-state="accepted"' in fragment.split("</tr>")[0] and 'action="/submission/' not in fragment
    assert "只有已报送的材料才能通过或退回" in fragment
    version = str(db.session.get(Submission, second).version)
    assert client.form_post(f"/submission/{second}/accept", {"version": version}, htmx=True).status_code == 200
    response = client.form_post(f"/submission/{second}/return?state=to_decide",
                                {"version": version, "reason": "再改"}, htmx=True)
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<hx-partial hx-target="#submission-{second}" hx-swap="delete">' in fragment
    assert db.session.get(Submission, second).status == SubmissionStatus.ACCEPTED



def test_a_decision_that_empties_the_only_page_says_no_branch_matches(client, admin):
    """The last row of 待审核's only page decided inline: the table says what a fresh load says."""
    request = _request_with_states(admin, 4)  # one handed in on time, one late
    client.login(admin)
    waiting = [r.submission_id for r in submissions.grid(request) if r.state in submissions.TO_DECIDE]
    for decided in waiting:
        response = client.form_post(f"/submission/{decided}/accept?state=to_decide",
                                    {"version": str(db.session.get(Submission, decided).version)}, htmx=True)
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and "没有符合条件的支部。" in fragment
    assert "没有符合条件的支部。" in client.get(f"/submissions/{request.id}?state=to_decide").get_data(as_text=True)
    partial = re.search(r'<hx-partial hx-target="#grid-body" hx-swap="beforeend">(.*?)</hx-partial>', fragment, re.S)
    assert partial and "没有符合条件的支部。" in partial.group(1)
