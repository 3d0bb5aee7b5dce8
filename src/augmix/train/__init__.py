"""Training: the run's settings and recipes, the trainer, checkpoints, schedules, distributed runs."""
