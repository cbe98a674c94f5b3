"""Structured posting fields: salary, experience, education, location, and the posting normaliser."""
