"""Digits recognition engine: preprocessing, model, training and LiteRT inference."""
