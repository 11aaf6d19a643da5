"""genseq as an operated service: a local Prefect server (server.py), batch rendering from
manifests (batch.py), file hashing, safe output paths and a media file server (files.py), and
the `genseq server` / `serve` / `batch` commands (commands.py). Nothing here imports flows/."""
