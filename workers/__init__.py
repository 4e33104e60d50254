"""Background work: arq WorkerSettings, the jobs and cron jobs, and the in-process runner."""
