"""Composition roots: the only code that reads argv and the environment."""
