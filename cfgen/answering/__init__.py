"""Answering requests: the one-shot answer, the warm answerer and its socket and wire, the widget's client,
what is written to terminals and pipes."""
