"""The call-back request: referral_form's validation, its questions, sending it, stopping it,
and cancelling a call back. Thin glue over bot.referrals."""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecutionRejected, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import db, erasure, senders
from bot.actions_support import guarded
from bot.dialogue import digression, trackers
from bot.directory import areas
from bot.nlp.safety import SAFETY_INTENTS
from bot.referrals import cases, concern_form, consent, form, priority
from bot.referrals.area import knows_place, read_area
from bot.referrals.consent import CONSENT_VERSION, consent_time, parse_consent_time
from bot.settings import Settings

FORM = "referral_form"
# Answers allowed per question before the form stops and gives the helpline number.
MAX_TRIES = 3
# Every slot the form fills for itself; cleared as soon as the form ends, however it ends.
REFERRAL_SLOTS = (
    "referral_consent", "referral_consent_at", "referral_consent_version", "referral_name", "referral_phone",
    "referral_safe_to_call", "referral_leave_message", "referral_best_time", "referral_note",
    "referral_confirmed", "referral_outcome", *concern_form.SLOTS,
)
PHONE_ERRORS = {
    form.NOT_A_NUMBER: "utter_referral_phone_missing",
    form.NOT_UK: "utter_referral_phone_not_uk",
    form.INVALID: "utter_referral_phone_invalid",
    form.NOT_PERSONAL: "utter_referral_phone_not_personal",
}


def reset_referral() -> List[EventType]:
    """Forget everything the form collected (the area is kept: the conversation knew it already)."""
    return [SlotSet(slot, None) for slot in REFERRAL_SLOTS]


async def forget_unsent(tracker: Tracker) -> List[EventType]:
    """The form ended without being sent: clear its slots, and ask for what was typed into it
    to be redacted from the stored conversation once Rasa has saved this turn (the retention
    job, bot.erasure.process_redactions), so that "nothing has been saved" is true."""
    since = trackers.form_started_at(tracker.events, FORM)
    if since is not None:
        await db.run(
            lambda session: erasure.request_redaction(tracker.sender_id, since, session=session),
            what="record a redaction request", write=True, otherwise=None,
        )
    return reset_referral()


def summary_for(tracker: Tracker, note: Optional[str] = None, limit: int = 200) -> str:
    """What the call is about, from the topics asked and what we know of the person."""
    return form.build_summary(
        form.topics_asked(trackers.user_intents(tracker)), stage=tracker.get_slot("stage"),
        relationship=tracker.get_slot("relationship"), audience=tracker.get_slot("audience"), note=note, limit=limit,
    )


@guarded
class ValidateReferralForm(FormValidationAction):
    """Checks each answer; after MAX_TRIES unusable answers to one question, stops kindly."""

    def name(self) -> Text:
        return "validate_referral_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        # Declined, gave up or stopped at the check: nothing more to ask, the form ends. A concern
        # for someone inside asks its own questions after consent (bot.referrals.concern_form).
        concern = bool(tracker.get_slot(concern_form.CONCERN))
        return [] if tracker.get_slot("referral_outcome") else concern_form.required_slots(domain_slots, concern=concern)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """A question asked instead of an answer is not stored: the form steps aside (the
        question is answered, then bot.dialogue.policy offers to carry on). The reply to that
        offer carries on (the question again) or stops; anything else is an answer."""
        slot = tracker.get_slot("requested_slot")
        if slot:
            text = trackers.latest_text(tracker)
            if digression.is_stop_request(text):
                # "actually no, forget it" read as a name or a "no" would carry the form on
                return await self._stop(slot, dispatcher, tracker, domain)
            offered = digression.just_offered(reversed(tracker.events), FORM)
            if offered:
                carry_on = digression.resume_answer(text)
                if carry_on is False:
                    return await self._stop(slot, dispatcher, tracker, domain)
                if carry_on:  # not an answer: the form asks its question again (this form's, not the domain's next)
                    return await self._then_next_slot({slot: None}, dispatcher, tracker, domain)
            intent = tracker.latest_message.get("intent") or {}
            if slot == concern_form.KIND and intent.get("name") in SAFETY_INTENTS and concern_form.names_the_worry(text):
                # "self-harm" to "what's worrying you most?": the answer (bot.dialogue.policy ran the
                # form, not the safety rule); the slot mappings leave safety messages out, so read it here.
                return await self._then_next_slot(self.validate_referral_concern_kind(text, dispatcher, tracker, domain), dispatcher, tracker, domain)
            if digression.is_digression(intent.get("name"), intent.get("confidence"), text) and not form.reads_as_answer(
                slot, text, known_place=slot == "area" and knows_place(text)
            ):
                # Rasa may already have copied the text into the slot (from_text): take it out.
                return [SlotSet(slot, None), ActionExecutionRejected(FORM)]
            if offered:
                # After a rejection Rasa does not copy the reply into the slot it was asking for
                # (ActionExtractSlots), so the answer to the question is read here.
                validated = getattr(self, f"validate_{slot}")(text, dispatcher, tracker, domain)
                return await self._then_next_slot(validated, dispatcher, tracker, domain)
        return await super().run(dispatcher, tracker, domain)

    async def _stop(self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """End the form here with nothing kept (action_submit_referral says so)."""
        return await self._then_next_slot({slot: None, "referral_outcome": "stopped"}, dispatcher, tracker, domain)

    async def _then_next_slot(
        self, values: Dict[Text, Any], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """These slot values, then the question to ask next, as rasa_sdk's own run gives them
        (none once referral_outcome is set: required_slots is [])."""
        events: List[EventType] = [SlotSet(name, value) for name, value in values.items()]
        tracker.add_slots(events)
        next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
        return events + ([next_slot] if next_slot else [])

    def _retry(self, slot: str, response: Optional[str], dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[Text, Any]:
        """An answer we can't use: say why (if `response`) and ask again, or stop after MAX_TRIES.
        The form asks the question again itself, so a reply that would only repeat it is None."""
        if trackers.attempts_at(tracker.events, slot) >= MAX_TRIES:
            return {slot: None, "referral_outcome": "gave_up"}
        if response:
            dispatcher.utter_message(response=response)
        return {slot: None}

    def validate_referral_consent(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        answer = form.parse_yes_no(str(value))
        if answer is True:
            version = consent.version_for(bool(tracker.get_slot(concern_form.CONCERN)))
            return {"referral_consent": "yes", "referral_consent_at": consent_time(), "referral_consent_version": version}
        if answer is False:
            return {"referral_consent": "no", "referral_outcome": "declined"}
        return self._retry("referral_consent", "utter_referral_yes_no_invalid", dispatcher, tracker)

    def validate_referral_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        name = form.parse_name(str(value))
        if name is None:
            # A bare "yes" to "what name?" gets the question again, not an error.
            response = None if form.is_bare_yes(str(value)) else "utter_referral_name_invalid"
            return self._retry("referral_name", response, dispatcher, tracker)
        return {"referral_name": name}

    def validate_referral_phone(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        text = str(value)
        answer = form.parse_yes_no(text) if not any(c.isdigit() for c in text) else None
        if answer is True and trackers.on_sms(tracker):
            # On SMS the conversation is the number they're texting from (sender id "sms:+44…").
            text = senders.phone_of(tracker.sender_id) or senders.address_of(tracker.sender_id)
        elif answer is False:
            return {"referral_phone": "no", "referral_outcome": "declined"}  # they'd rather not give one
        try:
            phone = form.parse_uk_phone(text)
        except form.PhoneError as error:
            return self._retry("referral_phone", PHONE_ERRORS[error.reason], dispatcher, tracker)
        return {"referral_phone": phone.e164}

    def _yes_no(self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[Text, Any]:
        answer = form.parse_yes_no(str(value))
        if answer is None:
            return self._retry(slot, "utter_referral_yes_no_invalid", dispatcher, tracker)
        return {slot: "yes" if answer else "no"}

    def validate_referral_safe_to_call(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return self._yes_no("referral_safe_to_call", value, dispatcher, tracker)

    def validate_referral_leave_message(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return self._yes_no("referral_leave_message", value, dispatcher, tracker)

    def validate_referral_best_time(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if form.is_bare_yes(str(value)) or form.is_bare_no(str(value)):
            return self._retry("referral_best_time", None, dispatcher, tracker)  # asked again, with its buttons
        best = form.parse_best_time(str(value))
        if best is None:
            return self._retry("referral_best_time", "utter_referral_best_time_invalid", dispatcher, tracker)
        return {"referral_best_time": best}

    def validate_area(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") in concern_form.QUESTIONS:  # "durham" was the prison, not their area
            return {"area": concern_form.value_before_latest_message(tracker.events, "area")}
        answer = read_area(value, asked=tracker.get_slot("requested_slot") == "area")
        if answer.ask_again:
            return self._retry("area", None, dispatcher, tracker)  # the form asks again (once, not twice)
        return {"area": answer.value}

    def validate_referral_note(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        note = form.parse_note(str(value))
        if note is None and form.is_bare_yes(str(value)):
            # "yes" to "would you like to add a few words?": ask for the words (action_ask_referral_form_referral_note).
            return self._retry("referral_note", None, dispatcher, tracker)
        if note is None:
            return self._retry("referral_note", "utter_referral_note_too_long", dispatcher, tracker)
        return {"referral_note": note}

    def _concern(self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[Text, Any]:
        entities = {name: trackers.latest_entity(tracker, name) for name in ("prison", "concern_kind")}
        answer = concern_form.read(slot, str(value), entities=entities)
        return self._retry(slot, answer.response, dispatcher, tracker) if answer.retry else answer.values

    def validate_referral_concern_prison(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return self._concern("referral_concern_prison", value, dispatcher, tracker)

    def validate_referral_concern_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return self._concern("referral_concern_name", value, dispatcher, tracker)

    def validate_referral_concern_kind(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return self._concern("referral_concern_kind", value, dispatcher, tracker)

    def validate_referral_concern_last_heard(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return self._concern("referral_concern_last_heard", value, dispatcher, tracker)

    def validate_referral_confirmed(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        answer = form.parse_yes_no(str(value))
        if answer is None:
            return self._retry("referral_confirmed", "utter_referral_yes_no_invalid", dispatcher, tracker)
        if answer is False:
            return {"referral_confirmed": "no", "referral_outcome": "stopped"}
        return {"referral_confirmed": "yes"}


# --- questions that need more than the slots --------------------------------------------------

@guarded
class ActionAskReferralConsent(Action):
    """The consent question, with the retention period the deployment actually uses."""

    def name(self) -> Text:
        return "action_ask_referral_form_referral_consent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(
            response=consent.response_for(bool(tracker.get_slot(concern_form.CONCERN))),
            retention_days=str(Settings.from_env().case_retention_days),
        )
        return []


@guarded
class ActionAskReferralPhone(Action):
    """By text message, offer the number they're texting from."""

    def name(self) -> Text:
        return "action_ask_referral_form_referral_phone"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        sms = trackers.on_sms(tracker)
        dispatcher.utter_message(response="utter_ask_referral_form_referral_phone_sms" if sms else "utter_ask_referral_form_referral_phone")
        return []


@guarded
class ActionAskReferralNote(Action):
    """What the call is about, from the conversation, and the chance to add a few words."""

    def name(self) -> Text:
        return "action_ask_referral_form_referral_note"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if trackers.attempts_at(tracker.events, "referral_note") and form.is_bare_yes(trackers.latest_text(tracker)):
            # They said yes to adding a few words: ask for the words, not the yes-or-no question again.
            dispatcher.utter_message(response="utter_referral_note_go_ahead")
            return []
        summary = summary_for(tracker, limit=form.SUMMARY_SHOWN_LIMIT)
        if summary:
            dispatcher.utter_message(response="utter_ask_referral_form_referral_note", referral_summary=summary)
        else:
            dispatcher.utter_message(response="utter_ask_referral_form_referral_note_empty")
        return []


@guarded
class ActionAskReferralConfirmed(Action):
    """Everything that will be sent, to check before sending."""

    def name(self) -> Text:
        return "action_ask_referral_form_referral_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        slot = tracker.get_slot
        listed = form.details(
            name=slot("referral_name"), phone=slot("referral_phone"), safe_to_call=slot("referral_safe_to_call") == "yes",
            leave_message=slot("referral_leave_message") == "yes", best_time=slot("referral_best_time"),
            area=slot("area"), summary=summary_for(tracker, note=slot("referral_note") or None),
        )
        if slot(concern_form.CONCERN):  # what they said about the worry, just before the rest
            dispatcher.utter_message(response="utter_referral_concern_details", **concern_form.details_values(tracker.slots))
        dispatcher.utter_message(response="utter_ask_referral_form_referral_confirmed", referral_details=listed)
        return []


# --- after the form -------------------------------------------------------------------------

@guarded
class ActionSubmitReferral(Action):
    """Store the call back (committed before replying), or say why nothing was stored."""

    def name(self) -> Text:
        return "action_submit_referral"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        slot = tracker.get_slot
        outcome = slot("referral_outcome")
        if outcome in ("declined", "gave_up", "stopped"):
            dispatcher.utter_message(response=f"utter_referral_{outcome}")
            return await forget_unsent(tracker)
        if not (slot("referral_consent") == "yes" and slot("referral_confirmed") == "yes" and slot("referral_phone")):
            dispatcher.utter_message(response="utter_referral_stopped")  # never store without consent and a check
            return await forget_unsent(tracker)

        request = cases.CallbackRequest(
            sender_id=tracker.sender_id,
            channel=trackers.input_channel(tracker),
            request_key=trackers.request_key(tracker),
            consent_version=slot("referral_consent_version") or CONSENT_VERSION,
            consent_at=parse_consent_time(slot("referral_consent_at")),
            phone=slot("referral_phone"),
            safe_to_call=slot("referral_safe_to_call") == "yes",
            safe_to_leave_message=slot("referral_leave_message") == "yes",
            name=slot("referral_name") or None,
            best_time=slot("referral_best_time") or None,
            area=slot("area") or None,
            council_code=areas.council_code(slot("area")),
            summary=summary_for(tracker, note=slot("referral_note") or None) or None,
            topic=form.main_topic(trackers.user_intents(tracker)),
            audience=slot("audience"),
            **concern_form.case_fields(tracker.slots),
        )
        level, reason = priority.assess(tracker.events, concern=request.concern)
        request = replace(request, priority=level, priority_reason=reason)
        try:
            reference = await db.run(
                lambda session: cases.create_callback(request, session=session)[0].reference,
                what="store a call-back request", write=True,
            )
        except db.Unavailable:
            dispatcher.utter_message(response="utter_referral_not_saved")
            return await forget_unsent(tracker)
        dispatcher.utter_message(
            response="utter_referral_sent", reference=reference, phone_display=form.national_format(request.phone),
            best_time_words=form.best_time_words(request.best_time),
        )
        return reset_referral()


@guarded
class ActionStopReferral(Action):
    """They changed their mind (stop, cancel, delete my details): the form has stopped, nothing is kept."""

    def name(self) -> Text:
        return "action_stop_referral"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_referral_stopped")
        return await forget_unsent(tracker) + [SlotSet("requested_slot", None)]


@guarded
class ActionCancelCallback(Action):
    """Cancel this conversation's open call backs (their details are removed from the cases)."""

    def name(self) -> Text:
        return "action_cancel_callback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        try:
            cancelled = await db.run(
                lambda session: cases.cancel_callbacks(tracker.sender_id, session=session), what="cancel call backs", write=True,
            )
        except db.Unavailable:
            dispatcher.utter_message(response="utter_callback_cancel_failed")
            return []
        if cancelled:
            dispatcher.utter_message(response="utter_callback_cancelled", reference=", ".join(cancelled))
        else:
            dispatcher.utter_message(response="utter_callback_none")
        return []
