"""Settings: config/default.toml, then RI_* variables; secrets only from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from returns_inventory.settings import PROJECT_ROOT, Settings, SettingsError


@pytest.fixture
def config_dir(tmp_path) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "default.toml").write_text(
        "[app]\n"
        'database_url = ""\n'
        "max_request_bytes = 1_000\n"
        "page_size_default = 25\n"
        'log_level = "WARNING"\n'
    )
    (folder / "grading.toml").write_text('[grades]\nA = "as new"\n')
    return folder


def _load(config_dir, tmp_path, **env):
    return Settings.load(env={"RI_CONFIG_DIR": str(config_dir),
                              "RI_INSTANCE_PATH": str(tmp_path / "instance"), **env})


def test_the_shipped_defaults_load_with_no_environment(tmp_path):
    settings = Settings.load(env={"RI_INSTANCE_PATH": str(tmp_path)})
    assert settings.config_dir == PROJECT_ROOT / "config"
    assert settings.max_request_bytes == 2_097_152 and settings.page_size_max == 1000
    assert settings.secret_key is None
    assert settings.database_url == f"sqlite:///{tmp_path / 'returns_inventory.sqlite3'}"
    assert settings.is_sqlite


def test_the_file_overrides_the_built_in_defaults(config_dir, tmp_path):
    settings = _load(config_dir, tmp_path)
    assert (settings.max_request_bytes, settings.page_size_default) == (1000, 25)
    assert settings.log_level == "WARNING"
    assert settings.page_size_max == 1000  # not in the file: the dataclass default
    assert settings.policies == {"grading": {"grades": {"A": "as new"}}}


def test_environment_variables_win_and_are_coerced_to_the_settings_type(config_dir, tmp_path):
    settings = _load(config_dir, tmp_path, RI_MAX_REQUEST_BYTES="5_000",
                     RI_PAGE_SIZE_MAX="50", RI_LOG_LEVEL="DEBUG",
                     RI_DATABASE_URL="postgresql+psycopg://svc@db/returns")
    assert settings.max_request_bytes == 5000 and settings.page_size_max == 50
    assert isinstance(settings.max_request_bytes, int)
    assert settings.log_level == "DEBUG"
    assert settings.database_url == "postgresql+psycopg://svc@db/returns"
    assert not settings.is_sqlite


def test_an_empty_variable_leaves_the_file_value(config_dir, tmp_path):
    assert _load(config_dir, tmp_path, RI_PAGE_SIZE_DEFAULT="").page_size_default == 25


def test_a_number_that_is_not_a_number_is_refused_naming_the_variable(config_dir, tmp_path):
    with pytest.raises(SettingsError, match="RI_MAX_REQUEST_BYTES"):
        _load(config_dir, tmp_path, RI_MAX_REQUEST_BYTES="two megabytes")


def test_a_quoted_number_in_the_file_is_refused_at_start_up(config_dir, tmp_path):
    (config_dir / "default.toml").write_text('[app]\npage_size_max = "1000"\n')
    with pytest.raises(SettingsError, match="page_size_max"):
        _load(config_dir, tmp_path)


def test_the_secret_key_comes_from_the_environment(config_dir, tmp_path):
    assert _load(config_dir, tmp_path, RI_SECRET_KEY="s3cret").secret_key == "s3cret"


def test_a_secret_key_in_a_config_file_is_refused(config_dir, tmp_path):
    with (config_dir / "default.toml").open("a") as fh:
        fh.write('secret_key = "committed-by-mistake"\n')
    with pytest.raises(SettingsError, match="RI_SECRET_KEY"):
        _load(config_dir, tmp_path)


def test_an_unknown_setting_in_the_file_is_refused(config_dir, tmp_path):
    with (config_dir / "default.toml").open("a") as fh:
        fh.write("max_requets_bytes = 10\n")
    with pytest.raises(SettingsError, match="max_requets_bytes"):
        _load(config_dir, tmp_path)


def test_the_instance_path_comes_from_the_environment(config_dir, tmp_path):
    settings = _load(config_dir, tmp_path)
    assert settings.instance_path == tmp_path / "instance"
    assert str(tmp_path / "instance") in settings.database_url


def test_the_log_level_is_checked_at_start_up_and_any_case_will_do(tmp_path):
    with pytest.raises(SettingsError, match="RI_LOG_LEVEL must be one of"):
        Settings.load(env={"RI_LOG_LEVEL": "LOUD", "RI_INSTANCE_PATH": str(tmp_path)})
    settings = Settings.load(env={"RI_LOG_LEVEL": "warning", "RI_INSTANCE_PATH": str(tmp_path)})
    assert settings.log_level == "WARNING"
