"""The scenario harness: simulator landscapes, seeded actors, scenarios and the faults they play.

Used by the demo, the tests and the benchmarks; production code (the procedure, the adapters)
never imports it.
"""
