"""Jobs: plain callables ``run(ctx)`` for test, sync, gate and create-defect, and their recording."""
