"""Our vocabulary of needs and of who a service is for."""
from __future__ import annotations

NEEDS: dict[str, str] = {
    "visiting": "Prison visits",
    "keeping_in_touch": "Keeping in touch",
    "telling_children": "Telling the children",
    "children_wellbeing": "Children and young people",
    "school": "School",
    "kinship_care": "Grandparents and kinship carers",
    "money_benefits": "Money and benefits",
    "housing": "Housing",
    "emotional_support": "Someone to talk to and support groups",
    "mental_health": "Mental health",
    "substance_misuse": "Drugs and alcohol",
    "domestic_abuse": "Domestic abuse",
    "legal_advice": "Legal advice",
    "court_support": "Court",
    "release_resettlement": "Release and resettlement",
    "parenting": "Parenting",
    "professionals": "For professionals",
    "information_advice": "Information and advice",
}

ELIGIBILITY: dict[str, str] = {
    "families": "Families",
    "children_young_people": "Children and young people",
    "grandparents_kinship_carers": "Grandparents and kinship carers",
    "partners": "Partners",
    "parents": "Parents",
    "women": "Women",
    "men": "Men",
    "professionals": "Professionals",
    "people_in_prison": "People in prison",
    "people_leaving_prison": "People leaving prison",
}

# Who is asking (slot `audience`) -> the eligibility that suits them best.
AUDIENCE_ELIGIBILITY: dict[str, frozenset[str]] = {
    "family": frozenset({"families", "grandparents_kinship_carers", "partners", "parents", "women", "men"}),
    "young_person": frozenset({"children_young_people"}),
    "professional": frozenset({"professionals"}),
}
