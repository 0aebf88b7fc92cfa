"""ARM front-door logic of the emulator: routing, api-version checks."""

import pytest

from sandbox.emulator.arm import ArmError, Router, check_api_version, collapse_slashes, compile_template


async def handler(req):  # pragma: no cover - never called
    return None


def router() -> Router:
    r = Router()
    r.add("GET", "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}", handler)
    r.add(("PUT", "DELETE"), "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}", handler)
    r.add("GET", "/v2/{name:.+}/manifests/{reference}", handler)
    return r


def test_templates_match_case_insensitively_and_capture_parameters():
    regex = compile_template(
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Kubernetes/connectedClusters/{name}"
    )
    m = regex.match("/SUBSCRIPTIONS/s1/resourcegroups/Rg-1/providers/microsoft.kubernetes/ConnectedClusters/c1/")
    assert m and m.groupdict() == {"sub": "s1", "rg": "Rg-1", "name": "c1"}
    assert not regex.match("/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters")


def test_parameters_with_a_pattern_span_slashes():
    params = router().match("GET", "/v2/azurearck8s/stable/v2/azure-arc-k8sagents/manifests/1.26.0")[1]
    assert params == {"name": "azurearck8s/stable/v2/azure-arc-k8sagents", "reference": "1.26.0"}


def test_head_is_served_by_a_get_route():
    route = router().match("HEAD", "/subscriptions/s/resourceGroups/rg")[0]
    assert "GET" in route.methods


def test_a_known_path_with_another_method_is_405_and_unknown_types_are_404():
    with pytest.raises(ArmError) as err:
        router().match("PATCH", "/subscriptions/s/resourceGroups/rg")
    assert err.value.status == 405 and err.value.headers["Allow"] == "DELETE, GET, PUT"
    with pytest.raises(ArmError) as err:
        router().match("GET", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Foo/bars/b")
    assert (err.value.status, err.value.code) == (404, "InvalidResourceType")


@pytest.mark.parametrize("value", ["2024-01-01", "2024-07-01-preview", "2025-12-01-PREVIEW"])
def test_well_formed_api_versions_pass_when_any_is_accepted(value):
    check_api_version(value, None)


@pytest.mark.parametrize(
    ("value", "supported", "code"),
    [
        (None, None, "MissingApiVersionParameter"),
        ("", ("2024-01-01", "2026-05-01"), "MissingApiVersionParameter"),
        ("latest", None, "InvalidApiVersionParameter"),
        ("2099-01-01", ("2024-01-01", "2026-05-01"), "InvalidApiVersionParameter"),
    ],
)
def test_bad_api_versions_are_rejected_with_arm_codes(value, supported, code):
    with pytest.raises(ArmError) as err:
        check_api_version(value, supported)
    assert (err.value.status, err.value.code) == (400, code)
    if code == "InvalidApiVersionParameter" and supported:
        assert "2026-05-01" in err.value.message


def test_an_api_version_is_compared_case_insensitively():
    check_api_version("2024-07-01-PREVIEW", ("2024-07-01-preview",))


def test_duplicate_slashes_collapse():
    assert collapse_slashes("//subscriptions//s/") == "/subscriptions/s/"


def test_the_error_envelope():
    response = ArmError(404, "ResourceNotFound", "gone", headers={"X-Test": "1"}).response()
    assert response.status == 404 and response.headers["X-Test"] == "1"
    assert response.content_type == "application/json"
    assert response.body == b'{"error": {"code": "ResourceNotFound", "message": "gone"}}'
