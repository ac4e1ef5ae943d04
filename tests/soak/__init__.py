"""Short, bounded versions of the fault soak and the crash soak (the long ones: bench/soak.py)."""
