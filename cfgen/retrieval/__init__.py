"""Retrieval: the index of training programs, its optional head, neighbours as conditioning, two corpora weighed."""
