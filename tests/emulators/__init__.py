"""Servers on 127.0.0.1 that speak the documented routes of services out of reach in tests.

Each emulator validates requests the way the real service does (rejecting what it rejects),
records what it received, and lets a test script its replies.
"""
