"""Unit photos: really images, limited per upload and per unit, served never to be sniffed
(both databases)."""

from __future__ import annotations

import io
import struct

import pytest

from returns_inventory.services.policies import Policies
from returns_inventory.services.receiving import receive_units
from returns_inventory.services.returns import ReturnLineRequest, authorize_return
from returns_inventory.settings import Settings
from tests.factories import add_item, add_location, add_sale, image
from tests.integration.web_support import hidden, log_in

POLICY = Policies.from_settings(Settings.load(env={})).grading
PER_REQUEST, PER_UNIT = POLICY.photo_max_per_request, POLICY.photo_max_per_unit


@pytest.fixture
def unit_id(uow_factory):
    item_id = add_item(uow_factory, "TEE-BLK", "M")
    location_id = add_location(uow_factory, "WH1")
    add_sale(uow_factory, item_id, location_id, order_ref="SO-7", line_ref="1", quantity=1)
    policies = Policies.from_settings(Settings.load(env={}))
    view = authorize_return(uow_factory, policies, order_ref="SO-7", actor="erp", lines=[
        ReturnLineRequest(line_ref="1", quantity=1, reason="too_small")])
    [unit] = receive_units(uow_factory, rma=view.rma, location="WH1",
                           lines=[{"line_no": 1, "quantity": 1}], actor="dock")
    return unit.unit_id


def _post(client, headers, unit_id, *files):
    return client.post(f"/api/v1/units/{unit_id}/photos", headers=headers, data={
        "photo": [(io.BytesIO(data), name, kind) for name, kind, data in files]})


def _photo_count(client, headers, unit_id):
    return len(client.get(f"/api/v1/units/{unit_id}", headers=headers).json["photos"])


def _wave() -> bytes:
    """A valid (silent) WAVE sound: a RIFF file, as a WebP image is."""
    samples = b"\0\0" * 100
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, 8000, 16000, 2, 16)
    data = b"data" + struct.pack("<I", len(samples)) + samples
    return b"RIFF" + struct.pack("<I", 4 + len(fmt) + len(data)) + b"WAVE" + fmt + data


def _bomb() -> bytes:
    """A PNG of a few kilobytes that decodes to 100 megapixels (Pillow's limit is 89)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, format="PNG")
    return out.getvalue()


def test_one_upload_more_than_the_policy_allows_stores_none(client, auth, unit_id):
    grader = auth("grader")
    many = [(f"p{n}.png", "image/png", image("PNG")) for n in range(PER_REQUEST + 1)]
    refused = _post(client, grader, unit_id, *many)
    assert refused.status_code == 422
    assert refused.json["errors"] == [
        {"field": "photo", "reason": f"at most {PER_REQUEST} per request"}]
    assert _photo_count(client, grader, unit_id) == 0
    assert _post(client, grader, unit_id, *many[:PER_REQUEST]).status_code == 201


def test_a_unit_holds_at_most_the_policys_photos_in_all(client, auth, unit_id):
    grader = auth("grader")
    png = ("p.png", "image/png", image("PNG"))
    while _photo_count(client, grader, unit_id) + PER_REQUEST <= PER_UNIT:
        assert _post(client, grader, unit_id, *[png] * PER_REQUEST).status_code == 201
    room = PER_UNIT - _photo_count(client, grader, unit_id)
    refused = _post(client, grader, unit_id, *[png] * (room + 1))
    assert refused.status_code == 422
    assert refused.json["errors"] == [{"field": "photo", "reason": f"at most {PER_UNIT} per unit"}]
    if room:
        assert _post(client, grader, unit_id, *[png] * room).status_code == 201
    assert _photo_count(client, grader, unit_id) == PER_UNIT


@pytest.mark.parametrize(("name", "kind", "data"), [
    ("sound.webp", "image/webp", _wave()),  # a RIFF file, but no image
    ("photo.jpg", "image/jpeg", image("PNG")),  # a real image, of another type
    ("cut.png", "image/png", image("PNG", (64, 64), noise=True)[:-40]),  # truncated
    ("magic.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64),  # the signature only
    ("bomb.png", "image/png", _bomb()),
], ids=["wave-as-webp", "png-as-jpeg", "truncated-png", "png-signature-only", "pixel-bomb"])
def test_a_file_is_refused_unless_it_decodes_as_the_image_type_it_claims(
        client, auth, unit_id, name, kind, data):
    grader = auth("grader")
    refused = _post(client, grader, unit_id, (name, kind, data))
    assert refused.status_code == 422
    assert refused.json["errors"] == [
        {"field": "photo.0", "reason": "content does not match its type"}]
    assert _photo_count(client, grader, unit_id) == 0


@pytest.mark.parametrize(("kind", "format"), [
    ("image/jpeg", "JPEG"), ("image/png", "PNG"), ("image/webp", "WEBP")])
def test_real_images_are_stored_and_served_with_nosniff(client, auth, unit_id, kind, format):
    grader = auth("grader")
    data = image(format, (16, 12))
    stored = _post(client, grader, unit_id, (f"front.{format.lower()}", kind, data))
    assert stored.status_code == 201, stored.json
    served = client.get(stored.json["photos"][0]["url"], headers=grader)
    assert served.status_code == 200 and served.data == data
    assert served.mimetype == kind
    assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_the_bench_form_refuses_too_many_photos_in_words_and_grades_nothing(
        client, uow_factory, unit_id):
    log_in(client, uow_factory, "grader")
    page = client.get(f"/station/units/{unit_id}").get_data(as_text=True)
    photos = [(io.BytesIO(image("PNG")), f"p{n}.png", "image/png")
              for n in range(PER_REQUEST + 1)]
    response = client.post(f"/station/units/{unit_id}/grade", data={
        "csrf_token": hidden(page, "csrf_token"), "submission": hidden(page, "submission"),
        "grade": "B", "photos": photos})
    assert response.status_code == 422
    assert f"attach at most {PER_REQUEST} photos at a time" in response.get_data(as_text=True)
    with uow_factory() as uow:
        unit = uow.units.unit(unit_id)
        assert uow.units.photos_of(unit.id) == [] and uow.units.gradings_of(unit.id) == []
