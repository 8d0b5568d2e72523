"""Errors and help are tied to their fields: the ids that Django's widgets name in aria-describedby exist."""

import re

import pytest


@pytest.mark.django_db
def test_a_fields_error_and_help_are_read_with_it(client):
    page = client.post("/accounts/signup/", {"email": "not an address", "password1": "x", "password2": "y"})
    html = page.content.decode()
    described = re.search(r'<input[^>]*name="email"[^>]*aria-describedby="([^"]+)"', html)
    assert described and "_error" in described.group(1)
    for target in described.group(1).split():
        assert f'id="{target}"' in html, target
    assert 'aria-invalid="true"' in html
