"""The long checklist is workable: a sticky bar with progress, the next item to assess and the submit
button; an incomplete submit lists what is missing; nobody reviews their own work; the language switch
keeps the page."""
import re

from portal.models import AssessmentStatus, Result, Subject

from ..checklist_helpers import items, make_assessment


def test_bar_offers_the_first_item_not_yet_assessed_and_the_submit(client, secretary, branch):
    client.login(secretary)
    first, second = items(Subject.BRANCH)[:2]
    client.form_post(f"/checklist/branch/{branch.id}/items/{first.id}/result", {"result": "met"})
    text = client.get(f"/checklist/branch/{branch.id}").get_data(as_text=True)
    bar = text.split('id="checklist-bar"', 1)[1].split("</form>", 1)[0]
    assert f'href="#item-{second.id}" data-next-unassessed' in bar
    assert 'id="overall-meter"' in bar and "提交给领导小组" in bar


def test_incomplete_submit_lists_the_missing_items_as_links(client, secretary, branch):
    client.login(secretary)
    all_items = items(Subject.BRANCH)
    for item in all_items[:-2]:
        client.form_post(f"/checklist/branch/{branch.id}/items/{item.id}/result", {"result": "met"})
    response = client.form_post(f"/checklist/branch/{branch.id}/submit")
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    missing = re.findall(r'<li><a href="#item-(\d+)">', text.split('class="missing-items"', 1)[1])
    assert [int(i) for i in missing] == [i.id for i in all_items[-2:]]


def test_a_secretary_is_not_offered_the_review_of_their_own_self_assessment(client, secretary, leader, branch):
    make_assessment(branch, member=secretary, status=AssessmentStatus.SUBMITTED, answer_all=Result.MET)
    client.login(secretary)
    page = client.get(f"/checklist/member/{secretary.id}").get_data(as_text=True)
    assert 'name="rating"' not in page
    assert client.form_post(f"/checklist/member/{secretary.id}/review",
                            {"rating": "good", "comment": "自己评自己"}).status_code == 403
    client.form_post("/logout")
    client.login(leader)
    assert 'name="rating"' in client.get(f"/checklist/member/{secretary.id}").get_data(as_text=True)


def test_language_switch_keeps_the_page_and_its_query(client, leader):
    client.login(leader)
    text = client.get("/dashboard?type=primary&q=%E5%AE%9E%E9%AA%8C").get_data(as_text=True)
    assert 'href="/dashboard?type=primary&amp;q=%E5%AE%9E%E9%AA%8C&amp;lang=en"' in text


def test_a_milestone_answer_carries_its_projects_progress_bar(client, secretary, branch):
    from portal.services import campaign, projects

    client.login(secretary)
    client.form_post(f"/brands/{branch.id}/projects", {"title": "示范岗", "goal": "十名"})
    project = projects.branch_projects(branch.id, campaign.current_year())[0][0]
    for title in ("挂牌", "总结"):
        client.form_post(f"/projects/{project.id}/milestones", {"title": title, "measure": "全部",
                                                                "due_on": "2012-11-01"})
    milestone = projects.branch_projects(branch.id, campaign.current_year())[0][1][0]
    text = client.form_post(f"/milestones/{milestone.id}", {"done": "1", "evidence": "照片",
                                                            "version": str(milestone.version)},
                            htmx=True).get_data(as_text=True)
    assert f'id="milestone-{milestone.id}"' in text
    partial = text.split(f'<hx-partial hx-target="#project-progress-{project.id}" hx-swap="outerHTML">', 1)[1]
    assert '<progress max="100" value="50.0"' in partial
