"""The news board (树立先进典型): board, search, feed, post pages, drafting and the editors' queue.
Views parse, authorise, call one service, render."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage

from .. import labels
from ..errors import Conflict
from ..extensions import db
from ..forms import BackForm, run_form, validated
from ..forms import news as forms
from ..forms.fields import errors_of, shown
from ..htmx import redirect_back, render, wants_fragment
from ..input_guard import parse_int
from ..links import external_url
from ..models import Post, PostCategory
from ..permissions import authorize, require
from ..services import images, intents, paging, uploads
from ..services import news as news_service
from ..services import search as search_service

bp = Blueprint("news", __name__)


def _me():
    return current_user._get_current_object()


@bp.context_processor
def helpers() -> dict:
    """`publishable_from(post)`: the states from which the person may publish the post (the service's rule)."""
    from ..services.markdown import safe_html

    return {"publishable_from": lambda post: news_service.publishable_from(_me(), post), "rich_body": safe_html}


def _page_number() -> int:
    value = request.args.get("page", "1")
    return paging.requested_page(value)


# --- board, search, feed -----------------------------------------------------------------------

@bp.get("/news")
@require("home.view")
def board():
    filters = news_service.BoardFilters.parse(request.args)
    result = news_service.board(filters, _page_number())
    if request.args.get("more") and wants_fragment():  # "load more": just the next posts
        return render("news/board.html", block="more", result=result)
    return render("news/board.html", result=result, options=news_service.filter_options(filters))


@bp.get("/news/search")
@require("home.view")
def search():
    results = search_service.search(request.args.get("q", ""), _page_number())
    return render("news/search.html", block="results", results=results)


@bp.get("/news/feed.atom")
def feed():
    """Public on purpose: school websites on the intranet read it without an account. Only live
    posts go in, and only what the board shows publicly."""
    category = request.args.get("category", "")
    if category and category not in PostCategory._value2member_map_:
        abort(404)
    title = _("Excellence campaign news")
    if category:
        title = f"{title} · {labels.POST_CATEGORY[PostCategory(category)]}"
    body = news_service.atom(category, feed_url=external_url("news.feed", category=category or None),
                             board_url=external_url("news.board"),
                             post_url=lambda post_id: external_url("news.post", post_id=post_id), title=title)
    return Response(body, mimetype="application/atom+xml", headers={"Cache-Control": "public, max-age=300"})


# --- one post --------------------------------------------------------------------------------

@bp.get("/news/<int:post_id>")
@login_required
def post(post_id: int):
    item = news_service.get_post(post_id)
    authorize("post.view", item)
    return render("news/post.html", page=news_service.read_post(item, _me()), errors={}, form=shown())


@bp.get("/news/<int:post_id>/cover")
@bp.get("/news/<int:post_id>/cover/<string:size>")
@login_required
def cover(post_id: int, size: str = "full"):
    item = news_service.get_post(post_id)
    authorize("post.view", item)
    stored = item.cover_thumb_stored if size == "thumb" else item.cover_stored
    if size not in ("full", "thumb") or not stored:
        abort(404)
    return uploads.serve(images.COVER_KIND, stored, f"post-{item.id}-{size}.{stored.rsplit('.', 1)[-1]}",
                         images.content_type_of(stored), inline=True)


@bp.post("/news/images")
@require("post.create")
def upload_image():
    """The rich-text editor's image upload (fetch with the X-CSRFToken header): 201 with the image's address,
    or 422 / 413 with the reason, as JSON (the editor shows it)."""
    from werkzeug.exceptions import RequestEntityTooLarge

    from ..errors import Invalid
    from .errors import too_large

    try:
        form = forms.InlineImageForm()
        if not form.validate():  # two images under the one name: refused, never cut to the first
            errors = errors_of(form)
            return jsonify(error=str(errors.get("image") or next(iter(errors.values())))), 422
        record = images.store_inline(_me(), form.image.data or FileStorage())
    except Invalid as error:
        db.session.rollback()
        return jsonify(error=str(error.field_errors.get("image") or error.message)), 422
    except RequestEntityTooLarge:  # the picture alone is over the limit (or the whole request, which is just it)
        db.session.rollback()
        return jsonify(error=too_large(uploads.FileTooLarge())[1]), 413
    # Other refusals (expired form 400, storage 503, 403) are answered as JSON by the error handler, which
    # sees the editor's Accept: application/json (views/errors.py wants_json).
    return jsonify(url=url_for("news.inline_image", name=record.stored_name)), 201


@bp.get("/news/images/<name>")
@login_required
def inline_image(name: str):
    record = images.get_inline(name)
    return uploads.serve(images.INLINE_KIND, record.stored_name, record.stored_name,
                         images.content_type_of(record.stored_name), inline=True)


@bp.get("/news/<int:post_id>/history")
@login_required
def history(post_id: int):
    item = news_service.get_post(post_id)
    authorize("post.history", item)
    return render("news/history.html", page=news_service.post_details(item), versions=news_service.versions(item))


# --- drafting --------------------------------------------------------------------------------

def _kept_cover():
    """(token, file name) of the cover chosen on this refused form, kept for the next try (or the one kept
    before); None when there is none. A file that is not a picture is reported beside the cover field."""
    from ..errors import Invalid

    try:
        kept = news_service.keep_cover(_me(), request.files.get("cover"))
    except Invalid:
        db.session.rollback()
        kept = None
    if kept is None and news_service.kept_cover(_me(), request.form.get("kept_cover")):
        return request.form["kept_cover"], news_service.kept_cover(_me(), request.form["kept_cover"])[1]
    return kept


def _kept():
    found = news_service.kept_cover(_me(), request.form.get("kept_cover"))
    return found[0] if found else None


def _form_page(template_post=None, data=None, errors=None, status=200, conflict=None):
    branches, members = news_service.subject_options(_me(), template_post)
    kept = _kept_cover() if request.method == "POST" and status in (409, 422) else None
    return render("news/edit.html", block="post_form", status=status, post=template_post, data=data,
                  errors=errors or {}, branches=branches, members=members, kept_cover=kept,
                  criteria=news_service.criteria_options(), conflict=conflict,
                  chosen=([c for c in (parse_int(v) for v in data.criteria) if c is not None] if data is not None else
                          news_service.selected_criteria(template_post) if template_post else []))


def _note_foreign_images() -> None:
    """Pictures the text named but the portal cannot show (outside addresses, which the intranet and the
    page's security policy do not load, or sources that are not pictures) were left out: say so."""
    from ..services.markdown import foreign_images

    count = foreign_images(request.form.get("body_md", ""), request.form.get("body_html"))
    if count:
        flash(_("%(n)s picture(s) were left out: only pictures uploaded to the portal can be shown (pictures from "
                "other websites cannot be loaded on the intranet). Insert them with the editor's picture button.",
                n=count), "warning")


@bp.get("/news/mine")
@require("post.mine")
def mine():
    return render("news/mine.html", rows=news_service.mine(_me()))


@bp.get("/news/new")
@require("post.create")
def new():
    return _form_page()


@bp.post("/news")
@require("post.create")
def create():
    form = forms.PostForm()
    typed = news_service.PostInput.from_form(shown(form))  # what the form read, to show it again
    done, refusal = run_form(form, lambda: intents.run_once(_me(), form.form_token.data, Post, lambda: (
        news_service.create_post(_me(), form.as_input(), form.cover.data, _kept()))),
        lambda errors, status, _c: _form_page(data=typed, errors=errors, status=status))
    if refusal:
        return refusal
    flash(_("The draft has been saved. Submit it for review when it is ready."), "success")
    _note_foreign_images()
    return redirect_back(url_for("news.post", post_id=done[0]))


@bp.get("/news/<int:post_id>/edit")
@login_required
def edit(post_id: int):
    item = news_service.get_post(post_id)
    authorize("post.edit", item)
    return _form_page(item)


@bp.post("/news/<int:post_id>/edit")
@login_required
def update(post_id: int):
    item = news_service.get_post(post_id)
    authorize("post.edit", item)
    form = forms.PostEditForm()
    typed = news_service.PostInput.from_form(shown(form))
    try:
        _done, refusal = run_form(form, lambda: news_service.update_post(
            _me(), item, form.as_input(), form.version.data, form.cover.data, _kept()),
            lambda errors, status, _c: _form_page(item, typed, errors, status))
    except Conflict as error:  # the post page shows the whole current post beside the person's version
        db.session.rollback()
        return _form_page(news_service.get_post(post_id), typed, {}, 409, conflict=error.message)
    if refusal:
        return refusal
    flash(_("The post has been saved."), "success")
    _note_foreign_images()
    return redirect_back(url_for("news.post", post_id=item.id))


@bp.post("/news/<int:post_id>/submit")
@login_required
def submit(post_id: int):
    item = news_service.get_post(post_id)
    authorize("post.submit", item)
    news_service.submit_post(_me(), item)
    flash(_("Submitted: the publicity section will review it."), "success")
    return redirect_back(url_for("news.post", post_id=item.id))


# --- the editors' queue and moderation ---------------------------------------------------------

@bp.get("/news/queue")
@require("post.moderate")
def queue():
    return render("news/queue.html", rows=news_service.queue(), managed=news_service.managed(), errors={},
                  failed_id=None)


def _moderated(item, message: str):
    flash(message, "success")
    back = BackForm().back.data or ""
    return redirect_back(back if back.startswith("/news") else url_for("news.post", post_id=item.id))


@bp.post("/news/<int:post_id>/publish")
@require("post.moderate")
def publish(post_id: int):
    item = news_service.get_post(post_id)
    news_service.publish_post(_me(), item)
    return _moderated(item, _("Published on the board."))


@bp.post("/news/<int:post_id>/schedule")
@require("post.moderate")
def schedule(post_id: int):
    item = news_service.get_post(post_id)
    form = forms.ScheduleForm()
    _done, refusal = run_form(form, lambda: news_service.schedule_post(
        _me(), item, form.publish_at.data.isoformat() if form.publish_at.data else ""),
        lambda errors, status, _c: render("news/post.html", status=status, page=news_service.post_details(item),
                                          errors=errors, form=shown(form)))
    return refusal or _moderated(item, _("Scheduled: it appears on the board at the chosen time."))


@bp.post("/news/<int:post_id>/return")
@require("post.moderate")
def return_post(post_id: int):
    item = news_service.get_post(post_id)
    form = forms.ReasonForm()
    _done, refusal = run_form(form, lambda: news_service.return_post(_me(), item, form.reason.data),
                              lambda errors, status, _c: render("news/post.html", status=status,
                                                                page=news_service.post_details(item), errors=errors,
                                                                form=shown(form)))
    return refusal or _moderated(item, _("Returned to the author with your reason."))


@bp.post("/news/<int:post_id>/unpublish")
@require("post.moderate")
def unpublish(post_id: int):
    item = news_service.get_post(post_id)
    news_service.unpublish_post(_me(), item)
    return _moderated(item, _("Taken off the board."))


@bp.post("/news/<int:post_id>/flag")
@require("post.moderate")
def flag(post_id: int):
    item = news_service.get_post(post_id)
    form = validated(forms.FlagForm())
    news_service.set_flag(_me(), item, form.flag.data or "", form.value.data == "1")
    return _moderated(item, _("The post has been updated."))
