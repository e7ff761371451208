"""A project module: its state must not survive between reports."""

STATE = []
