"""Issue detail page (filled in below)."""
