"""Systems almdesk talks to: one package per system, plus the shared schema."""
