"""What uses both domains at once: dances to music and the music video (music and motion never import each other)."""
