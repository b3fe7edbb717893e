"""The board read side: a search snapshot (tantivy + roaring bitmaps) per process, cursors, JSON-LD, feeds."""
