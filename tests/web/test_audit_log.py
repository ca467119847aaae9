"""/admin/audit: the organisation section reads the whole audit log, filtered, in words, paged; CSV export."""
import csv
import io
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import AssessmentStatus, AuditEvent, Result, utcnow

from ..checklist_helpers import make_assessment


def _event(actor, action, branch=None, at=None, before=None, after=None, ip="10.0.0.1", object_type="assessment",
           object_id=1):
    event = AuditEvent(actor_id=actor.id, actor_name=actor.username, action=action, object_type=object_type,
                       object_id=object_id, branch_id=branch.id if branch else None, before=before, after=after,
                       at=at or utcnow(), ip=ip)
    db.session.add(event)
    db.session.commit()
    return event


def test_a_return_shows_its_reason_old_and_new_values_and_address(client, admin, leader, branch):
    make_assessment(branch, status=AssessmentStatus.SUBMITTED, answer_all=Result.MET)
    client.login(leader)
    client.form_post(f"/checklist/branch/{branch.id}/return", {"reason": "请补充佐证"},
                     environ_base={"REMOTE_ADDR": "192.0.2.7"})
    client.login(admin)
    page = client.get(f"/admin/audit?user={leader.username}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "退回了自评以便修改" in html and "理由：请补充佐证" in html
    assert "状态：已提交 → 已退回" in html and "192.0.2.7" in html
    assert f"{branch.name}2012年度五个好自评" in html  # whose self-assessment, and which year


def test_filters_by_person_branch_kind_and_dates(client, admin, leader, secretary, branch, other_branch):
    old = _event(secretary, "pledge.submit", branch, at=utcnow() - timedelta(days=10))
    mine = _event(secretary, "checklist.submit", branch)
    theirs = _event(leader, "checklist.review", other_branch)
    client.login(admin)

    def ids(query):
        html = client.get("/admin/audit" + query).get_data(as_text=True)
        return {e.id for e in (old, mine, theirs) if f'id="audit-{e.id}"' in html}

    assert ids(f"?user={secretary.username}") == {old.id, mine.id}
    assert ids(f"?branch={other_branch.id}") == {theirs.id}
    assert ids("?kind=checklist") == {mine.id, theirs.id}
    assert ids("?kind=checklist.review") == {theirs.id}
    start = (utcnow() - timedelta(days=2)).date().isoformat()
    assert ids(f"?start={start}") == {mine.id, theirs.id}
    end = (utcnow() - timedelta(days=5)).date().isoformat()
    assert ids(f"?end={end}") == {old.id}


@pytest.mark.parametrize("query", ["?start=yesterday", "?branch=abc", "?kind=drop.table",
                                   "?start=2012-05-02&end=2012-05-01"])
def test_bad_filters_are_422_with_a_message(client, admin, query):
    client.login(admin)
    response = client.get("/admin/audit" + query)
    assert response.status_code == 422 and 'aria-invalid="true"' in response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["?start=abc", "?branch=abc", "?kind=drop.table", "?start=2012-05-02&end=2012-05-01"])
def test_the_csv_export_validates_its_filters_as_the_page_does(client, admin, secretary, branch, query):
    _event(secretary, "checklist.submit", branch)
    client.login(admin)
    response = client.get("/admin/audit.csv" + query)
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert 'aria-invalid="true"' in response.get_data(as_text=True)


def test_the_person_filter_matches_part_of_a_username_or_name_in_any_case(client, admin, leader, secretary, branch):
    from ..factories import UserFactory

    mine = _event(secretary, "checklist.submit", branch)
    theirs = _event(leader, "checklist.review", branch)
    named = UserFactory(username="Wang.Fang", display_name="王芳_100%")
    by_name = _event(named, "pledge.submit", branch)
    client.login(admin)

    def ids(query):
        html = client.get("/admin/audit" + query).get_data(as_text=True)
        return {e.id for e in (mine, theirs, by_name) if f'id="audit-{e.id}"' in html}

    assert ids(f"?user={secretary.username.upper()}") == {mine.id}
    assert ids("?user=wang.") == {by_name.id}
    assert ids("?user=王芳") == {by_name.id}
    assert ids("?user=_100%25") == {by_name.id}  # LIKE's wildcards are plain characters here
    assert ids("?user=%25") == {by_name.id}


def test_paged_in_sql(client, admin, secretary, branch):
    for i in range(55):
        _event(secretary, "checklist.set_result", branch, at=utcnow() - timedelta(minutes=i), object_id=i)
    client.login(admin)
    first = client.get("/admin/audit").get_data(as_text=True)
    assert first.count('<tr id="audit-') == 50 and "第 1 页，共 2 页" in first
    second = client.get("/admin/audit?page=2").get_data(as_text=True)
    assert second.count('<tr id="audit-') == 56 - 50  # the admin's own sign-in is an event too


def test_csv_export_is_neutralised(client, admin, secretary, branch):
    _event(secretary, "pledge.update", branch, before={"text": "旧"}, after={"text": "=HYPERLINK(\"x\")"},
           object_type="pledge")
    client.login(admin)
    response = client.get(f"/admin/audit.csv?user={secretary.username}")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][1:3] == ["人员", "用户名"]
    assert len(rows) == 2 and rows[1][1:3] == [secretary.display_name, secretary.username]
    assert "内容：旧 → =HYPERLINK" in rows[1][6]
    # A cell that would start a formula is neutralised.
    _event(secretary, "=cmd|' /C calc'!A0", branch)
    rows = list(csv.reader(io.StringIO(client.get(f"/admin/audit.csv?user={secretary.username}")
                                       .get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1][4].startswith("'=")


def test_only_the_organisation_section(client, leader, secretary, editor):
    for user in (leader, secretary, editor):
        client.login(user)
        assert client.get("/admin/audit").status_code == 403
        assert client.get("/admin/audit.csv").status_code == 403


def test_branch_page_trail_links_to_the_log(client, admin, leader, branch):
    client.login(admin)
    assert f'href="/admin/audit?branch={branch.id}"' in client.get(f"/branches/{branch.id}").get_data(as_text=True)
    client.login(leader)
    assert "/admin/audit" not in client.get(f"/branches/{branch.id}").get_data(as_text=True)


def test_events_name_the_item_the_reason_and_the_rating(client, admin, leader, secretary, editor, member, branch):
    from portal.models import PostStatus, Subject
    from portal.services import commendation

    from ..checklist_helpers import items
    from ..news_helpers import make_nomination, make_post

    client.login(secretary)
    first = items(Subject.BRANCH)[0]
    client.form_post(f"/checklist/branch/{branch.id}/items/{first.id}/result", {"result": "met"})
    post = make_post(member, title="待审稿件", status=PostStatus.PENDING)
    client.login(editor)
    assert client.form_post(f"/news/{post.id}/return", {"reason": "请补充照片"}).status_code == 303
    nomination = make_nomination(secretary, member=member)
    commendation.reject(leader, nomination, "事迹不够突出")
    make_assessment(branch, member=secretary, status=AssessmentStatus.SUBMITTED, answer_all=Result.MET)
    client.login(leader)
    client.form_post(f"/checklist/member/{secretary.id}/review", {"rating": "fairly_good", "comment": "扎实"})
    client.login(admin)
    html = client.get("/admin/audit").get_data(as_text=True)
    assert f"{branch.name}2012年度五个好自评 · 1.1 " in html  # which item of whose self-assessment
    assert "理由：请补充照片" in html and "理由：事迹不够突出" in html
    assert "fairly_good" in html or "较好" in html


def test_events_read_in_chinese_words_with_names_and_local_times(client, admin, editor, secretary, member, branch,
                                                                  other_branch):
    """Field names and codes are words, booleans 是/否, nothing —, ids the records' names, times Beijing time; a
    post is a 稿件 (not the 职务 of a person), a bulletin a 通报; every event of the page has words for all it
    recorded."""
    from portal.models import PostStatus
    from portal.services import auditlog, news, submissions, users
    from portal.services.campaign import current_year

    from ..news_helpers import make_post

    post = make_post(member, title="“三会一课”进课堂", status=PostStatus.PUBLISHED)
    news.set_flag(editor, post, "pinned", True)
    submissions.create_request(admin, current_year(), kind="plan", title="报送实施方案", description="",
                               deadline="2031-06-30T17:00", branch_ids=None)
    users.update(admin, member, display_name=member.display_name, role="member", branch_id=str(other_branch.id),
                 post_title="教师")
    _event(admin, "bulletin.issue", object_type="bulletin", object_id=999,
                            before={"status": "draft"}, after={"status": "issued", "number": ""})
    client.login(admin)
    html = client.get("/admin/audit").get_data(as_text=True)
    lines = auditlog.page_of(auditlog.Filters()).lines
    assert [auditlog.unlabelled(line.event) for line in lines] == [[]] * len(lines)
    assert "置顶：否 → 是" in html and "pinned" not in html
    assert "稿件 #" in html and "“三会一课”进课堂" in html and "““" not in html and "职务 #" not in html
    assert "通报 #999" in html and "状态：草稿 → 已印发" in html and "发文字号：—" in html
    assert "截止时间：2031-06-30 17:00" in html  # entered and shown in Beijing time, not UTC
    assert "类型：领导小组名单和实施方案" in html
    assert f"党组织：{branch.name} → {other_branch.name}" in html  # branch_id: 1 → 2, by name
    assert "角色：党员 → 党员" not in html and "status:" not in html and "branch_id" not in html


def test_the_kind_filter_reads_as_areas_with_chinese_names(client, admin):
    client.login(admin)
    html = client.get("/admin/audit").get_data(as_text=True)
    select = html[html.index('id="audit-kind"'):html.index("</select>", html.index('id="audit-kind"'))]
    assert '<optgroup label="自评">' in select and '<optgroup label="登录">' in select
    assert ">全部（自评）</option>" in select
    assert "“access”" not in select and "“checklist”" not in select and "auth.login ·" not in select
    assert "access" not in select.replace('value="access', "")  # codes only as values


def test_events_name_people_and_self_assessments_in_one_lookup(client, admin, leader, secretary, member, branch):
    """Self-assessments by whose and which year, people by name (the username in a title), a review's every
    field recorded, and the names of a page fetched in a fixed number of statements however many owners."""
    from ..dashboard_helpers import count_statements
    from ..factories import UserFactory

    make_assessment(branch, member=member, status=AssessmentStatus.SUBMITTED, answer_all=Result.MET)
    client.login(secretary)
    assert client.form_post(f"/checklist/member/{member.id}/review",
                            {"rating": "good", "comment": "很扎实", "improvements": "多带徒弟"}).status_code == 303
    client.login(admin)
    html = client.get(f"/admin/audit?user={secretary.username}").get_data(as_text=True)
    assert f"{member.display_name}的2012年度五带头自评" in html
    assert "整改要求：多带徒弟" in html and "意见：很扎实" in html
    assert f'title="{secretary.username}">{secretary.display_name}</a>' in html
    logins = client.get("/admin/audit?kind=auth").get_data(as_text=True)
    assert f"账号 “{admin.display_name}”" in logins and "账号 #" not in logins
    few = count_statements(client, "/admin/audit")
    for _ in range(6):
        person = UserFactory(branch=branch)
        assessment = make_assessment(branch, member=person)
        _event(person, "checklist.submit", branch, object_id=assessment.id)
    assert count_statements(client, "/admin/audit") == few
