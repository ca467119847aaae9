"""The shared field types normalise and bound input once (portal/forms/fields.py)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

from portal.clock import local_now
from portal.forms.fields import (
    Choice,
    Day,
    Id,
    Identifier,
    IdList,
    LocalPath,
    LongText,
    Moment,
    Text,
    TextList,
    Upload,
    UploadList,
    canonical_username,
    not_before,
    recent,
    shown,
)


class Sample(FlaskForm):
    class Meta:
        csrf = False

    title = Text(max_length=10, required=True)
    note = LongText(max_length=50)
    username = Identifier()
    held_on = Day(required=True)
    due_on = Day(validators=[not_before("held_on")])
    deadline = Moment(validators=[recent()])
    branch = Id()
    items = IdList()
    kind = Choice(choices=("forum", "visit"), required=True)


GOOD = {"title": "标题", "note": "a\nb\tc", "username": "sec01", "held_on": "2012-05-01", "due_on": "2012-05-02",
        "deadline": "", "branch": "7", "items": ["3", "4", "3"], "kind": "forum"}


@pytest.fixture
def form_for(app):
    def build(**changes):
        data = MultiDict()
        for key, value in {**GOOD, **changes}.items():
            for one in value if isinstance(value, list) else [value]:
                data.add(key, one)
        with app.test_request_context(method="POST", data=data):
            form = Sample()
            form.validate()
            return form
    return build


def test_good_input_is_normalised(form_for):
    form = form_for(title="  标题\u200b ", username="  SEC01 ")
    assert form.errors == {}
    assert form.title.data == "标题" and form.note.data == "a\nb\tc" and form.username.data == "sec01"
    assert form.held_on.data == date(2012, 5, 1) and form.branch.data == 7 and form.items.data == [3, 4]


@pytest.mark.parametrize("value", ["a\x00b", "a\x07", "two\nlines"])
def test_one_line_text_refuses_control_characters(form_for, value):
    assert "title" in form_for(title=value).errors


def test_long_text_keeps_newlines_but_refuses_nul(form_for):
    assert "note" not in form_for(note="line\r\nline").errors
    assert "note" in form_for(note="a\x00").errors


@pytest.mark.parametrize("value", ["", "   ", "\u200b\u200b", "\u3000\ufeff", "\u200d \u2060",
                                   "\u3164", "\u2800\u2800", "\u115f\u1160", "\uffa0", "\u2003\u3164 \ufe0f",
                                   "\u2800\u200b\u3164"])
def test_invisible_text_counts_as_empty(form_for, value):
    form = form_for(title=value)
    assert form.title.data == "" and "title" in form.errors


@pytest.mark.parametrize("value", ["\u3164", "\u2800", "\u115f\u1160", "\uffa0 ", "\u2002\u2800"])
def test_blank_looking_text_is_blank_in_the_shared_check(value):
    from portal.text import check_text

    assert check_text(value, max_length=10, required=True)[0] == ""
    assert check_text(value, max_length=10, required=True)[1] is not None
    assert check_text(f"党{value}建", max_length=10)[0] == f"党{value}建"  # inside visible text they stay


def test_length_is_bounded(form_for):
    assert "title" in form_for(title="x" * 11).errors
    assert "note" in form_for(note="x" * 51).errors


@pytest.mark.parametrize("value", ["ｓｅｃ０１", "sec01\u200b", "SEC01", " Sec01 "])
def test_look_alike_usernames_become_the_same_name(form_for, value):
    form = form_for(username=value)
    assert form.username.data == "sec01" and "username" not in form.errors
    assert canonical_username(value) == "sec01"


@pytest.mark.parametrize("value", ["a", "x" * 41, "sec 01", "sec01<b>", "张三", "sec\x0001", ""])
def test_usernames_outside_the_safe_alphabet_are_refused(form_for, value):
    assert "username" in form_for(username=value).errors


@pytest.mark.parametrize("value", ["0001-01-01", "1999-12-31", "2101-01-01", "9999-12-31", "2012-13-01", "x",
                                   "2012-1-1", "２０１２-01-01"])
def test_dates_outside_the_campaign_range_are_refused(form_for, value):
    assert "held_on" in form_for(held_on=value, due_on="").errors


def test_a_due_date_is_not_before_the_event_it_follows(form_for):
    assert "due_on" in form_for(held_on="2012-05-01", due_on="2012-04-30").errors
    assert "due_on" not in form_for(held_on="2012-05-01", due_on="2012-05-01").errors


def test_moments_are_bounded_and_not_in_the_distant_past(form_for):
    soon = (local_now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    assert form_for(deadline=soon).deadline.data is not None
    assert "deadline" in form_for(deadline="0001-01-01T00:00").errors
    assert "deadline" in form_for(deadline="2001-01-01T00:00").errors
    assert "deadline" in form_for(deadline="2012-01-01T00:00+08:00").errors


@pytest.mark.parametrize("value", ["0", "-1", "2147483648", "99999999999999999999", "1e3", "٣", "x"])
def test_ids_out_of_range_are_refused(form_for, value):
    assert "branch" in form_for(branch=value).errors
    assert "items" in form_for(items=["1", value]).errors


def test_blank_id_is_none(form_for):
    form = form_for(branch="", items=[])
    assert form.branch.data is None and form.items.data == [] and not form.errors


@pytest.mark.parametrize("value", ["meeting", "FORUM", "", "forum\x00"])
def test_unknown_choices_are_refused(form_for, value):
    assert "kind" in form_for(kind=value).errors


def test_errors_are_translated(app, form_for):
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        from flask_babel import force_locale

        with force_locale("zh"):
            form = form_for(title="\u200b")
            assert all(not message.isascii() for message in map(str, form.errors["title"]))


def test_a_mangled_version_is_zero_not_an_error(app):
    from portal.forms.fields import HiddenId

    class Edit(FlaskForm):
        class Meta:
            csrf = False

        version = HiddenId()

    for raw, expected in (("3", 3), ("x", 0), ("99999999999999", 0), ("-1", 0)):
        with app.test_request_context(method="POST", data={"version": raw}):
            form = Edit()
            assert form.validate() and form.version.data == expected


@pytest.mark.parametrize("data", [{}, {"version": ""}, {"version": "  "}])
def test_a_missing_version_is_an_outdated_form_never_no_check(app, data):
    """Without the version the page was loaded with, a save could overwrite someone else's unseen: refused
    for the whole form (400, "reload"), never taken as "do not compare"."""
    from portal.forms.fields import HiddenId
    from portal.services.intents import FormOutdated

    class Edit(FlaskForm):
        class Meta:
            csrf = False

        note = LongText()
        version = HiddenId()
        note_version = HiddenId(required_with="note")

    with app.test_request_context(method="POST", data={"note_version": "1", **data}):
        with pytest.raises(FormOutdated) as refused:
            Edit().validate()
        assert refused.value.status_code == 400 and refused.value.message
    with app.test_request_context(method="POST", data={"version": "2", "note": "备注"}), \
            pytest.raises(FormOutdated):  # a note sent without its own version
        Edit().validate()
    with app.test_request_context(method="POST", data={"version": "2"}):
        assert Edit().validate()  # no note sent: its version is not asked for


@pytest.mark.parametrize("value", ["\u202eevil\u202c", "a\u202ab", "名字\u2066x\u2069", "x\u2067y", "a\u206ab",
                                   "a\u061cb", "a\ufff9b"])
def test_bidi_and_other_format_characters_are_refused_with_their_own_message(form_for, value):
    form = form_for(title=value[:10], note=value)
    assert "title" in form.errors and "note" in form.errors
    from portal.text import FORMAT, refusal_message

    assert str(form.errors["note"][0]) == str(refusal_message(FORMAT, multiline=True))


@pytest.mark.parametrize("value", ["👨\u200d👩\u200d👧", "a\u200cb", "标题\u200b"])
def test_joiners_and_zero_width_spaces_stay_allowed(form_for, value):
    assert "note" not in form_for(note=value).errors


@pytest.mark.parametrize("value", ["..", "--", "__", ".a", "a.", "a..b", "a._b", "-sec01", "sec01-", "._"])
def test_usernames_start_and_end_with_a_letter_or_digit_and_never_repeat_punctuation(form_for, value):
    errors = form_for(username=value).errors
    from portal.text import username_error

    assert "username" in errors and str(errors["username"][0]) == str(username_error(".."))


@pytest.mark.parametrize("value", ["sec.01", "zhang.san", "li-ming2", "a_b", "01"])
def test_usernames_with_single_separators_between_letters_fit_the_rule(form_for, value):
    assert "username" not in form_for(username=value).errors


def test_a_username_skeleton_ignores_separators():
    from portal.text import username_skeleton

    assert username_skeleton("sec.01") == username_skeleton("SEC_01") == username_skeleton("ｓｅｃ－０１") == "sec01"


def test_a_password_of_control_characters_is_refused_for_that_reason(app):
    from portal.forms.fields import Password
    from portal.services.accounts import password_error
    from portal.text import password_text_error

    class Change(FlaskForm):
        class Meta:
            csrf = False

        password = Password()

    for value in ("\x01\x02\x03\x04\x05\x06\x07\x08", "good horse battery\x1b", "tab\tinside-password"):
        with app.test_request_context(method="POST", data={"password": value}):
            form = Change()
            assert not form.validate() and str(form.errors["password"][0]) == str(password_text_error("\x01"))
        with app.test_request_context():
            assert str(password_error(value)) == str(password_text_error("\x01"))


def test_dates_are_bound_to_their_event_with_the_bound_named(app):
    from portal.forms.fields import within

    class Entry(FlaskForm):
        class Meta:
            csrf = False

        happened_on = Day(validators=[within(date(2012, 3, 1), lambda _form: date(2012, 6, 30),
                                             too_early=_l_entry_early())])

    for raw, error in (("2012-02-29", "2012-03-01"), ("2012-07-01", "2012-06-30"), ("2012-03-01", None)):
        with app.test_request_context(method="POST", data={"happened_on": raw}):
            form = Entry()
            form.validate()
            message = str(form.errors.get("happened_on", [""])[0])
            assert (error in message) if error else not message, (raw, message)


def _l_entry_early():
    from flask_babel import lazy_gettext as _l

    return _l("An entry cannot be dated before its pledge was made (%(day)s).")


def test_a_second_file_for_a_one_file_field_is_refused_never_dropped(app):
    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    class One(FlaskForm):
        class Meta:
            csrf = False

        file = Upload()

    files = [FileStorage(BytesIO(b"a"), filename="a.pdf"), FileStorage(BytesIO(b"b"), filename="b.pdf")]
    with app.test_request_context(method="POST", data={"file": files}, content_type="multipart/form-data"):
        form = One()
        assert not form.validate() and "2" in str(form.errors["file"][0]) and form.file.data is not None


# --- files, the way back, what a refused form shows again ------------------------------------------------

class Files(FlaskForm):
    class Meta:
        csrf = False

    file = Upload()
    files = UploadList(max_count=2)
    back = LocalPath(prefix="/news")
    title = Text(max_length=10)
    branch = Id()
    items = IdList()
    rows = TextList()
    kind = Choice(choices=("a", "b"), required=True, message="pick one")


def _files_form(app, data: dict, files: dict | None = None):
    import io

    from werkzeug.datastructures import FileStorage

    body = MultiDict()
    for key, value in data.items():
        for one in value if isinstance(value, list) else [value]:
            body.add(key, one)
    for key, names in (files or {}).items():
        for name in names:
            body.add(key, FileStorage(io.BytesIO(b"x"), filename=name))
    ctx = app.test_request_context(method="POST", data=body, content_type="multipart/form-data")
    ctx.push()
    form = Files()
    form.validate()
    ctx.pop()
    return form


def test_uploads_leave_out_empty_file_inputs_and_bound_their_number(app):
    form = _files_form(app, {"kind": "a"}, {"file": ["", "a.pdf"], "files": ["", "b.pdf"]})
    assert form.file.data.filename == "a.pdf" and [f.filename for f in form.files.data] == ["b.pdf"]
    assert form.errors == {}
    form = _files_form(app, {"kind": "a"}, {"files": ["1.pdf", "2.pdf", "3.pdf"]})
    assert "files" in form.errors
    form = _files_form(app, {"kind": "a"})
    assert form.file.data is None and form.files.data == [] and form.errors == {}


@pytest.mark.parametrize("value, kept", [
    ("/news/queue", True), ("/news?page=2", True), ("/admin", False), ("//evil.example/news", False),
    ("https://evil.example/news", False), ("/news\\..", False), ("/news/\u6d4b", False), ("/news\x07", False),
    ("/news/" + "x" * 300, False), ("", False),
])
def test_a_way_back_is_a_page_of_this_site_under_its_prefix(app, value, kept):
    form = _files_form(app, {"kind": "a", "back": value})
    assert form.back.data == (value if kept else None)


def test_a_choice_can_say_its_own_message(app):
    assert _files_form(app, {"kind": "c"}).errors == {"kind": ["pick one"]}
    assert _files_form(app, {}).errors == {"kind": ["pick one"]}


def test_shown_gives_back_what_the_form_read(app):
    form = _files_form(app, {"kind": "z", "title": " 标题\u200b ", "branch": "99999999999", "items": ["3", "x"],
                             "rows": [" a ", ""]})
    typed = shown(form)
    assert typed.get("title") == "标题"  # cleaned as it would be saved
    assert typed.get("branch") == "99999999999"  # unreadable: as typed, to be corrected
    assert typed.getlist("items") == ["3", "x"] and typed.getlist("rows") == ["a", ""]
    assert typed.get("kind") == "z" and "kind" in typed
    assert typed.get("back", "default") == "default" and "back" not in typed  # not sent
    assert typed.get("csrf_token") is None and typed.get("undeclared", "d") == "d"
    fresh = shown()
    assert fresh.get("title", "") == "" and fresh.getlist("items") == [] and "title" not in fresh


def test_a_line_of_text_loses_its_shapeless_characters_inside():
    from portal.text import clean_text

    assert clean_text("张\u200b三")[0] == "张三"  # a name: no look-alike of 张三
    assert clean_text("a\u2060b\ufeffc\u00add")[0] == "abcd"
    assert clean_text("👩\u200d💻")[0] == "👩\u200d💻"  # the joiner an emoji needs stays
    assert clean_text("第一行\u200b\n第二行", multiline=True)[0] == "第一行\u200b\n第二行"  # rich text as typed
