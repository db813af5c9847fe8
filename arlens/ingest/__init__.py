"""Reading AR exports into the store: file formats, header mapping, value parsing, loading."""
