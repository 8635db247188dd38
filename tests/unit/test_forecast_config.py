"""config/forecasting.toml's service policy, typed: targets, costs and order costs."""

import pytest

from returns_inventory.services.planning_inputs import ForecastConfig


def test_targets_costs_and_order_costs_fall_back_to_the_default_entry():
    config = ForecastConfig.from_document({
        "service_levels": {"default": 0.95, "basics": 0.98},
        "service_targets": {"default": "cycle", "basics": "fill", "outerwear": "cost"},
        "costs": {"default": {"holding": 0.02, "shortage": 0.5},
                  "outerwear": {"holding": 0.1, "shortage": 2.0}},
        "order_costs": {"Acme Knits": 40},
    })
    assert config.service_target("basics") == "fill"
    assert config.service_target("tops") == "cycle"
    assert (config.cost("outerwear", "holding"), config.cost("tops", "shortage")) == (0.1, 0.5)
    assert config.order_cost("Acme Knits") == 40.0
    assert config.order_cost("Someone Else") == 0.0 and config.order_cost(None) == 0.0


def test_an_unknown_service_target_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"\[service_targets\] basics = 'fil'"):
        ForecastConfig.from_document({"service_targets": {"basics": "fil"}})


def test_a_fill_target_is_the_category_s_fill_unless_the_config_says_item():
    assert ForecastConfig.from_document({}).fill_scope == "category"
    doc = {"ordering": {"fill_scope": "item"}}
    assert ForecastConfig.from_document(doc).fill_scope == "item"
    with pytest.raises(ValueError, match=r"\[ordering\] fill_scope = 'sku'"):
        ForecastConfig.from_document({"ordering": {"fill_scope": "sku"}})


def test_the_shipped_config_reads():
    from returns_inventory.settings import Settings

    config = ForecastConfig.from_document(Settings.load(env={}).policies["forecasting"])
    assert config.service_target("anything") == "cycle"
    assert config.cost("anything", "holding") > 0
