"""Cases: what staff do with a case and what it holds (files, content, key grants, reading,
the inbox and its counters, the message-kind policy)."""
