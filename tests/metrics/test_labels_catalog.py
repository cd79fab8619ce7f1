"""Every enumeration has one owner, the event catalog; services, pages and label normalisers follow it."""

from __future__ import annotations

import pytest

from multica.agents.service import TEMPLATE_CHOICES
from multica.analytics import catalog, events
from multica.metrics.labels import NORMALIZERS, ONBOARDING_PATHS
from multica.onboarding.service import SLOTS

# SPEC §7 sends `workspace_created`/`agent_created` `source` through the task-source normaliser,
# whose allow-list (§6.4) is the task sources: `onboarding` is bucketed to `other` on purpose.
_DELIBERATELY_NARROWER = {"task_source"}


def _enum_labels():
    for spec in catalog.CATALOG.values():
        if spec.metric is None:
            continue
        for label in spec.metric.labels:
            prop = spec.props.get(label.prop)
            if prop is not None and prop.allowed and label.normalizer not in _DELIBERATELY_NARROWER:
                yield pytest.param(label.normalizer, prop.allowed, id=f"{spec.name}.{label.prop}")


@pytest.mark.parametrize(("normalizer", "allowed"), list(_enum_labels()))
def test_every_catalog_value_of_a_labelled_enum_survives_its_normaliser(normalizer, allowed):
    normalise = NORMALIZERS[normalizer]
    assert [normalise(value) for value in allowed] == list(allowed)
    assert normalise("not-a-value-anywhere") != "not-a-value-anywhere"


def test_the_onboarding_path_allow_list_is_the_catalog_s():
    assert ONBOARDING_PATHS == catalog.COMPLETION_PATHS
    assert set(events.COMPLETION_PATHS) == set(catalog.COMPLETION_PATHS) - {"unknown"}


def test_questionnaire_slots_are_the_catalog_s():
    assert SLOTS == {"team_size": catalog.TEAM_SIZES, "role": catalog.ROLES, "use_case": catalog.USE_CASES}
    spec = catalog.CATALOG["onboarding_questionnaire_submitted"]
    for slot, allowed in SLOTS.items():
        assert spec.props[slot].allowed == allowed


def test_the_template_picker_offers_exactly_the_catalog_s_templates():
    assert tuple(slug for slug, _title, _description in TEMPLATE_CHOICES) == catalog.AGENT_TEMPLATES
    assert catalog.CATALOG["agent_created"].props["template"].allowed == (*catalog.AGENT_TEMPLATES, "")


def test_the_task_source_normaliser_buckets_the_event_only_sources_as_the_spec_says():
    normalise = NORMALIZERS["task_source"]
    assert {value: normalise(value) for value in catalog.CORE_SOURCES} == {
        "onboarding": "other", "manual": "manual", "chat": "chat", "autopilot": "autopilot", "api": "api",
    }
