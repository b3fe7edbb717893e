"""The board read side: an in-memory index of the live board, search, cursors, JSON-LD and feeds."""
