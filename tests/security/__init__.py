"""Attacks reproduced over real HTTP or real files: each test asserts the refusal and that nothing changed."""
