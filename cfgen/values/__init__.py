"""The values a request names, and the form a model writes programs in (typed placeholders) and back."""
