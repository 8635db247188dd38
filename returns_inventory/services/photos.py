"""Unit photos on disk under instance/photos, and the unit as the grading bench sees it."""

from __future__ import annotations

import io
import secrets
from pathlib import Path

from PIL import Image

from ..domain.errors import FieldError, NotFound, ValidationFailed
from ..persistence.uow import UowFactory
from .policies import Policies

# The format Pillow finds when it decodes the file, for each accepted type: neither the
# declared type nor the first bytes are trusted (any RIFF file, a WAVE sound say, starts like
# a WebP image).
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def attach_photos(
    uow_factory: UowFactory, policies: Policies, instance_path: Path, *, unit_id: str,
    files: list[tuple[str, str, bytes]], actor: str,
) -> list[dict]:
    """Check every photo first, then store them all; one bad file stores none."""
    policy = policies.grading
    if not files:
        raise ValidationFailed("no photo attached", errors=[FieldError("photo", "required")])
    if len(files) > policy.photo_max_per_request:
        raise ValidationFailed(
            f"attach at most {policy.photo_max_per_request} photos at a time",
            errors=[FieldError("photo", f"at most {policy.photo_max_per_request} per request")])
    for index, (name, content_type, data) in enumerate(files):
        _check_photo(policy, index, name, content_type, data)
    folder = instance_path / "photos" / unit_id
    stored: list[dict] = []
    with uow_factory() as uow:
        # Locked: two uploads at once must not both fit under the unit's cap.
        unit = uow.units.unit(unit_id, lock=True)
        if unit is None:
            raise NotFound(f"no unit {unit_id}", errors=[FieldError("unit_id", "unknown")])
        already = uow.units.photo_count(unit.id)
        if already + len(files) > policy.photo_max_per_unit:
            raise ValidationFailed(
                f"unit {unit_id} has {already} of at most {policy.photo_max_per_unit} photos; "
                f"{len(files)} more do not fit",
                errors=[FieldError("photo", f"at most {policy.photo_max_per_unit} per unit")])
        folder.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        try:
            for _name, content_type, data in files:
                filename = f"{secrets.token_hex(8)}.{EXTENSIONS[content_type]}"
                path = folder / filename
                path.write_bytes(data)
                written.append(path)
                uow.units.add_photo(unit.id, filename=filename, content_type=content_type,
                                      size_bytes=len(data), actor=actor)
                stored.append({"filename": filename, "content_type": content_type,
                               "url": f"/api/v1/units/{unit_id}/photos/{filename}"})
            uow.commit()
        except BaseException:
            # The rows rolled back; files on disk must not outlive them.
            for path in written:
                path.unlink(missing_ok=True)
            raise
    return stored


def photo_path(uow_factory: UowFactory, instance_path: Path, unit_id: str, filename: str):
    with uow_factory() as uow:
        unit = uow.units.unit(unit_id)
        photo = uow.units.photo(filename)
    if unit is None or photo is None or photo["unit_id"] != unit.id:
        raise NotFound(f"no photo {filename} for unit {unit_id}")
    return instance_path / "photos" / unit_id / filename, photo["content_type"]


def unit_view(uow_factory: UowFactory, unit_id: str) -> dict:
    """Everything a grader needs to see about one unit."""
    with uow_factory() as uow:
        details = uow.units.unit_details(unit_id)
        if details is None:
            raise NotFound(f"no unit {unit_id}", errors=[FieldError("unit_id", "unknown")])
        history = uow.units.gradings_of(details["id"])
        photos = uow.units.photos_of(details["id"])
    return {
        "unit_id": details["unit_code"], "label_code": details["unit_code"],
        "rma": details["rma"], "sku": details["sku"], "size": details["size"],
        "description": details["description"], "location": details["location"],
        "status": details["status"], "condition": details["condition"],
        "grade": details["grade"], "disposition": details["disposition"],
        "defects": details["defects"], "reason": details["reason"],
        "customer_note": details["customer_note"], "return_note": details["return_note"],
        "receiving_note": details["note"], "resolution": details["resolution"],
        "blind": details["blind"], "flagged_for_review": details["flagged_for_review"],
        "history": [
            {"sequence": h["sequence"], "kind": h["kind"], "grade": h["grade"],
             "defects": h["defects"], "disposition": h["disposition"], "rule": h["rule"],
             "reason": h["reason"], "note": h["note"], "actor": h["actor"],
             "at": h["created_at"].isoformat()}
            for h in history
        ],
        "photos": [
            {"filename": p["filename"],
             "url": f"/api/v1/units/{unit_id}/photos/{p['filename']}"}
            for p in photos
        ],
    }


def _check_photo(policy, index: int, name: str, content_type: str, data: bytes) -> None:
    field = f"photo.{index}"  # dotted, as every other list item is named
    if content_type not in policy.photo_types or content_type not in FORMATS:
        raise ValidationFailed(f"{name or 'file'} is not an accepted image type",
                               errors=[FieldError(field, f"type {content_type} not accepted")])
    if len(data) > policy.photo_max_bytes:
        raise ValidationFailed(f"{name or 'file'} is larger than {policy.photo_max_bytes} bytes",
                               errors=[FieldError(field, "too large")])
    if _decoded_format(data) != FORMATS[content_type]:
        raise ValidationFailed(f"{name or 'file'} is not really an image of type {content_type}",
                               errors=[FieldError(field, "content does not match its type")])


def _decoded_format(data: bytes) -> str | None:
    """The format Pillow reads from the file's headers, once verify() has found them whole."""
    try:
        with Image.open(io.BytesIO(data), formats=list(FORMATS.values())) as image:
            # A few bytes may claim a huge picture: past Pillow's bomb limit (where it only
            # warns), refuse it rather than keep it for someone's browser to decode.
            if image.width * image.height > (Image.MAX_IMAGE_PIXELS or float("inf")):
                return None
            found = image.format
            image.verify()
    except Exception:  # Pillow raises many kinds for a file that is not what it claims
        return None
    return found
