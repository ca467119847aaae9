"""Wrong activation codes are counted apart from wrong passwords (issue 16, tester's finding 8): per address,
generously, never under the username; the address's sign-in count is left alone, so nobody behind the same
NAT (the admin neither) is locked out by people mistyping their codes. Per username they are limited too, apart
from the address (ACTIVATION_FAILURES_PER_ACCOUNT), and that name's sign-in is left alone as well."""
from portal.services import activation


def _wrong_code(client, username):
    return client.form_post("/activate", {"username": username, "code": "AAAA-BBBB-CCCC",
                                          "new_password": "a-fine-pass-2012", "repeat_password": "a-fine-pass-2012"})


def test_wrong_codes_lock_out_neither_the_address_nor_the_username(client, admin, member):
    for n in range(60):  # more than LOGIN_FAILURES_PER_ADDRESS (50) and LOGIN_FAILURES_PER_ACCOUNT (10)
        assert _wrong_code(client, member.username if n < 10 else f"nobody{n}").status_code == 422
    assert client.login(member).status_code == 303  # the person named still signs in
    client.form_post("/logout", {})
    assert client.login(admin).status_code == 303  # and so does everybody behind the same address


def test_a_flood_of_wrong_codes_from_one_address_is_throttled(app, client, member, secretary):
    app.config["ACTIVATION_FAILURES_PER_ADDRESS"] = 5
    for name in (member.username, secretary.username, "nobody1", "nobody2", "nobody3"):
        assert _wrong_code(client, name).status_code == 422
    assert _wrong_code(client, "nobody4").status_code == 429
    assert client.login(member).status_code == 303  # passwords are not affected


def test_wrong_codes_for_one_username_are_limited_apart_from_the_address(app, client, member, secretary):
    """Behind a school's NAT address the address's allowance is large; one username gets only
    ACTIVATION_FAILURES_PER_ACCOUNT wrong codes in the window, then waits, told why in Chinese. Others behind the
    same address still activate, and the owner still signs in with a password."""
    assert app.config["ACTIVATION_FAILURES_PER_ACCOUNT"] == 10
    for _ in range(10):
        assert _wrong_code(client, member.username).status_code == 422
    refused = client.form_post("/activate?lang=zh", {
        "username": member.username.upper(), "code": "AAAA-BBBB-CCCC", "new_password": "a-fine-pass-2012",
        "repeat_password": "a-fine-pass-2012"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert f"用户名“{member.username.upper()}”的激活码已输错 10 次" in body and "组织科" in body
    # Another account behind the same address activates with its own code.
    batch = activation.issue(None, [secretary.id])
    code = next(slip.code for slip in activation.slips(batch))
    done = client.form_post("/activate", {"username": secretary.username, "code": code,
                                          "new_password": "a-fine-pass-2012", "repeat_password": "a-fine-pass-2012"})
    assert done.status_code == 303
    client.form_post("/logout", {})
    assert client.login(member).status_code == 303  # the sign-in count of the name is untouched
