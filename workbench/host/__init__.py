"""Facts about the machine a run happens on: CPU model and the instruction-set flags that
decide engine speed, cores and cgroup quota, memory, kernel, and a fingerprint that names
the host's speed-relevant facts so caches (tuning, calibration) and history can key on it.

A leaf package: it imports nothing else of the workbench.
"""

from workbench.host.facts import ENGINE_FLAGS, CpuFacts, cpu_facts, host_fingerprint

__all__ = ["ENGINE_FLAGS", "CpuFacts", "cpu_facts", "host_fingerprint"]
