"""The report-wide part of the returns analytics, as arrays: every SKU × size's units sold
and units back per reason, and every signal test of the report, corrected together.

This is what a page of the report cannot do without (the tests' family is the whole report,
the shrunk rates pool every SKU of a category), so it is built whole per window and family,
from the units sold and back per item and day (persistence/summary_tables.py) rather than
the lines, and stored a row per SKU (services/stored_reports.py); a page then reads its own
rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from forecasting.shrinkage import hierarchical_rate

from ..domain.fit_report import CellTests, cell_tests
from ..domain.returns import ReturnsPolicy
from ..domain.sales_window import SalesWindow
from ..persistence.repositories.analytics import ChangeStamp


@dataclass(frozen=True)
class Selection:
    """The SKUs a report shows (all of its family, or the one asked for) and their shrunk
    rates, pooled over those SKUs as before paging (NaN for cells and SKUs not shown)."""

    skus: np.ndarray  # SKU indices, in SKU order
    cell_rates: np.ndarray
    sku_rates: np.ndarray

    def cell_rate(self, cell: int) -> float | None:
        return _rounded(self.cell_rates[cell])

    def sku_rate(self, sku: int) -> float | None:
        return _rounded(self.sku_rates[sku])


def _rounded(rate) -> float | None:
    return None if np.isnan(rate) else round(float(rate), 4)


@dataclass(frozen=True)
class ReportCells:
    """Cells sorted by SKU, then size; SKU s owns cells sku_start[s]:sku_start[s + 1]."""

    item_id: np.ndarray
    size: list[str]
    category: list[str]  # each cell's item's own category (a family takes items by it)
    sku_codes: list[str]
    sku_category: list[str]
    cell_sku: np.ndarray
    sku_start: np.ndarray
    sold: np.ndarray
    reason_codes: tuple[str, ...]
    reasons: np.ndarray  # cells × reason codes: units back
    tests: CellTests
    settled: bool = True  # counts the rows its change stamp describes, and no others
    _selections: dict = field(default_factory=dict, compare=False)

    def cells_of(self, sku: int) -> range:
        return range(int(self.sku_start[sku]), int(self.sku_start[sku + 1]))

    def sku_index(self, code: str) -> int | None:
        at = int(np.searchsorted(np.asarray(self.sku_codes, dtype=object), code))
        return at if at < len(self.sku_codes) and self.sku_codes[at] == code else None

    @cached_property
    def returned(self) -> np.ndarray:
        return self.reasons.sum(axis=1)

    def selection(self, sku: str | None) -> Selection:
        if sku not in self._selections:
            self._selections[sku] = self._select(sku)
        return self._selections[sku]

    def _select(self, sku: str | None) -> Selection:
        if sku is None:
            skus, cells = np.arange(len(self.sku_codes)), np.arange(len(self.sold))
        else:
            found = self.sku_index(sku)
            skus = np.array([] if found is None else [found], dtype=np.int64)
            cells = np.arange(self.sku_start[found], self.sku_start[found + 1]) if (
                found is not None) else np.zeros(0, np.int64)
        cell_rates = np.full(len(self.sold), np.nan)
        sku_rates = np.full(len(self.sku_codes), np.nan)
        if len(cells):
            cell_rates[cells], sku_rates[skus] = self._shrunk(cells, skus)
        return Selection(skus, cell_rates, sku_rates)

    def _shrunk(self, cells: np.ndarray, skus: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return shrunk_rates(self.returned[cells], self.sold[cells], self.cell_sku[cells] - skus[0],
                            np.asarray(self.sku_category, dtype=object)[skus],
                            np.asarray(self.size, dtype=object)[cells])

    def of_categories(self, categories: tuple[str, ...], policy: ReturnsPolicy) -> ReportCells:
        """The report of the items of these categories alone, tested as its own family: what
        the report of that family reads, without summing the window again."""
        keep = np.isin(np.asarray(self.category, dtype=object), list(categories))
        cells = np.flatnonzero(keep)
        old_skus, cell_sku = np.unique(self.cell_sku[cells], return_inverse=True)
        sku_codes = [self.sku_codes[int(s)] for s in old_skus]
        sku_category = [""] * len(sku_codes)
        for c, s in zip(cells[::-1], cell_sku[::-1], strict=True):  # that of its first size
            sku_category[s] = self.category[int(c)]
        return _tested(policy, {
            "item_id": self.item_id[cells], "size": [self.size[int(c)] for c in cells],
            "category": [self.category[int(c)] for c in cells], "sku_codes": sku_codes,
            "sku_category": sku_category, "cell_sku": cell_sku.astype(np.int64),
            "sku_start": np.searchsorted(cell_sku, np.arange(len(sku_codes) + 1)),
            "sold": self.sold[cells], "reason_codes": self.reason_codes,
            "reasons": self.reasons[cells]}, settled=self.settled)


def shrunk_rates(returned: np.ndarray, sold: np.ndarray, sku: np.ndarray,
                 sku_category: np.ndarray, size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return rates shrunk as the forecast shrinks them (forecasting.shrinkage): each size
    toward its SKU, each SKU toward its category, by how much they really differ; each size
    also by its category's size profile, as forecasting.returns does. `sku[i]` is cell i's
    SKU, numbered from 0; `sku_category` and `size` label the SKUs and the cells."""
    k, n = returned.astype(float), sold.astype(float)
    sku_cat, size_index = _numbered(sku_category), _numbered(size)
    # The cell of the size profile: the category × size.
    _, cell = np.unique(sku_cat[sku] * (size_index.max() + 1) + size_index, return_inverse=True)
    glob = k.sum() / n.sum() if n.sum() else 0.0
    item_rate, sku_rate, *_ = hierarchical_rate(
        k, n, sku, len(sku_category), sku_cat, int(sku_cat.max()) + 1, default=glob, cell=cell,
        n_cell=int(cell.max()) + 1)
    return item_rate, sku_rate


def _numbered(labels) -> np.ndarray:
    """Each label's place among the distinct labels sorted, as np.unique's inverse, by a dict
    rather than sorting 100,000 Python strings."""
    place = {label: i for i, label in enumerate(sorted(set(labels)))}
    return np.array([place[label] for label in labels], dtype=np.int64)


def recount_day_summaries(uow_factory) -> None:
    """Count the units sold and back per item and day again from the lines, in one
    transaction: after lines were loaded or mended around the services that keep them."""
    with uow_factory() as uow:
        uow.analytics.recount_day_summaries()
        uow.commit()


def build_cells(repository, policy: ReturnsPolicy, window: SalesWindow, size_key,
                stamp: ChangeStamp) -> ReportCells:
    # Summed from the units sold and back per item and day, which the writers keep with the
    # lines: a row per item and day of the window instead of every line. The sums are of the
    # rows committed when they are read, so a row committed since the stamp was read may be
    # in them: the report is then right, but only the lines since the stamp could bring it
    # up to date, and that would count such a row twice, so it is read again next time.
    repository.sums_follow()
    sold_rows = repository.summed_sold(window)  # columns: an item (SKU x size) a row
    returned_rows = repository.summed_returned(window)
    settled = repository.change_stamp() == stamp
    # Laid out on arrays, not per row: 100,000 cells at large. Cells in SKU order (code
    # points), then the policy's size order; a stable sort, so ties keep the database's order.
    codes_of_skus, sku_rank = np.unique(np.asarray(sold_rows["sku"], dtype=object),
                                        return_inverse=True)
    size_rank = {s: i for i, s in enumerate(sorted(set(sold_rows["size"]), key=size_key))}
    order = np.lexsort((np.array([size_rank[s] for s in sold_rows["size"]], dtype=np.int64),
                        sku_rank.reshape(-1)))
    item_id = np.asarray(sold_rows["item_id"], dtype=np.int64)[order]
    category = np.asarray(sold_rows["category"], dtype=object)[order]
    cell_sku = sku_rank.reshape(-1)[order].astype(np.int64)
    sku_codes = codes_of_skus.tolist()
    sku_start = np.searchsorted(cell_sku, np.arange(len(sku_codes) + 1))
    # Imported history need not match a sale in the window (its sale may be unknown, or
    # before the ERP's sales were imported): an item that sold nothing here has no rate.
    back_item = np.asarray(returned_rows["item_id"], dtype=np.int64)
    by_item = np.argsort(item_id, kind="stable")
    at = np.searchsorted(item_id[by_item], back_item)
    kept = at < len(item_id)
    kept[kept] = item_id[by_item[at[kept]]] == back_item[kept]
    cell_of = by_item[at[kept]] if len(item_id) else np.zeros(0, np.int64)
    back_reason = [r for r, k in zip(returned_rows["reason"], kept.tolist(), strict=True) if k]
    codes = tuple(dict.fromkeys([*policy.reasons, *sorted(set(back_reason))]))
    reasons = np.zeros((len(item_id), len(codes)), dtype=np.int64)
    if back_reason:
        column = {code: j for j, code in enumerate(codes)}
        np.add.at(reasons, (cell_of, np.array([column[r] for r in back_reason])),
                  np.asarray(returned_rows["units"], dtype=np.int64)[kept])
    return _tested(policy, {
        "item_id": item_id,
        "size": np.asarray(sold_rows["size"], dtype=object)[order].tolist(),
        "category": category.tolist(), "sku_codes": sku_codes,
        # A SKU's category is that of its first size.
        "sku_category": category[sku_start[:-1]].tolist(), "cell_sku": cell_sku,
        "sku_start": sku_start,
        "sold": np.asarray(sold_rows["units"], dtype=np.int64)[order],
        "reason_codes": codes, "reasons": reasons}, settled=settled)


def _tested(policy: ReturnsPolicy, cells: dict, settled: bool = True) -> ReportCells:
    """The report of these cells (ReportCells' fields), every test made on them; `settled`:
    of the rows its stamp describes, no more."""
    column = {code: j for j, code in enumerate(cells["reason_codes"])}
    directions = fit_codes(policy)

    def hits(codes_of: tuple[str, ...]) -> np.ndarray:
        return cells["reasons"][:, [column[c] for c in codes_of]].sum(axis=1)

    categories = {c: i for i, c in enumerate(dict.fromkeys(cells["sku_category"]))}
    tests = cell_tests(cells["cell_sku"], len(cells["sku_codes"]),
                       np.array([categories[c] for c in cells["sku_category"]], np.int64),
                       cells["sold"],
                       np.stack([hits(c) for _, c in directions], axis=1)
                       if directions else np.zeros((len(cells["sold"]), 0), np.int64),
                       hits(quality_codes(policy)), [d for d, _ in directions])
    return ReportCells(**cells, tests=tests, settled=settled)


def fit_codes(policy: ReturnsPolicy) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Reason codes per fit direction, as the policy marks them (("small", ("too_small",)))."""
    codes: dict[str, list[str]] = {}
    for code, reason in policy.reasons.items():
        if reason.fit:
            codes.setdefault(reason.fit, []).append(code)
    return tuple((fit, tuple(c)) for fit, c in codes.items())


def quality_codes(policy: ReturnsPolicy) -> tuple[str, ...]:
    return tuple(code for code, r in policy.reasons.items() if r.quality)
