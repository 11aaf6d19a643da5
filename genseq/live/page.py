"""The `genseq live --web` page: an on-screen keyboard, the computer keyboard and Web MIDI play the
call; the answer arrives over the WebSocket, plays through Web Audio and is drawn as it plays.
Everything is inline: the page loads no external script, style or font."""

PAGE = r"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>genseq live</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font-family: system-ui, sans-serif; background: #16161a; color: #ddd; margin: 1.5em; }
h1 { font-size: 1.3em; font-weight: 600; margin: 0 0 .4em; }
#status { font-family: monospace; margin: .4em 0 1em; min-height: 1.2em; }
#roll { background: #0d0d10; border: 1px solid #333; width: 100%; height: 160px; display: block; }
#keys { position: relative; height: 150px; margin-top: 1em; user-select: none; touch-action: none; }
.key { position: absolute; top: 0; box-sizing: border-box; border: 1px solid #222; border-radius: 0 0 4px 4px; }
.white { background: #f4f4f0; height: 150px; z-index: 1; color: #888; font-size: 11px; text-align: center; }
.white span { position: absolute; bottom: 6px; left: 0; right: 0; }
.black { background: #222; height: 92px; z-index: 2; }
.white.you { background: #9fd3ff; } .black.you { background: #3a8fd0; }
.white.answer { background: #ffc46b; } .black.answer { background: #d08a20; }
#help { color: #999; font-size: .9em; margin-top: 1em; }
button { background: #333; color: #ddd; border: 1px solid #555; border-radius: 4px; padding: .3em .8em; }
</style></head><body>
<h1>genseq live: call and response</h1>
<div id="status">connecting...</div>
<canvas id="roll" width="1200" height="160"></canvas>
<div id="keys"></div>
<p id="help">Play a phrase (keys A W S E D F T G Y H U J K O L P ; or the mouse, or a MIDI keyboard),
then stop: the model answers on the next bar line. <button id="panic">panic</button>
<span id="midi"></span> <span id="counts">answer notes: <b id="answered">0</b></span></p>
<script>
"use strict";
const LOW = 48, HIGH = 84, KEYMAP = "awsedftgyhujkolp;'";
const keys = {}, heldBy = {}, voices = {}, drawn = [];
let audio = null, answered = 0;
const socket = new WebSocket(`ws://${location.host}/ws`);
window.genseq = {events: [], socket, voices: {you: 0, answer: 0}, audioState: () => audio ? audio.state : "none"};

function ensureAudio() {
  if (!audio) { try { audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { audio = null; } }
  if (audio && audio.state === "suspended") audio.resume();
  return audio;
}
function frequency(note) { return 440 * Math.pow(2, (note - 69) / 12); }
function startVoice(id, note, velocity) {
  const ctx = ensureAudio(); if (!ctx) return;
  stopVoice(id);
  const osc = ctx.createOscillator(), gain = ctx.createGain(), now = ctx.currentTime;
  osc.type = "triangle"; osc.frequency.value = frequency(note);
  gain.gain.setValueAtTime(0, now); gain.gain.linearRampToValueAtTime(0.25 * velocity / 127, now + 0.01);
  gain.gain.exponentialRampToValueAtTime(0.08 * velocity / 127 + 0.001, now + 0.6);
  osc.connect(gain).connect(ctx.destination); osc.start(now);
  voices[id] = {osc, gain};
  window.genseq.voices[id.startsWith("you") ? "you" : "answer"]++;
}
function stopVoice(id) {
  const voice = voices[id]; if (!voice || !audio) return;
  const now = audio.currentTime;
  voice.gain.gain.cancelScheduledValues(now); voice.gain.gain.setValueAtTime(voice.gain.gain.value, now);
  voice.gain.gain.linearRampToValueAtTime(0, now + 0.08); voice.osc.stop(now + 0.1);
  delete voices[id];
}
function mark(note, who, on) { const key = keys[note]; if (key) key.classList.toggle(who, on); }
function send(data) { if (socket.readyState === 1) socket.send(JSON.stringify(data)); }

function press(note, velocity, source) {
  if (note < 0 || note > 127 || heldBy[note]) return;
  heldBy[note] = source; send({on: note, velocity});
  startVoice("you" + note, note, velocity); mark(note, "you", true);
  drawn.push({note, who: "you", start: performance.now(), end: null});
}
function release(note) {
  if (!heldBy[note]) return;
  delete heldBy[note]; send({off: note});
  stopVoice("you" + note); mark(note, "you", false); finish(note, "you");
}
function finish(note, who) {
  for (let i = drawn.length - 1; i >= 0; i--) if (drawn[i].note === note && drawn[i].who === who && drawn[i].end === null) { drawn[i].end = performance.now(); break; }
}

function buildKeyboard() {
  const board = document.getElementById("keys"), whites = [];
  for (let n = LOW; n <= HIGH; n++) if (![1, 3, 6, 8, 10].includes(n % 12)) whites.push(n);
  const width = 100 / whites.length;
  for (let n = LOW; n <= HIGH; n++) {
    const black = [1, 3, 6, 8, 10].includes(n % 12), key = document.createElement("div");
    const index = whites.filter(w => w < n).length;
    key.className = "key " + (black ? "black" : "white");
    key.style.left = (black ? index * width - width * 0.3 : index * width) + "%";
    key.style.width = (black ? width * 0.6 : width) + "%";
    key.dataset.note = n;
    if (!black && n % 12 === 0) key.innerHTML = `<span>C${n / 12 - 1}</span>`;
    key.addEventListener("pointerdown", e => { e.preventDefault(); ensureAudio(); press(n, 90, "pointer"); });
    key.addEventListener("pointerup", () => release(n));
    key.addEventListener("pointerleave", () => { if (heldBy[n] === "pointer") release(n); });
    board.appendChild(key); keys[n] = key;
  }
}
function computerNote(event) {
  const index = KEYMAP.indexOf(event.key.toLowerCase());
  return index < 0 ? null : 60 + index;
}
document.addEventListener("keydown", e => {
  if (e.repeat || e.ctrlKey || e.metaKey || e.altKey) return;
  const note = computerNote(e); if (note === null) return;
  e.preventDefault(); ensureAudio(); press(note, 90, "keyboard");
});
document.addEventListener("keyup", e => { const note = computerNote(e); if (note !== null) release(note); });
document.getElementById("panic").addEventListener("click", () => send({cc: 123, value: 127}));

if (navigator.requestMIDIAccess) {
  navigator.requestMIDIAccess().then(access => {
    const hook = () => { for (const input of access.inputs.values()) input.onmidimessage = midi; };
    hook(); access.onstatechange = hook;
    document.getElementById("midi").textContent = `Web MIDI: ${access.inputs.size} input(s)`;
  }, () => { document.getElementById("midi").textContent = "Web MIDI: not allowed"; });
}
function midi(event) {
  const [status, note, value] = event.data, kind = status & 0xf0;
  if (kind === 0x90 && value > 0) press(note, value, "midi");
  else if (kind === 0x80 || kind === 0x90) release(note);
  else if (kind === 0xb0) send({cc: note, value});
}

socket.onopen = () => { document.getElementById("status").textContent = "connected: play a phrase"; };
socket.onclose = () => { document.getElementById("status").textContent = "disconnected (is genseq live still running?)"; };
socket.onmessage = event => {
  const data = JSON.parse(event.data);
  window.genseq.events.push(data);
  if (data.type === "on") {
    startVoice("answer" + data.note, data.note, data.velocity); mark(data.note, "answer", true);
    drawn.push({note: data.note, who: "answer", start: performance.now(), end: null});
    document.getElementById("answered").textContent = ++answered;
  } else if (data.type === "off") {
    stopVoice("answer" + data.note); mark(data.note, "answer", false); finish(data.note, "answer");
  } else if (data.type === "status") {
    const margin = data.margin_ms === null ? "" : ` | last answer ready ${Math.round(data.margin_ms)} ms before its bar line`;
    document.getElementById("status").textContent = `${data.state} | tempo ${data.tempo} qpm | temperature ${data.temperature}${margin}`;
  }
};

function draw() {
  const canvas = document.getElementById("roll"), ctx = canvas.getContext("2d"), now = performance.now();
  const span = 8000, rows = HIGH - LOW + 1, h = canvas.height / rows;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  while (drawn.length && drawn[0].end !== null && now - drawn[0].end > span) drawn.shift();
  for (const n of drawn) {
    const x0 = canvas.width * (1 - (now - n.start) / span), x1 = canvas.width * (1 - (now - (n.end ?? now)) / span);
    ctx.fillStyle = n.who === "you" ? "#5fb4ff" : "#ffb23f";
    ctx.fillRect(x0, canvas.height - (n.note - LOW + 1) * h, Math.max(2, x1 - x0), Math.max(2, h - 1));
  }
  requestAnimationFrame(draw);
}
buildKeyboard(); requestAnimationFrame(draw);
</script></body></html>
"""
