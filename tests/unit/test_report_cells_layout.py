"""The report's cells laid out on arrays (analytics_report.build_cells) are the cells the
per-row layout before gave, on generated data: SKU order, the policy's size order among
sizes, each SKU's category, units sold and back per reason, reasons the policy no longer
names, returns of items that sold nothing in the window, and every test made on them."""

from __future__ import annotations

import numpy as np
import pytest

from returns_inventory.services import analytics_report
from returns_inventory.services.analytics import size_key
from returns_inventory.services.policies import Policies
from returns_inventory.settings import Settings


def cells_before(repository, policy, window, key, stamp):
    """build_cells as it was, a Python step per row: the oracle the arrays must match."""
    sold_rows = _rows(repository.summed_sold(window))
    returned_rows = _rows(repository.summed_returned(window))
    settled = repository.change_stamp() == stamp
    sold_rows.sort(key=lambda r: (r["sku"], key(r["size"])))
    index = {r["item_id"]: i for i, r in enumerate(sold_rows)}
    sku_codes = list(dict.fromkeys(r["sku"] for r in sold_rows))
    sku_of = {code: i for i, code in enumerate(sku_codes)}
    cell_sku = np.array([sku_of[r["sku"]] for r in sold_rows], dtype=np.int64)
    returned = [r for r in returned_rows if r["item_id"] in index]
    codes = tuple(dict.fromkeys([*policy.reasons, *sorted({r["reason"] for r in returned})]))
    reasons = np.zeros((len(sold_rows), len(codes)), dtype=np.int64)
    column = {code: j for j, code in enumerate(codes)}
    if returned:
        np.add.at(reasons, (np.array([index[r["item_id"]] for r in returned]),
                            np.array([column[r["reason"]] for r in returned])),
                  np.array([int(r["units"]) for r in returned], dtype=np.int64))
    sku_category = [""] * len(sku_codes)
    for r in reversed(sold_rows):
        sku_category[sku_of[r["sku"]]] = r["category"]
    return analytics_report._tested(policy, {
        "item_id": np.array([r["item_id"] for r in sold_rows], dtype=np.int64),
        "size": [r["size"] for r in sold_rows], "category": [r["category"] for r in sold_rows],
        "sku_codes": sku_codes, "sku_category": sku_category, "cell_sku": cell_sku,
        "sku_start": np.searchsorted(cell_sku, np.arange(len(sku_codes) + 1)),
        "sold": np.array([int(r["units"]) for r in sold_rows], dtype=np.int64),
        "reason_codes": codes, "reasons": reasons}, settled=settled)


def _rows(columns: dict[str, list]) -> list[dict]:
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(),
                                                                    strict=True)]


def assert_same_cells(new, old) -> None:
    for name in ("item_id", "cell_sku", "sku_start", "sold", "reasons"):
        assert getattr(new, name).tolist() == getattr(old, name).tolist(), name
    for name in ("size", "category", "sku_codes", "sku_category", "reason_codes", "settled"):
        assert getattr(new, name) == getattr(old, name), name
    for table in ("sizes", "skus"):
        a, b = getattr(new.tests, table), getattr(old.tests, table)
        for column in ("owner", "signal", "hits", "sold", "p_value", "q_value", "flagged"):
            assert getattr(a, column).tolist() == getattr(b, column).tolist(), (table, column)


class Generated:
    """A repository answering generated sums, in a shuffled order as a database may."""

    def __init__(self, seed: int, skus: int):
        rng = np.random.default_rng(seed)
        sizes = ["XS", "S", "M", "L", "XL", "38", "40", "9.5", "one-size"]
        sold = {"item_id": [], "sku": [], "size": [], "category": [], "units": []}
        item = 0
        for s in range(skus):
            code = f"SKU-{rng.integers(0, 10 * skus):05d}-{s}" if s % 7 else f"É{s}"
            for size in rng.choice(sizes, size=int(rng.integers(1, 5)), replace=False):
                item += int(rng.integers(1, 4))
                sold["item_id"].append(item)
                sold["sku"].append(code)
                sold["size"].append(str(size))
                # Sizes of one SKU may stand in different categories: the first size's counts.
                sold["category"].append(f"cat{int(rng.integers(0, 4))}")
                sold["units"].append(int(rng.integers(1, 200)))
        order = rng.permutation(len(sold["item_id"]))
        self.sold = {k: [v[i] for i in order] for k, v in sold.items()}
        reasons = ["too_small", "too_large", "quality_defect", "changed_mind", "retired_code"]
        back = {"item_id": [], "reason": [], "units": []}
        for item_id in [*self.sold["item_id"], item + 1, item + 5]:  # + items not sold
            for reason in rng.choice(reasons, size=int(rng.integers(0, 3)), replace=False):
                back["item_id"].append(item_id)
                back["reason"].append(str(reason))
                back["units"].append(int(rng.integers(1, 30)))
        self.returned = back

    def summed_sold(self, window):
        return self.sold

    def summed_returned(self, window):
        return self.returned

    def change_stamp(self):
        return "stamp"

    def sums_follow(self):
        pass


@pytest.mark.parametrize(("seed", "skus"), [(1, 0), (2, 1), (3, 40), (4, 600)])
def test_cells_laid_out_on_arrays_are_the_cells_laid_out_per_row(seed, skus):
    policy = Policies.from_settings(Settings.load(env={})).returns
    key = size_key(tuple(policy.size_order))
    repository = Generated(seed, skus)
    new = analytics_report.build_cells(repository, policy, None, key, "stamp")
    old = cells_before(repository, policy, None, key, "stamp")
    assert len(new.item_id) == len(repository.sold["item_id"])
    assert_same_cells(new, old)


def test_labels_are_numbered_as_numpy_numbers_them_among_the_distinct_labels_sorted():
    rng = np.random.default_rng(5)
    labels = np.asarray([str(x) for x in rng.choice(
        ["M", "S", "XL", "38", "9.5", "É", "one-size", "cat10", "cat2"], size=500)],
        dtype=object)
    _, expected = np.unique(labels, return_inverse=True)
    assert analytics_report._numbered(labels).tolist() == expected.reshape(-1).tolist()
    assert analytics_report._numbered(np.asarray([], dtype=object)).tolist() == []
