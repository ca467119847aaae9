"""The layout's fixed parts, rendered once per language and script root (navigation.kept, base.html): every page is
the same as when they are rendered on each page, in both languages and under a script root."""
import re

import pytest

from portal.models import Role

from ..factories import UserFactory

# The CSRF tokens, signed with the second they were made in (two requests may straddle one): the page's meta and a
# form's hidden field (`<input id="csrf_token" name="csrf_token" type="hidden" value="…">`).
CSRF = re.compile(r'((?:name="csrf-token" content|name="csrf_token"[^>]*? value)=")[^"]*')


def _page(client, path: str, root: str = "") -> str:
    response = client.get(path, base_url=f"http://localhost{root}")
    assert response.status_code in (200, 404)
    return CSRF.sub(r"\1", response.get_data(as_text=True))


@pytest.mark.parametrize("role", [Role.LEADER, Role.MEMBER])
def test_kept_parts_are_the_parts_rendered_anew(app, client, role, monkeypatch):
    person = UserFactory(role=role)
    client.login(person)
    cases = [(path, root) for root in ("", "/portal") for path in ("/account", "/?lang=en", "/account", "/nope",
                                                                   "/notifications?lang=zh")]
    kept = [_page(client, path, root) for path, root in cases]
    monkeypatch.setitem(app.jinja_env.globals, "kept", lambda _name, *_values, caller: caller())
    anew = [_page(client, path, root) for path, root in cases]
    assert kept == anew
    assert 'href="/portal/static/css/portal.css?v=' in kept[5] and 'href="/static/css/portal.css?v=' in kept[0]
    assert "Skip to content" in kept[1] and "跳到正文" in kept[0]
