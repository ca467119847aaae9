"""Criteria are named in the reader's language wherever the dashboard names them (labels.criterion_title): the
overview's column headers and chart, the branch page's table, the CSV and XLSX exports. In English, a criterion's
English title (Criterion.title_en); in Chinese, its own; a criterion without an English title keeps its own."""
from __future__ import annotations

import io

import openpyxl
from sqlalchemy import select

from portal.extensions import db
from portal.models import Criterion, Framework, Subject


def _criteria() -> list[Criterion]:
    return list(db.session.scalars(select(Criterion).join(Framework).where(Framework.subject == Subject.BRANCH)
                                   .order_by(Criterion.position)))


def test_english_pages_and_exports_name_criteria_in_english(client, leader, branch):
    criteria = _criteria()
    criteria[1].title_en = ""  # no English title: its own
    db.session.commit()
    english = [c.title_en for c in criteria if c.title_en]
    assert english and all(e for e in english)
    client.login(leader)
    client.get("/dashboard?lang=en")
    for url in ("/dashboard", f"/branches/{branch.id}"):
        page = client.get(url).get_data(as_text=True)
        assert all(title in page for title in english), url
        assert criteria[0].title not in page and criteria[1].title in page, url
    csv_text = client.get("/dashboard/export.csv").get_data(as_text=True)
    assert f"{english[0]} score" in csv_text and criteria[0].title not in csv_text
    book = openpyxl.load_workbook(io.BytesIO(client.get("/dashboard/export.xlsx").get_data()), read_only=True)
    first_row = [cell for cell in next(book.worksheets[0].iter_rows(values_only=True)) if cell]
    assert f"{english[0]} score" in first_row

    client.get("/dashboard?lang=zh")
    page = client.get("/dashboard").get_data(as_text=True)
    assert all(c.title in page for c in criteria) and english[0] not in page


def test_news_and_pledges_name_criteria_in_english(client, editor, member, branch):
    """The news board's criterion filter (framework · criterion), a post's criterion tags, the pledge form's item
    picker and a pledge's tags name the criteria in the reader's language (found by the fresh-eyes check: they stayed
    Chinese in English, "五个好 · 领导班子好")."""
    from portal.models import Item, PledgeStatus, pledge_item, post_criterion
    from portal.services import pledges

    from ..checklist_helpers import current_year, make_pledge
    from ..news_helpers import make_post

    leadership = _criteria()[0]
    assert leadership.title_en
    post = make_post(editor, title="领导班子示范")
    db.session.execute(post_criterion.insert().values(post_id=post.id, criterion_id=leadership.id))
    member_item = db.session.get(Item, pledges.items_for(Subject.MEMBER, current_year())[0][0])
    pledge = make_pledge(branch, member, status=PledgeStatus.DRAFT)
    db.session.execute(pledge_item.insert().values(pledge_id=pledge.id, item_id=member_item.id))
    db.session.commit()
    member_criterion = db.session.get(Criterion, member_item.criterion_id)
    client.login(member)
    client.get("/?lang=en")
    board = client.get("/news").get_data(as_text=True)
    assert f"Five Goods (advanced Party organisation) · {leadership.title_en}</option>" in board
    assert "五个好 · " not in board
    assert f'<span class="badge badge--plain">{leadership.title_en}</span>' in board
    assert f">{leadership.title_en}</a>" in client.get(f"/news/{post.id}").get_data(as_text=True)
    pledges = client.get("/pledges").get_data(as_text=True)
    assert f"{member_criterion.title_en} · " in pledges and f"{member_criterion.title} · " not in pledges
    assert f'<p class="item-picker__criterion">{member_criterion.title_en}</p>' in pledges

    client.get("/?lang=zh")
    board = client.get("/news").get_data(as_text=True)
    assert f"五个好 · {leadership.title}" in board and leadership.title_en not in board
    assert f"{member_criterion.title} · " in client.get("/pledges").get_data(as_text=True)
