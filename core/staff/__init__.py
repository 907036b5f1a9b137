"""Staff: reviewer accounts, their passphrases, authentication and console sessions."""
