"""The pure core: journey model and validation, conditions, the enrollment state machine.

Nothing here performs I/O or reads the clock; time arrives as an argument.
"""
