"""Helpers the tests share: fakes of the channels' providers, console and production-shape
fixtures, directory records, labelled NLU examples, conversations saved through Rasa's tracker store."""
