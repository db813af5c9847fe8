"""Statements of account and dunning: from the call sheet to the letter, the email and the next step.

`statements` builds a customer's statement as plain data, `render` writes it (PDF, CSV), `dunning`
proposes and records reminders by a policy, `mail` wraps a letter as an email. No Streamlit here:
the command line (`commands`) and the pages call the same functions.
"""
