"""The tag set to send: merged by default, replaced on request, names without case, nothing when nothing differs."""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._azure.tags import TagsError, desired_tags

POLICY = {"env": "prod", "CostCenter": "4711"}  # what Azure Policy or a person put on the resource


@pytest.mark.parametrize("append", [True, False])
def test_no_requested_tags_leaves_the_tags_alone(append):
    assert desired_tags(POLICY, None, append) == (POLICY, False)


def test_merging_nothing_is_no_change():
    assert desired_tags(POLICY, {}, append=True) == (POLICY, False)


def test_merging_keeps_the_tags_others_added():
    tags, changed = desired_tags(POLICY, {"site": "one"})
    assert tags == {"env": "prod", "CostCenter": "4711", "site": "one"}
    assert changed is True


def test_merging_tags_that_are_already_there_is_no_change():
    assert desired_tags(POLICY, {"env": "prod"}) == (POLICY, False)


def test_replacing_with_nothing_removes_every_tag():
    assert desired_tags(POLICY, {}, append=False) == ({}, True)


def test_replacing_keeps_only_the_requested_tags():
    assert desired_tags(POLICY, {"site": "one", "env": "prod"}, append=False) == ({"env": "prod", "site": "one"}, True)


def test_replacing_with_the_same_set_is_no_change():
    assert desired_tags(POLICY, dict(POLICY), append=False) == (POLICY, False)


@pytest.mark.parametrize("append", [True, False])
def test_a_name_in_another_case_updates_the_existing_tag_which_keeps_its_spelling(append):
    tags, changed = desired_tags(POLICY, {"Env": "test", "costcenter": "4711"}, append)
    assert tags == {"env": "test", "CostCenter": "4711"}
    assert changed is True


def test_a_name_in_another_case_with_the_same_value_is_no_change():
    assert desired_tags(POLICY, {"ENV": "prod"}) == (POLICY, False)
    assert desired_tags(POLICY, {"ENV": "prod", "costcenter": "4711"}, append=False) == (POLICY, False)


def test_values_are_compared_with_case():
    assert desired_tags(POLICY, {"env": "Prod"}) == ({"env": "Prod", "CostCenter": "4711"}, True)


def test_values_are_sent_as_strings():
    assert desired_tags({}, {"n": 1, "b": True, "none": None}) == ({"n": "1", "b": "True", "none": ""}, True)
    assert desired_tags({"n": "1"}, {"n": 1}) == ({"n": "1"}, False)


def test_no_current_tags_is_an_empty_set():
    assert desired_tags(None, {}) == ({}, False)
    assert desired_tags(None, {"a": "b"}, append=False) == ({"a": "b"}, True)


def test_two_names_azure_takes_as_one_are_refused():
    with pytest.raises(TagsError) as raised:
        desired_tags(POLICY, {"Env": "a", "env": "b"})
    assert "'Env' and 'env'" in raised.value.message and "\n" not in raised.value.message


def test_the_inputs_are_not_changed():
    current, requested = dict(POLICY), {"env": "x"}
    desired_tags(current, requested, append=False)
    assert current == POLICY and requested == {"env": "x"}
