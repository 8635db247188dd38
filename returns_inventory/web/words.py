"""The warehouse's words for stored codes, for people reading the pages."""

from __future__ import annotations

WORDS = {
    # dispositions
    "restock_sellable": "Restock as sellable",
    "restock_second_quality": "Restock as second quality",
    "repair": "Send to repair",
    "write_off": "Write off",
    "return_to_vendor": "Return to vendor",
    "return_to_customer": "Send back to customer",
    # unit statuses
    "awaiting_grading": "waiting for grading",
    "restocked": "restocked",
    "second_quality": "second quality",
    "in_repair": "in repair",
    "pending_write_off": "write-off waiting for approval",
    "written_off": "written off",
    "returned_to_vendor": "returned to vendor",
    "returned_to_customer": "sent back to the customer",
    # inspection outcomes: what the customer gets
    "accept": "full refund",
    "deduct": "refund with deductions",
    "refuse": "refused: sent back, no refund",
    # stock conditions
    "sellable": "sellable",
    "quarantine": "quarantine",
    # replenishment suggestion statuses
    "proposed": "waiting for a planner",
    "edited": "edited, waiting for approval",
    "superseded": "replaced by a newer run",
    # resolutions
    "refund": "refund",
    "exchange": "exchange",
}


def in_words(code: str | None) -> str:
    """`restock_second_quality` -> `Restock as second quality`; unknown codes read plainly."""
    if not code:
        return ""
    return WORDS.get(code, code.replace("_", " "))


# Stock conditions share a code with a disposition ("repair"), so they have words of their own.
CONDITIONS = {"sellable": "sellable stock", "second_quality": "second-quality stock",
              "repair": "repair stock", "quarantine": "quarantine"}


def condition_in_words(code: str | None) -> str:
    """`repair` -> `repair stock`: where a unit's stock now is, not what is done with it."""
    return CONDITIONS.get(code or "", in_words(code))
