"""The safety net tells a death in custody apart from a risk to someone still alive inside."""
from __future__ import annotations

import pytest
from tests.support.nlu_examples import examples
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlp.components.guards import SafetyNetClassifier
from bot.nlp.safety import DEATH_IN_CUSTODY, safety_intent


@pytest.mark.parametrize(
    "text",
    [
        "My son died in prison last night",
        "he took his own life in his cell",
        "the prison rang, my husband has passed away",
        "he was found dead in his cell this morning",
        "my brother killed himself in HMP Durham",
        "my boyfriend hanged himself on remand",
        "my cousin died on remand in hmp leeds",
        "she was killed by another prisoner",
        "he was on suicide watch and still died",
        "what happens when someone dies in prison",
    ],
)
def test_a_death_in_custody_gets_the_bereavement_answer(text):
    assert safety_intent(text) == DEATH_IN_CUSTODY


@pytest.mark.parametrize(
    "text",
    [
        "he says he wants to kill himself",
        "he says he wants to kill himself in there",
        "he tried to kill himself in prison last night",
        "she overdosed in her cell",
        "hes threatening to take his own life in his cell",
        "my son is 19 and says hed be better off dead in there",
        "i worry hell hurt himself in there",
    ],
)
def test_someone_alive_and_at_risk_still_gets_safer_custody(text):
    assert safety_intent(text) == "risk_prisoner"


@pytest.mark.parametrize(
    "text",
    [
        "my dad died and my brother is in prison, how do i tell him",
        "pls help my mum died yesterday and my brother is in jail, he doesnt know",
        "his nan passed away and hes inside, who do i ring so he isnt on his own",
        "can he go to his mums funeral from prison, she died on monday",
        "who tells a prisoner when someone in their family dies",
        "i filled in the prisoner location form and my dad has not agreed to his details being passed on",
        "he nearly died in there",
    ],
)
def test_news_for_someone_inside_is_not_a_death_in_custody(text):
    assert safety_intent(text) != DEATH_IN_CUSTODY


def test_the_askers_own_risk_comes_before_bereavement():
    assert safety_intent("my son died in prison and i want to die too") == "risk_self"


def test_a_threat_to_the_asker_is_not_read_as_a_death():
    assert safety_intent("he keeps ringing from inside saying im dead when he gets out") != DEATH_IN_CUSTODY


def test_most_training_examples_of_a_death_are_caught_and_no_others_are():
    deaths = [t for i, t in examples() if i == "ask_death_in_custody"]
    caught = sum(safety_intent(t) == DEATH_IN_CUSTODY for t in deaths)
    assert caught / len(deaths) >= 0.7, caught
    wrong = [(i, t) for i, t in examples() if i != "ask_death_in_custody" and safety_intent(t) == DEATH_IN_CUSTODY]
    assert wrong == []


@pytest.fixture
def net(tmp_path):
    (tmp_path / "storage").mkdir()
    context = ExecutionContext(GraphSchema({}), "test-model")
    return SafetyNetClassifier.create({}, LocalModelStorage(tmp_path / "storage"), Resource("net"), context)


def classified(net, text, intent, confidence=0.8):
    m = Message({TEXT: text})
    m.set(INTENT, {"name": intent, "confidence": confidence})
    m.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": confidence}])
    (out,) = net.process([m])
    return out.get(INTENT)["name"]


def test_the_net_replaces_the_safer_custody_answer_when_someone_has_died(net):
    assert classified(net, "my brother took his own life in his cell", "risk_prisoner") == DEATH_IN_CUSTODY
    assert classified(net, "my brother took his own life in his cell", "ask_sentence") == DEATH_IN_CUSTODY


def test_the_net_keeps_risk_prisoner_for_someone_alive(net):
    assert classified(net, "he says he wants to kill himself in there", "ask_death_in_custody") == "risk_prisoner"


def test_the_net_leaves_the_askers_own_crisis_alone(net):
    assert classified(net, "my son died in prison last week", "risk_self") == "risk_self"


def test_others_deaths_told_as_a_warning_are_not_a_bereavement():
    # The classifier reads this as risk_prisoner (data/nlu/safety.yml); the net must not overrule it.
    text = "he keeps telling me about the lads who killed themselves on his wing like hes thinking about it too"
    assert safety_intent(text) != DEATH_IN_CUSTODY


def test_the_net_turns_a_misread_death_in_custody_into_news_to_pass_on(net):
    text = "my mum died yesterday and my brother is in jail, he doesnt know yet"
    assert classified(net, text, "ask_death_in_custody") == "ask_bad_news"
    # a real death in custody, and a message with no death in it, are left as the classifier read them
    assert classified(net, "my brother died in his cell on sunday", "ask_death_in_custody") == DEATH_IN_CUSTODY
    assert classified(net, "who do we speak to at the prison now", "ask_death_in_custody") == DEATH_IN_CUSTODY


def test_bad_news_examples_are_news_and_death_examples_are_not():
    from bot.nlp.safety import news_for_prisoner

    assert not [t for i, t in examples() if i == "ask_death_in_custody" and news_for_prisoner(t)]
    news = [t for i, t in examples() if i == "ask_bad_news" and news_for_prisoner(t)]
    assert len(news) >= 10
