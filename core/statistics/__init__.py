"""Statistics over cases for learning from them: counts, rises, root causes."""
