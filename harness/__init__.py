"""The scenario harness: simulator landscapes, seeded actors, scenarios and the faults they play.

- :mod:`.landscape` runs (or attaches to) the simulators and seeds the world: applicants, officers,
  portal accounts, the world changed for a fault; :mod:`.manifest` tells other processes about it;
- :mod:`.actors` the applicant and the officer with their test secrets; :mod:`.scenario` the
  scenario, its :class:`~harness.scenario.Fault` and where it must end; :mod:`.documents` the
  documents an applicant brings and their scans; :mod:`.bank` the applicants' bank;
- :mod:`.play` turns a scenario into the flow's request, playing its fault through the actors,
  the bank and the landscape; :mod:`.env` runs scenarios over the procedure;
- :mod:`.crash` the crash drill's SIGKILL step observer.

Used by the demo, the tests and the benchmarks; production code (the procedure, the adapters)
never imports it.
"""
