"""Typed settings: unknown keys and mistyped values are refused at start; the result is frozen."""

from __future__ import annotations

import dataclasses
import shutil
import sys
import tomllib

import pytest
from click.testing import CliRunner
from flask.cli import FlaskGroup

from idp import create_app, settings
from idp.commands.keys import keys_cli
from idp.settings import SettingsError

from .factories import PRODUCTION_ADAPTERS, PRODUCTION_HASH_KEY, PRODUCTION_SECRET_KEY


@pytest.fixture
def start(tmp_path, session_keys):
    """Create an app from the environment and an optional mapping, outside the test DB."""

    keys = tmp_path / "keys"
    shutil.copytree(session_keys, keys)

    def factory(**config):
        return create_app({"ENV": "testing", "KEYS_DIR": str(keys),
                           "INSTANCE_PATH": str(tmp_path / "i"), **config})

    return factory


def refusal(excinfo) -> str:
    message = str(excinfo.value)
    assert message.startswith("idp: refusing to start: ") and "\n" not in message
    return message


def test_settings_are_typed_and_match_app_config(app):
    """Each setting is a typed field of the app's Settings; app.config holds the same."""
    current = settings.current()
    assert isinstance(current, settings.Settings) and current is app.extensions["idp.settings"]
    assert current.otp_ttl == app.config["OTP_TTL"] == 120
    assert current.issuer == app.config["ISSUER"] == "http://localhost"
    assert current.keys_dir == app.config["KEYS_DIR"]
    assert current.sso_cookie_name == app.config["SSO_COOKIE_NAME"] == "idp_session"
    assert current.secret_key_fallbacks == () and app.config["SECRET_KEY_FALLBACKS"] == []
    assert set(settings.DEFAULTS) == {f.name.upper() for f in dataclasses.fields(current)}


def test_settings_are_frozen(app):
    """The settings cannot be changed once the app has started."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.current().otp_ttl = 1


def test_secrets_stay_out_of_the_repr(app):
    """A logged or printed Settings never shows a secret."""
    text = repr(settings.current())
    assert app.config["SECRET_KEY"] not in text and "secret_key=" not in text
    assert "otp_ttl=120" in text


def test_unknown_toml_key_is_refused_with_the_nearest_name(start, tmp_path, monkeypatch):
    """A misspelt key in the TOML file stops the start and names the setting meant."""
    config_file = tmp_path / "typo.toml"
    config_file.write_text('ISSUER = "http://127.0.0.1:5000"\nOTP_TTLL = 90\n')
    monkeypatch.setenv("IDP_CONFIG", str(config_file))
    with pytest.raises(SettingsError) as excinfo:
        start()
    assert refusal(excinfo).endswith(
        f"unknown setting OTP_TTLL in {config_file}; did you mean OTP_TTL?")


def test_lowercase_toml_key_is_refused(start, tmp_path, monkeypatch):
    """Flask used to skip lowercase keys silently; now they are named."""
    config_file = tmp_path / "lower.toml"
    config_file.write_text("otp_ttl = 90\n")
    monkeypatch.setenv("IDP_CONFIG", str(config_file))
    with pytest.raises(SettingsError) as excinfo:
        start()
    assert refusal(excinfo).endswith("did you mean OTP_TTL?")


def test_unknown_environment_variable_is_refused_with_the_nearest_name(start, monkeypatch):
    """A misspelt IDP_ variable stops the start and names the variable meant."""
    monkeypatch.setenv("IDP_SMS_BAKEND", "http")
    with pytest.raises(SettingsError) as excinfo:
        start()
    assert refusal(excinfo).endswith(
        "unknown setting IDP_SMS_BAKEND in the environment; did you mean IDP_SMS_BACKEND?")


def test_unknown_variable_without_a_near_name_points_to_the_readme(start, monkeypatch):
    monkeypatch.setenv("IDP_XYZZY", "1")
    with pytest.raises(SettingsError) as excinfo:
        start()
    assert "IDP_XYZZY" in refusal(excinfo) and "README.md" in str(excinfo.value)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("IDP_OTP_TTL", "abc", "IDP_OTP_TTL must be an integer, not 'abc'"),
        ("IDP_OTP_TTL", "1.5", "IDP_OTP_TTL must be an integer, not 1.5"),
        ("IDP_DCR_ENABLED", "yes", "IDP_DCR_ENABLED must be true or false, not 'yes'"),
        ("IDP_SMS_HTTP_TIMEOUT", "soon", "IDP_SMS_HTTP_TIMEOUT must be a number, not 'soon'"),
        ("IDP_SMS_HTTP_TEMPLATES", "[1]",
         "IDP_SMS_HTTP_TEMPLATES must be a table (JSON object), not [1]"),
        ("IDP_SECRET_KEY_FALLBACKS", "old",
         "IDP_SECRET_KEY_FALLBACKS must be a list of strings, not 'old'"),
    ],
)
def test_mistyped_environment_value_is_refused(start, monkeypatch, variable, value, expected):
    """A value that does not have the setting's type stops the start."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as excinfo:
        start()
    assert refusal(excinfo).endswith(expected)


def test_mistyped_toml_and_mapping_values_are_refused(start, tmp_path, monkeypatch):
    """The type check applies to the TOML file and to the mapping too."""
    config_file = tmp_path / "typed.toml"
    config_file.write_text('OTP_MAX_ATTEMPTS = "five"\n')
    monkeypatch.setenv("IDP_CONFIG", str(config_file))
    with pytest.raises(SettingsError) as excinfo:
        start()
    assert refusal(excinfo).endswith(
        f"OTP_MAX_ATTEMPTS in {config_file} must be an integer, not 'five'")
    monkeypatch.delenv("IDP_CONFIG")
    with pytest.raises(SettingsError) as excinfo:
        start(RATELIMIT_ENABLED="no")
    assert refusal(excinfo).endswith(
        "RATELIMIT_ENABLED given to create_app must be true or false, not 'no'")


def test_environment_values_take_the_setting_type(start, monkeypatch):
    """Strings stay text even when they look like JSON; other settings are JSON."""
    monkeypatch.setenv("IDP_SMS_HTTP_SUCCESS_VALUE", "200")
    monkeypatch.setenv("IDP_OTP_TTL", "90")
    monkeypatch.setenv("IDP_IDENTITY_HTTP_TIMEOUT", "4")
    monkeypatch.setenv("IDP_SECRET_KEY_FALLBACKS", '["old-key"]')
    monkeypatch.setenv("IDP_DCR_ENABLED", "true")
    app = start()
    current = settings.of(app)
    assert current.sms_http_success_value == "200" and current.otp_ttl == 90
    assert current.identity_http_timeout == 4.0 and isinstance(current.identity_http_timeout,
                                                               float)
    assert current.secret_key_fallbacks == ("old-key",)
    assert app.config["SECRET_KEY_FALLBACKS"] == ["old-key"] and current.dcr_enabled is True


def test_documented_framework_keys_are_accepted(start, tmp_path, monkeypatch):
    """The Flask/extension keys listed in FRAMEWORK_KEYS pass to app.config."""
    config_file = tmp_path / "framework.toml"
    config_file.write_text("MAX_CONTENT_LENGTH = 1000000\n")
    monkeypatch.setenv("IDP_CONFIG", str(config_file))
    monkeypatch.setenv("IDP_SQLALCHEMY_ENGINE_OPTIONS", '{"pool_recycle": 300}')
    app = start()
    assert app.config["MAX_CONTENT_LENGTH"] == 1000000
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_recycle": 300}
    assert settings.FRAMEWORK_KEYS.isdisjoint(settings.DEFAULTS)


def test_every_framework_key_is_documented_in_readme():
    """README's configuration section names each accepted framework key."""
    readme = (settings.PROJECT_ROOT / "README.md").read_text()
    assert [key for key in settings.FRAMEWORK_KEYS if f"`{key}`" not in readme] == []


@pytest.fixture
def production_without_keys(tmp_path, monkeypatch):
    """Production settings in the environment, as an operator sets them; no keys yet."""
    # What the flask command changes in the process, undone after the test.
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name, value in {"ENV": "production", "SECRET_KEY": PRODUCTION_SECRET_KEY,
                        "HASH_KEY": PRODUCTION_HASH_KEY, **PRODUCTION_ADAPTERS,
                        "KEYS_DIR": str(tmp_path / "keys"),
                        "INSTANCE_PATH": str(tmp_path / "i")}.items():
        monkeypatch.setenv(f"IDP_{name}", value)
    return tmp_path / "keys"


def test_keys_command_makes_the_first_production_keys(production_without_keys):
    """``flask --app idp keys rotate`` runs before any key exists; then production starts."""
    with pytest.raises(SettingsError, match="no signing keys"):
        create_app()
    cli = FlaskGroup(load_dotenv=False)
    cli.add_command(keys_cli)  # what the flask.commands entry point does for `flask`
    result = CliRunner().invoke(cli, ["--app", "idp", "keys", "rotate", "--delay", "0"])
    assert result.exit_code == 0, result.output
    assert result.output.count("added ") == 2
    assert len(list(production_without_keys.glob("*.pem"))) == 2
    assert create_app().extensions["idp.keys"].has_keys()


def test_other_commands_still_refuse_production_without_keys(production_without_keys):
    """Loaded the usual way (any other command), the app refuses to start without keys."""
    result = CliRunner().invoke(FlaskGroup(load_dotenv=False), ["--app", "idp", "db", "current"])
    assert result.exit_code == 1
    assert "idp: refusing to start: no signing keys" in result.output
    assert not production_without_keys.exists() or not any(production_without_keys.iterdir())


def test_keys_group_is_a_flask_commands_plugin():
    """pyproject.toml registers the keys group where `flask` looks before loading an app."""
    with (settings.PROJECT_ROOT / "pyproject.toml").open("rb") as f:
        project = tomllib.load(f)["project"]
    assert project["entry-points"]["flask.commands"] == {
        "keys": "idp.commands.keys:keys_cli"}

