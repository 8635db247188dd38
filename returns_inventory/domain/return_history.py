"""Returns the ERP made before the service: how one imported row's codes are read.

An imported return is history, not a unit: it never moves stock, it only tells analytics
and forecasting what came back, why, and (when the ERP knows) how it was graded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .grading import Disposition, Grade, GradingPolicy
from .returns import ReturnsPolicy


@dataclass(frozen=True)
class HistoryCodes:
    """The ERP's reason codes mapped to ours, and the grades and dispositions we know."""

    reasons: Mapping[str, str]
    dispositions_by_grade: Mapping[str, str]

    @classmethod
    def from_policies(cls, returns: ReturnsPolicy, grading: GradingPolicy) -> HistoryCodes:
        # Our own codes are accepted as they are; the ERP's mapping may not redefine them.
        reasons = {**{code: code for code in returns.reasons}, **returns.erp_reasons}
        by_grade = {Grade(g).value: Disposition(d).value
                    for g, d in grading.dispositions.items()}
        return cls(reasons, by_grade)

    def reason(self, erp_code: str) -> str:
        """Our reason code for the ERP's; ValueError naming what is accepted otherwise."""
        try:
            return self.reasons[erp_code]
        except KeyError:
            ours = ", ".join(sorted(set(self.reasons.values())))
            raise ValueError(
                f"unknown reason code {erp_code!r}: map it in config/returns_policy.toml "
                f"[erp_reasons], or send one of ours: {ours}"
            ) from None

    def outcome(self, grade: str | None, disposition: str | None) -> tuple[str | None, str | None]:
        """(grade, disposition): a grade alone takes the disposition its policy gives it."""
        if grade is not None and grade not in self.dispositions_by_grade:
            raise ValueError(f"grade must be one of {', '.join(self.dispositions_by_grade)}")
        if disposition is None and grade is not None:
            disposition = self.dispositions_by_grade[grade]
        return grade, disposition
