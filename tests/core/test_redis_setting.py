"""`redis_url`: read like every setting, checked, and what the services build from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.blobs import FileSystemBlobStore
from core.config import ConfigError, load_config
from core.intake.session_store import DatabaseSubmitterSessions, RedisSubmitterSessions
from core.keyring import Keyring
from core.operations.throttle import DatabaseThrottle, RedisThrottle
from core.services import Services


def test_redis_url_comes_from_the_environment_or_the_config_file(tmp_path: Path) -> None:
    assert load_config({}, data_dir=tmp_path).redis_url is None
    url = "redis://127.0.0.1:6379/3"
    assert load_config({"CANDOR_REDIS_URL": url}, data_dir=tmp_path).redis_url == url
    (tmp_path / "candor.toml").write_text('redis_url = "rediss://cache.internal:6380/0"\n')
    assert load_config({}, data_dir=tmp_path).redis_url == "rediss://cache.internal:6380/0"
    # Empty means none (an environment variable that is set but blank).
    assert load_config({"CANDOR_REDIS_URL": " "}, data_dir=tmp_path).redis_url is None


def test_a_redis_url_of_another_scheme_is_refused_without_repeating_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config({"CANDOR_REDIS_URL": "http://:s3cret@cache:6379/0"}, data_dir=tmp_path)
    assert "redis_url" in str(refused.value)
    assert "s3cret" not in str(refused.value)


@pytest.mark.parametrize("url", [None, "redis://127.0.0.1:6379/0"])
def test_the_services_keep_budgets_and_sessions_where_the_setting_says(
    tmp_path: Path, url: str | None,
) -> None:
    config = load_config({}, data_dir=tmp_path, redis_url=url)
    services = Services(config=config, keyring=Keyring.generate(),
                        blobs=FileSystemBlobStore(config.blob_dir))
    if url is None:
        assert services.redis is None
        assert isinstance(services.throttle, DatabaseThrottle)
        assert isinstance(services.submitter_sessions, DatabaseSubmitterSessions)
        return
    assert services.redis is not None  # not connected yet: a client connects on first use
    assert isinstance(services.throttle, RedisThrottle)
    assert isinstance(services.submitter_sessions, RedisSubmitterSessions)
    assert services.throttle is services.throttle  # built once per process
    services.redis.close()
