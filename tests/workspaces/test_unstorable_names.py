"""A workspace name PostgreSQL cannot store is 400 `invalid name`, never a 500 (found probing the
fuzzer's string classes on PostgreSQL: `{"name": "a\\u0000b"}` answered 500)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from multica.extensions import db
from multica.workspaces.models import Workspace
from tests.conftest import create_user


@pytest.mark.parametrize("name", ["a\\u0000b", "\\ud800", "tab\\tin name", "bell\\u0007"])
def test_an_unstorable_name_is_refused_and_nothing_is_created(app, client, name):
    user = create_user(app)
    body = '{"name": "%s", "slug": "unstorable"}' % name
    response = client.post("/api/workspaces", data=body, content_type="application/json", headers=user.headers)
    assert response.status_code == 400
    assert response.json == {"error": "invalid name"}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Workspace)) == 0


def test_an_ordinary_unicode_name_is_still_fine(app, client):
    user = create_user(app)
    response = client.post("/api/workspaces", json={"name": "Équipe 東京", "slug": "equipe"}, headers=user.headers)
    assert response.status_code == 201
    assert response.json["name"] == "Équipe 東京"
