"""Scoring a predictor on benchmark items with the paper's metrics."""
