"""genseq as an operated service: a local Prefect server (server.py); batch rendering from manifests:
manifest.py (rows and their validation into Jobs, with bounded_yaml.py for untrusted YAML), jobs.py
(one job: identity, record, run), workers.py (worker processes), scheduler.py (run_batch and its
runners), results.py (JobResult, BatchReport); file hashing, safe output paths and a media file
server (files.py); the `genseq server` / `serve` / `batch` commands (commands.py). Nothing here
imports flows/."""
