"""Who is asking, the stage, and children's ages."""
from __future__ import annotations

import pytest

from bot.nlp.profile import age_group, find_profile


def facts(text):
    return {(m.entity, m.value) for m in find_profile(text)}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my husband got arrested last night", {("relationship", "partner"), ("stage", "arrested")}),
        ("im his mum", {("relationship", "parent")}),
        ("I'm his nan and i look after the kids", {("relationship", "grandparent")}),
        ("my dad is in prison", {("relationship", "child")}),
        ("the kids dad got sent down", {("relationship", "partner"), ("stage", "sentenced")}),
        ("my brother got arrested", {("relationship", "sibling"), ("stage", "arrested")}),
        ("im a teacher, one of my pupils has a dad in prison", {("profession", "teacher")}),
        ("social worker here", {("profession", "social_worker")}),
        ("im a health visitor", {("profession", "health")}),
        ("he's on remand", {("stage", "remand")}),
        ("he got 3 years", {("stage", "sentenced")}),
        ("on bail", {("stage", "court")}),
        ("hes getting out on tag next week", {("stage", "release_due")}),
        ("hes on tag", {("stage", "released")}),
        ("he was arrested then sentenced to 4 years and hes out soon", {("stage", "release_due")}),
        ("my kids are 3 and 9", {("child_age", "3"), ("child_age", "9")}),
        ("she's 6 years old and he got 2 years", {("child_age", "6"), ("stage", "sentenced")}),
        ("how do i tell my teenager", {("child_age", "14")}),
        ("im 14 and my dad is inside", {("relationship", "child"), ("audience", "young_person")}),
        ("family member", {("audience", "family")}),
        ("14", {("number", "14")}),
        ("six", {("number", "6")}),
    ],
)
def test_profile(text, expected):
    assert facts(text) == expected


@pytest.mark.parametrize(
    "text",
    ["my mum is looking after the kids", "how do i tell my kids their dad is in prison", "can i visit on sunday"],
)
def test_no_relationship_without_a_link_to_custody(text):
    assert not {f for f in facts(text) if f[0] == "relationship"}


def test_age_groups():
    assert [age_group(a) for a in (0, 4, 5, 11, 12, 17)] == ["under_5", "under_5", "5_to_11", "5_to_11", "12_plus", "12_plus"]
