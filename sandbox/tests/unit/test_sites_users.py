"""The sites file's `users`: Entra user accounts the emulator signs in with a password."""

import pytest

from sandbox import sites


def with_users(users):
    return {
        "workspace": {"name": "ws", "resource_group": "rg-ml", "location": "eastus"},
        "users": users,
        "sites": [{"name": "s1", "location": "eastus", "resource_group": "rg1", "nodes": [{"name": "n1"}]}],
    }


def test_users_default_to_contributor_without_mfa():
    parsed = sites.parse(with_users([{"name": "ops@contoso.onmicrosoft.com"}, {"name": "a@b.example", "mfa": True}]))
    assert [(u.name, u.rights, u.mfa) for u in parsed.users] == [
        ("ops@contoso.onmicrosoft.com", "contributor", False),
        ("a@b.example", "contributor", True),
    ]
    assert sites.parse(with_users(None)).users == []


@pytest.mark.parametrize(
    ("users", "message"),
    [
        ([{"name": "ops"}], "use a user principal name"),
        ([{"name": "a@b.example", "rights": "owner"}], "rights must be one of"),
        ([{"name": "a@b.example", "mfa": "yes"}], "mfa must be true or false"),
        ([{"name": "a@b.example", "password": "x"}], "unknown keys ['password']"),
        ([{"name": "a@b.example"}, {"name": "A@b.example"}], "listed twice"),
        ([{}], "user: missing name"),
    ],
)
def test_bad_users_are_refused_clearly(users, message):
    with pytest.raises(sites.SitesError) as caught:
        sites.parse(with_users(users))
    assert message in str(caught.value)
