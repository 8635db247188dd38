"""Unit labels: a scanner reading the printed barcode gets the unit id (both databases).

The PDF is rendered to pixels (PDFium) at a label printer's 203 dpi and read back with
zxing-cpp, as a scanner would read the printed label; the barcode library is not trusted.
"""

from __future__ import annotations

import pypdfium2
import pytest
import zxingcpp

from tests.e2e.browser import screenshot_dir
from tests.factories import add_item, add_location, add_sale

LABEL_PRINTER_DPI = 203


@pytest.fixture
def received(client, auth, uow_factory):
    """An RMA of three units of TEE-BLK M, received at WH1, and a blind receipt."""
    item_id = add_item(uow_factory, "TEE-BLK", "M", description="Black tee")
    location_id = add_location(uow_factory, "WH1")
    add_sale(uow_factory, item_id, location_id, order_ref="SO-7", line_ref="1", quantity=3)
    rma = client.post("/api/v1/returns", headers=auth("integrator"), json={
        "order_ref": "SO-7",
        "lines": [{"line_ref": "1", "quantity": 3, "reason": "too_small"}]}).json["rma"]
    units = client.post(f"/api/v1/returns/{rma}/receipts", headers=auth("grader"), json={
        "location": "WH1", "lines": [{"line_no": 1, "quantity": 3}]}).json["units"]
    blind = client.post("/api/v1/receipts/blind", headers=auth("grader"), json={
        "sku": "TEE-BLK", "size": "M", "location": "WH1"}).json["units"]
    return rma, [u["unit_id"] for u in units], blind[0]["unit_id"]


def _pages(pdf: bytes, picture: str | None = None
           ) -> list[tuple[tuple[float, float], list[str], str]]:
    """Per page: its size in mm, the Code 128 barcodes a scanner reads off it, its text.
    With `picture`, the first page is also saved as that screenshot (for the docs)."""
    document = pypdfium2.PdfDocument(pdf)
    pages = []
    for n, page in enumerate(document):
        width, height = (round(v / 72 * 25.4, 1) for v in page.get_size())
        image = page.render(scale=LABEL_PRINTER_DPI / 72).to_pil()
        if picture and n == 0:
            image.save(screenshot_dir() / picture)
        codes = [found.text for found in zxingcpp.read_barcodes(image)
                 if found.format == zxingcpp.BarcodeFormat.Code128]
        pages.append(((width, height), codes, page.get_textpage().get_text_range()))
    return pages


def test_a_unit_label_is_a_4x6_page_whose_barcode_scans_as_the_unit_id(client, auth, received):
    rma, (unit_id, *_), _ = received
    answer = client.get(f"/api/v1/units/{unit_id}/label", headers=auth("grader"))
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf"
    [(size, codes, text)] = _pages(answer.data, picture="unit-label.png")
    assert size == (100.0, 150.0)
    assert codes == [unit_id]
    for shown in (unit_id, "TEE-BLK", "Size M", rma, "Received 20"):
        assert shown in text


def test_a_return_prints_every_received_unit_on_an_a4_sheet(client, auth, received):
    rma, unit_ids, blind_id = received
    answer = client.get(f"/api/v1/returns/{rma}/labels?layout=a4", headers=auth("grader"))
    [(size, codes, _)] = _pages(answer.data, picture="unit-labels-a4.png")
    assert size == (210.0, 297.0)
    assert sorted(codes) == sorted(unit_ids)  # the blind receipt is not this return's
    blind = _pages(client.get(f"/api/v1/units/{blind_id}/label", headers=auth("grader")).data)
    assert blind[0][1] == [blind_id] and "No RMA" in blind[0][2]


def test_labels_of_a_return_print_one_label_per_page(client, auth, received):
    rma, unit_ids, _ = received
    pages = _pages(client.get(f"/api/v1/returns/{rma}/labels", headers=auth("grader")).data)
    assert [codes for _, codes, _ in pages] == [[u] for u in unit_ids]


def test_labels_refuse_an_unknown_layout_unit_or_return(client, auth, received):
    _, (unit_id, *_), _ = received
    wrong = client.get(f"/api/v1/units/{unit_id}/label?layout=a5", headers=auth("grader"))
    assert wrong.status_code == 422 and wrong.json["errors"][0]["field"] == "layout"
    assert client.get("/api/v1/units/UNOPE/label", headers=auth("grader")).status_code == 404
    assert client.get("/api/v1/returns/RMA-NOPE/labels",
                      headers=auth("grader")).status_code == 404
