"""The live loop: read the input port, let the engine act, send what is due exactly on time, wait.
Whatever ends it (a stop time, Ctrl-C, a vanished port, a bug) sends a note-off for every note it
started before it returns or raises."""

from __future__ import annotations

from dataclasses import dataclass

from genseq.core.errors import GenseqError
from genseq.live.engine import CallAndResponse
from genseq.live.player import release_quietly
from genseq.live.ports import PortGone, receive_pending

POLL_S = 0.002  # how often the input is read while nothing is due (a key is stamped within this)


@dataclass
class Ending:
    reason: str  # "stopped", "interrupted"
    released: int  # note-offs sent while stopping


def run_live(engine: CallAndResponse, inport, clock, stop_at: float | None = None, status=None, watch=None,
             poll_s: float = POLL_S, stop=None) -> Ending:
    """Run call and response until `stop_at` (clock time), Ctrl-C, or `stop` (a threading.Event) is
    set. A port that fails or goes away ends the run as a GenseqError naming it, after every note
    that can be released is."""
    player, reason = engine.player, "stopped"
    try:
        while (stop_at is None or clock.now() < stop_at) and not (stop is not None and stop.is_set()):
            player.send_due(clock.now())
            now = clock.now()
            for message in receive_pending(inport):
                engine.on_message(message, now)
            engine.tick(now)
            player.send_due(clock.now())
            if watch is not None:
                watch.check()
            if status is not None:
                status.update(engine.status())
            wake = clock.now() + poll_s
            due = engine.next_deadline()
            precise = due is not None and due <= wake
            wake = min(wake, due) if due is not None else wake
            clock.sleep_until(wake if stop_at is None else min(wake, stop_at), precise)
    except KeyboardInterrupt:
        reason = "interrupted"
    except PortGone as gone:
        released = release_quietly(player)
        raise GenseqError(f"MIDI port {gone.reason}; stopped ({released} notes released)", gone.name) from None
    except BaseException:
        release_quietly(player)
        raise
    finally:
        if status is not None:
            status.close()
    return Ending(reason, release_quietly(player))
