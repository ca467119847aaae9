"""Every state-changing route refuses a request without the session's CSRF token: 400, and nothing written.

The walk starts from the URL map, so a new POST route is covered as soon as the access matrix has its row
(`test_every_route_is_in_the_table` makes that compulsory). Each route is posted to by a person allowed to
make the change, with the valid form the access matrix sends: so a route that forgot its protection would
have made the change, and the fingerprint of every table says so."""
from __future__ import annotations

from ..fingerprint import changed, fingerprint
from .test_access_matrix import PUBLIC, ROLES, TABLE, _endpoint, _url, build_world, form_for

# Login itself is the one POST without a session to protect (Flask-WTF still checks it; see test_auth).
EXEMPT: set[str] = set()


def _post_endpoints(app) -> list[str]:
    return sorted({rule.endpoint for rule in app.url_map.iter_rules()
                   if "POST" in (rule.methods or ()) and rule.endpoint not in EXEMPT})


def _allowed_role(key: str) -> str:
    allowed = TABLE[key][2]
    return "member" if allowed == PUBLIC else next(role for role in ROLES if role in allowed)


def test_every_post_route_refuses_a_missing_or_foreign_token(app):
    world = build_world()
    # Everyone logs in first: a route that failed to refuse may change a password or disable an account.
    clients = {role: app.test_client() for role in ROLES}
    for role, client in clients.items():
        if role != "anonymous":
            assert client.login(world.users[role]).status_code == 303
    # Another session of the admin: a token that is genuine, but not this session's.
    stranger = app.test_client()
    stranger.login(world.users["admin"])
    foreign = stranger.csrf_token()
    problems = []
    endpoints = _post_endpoints(app)
    assert len(endpoints) > 40 and "auth.logout" in endpoints
    for endpoint in endpoints:
        key = endpoint if endpoint in TABLE else next(k for k in TABLE if _endpoint(k) == endpoint)
        role = "anonymous" if endpoint == "auth.login" else _allowed_role(key)
        client, url = clients[role], _url(TABLE[key][1], world)
        attempts = {
            "no token": {"data": form_for(key, world, role)},
            "foreign token in the form": {"data": {**form_for(key, world, role), "csrf_token": foreign}},
            "foreign token in the htmx header": {"data": form_for(key, world, role),
                                                     "headers": {"HX-Request": "true", "X-CSRFToken": foreign}},
        }
        before = fingerprint(frozenset())
        for name, kwargs in attempts.items():
            status = client.post(url, **kwargs).status_code
            if status != 400:
                problems.append(f"{role}: POST {url} with {name} → {status}")
        written = changed(before, fingerprint(frozenset()))
        if written:
            problems.append(f"{role}: POST {url} without a valid token wrote {written}")
    assert problems == []
