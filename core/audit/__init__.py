"""The audit log: every decryption and state change appends an event in the caller's
transaction (log.py)."""
