"""A refused form opens with one summary at the top (portal/refusals.py, _forms.error_summary, base.html): focused
on load (autofocus, role=alert), each error linked to where it stands beside its field; a refusal with no field on
the page (a finished year's theme item, read-only now) is shown there too, with the text the person typed."""
from __future__ import annotations

import re

from sqlalchemy import select

from portal.extensions import db
from portal.models import Item

from ..checklist_helpers import items, year
from . import test_framework_editor as editor
from .test_framework_editor import BRANCH_EDITOR

admin_client = editor.admin_client
finished_and_started = editor.finished_and_started


def _summary(response) -> str:
    page = response.get_data(as_text=True).split("<main", 1)[1]
    found = re.search(r'<section[^>]*id="error-summary"[^>]*>(.*?)</section>', page, re.S)
    assert found, "no error summary"
    assert page.index('id="error-summary"') < page.index("<h1")  # at the top of the page
    assert 'role="alert"' in found.group(0) and "autofocus" in found.group(0) and 'tabindex="-1"' in found.group(0)
    return found.group(1)


def test_a_refused_weight_is_summarised_at_the_top_and_linked_to_its_field(admin_client):
    from portal.models import Subject

    item = items(Subject.BRANCH)[0]
    response = admin_client.form_post(f"{BRANCH_EDITOR.replace('/five_goods', '')}/items/{item.id}", {
        "version": str(item.version), "text": item.text, "weight": "abc", "position": "1"})
    assert response.status_code == 422
    summary = _summary(response)
    anchor = re.search(r'href="#([^"]+)"', summary).group(1)
    assert anchor == f"i{item.id}-weight-error"
    assert f'id="{anchor}"' in response.get_data(as_text=True)


def test_a_finished_years_theme_item_refusal_says_why_and_keeps_the_typed_text(admin_client, finished_and_started):
    theme = db.session.scalar(select(Item).where(Item.year_id == year(2011).id).order_by(Item.id))
    response = admin_client.form_post(f"/admin/frameworks/items/{theme.id}?year=2011", {
        "version": str(theme.version), "text": "我刚改好的表述", "weight": "5", "confirm": "1"})
    assert response.status_code == 422
    summary = _summary(response)
    assert "已结束" in summary and "我刚改好的表述" in summary
    response = admin_client.form_post(f"/admin/frameworks/items/{theme.id}/active?year=2011",
                                      {"active": "0", "confirm": "1"})
    assert response.status_code == 422 and "已结束" in _summary(response)


def test_a_page_without_errors_has_no_summary(admin_client):
    assert 'id="error-summary"' not in admin_client.get(BRANCH_EDITOR).get_data(as_text=True)


def test_the_roster_preview_takes_focus_to_its_summary_beside_the_import_button(client, admin):
    from ..factories import BranchFactory
    from .test_roster_import import HEADER, upload

    branch = BranchFactory(name="书香路小学党支部")
    client.login(admin)
    rows = "".join(f"user{n:03d},用户{n},党员,{branch.name},教师\n" for n in range(40))
    page = upload(client, HEADER + rows).get_data(as_text=True)
    heading = re.search(r'<h2 id="roster-preview-title"[^>]*>', page).group(0)
    assert "autofocus" in heading and 'tabindex="-1"' in heading
    # From the heading, the verdict and then the import button: before the 40 rows of changes.
    after = page[page.index('id="roster-preview-title"'):]
    assert after.index('id="roster-confirm"') < after.index("<details")
