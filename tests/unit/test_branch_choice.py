"""services/branch_choice.py: what a typed name comes to (exact name first, then a unique part; a school with
two branches is ambiguous), full-width folding, scopes, and the menu threshold."""
from portal.extensions import db
from portal.models import Branch, BranchKind
from portal.services import branch_choice

from ..factories import add_branches


def test_an_exact_name_wins_over_the_names_containing_it(app):
    branches = add_branches(12)
    assert branch_choice.resolve("测试区第1学校党支部", "active").choice.id == branches[1].id  # 第10, 第11 contain 第1
    assert branch_choice.resolve("测试区第1学校", "active").choice.id == branches[1].id  # the school's one branch
    assert branch_choice.resolve("第１１学", "active").choice.id == branches[11].id  # full-width folded, a unique part
    several = branch_choice.resolve("第1", "active")
    assert several.choice is None and "3" in several.problem  # 第1, 第10, 第11
    assert branch_choice.resolve("无此校", "active").problem
    assert branch_choice.resolve("  ", "active") == branch_choice.Resolved()  # nothing typed: no branch


def test_a_school_with_two_branches_is_ambiguous_by_its_name(app):
    first = add_branches(1)[0]
    second = Branch(unit_id=first.unit_id, name="测试区第0学校党总支", kind=BranchKind.GENERAL_BRANCH, member_count=3)
    db.session.add(second)
    db.session.commit()
    assert branch_choice.resolve("测试区第0学校", "active").choice is None
    assert branch_choice.resolve("测试区第0学校党总支", "active").choice.id == second.id


def test_scopes_and_many_names(app):
    active = add_branches(3)
    closed = add_branches(1, start=50, active=False)[0]
    assert branch_choice.resolve("第50", "active").choice is None
    assert branch_choice.resolve("第50", "all").choice.id == closed.id
    found, left, problem = branch_choice.resolve_many("测试区第0学校，第2学校、无此校\n", "active")
    assert [c.id for c in found] == [active[0].id, active[2].id] and left == "无此校" and problem


def test_the_menu_holds_at_most_menu_max_branches(app, monkeypatch):
    branches = add_branches(5)
    assert len(branch_choice.choices("active").menu) == 5
    monkeypatch.setattr(branch_choice, "MENU_MAX", 4)
    searched = branch_choice.choices("active")
    assert searched.searched
    assert [c.name for c in searched.chosen(["x", "0", str(branches[1].id)])] == ["测试区第1学校党支部"]


def test_the_active_branches_are_read_in_order_from_an_index(app):
    """The pickers' menu of active branches is read in pinyin order from ix_branch_active_order (migration h14o_01)
    and stops after MENU_MAX + 1 rows: no sort of every active branch, which grew with the district (issue #14)."""
    from sqlalchemy import text

    from portal.collation import branch_order
    from portal.extensions import db
    from portal.services.branch_choice import MENU_MAX, _choices

    if db.engine.dialect.name != "sqlite":
        return
    statement = _choices("active").order_by(*branch_order()).limit(MENU_MAX + 1)
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = " / ".join(row[-1] for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert "SEARCH branch USING INDEX ix_branch_active_order (active=?)" in plan, plan
    assert "TEMP B-TREE" not in plan, plan
