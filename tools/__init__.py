"""Development tools: tuning and evaluating the NLU, and checking what the tracker store kept.

Nothing at run time imports this package (Rasa's pipeline, the action server, the channels and
the console use bot/ only); `make test-nlu`, bench/ and the tests do.
"""
