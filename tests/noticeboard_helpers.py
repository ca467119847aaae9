"""A branch with everything its 党务公开栏 shows: brand, published pledges, a project with milestones, an
exemplar story on the news board; made through the real services."""
from __future__ import annotations

from portal.models import Subject
from portal.services import campaign, news, pledges, projects


def build_noticeboard(branch, secretary, member, admin, editor) -> dict:
    """Returns {"pledges": [ids], "project": id, "post": id} of what the sheet must show."""
    year = campaign.current_year()
    projects.update_brand(admin, branch, name="书香支部", slogan="读书明理 立德树人",
                          description="以读书活动凝聚师生。")
    member_item = str(pledges.items_for(Subject.MEMBER, year)[0][0])
    branch_item = str(pledges.items_for(Subject.BRANCH, year)[0][0])
    branch_pledge = pledges.create(secretary, year, for_branch=True, text="班子团结务实，每月一次主题党日",
                                   item_ids=[branch_item])
    pledges.submit(secretary, branch_pledge)
    pledges.approve(admin, branch_pledge)
    member_pledge = pledges.create(member, year, for_branch=False, text="每学期上两次公开课", item_ids=[member_item])
    pledges.submit(member, member_pledge)
    pledges.approve(secretary, member_pledge)
    unpublished = pledges.create(member, year, for_branch=False, text="尚未批准的承诺", item_ids=[member_item])
    project = projects.create_project(secretary, branch, year, title="书香校园", goal="全年读书二十本")
    projects.add_milestone(secretary, project, title="读书月", measure="每人一本", due_on="2012-11-01")
    story = news.create_post(secretary, news.PostInput(category="branch_exemplar", title="书香支部的一年",
                                                       summary="党员带头读书", body_md="全体党员带头读书。",
                                                       branch_id=str(branch.id)))
    news.submit_post(secretary, story)
    news.publish_post(editor, story)
    return {"pledges": [branch_pledge.id, member_pledge.id], "unpublished": unpublished.id, "project": project.id,
            "post": story.id}
