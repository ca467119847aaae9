"""The checklist: the page, and one tick (a real change each time: the value alternates)."""
from sqlalchemy import select

from portal.models import Criterion, Framework, Item, Subject

from .harness import Case, District


def _first_item(district: District) -> int:
    if "branch_item" not in district.extra:
        district.extra["branch_item"] = district.scalar(
            select(Item.id).join(Criterion).join(Framework).where(Framework.subject == Subject.BRANCH,
                                                                  Item.year_id.is_(None))
            .order_by(Criterion.position, Item.position).limit(1))
    return district.extra["branch_item"]


def _branch_one(district: District) -> int:
    from portal.models import User

    return district.scalar(select(User.branch_id).where(User.username == "sec01"))


CASES = [
    Case("checklist page (secretary)", "sec01", lambda d: f"/checklist/branch/{_branch_one(d)}"),
    Case("tick one item (htmx)", "sec01",
         lambda d: f"/checklist/branch/{_branch_one(d)}/items/{_first_item(d)}/result",
         method="POST", htmx=True, data=lambda d, n: {"result": "met" if n % 2 else "partly"},
         full_page=lambda d: f"/checklist/branch/{_branch_one(d)}"),
    Case("member coverage (secretary)", "sec01", lambda d: f"/checklist/branch/{_branch_one(d)}/members"),
    Case("home (leader)", "leader", "/"),
    Case("home (secretary)", "sec01", "/"),
]
