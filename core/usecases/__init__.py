"""Use cases: plain functions taking an explicit Session and Services.

Each one that changes state or decrypts writes its audit event in the caller's transaction.
"""
