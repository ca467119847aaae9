"""Wrong activation codes are counted apart from wrong passwords (issue 16, tester's finding 8): per address,
generously, never under the username; the address's sign-in count is left alone, so nobody behind the same
NAT (the admin neither) is locked out by people mistyping their codes."""
from portal.services import activation


def _wrong_code(client, username):
    return client.form_post("/activate", {"username": username, "code": "AAAA-BBBB-CCCC",
                                          "new_password": "a-fine-pass-2012", "repeat_password": "a-fine-pass-2012"})


def test_wrong_codes_lock_out_neither_the_address_nor_the_username(client, admin, member):
    for _ in range(60):  # more than LOGIN_FAILURES_PER_ADDRESS (50) and LOGIN_FAILURES_PER_ACCOUNT (10)
        assert _wrong_code(client, member.username).status_code == 422
    assert client.login(member).status_code == 303  # the person named still signs in
    client.form_post("/logout", {})
    assert client.login(admin).status_code == 303  # and so does everybody behind the same address


def test_a_flood_of_wrong_codes_from_one_address_is_throttled(client, member, monkeypatch):
    monkeypatch.setattr(activation, "CODE_FAILURES_PER_ADDRESS", 5)
    for _ in range(5):
        assert _wrong_code(client, member.username).status_code == 422
    assert _wrong_code(client, member.username).status_code == 429
    assert client.login(member).status_code == 303  # passwords are not affected
