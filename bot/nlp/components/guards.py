"""The rules that overrule the intent classifier: the safety net, another language, sensitive flows
only on a clear request, and short answers read as `inform` (or a bare "skip" as `deny`)."""
from __future__ import annotations

import logging
from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    INTENT,
    INTENT_NAME_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.nlp.clear_request import is_clear
from bot.nlp.components.messages import RuleComponent, drop_intents, intent_name, set_intent
from bot.nlp.language import detect as detect_language
from bot.nlp.safety import DEATH_IN_CUSTODY, SAFETY_INTENTS, everyday_sense, news_for_prisoner, safety_intent
from bot.nlp.textmap import normalise_mapped

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SafetyNetClassifier(RuleComponent):
    """Sends messages about risk of harm to the safety intents even when the classifier misses them."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/"):
                continue  # a button payload names its intent itself
            urgent = safety_intent(text)
            current = intent_name(message)
            # Someone who has died is past "ring Safer Custody": the death-in-custody answer wins over risk_prisoner.
            bereaved = urgent == DEATH_IN_CUSTODY and current in ("risk_prisoner", "express_distress")
            if urgent and urgent == current:
                # The classifier agrees, perhaps unsure: full confidence, so the fallback
                # classifier after this cannot turn a crisis into "sorry, I didn't understand".
                set_intent(message, urgent)
            elif urgent and (bereaved or current not in SAFETY_INTENTS[:-1]) and not (urgent == "express_distress" and current in SAFETY_INTENTS):
                logger.info("Safety net raised intent %s over %s", urgent, current)
                set_intent(message, urgent)
            elif current == DEATH_IN_CUSTODY and not urgent and news_for_prisoner(text):
                # "Mum died and my brother is in prison": news to pass on, not a death in custody.
                set_intent(message, "ask_bad_news")
            elif current in SAFETY_INTENTS and not urgent and everyday_sense(text):
                # The classifier's crisis guess rests on a word in its everyday sense ("jump start
                # my car", "he hit the roof"): the next intent it ranked that is not a crisis.
                logger.info("Safety intent %s dropped: everyday sense", current)
                drop_intents(message, SAFETY_INTENTS)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class OtherLanguageClassifier(RuleComponent):
    """Sends a message in another language to `other_language` (bot.nlp.language), never over safety.

    The classifier is trained on English only, so its guess for a Polish or Urdu message is
    noise. An English safety phrase in the message ("ona chce umrzeć, she wants to die") leaves
    it to the safety net; a foreign message with 999 in it goes to the distress answer, which
    gives the emergency numbers.
    """

    INTENT = "other_language"
    # A classifier's safety intent this sure of itself is kept even for a foreign message.
    SAFETY_CONFIDENCE = 0.7

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/"):
                continue
            found = detect_language(text)
            if found is None:
                continue
            current = message.get(INTENT) or {}
            if safety_intent(text) or (
                current.get(INTENT_NAME_KEY) in SAFETY_INTENTS
                and (current.get(PREDICTED_CONFIDENCE_KEY) or 0) >= self.SAFETY_CONFIDENCE
            ):
                continue
            set_intent(message, "express_distress" if found.emergency else self.INTENT)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ClearRequestClassifier(RuleComponent):
    """Sends a guess at a sensitive flow (delete my details, a call back, live chat) to the fallback
    when the message does not name what that flow does (bot.nlp.clear_request): "please delete
    my to-do list" is not a request to delete what the assistant holds."""

    FALLBACK = "nlu_fallback"

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = intent_name(message)
            if not is_clear(intent, message.get(TEXT) or ""):
                logger.info("Not a clear request for %s: fallback", intent)
                set_intent(message, self.FALLBACK)
        return messages


# Words that can sit around an answer without adding a question: "I'm in Stockton", "she's 6".
_FILLER = frozenset(
    "i im am a an the his her my its it is in at near from live living we were are hes shes on and just only "
    "about age aged years year yrs old yo she he they theyre been got ok okay yes so well erm um council area "
    "postcode prison hmp yoi jail of our me ma mam me were based lives currently now "
    # a place asked about again, after an answer: "what about Sunderland", "how about durham then"
    "what how wot abt then instead also".split()
)


# Words that can sit around "skip" without asking for more than leaving one question out.
_SKIP_FILLER = frozenset("skip please pls plz just it that this one question for now thanks thank you ta ok okay i id ill can we".split())


def is_bare_skip(text: str) -> bool:
    """'skip', 'skip it', 'skip that one please'; not 'can we skip the whole form'."""
    words = normalise_mapped(text).text.split() if not text.startswith("/") else []
    return "skip" in words and all(w in _SKIP_FILLER for w in words)


# Ways of saying goodbye that make up a whole message ("see ya", "take care", "ok, over and out"),
# with words that can sit around them. Short and common, and the classifier misreads some of them
# ("take care" as a question about one's own wellbeing, "see ya" as yes). Not "night" or "later"
# alone: they answer "when is a good time to call?".
_CLOSINGS = frozenset("""bye|bye bye|byee|bbye|goodbye|good bye|ta ra|tara|ta ta|tata|see ya|see you|see u|see ya later|
see you later|see u later|see you soon|cya|cya l8r|cya later|take care|cheerio|ttyl|ttfn|g2g|gotta go|got to go|gotta dash|
got to dash|speak soon|speak later|talk later|catch you later|catch u later|catch you another time|over and out|peace out|
night night|good night|goodnight|nite|signing off|laters|bye for now""".replace("\n", "").split("|"))
_CLOSING_FILLER = frozenset("ok okay right well then love x xx xxx all for now thanks thank you again anyway mate hun".split())


def is_closing(text: str) -> bool:
    """'see ya', 'take care', 'ok, over and out', 'bye love x'; not 'take care of the kids'."""
    if text.startswith("/"):
        return False
    words = normalise_mapped(text).text.split()
    while words and words[0] in _CLOSING_FILLER:
        words = words[1:]
    while words and words[-1] in _CLOSING_FILLER:
        words = words[:-1]
    return " ".join(words) in _CLOSINGS


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ShortAnswerClassifier(RuleComponent):
    """Reads a short reply made only of facts ("Stockton", "his nan", "14", "on remand") as `inform`,
    a bare "skip" ("skip it", "skip that one please") as `deny`, and a message that only says
    goodbye ("see ya", "take care") as `goodbye`.

    Replies to "which area?" or "how old are they?" are too short for the
    classifier to place reliably; what they contain is clear from the entities. "Skip" is what the
    form's optional questions invite ("or say 'skip'"): leaving that question out, like "no", not
    stopping the form (the classifier, with "can we skip the whole form" among its examples of
    stop_referral, reads a bare "skip" as stopping).
    """

    MAX_WORDS = 6

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if is_bare_skip(text) and intent_name(message) not in SAFETY_INTENTS:
                set_intent(message, "deny")
                continue
            if is_closing(text) and intent_name(message) not in SAFETY_INTENTS:
                set_intent(message, "goodbye")
                continue
            # A need ("housing in Durham") is a request, not a fact about the asker.
            entities = [e for e in message.get(ENTITIES) or [] if e[ENTITY_ATTRIBUTE_TYPE] != "need"]
            if text.startswith("/") or not entities or intent_name(message) in SAFETY_INTENTS:
                continue
            if len(text.split()) > self.MAX_WORDS:
                continue
            remainder = list(text)
            for e in entities:
                for i in range(e[ENTITY_ATTRIBUTE_START], e[ENTITY_ATTRIBUTE_END]):
                    remainder[i] = " "
            leftover = [w for w in normalise_mapped("".join(remainder)).text.split() if w not in _FILLER]
            if not leftover:
                set_intent(message, "inform")
        return messages
