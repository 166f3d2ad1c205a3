"""Questions about a named prison, for every active prison in the register: the NLU place
pipeline (PlaceEntityExtractor, as built at training) finds the prison in the question, and
action_prison_info answers with its register address, its GOV.UK page and the family services
a real SQLite directory (the seed entries) lists there. Also action_refer_family, and the
risk_prisoner reply that names the prison's page."""
from __future__ import annotations

import asyncio
from pathlib import Path

from tests.support import directory_records as data
import pytest
import yaml
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa_sdk.executor import CollectingDispatcher

from actions.prisons import ActionPrisonInfo
from actions.directory import ActionReferFamily
from bot import db
from bot.directory import search
from bot.directory.seed import load_seed
from bot.geo import gazetteer
from bot.geo.pages import FIND_PRISON, gov_uk_page
from bot.nlp import places
from bot.nlp.components.entities import PlaceEntityExtractor

ROOT = Path(__file__).resolve().parents[2]
ACTIVE = sorted((p for p in gazetteer().prisons.values() if p.active), key=lambda p: p.id)
# The questions of issue 13 item 5 and the faults of item 7, each with a prison's name in it.
QUESTIONS = {
    "address": "what's the address of {name}",
    "address, text-speak": "wots the adress 4 {name}",
    "phone": "phone number for {name}",
    "visitors' centre": "is there a visitors' centre at {name}",
    "booking": "how do I book a visit to {name}",
    "visiting times": "what time are visits at {name}",
    "directions": "how do i get to {name}",
}
SLOT_ENTITIES = ("prison", "prison_address", "prison_page")  # the domain's from_entity slots


def training_texts() -> list[str]:
    texts = []
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        if path.name.startswith("lexicons_"):
            continue
        for block in yaml.safe_load(path.read_text()).get("nlu", []):
            if "intent" in block:
                texts += [line.strip()[2:] for line in block["examples"].splitlines() if line.strip()]
    return texts


@pytest.fixture(scope="module")
def extractor() -> PlaceEntityExtractor:
    """The place extractor as `rasa train` builds it (vocabulary from the training data)."""
    nlp = places.build_pipeline(gazetteer(), places.words_of(training_texts()))
    return PlaceEntityExtractor({}, None, None, nlp)


@pytest.fixture(scope="module")
def seeded_directory(tmp_path_factory):
    """A real SQLite directory with every seed entry, at the newest schema."""
    url = f"sqlite:///{tmp_path_factory.mktemp('directory') / 'seed.db'}"
    db.upgrade(url)
    with db.session_factory(url)() as s, s.begin():
        load_seed(s)
    yield url
    db.engine_for(url).dispose()
    db.engine_for.cache_clear()


def parse(extractor: PlaceEntityExtractor, text: str) -> list[dict]:
    (message,) = extractor.process([Message({TEXT: text})])
    return message.get(ENTITIES) or []


def ask(extractor, make_tracker, text, intent="ask_prison_info", slots=None):
    """The action's answer to `text`, with the slots Rasa fills from its entities."""
    entities = parse(extractor, text)
    filled = dict(slots or {})
    filled.update({e["entity"]: e["value"] for e in entities if e["entity"] in SLOT_ENTITIES})
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots=filled, intent=intent, entities=entities, text=text)
    events = asyncio.run(ActionPrisonInfo().run(dispatcher, tracker, {}))
    return dispatcher.messages, events


def responses(messages):
    return [m["response"] for m in messages]


@pytest.mark.parametrize("question", list(QUESTIONS), ids=list(QUESTIONS))
def test_every_prison_named_in_a_question_gets_its_address_page_and_services(
    question, extractor, seeded_directory, make_tracker, monkeypatch
):
    monkeypatch.setenv("DATABASE_URL", seeded_directory)
    with db.session_factory(seeded_directory)() as session:
        listed = {p.id: [f.id for f in search.services_at_prison(session, p.id)] for p in ACTIVE}
    wrong = []
    for prison in ACTIVE:
        text = QUESTIONS[question].format(name=prison.display_name)
        messages, events = ask(extractor, make_tracker, text)
        page = gov_uk_page(prison)
        got = responses(messages)
        expected = ["utter_prison_address", "utter_prison_page" if page != FIND_PRISON else "utter_prison_page_find"]
        if listed[prison.id]:
            expected += ["utter_prison_services"] + ["utter_directory_result"] * len(listed[prison.id])
        else:
            expected += ["utter_prison_no_services"]
        if (
            got != expected
            or messages[0].get("prison_address") != prison.address
            or messages[1].get("prison_page") != page
            or messages[0].get("prison") != prison.display_name
            or {e["name"]: e["value"] for e in events}.get("prison_page") != page
        ):
            wrong.append((text, got, messages[:2]))
    assert wrong == []


def test_the_seed_directory_has_family_services_at_some_prisons(seeded_directory, extractor, make_tracker, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", seeded_directory)
    messages, _ = ask(extractor, make_tracker, "is there a visitors centre at hmp durham")
    assert responses(messages)[:3] == ["utter_prison_address", "utter_prison_page", "utter_prison_services"]
    assert messages[0]["prison_address"] == "Old Elvet, Durham, DH1 3HU"
    assert messages[1]["prison_page"] == "https://www.gov.uk/guidance/durham-prison"
    assert any("centre at HMP Durham" in m.get("service_description", "") for m in messages)


@pytest.mark.parametrize(
    "text, prison",
    [
        ("wots the adress 4 hmp durham", "HMP Durham"),
        ("whats the phone number for strangeways", "HMP Manchester"),
        ("number for armley jail pls", "HMP Leeds"),
        ("address of the scrubs", "HMP Wormwood Scrubs"),
        ("what's the address of HMYOI Feltham", "HMYOI Feltham"),
        ("how do i get to oakhill stc", "Oakhill STC"),
    ],
)
def test_local_names_and_text_speak(text, prison, extractor, seeded_directory, make_tracker, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", seeded_directory)
    messages, _ = ask(extractor, make_tracker, text)
    assert messages[0]["response"] == "utter_prison_address" and messages[0]["prison"] == prison


def test_the_prison_we_were_told_about_before(extractor, seeded_directory, make_tracker, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", seeded_directory)
    messages, events = ask(extractor, make_tracker, "how do i book a visit", intent="ask_visit_booking", slots={"prison": "HMP Hull"})
    assert messages[0]["prison_address"] == gazetteer().find_prison("HMP Hull").address
    assert messages[1]["prison_page"] == "https://www.gov.uk/guidance/hull-prison"
    assert {e["name"]: e["value"] for e in events}["prison"] == "HMP Hull"


def test_getting_there_adds_help_with_the_fares(extractor, seeded_directory, make_tracker, monkeypatch):
    """"How far is it by bus?" after naming the prison (read in context by action_follow_up,
    which leaves the entity facet: travel): the address, the page, then who pays towards fares."""
    monkeypatch.setenv("DATABASE_URL", seeded_directory)
    facet = {"entity": "facet", "value": "travel", "start": 0, "end": 21}
    for slots, expected in (({"prison": "HMP Hull"}, ["utter_prison_address", "utter_prison_page", "utter_prison_travel_costs"]),
                            ({"prison": "HMP Barlinnie", "nation": "scotland"}, ["utter_noted_prison", "utter_prison_travel_costs"])):
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(slots=slots, intent="ask_prison_info", entities=[facet], text="how far is it by bus?")
        asyncio.run(ActionPrisonInfo().run(dispatcher, tracker, {}))
        assert responses(dispatcher.messages)[: len(expected)] == expected
    messages, _ = ask(extractor, make_tracker, "how far is it to hmp hull")  # no facet: no fares line
    assert "utter_prison_travel_costs" not in responses(messages)


def test_the_prison_named_now_wins_over_the_one_before(extractor, seeded_directory, make_tracker, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", seeded_directory)
    messages, _ = ask(extractor, make_tracker, "whats the address of hmp leeds", slots={"prison": "HMP Hull"})
    assert messages[0]["prison"] == "HMP Leeds"


def test_no_prison_known_asks_which(extractor, seeded_directory, make_tracker, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", seeded_directory)
    messages, events = ask(extractor, make_tracker, "whats the address of the prison")
    assert responses(messages) == ["utter_ask_which_prison"] and events == []


def test_without_the_directory_the_address_and_page_are_still_given(extractor, make_tracker, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'missing' / 'nowhere.db'}")  # cannot be opened
    messages, _ = ask(extractor, make_tracker, "phone number for hmp durham")
    assert responses(messages) == ["utter_prison_address", "utter_prison_page", "utter_prison_no_services"]


# --- a worry about someone inside names the prison's page (domain.yml utter_risk_prisoner) -------
def risk_reply(slots: dict) -> str:
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator

    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    nlg = TemplatedNaturalLanguageGenerator(domain["responses"])
    filled = {"prison": None, "prison_page": None, "helpline_phone": "0808 808 2003", **slots}
    return nlg.generate_from_slots("utter_risk_prisoner", filled, "rest")["text"]


def test_a_worry_about_someone_in_a_named_prison_names_its_page(extractor):
    slots = {e["entity"]: e["value"] for e in parse(extractor, "im scared hell hurt himself in hmp durham")}
    text = risk_reply({k: slots[k] for k in ("prison", "prison_page")})
    assert "HMP Durham" in text and "https://www.gov.uk/guidance/durham-prison" in text
    assert "Safer Custody" in text and "leave a message" in text and "main number" in text


def test_a_worry_about_someone_where_the_page_is_not_known_points_to_find_a_prison(extractor):
    slots = {e["entity"]: e["value"] for e in parse(extractor, "im worried about my son in hmyoi feltham")}
    text = risk_reply({k: slots[k] for k in ("prison", "prison_page")})
    assert "HMYOI Feltham" in text and "Find a prison" in text and FIND_PRISON in text and "main number" in text


def test_a_worry_with_no_prison_known_gets_the_general_safer_custody_reply():
    text = risk_reply({})
    assert "Safer Custody" in text and "None" not in text and "gov.uk" not in text


# --- professionals: where to refer a family (action_refer_family) --------------------------------
@pytest.fixture
def directory(session_for, database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    with session_for() as s, s.begin():
        data.load(s)


def test_a_professional_gets_local_services_then_where_to_go_if_a_child_is_at_risk(directory, make_tracker, dispatcher):
    tracker = make_tracker(
        slots={"area": "Stockton-on-Tees", "audience": "professional"}, intent="ask_find_service",
        text="I'm a social worker in Stockton, where can I refer a family with a dad in prison?",
        entities=[{"entity": "area", "value": "Stockton-on-Tees"}, {"entity": "audience", "value": "professional"}],
    )
    asyncio.run(ActionReferFamily().run(dispatcher, tracker, {}))
    got = responses(dispatcher.messages)
    assert got[0] == "utter_directory_local" and "utter_directory_result" in got
    names = [m["service_name"] for m in dispatcher.messages if m["response"] == "utter_directory_result"]
    local_for_families = {"Org stockton-kinship: Service stockton-kinship", "Org stockton-housing: Service stockton-housing"}
    assert set(names[:2]) == local_for_families  # the family's local services first
    assert "Org stockton-training: Service stockton-training" not in names  # not training for professionals
    assert got[-1] == "utter_refer_family_safeguarding"
    assert got.index("utter_refer_family_safeguarding") > max(i for i, r in enumerate(got) if r == "utter_directory_result")


def test_a_professional_with_no_place_yet_is_asked_for_one_without_the_safeguarding_line(directory, make_tracker, dispatcher):
    tracker = make_tracker(slots={"audience": "professional"}, intent="ask_find_service", text="where can i refer a family")
    asyncio.run(ActionReferFamily().run(dispatcher, tracker, {}))
    assert responses(dispatcher.messages) == ["utter_ask_directory_area"]


def test_a_scottish_or_northern_irish_prison_gets_its_own_service_not_a_gov_uk_page(
    extractor, seeded_directory, make_tracker, monkeypatch
):
    monkeypatch.setenv("DATABASE_URL", seeded_directory)
    for text, nation in (("whats the address of hmp barlinnie", "scotland"), ("phone number for maghaberry prison", "northern_ireland")):
        messages, events = ask(extractor, make_tracker, text)
        assert responses(messages) == ["utter_noted_prison"], text
        assert {e["name"]: e["value"] for e in events}.get("nation") == nation
        prison = gazetteer().find_prison(messages[0]["prison"])
        assert gov_uk_page(prison) is None and not any("gov.uk" in str(m) for m in messages)
