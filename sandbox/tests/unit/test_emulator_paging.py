"""Collection GETs in pages, as ARM pages them: `value`, an absolute `nextLink` with `$skiptoken`, ids in order."""

from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest

from sandbox.emulator import resources
from sandbox.emulator.arm import ArmError

BASE = "https://127.0.0.1:8443"
COLLECTION = "/subscriptions/sub/resourceGroups/rg-1/providers/Microsoft.Kubernetes/connectedClusters"


def request(page_size, token=None):
    query = {} if token is None else {"$skiptoken": token}
    return SimpleNamespace(
        query=query.get,
        request=SimpleNamespace(raw_path=COLLECTION + "?api-version=2026-05-01"),
        api_version="2026-05-01",
        ctx=SimpleNamespace(base_url=BASE, store=SimpleNamespace(settings={"list_page_size": page_size})),
    )


def clusters(*names):
    return [{"id": f"{COLLECTION}/{name}", "name": name} for name in names]


def names(page):
    return [item["name"] for item in page["value"]]


def token_of(next_link):
    return parse_qs(urlsplit(next_link).query)["$skiptoken"][0]


def test_without_a_page_size_every_item_is_on_one_page_in_id_order():
    page = resources.page(request(0), clusters("c", "a", "b"))
    assert page == {"value": clusters("a", "b", "c")}


def test_pages_follow_one_another_until_no_next_link():
    items = clusters("e", "d", "c", "b", "a")
    first = resources.page(request(2), items)
    assert names(first) == ["a", "b"]
    link = urlsplit(first["nextLink"])
    assert f"{link.scheme}://{link.netloc}{link.path}" == BASE + COLLECTION
    assert parse_qs(link.query)["api-version"] == ["2026-05-01"]
    second = resources.page(request(2, token_of(first["nextLink"])), items)
    assert names(second) == ["c", "d"]
    third = resources.page(request(2, token_of(second["nextLink"])), items)
    assert third == {"value": clusters("e")}


def test_a_page_as_large_as_what_is_left_is_the_last_one():
    assert "nextLink" not in resources.page(request(2), clusters("a", "b"))


def test_an_item_created_between_pages_neither_repeats_nor_hides_another():
    first = resources.page(request(2), clusters("b", "d", "f"))
    later = resources.page(request(2, token_of(first["nextLink"])), clusters("a", "b", "d", "e", "f"))
    assert names(later) == ["e", "f"]


@pytest.mark.parametrize("token", ["!!!", "bm90LWFuLWlk", ""])
def test_a_token_the_emulator_did_not_issue_is_a_400(token):
    with pytest.raises(ArmError) as raised:
        resources.page(request(2, token), clusters("a"))
    assert raised.value.status == 400 and raised.value.code == "InvalidSkipToken"
