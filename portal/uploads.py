"""Uploaded files (photos, evidence): type checked by content, size limited, stored under
MEDIA_ROOT (outside the static root, never served directly) and served only by views that have
first found the owning record through the scope layer.

Use in a model:   file = models.FileField(upload_to=upload_path, validators=[validate_upload])
Use in a view:    obj = get_visible_or_404(...); return file_response(obj.file, obj.original_name)
"""
from __future__ import annotations

import mimetypes
import uuid
from pathlib import PurePath
from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAX_UPLOAD_BYTES = 10 * 1024 * 1024

# Leading bytes ("magic numbers") of the file types we accept, by extension.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "gif": (b"GIF87a", b"GIF89a"),
    "webp": (b"RIFF",),
    "pdf": (b"%PDF-",),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
    "pptx": (b"PK\x03\x04",),
}
IMAGE_TYPES = ("jpg", "jpeg", "png", "gif", "webp")
DOCUMENT_TYPES = IMAGE_TYPES + ("pdf", "docx", "xlsx", "pptx")
# The file inputs' `accept`: "image/*" lets a phone offer its camera beside the gallery and files.
IMAGE_ACCEPT = "image/*"
DOCUMENT_ACCEPT = "image/*," + ",".join(f".{ext}" for ext in DOCUMENT_TYPES if ext not in IMAGE_TYPES)


def is_image(name: str) -> bool:
    """Shown as a thumbnail (the stored file's type was checked by content on upload)."""
    return PurePath(name).suffix.lower().lstrip(".") in IMAGE_TYPES


def sniff_type(head: bytes) -> str | None:
    for ext, signatures in SIGNATURES.items():
        if any(head.startswith(sig) for sig in signatures):
            if ext == "webp" and head[8:12] != b"WEBP":
                continue
            return ext
    return None


def check_upload(upload, allowed: tuple[str, ...] = DOCUMENT_TYPES, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
    if upload.size > max_bytes:
        raise ValidationError(
            _("The file is too large (%(size).1f MB); at most %(max)d MB.")
            % {"size": upload.size / 1024 / 1024, "max": max_bytes // 1024 // 1024},
            code="too_large",
        )
    ext = PurePath(upload.name).suffix.lower().lstrip(".")
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    head = upload.read(16)
    upload.seek(position)
    actual = sniff_type(head)
    same_family = {ext, actual} <= {"jpg", "jpeg"} or {ext, actual} <= {"docx", "xlsx", "pptx"}
    if ext not in allowed or actual is None or not (ext == actual or same_family):
        raise ValidationError(
            _("This kind of file is not accepted. Allowed: %(types)s.") % {"types": "、".join(allowed)},
            code="file_type",
        )


def validate_upload(upload) -> None:
    check_upload(upload, DOCUMENT_TYPES)


def validate_image(upload) -> None:
    check_upload(upload, IMAGE_TYPES)


def upload_path(instance, filename: str) -> str:
    """A random name under the model's folder; the original name is kept in the database."""
    ext = PurePath(filename).suffix.lower()
    meta = instance._meta
    return f"{meta.app_label}/{meta.model_name}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{ext}"


def file_response(field_file, download_name: str = "", inline: bool = True) -> FileResponse:
    name = download_name or PurePath(field_file.name).name
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(field_file.open("rb"), content_type=content_type)
    disposition = "inline" if inline and content_type.startswith("image/") or content_type == "application/pdf" else "attachment"
    response["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(name)}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response
