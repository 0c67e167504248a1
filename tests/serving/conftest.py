"""Serving fixtures: a small digits classifier and a small table model (FeatureSpace first, labels "no"/"yes"), each
saved with reference statistics, and test clients for their apps."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("orjson")
pytest.importorskip("prometheus_client")

from serving_helpers import TestClient, train_digits_model, train_table_model  # noqa: E402


@pytest.fixture(scope="session")
def digits_model_file(tmp_path_factory) -> Path:
    return train_digits_model(tmp_path_factory.mktemp("models") / "digits.llm")


@pytest.fixture(scope="session")
def table_model_file(tmp_path_factory) -> Path:
    return train_table_model(tmp_path_factory.mktemp("models") / "table.llm")


@pytest.fixture
def model_file(digits_model_file, tmp_path) -> Path:
    """A private copy of the digits model (tests may overwrite it)."""
    path = tmp_path / "digits.llm"
    path.write_bytes(digits_model_file.read_bytes())
    return path


@pytest.fixture
def make_client(model_file, tmp_path):
    """make_client(**create_app kwargs) -> a started TestClient (lifespan run) serving the model as 'digits'."""
    from learnloop.serving.app import create_app

    clients = []

    def make(**kwargs) -> TestClient:
        kwargs.setdefault("log_db", tmp_path / "predictions.sqlite")
        kwargs.setdefault("watch_interval", 0)
        app = create_app({"digits": model_file}, **kwargs)
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


@pytest.fixture
def make_table_client(table_model_file, tmp_path):
    """make_table_client(**create_app kwargs) -> a started TestClient serving the table model as 'table'."""
    from learnloop.serving.app import create_app

    clients = []

    def make(models: dict | None = None, **kwargs) -> TestClient:
        kwargs.setdefault("log_db", tmp_path / "predictions.sqlite")
        kwargs.setdefault("watch_interval", 0)
        client = TestClient(create_app(models or {"table": table_model_file}, **kwargs))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
