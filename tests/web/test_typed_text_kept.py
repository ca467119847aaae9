"""What a person typed comes back to them whenever a change is refused (issue 11): in the row, beside the other
person's text in a conflict, and behind a log-in or a stale-form page that leads back to the form."""
from portal.extensions import db
from portal.models import Milestone
from portal.services import campaign, projects

HX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/brands/1"}


def _milestone(client, branch):
    client.form_post(f"/brands/{branch.id}/projects", {"title": "示范岗", "goal": "十名"})
    project = projects.branch_projects(branch.id, campaign.current_year())[0][0]
    client.form_post(f"/projects/{project.id}/milestones", {"title": "挂牌", "measure": "全部", "due_on": "2012-11-01"})
    return projects.branch_projects(branch.id, campaign.current_year())[0][1][0]


def test_a_milestone_conflict_keeps_the_losers_evidence_and_intent_beside_the_winners(client, secretary, branch):
    client.login(secretary)
    milestone = _milestone(client, branch)
    stale = milestone.version
    first = client.form_post(f"/milestones/{milestone.id}", {"done": "1", "evidence": "甲的佐证", "version": stale},
                             htmx=True)
    assert first.status_code == 200
    lost = client.form_post(f"/milestones/{milestone.id}",
                            {"done": "1", "evidence": "乙的佐证，很长的一段说明", "version": stale}, htmx=True)
    body = lost.get_data(as_text=True)
    assert lost.status_code == 409
    assert "甲的佐证" in body  # theirs, beside
    assert 'value="乙的佐证，很长的一段说明"' in body  # mine, still in the field
    assert 'name="done" value="1"' in body and "保存我的版本" in body  # my intent, not "mark not done"
    db.session.expire_all()
    saved = db.session.get(Milestone, milestone.id)
    assert (saved.done, saved.evidence) == (True, "甲的佐证")
    # Having seen theirs, saving again replaces it knowingly.
    again = client.form_post(f"/milestones/{milestone.id}",
                             {"done": "1", "evidence": "乙的佐证，很长的一段说明", "version": saved.version}, htmx=True)
    assert again.status_code == 200
    db.session.expire_all()
    assert db.session.get(Milestone, milestone.id).evidence == "乙的佐证，很长的一段说明"


def test_refused_milestone_evidence_stays_in_the_field(client, secretary, branch):
    client.login(secretary)
    milestone = _milestone(client, branch)
    refused = client.form_post(f"/milestones/{milestone.id}", {"done": "1", "evidence": "长" * 2001,
                                                               "version": str(milestone.version)}, htmx=True)
    assert refused.status_code == 422
    assert 'value="' + "长" * 2001 + '"' in refused.get_data(as_text=True)


def test_an_expired_session_on_a_whole_page_form_leads_back_to_that_form(client, secretary, branch):
    client.login(secretary)
    page = f"/brands/{branch.id}"
    client.get(page)
    token = client.csrf_token()
    secretary.session_version += 1  # the session ends (idle time, a logout elsewhere)
    db.session.commit()
    response = client.post(f"/brands/{branch.id}", data={"csrf_token": token, "name": "新品牌"},
                           headers={"Referer": f"http://localhost{page}"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next=/brands/{branch.id}"


def test_a_stale_form_page_offers_the_way_back_to_the_form(client, secretary, branch):
    client.login(secretary)
    page = f"/brands/{branch.id}"
    response = client.post(page, data={"csrf_token": "stale", "name": "新品牌"},
                           headers={"Referer": f"http://localhost{page}"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'href="{page}"' in body and "data-keeps-drafts" in body
