"""The NLU as Rasa 3.6 graph components (config.yml names each by its dotted path).

entities: places, prisons, facts about the asker, the help asked for, what an answer told us and
follow-ups; classifier: the intent classifier; guards: the rules that overrule it (safety, another
language, short answers, sensitive flows only on a clear request); messages: reading and setting
a message's intent and entities.
"""
