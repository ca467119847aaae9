"""Cover images: decoded and re-encoded with Pillow (dropping metadata and anything smuggled in the
file), with a thumbnail; both stored through `uploads.store` under server-made names."""
from __future__ import annotations

import io
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from werkzeug.datastructures import FileStorage

from ..errors import Invalid
from ..i18n import fill
from . import uploads

COVER_KIND = "covers"
COVER_MAX = (1600, 1600)
THUMB_SIZE = (480, 270)
MAX_PIXELS = 40_000_000  # far beyond any photo a school takes; refuses decompression bombs


@dataclass(frozen=True)
class Cover:
    stored: str
    thumb: str


def _encode(image: Image.Image, name: str) -> FileStorage:
    buffer = io.BytesIO()
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        image.save(buffer, "PNG", optimize=True)
        name += ".png"
    else:
        image.convert("RGB").save(buffer, "JPEG", quality=85, optimize=True)
        name += ".jpg"
    buffer.seek(0)
    return FileStorage(stream=buffer, filename=name)


def _decoded(file: FileStorage, field: str) -> Image.Image:
    """The upload as a decoded, upright image; Invalid (422) when it is not a picture of a sane size."""
    uploads.check(file, uploads.IMAGE_TYPES, field)
    message = fill(_l("“%(name)s” could not be read as an image. Please choose a JPEG, PNG, GIF or WebP "
                      "picture."), name=(file.filename or "")[:80])
    too_many = fill(_l("“%(name)s” has too many pixels: a picture may have at most %(n)s million. Please make it "
                       "smaller (for example 4000 × 3000) and choose it again."), name=(file.filename or "")[:80],
                    n=MAX_PIXELS // 1_000_000)
    try:
        file.stream.seek(0)
        with Image.open(file.stream) as source:
            if source.width * source.height > MAX_PIXELS:
                raise Invalid(too_many, {field: too_many})
            source.load()
            return ImageOps.exif_transpose(source)
    except Image.DecompressionBombError:
        raise Invalid(too_many, {field: too_many}) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise Invalid(message, {field: message}) from None


def store_cover(file: FileStorage, field: str = "cover") -> Cover:
    """Check, decode, re-encode and store a cover image and its thumbnail. Raises Invalid (422)."""
    image = _decoded(file, field)
    image.thumbnail(COVER_MAX)
    cover = uploads.store(_encode(image, "cover"), COVER_KIND, uploads.IMAGE_TYPES, field)
    thumb_image = ImageOps.fit(image, THUMB_SIZE)
    thumb = uploads.store(_encode(thumb_image, "thumb"), COVER_KIND, uploads.IMAGE_TYPES, field)
    return Cover(stored=cover.stored_name, thumb=thumb.stored_name)


def remove_cover(stored: str, thumb: str) -> None:
    for name in (stored, thumb):
        if name:
            uploads.remove(COVER_KIND, name)


def content_type_of(stored: str) -> str:
    return "image/png" if stored.endswith(".png") else "image/jpeg"


INLINE_KIND = "inline"
INLINE_MAX = (1600, 1600)


def store_inline(actor, file: FileStorage, field: str = "image"):
    """An image for a post's text (the rich-text editor's "image" button, or a picture pasted from Word):
    checked, decoded, scaled to at most INLINE_MAX, re-encoded (no metadata, nothing but pixels), stored and
    recorded as a PostImage. Raises Invalid (422). Audited as post.add_image; commits."""
    from ..extensions import db
    from ..models import PostImage
    from . import audit

    image = _decoded(file, field)
    image.thumbnail(INLINE_MAX)
    stored = uploads.store(_encode(image, "image"), INLINE_KIND, uploads.IMAGE_TYPES, field)
    record = PostImage(stored_name=stored.stored_name, uploaded_by_id=actor.id)
    db.session.add(record)
    db.session.flush()
    audit.record(actor, "post.add_image", record, after={"stored_name": record.stored_name})
    db.session.commit()
    return record


def get_inline(stored_name: str):
    """The PostImage stored as `stored_name`; NotFound (404) for any other name."""
    from sqlalchemy import select

    from ..errors import NotFound
    from ..extensions import db
    from ..models import PostImage

    record = db.session.scalar(select(PostImage).where(PostImage.stored_name == (stored_name or "")[:80]))
    if record is None:
        raise NotFound()
    return record
