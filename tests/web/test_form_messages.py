"""One refusal lists every problem, once (issue 16, tester's findings 14, 15, 17): the branch form's number and
its taken names at once; one message per problem in a roster row, with the username rule's own limits; the
template's example row refused."""
import pytest

from portal.services import roster

from ..factories import BranchFactory

HEADER = ["用户名", "姓名", "角色", "支部", "职务", "邮箱"]


def test_the_branch_form_refuses_a_bad_number_and_a_taken_name_at_once(client, admin):
    taken = BranchFactory(name="书香路小学党支部")
    client.login(admin)
    response = client.form_post("/admin/branches", {
        "unit_name": taken.unit.name, "unit_kind": "primary", "branch_name": taken.name, "branch_kind": "branch",
        "member_count": "十二"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "0到10000" in body or "0 to 10000" in body
    assert "已有支部使用此名称" in body or "already has this name" in body


@pytest.mark.parametrize("cells, expected", [
    (["u" * 70, "某", "党员"], 1),  # too long: one message, the username rule's
    (["u" * 70, "某" * 70, "党员"], 2),  # two problems, two messages
    (["ab", "某" * 70, "党员"], 1),
])
def test_one_message_per_problem(app, cells, expected):
    branch = BranchFactory()
    row = cells + [branch.name, "", ""]
    plan = roster._plan([HEADER, row])
    assert len(plan.rows[0].errors) == expected, plan.rows[0].errors
    if "u" * 70 in row:
        assert any("40" in message for message in plan.rows[0].errors)
        assert not any("64" in message for message in plan.rows[0].errors
                       if "用户名" in message or "sername" in message)


def test_the_templates_example_row_is_refused(app):
    branch = BranchFactory()
    example = list(roster.TEMPLATE_EXAMPLE)
    example[3] = branch.name
    plan = roster._plan([HEADER, example, ["lisi", "李四", "党员", branch.name, "", ""]])
    assert not plan.ok and plan.rows[0].errors and not plan.rows[1].errors
