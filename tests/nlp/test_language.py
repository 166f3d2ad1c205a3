"""bot.nlp.language and OtherLanguageClassifier: messages in another language, and never at the cost of English or of safety."""
from __future__ import annotations

import pytest
from tests.support.nlu_examples import examples
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlp.components.guards import OtherLanguageClassifier, SafetyNetClassifier
from bot.nlp.language import detect

# What families write in the languages most spoken by UK prisoners' families, and others.
FOREIGN = [
    'Dzień dobry, mój syn jest w więzieniu i nie wiem jak zarezerwować wizytę',
    'dzien dobry moj maz jest w wiezieniu co mam robic',
    'Czy mogę wysłać pieniądze do syna w więzieniu?',
    'Gdzie jest mój brat? Nie wiem w którym jest więzieniu',
    'Proszę o pomoc, mój mąż został aresztowany wczoraj',
    'Bună ziua, fiul meu este în închisoare, cum pot să îl vizitez?',
    'buna ziua sotul meu este in inchisoare si vreau sa il vizitez',
    'Am nevoie de ajutor, fratele meu a fost arestat',
    'Unde pot trimite bani pentru fiul meu în închisoare?',
    'Labas, mano sūnus yra kalėjime, kaip galiu jį aplankyti?',
    'labas mano vyras kalejime ka man daryti',
    'Kur yra mano brolis? Jis buvo suimtas vakar',
    'Olá, o meu filho está na prisão e preciso de ajuda',
    'Bom dia, como posso visitar o meu marido na prisão?',
    'Preciso de ajuda, não sei onde está o meu irmão',
    'Hola, mi hijo está en la cárcel y quiero visitarlo',
    'hola como estas',
    'Necesito ayuda por favor, mi esposo está en prisión',
    '¿Cómo puedo enviar dinero a mi hermano en la cárcel?',
    'Përshëndetje, djali im është në burg, si mund ta vizitoj?',
    'pershendetje burri im eshte ne burg dhe une nuk di cfare te bej',
    'Kam nevojë për ndihmë, vëllai im është në burg',
    "Shwmae, mae fy mab yn y carchar, sut ydw i'n ymweld?",
    'Mae fy ngŵr yn y carchar ac rydw i eisiau cymorth',
    'Diolch yn fawr iawn',
    'Mera beta jail mein hai, mujhe mulaqat kaise karni hai?',
    'Assalam o alaikum, mere bhai ko police ne pakar liya hai, ab kya karna chahiye',
    'meri madad karo please mera shohar jail mein hai aur mujhe kuch nahi pata',
    'Sat sri akal ji, mainu madad chahiye, mera munda jail vich hai',
    'Bonjour, mon fils est en prison, comment je peux le voir?',
    "Je suis la mère d'un prisonnier, j'ai besoin d'aide",
    'Hallo, mein Sohn ist im Gefängnis, wie kann ich ihn besuchen?',
    'Ich brauche Hilfe, mein Mann ist im Gefängnis',
    'میرا بیٹا جیل میں ہے، میں اس سے کیسے مل سکتی ہوں؟',
    'ਮੇਰਾ ਪੁੱਤਰ ਜੇਲ੍ਹ ਵਿੱਚ ਹੈ, ਮੈਨੂੰ ਮਦਦ ਚਾਹੀਦੀ ਹੈ',
    'أخي في السجن، كيف يمكنني زيارته؟',
    "Мій син у в'язниці, як я можу його відвідати?",
    'Мой муж в тюрьме, как записаться на свидание?',
    '我的儿子在监狱里，我怎么去探望他？',
    'Ο γιος μου είναι στη φυλακή, πώς μπορώ να τον επισκεφτώ;',
    'मेरा बेटा जेल में है, मैं उससे कैसे मिल सकती हूँ?',
    'আমার ছেলে জেলে আছে, আমি কিভাবে দেখা করতে পারি?',
    'ወደ እስር ቤት እንዴት መጎብኘት እችላለሁ?',
    'oğlum hapiste, onu nasıl ziyaret edebilirim?',
]

# English as people text it: foreign names and places, text-speak, questions about languages.
ENGLISH = [
    'my son Łukasz is in HMP Barlinnie how do i book a visit',
    'hi its Agnieszka, my partner Tomasz got sent to hmp durham yesterday',
    'my husband José is at HMP Wandsworth can i send him money',
    'wat do i need 2 take on a visit 2moro',
    'hw do i tell my kids there dad is inside',
    'cant afford the train 2 see him pls help',
    'my boyfriend is in Maghaberry and I live in Belfast',
    'my sons in barlinnie n i dont no wen i can visit',
    'hes on remand at hmp cardiff wat happens now',
    'does he get a tag wen he comes out',
    'grandson in polmont, need to know about visits',
    'Can I email my daughter in HMP Stirling?',
    'my name is Ioana and my brother is in prison in Peterborough',
    'mi son is in jail wot do i do',
    'im so stressed cant sleep',
    'Mateusz my son is 15 and being bullied at school since his dad went down',
    'Is there a Polish speaking worker I could talk to',
    'my mum only speaks Urdu can someone help her',
    'Nia and Dafydd are my kids, their dad is in HMP Parc',
    'do you speak Spanish',
    'Samir is my husband he is in HMP Birmingham',
    'my daughter Maria is 6, how do I explain prison to her',
    'la la la',
    'ok ta',
    'cheers x',
    'yes pls',
    'no ta',
    'nah im ok',
    'ty hun xx',
    'wot r visiting times at hmp leeds',
    'my fella got 3 yrs',
    'wen will he get out',
    "he's been recalled wtf",
    'can i put money on his account',
    'how do i get on his pin',
]

# Training examples that are themselves in another language (out_of_scope in data/nlu/conversation.yml).
FOREIGN_IN_TRAINING = {"dziekuje bardzo", "hola como estas"}


@pytest.mark.parametrize("text", FOREIGN)
def test_messages_in_other_languages_are_detected(text):
    assert detect(text) is not None


def test_there_are_enough_of_each():
    assert len(FOREIGN) >= 40 and len(ENGLISH) >= 30


@pytest.mark.parametrize("text", ENGLISH)
def test_english_with_foreign_names_and_text_speak_is_english(text):
    assert detect(text) is None


def test_no_english_training_example_is_detected():
    english = [t for _, t in examples() if t not in FOREIGN_IN_TRAINING]
    assert len(english) > 1000
    assert [t for t in english if detect(t)] == []


def test_the_training_data_s_own_foreign_examples_are_detected():
    assert all(detect(t) for t in FOREIGN_IN_TRAINING)


def test_best_guess_of_the_language():
    assert detect("Dzień dobry, mój syn jest w więzieniu").language == "polish"
    assert detect("Bună ziua, fiul meu este în închisoare").language == "romanian"
    assert detect("Mae fy mab yn y carchar, sut ydw i'n ymweld").language == "welsh"
    assert detect("میرا بیٹا جیل میں ہے").language == "arabic"  # Urdu is written in Arabic script


def test_short_borrowed_words_and_names_are_not_enough():
    for text in ("gracias", "hola", "Łukasz", "Zoë", "ok ta", "Ioana Popescu", "/greet"):
        assert detect(text) is None, text


def test_an_emergency_number_in_another_language_is_noticed():
    assert detect("Pomocy! mój mąż mnie bije, dzwonię na 999").emergency
    assert not detect("Dzień dobry, mój syn jest w więzieniu").emergency


@pytest.fixture
def classifier(tmp_path):
    (tmp_path / "s").mkdir()
    return OtherLanguageClassifier.create({}, LocalModelStorage(tmp_path / "s"), Resource("lang"), ExecutionContext(GraphSchema({}), "t"))


@pytest.fixture
def safety_net(tmp_path):
    (tmp_path / "n").mkdir()
    return SafetyNetClassifier.create({}, LocalModelStorage(tmp_path / "n"), Resource("net"), ExecutionContext(GraphSchema({}), "t"))


def message(text, intent="ask_visit_booking", confidence=0.3):
    m = Message({TEXT: text})
    m.set(INTENT, {"name": intent, "confidence": confidence})
    m.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": confidence}])
    return m


def intent_after(components, text, intent="ask_visit_booking", confidence=0.3):
    msgs = [message(text, intent, confidence)]
    for component in components:
        msgs = component.process(msgs)
    return msgs[0].get(INTENT)


def test_another_language_becomes_other_language_with_full_confidence(classifier):
    found = intent_after([classifier], "Bom dia, como posso visitar o meu marido na prisão?")
    assert found == {"name": "other_language", "confidence": 1.0}


def test_english_keeps_the_classifier_s_intent(classifier):
    assert intent_after([classifier], "my son Łukasz is in HMP Barlinnie how do i book a visit")["name"] == "ask_visit_booking"


def test_button_payloads_are_left_alone(classifier):
    assert intent_after([classifier], "/ask_visit_booking")["name"] == "ask_visit_booking"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Mój mąż mnie bije i boję się, he hurts me", "risk_domestic_abuse"),
        ("mój syn jest w więzieniu, I am scared he will hurt himself", "risk_prisoner"),
        ("mi hijo quiere morir, he wants to end it all", "risk_prisoner"),
        ("Pomocy! mój mąż mnie bije, dzwonię na 999", "express_distress"),
    ],
)
def test_safety_is_never_dropped(classifier, safety_net, text, expected):
    # The order of config.yml: the language guard, then the safety net.
    assert intent_after([classifier, safety_net], text)["name"] == expected


def test_a_sure_safety_intent_from_the_classifier_is_kept(classifier):
    assert intent_after([classifier], "Nie chcę już żyć, nie mogę", "risk_self", 0.9)["name"] == "risk_self"
    # An unsure one on a foreign message is the classifier guessing at words it never learnt.
    assert intent_after([classifier], "Dzień dobry, mój syn jest w więzieniu", "risk_self", 0.3)["name"] == "other_language"
