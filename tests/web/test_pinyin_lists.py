"""Lists of people and branches in pinyin order (issue 16, tester's finding 6): 阿 (a) before 书 (shu) before
云 (yun) before 赵 (zhao), never code-point order (书 U+4E66 < 云 U+4E91 < 丽 U+4E3D…). Every list goes through
collation (people_order, branch_order: the stored keys in SQL; in_pinyin_order in Python); a source scan
keeps code-point ordering by name from coming back."""
import re
from pathlib import Path

from portal.extensions import db
from portal.models import Role
from portal.services import campaign, workqueue

from ..factories import BranchFactory, UserFactory

# In pinyin order; in code-point order they would be 书 丽 云 阿 (丽 U+4E3D, 书 U+4E66, 云 U+4E91, 阿 U+963F).
BRANCHES = ["阿里山小学党支部", "丽园路小学党支部", "书香路小学党支部", "云杉路小学党支部"]
PEOPLE = ["安然", "李四", "孙悟空", "赵强"]


def _in_order(text: str, names: list[str]) -> bool:
    places = [text.find(name) for name in names]
    return all(p >= 0 for p in places) and places == sorted(places)


def _world():
    branches = [BranchFactory(name=name) for name in reversed(BRANCHES)]
    home = branches[0]
    people = [UserFactory(username=f"p{n}", display_name=name, role=Role.MEMBER, branch=home)
              for n, name in enumerate(reversed(PEOPLE))]
    db.session.commit()
    return branches, people


def test_admin_pages_list_people_and_branches_in_pinyin_order(client, admin):
    branches, people = _world()
    client.login(admin)
    users = client.get("/admin/users").get_data(as_text=True)
    table = users.split("<tbody>", 1)[1]
    assert _in_order(table, PEOPLE)
    menu = users.split('id="filter-branch"', 1)[1].split("</select>", 1)[0]
    assert _in_order(menu, BRANCHES)
    edit = client.get(f"/admin/users/{people[0].id}").get_data(as_text=True)
    assert _in_order(edit.split('name="branch"', 1)[1].split("</select>", 1)[0], BRANCHES)
    audit = client.get("/admin/audit").get_data(as_text=True)
    assert _in_order(audit, BRANCHES)


def test_the_secretarys_members_owing_are_in_pinyin_order(app):
    _branches, people = _world()
    year = campaign.current_year()
    owing = workqueue.members_owing(year, people[0].branch_id)
    assert [entry.title for entry in owing] == PEOPLE


def test_no_service_orders_names_by_code_point():
    """A name ordered in SQL is code-point order: lists order by collation.people_order / branch_order (the
    stored pinyin keys) instead."""
    pattern = re.compile(r"order_by\([^)]*(User\.display_name|User\.username|Branch\.name|Unit\.name)")
    allowed = {"dashboard.py"}  # the dashboard's own paged tables (another branch of work)
    offenders = [f"{path.name}:{number}" for path in Path("portal/services").glob("*.py") if path.name not in allowed
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if pattern.search(line) and "pinyin-ok" not in line]
    assert offenders == []
