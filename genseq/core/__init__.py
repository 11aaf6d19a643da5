"""Types, configs and file helpers shared by every genseq stage (imports nothing else of genseq)."""
