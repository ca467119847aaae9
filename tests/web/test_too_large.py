"""A request that is too large says what was too large (issue 18, second round): a chosen file over the file
limit, a form over the whole limit, or a text too long to be read; the image upload of the editor answers in
JSON; a picture of too many pixels says so. The error page keeps the drafts of the form (data-keeps-drafts)."""
from __future__ import annotations

import io
import struct
import zlib

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Post

from ..news_helpers import POST_FORM


def test_a_long_text_without_a_file_is_not_called_a_file(client, secretary):
    client.login(secretary)
    response = client.form_post("/news", {**POST_FORM, "body_md": "长" * (2 << 20)},
                                content_type="multipart/form-data")  # 6 MB of UTF-8 text, no file
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "提交的内容过大" in page and "文件过大" not in page
    assert "data-keeps-drafts" in page  # the form's drafts survive: the form offers the typed text again


def test_a_form_over_the_whole_limit_names_both_limits(client, secretary):
    client.login(secretary)
    response = client.form_post("/news", {**POST_FORM, "cover": (io.BytesIO(b"\xff\xd8\xff" + b"0" * (11 << 20)),
                                                                  "b.jpg")}, content_type="multipart/form-data")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "提交的内容过大" in page and "10 MB" in page and "11 MB" in page
    assert db.session.scalar(select(func.count(Post.id))) == 0


def test_a_file_over_the_file_limit_says_file(client, secretary, app):
    app.config["MAX_UPLOAD_BYTES"] = 1024
    client.login(secretary)
    response = client.form_post("/news", {**POST_FORM, "cover": (io.BytesIO(b"\xff\xd8\xff" + b"0" * 4096),
                                                                  "b.jpg")}, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "文件过大" in response.get_data(as_text=True)


def test_the_editor_image_upload_answers_json_when_too_large(client, secretary):
    client.login(secretary)
    response = client.post("/news/images", data={"image": (io.BytesIO(b"\x89PNG" + b"0" * (12 << 20)), "a.png")},
                           content_type="multipart/form-data",
                           headers={"X-CSRFToken": client.csrf_token(), "Accept": "application/json"})
    assert response.status_code == 413 and response.is_json
    assert "10 MB" in response.get_json()["error"]


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims `width` × `height` pixels (its data is tiny): what a decompression bomb looks like."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = zlib.compress(b"\x00" * 64)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


def test_a_picture_of_too_many_pixels_says_so(client, secretary):
    client.login(secretary)
    for size in (20000, 7000):  # over Pillow's bomb limit, and over the portal's own
        response = client.form_post("/news/images", {"image": (io.BytesIO(_png_header(size, size)), "huge.png")},
                                    content_type="multipart/form-data")
        assert response.status_code == 422 and "像素过多" in response.get_json()["error"], size
