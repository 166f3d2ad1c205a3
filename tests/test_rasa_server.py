"""bot/rasa_server.py: the `rasa run` command line every run uses: the API always on and
behind JWTs, never --auth-token, localhost unless RASA_INTERFACE, CORS never "*"."""
from __future__ import annotations

from dataclasses import replace

import pytest

from bot.rasa_server import rasa_argv
from bot.settings import Settings


@pytest.fixture
def settings(tmp_path) -> Settings:
    return replace(Settings.from_env(), var_dir=tmp_path, rasa_auth_token=None, cors_origins="", rasa_interface="127.0.0.1", webchat_port=8080)


def test_the_api_is_always_on_behind_a_jwt_and_local(settings):
    argv = rasa_argv(["--model", "m.tar.gz", "--port", "5005"], settings)
    assert argv[:2] == ["rasa", "run"] and "--enable-api" in argv
    secret = next(a for a in argv if a.startswith("--jwt-secret=")).split("=", 1)[1]
    assert secret == (settings.var_dir / "rasa_api.secret").read_text().strip() and len(secret) >= 32  # generated into var/
    assert argv[argv.index("--jwt-method") + 1] == "HS256"
    assert argv[argv.index("--interface") + 1] == "127.0.0.1"
    assert argv[argv.index("--cors") + 1:] == ["http://localhost:8080", "http://127.0.0.1:8080"]
    assert "--auth-token" not in argv and "-t" not in argv


def test_settings_choose_the_interface_and_origins(settings):
    argv = rasa_argv([], replace(settings, rasa_interface="10.0.0.5", cors_origins="https://chat.example.org/", rasa_auth_token="k" * 40))
    assert argv[argv.index("--interface") + 1] == "10.0.0.5"
    assert f"--jwt-secret={'k' * 40}" in argv
    assert argv[argv.index("--cors") + 1:] == ["https://chat.example.org"]


def test_a_key_that_starts_with_a_dash_reaches_rasa_as_the_key(settings):
    from rasa.cli.arguments.run import add_server_arguments
    import argparse

    argv = rasa_argv([], replace(settings, rasa_auth_token="-za92Vvn5mYkxgefxwSbF_ySpGBiE3pOK3gdGmEleVE"))
    parser = argparse.ArgumentParser()
    add_server_arguments(parser)
    parsed, _ = parser.parse_known_args(argv[2:])
    assert parsed.jwt_secret == "-za92Vvn5mYkxgefxwSbF_ySpGBiE3pOK3gdGmEleVE"


@pytest.mark.parametrize("args", [["--auth-token", "x"], ["-t", "x"], ["--cors", "*"], ["--jwt-secret=x"], ["--enable-api"]])
def test_what_the_settings_decide_cannot_be_overridden(settings, args):
    with pytest.raises(ValueError):
        rasa_argv(args, settings)


def test_a_wildcard_origin_is_refused(settings):
    with pytest.raises(ValueError):
        rasa_argv([], replace(settings, cors_origins="*"))
