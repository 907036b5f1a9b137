"""Intake: what reporters do (a new report, following it up with the receipt code, their
sessions). Reporters have no account; nothing here keeps who or when beyond the day."""
