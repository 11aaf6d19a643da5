"""The music path: MIDI and audio to NoteSequence, encodings for the model, rendering."""
