"""The policy documents from config/, as domain objects."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..domain.grading import GradingPolicy
from ..domain.inspection import InspectionPolicy
from ..domain.quality import AlertPolicy
from ..domain.returns import ReturnsPolicy
from ..settings import Settings


@dataclass(frozen=True)
class Policies:
    returns: ReturnsPolicy
    grading: GradingPolicy
    quality_alerts: AlertPolicy = field(default_factory=AlertPolicy)
    inspection: InspectionPolicy = field(default_factory=InspectionPolicy)

    @classmethod
    def from_settings(cls, settings: Settings) -> Policies:
        return cls(
            returns=ReturnsPolicy.from_config(settings.policies.get("returns_policy", {})),
            grading=GradingPolicy.from_config(settings.policies.get("grading", {})),
            quality_alerts=AlertPolicy.from_config(settings.policies.get("forecasting", {})),
            inspection=InspectionPolicy.from_config(settings.policies.get("grading", {}),
                                                    settings.policies.get("returns_policy", {})),
        )
